"""The HTTP wire: signatures, health, and timeline capture from Slack events."""

from __future__ import annotations

import time
import urllib.request

from tests.helpers import events, incidents


def test_forged_signature_is_refused_and_nothing_stored(bot) -> None:
    r = bot.driver.command("declare P1 Forged", user="U0ALICE", channel="C0GENERAL", sign=False)
    assert r.status == 401
    r = bot.driver.command(
        "declare P1 Stale", user="U0ALICE", channel="C0GENERAL", timestamp=int(time.time()) - 600
    )
    assert r.status == 401
    bot.settle()
    assert incidents(bot.rt) == []
    assert bot.slack.calls_to("conversations.create") == []


def test_health_and_readiness(bot) -> None:
    with urllib.request.urlopen(bot.url + "/healthz") as r:
        assert r.status == 200
    with urllib.request.urlopen(bot.url + "/readyz") as r:
        assert r.read() == b"ready"


def _room(bot) -> str:
    bot.cmd("declare P1 Checkout API returns 500s")
    return incidents(bot.rt)[0].channel_id


def test_pinned_and_pushpinned_messages_go_on_the_timeline_once(bot) -> None:
    room = _room(bot)
    ts = bot.slack.user_post(room, "U0ALICE", "Deploy 42 went out at 14:01")
    bot.slack.user_pin(room, ts, "U0ALICE")
    bot.slack.user_react(room, ts, "U0ALICE", "pushpin")
    bot.settle()
    [inc] = incidents(bot.rt)
    captured = [e for e in events(bot.rt, inc.id) if e.kind in ("pinned", "pushpin")]
    assert len(captured) == 1
    ev = captured[0]
    assert ev.text == "Deploy 42 went out at 14:01" and ev.actor_id == "U0ALICE"
    assert abs(ev.at.timestamp() - float(ts)) < 0.001  # stamped with the message's own time
    assert ev.data["permalink"] and ev.data["author"] == "U0ALICE"
    # the bot's own pinned alert is not captured again
    assert not any(e.data.get("ts") == inc.alert_ts for e in captured)


def test_pushpin_capture_and_redelivered_event_is_ignored(bot) -> None:
    room = _room(bot)
    ts = bot.slack.user_post(room, "U0ALICE", "Customers report blank checkout page")
    ev = {
        "type": "reaction_added",
        "user": "U0DAN",
        "reaction": "pushpin",
        "item": {"type": "message", "channel": room, "ts": ts},
        "item_user": "U0DAN",
        "event_ts": ts,
    }
    for retry in (None, 1, 2):
        r = bot.driver.event(
            ev,
            event_id="Ev0PUSHPIN",
            retry_num=retry,
            retry_reason="http_timeout" if retry else None,
        )
        assert r.status == 200
    bot.settle()
    [inc] = incidents(bot.rt)
    assert [e.kind for e in events(bot.rt, inc.id)].count("pushpin") == 1


def test_other_reactions_and_other_channels_are_ignored(bot) -> None:
    room = _room(bot)
    ts = bot.slack.user_post(room, "U0ALICE", "hello")
    bot.slack.user_react(room, ts, "U0ALICE", "eyes")
    other = bot.slack.user_post("C0GENERAL", "U0DAN", "unrelated")
    bot.slack.user_react("C0GENERAL", other, "U0DAN", "pushpin")
    bot.settle()
    [inc] = incidents(bot.rt)
    assert not [e for e in events(bot.rt, inc.id) if e.kind in ("pinned", "pushpin")]
