"""Sending the page outbox: claim due rows, call the product, record its answer.

Runs after the acknowledgement (kicked on commit) and from a small loop for retries. A row is
claimed by a guarded UPDATE (and SKIP LOCKED on PostgreSQL), so each is sent by one worker; a
claim whose process died lapses after the lease. Rows of one dedup key go out in order.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from bot import mrkdwn
from bot.chat import ChatError
from bot.incident import timeline
from bot.models import Incident
from bot.paging.base import OnCall, PageError
from bot.paging.jsm import JiraServiceManagement
from bot.paging.models import Page
from bot.paging.pagerduty import PagerDuty
from bot.paging.policy import PagingPolicy, escalation_problems
from bot.paging.service import PRODUCTS
from bot.redact import redact
from bot.runtime import Runtime

log = logging.getLogger(__name__)
ADAPTERS = {"pagerduty": PagerDuty, "jsm": JiraServiceManagement}
WORKER = f"{socket.gethostname()[:30]}:{os.getpid()}"


def adapter_for(policy: PagingPolicy, target: str) -> OnCall:
    conf = policy.targets[target]
    key = conf.key()
    if not key:
        raise PageError(f"no key: environment variable {conf.key_env} is not set", retry=False)
    return ADAPTERS[conf.provider](conf.endpoint, key, policy.timeout_seconds)  # type: ignore[attr-defined]


def _lease(policy: PagingPolicy) -> timedelta:
    return timedelta(seconds=policy.timeout_seconds * 2 + 30)


def claim_due(rt: Runtime, claim: str, limit: int = 20) -> list[int]:
    now = rt.now()
    earlier = aliased(Page)
    # An acknowledge or resolve waits for the trigger before it: never out of order at the far end.
    blocked = exists().where(
        earlier.dedup_key == Page.dedup_key,
        earlier.id < Page.id,
        earlier.state.in_(("pending", "sending")),
    )
    due = and_(
        or_(
            (Page.state == "pending") & (Page.next_attempt_at <= now),
            (Page.state == "sending") & (Page.claim_until < now),
        ),
        ~blocked,
    )
    pick = select(Page.id).where(due).order_by(Page.id).limit(limit)
    if not rt.db.is_sqlite:
        pick = pick.with_for_update(skip_locked=True, of=Page)
    with rt.db.session() as s:
        ids = list(s.scalars(pick))
        if not ids:
            return []
        rows = s.execute(
            update(Page)
            .where(Page.id.in_(ids), due)
            .values(state="sending", claimed_by=claim, claim_until=now + _lease(rt.policy.paging))
            .returning(Page.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(r[0] for r in rows)


def deliver_due(rt: Runtime) -> int:
    """Send everything due now; returns how many rows were handled."""
    claim = f"{WORKER}:{uuid.uuid4().hex[:8]}"
    total = 0
    while ids := claim_due(rt, claim):
        for page_id in ids:
            _deliver(rt, page_id, claim)
        total += len(ids)
    return total


def _deliver(rt: Runtime, page_id: int, claim: str) -> None:
    policy = rt.policy.paging
    with rt.db.read() as s:
        p = s.get(Page, page_id)
        trigger_failed = (
            p is not None
            and p.action != "trigger"
            and s.scalar(
                select(Page.id).where(
                    Page.dedup_key == p.dedup_key, Page.action == "trigger", Page.state != "sent"
                )
            )
        )
    if p is None:
        return
    if trigger_failed:
        _finish(rt, p, claim, state="skipped", error="the page itself was never delivered")
        return
    try:
        oncall = adapter_for(policy, p.target)
        if p.action == "trigger":
            details = {"incident": p.dedup_key, "service": p.target}
            answer = oncall.trigger(p.dedup_key, p.summary, p.severity, details)  # type: ignore[arg-type]
        elif p.action == "acknowledge":
            answer = oncall.acknowledge(p.dedup_key)
        else:
            answer = oncall.resolve(p.dedup_key)
    except PageError as e:
        _failed(rt, p, claim, e, policy)
        return
    except KeyError:
        _failed(rt, p, claim, PageError(f"{p.target} is no longer in the policy", False), policy)
        return
    _finish(rt, p, claim, state="sent", answer=answer)


def _failed(rt: Runtime, p: Page, claim: str, e: PageError, policy: PagingPolicy) -> None:
    reason = redact(str(e))
    attempts = p.attempts + 1
    if e.retry and attempts < policy.max_attempts:
        wait = e.retry_after
        if wait is None:
            wait = min(policy.backoff_seconds * 2 ** (attempts - 1), policy.backoff_max_seconds)
        log.warning(
            "page %s (%s %s) attempt %d failed, retrying in %.1fs: %s",
            p.id,
            p.action,
            p.target,
            attempts,
            wait,
            reason,
        )
        with rt.db.session() as s:
            s.execute(
                update(Page)
                .where(Page.id == p.id, Page.state == "sending", Page.claimed_by == claim)
                .values(
                    state="pending",
                    attempts=attempts,
                    last_error=reason,
                    next_attempt_at=rt.now() + timedelta(seconds=wait),
                    claimed_by=None,
                    claim_until=None,
                )
            )
        return
    if e.retry:
        reason = f"{reason}; gave up after {attempts} attempts"
    _finish(rt, p, claim, state="failed", error=reason, attempts=attempts)


def _finish(
    rt: Runtime,
    p: Page,
    claim: str,
    *,
    state: str,
    answer: str | None = None,
    error: str | None = None,
    attempts: int | None = None,
) -> None:
    now = rt.now()
    product = PRODUCTS.get(p.provider, p.provider)
    with rt.db.session() as s:
        done = s.execute(
            update(Page)
            .where(Page.id == p.id, Page.state == "sending", Page.claimed_by == claim)
            .values(
                state=state,
                attempts=attempts if attempts is not None else p.attempts + 1,
                answer=answer,
                last_error=error,
                sent_at=now if state == "sent" else None,
                claimed_by=None,
                claim_until=None,
            )
        ).rowcount
        if not done:
            return  # our claim lapsed and another worker has it
        if state == "sent":
            text = f"{product} took the {_what(p)} for {p.target}: {answer}"
        else:
            text = f"{product} did not take the {_what(p)} for {p.target}: {error}"
        timeline.record(
            s,
            p.incident_id,
            "page_answer",
            at=now,
            actor=None,
            text=text,
            data={"page": p.id, "action": p.action, "target": p.target, "state": state},
        )
    if state == "failed":
        log.error("page %s (%s %s via %s) failed: %s", p.id, p.action, p.target, product, error)
        tell_failures(rt)


def _what(p: Page) -> str:
    return {"trigger": "page", "acknowledge": "acknowledgement", "resolve": "resolve"}[p.action]


def tell_failures(rt: Runtime) -> int:
    """Say each lasting failure once in its war room (once the room exists); how many told.

    Once per incident and target, not per retry or action: a guarded UPDATE takes the saying."""
    other = aliased(Page)
    with rt.db.read() as s:
        rows = s.execute(
            select(Page, Incident.channel_id)
            .join(Incident, Incident.id == Page.incident_id)
            .where(Page.state == "failed", Page.said.is_(False), Incident.channel_id.is_not(None))
            .order_by(Page.id)
        ).all()
    told = 0
    for p, channel in rows:
        with rt.db.session() as s:
            taken = s.execute(
                update(Page)
                .where(Page.id == p.id, Page.said.is_(False))
                .where(~exists().where(other.dedup_key == p.dedup_key, other.said.is_(True)))
                .values(said=True)
                .execution_options(synchronize_session=False)
            ).rowcount
        if not taken:
            continue
        try:
            rt.chat.post(channel, _failure_text(p))
            told += 1
        except ChatError as err:
            log.error("could not tell the war room that paging failed: %s", err)
    return told


def _failure_text(p: Page) -> str:
    product = PRODUCTS.get(p.provider, p.provider)
    return (
        f":rotating_light: *Paging {mrkdwn.escape(p.target)} failed.* {product} did not take "
        f"the {_what(p)}: {mrkdwn.escape(p.last_error or 'no reason given')}. "
        + (
            "Nobody was paged through it for this incident: reach the on-call another way, "
            "and ask your Warroom admins to fix the paging setup."
            if p.action == "trigger"
            else "The page may still be open there: close it by hand."
        )
    )


def kick(rt: Runtime) -> None:
    """Send what is due now, off the request's thread."""
    rt.submit(deliver_due, rt)


class PageRunner:
    """Retries: every `tick_seconds`, send whatever has come due (one loop per process)."""

    def __init__(self, rt: Runtime, tick_seconds: float = 1.0) -> None:
        self.rt = rt
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        try:
            n = deliver_due(self.rt)
            tell_failures(self.rt)  # failures from before their war room was ready
            return n
        except Exception:
            log.exception("sending pages failed; will retry next tick")
            return 0

    def start(self) -> PageRunner:
        problems = self.rt.policy.paging.missing_keys() + escalation_problems(self.rt.policy)
        for problem in problems:
            log.error("paging is not ready: %s", problem)  # said at start, not at the first page
        self._thread = threading.Thread(target=self._loop, name="pages", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.tick()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def next_due(rt: Runtime) -> datetime | None:
    with rt.db.read() as s:
        return s.scalar(
            select(Page.next_attempt_at)
            .where(Page.state == "pending")
            .order_by(Page.next_attempt_at)
        )
