"""The database layer on PostgreSQL: the pool's liveness check and numbering outside the
declaration's transaction."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import create_engine, text

from bot.db import Database
from bot.incident import service


def _terminate_backends(url: str) -> int:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        n = c.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'warroom' AND datname = current_database()"
            )
        ).scalar_one()
    admin.dispose()
    return int(n)


def test_a_connection_the_server_closed_is_replaced_before_it_is_lent(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        with db.read() as s:
            pid_before = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert _terminate_backends(pg_url) >= 1  # the pooled connection's backend is gone
        threading.Event().wait(0.2)  # let the FATAL and EOF reach the socket
        with db.read() as s:  # a dead connection lent here would raise
            pid_after = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert pid_after != pid_before
    finally:
        db.dispose()


def test_an_idle_healthy_connection_is_reused(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        with db.read() as s:
            first = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with db.read() as s:
            second = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert first == second
    finally:
        db.dispose()


def test_numbers_from_their_own_transaction_do_not_wait_for_an_open_declaration(
    pg_url: str,
) -> None:
    """A declaration holding its transaction open must not block the next one's number."""
    db = Database(pg_url)
    day = date(2031, 1, 2)
    try:
        with db.session() as s:
            first = db.in_own_transaction(lambda c: service.next_number(c, day))
            # Still inside the first transaction: another number is handed out at once.
            got: list[int] = []
            t = threading.Thread(
                target=lambda: got.append(
                    db.in_own_transaction(lambda c: service.next_number(c, day))
                )
            )
            t.start()
            t.join(timeout=5)
            assert not t.is_alive(), "the second number waited for the first transaction"
            s.execute(text("SELECT 1"))
        assert got == [first + 1]
    finally:
        db.dispose()
