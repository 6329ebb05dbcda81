"""Benchmark: importing the five runbooks of ../shared/runbooks, and loading the playbook library.

Prints the time to import each runbook (parse, map every line, check each mapped line with the
action's own parser), to load and validate the shipped library from cold, and the cost of a
lookup when nothing changed (the per-request check of file times). Not a test.

    .venv/bin/python bench/playbooks.py [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import machine, pct

from bot.playbooks.library import Library, to_yaml
from bot.playbooks.markdown import import_runbook
from commands.actions.playbooks import registry_check

RUNBOOKS = Path(__file__).resolve().parent.parent.parent / "shared" / "runbooks"


def _ms(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    check = registry_check()
    print(machine())
    files = sorted(RUNBOOKS.iterdir())
    total = []
    for f in files:
        text = f.read_text()
        result = import_runbook(text, f.name, check=check)
        times = _ms(lambda t=text, n=f.name: import_runbook(t, n, check=check), args.runs)
        total.append(statistics.median(times))
        steps = sum(len(p.steps()) for p in result.playbooks)
        mapped = sum(e.outcome == "action" for e in result.report)
        print(
            f"import {f.name}: {len(text.splitlines())} lines -> {len(result.playbooks)} "
            f"playbooks, {steps} steps, {mapped} lines mapped; median "
            f"{statistics.median(times):.2f} ms, p95 {pct(times, 95):.2f} ms"
        )
    print(f"all five runbooks: {sum(total):.1f} ms (sum of medians)")

    cold = _ms(lambda: Library(check=check).reload(), args.runs)
    print(f"shipped library, load and validate from cold: median {statistics.median(cold):.2f} ms")
    with tempfile.TemporaryDirectory() as d:
        for f in files:
            pbs = import_runbook(f.read_text(), f.name, check=check).playbooks
            (Path(d) / f"{f.stem}.yaml").write_text(to_yaml(pbs))
        lib = Library([d], check=check)
        warm = _ms(lib.names, args.runs * 20)
        print(
            f"lookup with 6 shipped + {len(files)} team files, nothing changed: median "
            f"{statistics.median(warm) * 1000:.0f} µs, p95 {pct(warm, 95) * 1000:.0f} µs"
        )


if __name__ == "__main__":
    main()
