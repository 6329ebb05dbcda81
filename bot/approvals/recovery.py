"""Runs that died with their process: found when their lease lapses, settled once, and said in
the request's thread. A change is never applied again blindly: what the far end shows decides
(applied, not applied, or cannot tell); a read-only action runs once more, once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.approvals import flows, runs, service
from bot.chat import ChatError
from bot.errors import UserError
from bot.messages import actions, button, section
from bot.models import ActionRequest
from bot.mrkdwn import escape
from bot.redact import redact
from bot.runtime import Runtime

log = logging.getLogger(__name__)
RERUNS = 1  # a read-only action interrupted is run again this many times


@dataclass
class Verdict:
    """What the far end shows about an interrupted change."""

    applied: bool | None  # None: it cannot tell (changed since by someone else, unreachable)
    detail: str  # e.g. "Kubernetes shows it applied (generation 7 → 8)"


@dataclass
class Handling:
    """How to settle one action: `check` for a change, `rerun` for a read-only action."""

    kind: str  # diagnostic | remediation
    check: Callable[[ActionRequest], Verdict] | None
    rerun: Callable[[ActionRequest], object] | None
    again: bool = False  # a *Run again* button asks for the same change afresh


def sweep(rt: Runtime, handling: Callable[[str], Handling | None]) -> int:
    """Settle every abandoned run; returns how many this process settled."""
    with rt.db.read() as s:
        ids = runs.abandoned(s, rt.now())
    done = 0
    for request_id in ids:
        try:
            done += settle(rt, request_id, handling)
        except Exception:
            log.exception("settling interrupted request #%s failed; will look again", request_id)
    return done


def settle(rt: Runtime, request_id: int, handling: Callable[[str], Handling | None]) -> bool:
    now = rt.now()
    try:
        with rt.db.session() as s:
            req = s.get(ActionRequest, request_id, populate_existing=True)
            if req is None or req.state not in ("running", "approved"):
                return False
            how = handling(req.action)
            if req.state == "approved":  # approved, never started: start it now or say so
                s.expunge(req)
                plan = "start"
            else:
                plan = ""
        if plan == "start":
            return _never_started(rt, req, how)
        with rt.db.session() as s:
            req = s.get(ActionRequest, request_id, populate_existing=True)
            if req is None or req.state != "running":
                return False
            earlier = runs.runs_of(s, request_id)
            tried = sum(r.purpose == "run" for r in earlier) or 1
            if how is not None and how.check is None and how.rerun and tried <= RERUNS:
                if runs.take_over(s, request_id, None, now) is None:
                    return False
                service.interrupted(s, req, now, "the process restarted; it runs again, once")
                if not service.requeue(s, req):
                    raise _Lost
                plan = "rerun"
            else:
                if runs.take_over(s, request_id, "check", now) is None:
                    return False
                why = "the process restarted while it ran"
                service.interrupted(s, req, now, why)
                plan = "check" if how is not None and how.check else "give_up"
            s.expunge(req)
    except (IntegrityError, _Lost):
        return False  # another process took it first
    kind = how.kind if how else "diagnostic"
    if plan == "rerun":
        assert how is not None and how.rerun is not None
        _tell(
            rt,
            req,
            f":arrows_counterclockwise: The process restarted while `{req.action}` "
            "was running; it is read-only, so it runs again now (once).",
        )
        how.rerun(req)
        return True
    with runs.Heartbeat(rt, request_id):
        if plan == "check":
            assert how is not None and how.check is not None
            try:
                verdict = how.check(req)
            except UserError as e:
                verdict = Verdict(None, f"Warroom could not look: {e}")
        else:
            verdict = Verdict(None, f"it was interrupted {tried} time(s) and is not run again")
        summary, text = _words(req, verdict)
        _tell(rt, req, text, how is not None and how.again and verdict.applied is False)
        rt.metrics.actions.labels(req.action, "interrupted").inc()
        with rt.db.session() as s:
            done = service.finish(s, request_id, verdict.applied is True, summary, rt.now())
    flows.safe_show(rt, done, kind)
    return True


def _never_started(rt: Runtime, req: ActionRequest, how: Handling | None) -> bool:
    """Approved, but its process died before the run began: a read-only action runs now; a
    change is not applied this late unasked: it ends failed, saying nothing was changed."""
    if how is not None and how.check is None and how.rerun is not None:
        _tell(
            rt,
            req,
            f":arrows_counterclockwise: The process restarted before `{req.action}` "
            "began; it is read-only, so it runs now.",
        )
        how.rerun(req)
        return True
    now = rt.now()
    with rt.db.session() as s:
        started = service.start(s, req.id, now)
        if started is None:
            return False
        service.interrupted(s, started, now, "the process restarted before it began")
    verdict = Verdict(False, "it had not begun")
    summary, text = _words(req, verdict)
    _tell(rt, req, text, how is not None and how.again)
    with rt.db.session() as s:
        done = service.finish(s, req.id, False, summary, rt.now())
    flows.safe_show(rt, done, how.kind if how else "remediation")
    return True


class _Lost(Exception):
    """Another process settled the request first."""


def _words(req: ActionRequest, v: Verdict) -> tuple[str, str]:
    """(summary for the record, message for the thread)."""
    head = f"the process restarted while the `{req.action}` was running; {v.detail}"
    if v.applied is True:
        return (
            f"{head}. Recorded as done; not applied again.",
            f":information_source: {head[0].upper()}{head[1:]}. It was applied; Warroom "
            "recorded it as done and does not apply it again.",
        )
    if v.applied is False:
        return (
            f"{head}: it was not applied. Nothing was changed.",
            f":warning: {head[0].upper()}{head[1:]}: it was not applied. Nothing was changed; "
            "press *Run again* (or type the same command) to ask for it afresh: a new preview "
            "and approval.",
        )
    return (
        f"{head}. Whether it was applied is not known.",
        f":warning: {head[0].upper()}{head[1:]}, so Warroom cannot tell whether it was applied "
        "and does not apply it again. Look at the target before asking again.",
    )


def _tell(rt: Runtime, req: ActionRequest, text: str, again: bool = False) -> None:
    assert req.channel_id
    text = escape(redact(text))
    blocks = (
        [section(text), actions(f"again_{req.id}", button("Run again", "run_again", str(req.id)))]
        if again
        else None
    )
    try:
        rt.chat.post(req.channel_id, text, blocks, thread_ts=req.message_ts)
    except ChatError as e:
        log.warning("could not post the outcome of interrupted request #%s: %s", req.id, e)
