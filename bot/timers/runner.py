"""The timer loop: claim what is due in the database, fire it on the effects pool.

APScheduler only drives the tick; it keeps no jobs of its own. Every process may run the loop:
a timer is fired by whichever process flips it to `firing` first, and a claim that its process
died holding lapses after the lease, so another process takes over within LEASE.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import or_, select, update

from bot.incident import flows
from bot.models import Timer
from bot.runtime import Runtime
from bot.timers.fire import fire_batch

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)
SETUP_RESUME_SECONDS = 10.0
CHUNK = 16  # timers fired together: one read and one finishing transaction between them


def claim_due(rt: Runtime, worker: str, limit: int) -> list[int]:
    """Atomically take up to `limit` due timers (and ones whose claim lapsed)."""
    return list(claim(rt, worker, limit))


def claim(rt: Runtime, worker: str, limit: int) -> dict[int, bool]:
    """`claim_due`, telling for each timer taken whether it was taken over from a lapsed claim
    (True): its process may have posted before it died, so Slack is asked before posting."""
    now = rt.now()
    due = or_(
        (Timer.state == "pending") & (Timer.due_at <= now),
        (Timer.state == "firing") & (Timer.claim_until < now),
    )
    pick = select(Timer.id, Timer.state).where(due).order_by(Timer.due_at).limit(limit)
    if not rt.db.is_sqlite:
        # Locked rows are skipped, so replicas take different timers. A separate SELECT, not
        # an IN (subquery): PostgreSQL may re-run such a subquery and exceed the limit.
        pick = pick.with_for_update(skip_locked=True)
    with rt.db.session() as s:
        lapsed = {i: state == "firing" for i, state in s.execute(pick)}
        if not lapsed:
            return {}
        # `due` again: a row another transaction claimed meanwhile is re-checked, not taken.
        rows = s.execute(
            update(Timer)
            .where(Timer.id.in_(lapsed), due)
            .values(state="firing", claimed_by=worker, claim_until=now + LEASE)
            .returning(Timer.id)
            .execution_options(synchronize_session=False)
        )
        return {r[0]: lapsed[r[0]] for r in rows}


class TimerRunner:
    def __init__(
        self, rt: Runtime, tick_seconds: float = 0.5, batch: int = 500, max_in_flight: int = 256
    ) -> None:
        self.rt = rt
        self.worker = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.tick_seconds = tick_seconds
        self.batch = batch
        # Claim no more than can be fired well within the lease: an overloaded replica must
        # leave the rest to others instead of hoarding claims that lapse and get fired twice.
        self.max_in_flight = max_in_flight
        self._in_flight = 0
        self._ticks = 0
        self._lock = threading.Lock()
        self.scheduler: BackgroundScheduler | None = None

    def tick(self) -> int:
        """One pass: claim what is due and hand it to the effects pool. Returns how many.

        A claim that fills the room is followed by another at once (in-flight fires permitting),
        so the rate is not capped at one room per tick."""
        total = 0
        while True:
            n, room = self._claim_once()
            total += n
            if n == 0 or n < room:
                return total

    def _claim_once(self) -> tuple[int, int]:
        with self._lock:
            room = min(self.batch, self.max_in_flight - self._in_flight)
            self._ticks += 1
            # A claim id per pass: a job whose claim lapsed and was taken again (even by this
            # process) no longer matches and stands down, so one due time posts once.
            claim_id = f"{self.worker}#{self._ticks}"
        if room <= 0:
            return 0, room
        try:
            taken = claim(self.rt, claim_id, room)
        except Exception:
            log.exception("claiming due timers failed; will retry next tick")
            return 0, room
        ids = list(taken)
        recheck = {i for i, lapsed in taken.items() if lapsed}
        with self._lock:
            self._in_flight += len(ids)
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            self.rt.submit(self._fire, chunk, claim_id, recheck.intersection(chunk))
        return len(ids), room

    def _fire(self, timer_ids: list[int], claim_id: str, recheck: set[int]) -> None:
        try:
            fire_batch(self.rt, timer_ids, claim_id, recheck)
        finally:
            with self._lock:
                self._in_flight -= len(timer_ids)

    def start(self) -> TimerRunner:
        # coalesce + max_instances=1: a slow tick is never run twice at once or queued up.
        self.scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        self.scheduler.add_job(self.tick, "interval", seconds=self.tick_seconds, id="timers")
        # War rooms whose setup died with another process: resumed once their lease lapses.
        self.scheduler.add_job(
            self._resume_setups, "interval", seconds=SETUP_RESUME_SECONDS, id="setups"
        )
        self.scheduler.start()
        return self

    def _resume_setups(self) -> None:
        try:
            flows.resume_lapsed(self.rt)
        except Exception:
            log.exception("looking for war-room setups to resume failed; will retry")

    def stop(self) -> None:
        """Stop claiming; timers already handed to the effects pool still finish."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None

    def release_claims(self) -> int:
        """At shutdown, after the effects pool drained: hand back anything still claimed, so
        another replica fires it now instead of after the lease."""
        with self.rt.db.session() as s:
            res = s.execute(
                update(Timer)
                .where(Timer.state == "firing", Timer.claimed_by.startswith(self.worker + "#"))
                .values(state="pending", claimed_by=None, claim_until=None)
                .execution_options(synchronize_session=False)
            )
            return res.rowcount  # type: ignore[attr-defined]
