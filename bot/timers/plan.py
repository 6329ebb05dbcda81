"""Planning timers in the caller's transaction, so a change and its timers commit together."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.config import Policy
from bot.incident.cadence import update_cadence
from bot.incident.lifecycle import Change
from bot.models import Incident, Timer

UPDATE_DUE = "update_due"
ACK_ESCALATION = "ack_escalation"
RESOLVE_WARNING = "resolve_warning"
RESOLVE_BREACH = "resolve_breach"
POSTMORTEM_DUE = "postmortem_due"
ARCHIVE = "archive"
ACTION_ITEM_DUE = "action_item_due"
ACTIVE_KINDS = (UPDATE_DUE, ACK_ESCALATION, RESOLVE_WARNING, RESOLVE_BREACH)
AFTER_KINDS = (POSTMORTEM_DUE, ARCHIVE)


def add(s: Session, inc: Incident, kind: str, due: datetime, step: int = 0) -> Timer:
    t = Timer(incident_id=inc.id, kind=kind, step=step, due_at=due, state="pending")
    s.add(t)
    return t


def cancel(s: Session, incident_id: int, *kinds: str) -> None:
    s.execute(
        update(Timer)
        .where(Timer.incident_id == incident_id, Timer.state == "pending", Timer.kind.in_(kinds))
        .values(state="cancelled")
        .execution_options(synchronize_session=False)
    )


def pending(s: Session, incident_id: int, kind: str) -> Timer | None:
    return s.scalar(
        select(Timer)
        .where(Timer.incident_id == incident_id, Timer.kind == kind, Timer.state == "pending")
        .order_by(Timer.due_at)
        .limit(1)
    )


def plan_updates(s: Session, inc: Incident, policy: Policy, base: datetime) -> None:
    """(Re)start the status-update clock from `base`: any posted update resets it."""
    cancel(s, inc.id, UPDATE_DUE)
    _add_update(s, inc, policy, base)


def _add_update(s: Session, inc: Incident, policy: Policy, base: datetime) -> None:
    every = update_cadence(inc, policy.level(inc.severity))
    if every is not None:
        add(s, inc, UPDATE_DUE, base + every)


def escalation_due(inc: Incident, policy: Policy, step: int) -> datetime | None:
    level = policy.level(inc.severity)
    if step >= len(level.escalation):
        return None
    return inc.declared_at + level.respond + level.escalation[step][0]


def plan_sla(s: Session, inc: Incident, policy: Policy, now: datetime) -> None:
    """Acknowledgement escalation and resolution warnings, from the severity's targets."""
    cancel(s, inc.id, ACK_ESCALATION, RESOLVE_WARNING, RESOLVE_BREACH)
    _add_sla(s, inc, policy, now)


def _add_sla(s: Session, inc: Incident, policy: Policy, now: datetime) -> None:
    level = policy.level(inc.severity)
    if inc.lead_id is None:
        due = escalation_due(inc, policy, 0)
        if due is not None:
            add(s, inc, ACK_ESCALATION, max(due, now))
    warn = inc.declared_at + level.resolve * (policy.resolve_warning_percent / 100)
    breach = inc.declared_at + level.resolve
    # After a re-grade or reopen, a target already past is not announced again.
    if warn > now:
        add(s, inc, RESOLVE_WARNING, warn)
    if breach > now:
        add(s, inc, RESOLVE_BREACH, breach)


def plan_new(s: Session, inc: Incident, policy: Policy, now: datetime) -> None:
    # A new incident has no timers to cancel: two fewer statements while the number is locked.
    _add_update(s, inc, policy, inc.declared_at)
    _add_sla(s, inc, policy, now)


def after_change(s: Session, change: Change, policy: Policy, now: datetime) -> None:
    """Keep the incident's timers in step with what just changed."""
    inc, kind = change.incident, change.kind
    if kind == "update" or (kind == "status" and change.text):
        plan_updates(s, inc, policy, now)
        if change.next_due is not None and pending(s, inc.id, UPDATE_DUE) is not None:
            cancel(s, inc.id, UPDATE_DUE)
            add(s, inc, UPDATE_DUE, change.next_due)
    elif kind == "severity":
        plan_updates(s, inc, policy, inc.last_update_at or inc.declared_at)
        plan_sla(s, inc, policy, now)
    elif kind == "role" and change.text == "lead":
        cancel(s, inc.id, ACK_ESCALATION)
    elif kind in ("reminders", "snooze"):
        pass  # the reminder commands plan their own timer
    elif kind == "resolved":
        cancel(s, inc.id, *ACTIVE_KINDS)
        add(s, inc, POSTMORTEM_DUE, now + timedelta(hours=policy.postmortem_reminder_hours))
        if policy.archive_after_days:
            add(s, inc, ARCHIVE, now + timedelta(days=policy.archive_after_days))
    elif kind == "reopened":
        cancel(s, inc.id, *AFTER_KINDS)
        plan_updates(s, inc, policy, now)
        plan_sla(s, inc, policy, now)
