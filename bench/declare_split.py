"""Benchmark: acknowledgement latency of `/incident declare` with the bot in its own process.

`bench/declare.py` runs bot, Slack stand-in and load generator in one interpreter, which
measures their shared GIL as much as the bot. Here `warroom serve` (uvicorn, the real entry
point) runs as a child process against PostgreSQL or SQLite, and this process hosts the Slack
stand-in and an open-loop load generator: request i is sent at start + i/rate by a pool of
sender threads, and latency is counted from that scheduled time. Every declaration also opens
its war room in the bot meanwhile; afterwards the script waits for them and says how many became
ready (a figure taken while war rooms fail is a figure of the failure path). The collector of
this process is paused during the load, so the stand-in's own pauses do not count as the bot's.
Not a test; figures depend on the machine.

    .venv/bin/python bench/declare_split.py --rate 50 --duration 60 --db both
"""

from __future__ import annotations

import argparse
import gc
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import machine, pct
from sqlalchemy import create_engine, text

from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver

SECRET = "bench-secret"
PG_ADMIN = os.environ.get(
    "WARROOM_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_bot(db_url: str, slack: SlackStandIn, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-sandbox",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "REDIS_URL": "",
        "WARROOM_CONFIG": "",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--migrate"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=1):
                return proc, url
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.1)


def load(driver: SlackDriver, rate: float, duration: float, senders: int) -> tuple[list, int]:
    jobs: queue.Queue = queue.Queue()
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    run = uuid.uuid4().hex[:6]

    def sender() -> None:
        while (job := jobs.get()) is not None:
            i, scheduled = job
            try:
                r = driver.command(
                    f"declare P2 Load {run} {i}", user=f"U0LOAD{i % 50:02d}", channel="C0GENERAL"
                )
                ok = r.status == 200 and "Declared" in (r.json or {}).get("text", "")
            except Exception:
                ok = False
            with lock:
                if ok:
                    lat.append(time.perf_counter() - scheduled)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.5
    n = int(rate * duration)
    for i in range(n):
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        jobs.put((i, at))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join(timeout=60)
    return lat, errors[0]


def bench(label: str, db_url: str, a: argparse.Namespace) -> None:
    slack = SlackStandIn(token="xoxb-sandbox").start()
    # The reporters must exist in the workspace, or every war room fails at the invite.
    slack.add_user("U0WARM", "warm")
    for i in range(50):
        slack.add_user(f"U0LOAD{i:02d}", f"load{i:02d}")
    with tempfile.TemporaryDirectory() as d:
        proc, url = start_bot(db_url, slack, Path(d) / "bot.log")
        try:
            driver = SlackDriver(url + "/slack/events", SECRET, standin=slack)
            for i in range(20):  # warm up: imports, pools, auth.test
                driver.command(
                    f"declare P3 Warm {uuid.uuid4().hex[:6]} {i}",
                    user="U0WARM",
                    channel="C0GENERAL",
                )
            cpu0 = os.times()
            # The stand-in and the senders share this process: keep its own collector's pauses
            # (the stand-in's heap grows with every message) out of the measured latencies.
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                lat, errors = load(driver, a.rate, a.duration, a.senders)
            finally:
                gc.enable()
                gc.unfreeze()
            cpu1 = os.times()
            used = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / a.duration
            rooms = settle(db_url)
            ms = [x * 1000 for x in lat]
            late = sum(1 for x in lat if x > 3)
            print(
                f"{label:<15} {len(lat) + errors:>6} {errors:>6} {pct(ms, 50):>8.1f} "
                f"{pct(ms, 95):>8.1f} {pct(ms, 99):>8.1f} {max(ms):>8.1f} {late:>6}  "
                f"bench-process cpu {used:.0%}"
            )
            print(f"{'':<15} war rooms: {rooms}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            slack.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--rate",
        type=float,
        action="append",
        help="declarations per second; repeat for several rates (default 10, 25, 50)",
    )
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--senders", type=int, default=64)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    a = ap.parse_args()
    rates = a.rate or [10, 25, 50]
    print(
        f"/incident declare, bot in its own process (warroom serve), open loop for "
        f"{a.duration:g} s per rate; latency from the scheduled send to the full HTTP response"
    )
    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    print(
        f"{'db @ rate':<15} {'sent':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'> 3 s':>6}"
    )
    for rate in rates:
        a.rate = rate
        run_all(a, rate)


def settle(db_url: str, timeout: float = 120) -> str:
    """Wait for every declared war room to be ready or failed; say how many of each."""
    engine = create_engine(db_url)
    q = text("SELECT count(*), count(ready_at), count(setup_error) FROM incidents")
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as c:
                total, ready, failed = c.execute(q).one()
                reasons = c.execute(
                    text(
                        "SELECT setup_error, count(*) FROM incidents "
                        "WHERE setup_error IS NOT NULL GROUP BY setup_error"
                    )
                ).all()
            if ready + failed >= total or time.monotonic() > deadline:
                why = "; ".join(f"{n}× {r}" for r, n in reasons)
                return f"{ready}/{total} ready, {failed} failed" + (f" ({why})" if why else "")
            time.sleep(0.5)
    finally:
        engine.dispose()


def run_all(a: argparse.Namespace, rate: float) -> None:
    if a.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as d:
            bench(f"sqlite @{rate:g}/s", f"sqlite:///{d}/w.db", a)
    if a.db in ("postgresql", "both"):
        name = f"warroom_bench_split_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench(f"pg @{rate:g}/s", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", a)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
