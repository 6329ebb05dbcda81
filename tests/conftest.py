"""Fixtures: each behaviour test runs the real Bolt endpoint over HTTP against the Slack stand-in,
on SQLite and on PostgreSQL (required when CI=true, skipped with a reason otherwise)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

from bot.clock import Clock
from bot.config import Policy, Settings
from bot.migrate import upgrade
from bot.runtime import Runtime
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN = os.environ.get(
    "WARROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("WARROOM_TEST_REDIS", "redis://127.0.0.1:6379/15")
SECRET = "test-signing-secret"
TOKEN = "xoxb-sandbox"


def _unreachable(what: str, err: Exception) -> None:
    msg = f"{what} unreachable: {err.__class__.__name__}: {err}"
    if CI:
        pytest.fail(f"CI=true requires it: {msg}")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, migrated once."""
    name = f"warroom_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:
        _unreachable("PostgreSQL", e)
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warroom.db'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("pg_url")
    yield url
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(
            text(
                "TRUNCATE incidents, timeline_events, declare_guards, processed_events, "
                "day_counters, seen_requests, console_sessions, console_audit, war_room_members "
                "RESTART IDENTITY CASCADE"
            )
        )
    eng.dispose()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.flushdb()
    except Exception as e:
        _unreachable("Redis", e)
    return REDIS_URL


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn(token=TOKEN)
    s.start()
    yield s
    # Blocks without a `text` fallback: Slack takes them, but notifications and screen readers
    # get nothing. The stand-in records each; the bot must send none.
    warnings = s.warnings
    s.stop()
    assert warnings == [], warnings


@dataclass
class Bot:
    rt: Runtime
    slack: SlackStandIn
    driver: SlackDriver
    url: str

    def settle(self) -> None:
        """Wait for everything after the ack: effects, the events they cause, and their effects."""
        for _ in range(3):
            assert self.rt.wait_idle(15), "effects did not finish"
            self.slack.drain_events()
        assert self.rt.wait_idle(15)

    def cmd(self, text: str, user: str = "U0ALICE", channel: str = "C0GENERAL"):
        r = self.driver.command(text, user=user, channel=channel)
        assert r.status == 200, r.body
        self.settle()
        return r


def make_bot(
    db_url: str,
    standin: SlackStandIn,
    policy: Policy | None = None,
    redis_url: str = "",
    clock: Clock | None = None,
) -> Iterator[Bot]:
    settings = Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=standin.api_url,
        database_url=db_url,
        redis_url=redis_url,
    )
    rt = build_runtime(settings, policy or Policy(), clock=clock)
    app = build_app(rt, SECRET, TOKEN)
    server = BackgroundServer(build_asgi(app, rt)).start()
    driver = SlackDriver(
        bot_url=server.url + "/slack/events", signing_secret=SECRET, standin=standin
    )
    driver.forward_events_to_bot()
    bot = Bot(rt=rt, slack=standin, driver=driver, url=server.url)
    try:
        yield bot
    finally:
        standin.event_sink = None
        server.stop()
        rt.shutdown()


@pytest.fixture
def bot(db_url: str, standin: SlackStandIn) -> Iterator[Bot]:
    yield from make_bot(db_url, standin)
