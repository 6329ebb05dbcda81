"""PostgreSQL restarted under load, played by a TCP proxy between the bot and the real server
(which other test sessions share): every connection dropped, new ones refused for a while, as
commands keep arriving. Each command is acknowledged with a clear "try again" reply, nothing is
half-made, and the bot resumes by itself once the database is back."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.models import Timer
from bot.timers.runner import TimerRunner
from tests.conftest import Bot, make_bot
from tests.helpers import incidents
from tests.tcp_proxy import TcpProxy


def readyz(bot: Bot) -> int:
    return status_of(bot.url + "/readyz")


def via_proxy(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TcpProxy]:
    parts = urlsplit(pg_url)
    p = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    yield p
    p.stop()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(params=["no-redis", "redis"])
def pbot(request, db_url: str, standin, proxy: TcpProxy, clock: FrozenClock) -> Iterator[Bot]:
    """The bot on PostgreSQL through the proxy; with Redis the door's replay check does not
    need the database, so the command reaches its handler before it meets the outage."""
    redis = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    yield from make_bot(via_proxy(db_url, proxy), standin, clock=clock, redis_url=redis)


# The proxy stands for a PostgreSQL server. (SQLite has no server to lose; its fault, a file
# locked by another process, makes writers wait up to busy_timeout, which is not tested here.)
PG_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def assert_try_again(text: str) -> None:
    assert "Something went wrong" not in text, text
    assert "Traceback" not in text and "psycopg" not in text and "OperationalError" not in text
    assert "database" in text.lower() and "try again" in text.lower(), text


@PG_ONLY
def test_commands_during_a_database_restart_get_a_clear_reply_and_service_resumes(
    pbot: Bot, proxy: TcpProxy, clock: FrozenClock
) -> None:
    pbot.cmd("declare P1 Checkout API returns 500s")
    [inc] = incidents(pbot.rt)
    assert inc.ready_at is not None
    room = inc.channel_id
    runner = TimerRunner(pbot.rt)
    assert readyz(pbot) == 200

    proxy.outage()
    replies = []
    for text, channel in [
        ("note card declines rising", room),
        ("declare P2 Orders are not shipping", "C0GENERAL"),
        ("status identified Bad deploy of payments v42", room),
        ("list", "C0GENERAL"),
        ("severity P2", room),
    ]:
        t0 = time.monotonic()
        r = pbot.driver.command(text, user="U0ALICE", channel=channel)
        assert r.status == 200, (text, r.status, r.body)  # Slack got its ack
        assert time.monotonic() - t0 < 3, f"{text}: the ack took longer than Slack waits"
        replies.append(r.json["text"])
    for reply in replies:
        assert_try_again(reply)
    assert readyz(pbot) == 503
    # Timers due during the outage: the runner's tick fails quietly and tries again.
    clock.advance(minutes=31)
    assert runner.tick() == 0
    pbot.settle()

    proxy.restore()
    deadline = time.monotonic() + 10
    while readyz(pbot) != 200:
        assert time.monotonic() < deadline, "not ready 10 s after the database came back"
        time.sleep(0.2)
    r = pbot.driver.command("note card declines falling", user="U0ALICE", channel=room)
    assert r.status == 200 and "Something went wrong" not in r.json["text"], r.json
    assert "database" not in r.json["text"].lower(), r.json
    pbot.settle()

    # Nothing half-made: the declaration refused during the outage left no row and no room.
    [again] = incidents(pbot.rt)
    assert again.id == inc.id
    assert len(pbot.slack.calls_to("conversations.create")) == 1
    # The update reminder that fell due during the outage fires once, now.
    assert runner.tick() >= 1
    pbot.settle()
    assert runner.tick() == 0
    with pbot.rt.db.read() as s:
        fired = list(s.scalars(select(Timer).where(Timer.kind == "update_due")))
    assert [t.state for t in fired].count("pending") == 1  # the next one, planned


@PG_ONLY
def test_a_command_in_flight_when_connections_drop_is_not_half_made(
    pbot: Bot, proxy: TcpProxy
) -> None:
    """Connections cut while the pool holds them idle: the next command's connection is dead
    on arrival. The pool's check finds that out before a transaction starts."""
    pbot.cmd("declare P2 Search is slow")
    [inc] = incidents(pbot.rt)
    proxy.outage()
    proxy.restore()  # a fast restart: back before the next command
    r = pbot.driver.command("note p99 back to 300 ms", user="U0ALICE", channel=inc.channel_id)
    assert r.status == 200, r.body
    assert "Something went wrong" not in r.json["text"], r.json
    assert "database" not in r.json["text"].lower(), r.json
    pbot.settle()


@PG_ONLY
def test_a_war_room_setup_cut_by_the_outage_is_finished_after_it(
    pbot: Bot, proxy: TcpProxy
) -> None:
    pbot.slack.latency = 0.3  # each Slack call of the setup takes a while
    r = pbot.driver.command("declare P1 Payments time out", user="U0ALICE", channel="C0GENERAL")
    assert r.status == 200 and "Declared" in r.json["text"], r.json
    time.sleep(0.5)  # the setup is under way: channel made, members and posts to come
    proxy.outage()
    time.sleep(2)
    proxy.restore()
    pbot.slack.latency = 0
    deadline = time.monotonic() + 10
    while not (incs := incidents(pbot.rt)) or incs[0].ready_at is None:
        assert time.monotonic() < deadline, "the war room was left half set up"
        time.sleep(0.2)
    # Finished by the same process, each step once: one channel, one alert, one announcement.
    assert len(pbot.slack.calls_to("conversations.create")) == 1
    steps = [
        json.loads(m)["event_payload"]["step"] if isinstance(m, str) else m["event_payload"]["step"]
        for c in pbot.slack.calls_to("chat.postMessage")
        if (m := c.params.get("metadata"))
    ]
    assert sorted(steps) == ["alert", "announce"], steps


@PG_ONLY
def test_a_click_during_the_outage_is_acknowledged_and_told_to_try_again(
    pbot: Bot, proxy: TcpProxy
) -> None:
    pbot.cmd("declare P1 Checkout API returns 500s")
    [inc] = incidents(pbot.rt)
    proxy.outage()
    r = pbot.driver.press(inc.channel_id, inc.alert_ts, "take_lead", "U0BOB")
    assert r.status == 200, (r.status, r.body)
    pbot.settle()
    told = [e["text"] for e in pbot.slack.ephemerals(user="U0BOB")]
    assert told, "the click got no answer"
    assert_try_again(told[-1])
    proxy.restore()
    [again] = incidents(pbot.rt)
    assert again.lead_id != "U0BOB"  # nothing was done


@PG_ONLY
def test_socket_mode_during_the_outage_acks_with_a_clear_reply_and_resumes(
    db_url: str, proxy: TcpProxy, tmp_path
) -> None:
    from standins.slack.api import SlackStandIn
    from standins.slack.socket_driver import SocketModeDriver
    from tests.processes import Fleet
    from tests.test_timer_processes import write_policy

    slack = SlackStandIn().start()
    try:
        fleet = Fleet(
            tmp_path, slack, via_proxy(db_url, proxy), write_policy(tmp_path / "p.yaml", 30)
        )
        fleet.env.update(SLACK_APP_TOKEN=slack.app_token, SLACK_SIGNING_SECRET="")
        with fleet.running():
            serve = fleet.start("socket")
            serve.wait_healthy()
            assert slack.socket_mode.wait_connected(1, timeout=20)
            d = SocketModeDriver(slack.socket_mode, standin=slack, timeout=3)
            assert (
                "Declared"
                in d.command("declare P2 Search is slow", "U0ALICE", "C0GENERAL").json["text"]
            )

            proxy.outage()
            r = d.command("declare P1 Payments time out", "U0ALICE", "C0GENERAL")
            assert r.status == 200, "no acknowledgement within 3 s"
            assert_try_again(r.json["text"])
            assert status_of(serve.url + "/readyz") == 503

            proxy.restore()
            deadline = time.monotonic() + 10
            while status_of(serve.url + "/readyz") != 200:
                assert time.monotonic() < deadline, "not ready 10 s after the database came back"
                time.sleep(0.2)
            r = d.command("list", "U0ALICE", "C0GENERAL")
            assert r.status == 200 and "Search is slow" in r.json["text"], r.json
            assert "Payments" not in r.json["text"]  # refused during the outage, not half-made
            assert serve.alive()
    finally:
        slack.stop()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
