"""Running an incident from its war room: status, updates, severity, roles, notes, resolve."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import events, incidents, kinds


@pytest.fixture
def room(bot):
    bot.cmd("declare P1 Checkout API returns 500s")
    [inc] = incidents(bot.rt)
    bot.slack.reset_calls()
    return inc.channel_id


def _bot_texts(bot, channel: str) -> str:
    return "\n".join(
        m["text"] + str(m.get("blocks")) for m in bot.slack.messages(channel) if m.get("bot_id")
    )


def test_status_with_message_posts_an_update_and_mirrors_p1(bot, room) -> None:
    r = bot.cmd("status identified Bad deploy of payments v42", channel=room)
    assert "identified" in r.json["text"]
    [inc] = incidents(bot.rt)
    assert inc.status == "identified" and inc.last_update_at is not None
    assert "INCIDENT UPDATE" in _bot_texts(bot, room)
    assert "Bad deploy of payments v42" in _bot_texts(bot, "C0INCIDENTS")
    assert "IDENTIFIED" in bot.slack.channel(room)["topic"]
    alert = bot.slack.message(room, inc.alert_ts)
    assert "Identified" in str(alert["blocks"])
    assert kinds(bot.rt, inc.id)[-2:] == ["status", "bot_post"]


def test_update_is_templated_and_p2_is_not_mirrored(bot) -> None:
    bot.cmd("declare P2 Search slow")
    [inc] = incidents(bot.rt)
    before = len(bot.slack.messages("C0INCIDENTS"))
    bot.cmd("update Added two replicas; p95 falling", channel=inc.channel_id)
    texts = _bot_texts(bot, inc.channel_id)
    assert "INCIDENT UPDATE" in texts and "Added two replicas" in texts
    assert len(bot.slack.messages("C0INCIDENTS")) == before


def test_invalid_transition_is_refused_and_nothing_changes(bot, room) -> None:
    r = bot.cmd("status investigating", channel=room)
    assert "already *investigating*" in r.json["text"]
    r = bot.cmd("status fixed", channel=room)
    assert "`fixed` is not a status" in r.json["text"]
    [inc] = incidents(bot.rt)
    assert kinds(bot.rt, inc.id) == ["declared", "war_room_created", "war_room_ready"]


def test_severity_change_is_announced_and_recorded(bot, room) -> None:
    bot.cmd("severity SEV1", channel=room)
    [inc] = incidents(bot.rt)
    assert inc.severity == "P0"
    assert "P1 → P0" in _bot_texts(bot, "C0INCIDENTS")
    assert "P0" in bot.slack.channel(room)["topic"]
    r = bot.cmd("severity P9", channel=room)
    assert "`P9` is not a severity" in r.json["text"]


def test_lead_and_roles(bot, room) -> None:
    r = bot.cmd("lead @bob", channel=room)
    assert "<@U0BOB> now leads" in r.json["text"]
    bot.cmd("role comms @carol", channel=room)
    bot.cmd("role scribe @dan", channel=room)
    [inc] = incidents(bot.rt)
    assert (inc.lead_id, inc.comms_id, inc.scribe_id) == ("U0BOB", "U0CAROL", "U0DAN")
    assert inc.acknowledged_at is not None
    assert "lead @bob ·" in bot.slack.channel(room)["topic"]  # topics are not linkified
    assert {"U0BOB", "U0CAROL", "U0DAN"} <= set(bot.slack.channel(room)["members"])
    assert "take_lead" not in str(bot.slack.message(room, inc.alert_ts)["blocks"])
    for bad, expect in [
        ("lead @nobody", "not a user mention"),
        ("role boss @bob", "Usage"),
        ("lead", "Who leads?"),
    ]:
        assert expect in bot.cmd(bad, channel=room).json["text"]


def test_take_lead_button_first_click_wins(bot, room) -> None:
    [inc] = incidents(bot.rt)
    threads = [
        threading.Thread(target=bot.driver.press, args=(room, inc.alert_ts, "take_lead", u))
        for u in ("U0BOB", "U0CAROL", "U0DAN", "U0BOB")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bot.settle()
    [inc] = incidents(bot.rt)
    assert inc.lead_id in ("U0BOB", "U0CAROL", "U0DAN") and inc.acknowledged_at
    assert [e.kind for e in events(bot.rt, inc.id)].count("role") == 1
    losers = [e["text"] for e in bot.slack.ephemerals() if "already leading" in e["text"]]
    assert len(losers) == 3


def test_join_war_room_button_invites_the_clicker(bot, room) -> None:
    [inc] = incidents(bot.rt)
    assert "U0DAN" not in bot.slack.channel(room)["members"]
    bot.driver.press("C0INCIDENTS", inc.announce_ts, "join_war_room", "U0DAN")
    bot.settle()
    assert "U0DAN" in bot.slack.channel(room)["members"]


def test_note_resolve_reopen_show_list(bot, room) -> None:
    bot.cmd("note Error rate started 14:02 after deploy", channel=room)
    r = bot.cmd("show", channel=room)
    assert "Checkout API returns 500s" in str(r.json)
    assert "Checkout API returns 500s" in bot.cmd("list").json["text"]
    bot.cmd("resolve Rolled back payments to v41", channel=room)
    [inc] = incidents(bot.rt)
    assert inc.status == "resolved" and inc.resolved_at and inc.mitigated_at
    assert inc.summary == "Rolled back payments to v41"
    assert "INCIDENT RESOLVED" in _bot_texts(bot, room)
    assert "INCIDENT RESOLVED" in _bot_texts(bot, "C0INCIDENTS")
    assert "No open incidents" in bot.cmd("list").json["text"]
    assert "already resolved" in bot.cmd("resolve", channel=room).json["text"]
    assert "resolved" in bot.cmd("update still fine", channel=room).json["text"]
    bot.cmd("reopen", channel=room)
    [inc] = incidents(bot.rt)
    assert inc.status == "investigating" and inc.resolved_at is None
    assert "not resolved" in bot.cmd("reopen", channel=room).json["text"]
    assert kinds(bot.rt, inc.id)[3:] == ["note", "resolved", "bot_post", "reopened", "bot_post"]
    note = events(bot.rt, inc.id)[3]
    assert note.actor_id == "U0ALICE" and note.at.tzinfo is not None


def test_every_change_carries_actor_and_utc_time(bot, room) -> None:
    bot.cmd("status mitigating", user="U0BOB", channel=room)
    [inc] = incidents(bot.rt)
    ev = events(bot.rt, inc.id)[-1]
    assert (ev.kind, ev.actor_id, ev.data["from"], ev.data["to"]) == (
        "status",
        "U0BOB",
        "investigating",
        "mitigating",
    )
    assert ev.at.utcoffset().total_seconds() == 0
