"""The door of /slack/events: nothing unsigned is parsed, malformed signed bodies get 400,
a replayed signature is refused, and no request leaves a traceback in the log."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote

import pytest

from bot.once import RedisOnce
from tests.conftest import make_bot
from tests.helpers import events, incidents

FORM = "application/x-www-form-urlencoded"
BAD_BODIES = [
    (b"payload=%7Bnot-json", FORM),
    (b"payload=%5B1%2C2%5D", FORM),
    (b"payload=%7B%7D&payload=%7B%7D", FORM),
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b"payload=", FORM),
]


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]


def test_a_timestamp_that_is_not_a_number_is_refused_like_any_bad_signature(bot, caplog) -> None:
    caplog.set_level(logging.INFO)
    body = b"command=%2Fincident&text=declare+P1+Clock+skew&user_id=U0ALICE&channel_id=C0GENERAL"
    for ts in ("abc", "", "1e9", "-5", " 1", "0x10", "9" * 40):
        r = bot.driver.transport.send(body, FORM, headers={"X-Slack-Request-Timestamp": ts})
        assert r.status == 401, (ts, r.status, r.body)
    bot.settle()
    assert incidents(bot.rt) == []
    _no_tracebacks(caplog)


@pytest.mark.parametrize("body,content_type", BAD_BODIES)
def test_unsigned_garbage_is_refused_before_it_is_parsed(bot, caplog, body, content_type) -> None:
    caplog.set_level(logging.INFO)
    r = bot.driver.transport.send(body, content_type, sign=False)
    assert r.status == 401
    _no_tracebacks(caplog)


@pytest.mark.parametrize("body,content_type", BAD_BODIES)
def test_signed_but_malformed_bodies_get_400_and_change_nothing(
    bot, caplog, body, content_type
) -> None:
    caplog.set_level(logging.INFO)
    r = bot.driver.transport.send(body, content_type)
    assert r.status == 400 and r.body == "malformed body"
    bot.settle()
    assert incidents(bot.rt) == []
    _no_tracebacks(caplog)
    assert b'warroom_requests_refused_total{reason="malformed"}' in bot.rt.metrics.render()


def _note_body(room: str, text: str) -> bytes:
    return (
        f"command=%2Fincident&text={quote('note ' + text)}&user_id=U0ALICE&user_name=alice"
        f"&channel_id={room}&team_id=T0WARROOM&trigger_id=1.2.3"
    ).encode()


def _replayed_note_is_stored_once(bot) -> None:
    bot.cmd("declare P1 Checkout API returns 500s")
    [inc] = incidents(bot.rt)
    body = _note_body(inc.channel_id, "card declines spiking")
    ts = int(time.time())
    statuses = [bot.driver.transport.send(body, FORM, timestamp=ts).status for _ in range(3)]
    assert statuses == [200, 401, 401]
    bot.settle()
    notes = [e for e in events(bot.rt, inc.id) if e.kind == "note"]
    assert [n.text for n in notes] == ["card declines spiking"]
    # The same words sent again as a new request (a new timestamp) are a new note.
    assert bot.driver.transport.send(body, FORM, timestamp=ts + 1).status == 200


def test_a_replayed_signed_request_is_refused_within_the_window(bot) -> None:
    _replayed_note_is_stored_once(bot)


def test_replays_are_refused_through_redis_when_it_is_configured(db_url, standin, redis_url):
    for bot in make_bot(db_url, standin, redis_url=redis_url):
        assert isinstance(bot.rt.once, RedisOnce)
        _replayed_note_is_stored_once(bot)


def test_replays_are_refused_by_the_database_when_redis_is_down(db_url, standin) -> None:
    for bot in make_bot(db_url, standin, redis_url="redis://127.0.0.1:1/0"):
        _replayed_note_is_stored_once(bot)


def test_slack_retries_of_an_event_pass_the_door_and_are_deduplicated_by_event_id(bot) -> None:
    bot.cmd("declare P1 Checkout API returns 500s")
    [inc] = incidents(bot.rt)
    ts = bot.slack.user_post(inc.channel_id, "U0ALICE", "error rate 40%")
    ev = {
        "type": "reaction_added",
        "user": "U0ALICE",
        "reaction": "pushpin",
        "item": {"type": "message", "channel": inc.channel_id, "ts": ts},
        "event_ts": ts,
    }
    envelope = {
        "type": "event_callback",
        "team_id": "T0WARROOM",
        "api_app_id": "A0WARROOM",
        "event": ev,
        "event_id": "Ev0RETRIED",
        "event_time": int(time.time()),
    }
    body, sent = json.dumps(envelope).encode(), int(time.time())
    for retry in ("", "1", "2"):
        headers = (
            {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_error"} if retry else {}
        )
        r = bot.driver.transport.send(body, "application/json", timestamp=sent, headers=headers)
        assert r.status == 200
    # The same retry number again is a replay, not a retry.
    r = bot.driver.transport.send(
        body, "application/json", timestamp=sent, headers={"X-Slack-Retry-Num": "2"}
    )
    assert r.status == 401
    bot.settle()
    assert [e.kind for e in events(bot.rt, inc.id)].count("pushpin") == 1


def test_with_redis_down_declarations_go_on_and_readiness_says_degraded(db_url, standin) -> None:
    import urllib.request

    for bot in make_bot(db_url, standin, redis_url="redis://127.0.0.1:1/0"):
        with urllib.request.urlopen(bot.url + "/readyz", timeout=5) as r:
            assert r.status == 200 and r.read() == b"degraded: redis unreachable"
        bot.cmd("declare P1 Checkout API returns 500s")
        bot.cmd("declare P1 Checkout API returns 500s")  # the repeat: the database guard holds
        [inc] = incidents(bot.rt)
        assert inc.ready_at is not None
