"""Reading what the bot did: the database rows and the stand-in's record of Slack calls."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.incident.naming import channel_name
from bot.models import Incident, TimelineEvent
from bot.runtime import Runtime


def incidents(rt: Runtime) -> list[Incident]:
    with rt.db.read() as s:
        return list(s.scalars(select(Incident).order_by(Incident.id)))


def kinds(rt: Runtime, incident_id: int) -> list[str]:
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(TimelineEvent.kind)
                .where(TimelineEvent.incident_id == incident_id)
                .order_by(TimelineEvent.id)
            )
        )


def events(rt: Runtime, incident_id: int) -> list[TimelineEvent]:
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.incident_id == incident_id)
                .order_by(TimelineEvent.id)
            )
        )


def today_room(seq: int, slug: str) -> str:
    return channel_name("incident", datetime.now(UTC).date(), seq, slug)


def ephemeral_texts(slack, user: str) -> list[str]:
    return [e["text"] for e in slack.ephemerals(user=user)]
