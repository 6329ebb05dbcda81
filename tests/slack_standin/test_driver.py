"""The Slack driver: signed, Slack-shaped requests into a receiver, and events forwarded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver
from tests.slack_standin.conftest import SECRET


# ------------------------------------------------------------------------------- driver
class Receiver:
    """A tiny HTTP/1.1 endpoint that records requests and checks Slack signatures."""

    def __init__(self, close_after_response: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.verifier = SignatureVerifier(SECRET)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                valid = outer.verifier.is_valid_request(body, headers)
                outer.requests.append(
                    {
                        "path": self.path,
                        "headers": headers,
                        "body": body,
                        "port": self.client_address[1],
                        "valid": valid,
                    }
                )
                reply = json.dumps({"ok": valid}).encode()
                self.send_response(200 if valid else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                # Simulates a server dropping an idle keep-alive connection without notice.
                self.close_connection = close_after_response

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def payload(self, index: int = -1) -> dict[str, Any]:
        return json.loads(parse_qs(self.requests[index]["body"].decode())["payload"][0])

    def form(self, index: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[index]["body"].decode()).items()}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def driver(receiver: Receiver, slack: SlackStandIn) -> SlackDriver:
    return SlackDriver(bot_url=receiver.url, signing_secret=SECRET, standin=slack)


def test_command_is_signed_and_slack_shaped(
    slack: SlackStandIn, receiver: Receiver, driver: SlackDriver
) -> None:
    got = driver.command(
        "declare P1 Checkout API returns 500s", user="U0ALICE", channel="C0GENERAL"
    )
    assert got.status == 200 and got.json == {"ok": True} and got.elapsed > 0
    req = receiver.requests[0]
    assert req["valid"] and req["path"] == "/slack/events"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = receiver.form()
    assert form["command"] == "/incident" and form["text"] == "declare P1 Checkout API returns 500s"
    assert (form["user_id"], form["user_name"]) == ("U0ALICE", "alice")
    assert (form["channel_id"], form["channel_name"], form["team_id"]) == (
        "C0GENERAL",
        "general",
        "T0WARROOM",
    )
    assert form["response_url"].startswith(slack.base_url + "/response/")
    assert len(form["trigger_id"].split(".")) == 3
    WebhookClient(form["response_url"]).send(text="Declared")
    assert slack.ephemerals(user="U0ALICE")[0]["text"] == "Declared"


def test_bad_signature_and_stale_timestamp(receiver: Receiver, driver: SlackDriver) -> None:
    assert driver.command("help", user="U0BOB", channel="C0GENERAL", sign=False).status == 401
    stale = int(time.time()) - 600
    assert driver.url_verification("abc", timestamp=stale).status == 401
    req = receiver.requests[-1]
    # Correctly signed for that old timestamp: only the replay window rejects it.
    expected = receiver.verifier.generate_signature(timestamp=str(stale), body=req["body"])
    assert req["headers"]["X-Slack-Signature"] == expected
    assert req["headers"]["X-Slack-Request-Timestamp"] == str(stale)
    assert driver.url_verification("abc").status == 200


def test_events_envelope_and_retry_headers(receiver: Receiver, driver: SlackDriver) -> None:
    event = {"type": "app_mention", "user": "U0BOB", "text": "<@U0WARROOM> status"}
    driver.event(event, retry_num=1, retry_reason="http_timeout")
    driver.event(event, event_id="Ev0FIXED")
    first, second = (json.loads(r["body"]) for r in receiver.requests)
    assert first["type"] == "event_callback" and first["event"] == event
    assert first["event_id"].startswith("Ev") and second["event_id"] == "Ev0FIXED"
    assert first["team_id"] == "T0WARROOM" and isinstance(first["event_time"], int)
    assert receiver.requests[0]["headers"]["X-Slack-Retry-Num"] == "1"
    assert receiver.requests[0]["headers"]["X-Slack-Retry-Reason"] == "http_timeout"
    assert "X-Slack-Retry-Num" not in receiver.requests[1]["headers"]
    assert all(r["valid"] for r in receiver.requests)


def test_keep_alive_and_reconnect(receiver: Receiver, driver: SlackDriver) -> None:
    for _ in range(5):
        assert driver.url_verification("x").status == 200
    assert len({r["port"] for r in receiver.requests}) == 1  # one persistent connection
    dropping = Receiver(close_after_response=True)
    try:
        flaky = SlackDriver(bot_url=dropping.url, signing_secret=SECRET)
        for _ in range(4):
            assert flaky.url_verification("x").status == 200
        assert len({r["port"] for r in dropping.requests}) == 4
    finally:
        dropping.close()


def test_driver_connections_are_per_thread(receiver: Receiver, driver: SlackDriver) -> None:
    statuses: list[int] = []

    def burst() -> None:
        for _ in range(5):
            statuses.append(driver.url_verification("x").status)

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 20 and all(r["valid"] for r in receiver.requests)
    assert len({r["port"] for r in receiver.requests}) == 4


def test_press_finds_buttons(slack: SlackStandIn, receiver: Receiver, driver: SlackDriver) -> None:
    blocks = [
        {
            "type": "section",
            "block_id": "summary",
            "text": {"type": "mrkdwn", "text": "P1"},
            "accessory": {
                "type": "button",
                "action_id": "ack",
                "value": "inc-7",
                "text": {"type": "plain_text", "text": "Ack"},
            },
        },
        {
            "type": "actions",
            "block_id": "controls",
            "elements": [
                {
                    "type": "button",
                    "action_id": "resolve",
                    "value": "inc-7:resolve",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Resolve"},
                }
            ],
        },
    ]
    ts = slack.call_method(
        "chat.postMessage", {"channel": "C0INCIDENTS", "text": "P1", "blocks": blocks}
    )["ts"]
    driver.press("C0INCIDENTS", ts, "resolve", user="U0BOB")
    payload = receiver.payload()
    assert payload["type"] == "block_actions" and receiver.requests[-1]["valid"]
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "resolve",
        "controls",
        "inc-7:resolve",
        "button",
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0INCIDENTS",
        "is_ephemeral": False,
    }
    assert payload["user"]["username"] == "bob" and payload["channel"]["name"] == "incidents"
    assert payload["message"]["blocks"] == blocks and payload["message"]["ts"] == ts
    driver.press("C0INCIDENTS", ts, "ack", user="U0BOB")
    assert receiver.payload()["actions"][0]["block_id"] == "summary"
    # The response_url is tied to the clicked message, so replace_original edits it.
    WebhookClient(receiver.payload()["response_url"]).send(text="Acked", replace_original=True)
    assert slack.message("C0INCIDENTS", ts)["text"] == "Acked"
    with pytest.raises(LookupError):
        driver.press("C0INCIDENTS", ts, "escalate", user="U0BOB")
    with pytest.raises(LookupError):
        driver.press("C0INCIDENTS", "1.000001", "ack", user="U0BOB")


def test_submit_view_builds_typed_state(
    slack: SlackStandIn, receiver: Receiver, driver: SlackDriver
) -> None:
    view = {
        "type": "modal",
        "callback_id": "declare",
        "private_metadata": '{"channel": "C0GENERAL"}',
        "title": {"type": "plain_text", "text": "Declare"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
            {
                "type": "input",
                "block_id": "sev",
                "label": {"type": "plain_text", "text": "Severity"},
                "element": {
                    "type": "static_select",
                    "action_id": "v",
                    "options": [
                        {"text": {"type": "plain_text", "text": "P1 - critical"}, "value": "P1"},
                        {"text": {"type": "plain_text", "text": "P2 - major"}, "value": "P2"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "lead",
                "label": {"type": "plain_text", "text": "Lead"},
                "element": {"type": "users_select", "action_id": "v"},
            },
            {
                "type": "input",
                "block_id": "notes",
                "label": {"type": "plain_text", "text": "Notes"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
        ],
    }
    opened = slack.call_method("views.open", {"trigger_id": "1.2.3", "view": view})["view"]
    driver.submit_view(
        "U0CAROL",
        opened,
        {"title": {"v": "Checkout down"}, "sev": {"v": "P1"}, "lead": {"v": "U0DAN"}},
    )
    payload = receiver.payload()
    assert payload["type"] == "view_submission" and receiver.requests[-1]["valid"]
    submitted = payload["view"]
    assert submitted["id"] == opened["id"] and submitted["callback_id"] == "declare"
    assert submitted["private_metadata"] == '{"channel": "C0GENERAL"}'
    assert submitted["state"]["values"] == {
        "title": {"v": {"type": "plain_text_input", "value": "Checkout down"}},
        "sev": {
            "v": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "P1 - critical"},
                    "value": "P1",
                },
            }
        },
        "lead": {"v": {"type": "users_select", "selected_user": "U0DAN"}},
        "notes": {"v": {"type": "plain_text_input", "value": None}},
    }
    assert payload["user"]["id"] == "U0CAROL"


def test_shortcuts(receiver: Receiver, driver: SlackDriver, slack: SlackStandIn) -> None:
    ts = slack.user_post("C0GENERAL", "U0ALICE", "db is on fire")
    driver.message_shortcut(
        "declare_from_message", user="U0BOB", channel="C0GENERAL", message_ts=ts
    )
    msg_action = receiver.payload()
    assert (
        msg_action["type"] == "message_action"
        and msg_action["callback_id"] == "declare_from_message"
    )
    assert msg_action["message"]["text"] == "db is on fire" and msg_action["trigger_id"]
    driver.global_shortcut("declare", user="U0BOB")
    shortcut = receiver.payload()
    assert (shortcut["type"], shortcut["callback_id"]) == ("shortcut", "declare")
    assert all(r["valid"] for r in receiver.requests)


def test_forward_events_to_bot(
    slack: SlackStandIn, receiver: Receiver, driver: SlackDriver
) -> None:
    driver.forward_events_to_bot()
    ts = slack.user_post("C0INCIDENTS", "U0ALICE", "root cause found")
    slack.user_pin("C0INCIDENTS", ts, "U0BOB")
    slack.user_react("C0INCIDENTS", ts, "U0CAROL", "pushpin")
    assert slack.drain_events()
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["event"]["type"] for b in bodies] == ["message", "pin_added", "reaction_added"]
    assert bodies[1]["event"]["item"]["message"]["text"] == "root cause found"
    assert all(r["valid"] for r in receiver.requests)
    assert len({b["event_id"] for b in bodies}) == 3
