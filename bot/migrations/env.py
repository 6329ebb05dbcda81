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
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
