"""Engine, sessions and the column types shared by every table."""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from bot.errors import DatabaseUnreachable

T = TypeVar("T")

# Named constraints so Alembic's batch mode can alter them on SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no time zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


INT_MAX = 2**31 - 1  # INTEGER on PostgreSQL; a larger number is no row, not a database error


def fits_int(n: int) -> bool:
    return 0 < n <= INT_MAX


def insert_for(bind: Any) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both PostgreSQL and SQLite."""
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: object, _record: object) -> None:
            cur = conn.cursor()  # type: ignore[attr-defined]
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _immediate(conn: object) -> None:
            # Writers take the write lock at BEGIN so they queue instead of failing on upgrade;
            # readers (Database.read) begin deferred and, under WAL, never wait for writers.
            reading = conn.get_execution_options().get("warroom_read")  # type: ignore[attr-defined]
            conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")  # type: ignore[attr-defined]

        # pysqlite's own transaction handling would BEGIN lazily; we do it ourselves.
        @event.listens_for(engine, "connect")
        def _autocommit_off(conn: object, _record: object) -> None:
            conn.isolation_level = None  # type: ignore[attr-defined]

        return engine
    return _pg_engine(url, pool_size=40, max_overflow=10)


def _pg_engine(url: str, **kwargs: Any) -> Engine:
    # application_name lets kill-queries recognise (and spare) the bot's own connections.
    engine = create_engine(
        url, pool_pre_ping=True, connect_args={"application_name": "warroom"}, **kwargs
    )
    engine.dialect.do_ping = _socket_alive  # type: ignore[method-assign]
    return engine


def _socket_alive(dbapi_conn: Any) -> bool:
    """The pool's check before lending a connection, without a round trip: an idle PostgreSQL
    connection receives nothing, so a readable socket means the server closed it (a restart
    sends FATAL, then EOF) and the pool reconnects. `SELECT 1` cost a round trip per
    transaction, two of the dozen an acknowledgement made."""
    if dbapi_conn.closed or dbapi_conn.broken:
        return False
    try:
        fd = dbapi_conn.pgconn.socket
    except Exception:
        return False
    readable, _, _ = select.select([fd], [], [], 0)
    return not readable


# SQLSTATE classes of a connection lost or refused: 08 connection exception, 57P operator
# intervention (admin shutdown, crash shutdown, cannot connect now: the server is starting).
_GONE_STATES = ("08", "57P")


def unreachable(err: BaseException) -> bool:
    """Whether `err` says the database is away (a restart, a cut, a locked SQLite file) rather
    than that the statement was wrong: the first is worth a retry, the second is a bug."""
    if not isinstance(err, sa_exc.DBAPIError):
        return False
    if err.connection_invalidated:
        return True
    orig = err.orig
    if not isinstance(err, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    state = getattr(orig, "sqlstate", None)
    if state is None:  # psycopg: refused, reset, timed out before any server answer
        text = str(orig).lower()
        return "locked" in text or "busy" in text or orig.__class__.__module__.startswith("psycopg")
    return state.startswith(_GONE_STATES)


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except sa_exc.DBAPIError as e:
        if unreachable(e):
            raise DatabaseUnreachable() from e
        raise


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = sessionmaker(
            self.engine.execution_options(warroom_read=True), expire_on_commit=False
        )
        # SQLite has one writer at a time and its busy handler sleeps with back-off (up to
        # 100 ms a try); queueing this process's writers on a lock hands over at once.
        # Reentrant: a session opened inside another on the same thread must not deadlock.
        self._write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None
        self._own: Engine | None = None
        self._own_lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        lock = self._write_lock
        if lock is None:
            with _reachable(), self._sessions() as s, s.begin():
                yield s
            return
        with _reachable(), lock, self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: never takes SQLite's write lock."""
        with _reachable(), self._reads() as s, s.begin():
            yield s

    def in_own_transaction(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in a short transaction of its own, apart from any session the caller holds
        (PostgreSQL only: SQLite's single writer would wait for the caller's own transaction).

        Its connections come from a small pool used for nothing else, so a caller that holds a
        session while it waits here can never starve the main pool into a deadlock."""
        if self.is_sqlite:
            raise RuntimeError("in_own_transaction needs PostgreSQL")
        with self._own_lock:
            if self._own is None:
                # Autocommit: the one statement is its own transaction, one round trip.
                self._own = _pg_engine(
                    self.url, pool_size=4, max_overflow=4, isolation_level="AUTOCOMMIT"
                )
        with _reachable(), self._own.connect() as conn:
            return fn(conn)

    def create_all(self) -> None:
        import bot.models  # noqa: F401  (registers the tables)

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._own is not None:
            self._own.dispose()
