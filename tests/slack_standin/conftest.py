"""The Slack stand-in on its own, spoken to by slack_sdk's WebClient: fixtures and helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from standins.slack.api import SlackStandIn
from standins.slack.scopes import EVERY_SCOPE

TOKEN = "xoxb-sandbox"
SECRET = "standin-test-secret"
TS_RE = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN, scopes=EVERY_SCOPE) as s:
        yield s


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def error_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value.response["error"]
