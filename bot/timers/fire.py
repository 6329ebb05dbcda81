"""Firing claimed timers: decide from fresh state, post to Slack, record, plan the next.

Each timer is fired by the one worker whose claim flipped it to `firing`; it is marked `fired`
only by that worker, with the timeline entry and the next timer in the same transaction.
Timers claimed in one tick are fired together, so the database work is shared between them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.catalog.war_room import with_owners
from bot.chat import ChatError
from bot.incident import timeline
from bot.incident.cadence import next_update_due, update_cadence
from bot.models import ActionItem, Incident, TimelineEvent, Timer
from bot.mrkdwn import escape
from bot.paging import ops as paging
from bot.playbooks import checklist
from bot.playbooks import flows as checklist_flows
from bot.runtime import Runtime
from bot.timers import notices, plan
from bot.timers.landed import Landed, TimerPosts

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


def fire(rt: Runtime, timer_id: int, worker: str, recheck: bool = False) -> str:
    """Fire one claimed timer; the outcome, or "lost" if the claim is no longer `worker`'s."""
    return fire_batch(rt, [timer_id], worker, {timer_id} if recheck else ()).get(timer_id, "lost")


def fire_batch(
    rt: Runtime, timer_ids: Sequence[int], worker: str, recheck: Collection[int] = ()
) -> dict[int, str]:
    """Fire timers claimed together: one read, the Slack posts side by side, one transaction to
    mark them fired, record them and plan what follows (per timer, a dozen statements fewer).

    `recheck`: timers taken over from a claim that lapsed (its process died or gave up); what
    of theirs already landed in Slack is found by its metadata and not posted again.
    """
    now = rt.now()
    with rt.db.read() as s:
        rows = s.execute(
            select(Timer, Incident)
            .join(Incident, Incident.id == Timer.incident_id)
            .where(
                Timer.id.in_(timer_ids),
                Timer.state == "firing",
                Timer.claimed_by == worker,
                Timer.claim_until > now,  # a lapsed claim may be another worker's by now
            )
        ).all()
        since = _since_last_update(s, [inc for t, inc in rows if t.kind == plan.UPDATE_DUE])

    landed = Landed(rt, [t for t, _ in rows if t.id in recheck])

    def one(row: Any) -> Fired:
        t, inc = row
        late = now - t.due_at if now - t.due_at > LATE_AFTER else timedelta(0)
        posts = TimerPosts(rt, t, landed if t.id in recheck else None)
        try:
            outcome, text = _act(rt, posts, t, inc, since.get(inc.id, []), now, late)
        except ChatError as e:
            log.warning("timer %s (%s) failed: %s", t.id, t.kind, e)
            if e.code in PERMANENT:
                return Fired(t, "failed", f"Could not post ({e.code})", late)
            return Fired(t, "retry", "", late)  # the claim lapses in 30 s; then another try
        return Fired(t, outcome, text, late)

    fired = list(rt.fanout.map(one, rows)) if len(rows) > 1 else [one(r) for r in rows]
    _finish(rt, worker, fired, now)
    for f in fired:
        if f.outcome in ("posted", "skipped"):
            rt.metrics.timers.labels(f.timer.kind, f.outcome).inc()
            rt.metrics.timer_lateness.observe(max((now - f.timer.due_at).total_seconds(), 0))
    return {f.timer.id: f.outcome for f in fired}


@dataclass
class Fired:
    timer: Timer
    outcome: str  # posted | skipped | failed (for good) | retry (claim kept to lapse)
    text: str
    late: timedelta


def _since_last_update(s: Session, incs: list[Incident]) -> dict[int, list[TimelineEvent]]:
    """Per incident, the timeline from its last update on, that update included (one query)."""
    if not incs:
        return {}
    starts = {inc.id: inc.last_update_at or inc.declared_at for inc in incs}
    events = s.scalars(
        select(TimelineEvent)
        .where(
            or_(
                *(
                    and_(TimelineEvent.incident_id == i, TimelineEvent.at >= start)
                    for i, start in starts.items()
                )
            ),
            TimelineEvent.kind.notin_(("reminder", "bot_post")),
        )
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    out: dict[int, list[TimelineEvent]] = {}
    for ev in events:
        out.setdefault(ev.incident_id, []).append(ev)
    return out


def _act(
    rt: Runtime,
    posts: TimerPosts,
    t: Timer,
    inc: Incident,
    since: list[TimelineEvent],
    now: datetime,
    late: timedelta,
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
        posts.post(ch, "update", text, blocks)
        if level.mirror_updates and not inc.private:  # never mirrored: need to know
            announce = rt.chat.channel_id(rt.policy.announcement_channel)
            posts.post(announce, "update_mirror", text, blocks)
        who = [u for u in (inc.lead_id, inc.comms_id) if u]
        text, blocks = notices.reminder(inc, who, late)
        posts.post(ch, "reminder", text, blocks)
        return "posted", "Status update due: automatic update posted, lead reminded"
    if t.kind == plan.ACK_ESCALATION:
        if inc.lead_id or inc.is_resolved:
            return "skipped", ""
        notify = level.escalation[t.step][1] if t.step < len(level.escalation) else ()
        notify = with_owners(rt.policy, inc, notify)
        if inc.private:  # a closed room escalates to its security responders, nobody new
            notify = tuple(rt.policy.security_responders)
        users = [u for u in notify if not u.startswith("S")]
        if users:
            rt.chat.invite(ch, users)
        text, blocks = notices.escalation(inc, level, t.step, notify, late)
        steps = rt.policy.severities[inc.severity].escalation
        page = steps[t.step].page if t.step < len(steps) and not inc.private else False
        if page:  # queued once per step, however often this timer is re-fired
            paged = paging.escalate(rt, inc.id, t.step, page)
            text += f" {paged}"
            blocks[0]["text"]["text"] += f" {paged}"
        posts.post(ch, "escalation", text, blocks)
        return "posted", f"Escalated (level {t.step + 1}) to " + (", ".join(notify) or "@here")
    if t.kind in (plan.RESOLVE_WARNING, plan.RESOLVE_BREACH):
        if inc.is_resolved:
            return "skipped", ""
        breached = t.kind == plan.RESOLVE_BREACH
        text, blocks = notices.resolve_warning(
            inc, level, rt.policy.resolve_warning_percent, rt.policy.tz, breached, late
        )
        posts.post(ch, "resolve_target", text, blocks)
        return "posted", "Resolution target breached" if breached else "Resolution target nearing"
    if t.kind == plan.POSTMORTEM_DUE:
        if inc.postmortem_at or not inc.is_resolved:
            return "skipped", ""
        text, blocks = notices.postmortem_due(inc, rt.policy.postmortem_reminder_hours, late)
        posts.post(ch, "postmortem", text, blocks)
        return "posted", "Post-mortem reminder"
    if t.kind == plan.ACTION_ITEM_DUE:
        with rt.db.read() as s:
            item = s.get(ActionItem, t.ref_id) if t.ref_id else None
        if item is None or item.state == "done" or not item.owner_id:
            return "skipped", ""
        text = (
            f":alarm_clock: Action item {item.number} of incident *{inc.number}* "
            f"({escape(inc.title)}) was due {item.due}: {escape(item.text)}\nWhen it is done: "
            f"`/incident action done {item.number}` in <#{ch}>."
        )
        posts.post(item.owner_id, "action_item", text)  # a user id: Slack delivers it as a DM
        return "posted", f"Reminded <@{item.owner_id}> of overdue action item {item.number}"
    if t.kind == checklist.WINDOW:
        return checklist_flows.window_reminder(rt, posts, inc)
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
    checklist.WINDOW: "reminder",
}


def _finish(rt: Runtime, worker: str, fired: list[Fired], now: datetime) -> None:
    done = [f for f in fired if f.outcome != "retry"]
    retry = [f.timer.id for f in fired if f.outcome == "retry"]
    with rt.db.session() as s:
        if retry:
            s.execute(
                update(Timer)
                .where(Timer.id.in_(retry), Timer.claimed_by == worker, Timer.state == "firing")
                .values(claim_until=now + timedelta(seconds=30))
                .execution_options(synchronize_session=False)
            )
        ours: set[int] = set()
        for outcome in {f.outcome for f in done}:
            ids = [f.timer.id for f in done if f.outcome == outcome]
            ours.update(
                s.scalars(
                    update(Timer)
                    .where(Timer.id.in_(ids), Timer.state == "firing", Timer.claimed_by == worker)
                    .values(state="fired", fired_at=now, outcome=outcome)
                    .returning(Timer.id)
                    .execution_options(synchronize_session=False)
                )
            )
        mine = [f for f in done if f.timer.id in ours]  # the rest: our claim lapsed meanwhile
        if not mine:
            return
        # Fresh, locked incidents (in id order, so two finishing workers cannot deadlock).
        incs = {
            inc.id: inc
            for inc in s.scalars(
                select(Incident)
                .where(Incident.id.in_({f.timer.incident_id for f in mine}))
                .order_by(Incident.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
        for f in mine:
            if f.outcome in ("posted", "failed"):
                t, late = f.timer, f.late
                timeline.record(
                    s,
                    t.incident_id,
                    _KIND_EVENT[t.kind],
                    at=now,
                    actor=rt.chat.bot_user_id,
                    text=f.text + (f" (late by {int(late.total_seconds())} s)" if late else ""),
                    data={
                        "timer": t.kind,
                        "step": t.step,
                        "due": t.due_at.isoformat(),
                        "late_seconds": round(late.total_seconds(), 3),
                    },
                )
        _plan_next(s, rt, [(f.timer, incs[f.timer.incident_id]) for f in mine], now)


def _plan_next(s: Session, rt: Runtime, fired: list[tuple[Timer, Incident]], now: datetime) -> None:
    """The next reminder or escalation step of each fired timer, unless one is pending."""
    followed = (plan.UPDATE_DUE, plan.ACK_ESCALATION)
    ids = {inc.id for t, inc in fired if t.kind in followed and not inc.is_resolved}
    if not ids:
        return
    pending: set[tuple[int, str]] = set(
        (i, kind)
        for i, kind in s.execute(
            select(Timer.incident_id, Timer.kind).where(
                Timer.incident_id.in_(ids), Timer.state == "pending", Timer.kind.in_(followed)
            )
        )
    )
    for t, inc in fired:
        if inc.id not in ids or (inc.id, t.kind) in pending:
            continue
        level = rt.policy.level(inc.severity)
        if t.kind == plan.UPDATE_DUE:
            every = update_cadence(inc, level)
            if every is None:
                continue
            nxt = next_update_due(inc, level)
            # One fire per outage, not one per missed period; on time, keep the beat.
            base = t.due_at if now - t.due_at <= LATE_AFTER else now
            plan.add(s, inc, plan.UPDATE_DUE, max(base + every, nxt or base + every))
        elif inc.lead_id is None:
            due = plan.escalation_due(inc, rt.policy, t.step + 1)
            if due is None:
                continue
            plan.add(s, inc, plan.ACK_ESCALATION, max(due, now), step=t.step + 1)
        pending.add((inc.id, t.kind))
