"""PostgreSQL diagnostics over psycopg 3: read-only sessions with a statement timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bot.targets import TargetError

Row = dict[str, Any]


@contextmanager
def session(dsn: str, timeout_s: float, read_only: bool = True) -> Iterator[psycopg.Connection]:
    dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(
            dsn,
            connect_timeout=max(1, int(timeout_s)),
            autocommit=True,
            row_factory=dict_row,
            application_name="warroom",
        )
    except psycopg.OperationalError as e:
        # psycopg's message can echo the DSN; say only what failed.
        raise TargetError(f"Could not connect to PostgreSQL ({_first_line(e)}).") from None
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
            if read_only:
                cur.execute("SET default_transaction_read_only = on")
        yield conn
    finally:
        conn.close()


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
    # drop anything that looks like connection parameters
    return text.split(" (")[0][:200]


def query(dsn: str, sql: str, params: tuple[Any, ...] = (), timeout_s: float = 10) -> list[Row]:
    with session(dsn, timeout_s) as conn, conn.cursor() as cur:
        try:
            cur.execute(sql, params)  # type: ignore[arg-type]
        except psycopg.errors.QueryCanceled:
            raise TargetError(
                f"The query took longer than {timeout_s:g} s and was cancelled."
            ) from None
        return list(cur.fetchall())


CONNECTIONS = """
SELECT datname, usename, state, count(*) AS n
FROM pg_stat_activity WHERE backend_type = 'client backend'
GROUP BY 1, 2, 3 ORDER BY n DESC"""

ACTIVITY = """
SELECT pid, usename, datname, state, wait_event_type, wait_event,
       EXTRACT(EPOCH FROM now() - query_start)::int AS seconds, left(query, 300) AS query
FROM pg_stat_activity
WHERE state <> 'idle' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
ORDER BY query_start NULLS LAST LIMIT %s"""

LOCKS = """
SELECT w.pid AS waiting_pid, w.usename AS waiting_user, l.locktype, l.mode,
       l.relation::regclass::text AS relation, pg_blocking_pids(w.pid) AS blocked_by,
       EXTRACT(EPOCH FROM now() - w.query_start)::int AS seconds, left(w.query, 200) AS query
FROM pg_locks l JOIN pg_stat_activity w ON w.pid = l.pid
WHERE NOT l.granted ORDER BY w.query_start LIMIT %s"""

SLOW = """
SELECT left(query, 300) AS query, calls, round(total_exec_time::numeric, 1) AS total_ms,
       round(mean_exec_time::numeric, 1) AS mean_ms
FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT %s"""

SIZES = """
SELECT datname, pg_size_pretty(pg_database_size(datname)) AS size,
       pg_database_size(datname) AS bytes
FROM pg_database WHERE datallowconn ORDER BY bytes DESC"""


def slow_queries(dsn: str, limit: int, timeout_s: float) -> list[Row]:
    try:
        return query(dsn, SLOW, (limit,), timeout_s)
    except psycopg.errors.UndefinedTable:
        raise TargetError(
            "pg_stat_statements is not installed in that database "
            "(CREATE EXTENSION pg_stat_statements, and preload it)."
        ) from None
    except psycopg.errors.ObjectNotInPrerequisiteState:
        raise TargetError("pg_stat_statements must be in shared_preload_libraries.") from None


RUNAWAY = """
SELECT pid, usename, state, backend_start,
       EXTRACT(EPOCH FROM now() - query_start)::int AS seconds, left(query, 200) AS query
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()
  AND coalesce(application_name, '') <> 'warroom'
  AND query_start < now() - make_interval(secs => %s)
ORDER BY query_start LIMIT %s"""

TERMINATE = """
SELECT a.pid, pg_terminate_backend(a.pid) AS terminated
FROM pg_stat_activity a
JOIN unnest(%s::int[], %s::timestamptz[]) AS t(pid, started)
  ON a.pid = t.pid AND a.backend_start = t.started
WHERE a.pid <> pg_backend_pid()"""


def runaway(dsn: str, older_than_s: int, limit: int, timeout_s: float) -> list[Row]:
    """Active client queries older than the threshold; never our own, never replication."""
    return query(dsn, RUNAWAY, (older_than_s, limit), timeout_s)


def terminate(dsn: str, backends: list[tuple[int, str]], timeout_s: float) -> list[Row]:
    """Terminate exactly these (pid, backend_start) pairs: a reused pid is left alone."""
    pids = [p for p, _ in backends]
    starts = [s for _, s in backends]
    with session(dsn, timeout_s, read_only=False) as conn, conn.cursor() as cur:
        try:
            cur.execute(TERMINATE, (pids, starts))
        except psycopg.errors.InsufficientPrivilege:
            raise TargetError(
                "The database user may not terminate these backends "
                "(it needs pg_signal_backend or to own them)."
            ) from None
        return list(cur.fetchall())


PRESENT = """
SELECT a.pid
FROM pg_stat_activity a
JOIN unnest(%s::int[], %s::timestamptz[]) AS t(pid, started)
  ON a.pid = t.pid AND a.backend_start = t.started"""


def present(dsn: str, backends: list[tuple[int, str]], timeout_s: float) -> list[int]:
    """Which of these (pid, backend_start) pairs are still connected (read-only)."""
    rows = query(dsn, PRESENT, ([p for p, _ in backends], [s for _, s in backends]), timeout_s)
    return sorted(int(r["pid"]) for r in rows)
