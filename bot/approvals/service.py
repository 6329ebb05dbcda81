"""Action requests in the database: create, decide atomically, run once, audit everything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.approvals import runs
from bot.approvals.rules import already, deny_refusal, misplaced, refusal
from bot.config import ActionRule
from bot.incident import timeline
from bot.incident.service import IncidentError
from bot.models import ActionRequest, AuditEntry, Incident
from bot.redact import redact


def audit(
    s: Session,
    req: ActionRequest,
    event: str,
    actor: str | None,
    now: datetime,
    outcome: str = "",
    duration_ms: int | None = None,
    detail: str = "",
) -> None:
    s.add(
        AuditEntry(
            at=now,
            actor_id=actor,
            event=event,
            request_id=req.id,
            incident_id=req.incident_id,
            action=req.action,
            target=req.target,
            params=req.params,
            outcome=outcome,
            duration_ms=duration_ms,
            detail=detail[:2000],
        )
    )


def create(
    s: Session,
    inc: Incident,
    *,
    action: str,
    params: dict[str, Any],
    target: str,
    preview: str,
    requester: str,
    rule: ActionRule,
    now: datetime,
    mutating: bool = False,
) -> ActionRequest:
    if inc.is_resolved:
        raise IncidentError("The incident is resolved; `/incident reopen` before running actions.")
    req = ActionRequest(
        incident_id=inc.id,
        action=action,
        params=params,
        target=redact(target),
        preview=redact(preview),
        requester_id=requester,
        state="pending",
        approvals_needed=max(
            rule.min_approvals, rule.min_approvals_by_severity.get(inc.severity, 1)
        ),
        approvers=[],
        requested_at=now,
        expires_at=now + timedelta(minutes=rule.expire_minutes),
        channel_id=inc.channel_id,
    )
    s.add(req)
    s.flush()
    audit(s, req, "requested", requester, now)
    timeline.record(
        s,
        inc,
        "action_requested",
        at=now,
        actor=requester,
        text=f"Requested `{action}` on {target}",
        data={"request": req.id},
    )
    if rule.mode == "auto" and not mutating:  # a change always waits for a person
        _transition(s, req, "pending", "approved", decided_by=None, decided_at=now)
        audit(s, req, "auto-approved", None, now)
    return req


def _transition(s: Session, req: ActionRequest, frm: str, to: str, **values: Any) -> bool:
    """Compare-and-set on state and version: the one writer that wins decides."""
    res = s.execute(
        update(ActionRequest)
        .where(
            ActionRequest.id == req.id,
            ActionRequest.state == frm,
            ActionRequest.version == req.version,
        )
        .values(state=to, version=req.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    s.refresh(req)
    return True


class Decision:
    def __init__(self, req: ActionRequest, run: bool, message: str) -> None:
        self.req, self.run, self.message = req, run, message


def decide(
    s: Session,
    request_id: int,
    user: str,
    approve: bool,
    rule: ActionRule,
    now: datetime,
    in_group: Callable[[str, str], bool],
    channel_id: str | None = None,
    message_ts: str | None = None,
) -> Decision:
    req = s.get(ActionRequest, request_id, populate_existing=True)
    if req is None:
        raise IncidentError("That request no longer exists.")
    why = misplaced(req, channel_id, message_ts)
    if why:
        audit(s, req, "refused", user, now, outcome="refused", detail=why)
        return Decision(req, False, why)
    if req.state == "pending" and now >= req.expires_at:
        if _transition(s, req, "pending", "expired", decided_at=now):
            audit(s, req, "expired", user, now)
        return Decision(req, False, "This request has expired; ask again with the same command.")
    if not approve:
        if req.state != "pending":
            return Decision(req, False, already(req))
        why = deny_refusal(rule, req, user, in_group)
        if why:
            audit(s, req, "refused", user, now, outcome="refused", detail=why)
            return Decision(req, False, why)
        if not _transition(s, req, "pending", "denied", decided_by=user, decided_at=now):
            return Decision(
                req, False, already(s.get(ActionRequest, req.id, populate_existing=True))
            )
        cancel = user == req.requester_id
        audit(s, req, "cancelled" if cancel else "denied", user, now)
        verb = "Cancelled" if cancel else "Denied"
        _record(s, req, "action_denied", user, now, f"{verb} `{req.action}` on {req.target}")
        return Decision(req, False, f"{verb}.")
    why = refusal(rule, req, user, now, in_group)
    if why:
        audit(s, req, "refused", user, now, outcome="refused", detail=why)
        return Decision(req, False, why)
    approvers = [*(req.approvers or []), user]
    if len(approvers) < req.approvals_needed:
        if not _transition(s, req, "pending", "pending", approvers=approvers):
            return Decision(req, False, "Someone else decided at the same moment; look again.")
        audit(s, req, "approved", user, now, detail=f"{len(approvers)}/{req.approvals_needed}")
        return Decision(
            req, False, f"Approval {len(approvers)} of {req.approvals_needed} recorded."
        )
    if not _transition(
        s, req, "pending", "approved", approvers=approvers, decided_by=user, decided_at=now
    ):
        return Decision(req, False, already(s.get(ActionRequest, req.id, populate_existing=True)))
    audit(s, req, "approved", user, now)
    _record(s, req, "action_approved", user, now, f"Approved `{req.action}` on {req.target}")
    return Decision(req, True, "Approved; running it now.")


def _record(
    s: Session,
    req: ActionRequest,
    kind: str,
    actor: str | None,
    now: datetime,
    text: str,
    **data: Any,
) -> None:
    inc = s.get(Incident, req.incident_id)
    if inc is not None:
        timeline.record(
            s, inc, kind, at=now, actor=actor, text=text, data={"request": req.id, **data}
        )


def start(
    s: Session,
    request_id: int,
    now: datetime,
    worker: str = runs.WORKER,
    lease: timedelta = runs.LEASE,
) -> ActionRequest | None:
    """approved -> running, once, leased to `worker`; None if someone else already started it."""
    req = s.get(ActionRequest, request_id, populate_existing=True)
    if req is None or not _transition(s, req, "approved", "running", started_at=now):
        return None
    runs.begin(s, req.id, "run", worker, now, lease)
    audit(s, req, "started", req.decided_by, now)
    return req


def finish(s: Session, request_id: int, ok: bool, summary: str, now: datetime) -> ActionRequest:
    req = s.get(ActionRequest, request_id, populate_existing=True)
    assert req is not None and req.started_at is not None
    state = "succeeded" if ok else "failed"
    _transition(s, req, "running", state, finished_at=now, summary=summary[:2000])
    runs.end(s, req.id, state, now)
    ms = int((now - req.started_at).total_seconds() * 1000)
    audit(s, req, state, req.decided_by, now, outcome=state, duration_ms=ms, detail=summary)
    _record(
        s,
        req,
        "action_" + state,
        req.decided_by,
        now,
        f"`{req.action}` on {req.target} {state}: {summary[:300]}",
        duration_ms=ms,
    )
    return req


def interrupted(s: Session, req: ActionRequest, now: datetime, detail: str) -> None:
    """The run died with its process: say so in the audit and on the timeline."""
    audit(s, req, "interrupted", None, now, outcome="interrupted", detail=detail)
    _record(
        s,
        req,
        "action_interrupted",
        None,
        now,
        f"`{req.action}` on {req.target} was interrupted: {detail}",
    )


def requeue(s: Session, req: ActionRequest) -> bool:
    """running -> approved, to run once more (read-only actions only)."""
    return _transition(s, req, "running", "approved")
