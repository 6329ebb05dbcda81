"""PostgreSQL diagnostics: connections, activity, locks, slow queries, database sizes."""

from __future__ import annotations

from typing import Any

from bot.config import Policy
from bot.targets import Targets
from bot.targets import postgres as pg
from commands.actions.args import bounded_int, split, target_name
from commands.actions.registry import Action, Output, Plan, register
from commands.actions.table import table

TIMEOUT_S = 10


def _parser(name: str, what: str, with_limit: bool):
    usage = f"`/incident run {name} <target>" + (" [--limit N]`" if with_limit else "`")

    def parse(text: str, policy: Policy) -> Plan:
        a = split(text, usage, {"limit": True} if with_limit else {})
        if len(a.positional) != 1:
            raise_usage(usage)
        target = target_name(a.positional[0], "PostgreSQL", list(policy.targets.postgres))
        params: dict[str, Any] = {"target": target}
        if with_limit:
            params["limit"] = bounded_int(a.options.get("limit", 20), "--limit", 1, 200)
        return Plan(params, f"postgres `{target}`", f"{what} on PostgreSQL `{target}` (read-only)")

    return usage, parse


def raise_usage(usage: str) -> None:
    from bot.errors import UserError

    raise UserError(f"Usage: {usage}")


def _define(name: str, summary: str, sql_run, columns: list[str], with_limit: bool = False) -> None:
    usage, parse = _parser(name, summary, with_limit)

    def run(t: Targets, p: dict[str, Any]) -> Output:
        rows = sql_run(t.postgres_dsn(p["target"]), p)
        text = table(rows, columns)
        return Output(True, f"{len(rows)} row(s)", text, f"{name}.txt")

    register(Action(name, "diagnostic", usage, summary, parse, run))


_define(
    "pg-connections",
    "connection count by database, user and state",
    lambda dsn, p: pg.query(dsn, pg.CONNECTIONS, timeout_s=TIMEOUT_S),
    ["datname", "usename", "state", "n"],
)
_define(
    "pg-activity",
    "non-idle sessions, longest first",
    lambda dsn, p: pg.query(dsn, pg.ACTIVITY, (p["limit"],), TIMEOUT_S),
    ["pid", "usename", "state", "seconds", "wait_event", "query"],
    with_limit=True,
)
_define(
    "pg-locks",
    "lock waits with the blocking pids",
    lambda dsn, p: pg.query(dsn, pg.LOCKS, (p["limit"],), TIMEOUT_S),
    ["waiting_pid", "blocked_by", "mode", "relation", "seconds", "query"],
    with_limit=True,
)
_define(
    "pg-slow-queries",
    "top statements by total time (pg_stat_statements)",
    lambda dsn, p: pg.slow_queries(dsn, p["limit"], TIMEOUT_S),
    ["calls", "total_ms", "mean_ms", "query"],
    with_limit=True,
)
_define(
    "pg-sizes",
    "database sizes",
    lambda dsn, p: pg.query(dsn, pg.SIZES, timeout_s=TIMEOUT_S),
    ["datname", "size"],
)
