"""Socket Mode end to end: `warroom serve` with SLACK_APP_TOKEN set opens a WebSocket to the
stand-in (through `apps.connections.open`), takes commands, clicks and events over it, serves
health on PORT, and closes cleanly on SIGTERM."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.migrate import upgrade
from bot.models import Incident, TimelineEvent
from standins.slack.api import SlackStandIn
from standins.slack.socket_driver import SocketModeDriver
from tests.processes import Fleet
from tests.test_timer_processes import write_policy

USERS = ["U0ALICE", "U0BOB"]


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn().start()
    for u in USERS:
        s.add_user(u, u[3:].lower())
    yield s
    s.stop()


@pytest.fixture
def bot(standin: SlackStandIn, tmp_path: Path) -> Iterator[tuple[Fleet, str]]:
    url = f"sqlite:///{tmp_path / 'socket.db'}"
    upgrade(url)
    fleet = Fleet(tmp_path, standin, url, write_policy(tmp_path / "policy.yaml", 30))
    fleet.env["SLACK_APP_TOKEN"] = standin.app_token
    fleet.env["SLACK_SIGNING_SECRET"] = ""  # Socket Mode needs none
    with fleet.running():
        yield fleet, url


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def incidents(url: str) -> list[Incident]:
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(Incident)))
    finally:
        engine.dispose()


def test_serve_in_socket_mode_declares_over_the_websocket_and_stops_cleanly(
    bot: tuple[Fleet, str], standin: SlackStandIn
) -> None:
    fleet, url = bot
    serve = fleet.start("socket")
    serve.wait_healthy()  # health is served on PORT even with no HTTP events endpoint
    assert standin.socket_mode.wait_connected(1, timeout=20), "no WebSocket was opened"
    assert standin.calls_to("apps.connections.open"), "the URL did not come from the Web API"

    driver = SocketModeDriver(standin.socket_mode, standin=standin, timeout=3)
    r = driver.command("declare P1 Checkout API returns 500s", "U0ALICE", "C0GENERAL")
    assert r.status == 200, "the command was not acknowledged within 3 s"
    assert "Declared" in r.json["text"] and "-001" in r.json["text"]

    [inc] = wait_for(lambda: [i for i in incidents(url) if i.ready_at is not None])
    assert inc.severity == "P1" and inc.reporter_id == "U0ALICE"
    assert "U0ALICE" in standin.channel(inc.channel_id)["members"]

    # A button over the socket: Take lead on the pinned alert.
    alert = standin.slack_message(inc.channel_id, inc.alert_ts)
    assert alert is not None
    r = driver.press(inc.channel_id, inc.alert_ts, "take_lead", "U0BOB")
    assert r.status == 200
    assert wait_for(lambda: [i for i in incidents(url) if i.lead_id == "U0BOB"])

    # An event over the socket: a pin lands on the timeline once, even when Slack retries it.
    ts = standin.user_post(inc.channel_id, "U0ALICE", "p99 is 2.3 s since 14:02")
    standin.user_pin(inc.channel_id, ts, "U0ALICE")
    [pin] = [
        e
        for e in standin.events
        if e["type"] == "pin_added" and (e["item"].get("message") or {}).get("ts") == ts
    ]
    assert driver.event(pin, event_id="Ev0PIN1").status == 200
    assert driver.event(pin, event_id="Ev0PIN1", retry_num=1).status == 200

    def pinned() -> list[TimelineEvent]:
        engine = create_engine(url)
        try:
            with Session(engine) as s:
                return list(
                    s.scalars(
                        select(TimelineEvent).where(
                            TimelineEvent.incident_id == inc.id,
                            TimelineEvent.text.contains("p99 is 2.3 s"),
                        )
                    )
                )
        finally:
            engine.dispose()

    assert len(wait_for(pinned)) == 1
    time.sleep(0.5)  # a late duplicate would have landed by now
    assert len(pinned()) == 1

    with urllib.request.urlopen(serve.url + "/readyz", timeout=2) as resp:
        assert resp.status == 200

    serve.terminate()
    assert serve.wait(15) == 0, serve.stderr()
    wait_for(lambda: standin.socket_mode.connected == 0, timeout=5)  # raises if it stays open
