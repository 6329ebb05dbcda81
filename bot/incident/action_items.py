"""Action items: follow-ups with an owner and a due date, numbered per incident."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Policy
from bot.db import fits_int
from bot.incident import timeline
from bot.incident.lifecycle import Change
from bot.incident.service import IncidentError
from bot.models import ActionItem, Incident
from bot.mrkdwn import escape
from bot.timers import plan

MAX_TEXT = 500


def add(
    s: Session,
    inc: Incident,
    text: str,
    owner: str | None,
    due: date | None,
    actor: str,
    now: datetime,
    policy: Policy,
    due_at: datetime | None = None,  # a due time (a playbook's "within 2 hours"), not a day
) -> Change:
    text = " ".join(text.split())
    if not text:
        raise IncidentError(
            "Say what needs doing: `/incident action add Add a canary for "
            "payments @owner due:2026-12-01`."
        )
    if len(text) > MAX_TEXT:
        raise IncidentError(f"Keep an action item under {MAX_TEXT} characters; link to a ticket.")
    number = (
        s.scalar(select(func.max(ActionItem.number)).where(ActionItem.incident_id == inc.id)) or 0
    ) + 1
    item = ActionItem(
        incident_id=inc.id,
        number=number,
        text=text,
        owner_id=owner,
        due=due,
        state="open",
        created_at=now,
        created_by=actor,
    )
    s.add(item)
    s.flush()
    if due is not None and owner is not None:
        # Overdue means past the end of the due day in the team's time zone.
        end_of_day = datetime.combine(due + timedelta(days=1), time(9, 0), tzinfo=policy.tz)
        t = plan.add(s, inc, plan.ACTION_ITEM_DUE, due_at or end_of_day)
        t.ref_id = item.id
    timeline.record(
        s,
        inc,
        "action_item",
        at=now,
        actor=actor,
        text=f"Action item {number}: {text}"
        + (f" (owner <@{owner}>" if owner else "")
        + (f", due {due}" if due else "")
        + (")" if owner else ""),
        data={"number": number},
    )
    # Change.text is the reply shown in Slack (mrkdwn); the timeline above keeps the plain text.
    shown = f"Action item {number} added: {escape(text)}"
    return Change(inc, "action_item", text=shown, actor=actor)


def done(s: Session, inc: Incident, number: int, actor: str, now: datetime) -> Change:
    item = (
        s.scalar(
            select(ActionItem).where(ActionItem.incident_id == inc.id, ActionItem.number == number)
        )
        if fits_int(number)
        else None
    )
    if item is None:
        count = s.scalar(select(func.count()).where(ActionItem.incident_id == inc.id)) or 0
        hint = f"it has items 1 to {count}" if count else "it has none yet"
        raise IncidentError(
            f"There is no action item {number} on this incident ({hint}). "
            "`/incident action list` shows them."
        )
    if item.state == "done":
        raise IncidentError(f"Action item {number} is already done.")
    close(s, inc, item, actor, now)
    shown = f"Action item {number} done: {escape(item.text)}"
    # `after` says what became of it: the checklist ticks the playbook step it came from.
    return Change(inc, "action_item", before="open", after="done", text=shown, actor=actor)


def close(
    s: Session, inc: Incident, item: ActionItem, actor: str, now: datetime, via: str = ""
) -> None:
    """Mark it done (`via`: what did it, e.g. its checklist step ticked), on the timeline."""
    item.state, item.done_at, item.done_by = "done", now, actor
    timeline.record(
        s,
        inc,
        "action_item",
        at=now,
        actor=actor,
        text=f"Action item {item.number} done: {item.text}{via}",
        data={"number": item.number},
    )


def reopen(
    s: Session, inc: Incident, item: ActionItem, actor: str, now: datetime, via: str = ""
) -> None:
    item.state, item.done_at, item.done_by = "open", None, None
    timeline.record(
        s,
        inc,
        "action_item",
        at=now,
        actor=actor,
        text=f"Action item {item.number} open again: {item.text}{via}",
        data={"number": item.number},
    )


def listing(s: Session, inc: Incident) -> list[ActionItem]:
    return list(
        s.scalars(
            select(ActionItem).where(ActionItem.incident_id == inc.id).order_by(ActionItem.number)
        )
    )
