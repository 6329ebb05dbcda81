"""Terminating runaway PostgreSQL queries: preview the backends, terminate exactly those."""

from __future__ import annotations

from typing import Any

from bot.config import Policy
from bot.errors import UserError
from bot.models import ActionRequest
from bot.targets import Targets
from bot.targets import postgres as pg
from commands.actions.args import duration_seconds, split, target_name
from commands.actions.registry import Action, Output, Plan, Verdict, register
from commands.actions.table import table

USAGE = "`/incident kill-queries <target> --older-than 5m`"
MAX_BACKENDS = 50
TIMEOUT_S = 10


def parse(text: str, policy: Policy) -> Plan:
    a = split(text, USAGE, {"older-than": True})
    if len(a.positional) != 1 or "older-than" not in a.options:
        raise UserError(f"Usage: {USAGE}")
    target = target_name(a.positional[0], "PostgreSQL", list(policy.targets.postgres))
    older = duration_seconds(a.options["older-than"], "--older-than", 86400)
    return Plan({"target": target, "older_than": older}, f"postgres `{target}`", "")


def prepare(t: Targets, plan: Plan, policy: Policy) -> Plan:
    p = plan.params
    rows = pg.runaway(t.postgres_dsn(p["target"]), p["older_than"], MAX_BACKENDS, TIMEOUT_S)
    if not rows:
        raise UserError(
            f"No active query on `{p['target']}` has run longer than "
            f"{p['older_than']} s; nothing to terminate."
        )
    backends = [[r["pid"], r["backend_start"].isoformat()] for r in rows]
    shown = table(rows, ["pid", "usename", "state", "seconds", "query"], 80)
    preview = (
        f"terminate these {len(rows)} backend(s) on PostgreSQL `{p['target']}` "
        f"(active longer than {p['older_than']} s):\n```\n{shown}\n```"
    )
    return Plan({**p, "backends": backends}, plan.target, preview)


def run(t: Targets, p: dict[str, Any]) -> Output:
    rows = pg.terminate(
        t.postgres_dsn(p["target"]),
        [(int(pid), started) for pid, started in p["backends"]],
        TIMEOUT_S,
    )
    done = [r["pid"] for r in rows if r["terminated"]]
    gone = len(p["backends"]) - len(rows)
    summary = f"terminated {len(done)} backend(s)" + (
        f"; {gone} had already finished" if gone else ""
    )
    return Output(True, summary, "terminated pids: " + ", ".join(map(str, done)) if done else "")


def check(t: Targets, req: ActionRequest) -> Verdict:
    """The termination is one statement: if any previewed backend is still there, it did not run."""
    p = req.params
    backends = [(int(pid), started) for pid, started in p["backends"]]
    still = pg.present(t.postgres_dsn(p["target"]), backends, TIMEOUT_S)
    if still:
        pids = ", ".join(map(str, still))
        return Verdict(
            False,
            f"PostgreSQL shows {len(still)} of the {len(backends)} previewed backend(s) "
            f"still there (pids {pids})",
        )
    return Verdict(
        True, f"PostgreSQL shows none of the {len(backends)} previewed backend(s) still there"
    )


register(
    Action(
        "kill-queries",
        "remediation",
        USAGE,
        "terminate active queries older than a threshold (previewed, exact pids)",
        parse,
        run,
        prepare,
        check,
        lambda p: f"{p['target']} --older-than {p['older_than']}s",
    )
)
