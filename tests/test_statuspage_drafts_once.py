"""A status-page draft is offered once per status, on both databases: the lead then the comms
role both being named drafts one first post, not two (PostgreSQL's INSERT … ON CONFLICT DO
NOTHING answered rowcount -1, which read as "drafted" every time)."""

from __future__ import annotations

from tests.helpers import events
from tests.test_statuspage import _posts, _room, bot_sp, sp  # noqa: F401 (fixtures)


def test_lead_then_comms_drafts_the_first_post_once(bot_sp) -> None:  # noqa: F811
    bot = bot_sp
    inc = _room(bot)
    bot.cmd("lead @alice", channel=inc.channel_id)
    bot.cmd("role comms @carol", channel=inc.channel_id)
    bot.settle()
    assert [p.status for p in _posts(bot.rt)] == ["investigating"]
    assert [e.kind for e in events(bot.rt, inc.id)].count("status_page_draft") == 1
    offers = [
        m
        for m in bot.slack.messages(inc.channel_id)
        if "statuspage_publish" in str(m.get("blocks"))
    ]
    assert len(offers) == 1
