"""`/incident private` on a public incident: its discussion moves to a new closed room with a
neutral name, the public room gets a neutral pointer and is archived, and what Warroom posted
about it in the incidents channel is rewritten to say nothing. `/incident public` (the lead
only) makes it visible again; both are on the timeline."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot import messages
from bot.chat import ChatError
from bot.incident import service, timeline, visibility
from bot.incident.cadence import next_update_due
from bot.incident.naming import channel_name
from bot.models import Incident
from bot.mrkdwn import escape

log = logging.getLogger(__name__)
SKEW = timedelta(seconds=60)
MAX_SUFFIX = 5


def make_private(rt: Any, incident_id: int, user: str) -> None:
    """After the acknowledgement: the whole move; each step is safe to repeat."""
    with rt.db.read() as s:
        inc = service.by_id(s, incident_id)
    old, title = inc.channel_id, inc.title
    assert old is not None
    new = _closed_room(rt, inc)
    people = [inc.reporter_id, inc.lead_id, inc.comms_id, inc.scribe_id, user]
    people = list(dict.fromkeys(p for p in people if p))
    people += [u for u in visibility.invitees(rt, inc, ()) if u not in people]
    rt.chat.invite(new, people)
    visibility.record_members(rt, new, [*people, rt.chat.bot_user_id])
    level = rt.policy.level(inc.severity)
    inc.channel_id = new
    text, blocks = messages.alert(inc, level, rt.policy.tz, next_update_due(inc, level))
    alert_ts = rt.chat.post(new, text, blocks)
    rt.chat.pin(new, alert_ts)
    with rt.db.session() as s:
        t = Incident.__table__
        s.execute(
            update(t)
            .where(t.c.id == inc.id)
            .values(channel_id=new, channel_name=inc.channel_name, alert_ts=alert_ts)
        )
        timeline.record(
            s,
            inc.id,
            "made_private",
            at=rt.now(),
            actor=user,
            text=f"Made private by <@{user}>: the discussion moved to a closed room; the public "
            "room was archived and the incidents channel's posts rewritten",
            data={"from": old, "to": new},
        )
    rt.chat.post(new, f":lock: <@{user}> made this incident private; its public room is archived.")
    _leave_public_room(rt, inc, old, title)
    _scrub_announcements(rt, inc, old, title)


def _closed_room(rt: Any, inc: Incident) -> str:
    for attempt in range(MAX_SUFFIX):
        name = channel_name(
            rt.policy.channel_prefix, inc.day, inc.seq, "", attempt + 1 if attempt else 0
        )
        try:
            cid = rt.chat.create_channel(name, private=True)
        except ChatError as e:
            if e.code != "name_taken":
                raise
            continue
        inc.channel_name = name
        return cid
    raise ChatError("conversations.create", "name_taken")


def _neutral(inc: Incident) -> str:
    return f":lock: Incident {inc.number} is now private; its discussion moved to a closed room."


def _leave_public_room(rt: Any, inc: Incident, old: str, title: str) -> None:
    """A neutral pointer, the bot's own posts, topic and purpose stripped of the title, archived.
    People's own messages stay as they were (the bot cannot edit them)."""
    contact = rt.policy.security_lead
    pointer = _neutral(inc) + (f" Ask <@{contact}> if you need to be in it." if contact else "")
    rt.chat.post(old, pointer)
    for what in (rt.chat.set_topic, rt.chat.set_purpose):
        try:
            what(old, f"Incident {inc.number} (private)")
        except ChatError as e:
            log.warning("incident %s: neutral topic/purpose not set: %s", inc.id, e.code)
    _rewrite_own(rt, old, inc, title, old, pointer)
    rt.chat.archive(old)


def _scrub_announcements(rt: Any, inc: Incident, old: str, title: str) -> None:
    announce = rt.chat.channel_id(rt.policy.announcement_channel)
    if rt.policy.private_announcement == "none":
        neutral = f":lock: {visibility.label(inc)}"
    else:
        neutral = messages.private_announcement(inc, rt.policy.security_lead or None)[1][0]["text"][
            "text"
        ]
    _rewrite_own(rt, announce, inc, title, old, neutral)


def _rewrite_own(rt: Any, channel: str, inc: Incident, title: str, room: str, neutral: str) -> None:
    """chat.update every post of the bot's in `channel` since the declaration that names the
    incident (its number, title or room) to `neutral`."""
    oldest = (inc.declared_at - SKEW).timestamp()
    marks = (inc.number, escape(title), f"<#{room}>")
    cursor = None
    while True:
        page, cursor = rt.chat.history(channel, cursor)
        for m in page:
            if float(m.get("ts") or 0) < oldest:
                return
            said = str(m.get("text", "")) + str(m.get("blocks", ""))
            mine = m.get("user") == rt.chat.bot_user_id or m.get("bot_id")
            if mine and any(k in said for k in marks) and m.get("text") != neutral:
                try:
                    rt.chat.update(channel, m["ts"], neutral, [messages.section(neutral)])
                except ChatError as e:
                    log.warning("incident %s: a post not rewritten: %s", inc.id, e.code)
        if not cursor:
            return


def mark(rt: Any, incident_id: int, private: bool) -> None:
    """The flag first, in its own transaction: lists and the console hide it from now on."""
    with rt.db.session() as s:
        t = Incident.__table__
        s.execute(update(t).where(t.c.id == incident_id).values(private=private))


def make_public(rt: Any, incident_id: int, user: str) -> None:
    with rt.db.session() as s:
        t = Incident.__table__
        s.execute(update(t).where(t.c.id == incident_id).values(private=False))
        timeline.record(
            s, incident_id, "made_public", at=rt.now(), actor=user, text=f"Made public by <@{user}>"
        )
