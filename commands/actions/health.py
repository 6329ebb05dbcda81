"""HTTP health checks of allow-listed URLs: status and latency over N samples."""

from __future__ import annotations

import statistics
from typing import Any

from bot.config import Policy
from bot.errors import UserError
from bot.targets import Targets
from bot.targets.http_check import check, shown
from commands.actions.args import bounded_int, split, target_name
from commands.actions.registry import Action, Output, Plan, register

USAGE = "`/incident run health <name> [--samples N]`"


def parse(text: str, policy: Policy) -> Plan:
    a = split(text, USAGE, {"samples": True})
    if len(a.positional) != 1:
        raise UserError(f"Usage: {USAGE}")
    name = target_name(a.positional[0], "health-check", list(policy.targets.http))
    samples = bounded_int(a.options.get("samples", 5), "--samples", 1, 20)
    url = shown(policy.targets.http[name])
    return Plan({"target": name, "samples": samples}, f"http `{name}`", f"GET {url} x{samples}")


def run(t: Targets, p: dict[str, Any]) -> Output:
    samples = check(t.http_url(p["target"]), p["samples"], timeout_s=5)
    lines = [
        f"{i + 1:>2}  {s.status or 'ERR':>3}  {s.ms:8.1f} ms  {s.error}".rstrip()
        for i, s in enumerate(samples)
    ]
    ok = [s for s in samples if s.status is not None and 200 <= s.status < 400]
    ms = [s.ms for s in samples]
    summary = (
        f"{len(ok)}/{len(samples)} healthy, median {statistics.median(ms):.0f} ms, "
        f"max {max(ms):.0f} ms"
    )
    return Output(True, summary, "\n".join(lines), "health.txt")  # unhealthy is a finding


register(
    Action(
        "health", "diagnostic", USAGE, "HTTP status and latency of a health endpoint", parse, run
    )
)
