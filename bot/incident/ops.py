"""One function per thing a person does to an incident, each in one transaction.

Handlers call these; they never open sessions or query themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.incident import action_items, service, timeline
from bot.incident.lifecycle import Change
from bot.incident.service import Declared, IncidentError
from bot.models import ActionItem, Incident, ProcessedEvent, TimelineEvent
from bot.paging import ops as paging
from bot.playbooks import checklist
from bot.runtime import Runtime
from bot.statuspage import ops as statuspage
from bot.timers import plan

NOT_A_WAR_ROOM = (
    "This command works inside an incident's war room. "
    "`/incident list` shows the open incidents and their channels."
)
_NUMBER = re.compile(r"^(?:INC-)?(\d{4}-\d{2}-\d{2})-(\d{1,4})$", re.IGNORECASE)


def declare(
    rt: Runtime,
    *,
    title: str,
    severity: str,
    impact: str,
    reporter: str,
    team_id: str,
    channel: str,
    source_link: str = "",
    service_name: str | None = None,
    type: str | None = None,
    private: bool = False,
) -> Declared:
    now = rt.now()
    window = timedelta(seconds=rt.policy.declare_dedupe_seconds)
    key = service.fingerprint(team_id, reporter, service.validate_title(title))
    first = rt.once.claim("declare:" + key, min(rt.policy.declare_dedupe_seconds, 60) or 1)
    with rt.db.session() as s:
        if not first:
            # Redis saw this fingerprint a moment ago: answer from the database, create nothing.
            existing = service.find_guarded(s, key)
            if existing is None:
                raise IncidentError(
                    "This incident is already being declared; it will appear in a moment."
                )
            return Declared(existing, duplicate=True)
        d = service.declare(
            s,
            title=title,
            severity=severity,
            impact=impact,
            reporter=reporter,
            team_id=team_id,
            origin_channel=channel,
            now=now,
            tz_day=now.astimezone(rt.policy.tz),
            dedupe_window=window,
            source_link=source_link,
            number=None if rt.db.is_sqlite else _own_number(rt),
            service_name=service_name,
            type=type,
            private=private,
        )
        if not d.duplicate:
            plan.plan_new(s, d.incident, rt.policy, now)
            paging.after_declare(s, rt, d.incident, now)  # the page commits with the incident
        return d


def _own_number(rt: Runtime) -> Callable[[Any], int]:
    return lambda day: rt.db.in_own_transaction(lambda conn: service.next_number(conn, day))


def in_war_room(
    rt: Runtime, channel_id: str, fn: Callable[..., Change], *args: Any, **kwargs: Any
) -> Change:
    """Apply a lifecycle change to the incident whose war room this channel is."""
    with rt.db.session() as s:
        inc = service.by_channel(s, channel_id, lock=True)
        if inc is None:
            raise IncidentError(NOT_A_WAR_ROOM)
        return _changed(s, rt, fn(s, inc, *args, rt.now(), **kwargs))


def _changed(s: Session, rt: Runtime, change: Change) -> Change:
    plan.after_change(s, change, rt.policy, rt.now())  # same transaction as the change
    paging.after_change(s, rt, change, rt.now())
    statuspage.after_change(s, rt, change, rt.now())
    checklist.after_change(s, rt, change, rt.now())
    return change


def on_incident(rt: Runtime, incident_id: int, fn: Callable[..., Change], *args: Any) -> Change:
    with rt.db.session() as s:
        return _changed(s, rt, fn(s, service.by_id(s, incident_id, lock=True), *args, rt.now()))


def find_in_war_room(rt: Runtime, channel_id: str) -> Incident:
    with rt.db.read() as s:
        inc = service.by_channel(s, channel_id)
    if inc is None:
        raise IncidentError(NOT_A_WAR_ROOM)
    return inc


def timeline_of(rt: Runtime, channel_id: str) -> tuple[Incident, list[TimelineEvent]]:
    with rt.db.read() as s:
        inc = service.by_channel(s, channel_id)
        if inc is None:
            raise IncidentError(NOT_A_WAR_ROOM)
        return inc, timeline.events(s, inc.id)


def action_items_of(rt: Runtime, channel_id: str) -> tuple[Incident, list[ActionItem]]:
    with rt.db.read() as s:
        inc = service.by_channel(s, channel_id)
        if inc is None:
            raise IncidentError(NOT_A_WAR_ROOM)
        return inc, action_items.listing(s, inc)


def get(rt: Runtime, incident_id: int) -> Incident:
    with rt.db.read() as s:
        return service.by_id(s, incident_id)


def by_number(rt: Runtime, number: str) -> Incident:
    m = _NUMBER.match(number.strip())
    if not m:
        raise IncidentError(f"`{number}` is not an incident number; they look like 2026-11-22-001.")
    day, seq = datetime.strptime(m.group(1), "%Y-%m-%d").date(), int(m.group(2))
    with rt.db.read() as s:
        inc = s.query(Incident).filter_by(day=day, seq=seq).one_or_none()
    if inc is None:
        raise IncidentError(f"There is no incident {m.group(1)}-{seq:03d}.")
    return inc


def open_incidents(rt: Runtime, include_resolved: bool = False) -> list[Incident]:
    with rt.db.read() as s:
        return service.listing(s, include_resolved=include_resolved)


def seen_event(rt: Runtime, event_id: str) -> bool:
    """A cheap early check so a redelivered event costs no Slack calls; not the guard itself."""
    if not event_id:
        return False
    if not rt.once.claim("event:" + event_id, 3600):
        return True
    with rt.db.read() as s:
        return s.get(ProcessedEvent, event_id) is not None


def capture_message(
    rt: Runtime,
    *,
    event_id: str,
    channel_id: str,
    ts: str,
    actor: str,
    how: str,
    text: str,
    author: str | None,
    permalink: str | None,
) -> bool:
    """Put a pinned or :pushpin:-ed message on the timeline once, at the message's own time."""
    with rt.db.session() as s:
        if event_id and not service.claim_event(s, event_id, rt.now()):
            return False  # same transaction as the capture: a crash in between loses nothing
        inc = service.by_channel(s, channel_id)
        if inc is None:
            return False
        if how == "pin" and (ts == inc.alert_ts or actor == rt.chat.bot_user_id):
            # The bot's own alert, pinned during setup, maybe before its ts was saved.
            return False
        at = datetime.fromtimestamp(float(ts), UTC)
        return timeline.capture_once(
            s,
            inc,
            source_key=f"msg:{ts}",
            kind="pinned" if how == "pin" else "pushpin",
            at=at,
            recorded_at=rt.now(),
            actor=actor,
            text=text,
            data={"author": author, "ts": ts, "permalink": permalink, "via": how},
        )
