"""Changes to an incident's status-update reminders: cadence, snooze, stop."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.incident import timeline
from bot.incident.lifecycle import Change
from bot.incident.service import IncidentError
from bot.models import Incident
from bot.timers import plan

MAX_MINUTES = 24 * 60
USAGE = "`/incident remind <minutes>` (1 to 1440) or `/incident remind off`"


def parse_minutes(text: str) -> float | None:
    """`off` -> None; a whole number of minutes in 1..1440, or a clear error."""
    t = text.strip().lower()
    if t in ("off", "stop", "none"):
        return None
    try:
        minutes = int(t)
    except ValueError:
        raise IncidentError(
            f"`{text.strip() or '(nothing)'}` is not a number of minutes: {USAGE}"
        ) from None
    if not 1 <= minutes <= MAX_MINUTES:
        raise IncidentError(
            f"Reminders run every 1 to {MAX_MINUTES} minutes (24 h); got {minutes}: {USAGE}"
        )
    return float(minutes)


def _require_active(inc: Incident) -> None:
    if inc.is_resolved:
        raise IncidentError(
            "The incident is resolved; it has no status-update reminders. "
            "`/incident reopen` first if it is happening again."
        )


def set_reminders(
    s: Session, inc: Incident, minutes: float | None, actor: str, now: datetime
) -> Change:
    _require_active(inc)
    if minutes is None:
        inc.reminders_off = True
        plan.cancel(s, inc.id, plan.UPDATE_DUE)
        text = "Status-update reminders stopped"
    else:
        inc.reminders_off = False
        inc.update_minutes = minutes
        plan.cancel(s, inc.id, plan.UPDATE_DUE)
        plan.add(s, inc, plan.UPDATE_DUE, now + timedelta(minutes=minutes))
        text = f"Status-update reminders every {int(minutes)} min"
    timeline.record(s, inc, "reminders", at=now, actor=actor, text=text, data={"minutes": minutes})
    return Change(inc, "reminders", text=text, actor=actor)


def snooze(s: Session, inc: Incident, minutes: int, actor: str, now: datetime) -> Change:
    _require_active(inc)
    if inc.reminders_off:
        raise IncidentError(
            "Reminders are off for this incident; `/incident remind 30` turns them on."
        )
    plan.cancel(s, inc.id, plan.UPDATE_DUE)
    plan.add(s, inc, plan.UPDATE_DUE, now + timedelta(minutes=minutes))
    text = f"Status-update reminder snoozed for {minutes} min"
    timeline.record(s, inc, "snooze", at=now, actor=actor, text=text, data={"minutes": minutes})
    return Change(inc, "snooze", text=text, actor=actor)


def structured_update(
    s: Session,
    inc: Incident,
    status: str,
    progress: str,
    next_steps: str,
    next_minutes: int,
    actor: str,
    now: datetime,
) -> Change:
    """The *Post update* form: the runbooks' fields, as one update (and a status move)."""
    from bot.incident import lifecycle

    progress = progress.strip()
    if not progress:
        raise IncidentError("Say what has been done under *Progress*.")
    message = progress + (f"\nNext steps: {next_steps.strip()}" if next_steps.strip() else "")
    if status and status != inc.status:
        change = lifecycle.set_status(s, inc, status, message, actor, now)
    else:
        change = lifecycle.post_update(s, inc, message, actor, now)
    change.next_due = now + timedelta(minutes=next_minutes)
    return change
