"""Benchmark a burst of declarations against Slack's real rate tiers: how long until the last of
100 war rooms is ready and its alert pinned.

The Slack stand-in enforces the tiers in real time (conversations.create, setTopic, setPurpose and
pins.add are Tier 2, about 20 a minute; chat.postMessage about one a second per channel), so the
figure is set by Slack's limits, not by this machine: expect about five minutes for 100.

    .venv/bin/python bench/slack_burst.py                 # 100 declarations, SQLite
    .venv/bin/python bench/slack_burst.py --count 30 --db postgresql
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from common import database, machine

from bot.config import Policy, Settings
from bot.models import Incident
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.slack.api import RateLimits, SlackStandIn
from standins.slack.driver import SlackDriver

SECRET = "bench-signing-secret"
TOKEN = "xoxb-sandbox"
PG_ADMIN = os.environ.get(
    "WARROOM_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100, help="declarations in the burst")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--timeout", type=float, default=1200, help="give up after this many seconds")
    args = ap.parse_args()

    limits = RateLimits()  # real time: a minute is a minute
    with database(args.db, PG_ADMIN) as url, SlackStandIn(rate_limits=limits) as slack:
        settings = Settings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            database_url=url,
            redis_url="",
        )
        rt = build_runtime(settings, Policy())
        server = BackgroundServer(build_asgi(build_app(rt, SECRET, TOKEN), rt)).start()
        try:
            driver = SlackDriver(
                bot_url=server.url + "/slack/events", signing_secret=SECRET, standin=slack
            )
            driver.forward_events_to_bot()
            started = time.monotonic()
            for i in range(args.count):
                r = driver.command(
                    f"declare P2 Burst {i:03d} checkout errors", "U0BOB", "C0GENERAL"
                )
                if r.status != 200:
                    raise SystemExit(f"declaration {i} answered HTTP {r.status}: {r.body[:200]}")
            declared = time.monotonic() - started
            progress(f"{args.count} declarations acknowledged in {declared:.1f} s")

            ready_at: dict[int, float] = {}
            failed: dict[int, str] = {}
            last_report = 0.0
            while len(ready_at) + len(failed) < args.count:
                now = time.monotonic() - started
                if now > args.timeout:
                    break
                with rt.db.read() as s:
                    for inc in s.scalars(select(Incident)):
                        if inc.ready_at and inc.alert_pinned and inc.id not in ready_at:
                            ready_at[inc.id] = now
                        elif inc.setup_error and inc.id not in ready_at:
                            failed[inc.id] = inc.setup_error
                if now - last_report >= 30:
                    progress(f"{now:.0f} s: {len(ready_at)} ready and pinned, {len(failed)} failed")
                    last_report = now
                time.sleep(0.5)
            rt.wait_idle(30)
        finally:
            slack.event_sink = None
            server.stop()
            rt.shutdown()

    limited = Counter(c.method for c in slack.calls)
    times = sorted(ready_at.values())
    print(f"# Slack burst: {args.count} declarations against real rate tiers ({args.db})")
    print(f"# {machine()}")
    print(f"declarations acknowledged in        {declared:8.1f} s")
    if times:
        print(f"first war room ready and pinned at  {times[0]:8.1f} s")
        print(f"half ready and pinned at            {times[len(times) // 2]:8.1f} s")
        print(f"last war room ready and pinned at   {times[-1]:8.1f} s")
    print(f"ready and pinned                    {len(ready_at):8d} of {args.count}")
    print(f"setups reported failed              {len(failed):8d}")
    print(f"answers HTTP 429 (Retry-After)      {limits.limited:8d}")
    print("calls per method (429s included):")
    for method, n in limited.most_common():
        print(f"  {method:32s} {n:6d}")
    if failed:
        print("failures:", sorted(set(failed.values()))[:5])
    if len(ready_at) < args.count:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
