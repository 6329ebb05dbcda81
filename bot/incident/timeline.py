"""Writing and reading the incident timeline; always inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import Incident, TimelineEvent


def record(
    session: Session,
    incident: Incident | int,
    kind: str,
    *,
    at: datetime,
    actor: str | None,
    text: str = "",
    data: dict[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> TimelineEvent:
    ev = TimelineEvent(
        incident_id=incident if isinstance(incident, int) else incident.id,
        at=at,
        recorded_at=recorded_at or at,
        kind=kind,
        actor_id=actor,
        text=text,
        data=data or {},
    )
    session.add(ev)
    return ev


def capture_once(
    session: Session,
    incident: Incident,
    *,
    source_key: str,
    kind: str,
    at: datetime,
    recorded_at: datetime,
    actor: str | None,
    text: str,
    data: dict[str, Any],
) -> bool:
    """Record a captured Slack message once; False if it is already on the timeline."""
    exists = session.scalar(
        select(TimelineEvent.id).where(
            TimelineEvent.incident_id == incident.id, TimelineEvent.source_key == source_key
        )
    )
    if exists:
        return False
    try:
        with session.begin_nested():
            ev = record(
                session,
                incident,
                kind,
                at=at,
                recorded_at=recorded_at,
                actor=actor,
                text=text,
                data=data,
            )
            ev.source_key = source_key
            session.flush()
    except IntegrityError:  # a concurrent delivery won the unique (incident, source_key)
        return False
    return True


def events(session: Session, incident_id: int) -> list[TimelineEvent]:
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident_id)
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
    )
