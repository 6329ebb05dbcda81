"""Alembic environment: batch mode on SQLite so constraints can be altered."""

from __future__ import annotations

import logging

from alembic import context

import bot.models  # noqa: F401  (registers the tables)
from bot.db import Base, make_engine

logging.getLogger("alembic").setLevel(logging.WARNING)
config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url
engine = make_engine(url)

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copy, drop and rename; with foreign keys on, dropping
        # the old `incidents` cascaded into every timeline event. Off while migrating (outside
        # any transaction, or SQLite ignores it), and every key checked after.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.rollback()
        if broken:
            raise RuntimeError(f"the migration left rows whose foreign key is broken: {broken}")
engine.dispose()
