"""Timers across real `warroom serve` processes: two replicas on one database fire each due
reminder once; a process killed while reminders fall due is caught up by its successor with one
late reminder per incident, not one per missed period; SIGTERM lets a fire in flight finish.

Each test starts `python -m bot.cli serve` subprocesses against the in-process Slack stand-in and
reads the outcome from the database and the stand-in.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.config import Policy
from bot.migrate import upgrade
from bot.models import Incident, TimelineEvent, Timer
from bot.timers.fire import LATE_AFTER
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver
from tests.conftest import PG_ADMIN, SECRET
from tests.processes import Fleet, Serve

USERS = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAN"]


def write_policy(path: Path, update_minutes: float) -> Path:
    p = Policy().model_dump()
    p["severities"]["P2"]["update_minutes"] = update_minutes
    path.write_text(yaml.safe_dump(p))
    return path


# ------------------------------------------------------------------------------ databases
@pytest.fixture
def own_pg(pg_url: str) -> Iterator[str]:
    """A database of its own on the session's PostgreSQL server, migrated.

    `pg_url` proves the server is reachable (and fails the test when CI=true and it is not); a
    separate database keeps other tests' truncation and rows away from the processes."""
    name = f"warroom_proc_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def proc_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        upgrade(url)
        yield url
    else:
        yield request.getfixturevalue("own_pg")


@contextlib.contextmanager
def reader(url: str) -> Iterator[Engine]:
    eng = create_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()


def rows(eng: Engine, model: Any, *where: Any) -> list[Any]:
    with Session(eng) as s:
        return list(s.scalars(select(model).where(*where)))


# ------------------------------------------------------------------------------- behaviour
def declare_all(driver: SlackDriver, titles: list[str], stagger: float = 0.0) -> None:
    """Send the declarations side by side, so their due times land close together; or one every
    `stagger` seconds, so they fall due at different points of the replicas' polling ticks."""
    errors: list[str] = []

    def one(i: int, title: str) -> None:
        try:
            r = driver.command(f"declare P2 {title}", user=USERS[i % 4], channel="C0GENERAL")
            if r.status != 200 or "declared" not in r.body.lower():
                errors.append(f"{title}: HTTP {r.status} {r.body[:200]}")
        except Exception as e:
            errors.append(f"{title}: {e!r}")

    threads = [threading.Thread(target=one, args=(i, t)) for i, t in enumerate(titles)]
    for t in threads:
        t.start()
        time.sleep(stagger)
    for t in threads:
        t.join(30)
    assert not errors, errors


def wait_ready(eng: Engine, n: int, timeout: float = 15.0) -> list[Incident]:
    deadline = time.monotonic() + timeout
    while True:
        incs = rows(eng, Incident)
        if len(incs) == n and all(i.ready_at is not None for i in incs):
            return sorted(incs, key=lambda i: i.id)
        failed = [i.setup_error for i in incs if i.setup_error]
        assert not failed, f"war-room setup failed: {failed}"
        assert time.monotonic() < deadline, (
            f"{sum(i.ready_at is not None for i in incs)}/{len(incs)} of {n} war rooms ready "
            f"after {timeout:g} s"
        )
        time.sleep(0.02)


def is_reminder(msg: dict[str, Any]) -> bool:
    return any(
        el.get("action_id") == "snooze_15"
        for block in msg.get("blocks") or []
        for el in block.get("elements") or []
    )


def reminder_messages(standin: SlackStandIn, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in standin.messages(channel_id) if is_reminder(m)]


def worker_pid(worker: str | None) -> int:
    """TimerRunner names itself host:pid:random."""
    assert worker, "a fired timer without claimed_by"
    return int(worker.split(":")[-2])


def update_reminders(eng: Engine) -> list[TimelineEvent]:
    evs = rows(eng, TimelineEvent, TimelineEvent.kind == "reminder")
    return [e for e in evs if e.data.get("timer") == "update_due"]


def stop(*procs: Serve) -> None:
    """SIGTERM, as an orchestrator stops a replica: it must drain and exit 0."""
    for p in procs:
        p.terminate()
    for p in procs:
        assert p.wait(20) == 0, f"{p.name} exited with {p.proc.returncode} on SIGTERM"


# ---------------------------------------------------------------------------------- tests
def test_two_processes_fire_each_reminder_once(
    own_pg: str, standin: SlackStandIn, tmp_path: Path
) -> None:
    every = timedelta(seconds=0.03 * 60)  # P2 update_minutes: 0.03 -> 1.8 s
    fleet = Fleet(tmp_path, standin, own_pg, write_policy(tmp_path / "policy.yaml", 0.03))
    with fleet.running(), reader(own_pg) as eng:
        a, b = fleet.start("serve-a"), fleet.start("serve-b")
        a.wait_healthy()
        b.wait_healthy()
        driver = SlackDriver(a.url + "/slack/events", SECRET, standin=standin)
        driver.forward_events_to_bot()
        titles = [f"Replica check {i:02d} queue backlog" for i in range(10)]
        declare_all(driver, titles, stagger=0.13)  # due times spread over ~1.2 s (2+ ticks)
        incs = wait_ready(eng, len(titles))
        # Two to three periods for every incident (at least two reminders each), then stop both.
        last = max(i.declared_at for i in incs)
        while True:
            now = datetime.now(UTC)
            done = Counter(t.incident_id for t in rows(eng, Timer, Timer.outcome == "posted"))
            if now > last + 2.6 * every and all(done[i.id] >= 2 for i in incs):
                break
            assert now < last + 6 * every, f"reminders posted per incident: {dict(done)}"
            time.sleep(0.1)
        standin.event_sink = None
        stop(a, b)

        timers = rows(eng, Timer, Timer.kind == "update_due")
        fired = [t for t in timers if t.state == "fired"]
        by_pid = Counter(worker_pid(t.claimed_by) for t in fired)
        print(
            f"\nfired update_due timers: serve-a {by_pid[a.proc.pid]}, serve-b {by_pid[b.proc.pid]}"
        )
        assert set(by_pid) <= {a.proc.pid, b.proc.pid}, by_pid
        twice = [k for k, n in Counter((t.incident_id, t.due_at) for t in fired).items() if n > 1]
        assert twice == [], "a due time was fired twice"
        assert not [t for t in timers if t.state == "firing"], "a claim was left behind"

        posted = Counter(t.incident_id for t in fired if t.outcome == "posted")
        in_slack = {i.id: len(reminder_messages(standin, i.channel_id)) for i in incs}
        assert sum(in_slack.values()) == sum(posted.values())
        assert in_slack == {i.id: posted[i.id] for i in incs}
        assert all(n >= 2 for n in in_slack.values()), f"too few reminders: {in_slack}"

        evs = update_reminders(eng)
        per_due = Counter((e.incident_id, e.data["due"]) for e in evs)
        assert [k for k, n in per_due.items() if n > 1] == [], "two reminders for one due time"
        assert len(evs) == sum(posted.values())


def test_killed_process_catches_up_once_per_incident_after_restart(
    proc_db: str, standin: SlackStandIn, tmp_path: Path
) -> None:
    # P2 update_minutes: 0.04 -> 2.4 s: the five war rooms open well within one period.
    every = timedelta(seconds=0.04 * 60)
    fleet = Fleet(tmp_path, standin, proc_db, write_policy(tmp_path / "policy.yaml", 0.04))
    with fleet.running(), reader(proc_db) as eng:
        first = fleet.start("serve-1")
        first.wait_healthy()
        driver = SlackDriver(first.url + "/slack/events", SECRET, standin=standin)
        declare_all(driver, [f"Restart check {i} cache stampede" for i in range(5)])
        incs = wait_ready(eng, 5)
        first.kill()  # SIGKILL: no shutdown at all
        killed_at = datetime.now(UTC)
        due = {i.id: i.declared_at + every for i in incs}
        assert min(due.values()) > killed_at, (
            f"a reminder fell due {(killed_at - min(due.values())).total_seconds():.2f} s "
            "before the kill: the war rooms took longer than one period to open"
        )
        assert all(t.state == "pending" for t in rows(eng, Timer, Timer.kind == "update_due"))
        print(f"\nkilled {(min(due.values()) - killed_at).total_seconds():.2f} s before a due time")

        # Down until LATE_AFTER past the last first-due time: fire.py marks a reminder late
        # (late_seconds > 0) only beyond LATE_AFTER, which also means several periods missed.
        restart_at = max(due.values()) + LATE_AFTER + timedelta(seconds=0.3)
        time.sleep(max(0.0, (restart_at - datetime.now(UTC)).total_seconds()))
        restarted_at = datetime.now(UTC)
        assert (restarted_at - killed_at) / every >= 2.5, "fewer than 2.5 periods missed"
        second = fleet.start("serve-2")
        second.wait_healthy()
        time.sleep(1.5)
        stop(second)
        ended_at = datetime.now(UTC)

        timers = rows(eng, Timer, Timer.kind == "update_due")
        evs = update_reminders(eng)
        for inc in incs:
            mine = sorted((t for t in timers if t.incident_id == inc.id), key=lambda t: t.due_at)
            firsts = [t for t in mine if abs(t.due_at - due[inc.id]) < timedelta(milliseconds=1)]
            assert [(t.state, t.outcome) for t in firsts] == [("fired", "posted")], mine
            assert worker_pid(firsts[0].claimed_by) == second.proc.pid
            in_downtime = [t for t in mine if killed_at <= t.due_at <= restarted_at]
            assert len(in_downtime) == 1, f"one reminder per missed period: {in_downtime}"
            # The next one is planned a period after the catch-up, not on the old beat.
            later = [t for t in mine if t.due_at > restarted_at]
            assert later and later[0].due_at - firsts[0].fired_at == every, mine
            reminders = [e for e in evs if e.incident_id == inc.id]
            [late] = [e for e in reminders if e.data["due"] == firsts[0].due_at.isoformat()]
            assert late.data["late_seconds"] > 2, late.data
            assert all(e.data["late_seconds"] == 0 for e in reminders if e is not late)
            msgs = reminder_messages(standin, inc.channel_id)
            assert len(msgs) == len(reminders) == len([t for t in mine if t.state == "fired"])
            assert len([m for m in msgs if "late by" in m["text"]]) == 1, msgs
        assert not [t for t in timers if t.state == "firing"], "a claim was left behind"
        lost = [
            t for t in timers if t.state == "pending" and t.due_at < ended_at - timedelta(seconds=2)
        ]
        assert not lost, f"due reminders never fired: {lost}"
        assert sorted(t.incident_id for t in timers if t.state == "pending") == [i.id for i in incs]


def test_sigterm_lets_a_fire_in_flight_finish(standin: SlackStandIn, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade(url)
    fleet = Fleet(tmp_path, standin, url, write_policy(tmp_path / "policy.yaml", 0.04))  # 2.4 s
    with fleet.running(), reader(url) as eng:
        serve = fleet.start("serve")
        serve.wait_healthy()
        driver = SlackDriver(serve.url + "/slack/events", SECRET, standin=standin)
        declare_all(driver, ["Shutdown check disk full"])
        [inc] = wait_ready(eng, 1)
        standin.latency = 1.5  # every Slack call now takes 1.5 s: the fire is slow
        deadline = time.monotonic() + 5
        while not rows(eng, Timer, Timer.state == "firing"):
            assert time.monotonic() < deadline, "the reminder was never claimed"
            time.sleep(0.02)
        time.sleep(0.3)  # inside its first chat.postMessage
        stop(serve)
        standin.latency = 0.0
        timers = rows(eng, Timer, Timer.kind == "update_due")
        assert not [t for t in timers if t.state == "firing"], "left claimed until the lease ends"
        [fired] = [t for t in timers if t.state == "fired"]
        assert fired.outcome == "posted"
        assert len(reminder_messages(standin, inc.channel_id)) == 1
        assert len(update_reminders(eng)) == 1
