"""A reminder whose post reached Slack just before its process was SIGKILLed is not posted again
by the process that takes over its lapsed claim, and none is lost.

Real `serve` subprocesses, the real wire, both databases. The Slack stand-in stores each timer
post and then holds its answer back (``after_call``); the process is killed while waiting, so it
never records the post. Half the war rooms die at their automatic update (the first post), the
other half at the update's copy in #incidents (the second post).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import update

from bot.config import Policy
from bot.models import Timer
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver
from tests.conftest import SECRET
from tests.processes import Fleet
from tests.test_timer_processes import (  # noqa: F401  (fixtures)
    declare_all,
    is_reminder,
    own_pg,
    proc_db,
    reader,
    rows,
    stop,
    wait_ready,
)

ROOMS = 12
AUTO = ":bar_chart: INCIDENT UPDATE"


def write_policy(path: Path, update_minutes: float) -> Path:
    p = Policy().model_dump()
    p["severities"]["P2"]["update_minutes"] = update_minutes
    p["severities"]["P2"]["mirror_updates"] = True
    path.write_text(yaml.safe_dump(p))
    return path


def is_auto_update(m: dict[str, Any]) -> bool:
    return str(m.get("text", "")).startswith(AUTO)


class Hold:
    """Holds back the answer to each timer post chosen by `pick`, after Slack stored it."""

    def __init__(self, pick: Any) -> None:
        self.pick = pick
        self.landed: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, method: str, params: dict[str, Any], answer: dict[str, Any]) -> None:
        if method != "chat.postMessage" or not self.pick(params):
            return
        with self.lock:
            self.landed.append(answer["channel"])
        self.release.wait(30)

    def wait_for(self, n: int, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        last, still_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            with self.lock:
                got = len(self.landed)
            if got >= n:
                return got
            if got != last:
                last, still_since = got, time.monotonic()
            elif got and time.monotonic() - still_since > 2.0:
                return got  # no more arrive: the rest wait behind the held ones
            time.sleep(0.02)
        raise AssertionError(f"only {last} timer posts reached Slack")


def test_sigkill_after_a_timer_post_landed_posts_it_once(
    proc_db: str,  # noqa: F811  (the fixture imported above)
    standin: SlackStandIn,
    tmp_path: Path,
) -> None:
    # P2 update_minutes 0.1 -> 6 s: the war rooms are all open before the first falls due.
    fleet = Fleet(tmp_path, standin, proc_db, write_policy(tmp_path / "policy.yaml", 0.1))
    with fleet.running(), reader(proc_db) as eng:
        first = fleet.start("serve-1")
        first.wait_healthy()
        driver = SlackDriver(first.url + "/slack/events", SECRET, standin=standin)
        declare_all(driver, [f"Crash check {i:02d} disk pressure" for i in range(ROOMS)])
        incs = wait_ready(eng, ROOMS, timeout=30)
        rooms = {i.channel_id: i for i in incs}
        at_mirror = {i.channel_id for i in incs[1::2]}  # these die at the #incidents copy

        def pick(p: dict[str, Any]) -> bool:
            if not str(p.get("text", "")).startswith(AUTO):
                return False
            if p["channel"] in rooms:
                return p["channel"] not in at_mirror
            return any(f"<#{c}>" in str(p.get("blocks")) for c in at_mirror)

        hold = Hold(pick)
        standin.after_call = hold
        landed = hold.wait_for(ROOMS)
        first.kill()  # SIGKILL while Slack holds the answers: the posts landed, unrecorded
        hold.release.set()
        standin.after_call = None
        held = rows(eng, Timer, Timer.state == "firing")
        assert len(held) >= landed, f"{len(held)} claims held for {landed} landed posts"
        # As 30 s later: the dead process's claims have lapsed.
        with eng.begin() as c:
            c.execute(
                update(Timer)
                .where(Timer.state == "firing")
                .values(claim_until=datetime.now(UTC) - timedelta(seconds=1))
            )
        second = fleet.start("serve-2")
        second.wait_healthy()
        deadline = time.monotonic() + 20
        ids = {t.id for t in held}
        while {t.id for t in rows(eng, Timer, Timer.id.in_(ids), Timer.state == "fired")} != ids:
            assert time.monotonic() < deadline, "the lapsed claims were not fired again"
            time.sleep(0.05)
        stop(second)

        timers = rows(eng, Timer, Timer.kind == "update_due")
        posted = Counter(t.incident_id for t in timers if t.outcome == "posted")
        dup, lost = 0, 0
        for inc in incs:
            msgs = standin.messages(inc.channel_id)
            autos = [m for m in msgs if is_auto_update(m)]
            reminders = [m for m in msgs if is_reminder(m)]
            mirrors = [
                m
                for m in standin.messages("C0INCIDENTS")
                if is_auto_update(m) and f"<#{inc.channel_id}>" in str(m["blocks"])
            ]
            n = posted[inc.id]
            dup += sum(max(0, len(x) - n) for x in (autos, reminders, mirrors))
            lost += sum(max(0, n - len(x)) for x in (autos, reminders, mirrors))
        fired_held = [t for t in timers if t.id in ids]
        lost += sum(t.outcome != "posted" for t in fired_held)
        print(
            f"\n{ROOMS} war rooms, {landed} timer posts landed unrecorded at SIGKILL "
            f"({len(held)} claims lapsed): {dup} posted twice, {lost} lost"
        )
        assert (dup, lost) == (0, 0)
