"""Shared bits of the benchmarks: the machine line and percentiles."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from bot.migrate import upgrade


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


@contextlib.contextmanager
def database(kind: str, pg_admin: str) -> Iterator[str]:
    """A fresh, migrated database, removed afterwards."""
    if kind == "sqlite":
        tmp = tempfile.mkdtemp(prefix="warroom-bench-")
        url = f"sqlite:///{tmp}/warroom.db"
        try:
            upgrade(url)
            yield url
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    name = f"warroom_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = pg_admin.rsplit("/", 1)[0] + f"/{name}"
            upgrade(url)
            yield url
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
