"""A storm into an open incident: every alert on the timeline, but the war room is told in a
few summaries rather than a message per delivery (Slack takes about one a second per channel)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from bot.alerts import digest
from bot.config import Policy
from tests.alert_payloads import ALERTS_POLICY, am_alert, am_body, post
from tests.conftest import Bot, make_bot
from tests.helpers import incidents, kinds


@pytest.fixture
def abot(db_url, standin, monkeypatch) -> Iterator[Bot]:
    monkeypatch.setattr(digest, "EVERY", 1.5)
    yield from make_bot(db_url, standin, Policy(alerts=ALERTS_POLICY))


def alert_posts(bot: Bot, channel: str) -> list[str]:
    return [
        str(m.get("blocks"))
        for m in bot.slack.messages(channel)
        if m.get("bot_id") and "firing," in m["text"]
    ]


def told(bot: Bot, channel: str) -> int:
    return sum(int(re.search(r":bell: (\d+) alert", p).group(1)) for p in alert_posts(bot, channel))


def test_a_storm_into_an_open_incident_is_told_in_a_few_summaries(abot):
    post(abot.url, "alertmanager", am_body(am_alert(instance="pod-0")))
    abot.settle()
    [inc] = incidents(abot.rt)
    for n in range(1, 13):  # twelve deliveries, back to back
        status, answer = post(abot.url, "alertmanager", am_body(am_alert(instance=f"pod-{n}")))
        assert status == 200 and answer["new"] == 1
    abot.settle()
    assert kinds(abot.rt, inc.id).count("alert_firing") == 13  # on the timeline at once
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and told(abot, inc.channel_id) < 12:
        time.sleep(0.1)
    abot.settle()
    assert told(abot, inc.channel_id) == 12  # every alert counted once, none left out
    posts = alert_posts(abot, inc.channel_id)
    assert 1 <= len(posts) <= 3, posts  # not twelve messages queueing behind Slack's limit
    # After a quiet spell, the next delivery is told at once.
    time.sleep(1.6)
    post(abot.url, "alertmanager", am_body(am_alert(instance="pod-99")))
    abot.settle()
    assert "pod-99" in alert_posts(abot, inc.channel_id)[-1]
