"""Plain database operations on incidents: declare, find, list. Each takes the caller's session."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import fits_int, insert_for
from bot.errors import UserError
from bot.incident import timeline
from bot.incident.naming import slugify
from bot.incident.states import RESOLVED
from bot.models import DayCounter, DeclareGuard, Incident, ProcessedEvent

MAX_TITLE = 150


class IncidentError(UserError):
    """Something a responder asked for that cannot be done; the message says what to do."""


@dataclass
class Declared:
    incident: Incident
    duplicate: bool  # True: a repeat of a declaration already made; nothing new was created


def validate_title(title: str) -> str:
    t = " ".join(title.split())
    if not t:
        raise IncidentError(
            "An incident needs a title, e.g. `/incident declare P1 Checkout API returns 500s`."
        )
    if not any(ch.isalnum() for ch in t):
        raise IncidentError(
            "The title needs at least one word or number that says what is broken, "
            "e.g. `/incident declare P1 Checkout API returns 500s`."
        )
    if len(t) > MAX_TITLE:
        raise IncidentError(
            f"The title is {len(t)} characters; keep it under {MAX_TITLE} and put the details "
            "in the impact or a note (`/incident note …`)."
        )
    return t


def fingerprint(team_id: str, user_id: str, title: str) -> str:
    norm = " ".join(title.casefold().split())
    return hashlib.sha256(f"{team_id}\x1f{user_id}\x1f{norm}".encode()).hexdigest()


def _claim_guard(session: Session, key: str, now: datetime, window: timedelta) -> bool:
    """Take the declaration fingerprint; False means an unexpired one already exists.

    One statement each way (no savepoint): a concurrent insert of the same key waits for the
    other transaction and then does nothing."""
    table = DeclareGuard.__table__
    insert = insert_for(session.get_bind())
    taken = session.execute(
        insert(table)
        .values(key=key, incident_id=None, expires_at=now + window)
        .on_conflict_do_nothing(index_elements=[table.c.key])
        .returning(table.c.key)  # rowcount is -1 here under psycopg; a returned row is not
    )
    if taken.first() is not None:
        return True
    # The key exists: take it over only if it has expired, atomically.
    res = session.execute(
        update(table)
        .where(table.c.key == key, table.c.expires_at <= now)
        .values(expires_at=now + window, incident_id=None)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


def find_guarded(session: Session, key: str) -> Incident | None:
    guard = session.get(DeclareGuard, key)
    if guard is None or guard.incident_id is None:
        return None
    return session.get(Incident, guard.incident_id)


def declare(
    session: Session,
    *,
    title: str,
    severity: str,
    impact: str,
    reporter: str,
    team_id: str,
    origin_channel: str,
    now: datetime,
    tz_day: datetime,
    dedupe_window: timedelta,
    source_link: str = "",
    number: Callable[[date], int] | None = None,
    service_name: str | None = None,  # the catalog's (bot.catalog)
    type: str | None = None,  # the incident type, a playbook's name
    private: bool = False,  # a closed war room; details only to its members
) -> Declared:
    """`number` allocates the day's next number outside this transaction (see `next_number`);
    without it the counter row is bumped here, and stays locked until this commits."""
    title = validate_title(title)
    key = fingerprint(team_id, reporter, title)
    if not _claim_guard(session, key, now, dedupe_window):
        existing = find_guarded(session, key)
        if existing is None:
            raise IncidentError(
                "This incident is already being declared; it will appear in a moment."
            )
        return Declared(existing, duplicate=True)

    day = tz_day.date()
    inc = Incident(
        day=day,
        seq=number(day) if number else next_number(session, day),
        title=title,
        slug="" if private else slugify(title),
        severity=severity,
        status="investigating",
        impact=impact.strip(),
        team_id=team_id,
        reporter_id=reporter,
        origin_channel_id=origin_channel,
        source_link=source_link,
        declared_at=now,
        service=service_name,
        type=type,
        private=private,
    )
    session.add(inc)
    session.flush()
    table = DeclareGuard.__table__
    session.execute(update(table).where(table.c.key == key).values(incident_id=inc.id))
    timeline.record(
        session,
        inc,
        "declared",
        at=now,
        actor=reporter,
        text=f"{severity} declared: {title}",
        data={
            "severity": severity,
            "impact": inc.impact,
            "source": source_link or None,
            "service": service_name,
            "type": type,
        },
    )
    return Declared(inc, duplicate=False)


def next_number(session: Session | Connection, day: date) -> int:
    """The day's next incident number, from a counter row that concurrent declarations update
    in turn (the row lock queues them), so none ever collides or retries.

    On PostgreSQL the declaration runs this in a transaction of its own, so the row is locked
    for one statement, not for the rest of the declaration's round trips (a queue of 25 waiting
    declarations at 50/s when it was). The price: a declaration that fails after this leaves a
    gap in the day's numbers. The dedupe guard is taken first, so repeats never burn one."""
    table = DayCounter.__table__
    insert = insert_for(session.get_bind() if isinstance(session, Session) else session)
    stmt = insert(table).values(day=day, last_seq=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.day], set_={"last_seq": table.c.last_seq + 1}
    ).returning(table.c.last_seq)
    return int(session.execute(stmt).scalar_one())


def by_channel(session: Session, channel_id: str, lock: bool = False) -> Incident | None:
    q = select(Incident).where(Incident.channel_id == channel_id)
    return session.scalar(q.with_for_update() if lock else q)


def by_id(session: Session, incident_id: int, lock: bool = False) -> Incident:
    """lock: hold the row until commit, so check-then-change is safe against concurrent clicks
    (PostgreSQL row lock; SQLite already serializes writers with BEGIN IMMEDIATE)."""
    inc = (
        session.get(Incident, incident_id, with_for_update=lock or None, populate_existing=lock)
        if fits_int(incident_id)
        else None
    )
    if inc is None:
        raise IncidentError(f"No incident with id {incident_id}.")
    return inc


def listing(session: Session, *, include_resolved: bool = False, limit: int = 20) -> list[Incident]:
    q = select(Incident).order_by(Incident.declared_at.desc(), Incident.id.desc()).limit(limit)
    if not include_resolved:
        q = q.where(Incident.status != RESOLVED)
    return list(session.scalars(q))


def unfinished_setups(session: Session, now: datetime) -> list[int]:
    """Incidents whose war room is not finished (ready and its alert pinned) and that nobody is
    setting up right now."""
    return list(
        session.scalars(
            select(Incident.id).where(
                Incident.ready_at.is_(None) | Incident.alert_pinned.is_(False),
                (Incident.setup_claim_until.is_(None)) | (Incident.setup_claim_until < now),
            )
        )
    )


def claim_setup(session: Session, incident_id: int, now: datetime, lease: timedelta) -> bool:
    """Atomically take the right to run war-room setup; one runner per incident at a time."""
    res = session.execute(
        update(Incident)
        .where(
            Incident.id == incident_id,
            Incident.ready_at.is_(None) | Incident.alert_pinned.is_(False),
            (Incident.setup_claim_until.is_(None)) | (Incident.setup_claim_until < now),
        )
        .values(setup_claim_until=now + lease)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


def claim_event(session: Session, event_id: str, now: datetime) -> bool:
    """True the first time an Events API delivery is seen."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, received_at=now))
            session.flush()
        return True
    except IntegrityError:
        return False
