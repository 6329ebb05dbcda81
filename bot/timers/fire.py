"""Firing one claimed timer: decide from fresh state, post to Slack, record, plan the next.

Each timer is fired by the one worker whose claim flipped it to `firing`; it is marked `fired`
only by that worker, with the timeline entry and the next timer in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.chat import ChatError
from bot.incident import service, timeline
from bot.incident.cadence import next_update_due, update_cadence
from bot.models import ActionItem, Incident, TimelineEvent, Timer
from bot.runtime import Runtime
from bot.timers import notices, plan

log = logging.getLogger(__name__)
LATE_AFTER = timedelta(seconds=5)  # beyond normal polling delay: the process was down
# Slack errors that a retry cannot fix: the war room is gone or the bot was removed.
PERMANENT = {
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
}


def fire(rt: Runtime, timer_id: int, worker: str) -> str:
    with rt.db.read() as s:
        t = s.get(Timer, timer_id)
        if t is None or t.state != "firing" or t.claimed_by != worker:
            return "lost"
        inc = s.get(Incident, t.incident_id)
        assert inc is not None
        since = _since_last_update(s, inc) if t.kind == plan.UPDATE_DUE else []
    now = rt.now()
    late = now - t.due_at if now - t.due_at > LATE_AFTER else timedelta(0)
    try:
        outcome, text = _act(rt, t, inc, since, now, late)
    except ChatError as e:
        log.warning("timer %s (%s) failed: %s", t.id, t.kind, e)
        if e.code in PERMANENT:
            _finish(rt, t, worker, "failed", f"Could not post ({e.code})", now, late)
            return "failed"
        _release(rt, t, worker)  # the claim lapses in 30 s and another try happens
        return "retry"
    _finish(rt, t, worker, outcome, text, now, late)
    rt.metrics.timers.labels(t.kind, outcome).inc()
    rt.metrics.timer_lateness.observe(max((now - t.due_at).total_seconds(), 0))
    return outcome


def _since_last_update(s, inc: Incident) -> list[TimelineEvent]:
    start = inc.last_update_at or inc.declared_at
    return list(
        s.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.incident_id == inc.id,
                TimelineEvent.at > start,
                TimelineEvent.kind.notin_(("reminder", "bot_post")),
            )
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
    )


def _act(
    rt: Runtime, t: Timer, inc: Incident, since: list[TimelineEvent], now: datetime, late: timedelta
) -> tuple[str, str]:
    level = rt.policy.level(inc.severity)
    ch = inc.channel_id
    if ch is None:
        return "skipped", ""
    if t.kind == plan.UPDATE_DUE:
        every = update_cadence(inc, level)
        if every is None or (inc.last_update_at and now - inc.last_update_at < every):
            return "skipped", ""  # reminders stopped, or someone posted meanwhile
        latest = next((e.text for e in reversed(since) if e.kind == "update"), "")
        text, blocks = notices.auto_update(
            inc, level, since, latest, rt.policy.tz, now, now + every
        )
        rt.chat.post(ch, text, blocks)
        if level.mirror_updates:
            rt.chat.post(rt.chat.channel_id(rt.policy.announcement_channel), text, blocks)
        who = [u for u in (inc.lead_id, inc.comms_id) if u]
        text, blocks = notices.reminder(inc, who, late)
        rt.chat.post(ch, text, blocks)
        return "posted", "Status update due: automatic update posted, lead reminded"
    if t.kind == plan.ACK_ESCALATION:
        if inc.lead_id or inc.is_resolved:
            return "skipped", ""
        notify = level.escalation[t.step][1] if t.step < len(level.escalation) else ()
        users = [u for u in notify if not u.startswith("S")]
        if users:
            rt.chat.invite(ch, users)
        text, blocks = notices.escalation(inc, level, t.step, notify, late)
        rt.chat.post(ch, text, blocks)
        return "posted", f"Escalated (level {t.step + 1}) to " + (", ".join(notify) or "@here")
    if t.kind in (plan.RESOLVE_WARNING, plan.RESOLVE_BREACH):
        if inc.is_resolved:
            return "skipped", ""
        breached = t.kind == plan.RESOLVE_BREACH
        text, blocks = notices.resolve_warning(
            inc, level, rt.policy.resolve_warning_percent, rt.policy.tz, breached, late
        )
        rt.chat.post(ch, text, blocks)
        return "posted", "Resolution target breached" if breached else "Resolution target nearing"
    if t.kind == plan.POSTMORTEM_DUE:
        if inc.postmortem_at or not inc.is_resolved:
            return "skipped", ""
        text, blocks = notices.postmortem_due(inc, rt.policy.postmortem_reminder_hours, late)
        rt.chat.post(ch, text, blocks)
        return "posted", "Post-mortem reminder"
    if t.kind == plan.ACTION_ITEM_DUE:
        with rt.db.read() as s:
            item = s.get(ActionItem, t.ref_id) if t.ref_id else None
        if item is None or item.state == "done" or not item.owner_id:
            return "skipped", ""
        text = (
            f":alarm_clock: Action item {item.number} of incident *{inc.number}* "
            f"({inc.title}) was due {item.due}: {item.text}\nWhen it is done: "
            f"`/incident action done {item.number}` in <#{ch}>."
        )
        rt.chat.post(item.owner_id, text)  # a user id: Slack delivers it as a DM
        return "posted", f"Reminded <@{item.owner_id}> of overdue action item {item.number}"
    if t.kind == plan.ARCHIVE:
        if not inc.is_resolved:
            return "skipped", ""
        rt.chat.archive(ch)
        return "posted", "War room archived"
    return "skipped", ""


_KIND_EVENT = {
    plan.UPDATE_DUE: "reminder",
    plan.ACK_ESCALATION: "escalation",
    plan.RESOLVE_WARNING: "sla_warning",
    plan.RESOLVE_BREACH: "sla_breach",
    plan.POSTMORTEM_DUE: "reminder",
    plan.ARCHIVE: "archived",
    plan.ACTION_ITEM_DUE: "reminder",
}


def _finish(
    rt: Runtime, t: Timer, worker: str, outcome: str, text: str, now: datetime, late: timedelta
) -> None:
    with rt.db.session() as s:
        done = s.execute(
            update(Timer)
            .where(Timer.id == t.id, Timer.state == "firing", Timer.claimed_by == worker)
            .values(state="fired", fired_at=now, outcome=outcome)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return  # our claim lapsed and another worker took over
        inc = service.by_id(s, t.incident_id, lock=True)
        if outcome in ("posted", "failed"):
            timeline.record(
                s,
                inc,
                _KIND_EVENT[t.kind],
                at=now,
                actor=rt.chat.bot_user_id,
                text=text + (f" (late by {int(late.total_seconds())} s)" if late else ""),
                data={
                    "timer": t.kind,
                    "step": t.step,
                    "due": t.due_at.isoformat(),
                    "late_seconds": round(late.total_seconds(), 3),
                },
            )
        _plan_next(s, rt, t, inc, now)


def _plan_next(s, rt: Runtime, t: Timer, inc: Incident, now: datetime) -> None:
    if inc.is_resolved:
        return
    if t.kind == plan.UPDATE_DUE and plan.pending(s, inc.id, plan.UPDATE_DUE) is None:
        every = update_cadence(inc, rt.policy.level(inc.severity))
        if every is not None:
            nxt = next_update_due(inc, rt.policy.level(inc.severity))
            # One fire per outage, not one per missed period; on time, keep the beat.
            base = t.due_at if now - t.due_at <= LATE_AFTER else now
            plan.add(s, inc, plan.UPDATE_DUE, max(base + every, nxt or base + every))
    elif t.kind == plan.ACK_ESCALATION and inc.lead_id is None:
        due = plan.escalation_due(inc, rt.policy, t.step + 1)
        if due is not None and plan.pending(s, inc.id, plan.ACK_ESCALATION) is None:
            plan.add(s, inc, plan.ACK_ESCALATION, max(due, now), step=t.step + 1)


def _release(rt: Runtime, t: Timer, worker: str) -> None:
    with rt.db.session() as s:
        s.execute(
            update(Timer)
            .where(Timer.id == t.id, Timer.claimed_by == worker, Timer.state == "firing")
            .values(claim_until=rt.now() + timedelta(seconds=30))
            .execution_options(synchronize_session=False)
        )
