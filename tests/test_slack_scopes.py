"""The Slack stand-in answers missing_scope as Slack does: the scope the call needed, by kind of
conversation, and the scopes the token holds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from standins.slack.api import SlackStandIn


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(scopes=["chat:write", "channels:manage", "channels:read"]) as s:
        yield s


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.token, base_url=slack.api_url)


def missing(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    response = info.value.response
    assert response["error"] == "missing_scope"
    return response["needed"], response["provided"]


def test_missing_scope_names_the_needed_and_the_provided(client: WebClient) -> None:
    assert missing(client.pins_add, channel="C0GENERAL", timestamp="1.000001") == (
        "pins:write",
        "channels:manage,channels:read,chat:write",
    )
    assert missing(client.users_info, user="U0ALICE")[0] == "users:read"
    assert missing(client.conversations_join, channel="C0GENERAL")[0] == "channels:join"


def test_private_conversations_need_the_groups_scopes(
    slack: SlackStandIn, client: WebClient
) -> None:
    assert client.conversations_create(name="inc-public")["ok"]
    assert missing(client.conversations_create, name="inc-secret", is_private=True)[0] == (
        "groups:write"
    )
    assert slack.channel_by_name("inc-secret") is None
    secret = slack.add_channel("legal", members=["U0WARROOM"], is_private=True)
    assert missing(client.conversations_setTopic, channel=secret, topic="x")[0] == "groups:write"
    assert missing(client.conversations_list, types="public_channel,private_channel")[0] == (
        "groups:read"
    )
    assert missing(client.conversations_history, channel="C0GENERAL")[0] == "channels:history"


def test_methods_without_a_scope_need_none(client: WebClient) -> None:
    assert client.auth_test()["ok"]
    ts = client.chat_postMessage(channel="C0GENERAL", text="hi")["ts"]
    assert client.chat_getPermalink(channel="C0GENERAL", message_ts=ts)["ok"]
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    assert client.views_open(trigger_id="1.2.3", view=modal)["ok"]


def test_rename_follows_the_channel_name_rules(slack: SlackStandIn, client: WebClient) -> None:
    cid = client.conversations_create(name="inc-old-name")["channel"]["id"]
    for name, error in [
        ("", "invalid_name_required"),
        ("Inc-New", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("__", "invalid_name_punctuation"),
        ("general", "name_taken"),
    ]:
        with pytest.raises(SlackApiError) as info:
            client.conversations_rename(channel=cid, name=name)
        assert info.value.response["error"] == error, name
    assert client.conversations_rename(channel=cid, name="inc-new-name")["channel"]["name"] == (
        "inc-new-name"
    )
    with pytest.raises(SlackApiError) as info:  # only the creator may rename
        client.conversations_rename(channel="C0GENERAL", name="everyone")
    assert info.value.response["error"] == "not_authorized"
