"""After the ack: post the request, run it once when approved, post the result in its thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace

from bot.approvals import messages, runs, service
from bot.approvals.output import Output
from bot.chat import ChatError
from bot.errors import UserError
from bot.messages import actions, button, section
from bot.models import ActionRequest
from bot.mrkdwn import escape
from bot.redact import redact
from bot.runtime import Runtime

log = logging.getLogger(__name__)
INLINE_CHARS = 2800  # under a section's 3,000 with the fences
INLINE_LINES = 40


def _load(rt: Runtime, request_id: int) -> ActionRequest:
    with rt.db.read() as s:
        req = s.get(ActionRequest, request_id)
        assert req is not None
        return req


def show(rt: Runtime, req: ActionRequest, kind: str) -> None:
    """Post the request message, or update it in place once it exists."""
    text, blocks = messages.request(req, kind, rt.policy.rule(req.action), rt.policy.tz)
    assert req.channel_id
    if req.message_ts:
        rt.chat.update(req.channel_id, req.message_ts, text, blocks)
        return
    ts = rt.chat.post(req.channel_id, text, blocks)
    with rt.db.session() as s:
        row = s.get(ActionRequest, req.id)
        assert row is not None
        row.message_ts = req.message_ts = ts


def execute(
    rt: Runtime, request_id: int, kind: str, run: Callable[[], Output], timeout_s: float
) -> Output | None:
    """Run an approved request exactly once; None if it was not ours to run."""
    with rt.db.session() as s:
        req = service.start(s, request_id, rt.now(), runs.WORKER, runs.LEASE)
    if req is None:
        return None
    # The run's lease is renewed until it is recorded: if this process dies first, another one
    # finds the run when the lease lapses and settles it (bot/approvals/recovery.py).
    with runs.Heartbeat(rt, request_id):
        return _execute(rt, req, kind, run, timeout_s)


def _execute(
    rt: Runtime, req: ActionRequest, kind: str, run: Callable[[], Output], timeout_s: float
) -> Output:
    request_id = req.id
    safe_show(rt, _load(rt, request_id), kind)
    t0 = time.perf_counter()
    out = _run_with_timeout(rt, run, timeout_s)
    out = replace(out, summary=redact(out.summary), text=redact(out.text))
    log.info(
        "action %s #%s %s in %.0f ms",
        req.action,
        req.id,
        "ok" if out.ok else "failed",
        (time.perf_counter() - t0) * 1000,
    )
    try:
        _post_result(rt, req, out)
    except ChatError as e:
        out = replace(out, summary=f"{out.summary} (the output could not be posted: {e.code})")
    if out.ok and out.follow is not None:
        out = _follow(rt, req, out)
    rt.metrics.actions.labels(req.action, "succeeded" if out.ok else "failed").inc()
    with rt.db.session() as s:
        done = service.finish(s, request_id, out.ok, out.summary, rt.now())
    safe_show(rt, done, kind)
    return out


def _follow(rt: Runtime, req: ActionRequest, out: Output) -> Output:
    """Watch what the change set in motion (a rollout), posting progress in the thread."""
    assert out.follow is not None and req.channel_id

    def progress(message: str) -> None:
        try:
            rt.chat.post(req.channel_id, escape(redact(message)), thread_ts=req.message_ts)
        except ChatError as e:
            log.warning("could not post progress of #%s: %s", req.id, e)

    try:
        outcome, ok = out.follow(lambda m: progress(f":arrows_counterclockwise: {m}"))
    except UserError as e:
        outcome, ok = f"could not watch the rollout: {e}", False
    icon = ":white_check_mark:" if ok else ":red_circle:"
    progress(f"{icon} Rollout: {outcome}")
    return Output(ok, f"{out.summary}; rollout: {redact(outcome)}", out.text, out.filename)


def _run_with_timeout(rt: Runtime, run: Callable[[], Output], timeout_s: float) -> Output:
    future = rt.actions.submit(run)
    try:
        return future.result(timeout=timeout_s)
    except FutureTimeout:
        return Output(False, f"timed out after {timeout_s:g} s")
    except UserError as e:
        return Output(False, str(e))
    except Exception as e:
        log.exception("action failed")
        return Output(False, f"failed unexpectedly ({e.__class__.__name__}); see the bot's logs")


def _post_result(rt: Runtime, req: ActionRequest, out: Output) -> None:
    assert req.channel_id and req.message_ts
    # Output comes from targets (kubectl-like tables print `<none>`): text, not markup.
    head = (":white_check_mark: " if out.ok else ":warning: ") + escape(out.summary)
    body = out.text.strip()
    buttons = [button(label, action_id, value) for label, action_id, value in out.buttons][:25]
    extra = [actions(f"result_{req.id}", *buttons)] if buttons else []
    if not body:
        rt.chat.post(
            req.channel_id,
            head,
            [section(head), *extra] if extra else None,
            thread_ts=req.message_ts,
        )
    elif len(body) <= INLINE_CHARS and body.count("\n") < INLINE_LINES:
        text = f"{head}\n```\n{escape(body)}\n```"
        rt.chat.post(
            req.channel_id,
            text,
            [section(text), *extra] if extra else None,
            thread_ts=req.message_ts,
        )
    else:
        rt.chat.upload(
            req.channel_id,
            out.filename,
            body,
            title=f"{req.action} #{req.id}",
            comment=head,
            thread_ts=req.message_ts,
        )


def safe_show(rt: Runtime, req: ActionRequest, kind: str) -> None:
    try:
        show(rt, req, kind)
    except ChatError as e:
        log.warning("could not update request #%s: %s", req.id, e)
