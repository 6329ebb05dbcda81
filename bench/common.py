"""Shared bits of the benchmarks: the machine line and percentiles."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime


def machine() -> str:
    with open("/proc/cpuinfo") as f:
        cpuinfo = f.read().splitlines()
    with open("/proc/meminfo") as f:
        meminfo = f.read().splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )
    mem = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return (
        f"{os.cpu_count()} cores, {cpu}, {mem / 1024 / 1024:.0f} GiB, Python "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}"
    )


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]
