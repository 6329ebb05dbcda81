"""Socket Mode under fuzzing: whatever arrives over the WebSocket (frames that are not JSON,
envelopes of the wrong type or shape, unknown events, huge frames, the same envelope twice,
any command text), `warroom serve` stays connected, acknowledges every well-formed envelope,
answers every command with a result or a clear refusal, and logs only JSON lines."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.models import Incident, TimelineEvent
from standins.slack.api import SlackStandIn
from standins.slack.socket_driver import SocketModeDriver
from tests.processes import Fleet, Serve
from tests.test_fuzz import COMMANDS
from tests.test_timer_processes import write_policy

# Each example is a round trip to a subprocess: fewer by default than the HTTP fuzzing.
EXAMPLES = int(os.environ.get("WARROOM_FUZZ_EXAMPLES", "60"))
KINDS = ["slash_commands", "interactive", "events_api"]
USERS = ["U0ALICE", "U0BOB"]


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn().start()
    for u in USERS:
        s.add_user(u, u[3:].lower())
    yield s
    s.stop()


@pytest.fixture
def socket_bot(standin: SlackStandIn, db_url: str, tmp_path: Path) -> Iterator[Serve]:
    fleet = Fleet(tmp_path, standin, db_url, write_policy(tmp_path / "policy.yaml", 30))
    fleet.env["SLACK_APP_TOKEN"] = standin.app_token
    fleet.env["SLACK_SIGNING_SECRET"] = ""
    fleet.env["LOG_FORMAT"] = "json"
    with fleet.running():
        serve = fleet.start("socket")
        serve.wait_healthy()
        assert standin.socket_mode.wait_connected(1, timeout=20), "no WebSocket was opened"
        yield serve
        assert_only_json_logs(serve)


def assert_only_json_logs(serve: Serve) -> None:
    """Every line the bot logged is a JSON record: a traceback only in its redacted `error`."""
    for line in serve.stderr().splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"a log line outside the JSON logger: {line[:300]}") from None
        assert isinstance(record, dict) and "msg" in record, line[:300]


def problems(serve: Serve) -> str:
    """The bot's warnings and errors, for an assertion's message."""
    lines = [ln for ln in serve.stderr().splitlines() if '"level": "info"' not in ln]
    return "\n".join(ln[:2000] for ln in lines[-20:])


def driver(standin: SlackStandIn) -> SocketModeDriver:
    return SocketModeDriver(standin.socket_mode, standin=standin, timeout=3)


def still_serving(standin: SlackStandIn) -> None:
    """Connected (again, if a frame made the client reconnect) and answering a command."""
    assert standin.socket_mode.wait_connected(1, timeout=15), "the bot disconnected for good"
    r = driver(standin).command("help", "U0ALICE", "C0GENERAL")
    assert r.status == 200 and r.json and r.json.get("text"), "no reply to help after fuzzing"


def incidents(url: str) -> list[Incident]:
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(Incident)))
    finally:
        engine.dispose()


# ------------------------------------------------------------------ what arrives on the socket
JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
SHAPES = st.one_of(JUNK, st.lists(JUNK, max_size=3), st.dictionaries(st.text(max_size=8), JUNK))
EVENT = st.fixed_dictionaries(
    {
        "type": st.just("event_callback"),
        "event_id": st.text(min_size=1, max_size=12),
        "event": st.fixed_dictionaries(
            {
                "type": st.sampled_from(
                    ["pin_added", "reaction_added", "message", "app_mention", "tokens_revoked", ""]
                )
            },
            optional={"item": SHAPES, "user": JUNK, "reaction": JUNK, "channel_id": JUNK},
        ),
    },
    optional={"team_id": JUNK, "api_app_id": JUNK},
)
INTERACTION = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["block_actions", "view_submission", "shortcut", "message_action", "nonsense"]
        )
    },
    optional={
        "user": st.one_of(JUNK, st.just({"id": "U0ALICE"})),
        "actions": st.one_of(SHAPES, st.just([{"action_id": "take_lead", "value": "1"}])),
        "view": SHAPES,
        "callback_id": st.sampled_from(["declare_incident", "declare_from_message", "x"]),
        "container": SHAPES,
    },
)
COMMAND_FIELDS = st.fixed_dictionaries(
    {"command": st.sampled_from(["/incident", "/other", ""])},
    optional={"text": st.one_of(COMMANDS, JUNK), "user_id": JUNK, "channel_id": JUNK},
)
ENVELOPE = st.fixed_dictionaries(
    {},
    optional={
        "envelope_id": st.one_of(st.uuids().map(str), JUNK),
        "type": st.one_of(st.sampled_from([*KINDS, "hello", "disconnect_soon", "x"]), JUNK),
        "payload": st.one_of(SHAPES, EVENT, INTERACTION, COMMAND_FIELDS),
        "accepts_response_payload": JUNK,
        "retry_attempt": JUNK,
        "retry_reason": JUNK,
    },
)
# Well-formed envelopes (an id, a known type, an object payload) whose payload is anything.
WELL_FORMED = st.fixed_dictionaries(
    {
        "envelope_id": st.uuids().map(str),
        "type": st.sampled_from(KINDS),
        "payload": st.one_of(
            EVENT, INTERACTION, COMMAND_FIELDS, st.dictionaries(st.text(max_size=8), JUNK)
        ),
    },
    optional={"accepts_response_payload": st.booleans(), "retry_attempt": st.integers(0, 3)},
)
FRAMES = st.one_of(
    WELL_FORMED.map(json.dumps),
    WELL_FORMED.map(json.dumps),
    ENVELOPE.map(json.dumps),
    st.text(max_size=40),  # not JSON at all, or a bare JSON scalar
    st.just("{not json"),
    st.lists(JUNK, max_size=3).map(json.dumps),
)


def well_formed(envelope: Any) -> bool:
    return (
        isinstance(envelope, dict)
        and isinstance(envelope.get("envelope_id"), str)
        and envelope.get("type") in KINDS
        and isinstance(envelope.get("payload"), dict)
    )


def send_junk(standin: SlackStandIn, frame: str | bytes) -> None:
    """A frame with no envelope to acknowledge."""
    standin.socket_mode.send_frame(
        frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame
    )


def parse(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except ValueError:
        return None


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frame=FRAMES)
def test_whatever_arrives_the_bot_stays_up_and_acks_every_envelope(
    socket_bot: Serve, standin: SlackStandIn, frame: str | bytes
) -> None:
    hub = standin.socket_mode
    assert hub.wait_connected(1, timeout=15), "the bot disconnected for good"
    envelope = parse(frame)
    if well_formed(envelope):
        ack = hub.send_frame(frame, envelope_id=envelope["envelope_id"], timeout=3)
        assert ack is not None, f"a well-formed envelope was not acknowledged: {frame!r:.300}"
        reply = json.dumps(ack.get("payload") or {})
        assert "Something went wrong" not in reply, (frame, reply)
    else:
        send_junk(standin, frame)
    assert socket_bot.alive(), problems(socket_bot)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=COMMANDS)
def test_every_command_over_the_socket_gets_a_result_or_a_clear_refusal(
    socket_bot: Serve, standin: SlackStandIn, text: str
) -> None:
    r = driver(standin).command(text, "U0ALICE", "C0GENERAL")
    assert r.status == 200, f"no acknowledgement within 3 s for {text!r}"
    reply = (r.json or {}).get("text", "")
    assert reply, text
    assert "Something went wrong" not in reply, (text, reply)


def test_the_bot_is_still_serving_after_junk_and_a_huge_frame(
    socket_bot: Serve, standin: SlackStandIn
) -> None:
    hub = standin.socket_mode
    for frame in ["{not json", "[1,2]", "null", "", json.dumps({"type": "x"}), "\u202e"]:
        send_junk(standin, frame)
    still_serving(standin)
    huge = {
        "envelope_id": str(uuid.uuid4()),
        "type": "events_api",
        "payload": {"type": "event_callback", "event_id": "Ev0HUGE", "event": {"type": "x"}},
        "pad": "x" * 2_000_000,
    }
    assert hub.deliver_envelope(huge, timeout=5) is not None, problems(socket_bot)
    still_serving(standin)
    assert socket_bot.alive()


def test_the_same_command_envelope_twice_is_acked_twice_and_done_once(
    socket_bot: Serve, standin: SlackStandIn, db_url: str
) -> None:
    d = driver(standin)
    r = d.command("declare P2 Search is slow", "U0ALICE", "C0GENERAL")
    assert r.status == 200 and "Declared" in r.json["text"], r.json
    deadline = time.monotonic() + 15
    while not (incs := [i for i in incidents(db_url) if i.ready_at is not None]):
        assert time.monotonic() < deadline, "the war room was not set up"
        time.sleep(0.1)
    room = incs[0].channel_id
    envelope = d.command_envelope("note p99 at 2.3 s since 14:02", "U0ALICE", room)
    first = standin.socket_mode.deliver_envelope(envelope)
    again = standin.socket_mode.deliver_envelope({**envelope, "retry_attempt": 1})
    assert first is not None and again is not None, "a delivery was not acknowledged"

    def notes() -> list[TimelineEvent]:
        engine = create_engine(db_url)
        try:
            with Session(engine) as s:
                q = select(TimelineEvent).where(TimelineEvent.text.contains("p99 at 2.3 s"))
                return list(s.scalars(q))
        finally:
            engine.dispose()

    time.sleep(1)
    assert len(notes()) == 1, "the redelivered envelope was processed again"


def test_a_text_frame_that_is_not_utf8_costs_at_most_what_came_with_it(
    socket_bot: Serve, standin: SlackStandIn
) -> None:
    """Slack never sends one (RFC 6455 forbids it). slack_sdk's client logs the decoding error
    and drops what it had read in the same chunk, so an envelope right behind it may be lost;
    the connection stays, and the next envelope is served."""
    send_junk(standin, b"\xff\xfe")
    time.sleep(0.5)
    still_serving(standin)
