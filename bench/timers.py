"""Benchmark durable timers: N open incidents whose status-update reminders fall due within S
seconds (time compressed), fired by a real `warroom serve` process.

The bot runs as a subprocess (`python -m bot.cli serve`: uvicorn + TimerRunner on APScheduler,
as in production), so its CPU time and memory are its own; the Slack Web API stand-in and this
driver run in the bench process. Incidents (P2, no mirror to #incidents: each fire posts the
automatic update and the reminder) and their `update_due` timers are bulk-inserted straight into
the database, each incident with a war-room channel of its own in the stand-in.

Reported per database: lateness of each reminder (fired_at - due_at, as recorded, and the time
the reminder message reached Slack - due_at), exactly-once (every timer fired once; the stand-in
holds one reminder per incident), peak RSS of the bot process, its CPU while firing and while
nothing is due.

    .venv/bin/python bench/timers.py                      # both databases, 10,000 over 60 s
    .venv/bin/python bench/timers.py --db sqlite --count 2000 --spread 20
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

sys.path.insert(0, str(Path(__file__).parent))
from common import database

from bot.models import Incident, TimelineEvent, Timer
from bot.timers.runner import LEASE
from standins.slack.api import SlackStandIn

TOKEN = "xoxb-sandbox"
SECRET = "bench-signing-secret"
PG_ADMIN = os.environ.get(
    "WARROOM_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def secs(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:.3f}"


# ------------------------------------------------------------------------- the bot process
class Proc:
    """`/proc` readings of one process: CPU seconds, current and peak resident memory."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def status(self, key: str) -> int:
        """A `kB` line of /proc/PID/status (VmRSS, VmHWM), in bytes."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/task"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(db_url: str, standin: SlackStandIn, tmp: str, workers: int) -> Iterator[Proc]:
    port = free_port()
    log = os.path.join(tmp, "serve.stderr.log")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": standin.api_url,
        "DATABASE_URL": db_url,
        "REDIS_URL": "",
        "WARROOM_CONFIG": "",  # the runbook defaults: P2 updates hourly, not mirrored
        "WARROOM_DATA_DIR": os.path.join(tmp, "data"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",  # the summary below counts warnings and errors
        "LOG_FORMAT": "text",
        "EFFECT_WORKERS": str(workers),
    }
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
            env=env,
            cwd=tmp,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"warroom serve exited with {proc.returncode}: {tail(log)}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r,
            ):
                if r.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"warroom serve not healthy after 30 s: {tail(log)}")
            time.sleep(0.05)
        yield Proc(proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        LOG_LINES[:] = read_log(log)


LOG_LINES: list[str] = []


def read_log(path: str) -> list[str]:
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def tail(path: str, n: int = 15) -> str:
    return "\n".join(read_log(path)[-n:])


# ------------------------------------------------------------------------------ databases
def seed_incidents(url: str, channels: list[str]) -> list[int]:
    """One open P2 incident per war-room channel, declared an hour ago (the P2 cadence)."""
    now = datetime.now(UTC)
    declared = now - timedelta(hours=1)
    rows = [
        {
            "day": now.date(),
            "seq": i + 1,
            "title": f"Bench incident {i:05d} elevated latency",
            "slug": f"bench-incident-{i:05d}",
            "severity": "P2",
            "status": "investigating",
            "team_id": "T0WARROOM",
            "reporter_id": "U0ALICE",
            "lead_id": "U0BOB",
            "origin_channel_id": "C0GENERAL",
            "declared_at": declared,
            "acknowledged_at": declared,
            "channel_id": ch,
            "channel_name": f"bench-{i:05d}",
            "alert_ts": "1.000001",
            "alert_pinned": True,
            "announce_ts": "1.000002",
            "invited": True,
            "ready_at": declared,
        }
        for i, ch in enumerate(channels)
    ]
    eng = create_engine(url)
    try:
        with eng.begin() as c:
            stmt = insert(Incident).returning(Incident.id, sort_by_parameter_order=True)
            return list(c.execute(stmt, rows).scalars())
    finally:
        eng.dispose()


def seed_timers(url: str, incident_ids: list[int], first_due: datetime, spread: float) -> list[int]:
    """Each incident's `update_due` timer, due evenly over [first_due, first_due + spread)."""
    n = len(incident_ids)
    rows = [
        {
            "incident_id": iid,
            "kind": "update_due",
            "step": 0,
            "due_at": first_due + timedelta(seconds=spread * i / n),
            "state": "pending",
        }
        for i, iid in enumerate(incident_ids)
    ]
    eng = create_engine(url)
    try:
        with eng.begin() as c:
            stmt = insert(Timer).returning(Timer.id, sort_by_parameter_order=True)
            return list(c.execute(stmt, rows).scalars())
    finally:
        eng.dispose()


# ---------------------------------------------------------------------------------- a run
@dataclass
class Result:
    kind: str
    count: int
    spread: float
    workers: int
    lead: float
    channels_s: float = 0.0
    seed_s: float = 0.0
    seed_timers_s: float = 0.0
    rss_start: int = 0
    rss_peak: int = 0
    threads_peak: int = 0
    load_wall: float = 0.0
    load_cpu: float = 0.0
    settle_wall: float = 0.0
    settle_cpu: float = 0.0
    settled: bool = False
    load_max: float = 0.0  # highest 1-minute load average of the machine seen
    submitted: int = 0  # fire jobs queued, estimated from claim_until (one per claim)
    idle_wall: float = 0.0
    idle_cpu: float = 0.0
    max_firing: int = 0
    finished: bool = False
    fired_late: list[float] = field(default_factory=list)  # fired_at - due_at
    seen_late: list[float] = field(default_factory=list)  # reminder in Slack - due_at
    states: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    timers_fired_twice: int = 0
    reclaimed: int = 0  # claimed again after the lease lapsed (claim_until - due_at > LEASE)
    post_calls: int = 0  # chat.postMessage requests the stand-in received
    reminder_events: int = 0
    reminders_in_slack: int = 0
    updates_in_slack: int = 0
    channels_wrong: int = 0
    new_pending: int = 0
    last_fire_after_due: float = math.nan
    log: list[str] = field(default_factory=list)


def is_reminder(msg: dict) -> bool:
    return any(
        el.get("action_id") == "snooze_15"
        for block in msg.get("blocks") or []
        for el in block.get("elements") or []
    )


def run(kind: str, args: argparse.Namespace) -> Result:
    res = Result(kind, args.count, args.spread, args.workers, args.lead)
    with database(kind, args.pg_admin) as url, tempfile.TemporaryDirectory() as tmp:
        standin = SlackStandIn(token=TOKEN).start()
        try:
            t = time.perf_counter()
            channels = [
                standin.add_channel(f"bench-{i:05d}", members=["U0WARROOM", "U0ALICE", "U0BOB"])
                for i in range(args.count)
            ]
            res.channels_s = time.perf_counter() - t
            progress(f"{kind}: {args.count} channels in the stand-in in {res.channels_s:.1f} s")
            with serve(url, standin, tmp, args.workers) as bot:
                res.rss_start = bot.status("VmRSS")
                cpu0 = bot.cpu()
                t = time.perf_counter()
                incident_ids = seed_incidents(url, channels)
                res.seed_s = time.perf_counter() - t
                t = time.perf_counter()
                first_due = datetime.now(UTC) + timedelta(seconds=args.lead)
                timer_ids = seed_timers(url, incident_ids, first_due, args.spread)
                res.seed_timers_s = time.perf_counter() - t
                progress(
                    f"{kind}: {args.count} incidents inserted in {res.seed_s:.1f} s, timers in "
                    f"{res.seed_timers_s:.1f} s; "
                    f"due from {first_due:%H:%M:%S} over {args.spread:g} s"
                )
                watch(res, url, bot, timer_ids, first_due, args)
                res.load_cpu = bot.cpu() - cpu0
                settle(res, bot, args.settle)
                progress(f"{kind}: idle for {args.idle:g} s")
                c0, w0 = bot.cpu(), time.perf_counter()
                time.sleep(args.idle)
                res.idle_cpu, res.idle_wall = bot.cpu() - c0, time.perf_counter() - w0
                res.rss_peak = bot.status("VmHWM")
            collect(res, url, standin, timer_ids, channels)
            res.log = summarize_log(LOG_LINES)
        finally:
            standin.stop()
    return res


def settle(res: Result, bot: Proc, limit: float) -> None:
    """After the last fire: wait until the process uses < 5% of a core for 3 s in a row.

    Work can outlive the last fire: fire jobs queued for timers that were claimed again after
    their lease lapsed run later and find the timer already fired."""
    quiet, start, cpu0 = 0, time.perf_counter(), bot.cpu()
    while time.perf_counter() - start < limit:
        c = bot.cpu()
        time.sleep(1.0)
        quiet = quiet + 1 if bot.cpu() - c < 0.05 else 0
        if quiet >= 3:
            break
    res.settle_wall = time.perf_counter() - start - quiet
    res.settle_cpu = bot.cpu() - cpu0
    res.settled = quiet >= 3


def watch(
    res: Result,
    url: str,
    bot: Proc,
    timer_ids: list[int],
    first_due: datetime,
    args: argparse.Namespace,
) -> None:
    """Poll until every seeded timer fired (or the deadline); sample backlog and threads."""
    eng = create_engine(url)
    lo, hi = min(timer_ids), max(timer_ids)
    q = select(Timer.state, func.count()).where(Timer.id.between(lo, hi)).group_by(Timer.state)
    start = time.perf_counter()
    deadline = start + args.lead + args.spread + args.timeout
    last_report = 0.0
    try:
        while time.perf_counter() < deadline:
            with eng.connect() as c:
                by_state = dict(c.execute(q).all())
            res.max_firing = max(res.max_firing, by_state.get("firing", 0))
            res.threads_peak = max(res.threads_peak, bot.threads())
            res.load_max = max(res.load_max, os.getloadavg()[0])
            fired = by_state.get("fired", 0)
            now = time.perf_counter()
            if now - last_report >= 10:
                progress(
                    f"  fired {fired}/{len(timer_ids)}, claimed and not yet fired "
                    f"{by_state.get('firing', 0)}, rss {bot.status('VmRSS') / 2**20:.0f} MiB"
                )
                last_report = now
            if fired == len(timer_ids):
                res.finished = True
                break
            time.sleep(0.25)
        res.load_wall = time.perf_counter() - start
    finally:
        eng.dispose()


def collect(
    res: Result, url: str, standin: SlackStandIn, timer_ids: list[int], channels: list[str]
) -> None:
    eng = create_engine(url)
    seeded = set(timer_ids)
    try:
        with eng.connect() as c:
            rows = c.execute(
                select(
                    Timer.id,
                    Timer.incident_id,
                    Timer.due_at,
                    Timer.state,
                    Timer.fired_at,
                    Timer.outcome,
                    Timer.claim_until,
                ).where(Timer.kind == "update_due")
            ).all()
            res.reminder_events = c.execute(
                select(func.count()).where(TimelineEvent.kind == "reminder")
            ).scalar_one()
            inc_channel = dict(c.execute(select(Incident.id, Incident.channel_id)).all())
    finally:
        eng.dispose()
    due_by_channel = {}
    per_key = Counter()
    for r in rows:
        if r.id not in seeded:
            res.new_pending += r.state == "pending"
            continue
        res.states[r.state] += 1
        res.outcomes[r.outcome or "-"] += 1
        per_key[(r.incident_id, r.due_at)] += 1
        due_by_channel[inc_channel[r.incident_id]] = r.due_at
        if r.fired_at is not None:
            res.fired_late.append((r.fired_at - r.due_at).total_seconds())
        # A claim taken on time ends LEASE after due (+ one tick); a later end means re-claimed.
        if r.claim_until is not None:
            claims = 1 + int(max(0.0, (r.claim_until - r.due_at - LEASE) / LEASE + 0.1))
            res.submitted += claims
            res.reclaimed += claims > 1
    res.timers_fired_twice = sum(1 for n in per_key.values() if n > 1)
    res.post_calls = len(standin.calls_to("chat.postMessage"))
    last_seen = None
    for ch in channels:
        msgs = [m for m in standin.messages(ch) if m.get("bot_id")]
        reminders = [m for m in msgs if is_reminder(m)]
        updates = [m for m in msgs if "(automatic)" in m["text"]]
        res.reminders_in_slack += len(reminders)
        res.updates_in_slack += len(updates)
        if len(reminders) != 1 or len(updates) != 1:
            res.channels_wrong += 1
        for m in reminders:
            seen = datetime.fromtimestamp(float(m["ts"]), UTC)
            res.seen_late.append((seen - due_by_channel[ch]).total_seconds())
            last_seen = max(last_seen or seen, seen)
    if last_seen is not None:
        last_due = max(due_by_channel.values())
        res.last_fire_after_due = (last_seen - last_due).total_seconds()


def summarize_log(lines: list[str]) -> list[str]:
    """Warnings and errors of the bot process, by logger and first words (tracebacks folded)."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for ln in lines:
        parts = ln.split(" ", 4)
        if len(parts) == 5 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
            key = f"{parts[2]} {parts[3]}"
            counts[key] += 1
            first.setdefault(key, parts[4][:120])
    return [f"{n}x {k}: {first[k]}" for k, n in counts.most_common(6)]


# ---------------------------------------------------------------------------------- report
def machine(kinds: list[str], pg_admin: str) -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    mem = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        kb = next((int(ln.split()[1]) for ln in f if ln.startswith("MemTotal:")), 0)
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    usable = len(os.sched_getaffinity(0))
    lines = [
        f"date        {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"nproc       {usable} (os.cpu_count {os.cpu_count()})",
        f"cpu         {cpu}",
        f"memory      {mem}",
        f"python      {platform.python_version()} ({platform.python_implementation()}) "
        f"on {platform.platform()}",
        f"sqlite      {sqlite3.sqlite_version}",
    ]
    if "postgresql" in kinds:
        try:
            eng = create_engine(pg_admin)
            with eng.connect() as c:
                lines.append(f"postgresql  {c.execute(text('SHOW server_version')).scalar()}")
            eng.dispose()
        except Exception as e:
            lines.append(f"postgresql  unreachable: {e.__class__.__name__}")
    return lines


def table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*head), "  ".join("-" * w for w in widths)]
    return "\n".join(lines + [fmt.format(*r) for r in rows])


def report(results: list[Result]) -> str:
    r0 = results[0]
    out = [
        f"1. Lateness: {r0.count} reminders due evenly over {r0.spread:g} s "
        f"({r0.count / r0.spread:.0f}/s), one bot process (tick 0.5 s, batch 500, "
        f"EFFECT_WORKERS {r0.workers})",
        "   fired: fired_at - due_at as the bot recorded it (taken before posting); "
        "in Slack: the reminder message's ts - due_at.",
        "",
    ]
    rows = []
    for r in results:
        for label, vals in (("fired", r.fired_late), ("in Slack", r.seen_late)):
            rows.append(
                [
                    r.kind,
                    label,
                    str(len(vals)),
                    secs(pct(vals, 50)),
                    secs(pct(vals, 95)),
                    secs(pct(vals, 99)),
                    secs(max(vals, default=math.nan)),
                    str(sum(1 for v in vals if v > 2)),
                    str(sum(1 for v in vals if v > 5)),
                ]
            )
    out.append(
        table(["db", "lateness", "n", "p50 s", "p95 s", "p99 s", "max s", "> 2 s", "> 5 s"], rows)
    )
    out += ["", "2. Exactly once", ""]
    rows = []
    for r in results:
        rows.append(
            [
                r.kind,
                str(r.count),
                " ".join(f"{k}={v}" for k, v in sorted(r.states.items())),
                " ".join(f"{k}={v}" for k, v in sorted(r.outcomes.items())),
                str(r.timers_fired_twice),
                str(r.reclaimed),
                str(r.submitted),
                str(r.reminder_events),
                str(r.post_calls),
                str(r.reminders_in_slack),
                str(r.updates_in_slack),
                str(r.channels_wrong),
                str(r.new_pending),
            ]
        )
    out.append(
        table(
            [
                "db",
                "timers",
                "states",
                "outcomes",
                "fired twice",
                "re-claimed",
                "fire jobs",
                "reminder events",
                "postMessage calls",
                "reminders in Slack",
                "auto updates",
                "channels != 1+1",
                "next planned",
            ],
            rows,
        )
    )
    out += [
        "   fired twice: timers (incident, due time) marked fired more than once; re-claimed: "
        "timers claimed again after the 30 s lease",
        "   lapsed, and fire jobs: claims in all, each queued as a job (both estimated from "
        "claim_until - due_at, one claim per lease);",
        "   reminder events: timeline rows; postMessage calls: requests the stand-in received "
        "(2 per fire).",
        "   channels != 1+1: war rooms without exactly one reminder and one automatic update;",
        "   next planned: the following hour's update_due timers, pending.",
        "",
        "3. The bot process",
        "",
    ]
    rows = []
    for r in results:
        rows.append(
            [
                r.kind,
                "yes" if r.finished else "NO",
                f"{r.load_wall:.1f}",
                f"{r.last_fire_after_due:.2f}",
                f"{r.load_cpu:.1f}",
                f"{r.load_cpu / r.load_wall * 100:.0f}%" if r.load_wall else "-",
                str(r.max_firing),
                f"{r.rss_start / 2**20:.0f}",
                f"{r.rss_peak / 2**20:.0f}",
                str(r.threads_peak),
                f"{r.settle_wall:.0f}" + ("" if r.settled else "+"),
                f"{r.settle_cpu:.1f}",
                f"{r.idle_cpu:.2f} / {r.idle_wall:.0f} s",
                f"{r.idle_cpu / r.idle_wall * 100:.1f}%" if r.idle_wall else "-",
            ]
        )
    out.append(
        table(
            [
                "db",
                "all fired",
                "load wall s",
                "last in Slack after last due s",
                "load cpu s",
                "load cpu",
                "max claimed unfired",
                "rss start MiB",
                "peak rss MiB",
                "threads max",
                "busy after s",
                "cpu s",
                "idle cpu",
                "idle cpu",
            ],
            rows,
        )
    )
    out += [
        "   load: from seeding until every seeded timer was fired; cpu % is of one core.",
        "   max claimed unfired: timers in state `firing` (claimed, queued or posting), "
        "sampled every 0.25 s.",
        "   busy after: seconds the process kept working after the last timer was fired (until 3 s "
        "in a row under 5% CPU; + : not quiet",
        "   within --settle), and its CPU seconds meanwhile. idle: after that, nothing due for an "
        "hour; the loop still ticks every 0.5 s.",
        "   peak rss: VmHWM of the process at the end; rss start: VmRSS once /healthz answered.",
    ]
    for r in results:
        out.append(
            f"   {r.kind}: machine load average (1 min) up to {r.load_max:.1f} during the run "
            f"({os.cpu_count()} CPUs; other processes count too)"
        )
        out.append(
            f"   {r.kind}: setup {r.channels_s:.1f} s for {r.count} stand-in channels, "
            f"{r.seed_s:.1f} s to insert the incidents, {r.seed_timers_s:.1f} s the timers (the "
            f"first due {r.lead:g} s after their insert began)"
        )
        for line in r.log:
            out.append(f"   {r.kind} bot log: {line}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--count", type=int, default=10_000, help="open incidents, one timer each")
    ap.add_argument("--spread", type=float, default=60.0, help="seconds over which they fall due")
    ap.add_argument("--lead", type=float, default=3.0, help="seconds from seeding to the first due")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    ap.add_argument(
        "--timeout", type=float, default=600.0, help="seconds after the last due time to give up"
    )
    ap.add_argument(
        "--settle", type=float, default=120.0, help="most seconds to wait for the bot to go quiet"
    )
    ap.add_argument("--workers", type=int, default=32, help="EFFECT_WORKERS of the bot")
    ap.add_argument("--pg-admin", default=PG_ADMIN, help="URL of an existing PostgreSQL database")
    args = ap.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    started = time.perf_counter()
    results = []
    for kind in kinds:
        progress(f"{kind}: {args.count} reminders over {args.spread:g} s")
        results.append(run(kind, args))
    rule = "=" * 100
    print(rule)
    print("Warroom bench: durable timers (status-update reminders)")
    print(
        "Bot: a `warroom serve` subprocess. Slack stand-in (standins.slack.api) and this "
        "driver: the bench process, same machine."
    )
    print(rule)
    print("\n".join(machine(kinds, args.pg_admin)))
    print(rule)
    print(report(results))
    print(rule)
    print(f"total run time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
