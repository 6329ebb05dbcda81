"""War-room setup leases held by this process, renewed while their setup runs.

A setup holds its incident for `lease`, renewed every `renew` by a thread of this process, so a
setup waiting out Slack's rate limits keeps it for as long as it runs, and one whose process died
is free again within `lease` (not the longest a setup may take). `lapsed` lists those.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.models import Incident
from bot.runtime import Runtime

log = logging.getLogger(__name__)


class SetupLeases:
    def __init__(self, lease: timedelta, renew: timedelta) -> None:
        self.lease = lease
        self.renew = renew
        self._held: dict[int, tuple[Runtime, set[int]]] = {}  # id(rt) -> (rt, incident ids)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    @contextmanager
    def held(self, rt: Runtime, incident_id: int) -> Iterator[None]:
        """While the block runs, this process renews the incident's setup lease."""
        with self._lock:
            self._held.setdefault(id(rt), (rt, set()))[1].add(incident_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="setup-leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                ids = self._held[id(rt)][1]
                ids.discard(incident_id)
                if not ids:
                    del self._held[id(rt)]

    def _run(self) -> None:
        while True:
            with self._lock:
                self._wake.wait(self.renew.total_seconds())
                if not self._held:
                    self._thread = None
                    return
                held = [(rt, sorted(ids)) for rt, ids in self._held.values()]
            for rt, ids in held:
                try:
                    self._extend(rt, ids)
                except Exception:  # the database is away: the next round tries again
                    log.exception("renewing the setup leases of incidents %s failed", ids)

    def _extend(self, rt: Runtime, ids: list[int]) -> None:
        now = rt.now()
        with rt.db.session() as s:
            s.execute(
                update(Incident)
                # Not a finished setup's (it cleared its lease), nor one that already lapsed:
                # another process may have taken that over.
                .where(Incident.id.in_(ids), Incident.setup_claim_until > now)
                .values(setup_claim_until=now + self.lease)
                .execution_options(synchronize_session=False)
            )


def lapsed(rt: Runtime, now: datetime) -> list[int]:
    """Unfinished setups whose lease lapsed: their process died (failed setups hold none)."""
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(Incident.id).where(
                    Incident.ready_at.is_(None) | Incident.alert_pinned.is_(False),
                    Incident.setup_claim_until < now,
                )
            )
        )
