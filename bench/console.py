"""Benchmark: the web console under a large history.

Seeds 10,000 incidents and one open incident with 10,000 timeline events, signs in through the
Slack stand-in's OpenID Connect, then prints:
  - the incident list's time to first byte (first page, a severity filter, page 50, a text
    search), p50/p95 over many requests (target: p95 <= 100 ms on PostgreSQL);
  - the 10,000-event incident page, whole response (target <= 300 ms; it shows the newest 200);
  - a live timeline entry: from sending `/incident note` through the signed Slack wire to the
    entry arriving on the page's event stream (target <= 1 s).
Not a test; figures depend on the machine.

    .venv/bin/python bench/console.py                     # PostgreSQL
    .venv/bin/python bench/console.py --db sqlite --requests 100
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).parent))

from common import database, machine, pct

from bot.config import Policy, Settings
from bot.models import Incident, TimelineEvent
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver
from standins.slack.openid import CLIENT_ID, CLIENT_SECRET

PG_ADMIN = os.environ.get(
    "WARROOM_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET, TOKEN = "bench-signing-secret", "xoxb-bench"
SEVERITIES, STATUSES = ["P0", "P1", "P2", "P3"], ["investigating", "monitoring", "resolved"]


def seed_incidents(rt, n: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        at = start + timedelta(minutes=47 * i)
        status = STATUSES[i % 3] if i % 10 else "resolved"
        rows.append(
            {
                "day": at.date(),
                "seq": 100 + i,  # declared ones use 1, 2, …
                "title": f"{['Checkout', 'Search', 'Payments', 'Login'][i % 4]} incident {i}",
                "slug": "bench",
                "severity": SEVERITIES[i % 4],
                "status": status,
                "impact": "bench",
                "team_id": "T0WARROOM",
                "reporter_id": "U0ALICE",
                "lead_id": "U0BOB",
                "declared_at": at,
                "acknowledged_at": at + timedelta(minutes=5 + i % 30),
                "resolved_at": at + timedelta(hours=2) if status == "resolved" else None,
                "channel_id": f"CB{i:08d}",
                "channel_name": f"incident-bench-{i}",
            }
        )
    with rt.db.session() as s:
        for i in range(0, n, 2000):
            s.execute(insert(Incident), rows[i : i + 2000])


def seed_events(rt, incident_id: int, n: int) -> None:
    start = datetime.now(UTC) - timedelta(hours=5)
    rows = [
        {
            "incident_id": incident_id,
            "at": start + timedelta(seconds=i),
            "recorded_at": start + timedelta(seconds=i),
            "kind": "note",
            "actor_id": ["U0ALICE", "U0BOB", "U0CAROL"][i % 3],
            "text": f"Bench note {i}",
            "data": {},
        }
        for i in range(n)
    ]
    with rt.db.session() as s:
        for i in range(0, n, 5000):
            s.execute(insert(TimelineEvent), rows[i : i + 5000])


def sign_in(standin: SlackStandIn, url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    standin.openid.auto_approve_as = "U0ALICE"
    authorize = client.get("/login").headers["location"]
    back = httpx.get(authorize).headers["location"]
    r = client.get(urlsplit(back).path + "?" + urlsplit(back).query)
    assert r.status_code == 303, r.text
    return client


def first_byte(client: httpx.Client, path: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with client.stream("GET", path) as r:
            chunks = r.iter_raw()
            next(chunks)
            out.append(time.perf_counter() - t0)
            assert r.status_code == 200, path
            for _ in chunks:
                pass
    return out


def whole(client: httpx.Client, path: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200, path
    return out


def live(client, driver, inc_id: int, room: str, last: int, runs: int) -> list[float]:
    arrivals: dict[str, float] = {}
    ready = threading.Event()

    def read() -> None:
        with client.stream("GET", f"/incidents/{inc_id}/live", params={"after": last}) as r:
            ready.set()
            for line in r.iter_lines():
                if line.startswith("data: ") and "live probe" in line:
                    arrivals[line.split("live probe ")[1].split('"')[0]] = time.perf_counter()
                    if len(arrivals) == runs:
                        return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready.wait(10)
    took = []
    for i in range(runs):
        t0 = time.perf_counter()
        driver.command(f"note live probe {i}", user="U0BOB", channel=room)
        deadline = time.perf_counter() + 10
        while str(i) not in arrivals and time.perf_counter() < deadline:
            time.sleep(0.005)
        took.append(arrivals.get(str(i), float("inf")) - t0)
        time.sleep(0.1)
    return took


def line(label: str, values: list[float], target_ms: float) -> None:
    p50, p95 = pct(values, 50) * 1000, pct(values, 95) * 1000
    verdict = "meets" if p95 <= target_ms else "MISSES"
    print(
        f"  {label:<44} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
        f"(n={len(values)}, target p95 <= {target_ms:g} ms: {verdict})"
    )


def bench(kind: str, n_incidents: int, n_events: int, runs: int) -> None:
    with database(kind, PG_ADMIN) as url, SlackStandIn(token=TOKEN) as standin:
        settings = Settings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=standin.api_url,
            database_url=url,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
        )
        rt = build_runtime(settings, Policy())
        server = BackgroundServer(build_asgi(build_app(rt, SECRET, TOKEN), rt)).start()
        driver = SlackDriver(server.url + "/slack/events", SECRET, standin)
        driver.forward_events_to_bot()
        try:
            driver.command("declare P1 Checkout API returns 500s", "U0ALICE", "C0GENERAL")
            rt.wait_idle(30)
            with rt.db.read() as s:
                inc = s.scalars(select(Incident)).one()
            t0 = time.perf_counter()
            seed_incidents(rt, n_incidents)
            seed_events(rt, inc.id, n_events)
            print(
                f"{kind}: seeded {n_incidents} incidents and {n_events} events "
                f"in {time.perf_counter() - t0:.1f} s"
            )
            with rt.db.read() as s:
                last = max(s.scalars(select(TimelineEvent.id)))
            client = sign_in(standin, server.url)
            whole(client, "/", 5)  # warm up: names, templates, connections
            line("list, first page: first byte", first_byte(client, "/", runs), 100)
            line("list, severity P1: first byte", first_byte(client, "/?severity=P1", runs), 100)
            line("list, page 50: first byte", first_byte(client, "/?page=50", runs), 100)
            line("list, text 'checkout': first byte", first_byte(client, "/?q=checkout", runs), 100)
            page_runs = max(10, runs // 4)
            whole(client, f"/incidents/{inc.id}", 2)
            line(
                f"incident page, {n_events} events: whole page",
                whole(client, f"/incidents/{inc.id}", page_runs),
                300,
            )
            line(
                "live entry after the Slack command",
                live(client, driver, inc.id, inc.channel_id, last, 20),
                1000,
            )
            client.close()
        finally:
            server.stop()
            rt.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    print(f"Console benchmark — {machine()}")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        bench(kind, args.incidents, args.events, args.requests)


if __name__ == "__main__":
    main()
