"""An incident's checklist: a playbook's steps attached to it, then ticked, run, skipped and
un-ticked. Plain database operations taking a session; each change is on the timeline in the
same transaction. First click wins: a step changes only from the state the clicker saw."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.incident import action_items, timeline
from bot.incident.lifecycle import Change
from bot.incident.service import IncidentError
from bot.models import ActionItem, ActionRequest, Incident, Timer
from bot.playbooks.model import PHASES, Playbook
from bot.playbooks.models import Checklist, ChecklistStep
from bot.timers import plan

WINDOW = "checklist_window"  # the timer that reminds the lead of open immediate steps
FINISHED = ("done", "run", "skipped")
MAX_REASON = 300
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass
class Outcome:
    step: ChecklistStep
    changed: bool  # False: someone else's click got there first (step shows their state)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Placeholders the service knows are filled; the others stay as `{name}`."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or m.group(0), template)


def unfilled(args: str) -> list[str]:
    return _PLACEHOLDER.findall(args)


def steps(s: Session, incident_id: int) -> list[ChecklistStep]:
    return list(
        s.scalars(
            select(ChecklistStep)
            .where(ChecklistStep.incident_id == incident_id)
            .order_by(ChecklistStep.added_at, ChecklistStep.id)
        )
    )


def current(all_steps: Sequence[ChecklistStep], playbook: str | None) -> list[ChecklistStep]:
    """The steps of the incident's type, in phase then playbook order."""
    mine = [st for st in all_steps if st.playbook == playbook]
    return sorted(mine, key=lambda st: (PHASES.index(st.phase), st.position))


def view(s: Session, incident_id: int) -> Checklist:
    cl = s.get(Checklist, incident_id)
    if cl is None:
        cl = Checklist(incident_id=incident_id, pages={}, version=0, pinned=False)
        s.add(cl)
        s.flush()
    return cl


def attach(
    s: Session,
    inc: Incident,
    pb: Playbook,
    values: Mapping[str, str],
    actor: str | None,
    now: datetime,
) -> int:
    """Make `pb` the incident's type and add its steps not yet there; the number added. Steps
    of an earlier type stay, with what was done to them."""
    have = set(
        s.scalars(
            select(ChecklistStep.step_id).where(
                ChecklistStep.incident_id == inc.id, ChecklistStep.playbook == pb.name
            )
        )
    )
    added = 0
    for position, (phase, step) in enumerate(pb.steps()):
        if step.id in have:
            continue
        s.add(
            ChecklistStep(
                incident_id=inc.id,
                playbook=pb.name,
                step_id=step.id,
                phase=phase.id,
                position=position,
                title=step.title,
                action=step.action,
                args=fill(step.args, values) if step.action else "",
                code=step.code,
                due_hours=step.due_hours,
                status="open",
                added_at=now,
            )
        )
        added += 1
    before, inc.type = inc.type, pb.name
    cl = view(s, inc.id)
    cl.version += 1
    cl.pages, cl.focus = {}, None
    if before and before != pb.name:
        text = f"Type changed from {before} to {pb.name}: the {pb.title} playbook's steps added"
    else:
        text = f"Playbook {pb.name} ({pb.title}) attached: {added} steps"
    timeline.record(
        s,
        inc,
        "checklist",
        at=now,
        actor=actor,
        text=text,
        data={"playbook": pb.name, "from": before, "added": added},
    )
    _plan_window(s, inc, pb, now)
    return added


def _plan_window(s: Session, inc: Incident, pb: Playbook, now: datetime) -> None:
    """One reminder per incident when the immediate actions' window passes."""
    window = next((p.window_minutes for p in pb.phases if p.id == "immediate"), None)
    if not window or inc.is_resolved:
        return
    due = inc.declared_at + timedelta(minutes=window)
    planned = s.scalar(
        select(func.count()).where(Timer.incident_id == inc.id, Timer.kind == WINDOW)
    )
    if due > now and not planned:
        plan.add(s, inc, WINDOW, due)


def _step(s: Session, inc: Incident, step_id: int) -> ChecklistStep:
    st = s.get(ChecklistStep, step_id, populate_existing=True)
    if st is None or st.incident_id != inc.id:
        raise IncidentError("That checklist step is not on this incident any more.")
    return st


def _move(
    s: Session,
    inc: Incident,
    step_id: int,
    to: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> Outcome:
    """open -> to, or finished -> open for `to == "open"`; only from the state it is in now."""
    frm = FINISHED if to == "open" else ("open",)
    who, at = (None, None) if to == "open" else (actor, now)
    before = _step(s, inc, step_id)
    was = (before.status, before.by_id)
    res = s.execute(
        update(ChecklistStep)
        .where(ChecklistStep.id == step_id, ChecklistStep.status.in_(frm))
        .values(status=to, by_id=who, at=at, skip_reason=reason, request_id=None)
        .execution_options(synchronize_session=False)
    )
    st = _step(s, inc, step_id)
    if res.rowcount != 1:
        return Outcome(st, False)
    view(s, inc.id).version += 1
    if to == "open":
        text = f"Checklist: un-ticked “{st.title}” (was {was[0]} by <@{was[1]}>)"
    elif to == "skipped":
        text = f"Checklist: skipped “{st.title}”: {reason}"
    elif to == "run":
        text = f"Checklist: ran “{st.title}” (`{st.action} {st.args}`, asks for approval)"
    else:
        text = f"Checklist: done “{st.title}”"
    timeline.record(
        s,
        inc,
        "checklist",
        at=now,
        actor=actor,
        text=text,
        data={"playbook": st.playbook, "step": st.step_id, "status": to},
    )
    _follow_item(s, inc, st, to, actor, now)
    return Outcome(st, True)


def _follow_item(
    s: Session, inc: Incident, st: ChecklistStep, to: str, actor: str, now: datetime
) -> None:
    """A post-incident step's action item follows it: done when ticked, open when un-ticked."""
    item = s.get(ActionItem, st.action_item_id) if st.action_item_id else None
    if item is None:
        return
    via = f" (checklist step “{st.title}”)"
    if to == "done" and item.state != "done":
        action_items.close(s, inc, item, actor, now, via)
    elif to == "open" and item.state == "done":
        action_items.reopen(s, inc, item, actor, now, via)


def _tick_for_items(s: Session, inc: Incident) -> None:
    """`/incident action done N`: the playbook step it came from is ticked, by the same person."""
    rows = s.execute(
        select(ChecklistStep, ActionItem)
        .join(ActionItem, ActionItem.id == ChecklistStep.action_item_id)
        .where(
            ChecklistStep.incident_id == inc.id,
            ChecklistStep.status == "open",
            ActionItem.state == "done",
        )
    ).all()
    for st, item in rows:
        st.status, st.by_id, st.at = "done", item.done_by, item.done_at
        timeline.record(
            s,
            inc,
            "checklist",
            at=item.done_at,
            actor=item.done_by,
            text=f"Checklist: done “{st.title}” (action item {item.number} done)",
            data={"playbook": st.playbook, "step": st.step_id, "status": "done"},
        )
    if rows:
        view(s, inc.id).version += 1


def tick(s: Session, inc: Incident, step_id: int, actor: str, now: datetime) -> Outcome:
    return _move(s, inc, step_id, "done", actor, now)


def untick(s: Session, inc: Incident, step_id: int, actor: str, now: datetime) -> Outcome:
    return _move(s, inc, step_id, "open", actor, now)


def skip(
    s: Session, inc: Incident, step_id: int, actor: str, reason: str, now: datetime
) -> Outcome:
    reason = " ".join(reason.split())
    if not reason:
        raise IncidentError("Say why the step is skipped (it goes into the post-mortem).")
    if len(reason) > MAX_REASON:
        raise IncidentError(f"Keep the reason under {MAX_REASON} characters.")
    return _move(s, inc, step_id, "skipped", actor, now, reason)


def mark_run(s: Session, inc: Incident, step_id: int, actor: str, now: datetime) -> Outcome:
    if inc.is_resolved:
        raise IncidentError(
            f"Incident {inc.number} is resolved: its checklist's actions no longer run. "
            "`/incident reopen` first if it needs more work."
        )
    st = _step(s, inc, step_id)
    if st.action is None:
        raise IncidentError(f"“{st.title}” is a manual step: press *Done* when it is done.")
    return _move(s, inc, step_id, "run", actor, now)


def link_request(s: Session, step_id: int, requester: str, since: datetime) -> int | None:
    """The approval request a Run opened (made after the click, by the clicker), on the step."""
    st = s.get(ChecklistStep, step_id)
    if st is None or st.status != "run":
        return None
    rid = s.scalar(
        select(ActionRequest.id)
        .where(
            ActionRequest.incident_id == st.incident_id,
            ActionRequest.requester_id == requester,
            ActionRequest.action == st.action,
            ActionRequest.requested_at >= since,
        )
        .order_by(ActionRequest.id.desc())
        .limit(1)
    )
    if rid is not None:
        st.request_id = rid
    else:  # the request was refused (its preview could not be built): nothing runs
        st.status, st.by_id, st.at = "open", None, None
        timeline.record(
            s,
            st.incident_id,
            "checklist",
            at=since,
            actor=requester,
            text=f"Checklist: “{st.title}” asked for nothing (the request was refused); open again",
            data={"playbook": st.playbook, "step": st.step_id, "status": "open"},
        )
    view(s, st.incident_id).version += 1
    return rid


def open_in_window(s: Session, inc: Incident) -> list[ChecklistStep]:
    return [
        st
        for st in current(steps(s, inc.id), inc.type)
        if st.phase == "immediate" and st.status == "open"
    ]


def after_change(s: Session, rt: Any, change: Change, now: datetime) -> None:
    """At resolution, the playbook's post-incident steps become action items (once each), owned
    by the lead (the reporter when there is none), due `due_hours` after resolution. An action
    item marked done ticks its step."""
    if change.kind == "action_item" and change.after == "done":
        _tick_for_items(s, change.incident)
    if change.kind != "resolved":
        return
    inc = change.incident
    todo = [
        st
        for st in current(steps(s, inc.id), inc.type)
        if st.phase == "post_incident" and st.status == "open" and st.action_item_id is None
    ]
    owner = inc.lead_id or inc.reporter_id
    for st in todo:
        due_at = now + timedelta(hours=st.due_hours) if st.due_hours else None
        due = due_at.astimezone(rt.policy.tz).date() if due_at else None
        action_items.add(
            s, inc, st.title, owner, due, change.actor or owner, now, rt.policy, due_at=due_at
        )
        st.action_item_id = s.scalar(
            select(func.max(ActionItem.id)).where(ActionItem.incident_id == inc.id)
        )
    if todo:
        view(s, inc.id).version += 1
