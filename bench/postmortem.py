"""Benchmark: compiling a post-mortem for incidents with many timeline events.

Prints, for SQLite and PostgreSQL, the time to load and render (and store) the post-mortem
of an incident with N events, and the peak Python memory of one compilation (tracemalloc),
for several N so the growth can be read off. Not a test; figures depend on the machine.

    .venv/bin/python bench/postmortem.py                # 1k, 5k, 10k, 20k events
    .venv/bin/python bench/postmortem.py --sizes 10000 --runs 5 --db sqlite
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).parent))

from common import machine

from bot.config import Policy
from bot.db import Database
from bot.migrate import upgrade
from bot.models import Incident, Postmortem, TimelineEvent
from bot.postmortem import compile as pm_compile
from bot.postmortem import service

PG_ADMIN = os.environ.get(
    "WARROOM_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
KINDS = ["note", "status", "update", "pinned", "pushpin", "role", "reminder", "action_approved"]


def seed(db: Database, n: int) -> int:
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    with db.session() as s:
        inc = Incident(
            day=start.date(),
            seq=n,
            title=f"Bench incident with {n} events",
            slug="bench",
            severity="P1",
            status="resolved",
            impact="bench",
            reporter_id="U0ALICE",
            lead_id="U0BOB",
            declared_at=start,
            acknowledged_at=start + timedelta(minutes=5),
            mitigated_at=start + timedelta(hours=1),
            resolved_at=start + timedelta(hours=2),
            channel_name="incident-bench",
        )
        s.add(inc)
        s.flush()
        rows = []
        for i in range(n):
            kind = KINDS[i % len(KINDS)]
            data = (
                {"permalink": f"https://example.slack.com/archives/C1/p{i}"}
                if kind in ("pinned", "pushpin")
                else {}
            )
            at = start + timedelta(seconds=i * 0.7)
            rows.append(
                {
                    "incident_id": inc.id,
                    "at": at,
                    "recorded_at": at,
                    "kind": kind,
                    "actor_id": f"U0USER{i % 40:02d}",
                    "text": f"event {i}: something "
                    "happened in the checkout service and someone wrote it down",
                    "data": data,
                }
            )
        for i in range(0, n, 5000):
            s.execute(insert(TimelineEvent), rows[i : i + 5000])
        return inc.id


def compile_once(db: Database, policy: Policy, incident_id: int) -> tuple[float, str]:
    t0 = time.perf_counter()
    with db.session() as s:
        inc = s.get(Incident, incident_id)
        data = pm_compile.load(s, inc)
    md = pm_compile.render(inc, data, policy, datetime.now(UTC), lambda u: f"@{u}", "U0WARROOM")
    with db.session() as s:
        service.store(s, s.get(Incident, incident_id), md, "U0ALICE", datetime.now(UTC))
    return time.perf_counter() - t0, md


def bench(label: str, url: str, sizes: list[int], runs: int) -> None:
    upgrade(url)
    db = Database(url)
    policy = Policy()
    print(f"\n{label}")
    print(
        f"{'events':>8} {'best ms':>9} {'median ms':>10} {'max ms':>8} {'peak MiB':>9} "
        f"{'bytes of Markdown':>18}"
    )
    for n in sizes:
        iid = seed(db, n)
        compile_once(db, policy, iid)  # warm caches and the template
        times = [compile_once(db, policy, iid)[0] for _ in range(runs)]
        tracemalloc.start()
        _, md = compile_once(db, policy, iid)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"{n:>8} {min(times) * 1000:>9.1f} {statistics.median(times) * 1000:>10.1f} "
            f"{max(times) * 1000:>8.1f} {peak / 2**20:>9.1f} {len(md):>18}"
        )
        with db.session() as s:
            s.get(Postmortem, iid)
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000,10000,20000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    print(f"Post-mortem compilation (load + render + store), {a.runs} runs each")
    print(f"Machine: {machine()}")
    if a.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as d:
            bench("SQLite (file, WAL)", f"sqlite:///{d}/pm.db", sizes, a.runs)
    if a.db in ("postgresql", "both"):
        name = f"warroom_bench_pm_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench("PostgreSQL 127.0.0.1", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", sizes, a.runs)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
