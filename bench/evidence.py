"""Benchmark: `/incident evidence` of a big war room, and `warroom evidence verify` of it.

In one process: the bot over HTTP, the Slack stand-in (no rate limits unless --rate-limits,
which applies Slack's tiers scaled by its value), SQLite. The room gets N people's messages,
every 50th with a two-reply thread and a reaction; the clock runs from the signed command to
the archive's upload. Not a test; figures depend on the machine.

    .venv/bin/python bench/evidence.py --messages 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import machine

from bot.config import Policy, Settings
from bot.evidence import archive
from bot.migrate import upgrade
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver
from standins.slack.rate_limits import RateLimits

SECRET = "bench-secret"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--rate-limits", type=float, default=0, help="Slack's tiers, time scaled")
    a = ap.parse_args()
    limits = RateLimits(scale=a.rate_limits) if a.rate_limits else None
    slack = SlackStandIn(token="xoxb-sandbox", rate_limits=limits).start()
    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite:///{tmp.name}/bench.db"
    upgrade(url)
    settings = Settings(
        slack_bot_token="xoxb-sandbox",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        database_url=url,
    )
    rt = build_runtime(settings, Policy())
    server = BackgroundServer(build_asgi(build_app(rt, SECRET, "xoxb-sandbox"), rt)).start()
    driver = SlackDriver(server.url + "/slack/events", SECRET, standin=slack)
    try:
        driver.command("declare P1 Bench incident", user="U0ALICE", channel="C0GENERAL")
        rt.wait_idle(30)
        room = next(
            c for c in list(slack._channels) if slack.channel(c)["name"].endswith("bench-incident")
        )
        for i in range(a.messages):
            ts = slack.user_post(room, "U0ALICE", f"message {i} " + "x" * 80)
            if i % 50 == 0:
                slack.user_post(room, "U0ALICE", "a reply", thread_ts=ts)
                slack.user_post(room, "U0ALICE", "another", thread_ts=ts)
                slack.user_react(room, ts, "U0ALICE", "eyes")
        calls = len(slack.calls_to("conversations.history")) + len(
            slack.calls_to("conversations.replies")
        )
        t0 = time.perf_counter()
        driver.command("evidence", user="U0ALICE", channel=room)
        while not [f for f in slack.files.values() if f["name"].startswith("evidence-")]:
            if time.perf_counter() - t0 > 600:
                raise TimeoutError("no archive after 600 s")
            time.sleep(0.01)
        took = time.perf_counter() - t0
        [data] = [f["content"] for f in slack.files.values() if f["name"].startswith("evidence-")]
        t1 = time.perf_counter()
        verdict = archive.verify(data)
        verified = time.perf_counter() - t1
        reads = (
            len(slack.calls_to("conversations.history"))
            + len(slack.calls_to("conversations.replies"))
            - calls
        )
        print(f"Machine: {machine()}")
        print(
            f"Room: {a.messages} messages, {a.messages // 50 + 1} threads; SQLite; rate limits: "
            f"{'scale ' + str(a.rate_limits) if a.rate_limits else 'off'}"
        )
        print(
            f"Export (command to upload): {took:.2f} s; Slack reads: {reads}; "
            f"429s: {limits.limited if limits else 0}"
        )
        print(
            f"Archive: {len(data) / 1024:.0f} KiB; verify: {verified * 1000:.0f} ms, "
            f"intact: {verdict.intact}"
        )
    finally:
        server.stop()
        rt.shutdown()
        slack.stop()


if __name__ == "__main__":
    main()
