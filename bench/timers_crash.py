"""SIGKILL a `warroom serve` while its reminders are being posted, restart it, count duplicates.

N war rooms (P2, no mirror) whose `update_due` timers are all due; each fire posts the automatic
update, then the reminder. Every Slack call takes `--latency` seconds, so posts are in flight
when the process is killed (as soon as `--kill-after` automatic updates reached Slack). Nothing
is simulated after that: the dead process's claims lapse after the real lease (30 s), a new
process takes them over. Printed: posts that reached Slack twice and timers whose posts are
missing, per database.

    .venv/bin/python bench/timers_crash.py                     # both databases, 24 rooms
    .venv/bin/python bench/timers_crash.py --bot-path /tmp/old  # another checkout's bot/
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).parent))
from common import database
from timers import PG_ADMIN, SECRET, TOKEN, free_port, seed_incidents, seed_timers

from bot.models import Timer
from bot.timers.runner import LEASE
from standins.slack.api import SlackStandIn

AUTO = ":bar_chart: INCIDENT UPDATE"


def start(db_url: str, standin: SlackStandIn, tmp: str, bot_path: str, name: str):
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": standin.api_url,
        "DATABASE_URL": db_url,
        "REDIS_URL": "",
        "WARROOM_CONFIG": "",
        "WARROOM_DATA_DIR": os.path.join(tmp, "data"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
    }
    if bot_path:
        env["PYTHONPATH"] = bot_path + os.pathsep + env.get("PYTHONPATH", "")
    with open(os.path.join(tmp, f"{name}.log"), "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
            env=env,
            cwd=bot_path or tmp,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{name} exited with {proc.returncode}"
        with (
            suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r,
        ):
            if r.status == 200:
                return proc
        time.sleep(0.05)
    raise RuntimeError(f"{name} not healthy")


def run(kind: str, args: argparse.Namespace) -> str:
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(kind, PG_ADMIN) as url,
        SlackStandIn(token=TOKEN) as slack,
    ):
        channels = [
            slack.add_channel(f"crash-{i:03d}", ["U0ALICE", slack.bot_user_id])
            for i in range(args.rooms)
        ]
        ids = seed_incidents(url, channels)
        timer_ids = seed_timers(url, ids, datetime.now(UTC) + timedelta(seconds=3), 0.5)
        slack.latency = args.latency
        first = start(url, slack, tmp, args.bot_path, "first")

        def autos() -> int:
            return sum(1 for c in channels for m in slack.messages(c) if m["text"].startswith(AUTO))

        deadline = time.monotonic() + 60
        while autos() < args.kill_after:
            assert time.monotonic() < deadline, "the reminders never fired"
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        killed = time.monotonic()
        eng = create_engine(url)
        with eng.connect() as c:
            firing = c.scalar(select(func.count()).where(Timer.state == "firing"))
        landed_at_kill = autos()
        time.sleep(max(0.0, LEASE.total_seconds() + 1 - (time.monotonic() - killed)))
        second = start(url, slack, tmp, args.bot_path, "second")
        deadline = time.monotonic() + 60
        while True:
            with eng.connect() as c:
                left = c.scalar(
                    select(func.count()).where(
                        Timer.id.in_(timer_ids), Timer.state.in_(("pending", "firing"))
                    )
                )
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        time.sleep(1)
        second.send_signal(signal.SIGTERM)
        second.wait(20)
        eng.dispose()
        twice = lost = 0
        for c in channels:
            msgs = slack.messages(c)
            for kind_ in ("auto", "reminder"):
                n = sum(
                    1
                    for m in msgs
                    if (m["text"].startswith(AUTO) if kind_ == "auto" else "is due" in m["text"])
                )
                twice += max(0, n - 1)
                lost += n == 0
        return (
            f"{kind:10s} {args.rooms} rooms, killed with {firing} claims held and "
            f"{landed_at_kill} automatic updates in Slack: {twice} posted twice, {lost} lost"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--rooms", type=int, default=24)
    ap.add_argument("--latency", type=float, default=0.3, help="seconds per Slack call")
    ap.add_argument("--kill-after", type=int, default=1, help="automatic updates in Slack")
    ap.add_argument("--bot-path", default="", help="run the bot from this checkout")
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        print(run(kind, args), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
