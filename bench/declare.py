"""Benchmark `/incident declare`: acknowledgement latency under open-loop load, and the time from
declaring to a ready war room (sequential), on SQLite and PostgreSQL.

Everything runs in this one process: the bot (uvicorn + Bolt + effects pool), the Slack Web API
stand-in and the load generator share the interpreter (and its GIL) and the machine's cores.
Figures are for comparison between runs on the same machine, not absolute capacity.

    .venv/bin/python bench/declare.py                      # defaults, about 4 minutes
    .venv/bin/python bench/declare.py --duration 10        # quick
    .venv/bin/python bench/declare.py --db sqlite --rate 100 --duration 20 --samples 50
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import platform
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
from common import database

from bot.config import Policy, Settings
from bot.models import Incident
from bot.runtime import Runtime
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.slack.api import Call, SlackStandIn
from standins.slack.driver import SlackDriver

SECRET = "bench-signing-secret"
TOKEN = "xoxb-sandbox"
CHANNEL = "C0GENERAL"
USERS = [f"U0BENCH{i:02d}" for i in range(16)]
PG_ADMIN = os.environ.get(
    "WARROOM_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NUMBER = re.compile(r"\*(\d{4})-(\d{2})-(\d{2})-(\d{3,})\*")
INCIDENTS = Incident.__table__
SLACK_ACK_DEADLINE = 3.0  # Slack shows the user an error when a slash command is not acked by then
POOLS: dict[str, str] = {}  # the bot's pool sizes, as built, for the header


def progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------- statistics
def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def ms(v: float) -> str:
    return "-" if math.isnan(v) else f"{v * 1000:.1f}"


class LogCounter(logging.Handler):
    """Counts warnings and errors from the bot, the stand-in and the libraries, by logger."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.levelname} {record.name}"
        with self._lock:
            self.counts[key] += 1
            self.first.setdefault(key, record.getMessage()[:140])

    def take(self) -> list[str]:
        with self._lock:
            out = [f"{n}x {k}: {self.first[k]}" for k, n in self.counts.most_common()]
            self.counts.clear()
            self.first.clear()
        return out


LOGS = LogCounter()


# -------------------------------------------------------------------------------- environment
@dataclass
class Env:
    kind: str
    url: str
    rt: Runtime
    standin: SlackStandIn
    driver: SlackDriver
    reader: Engine  # autocommit reads that take no SQLite write lock (the bot uses BEGIN IMMEDIATE)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait for effects, the events they cause, and those events' effects (one deadline)."""
        deadline = time.monotonic() + timeout
        for _ in range(3):
            if not self.rt.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
            if not self.standin.drain_events(max(0.0, deadline - time.monotonic())):
                return False
        return self.rt.wait_idle(max(0.0, deadline - time.monotonic()))


@contextlib.contextmanager
def environment(kind: str, pg_admin: str, events: bool) -> Iterator[Env]:
    """Database, Slack stand-in, runtime, uvicorn and a signed-request driver, as in the tests."""
    with database(kind, pg_admin) as url:
        standin = SlackStandIn(token=TOKEN).start()
        for i, user in enumerate(USERS):
            standin.add_user(user, f"bench{i:02d}")
        settings = Settings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=standin.api_url,
            database_url=url,
            redis_url="",
        )
        rt = build_runtime(settings, Policy())
        POOLS["text"] = (
            f"effects {rt.effects._max_workers}, fanout {rt.fanout._max_workers}, "
            f"database pool size {getattr(rt.db.engine.pool, 'size', lambda: '?')()}"
        )
        server = None
        reader = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            server = BackgroundServer(build_asgi(build_app(rt, SECRET, TOKEN), rt)).start()
            driver = SlackDriver(
                bot_url=server.url + "/slack/events", signing_secret=SECRET, standin=standin
            )
            if events:
                driver.forward_events_to_bot()
            yield Env(kind, url, rt, standin, driver, reader)
        finally:
            standin.event_sink = None
            if not rt.wait_idle(2):
                # A backlog left by the open loop: drop what has not started, finish the rest.
                progress("effects still queued at shutdown: cancelling those not started")
                rt.effects.shutdown(wait=False, cancel_futures=True)
            if server is not None:
                server.stop()
            rt.shutdown()
            standin.stop()
            reader.dispose()


def warm_up(env: Env, n: int = 5) -> None:
    """First calls pay for imports, pools, auth.test and the announcement channel lookup."""
    for i in range(n):
        env.driver.command(f"declare P1 Warm-up {env.run} {i}", user=USERS[0], channel=CHANNEL)
        env.settle()
    env.driver.close()


def declare_text(title: str) -> str:
    return f"declare P1 {title}"


# ---------------------------------------------------------------------------- 1. open loop
@dataclass
class LoadResult:
    kind: str
    rate: float
    duration: float
    senders: int
    scheduled: int = 0
    ok: int = 0
    unanswered: int = 0  # timed out, connection failed, or never sent before the deadline
    errors: Counter[str] = field(default_factory=Counter)
    from_sched: list[float] = field(default_factory=list)
    from_send: list[float] = field(default_factory=list)
    first_sched: float = 0.0
    last_send: float = 0.0
    first_send: float = 0.0
    last_done: float = 0.0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    others_seconds: float = math.nan  # CPU used by other processes (PostgreSQL among them)
    max_effects_pending: int = 0
    max_events_pending: int = 0
    db_errors: Counter[str] = field(default_factory=Counter)
    drain_seconds: float = math.nan
    drain_cap: float = 0.0
    declared: int = 0
    ready: int = 0
    failed: int = 0
    ready_delays: list[float] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


def run_load(
    env: Env, rate: float, duration: float, senders: int, grace: float, drain: float
) -> LoadResult:
    """Open loop: request i is due at start + i/rate whatever happened to earlier ones; a pool
    of sender threads takes due requests from a queue, so a slow answer never delays a send
    beyond what the senders can carry (that wait counts in the latency from the schedule)."""
    n = max(1, int(rate * duration))
    res = LoadResult(env.kind, rate, duration, senders, scheduled=n)
    work: queue.SimpleQueue[tuple[int, float] | None] = queue.SimpleQueue()
    # (scheduled, actual send or None if never sent, done, error or "") per request
    rows: list[tuple[float, float | None, float, str] | None] = [None] * n
    prefix = f"Load {env.run}"
    start = time.perf_counter() + 0.05
    deadline = start + duration + grace  # not sent by then: counted as unanswered

    def sender() -> None:
        try:
            while (item := work.get()) is not None:
                i, sched = item
                sent = time.perf_counter()
                if sent > deadline:
                    rows[i] = (sched, None, sent, "not sent: every sender busy until the deadline")
                    continue
                title = f"{prefix} {i:06d} payments API errors"
                try:
                    r = env.driver.command(
                        declare_text(title), user=USERS[i % len(USERS)], channel=CHANNEL
                    )
                    done = time.perf_counter()
                    if r.status != 200:
                        err = f"HTTP {r.status}: {r.body[:60]}"
                    elif "Declared" not in r.body:
                        err = f"reply: {((r.json or {}).get('text') or r.body)[:70]}"
                    else:
                        err = ""
                except Exception as e:  # a timeout or a refused connection is an error too
                    done, err = time.perf_counter(), f"no response: {e.__class__.__name__} {e}"
                rows[i] = (sched, sent, done, err[:90])
        finally:
            env.driver.close()

    threads = [
        threading.Thread(target=sender, name=f"bench-sender-{k}", daemon=True)
        for k in range(senders)
    ]
    for t in threads:
        t.start()

    stop_sampling = threading.Event()

    def sampler() -> None:  # backlog of the bot's effects pool and of the stand-in's events
        while not stop_sampling.wait(0.1):
            res.max_effects_pending = max(res.max_effects_pending, env.rt._pending)
            res.max_events_pending = max(res.max_events_pending, env.standin._pending)

    def on_db_error(ctx: Any) -> None:  # errors the bot's engine saw, handled or not
        first = str(ctx.original_exception).splitlines()[0]
        res.db_errors[f"{type(ctx.original_exception).__name__}: {first[:80]}"] += 1

    event.listen(env.rt.db.engine, "handle_error", on_db_error)
    sampling = threading.Thread(target=sampler, daemon=True)
    sampling.start()
    cpu0, wall0, busy0 = time.process_time(), time.perf_counter(), machine_busy_seconds()
    for i in range(n):
        sched = start + i / rate
        delay = sched - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        work.put((i, sched))  # never waits for a sender to be free
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    res.cpu_seconds = time.process_time() - cpu0
    res.wall_seconds = time.perf_counter() - wall0
    res.others_seconds = machine_busy_seconds() - busy0 - res.cpu_seconds

    done_rows = [r for r in rows if r is not None]
    for sched, sent, done, err in done_rows:
        if err:
            res.errors[err] += 1
        else:
            res.ok += 1
        if err.startswith(("no response", "not sent")):
            res.unanswered += 1
        # Without an answer the latency is at least the time until we gave up: keep that
        # lower bound rather than dropping the slowest requests.
        res.from_sched.append(done - sched)
        if sent is not None:
            res.from_send.append(done - sent)
    sends = [r[1] for r in done_rows if r[1] is not None]
    res.first_sched = start
    res.first_send, res.last_send = min(sends, default=start), max(sends, default=start)
    res.last_done = max(r[2] for r in done_rows)

    # The war rooms these declarations started: how long until the effects pool caught up.
    t0 = time.perf_counter()
    idle = env.settle(timeout=drain)
    res.drain_seconds = time.perf_counter() - t0 if idle else math.nan
    res.drain_cap = drain
    stop_sampling.set()
    sampling.join()
    event.remove(env.rt.db.engine, "handle_error", on_db_error)
    with env.reader.connect() as c:
        found = c.execute(
            select(INCIDENTS.c.declared_at, INCIDENTS.c.ready_at, INCIDENTS.c.setup_error).where(
                INCIDENTS.c.title.like(f"{prefix} %")
            )
        ).all()
    res.declared = len(found)
    res.failed = sum(1 for f in found if f.setup_error)
    res.ready_delays = [(f.ready_at - f.declared_at).total_seconds() for f in found if f.ready_at]
    res.ready = len(res.ready_delays)
    res.logs = LOGS.take()
    return res


# ------------------------------------------------------------------ 2. declaration to ready
@dataclass
class ReadyResult:
    kind: str
    latency: float
    ack: list[float] = field(default_factory=list)
    observed: list[float] = field(default_factory=list)  # polled at 1 ms
    pinned: list[float] = field(default_factory=list)  # the alert's pin, which follows ready
    recorded: list[float] = field(default_factory=list)  # ready_at column minus send wall clock
    failures: Counter[str] = field(default_factory=Counter)
    waves: list[list[Call]] = field(default_factory=list)
    trace_send: float = 0.0
    trace_ready: float = 0.0
    trace_pinned: float = 0.0
    logs: list[str] = field(default_factory=list)


def declare_and_wait(env: Env, title: str, user: str, timeout: float = 30.0) -> dict[str, Any]:
    """Send one declaration; poll the incident's ready_at every millisecond until it is set."""
    wall, t0 = datetime.now(UTC), time.perf_counter()
    mono0 = time.monotonic()
    r = env.driver.command(declare_text(title), user=user, channel=CHANNEL)
    ack = time.perf_counter() - t0
    m = NUMBER.search(r.body)
    if r.status != 200 or m is None:
        return {"error": f"HTTP {r.status}: {r.body[:80]}"}
    day = date(int(m[1]), int(m[2]), int(m[3]))
    q = select(INCIDENTS.c.ready_at, INCIDENTS.c.alert_pinned, INCIDENTS.c.setup_error).where(
        INCIDENTS.c.day == day, INCIDENTS.c.seq == int(m[4])
    )
    ready = None
    with env.reader.connect() as c:
        while True:
            row = c.execute(q).first()
            now = time.perf_counter()
            if ready is None and row is not None and row.ready_at is not None:
                ready, ready_row, mono_ready = now, row, time.monotonic()
            if ready is not None and row.alert_pinned:
                break
            if row is not None and row.setup_error:
                return {"error": f"setup failed: {row.setup_error[:80]}"}
            if now - t0 > timeout:
                return {"error": "not ready in time" if ready is None else "not pinned in time"}
            time.sleep(0.001)
    return {
        "ack": ack,
        "observed": ready - t0,
        "pinned": now - t0,
        "recorded": (ready_row.ready_at - wall).total_seconds(),
        "mono_send": mono0,
        "mono_ready": mono_ready,
        "mono_pinned": time.monotonic(),
    }


def run_ready(env: Env, samples: int, latency: float, trace: bool) -> ReadyResult:
    env.standin.latency = latency
    res = ReadyResult(env.kind, latency)
    for i in range(samples):
        out = declare_and_wait(
            env, f"Ready {env.run} L{latency:g} {i:04d} login fails", USERS[i % len(USERS)]
        )
        if "error" in out:
            res.failures[out["error"]] += 1
        else:
            res.ack.append(out["ack"])
            res.observed.append(out["observed"])
            res.pinned.append(out["pinned"])
            res.recorded.append(out["recorded"])
        env.settle()  # the next declaration starts on a quiet bot
    if trace:
        # One more, with events detached, so only the war-room setup's own calls are recorded.
        sink, env.standin.event_sink = env.standin.event_sink, None
        try:
            env.standin.reset_calls()
            out = declare_and_wait(env, f"Trace {env.run} L{latency:g} db pool exhausted", USERS[0])
            env.settle()
            if "error" not in out:
                res.trace_send, res.trace_ready = out["mono_send"], out["mono_ready"]
                res.trace_pinned = out["mono_pinned"]
                calls = [c for c in env.standin.calls if c.at <= out["mono_pinned"]]
                res.waves = waves(calls, latency)
        finally:
            env.standin.event_sink = sink
    env.standin.latency = 0.0
    res.logs = LOGS.take()
    return res


def waves(calls: list[Call], latency: float) -> list[list[Call]]:
    """Group calls into sequential round trips: a call that arrives after every call of the
    current wave has finished (arrival + latency) starts the next wave."""
    out: list[list[Call]] = []
    end = -math.inf
    for c in sorted(calls, key=lambda c: c.at):
        if not out or c.at >= end:
            out.append([c])
            end = c.at + latency
        else:
            out[-1].append(c)
            end = max(end, c.at + latency)
    return out


# -------------------------------------------------------------------------------- 3. machine
def machine(kinds: list[str], pg_admin: str) -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    mem = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        kb = next((int(ln.split()[1]) for ln in f if ln.startswith("MemTotal:")), 0)
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"date        {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"nproc       {usable} (os.cpu_count {os.cpu_count()})",
        f"cpu         {cpu}",
        f"memory      {mem}",
        f"python      {platform.python_version()} ({platform.python_implementation()}) "
        f"on {platform.platform()}",
        f"sqlite      {sqlite3.sqlite_version}",
        f"code        {git_revision()}",
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


def machine_busy_seconds() -> float:
    """CPU seconds all processes have spent busy since boot (NaN where /proc/stat is missing)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return math.nan
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def git_revision() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "-C", root, "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{head[:70]}" + (f" + {len(dirty)} uncommitted changed files" if dirty else "")


# ---------------------------------------------------------------------------------- report
def table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*head), "  ".join("-" * w for w in widths)]
    return "\n".join(lines + [fmt.format(*r) for r in rows])


def report_load(results: list[LoadResult], acks_only: bool) -> str:
    rows = []
    for r in results:
        span = r.last_send - r.first_send
        sent_rate = (len(r.from_send) - 1) / span if span > 0 else math.nan
        ok_rate = r.ok / (r.last_done - r.first_sched) if r.last_done > r.first_sched else 0.0
        for label, vals in (("schedule", r.from_sched), ("actual send", r.from_send)):
            rows.append(
                [
                    r.kind,
                    label,
                    str(len(vals)),
                    str(r.ok),
                    str(sum(r.errors.values())),
                    str(r.unanswered),
                    ms(pct(vals, 50)),
                    ms(pct(vals, 95)),
                    ms(pct(vals, 99)),
                    ms(max(vals, default=math.nan)),
                    str(sum(1 for v in vals if v > SLACK_ACK_DEADLINE)),
                    f"{sent_rate:.1f}",
                    f"{ok_rate:.1f}",
                ]
            )
    r0 = results[0]
    head = [
        "db",
        "latency from",
        "n",
        "ok",
        "errors",
        "no answer",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "> 3 s",
        "sent/s",
        "ok acks/s",
    ]
    out = [
        f"1. Acknowledgement latency of /incident declare P1 <unique title>: open loop, "
        f"{r0.rate:g}/s for {r0.duration:g} s ({r0.scheduled} requests scheduled)",
        f"   {r0.senders} sender threads, each with its own keep-alive connection; client-side "
        "time to the full HTTP response, from the",
        "   scheduled send time (includes waiting for a free sender) and from the actual send. "
        "errors: non-200, a reply without",
        "   'Declared', or no answer (timeout / not sent within the grace period: counted at the "
        "time we gave up, a lower bound).",
        "   > 3 s: acks later than Slack's 3-second limit (the user would see a timeout error). "
        "The bot and stand-in are in-process.",
        "   "
        + (
            "--acks-only: war rooms NOT opened (diagnostic)."
            if acks_only
            else "Every declaration also opens its war room in the bot's effects pool meanwhile."
        ),
        "",
        table(head, rows),
        "",
        "   The war rooms those declarations started (ready_at − declared_at, from the database):",
        "",
    ]
    rows = []
    for r in results:
        rows.append(
            [
                r.kind,
                f"{r.cpu_seconds / r.wall_seconds * 100:.0f}%",
                f"{r.others_seconds / r.wall_seconds * 100:.0f}%",
                str(r.max_effects_pending),
                str(r.max_events_pending),
                f">{r.drain_cap:g}" if math.isnan(r.drain_seconds) else f"{r.drain_seconds:.1f}",
                str(r.declared),
                str(r.ready),
                str(r.failed),
                str(r.declared - r.ready - r.failed),
                ms(pct(r.ready_delays, 50)),
                ms(pct(r.ready_delays, 95)),
                ms(pct(r.ready_delays, 99)),
                ms(max(r.ready_delays, default=math.nan)),
            ]
        )
    head = [
        "db",
        "cpu",
        "others",
        "effects queued max",
        "events queued max",
        "drain s",
        "incidents",
        "ready",
        "failed",
        "not ready",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
    ]
    out += [
        table(head, rows),
        "   cpu: process CPU time / wall time over the load (bot + stand-in + load generator; "
        "100% = one core, the GIL allows about that);",
        "   others: CPU used meanwhile by every other process on the machine (PostgreSQL's "
        "backends, and anything else running: check it is small).",
        "   effects/events queued: most war-room jobs waiting or running in the bot, and most "
        "Slack events waiting in the stand-in, sampled every 100 ms.",
        "   drain: from the end of the load until the bot was idle; not ready: still queued "
        "then (cancelled; the percentiles leave them out).",
    ]
    for r in results:
        for err, n in r.errors.most_common(4):
            out.append(f"   {r.kind} error: {n}x {err}")
        for err, n in r.db_errors.most_common(3):
            out.append(f"   {r.kind} database error seen by the bot: {n}x {err}")
        for line in r.logs[:4]:
            out.append(f"   {r.kind} log: {line}")
    return "\n".join(out)


def report_ready(results: list[ReadyResult]) -> str:
    rows = []
    for r in results:
        rows.append(
            [
                r.kind,
                f"{r.latency * 1000:g} ms",
                str(len(r.observed)),
                str(sum(r.failures.values())),
                ms(pct(r.ack, 50)),
                ms(pct(r.observed, 50)),
                ms(pct(r.observed, 95)),
                ms(max(r.observed, default=math.nan)),
                ms(pct(r.pinned, 50)),
                ms(pct(r.pinned, 95)),
                ms(pct(r.recorded, 50)),
                ms(pct(r.recorded, 95)),
                ms(max(r.recorded, default=math.nan)),
            ]
        )
    out = [
        "2. Declaration to ready war room, sequential (one at a time, the bot idle in between)",
        "   observed: from sending the command to seeing ready_at set (DB polled every 1 ms); "
        "pinned: to seeing alert_pinned set (the pin follows ready);\n"
        "   recorded: ready_at (bot's clock) − wall clock at send.",
        "",
        table(
            [
                "db",
                "slack latency",
                "n",
                "fail",
                "ack p50",
                "observed p50",
                "p95",
                "max",
                "pinned p50",
                "p95",
                "recorded p50",
                "p95",
                "max",
            ],
            rows,
        ),
        "   (all times in ms)",
    ]
    for r in results:
        for err, n in r.failures.most_common(5):
            out.append(f"   {r.kind} failure: {n}x {err}")
        for line in r.logs[:6]:
            out.append(f"   {r.kind} log: {line}")
    for r in results:
        if not r.waves:
            continue
        out += [
            "",
            f"   Slack round trips on the critical path, one declaration, {r.kind}, stand-in "
            f"latency {r.latency * 1000:g} ms per call: {len(r.waves)} sequential waves",
            "   (warm bot: auth.test and the #incidents lookup were cached by earlier declarations;"
            f" events not forwarded for this one; ready observed "
            f"{(r.trace_ready - r.trace_send) * 1000:.0f} ms after sending, pinned "
            f"{(r.trace_pinned - r.trace_send) * 1000:.0f} ms)",
        ]
        for k, wave in enumerate(r.waves, 1):
            start = (wave[0].at - r.trace_send) * 1000
            methods = ", ".join(c.method for c in wave)
            out.append(f"     wave {k}  +{start:6.0f} ms  {methods}")
    return "\n".join(out)


# ------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--rate", type=float, default=50.0, help="declarations per second (open loop)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of open-loop load")
    ap.add_argument("--senders", type=int, default=200, help="sender threads for the open loop")
    ap.add_argument("--samples", type=int, default=100, help="sequential declarations, no latency")
    ap.add_argument(
        "--slow-samples",
        type=int,
        default=20,
        help="sequential declarations with --latency (each takes ~0.5 s; keeps the run short)",
    )
    ap.add_argument("--latency", type=float, default=0.15, help="stand-in seconds per Slack call")
    ap.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds after the schedule ends in which a queued request may still be sent",
    )
    ap.add_argument(
        "--drain",
        type=float,
        default=10.0,
        help="seconds to wait after the open loop for the war rooms it started (rest cancelled)",
    )
    ap.add_argument(
        "--acks-only",
        action="store_true",
        help="diagnostic: do not open war rooms during the open loop (acks alone)",
    )
    ap.add_argument("--no-events", action="store_true", help="do not forward Slack events")
    ap.add_argument("--pg-admin", default=PG_ADMIN, help="URL of an existing PostgreSQL database")
    args = ap.parse_args(argv)

    # A plain kill should still stop the servers and drop the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.CRITICAL)  # the counter below reports warnings instead
    logging.getLogger().addHandler(LOGS)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    started, busy0, load0 = time.perf_counter(), machine_busy_seconds(), load_average()
    cpu0 = time.process_time()
    loads: list[LoadResult] = []
    readies: list[ReadyResult] = []
    for kind in kinds:
        # Sequential first: the open loop leaves threads and queues behind that would skew it.
        progress(f"{kind}: sequential declare-to-ready, {args.samples} + {args.slow_samples}")
        with environment(kind, args.pg_admin, not args.no_events) as env:
            warm_up(env)
            LOGS.take()
            readies.append(run_ready(env, args.samples, 0.0, trace=False))
            if args.slow_samples > 0:
                readies.append(run_ready(env, args.slow_samples, args.latency, trace=True))
        progress(f"{kind}: open loop, {args.rate:g}/s for {args.duration:g} s")
        with environment(kind, args.pg_admin, not args.no_events) as env:
            warm_up(env)
            LOGS.take()
            if args.acks_only:
                env.rt.submit = lambda fn, *a: None  # type: ignore[method-assign]
            loads.append(
                run_load(env, args.rate, args.duration, args.senders, args.grace, args.drain)
            )

    rule = "=" * 100
    print(rule)
    print("Warroom bench: /incident declare")
    print(
        "Bot, Slack stand-in (standins.slack.api) and load generator run in ONE Python "
        "process (shared GIL and cores)."
    )
    print(
        f"Events forwarded to the bot: {'no' if args.no_events else 'yes'}; redis: none "
        f"(NoOnce); bot thread pools: {POOLS.get('text', '?')}."
    )
    print(rule)
    print("\n".join(machine(kinds, args.pg_admin)))
    wall = time.perf_counter() - started
    others = machine_busy_seconds() - busy0 - (time.process_time() - cpu0)
    print(f"load avg    {load0} at start, {load_average()} at end (1, 5, 15 min)")
    print(
        f"others      other processes used {others / wall * 100:.0f}% of one core on average "
        "during the run (PostgreSQL included; more than that means a busy machine)"
    )
    print(rule)
    print(report_load(loads, args.acks_only))
    print(rule)
    print(report_ready(readies))
    print(rule)
    print(f"total run time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
