"""Edits and deletions in a war room go onto its timeline with what was said before, for every
incident, through Slack's message_changed / message_deleted events from the stand-in."""

from __future__ import annotations

from tests.helpers import events, incidents


def test_an_edit_and_a_deletion_are_on_the_timeline_with_the_previous_text(bot) -> None:
    bot.cmd("declare P2 Search slow")
    [inc] = incidents(bot.rt)
    ts = bot.slack.user_post(inc.channel_id, "U0ALICE", "I restarted search-7 at 10:02")
    bot.settle()
    bot.slack.user_edit(inc.channel_id, ts, "U0ALICE", "I restarted search-3 at 10:02")
    bot.settle()
    other = bot.slack.user_post(
        inc.channel_id, "U0ALICE", bot.driver.typed("it was my fault & <b>")
    )
    bot.settle()
    bot.slack.user_delete(inc.channel_id, other, "U0ALICE")
    bot.settle()
    got = {e.kind: e for e in events(bot.rt, inc.id) if e.kind.startswith("message_")}
    edited, deleted = got["message_edited"], got["message_deleted"]
    assert edited.data["previous_text"] == "I restarted search-7 at 10:02"
    assert edited.data["text"] == "I restarted search-3 at 10:02"
    assert edited.actor_id == "U0ALICE" and edited.data["ts"] == ts
    assert deleted.data["previous_text"] == "it was my fault & <b>"  # as typed, unescaped
    assert deleted.data["ts"] == other
    r = bot.cmd("timeline", channel=inc.channel_id)
    assert "search-7" in r.json["text"] and "&amp; &lt;b&gt;" in r.json["text"]


def test_edits_elsewhere_and_of_the_bots_own_posts_are_not_captured(bot) -> None:
    bot.cmd("declare P2 Search slow")
    [inc] = incidents(bot.rt)
    ts = bot.slack.user_post("C0GENERAL", "U0ALICE", "lunch?")
    bot.slack.user_edit("C0GENERAL", ts, "U0ALICE", "lunch at 12?")
    bot.settle()
    bot.cmd("status identified found it", channel=inc.channel_id)  # updates the pinned alert
    assert not [e for e in events(bot.rt, inc.id) if e.kind.startswith("message_")]


def test_a_redelivered_edit_event_is_captured_once(bot) -> None:
    bot.cmd("declare P2 Search slow")
    [inc] = incidents(bot.rt)
    ts = bot.slack.user_post(inc.channel_id, "U0ALICE", "cause: disk")
    bot.settle()
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel": inc.channel_id,
        "hidden": True,
        "message": {"user": "U0ALICE", "text": "cause: network", "ts": ts},
        "previous_message": {"user": "U0ALICE", "text": "cause: disk", "ts": ts},
        "event_ts": "1764700000.000100",
        "ts": "1764700000.000100",
    }
    for retry in (None, 1):
        assert bot.driver.event(event, event_id="EvEDIT1", retry_num=retry).status == 200
        bot.settle()
    assert [e.kind for e in events(bot.rt, inc.id)].count("message_edited") == 1
