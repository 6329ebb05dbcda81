"""Benchmark: how soon the web sandbox shows what someone else did, in Debian's Chromium.

The page (as alice, in a war room) is left alone; each sample, dan runs `/incident update …`
through the real signed wire, and the clock runs from the moment the bot's
answer is stored in the Slack stand-in until Chromium shows it (the page polls `/live` every
0.5 s and swaps in the server-rendered channel). Also how long the page takes to load (goto).
Not a test; figures depend on the machine.

    .venv/bin/python bench/sandbox_web.py --samples 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import machine, pct
from playwright.sync_api import sync_playwright

from bot.slack.server import BackgroundServer
from standins.sandbox.web import build, open_sandbox


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=20)
    args = ap.parse_args()
    web = open_sandbox()
    server = BackgroundServer(build(web)).start()
    shown, loads = [], []
    try:
        with web.lock:
            web.say("C0GENERAL", "/incident declare P2 Search is slow")
        room = next(c["id"] for c in web.channels() if c["name"].startswith("incident-"))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            for _ in range(5):
                t0 = time.perf_counter()
                page.goto(f"{server.url}/?c={room}")
                loads.append(time.perf_counter() - t0)
            if "U0DAN" not in web.box.slack.channel(room)["members"]:
                web.box.slack.user_join(room, "U0DAN")
            for i in range(args.samples):
                marker = f"sample {i} {time.time_ns()}"
                before = len(web.box.slack.messages(room))
                with web.lock:
                    web.box.user = "U0DAN"
                    web.say(room, f"/incident update {marker}")
                    web.box.user = "U0ALICE"
                web.box.slack.wait_for(lambda b=before: len(web.box.slack.messages(room)) > b)
                t0 = time.perf_counter()
                page.locator("ol.messages > li", has_text=marker).wait_for(timeout=10_000)
                shown.append(time.perf_counter() - t0)
            browser.close()
    finally:
        server.stop()
        web.box.close()
    print(machine())
    print(
        f"page load (goto, {len(loads)}): p50 {pct(loads, 50) * 1000:.0f} ms, "
        f"max {max(loads) * 1000:.0f} ms"
    )
    print(
        f"someone else's update shown ({len(shown)}): p50 {pct(shown, 50) * 1000:.0f} ms, "
        f"p95 {pct(shown, 95) * 1000:.0f} ms, max {max(shown) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
