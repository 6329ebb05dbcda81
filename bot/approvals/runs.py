"""Leases on runs of approved actions: begin, renew while running, end; find the ones whose
process died (an open run whose lease lapsed) and take one over, once."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.approvals.models import ActionRun
from bot.models import ActionRequest
from bot.runtime import Runtime

LEASE = timedelta(seconds=15)
# An approved request starts within moments; one still waiting after this lost its process.
NEVER_STARTED = timedelta(seconds=60)
BEAT_SECONDS = 5.0  # renewals per lease: three, so one slow database round trip is no loss
# This process: host, pid and a boot id (a restarted container may have the same pid).
WORKER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def begin(
    s: Session, request_id: int, purpose: str, worker: str, now: datetime, lease: timedelta
) -> ActionRun:
    last = s.scalar(select(func.max(ActionRun.attempt)).where(ActionRun.request_id == request_id))
    run = ActionRun(
        request_id=request_id,
        attempt=(last or 0) + 1,
        purpose=purpose,
        worker=worker,
        started_at=now,
        lease_until=now + lease,
    )
    s.add(run)
    s.flush()  # the unique (request, attempt) refuses a second taker here
    return run


def end(s: Session, request_id: int, outcome: str, now: datetime) -> None:
    s.execute(
        update(ActionRun)
        .where(ActionRun.request_id == request_id, ActionRun.ended_at.is_(None))
        .values(ended_at=now, outcome=outcome)
        .execution_options(synchronize_session=False)
    )


def abandoned(s: Session, now: datetime, grace: timedelta = LEASE) -> list[int]:
    """Requests whose run died with its process: `running` with its lease lapsed, or (started
    before runs were leased) with no run at all, started longer than a lease ago; or approved
    longer than NEVER_STARTED ago and never started (the process died before it began)."""
    open_runs = select(ActionRun.request_id).where(ActionRun.ended_at.is_(None))
    lapsed = open_runs.where(ActionRun.lease_until < now)
    alive = open_runs.where(ActionRun.lease_until >= now)
    q = select(ActionRequest.id).where(
        ActionRequest.state == "running",
        ActionRequest.id.notin_(alive),
        (ActionRequest.id.in_(lapsed))
        | (
            ActionRequest.id.notin_(select(ActionRun.request_id))
            & (ActionRequest.started_at < now - grace)
        ),
    )
    # Approved and not started for a while: no run at all, or (put back to run again after an
    # interruption) every run ended longer ago than that.
    recent = select(ActionRun.id).where(
        ActionRun.request_id == ActionRequest.id,
        ActionRun.ended_at.is_(None) | (ActionRun.ended_at >= now - NEVER_STARTED),
    )
    ran = select(ActionRun.id).where(ActionRun.request_id == ActionRequest.id)
    stuck = select(ActionRequest.id).where(
        ActionRequest.state == "approved",
        (ActionRequest.decided_at < now - NEVER_STARTED) | ran.exists(),
        ~recent.exists(),
    )
    return sorted({*s.scalars(q), *s.scalars(stuck)})


def take_over(
    s: Session, request_id: int, purpose: str | None, now: datetime, lease: timedelta = LEASE
) -> ActionRun | bool | None:
    """End the dead run as `interrupted` and, with a `purpose`, begin ours, in the caller's
    transaction. None if another process took it first (its update won, or its attempt number
    is already there); True when it was ended and no purpose was given."""
    dead = s.scalars(
        select(ActionRun).where(ActionRun.request_id == request_id, ActionRun.ended_at.is_(None))
    ).all()
    for run in dead:
        res = s.execute(
            update(ActionRun)
            .where(
                ActionRun.id == run.id, ActionRun.ended_at.is_(None), ActionRun.lease_until < now
            )
            .values(ended_at=now, outcome="interrupted")
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return None
    if purpose is None:
        return True
    # Two takers of a run-less (older) request: the unique attempt number refuses the second
    # with an IntegrityError, which ends its transaction.
    return begin(s, request_id, purpose, WORKER, now, lease)


def runs_of(s: Session, request_id: int) -> list[ActionRun]:
    q = select(ActionRun).where(ActionRun.request_id == request_id).order_by(ActionRun.attempt)
    return list(s.scalars(q))


class Heartbeat:
    """Renews the lease of a request's open run while the work goes on, from a thread of its
    own: a run that outlives its lease would look dead to the other processes."""

    def __init__(self, rt: Runtime, request_id: int) -> None:
        self.rt, self.request_id = rt, request_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="action-lease", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(BEAT_SECONDS):
            try:
                with self.rt.db.session() as s:
                    s.execute(
                        update(ActionRun)
                        .where(
                            ActionRun.request_id == self.request_id,
                            ActionRun.ended_at.is_(None),
                            ActionRun.worker == WORKER,
                        )
                        .values(lease_until=self.rt.now() + LEASE)
                        .execution_options(synchronize_session=False)
                    )
            except Exception:  # the database is away: the next beat tries again
                continue

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
