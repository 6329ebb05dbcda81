"""An upgrade from a database built by every earlier migration, with data in it: for each
revision (found from the migration scripts, so a new one is covered when it lands), a fresh
database is migrated to it, filled with an incident and everything that hangs off one at that
revision (timeline, timers, requests and audit, post-mortem, action items, and a row in any
other table), upgraded to head, and then checked: nothing lost, and the bot serves it through
the real wire. Then down and up again, one step at a time, with the data in place."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine

from bot.clock import FrozenClock
from bot.migrate import alembic_config, downgrade, upgrade
from bot.timers.runner import TimerRunner
from standins.slack.api import SlackStandIn
from tests.conftest import PG_ADMIN, _unreachable, make_bot

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
REVISIONS = [s.revision for s in reversed(list(SCRIPTS.walk_revisions()))]  # oldest first
HEAD = SCRIPTS.get_current_head()

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)  # stored naive UTC
TODAY = datetime.now(UTC).date()
ROOM = "C0ROOM0001"

# What an incident and its belongings look like; any column not named here (or a table not
# named here, from a migration added later) gets a plain value of its type.
KNOWN: dict[str, dict[str, Any]] = {
    "incidents": {
        "day": TODAY,
        "seq": 1,
        "title": "Checkout API returns 500s",
        "slug": "checkout-api-returns-500s",
        "severity": "P2",
        "status": "investigating",
        "impact": "Customers cannot pay",
        "summary": "",
        "team_id": "T0WARROOM",
        "reporter_id": "U0ALICE",
        "lead_id": "U0BOB",
        "comms_id": None,
        "scribe_id": None,
        "origin_channel_id": "C0GENERAL",
        "source_link": "",
        "declared_at": NOW - timedelta(hours=1),
        "acknowledged_at": None,
        "mitigated_at": None,
        "resolved_at": None,
        "last_update_at": NOW - timedelta(minutes=50),
        "channel_id": ROOM,
        "channel_name": "incident-checkout",
        "alert_ts": None,
        "alert_pinned": False,
        "announce_ts": None,
        "invited": True,
        "ready_at": NOW - timedelta(minutes=59),
        "setup_error": None,
        "setup_claim_until": None,
        "postmortem_at": None,
        "update_minutes": None,
        "reminders_off": False,
        "root_cause": "A bad deploy of payments v42",
        "resolution": "",
        "lessons": "",
        "service": None,
        "type": None,
    },
    "timeline_events": {
        "kind": "note",
        "actor_id": "U0ALICE",
        "text": "card declines rising since 14:02",
        "data": {"how": "command"},
        "source_key": None,
        "at": NOW - timedelta(minutes=30),
        "recorded_at": NOW - timedelta(minutes=30),
    },
    "timers": {
        "kind": "update_due",
        "step": 0,
        "due_at": NOW + timedelta(minutes=20),
        "state": "pending",
        "claimed_by": None,
        "claim_until": None,
        "fired_at": None,
        "outcome": None,
        "ref_id": None,
    },
    "action_requests": {
        "action": "restart",
        "params": {"namespace": "shop", "name": "checkout"},
        "target": "deployment/checkout",
        "preview": "Will restart deployment/checkout in shop",
        "requester_id": "U0ALICE",
        "state": "pending",
        "approvals_needed": 1,
        "approvers": [],
        "decided_by": None,
        "requested_at": NOW - timedelta(minutes=5),
        "expires_at": NOW + timedelta(minutes=25),
        "decided_at": None,
        "started_at": None,
        "finished_at": None,
        "channel_id": ROOM,
        "message_ts": None,
        "summary": "",
        "version": 1,
    },
    "audit_entries": {
        "event": "requested",
        "action": "restart",
        "target": "deployment/checkout",
        "params": {},
        "outcome": "pending",
        "duration_ms": None,
        "detail": "",
        "actor_id": "U0ALICE",
    },
    "action_items": {
        "number": 1,
        "text": "Alert on card decline rate",
        "owner_id": "U0BOB",
        "due": TODAY + timedelta(days=7),
        "state": "open",
        "created_by": "U0ALICE",
        "done_at": None,
        "done_by": None,
    },
    "postmortems": {
        "version": 1,
        "content": "# Post-mortem\n\nA bad deploy.",
        "draft": True,
        "compiled_by": "U0ALICE",
        "file_id": None,
    },
    "day_counters": {"day": TODAY, "last_seq": 1},
}
NOT_SEEDED = {"alembic_version", "seen_requests", "processed_events", "declare_guards"}


def plain_value(column: Any, n: int) -> Any:
    """A value of the column's type, for tables and columns this test does not know."""
    t = column.type
    length = getattr(t, "length", None) or 40
    if isinstance(t, Boolean):
        return False
    if isinstance(t, Integer):
        return n
    if isinstance(t, Float):
        return 1.5
    if isinstance(t, DateTime):
        return NOW
    if isinstance(t, Date):
        return TODAY
    if isinstance(t, JSON):
        return {"seeded": True}
    if isinstance(t, LargeBinary):
        return f"v{n}".encode()
    if isinstance(t, String):
        return f"v{n}-{column.name}"[:length]
    return f"v{n}"


def seed(engine: Engine) -> dict[str, dict[str, Any]]:
    """One row in every table the database has now; returns them by table."""
    meta = MetaData()
    meta.reflect(engine)
    rows: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name in NOT_SEEDED:
                continue
            known = KNOWN.get(table.name, {})
            row: dict[str, Any] = {}
            for n, col in enumerate(table.columns, start=1):
                if col.primary_key and isinstance(col.type, Integer) and not col.foreign_keys:
                    continue  # the database numbers it
                if col.foreign_keys:
                    fk = next(iter(col.foreign_keys))
                    parent = rows.get(fk.column.table.name)
                    if parent is not None:
                        row[col.name] = parent[fk.column.name]
                        continue
                    if col.nullable:
                        row[col.name] = None
                        continue
                if col.name in known:
                    row[col.name] = known[col.name]
                elif col.nullable:
                    row[col.name] = None
                else:
                    row[col.name] = plain_value(col, n)
            result = conn.execute(table.insert().values(**row))
            pk = table.primary_key.columns
            for col in pk:
                if col.name not in row:
                    row[col.name] = result.inserted_primary_key[0]
            rows[table.name] = row
    return rows


def assert_survived(engine: Engine, seeded: dict[str, dict[str, Any]]) -> None:
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for name, row in seeded.items():
            assert name in meta.tables, f"table {name} is gone after the upgrade"
            table = meta.tables[name]
            found = [dict(r._mapping) for r in conn.execute(select(table))]
            assert len(found) == 1, f"{name}: {len(found)} rows after the upgrade, 1 before"
            [now] = found
            for column, value in row.items():
                assert column in now, f"{name}.{column} is gone after the upgrade"
                assert now[column] == value, (name, column, value, now[column])


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of its own (not the session's migrated one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"warroom_upgrade_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:
        _unreachable("PostgreSQL", e)
    yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn().start()
    s.add_channel("incident-checkout", ["U0ALICE", "U0BOB", s.bot_user_id], channel_id=ROOM)
    yield s
    s.stop()


@pytest.mark.parametrize("revision", REVISIONS)
def test_an_upgrade_from_every_revision_keeps_the_data_and_serves_it(
    revision: str, fresh_url: str, standin: SlackStandIn
) -> None:
    upgrade(fresh_url, revision)
    engine = create_engine(fresh_url)
    try:
        seeded = seed(engine)
        assert "incidents" in seeded
        upgrade(fresh_url, "head")
        assert_survived(engine, seeded)
        with engine.connect() as conn:
            counters = conn.execute(text("SELECT last_seq FROM day_counters")).scalars().all()
        assert counters == [1], "the day's numbering does not continue from the incident"
    finally:
        engine.dispose()

    number = f"{TODAY:%Y-%m-%d}-001"
    clock = FrozenClock(datetime.now(UTC))
    for bot in make_bot(fresh_url, standin, clock=clock):
        shown = bot.cmd("show", channel=ROOM).json["text"]
        assert number in shown and "Checkout API returns 500s" in shown, shown
        listed = bot.cmd("list").json["text"]
        assert number in listed, listed
        timeline = bot.cmd("timeline", channel=ROOM).json["text"]
        assert "card declines rising" in timeline, timeline
        if "action_items" in seeded:
            items = bot.cmd("action list", channel=ROOM).json["text"]
            assert "Alert on card decline rate" in items, items
        assert "Noted" in bot.cmd("note p99 back to 300 ms", channel=ROOM).json["text"]
        declared = bot.cmd("declare P3 Search is slow").json["text"]
        assert f"{TODAY:%Y-%m-%d}-002" in declared, declared
        if "timers" in seeded:  # the update reminder planned before the upgrade fires
            before = len(standin.messages(ROOM))
            clock.advance(minutes=25)
            assert TimerRunner(bot.rt).tick() >= 1
            bot.settle()
            posted = [m["text"] for m in standin.messages(ROOM)[before:] if m.get("bot_id")]
            assert posted, "the timer from before the upgrade did not fire"


def test_down_and_up_one_step_at_a_time_with_data_in_place(fresh_url: str) -> None:
    upgrade(fresh_url, "head")
    engine = create_engine(fresh_url)
    try:
        seed(engine)
        for previous in reversed(REVISIONS[:-1]):
            downgrade(fresh_url, previous)
        downgrade(fresh_url, "base")
        upgrade(fresh_url, REVISIONS[0])
        seeded = seed(engine)
        upgrade(fresh_url, "head")
        assert_survived(engine, seeded)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(text("incidents"))).scalar() == 1
    finally:
        engine.dispose()


def test_the_revisions_form_one_line_to_head() -> None:
    assert REVISIONS[-1] == HEAD and len(SCRIPTS.get_heads()) == 1
    assert len(set(REVISIONS)) == len(REVISIONS)
