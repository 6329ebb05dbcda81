"""Redis diagnostics: PING latency, INFO summary, SLOWLOG."""

from __future__ import annotations

import statistics
from typing import Any

from bot.config import Policy
from bot.errors import UserError
from bot.targets import Targets
from bot.targets import redis_target as rd
from commands.actions.args import bounded_int, split, target_name
from commands.actions.registry import Action, Output, Plan, register
from commands.actions.table import table

TIMEOUT_S = 5


def _plan(
    name: str,
    text: str,
    policy: Policy,
    option: str | None,
    lo: int,
    hi: int,
    default: int,
    what: str,
) -> Plan:
    usage = f"`/incident run {name} <target>" + (f" [--{option} N]`" if option else "`")
    a = split(text, usage, {option: True} if option else {})
    if len(a.positional) != 1:
        raise UserError(f"Usage: {usage}")
    target = target_name(a.positional[0], "Redis", list(policy.targets.redis))
    params: dict[str, Any] = {"target": target}
    if option:
        params[option] = bounded_int(a.options.get(option, default), f"--{option}", lo, hi)
    return Plan(params, f"redis `{target}`", f"{what} on Redis `{target}`")


def _ping_run(t: Targets, p: dict[str, Any]) -> Output:
    ms = rd.ping(t.redis_url(p["target"]), p["samples"], TIMEOUT_S)
    text = (
        f"PONG x{len(ms)}  min {min(ms):.2f} ms  median {statistics.median(ms):.2f} ms  "
        f"max {max(ms):.2f} ms"
    )
    return Output(True, text, text, "redis-ping.txt")


def _info_run(t: Targets, p: dict[str, Any]) -> Output:
    info = rd.info(t.redis_url(p["target"]), TIMEOUT_S)
    lines = [
        f"[{sec}]\n" + "\n".join(f"  {k}: {v}" for k, v in kv.items()) for sec, kv in info.items()
    ]
    mem, stats = info["memory"], info["stats"]
    summary = (
        f"memory {mem['used_memory_human']} / {mem['maxmemory_human']}, clients "
        f"{info['clients']['connected_clients']}, {stats['instantaneous_ops_per_sec']} ops/s, "
        f"evicted {stats['evicted_keys']}"
    )
    return Output(True, summary, "\n".join(lines), "redis-info.txt")


def _slowlog_run(t: Targets, p: dict[str, Any]) -> Output:
    entries = rd.slowlog(t.redis_url(p["target"]), p["count"], TIMEOUT_S)
    rows = [
        {
            "id": e.get("id"),
            "micros": e.get("duration"),
            "command": (e.get("command") or b"").decode("utf-8", "replace")
            if isinstance(e.get("command"), bytes)
            else e.get("command"),
        }
        for e in entries
    ]
    return Output(
        True,
        f"{len(rows)} slow command(s)",
        table(rows, ["id", "micros", "command"]),
        "redis-slowlog.txt",
    )


register(
    Action(
        "redis-ping",
        "diagnostic",
        "`/incident run redis-ping <target> [--samples N]`",
        "PING round trips with latency",
        lambda text, pol: _plan("redis-ping", text, pol, "samples", 1, 50, 5, "PING"),
        _ping_run,
    )
)
register(
    Action(
        "redis-info",
        "diagnostic",
        "`/incident run redis-info <target>`",
        "INFO summary: memory, clients, ops, evictions",
        lambda text, pol: _plan("redis-info", text, pol, None, 0, 0, 0, "INFO"),
        _info_run,
    )
)
register(
    Action(
        "redis-slowlog",
        "diagnostic",
        "`/incident run redis-slowlog <target> [--count N]`",
        "the slowest recent commands",
        lambda text, pol: _plan("redis-slowlog", text, pol, "count", 1, 128, 10, "SLOWLOG GET"),
        _slowlog_run,
    )
)
