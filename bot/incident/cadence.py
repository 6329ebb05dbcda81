"""When the next status update is due: the severity's cadence unless `/incident remind` set one."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.models import Incident
from bot.severity import SeverityLevel


def update_cadence(inc: Incident, level: SeverityLevel) -> timedelta | None:
    """The status-update cadence in force: `/incident remind` overrides the severity's."""
    if inc.reminders_off or inc.is_resolved:
        return None
    if inc.update_minutes is not None:
        return timedelta(minutes=inc.update_minutes)
    return level.update_every


def next_update_due(inc: Incident, level: SeverityLevel) -> datetime | None:
    every = update_cadence(inc, level)
    if every is None:
        return None
    return (inc.last_update_at or inc.declared_at) + every
