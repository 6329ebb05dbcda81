"""How fast the page outbox drains against the PagerDuty stand-in, and that each page lands once.

    python bench/paging_outbox.py [--pages 1000] [--workers 4] [--db sqlite|postgresql]

Prints how fast a queued backlog drains (pages/s) and what the far end counted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text

from bot.config import Policy, Settings
from bot.db import Database
from bot.migrate import upgrade
from bot.models import Incident
from bot.paging import service
from bot.paging.models import Page
from bot.paging.outbox import deliver_due
from bot.paging.policy import PagingPolicy, PagingTarget
from bot.runtime import Runtime
from standins.pagerduty.api import PagerDutyStandIn

KEY = "BENCHKEYBENCHKEYBENCHKEYBENCHK32"
PG_ADMIN = os.environ.get(
    "WARROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class Now:
    def now(self) -> datetime:
        return datetime.now(UTC)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    a = ap.parse_args()
    pg_name = None
    if a.db == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    else:
        pg_name = f"warroom_bench_{uuid.uuid4().hex[:8]}"
        with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    upgrade(url)
    pd = PagerDutyStandIn({KEY}).start()
    os.environ["BENCH_PD_KEY"] = KEY
    target = PagingTarget(provider="pagerduty", key_env="BENCH_PD_KEY", url=pd.url)
    policy = Policy(paging=PagingPolicy(targets={"checkout": target}))
    db = Database(url)
    rt = Runtime(Settings(database_url=url), policy, db, None, Now(), None)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    with db.session() as s:
        for i in range(a.pages):
            inc = Incident(
                day=now.date(),
                seq=i + 1,
                title=f"Incident {i}",
                severity="P1",
                reporter_id="U0BENCH",
                declared_at=now,
            )
            s.add(inc)
            s.flush()
            service.page(s, policy.paging, inc, "checkout", inc.title, "U0BENCH", now)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=deliver_due, args=(rt,)) for _ in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    with db.read() as s:
        rows = s.execute(select(Page.state)).all()
    sent = sum(r.state == "sent" for r in rows)
    print(f"db={a.db} pages={a.pages} workers={a.workers}")
    print(f"drained in {took:.2f} s: {a.pages / took:.0f} pages/s; sent={sent}")
    calls = len(pd.calls("/v2/enqueue"))
    print(
        f"PagerDuty stand-in: {calls} calls, {len(pd.alerts)} alerts, "
        f"max triggers per alert {max(x.triggers for x in pd.alerts)}"
    )
    pd.stop()
    db.dispose()
    if pg_name:
        with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
