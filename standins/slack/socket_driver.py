"""Plays Slack's side over Socket Mode: the driver's payloads as Socket Mode envelopes,
delivered through the stand-in's hub to the app's open connections."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from standins.slack.driver import SlackDriver
from standins.slack.signed_http import DriverResponse
from standins.slack.socket_mode import SocketModeHub


def envelope_parts(body: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """The envelope type and payload Slack would send over the socket for an HTTP body."""
    if content_type == "application/json":
        return "events_api", json.loads(body)
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if "payload" in fields:
        return "interactive", json.loads(fields["payload"])
    return "slash_commands", fields


class _Keep:
    """A transport that sends nothing and keeps the body, to build an envelope from it."""

    def send(self, body: bytes, content_type: str, **_: Any) -> tuple[bytes, str]:
        return body, content_type


class SocketModeTransport:
    """Carries a `SlackDriver` body as Slack's Socket Mode envelope instead of signed HTTP.

    The status of its `DriverResponse` is 200 when the app acknowledged in time and 504 when it
    did not; its `json` is the acknowledgement's payload (a slash command's reply)."""

    def __init__(self, hub: SocketModeHub, timeout: float) -> None:
        self.hub = hub
        self.timeout = timeout

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        sign: bool = True,
        timestamp: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> DriverResponse:
        # No signatures in Socket Mode: the connection itself is authenticated.
        headers = headers or {}
        kind, payload = envelope_parts(body, content_type)
        started = time.perf_counter()
        ack = self.hub.deliver(
            kind,
            payload,
            retry_attempt=int(headers.get("X-Slack-Retry-Num", 0)),
            retry_reason=headers.get("X-Slack-Retry-Reason", ""),
            timeout=self.timeout,
        )
        elapsed = time.perf_counter() - started
        if ack is None:
            return DriverResponse(504, "", None, {}, elapsed)
        reply = ack.get("payload")
        return DriverResponse(200, json.dumps(reply or {}), reply, {}, elapsed)

    def close(self) -> None:
        pass  # the connections belong to the app and the hub


class SocketModeDriver(SlackDriver):
    """`SlackDriver`'s payloads, delivered over the stand-in's Socket Mode connections."""

    def __init__(self, hub: SocketModeHub, **kwargs: Any) -> None:
        super().__init__("http://socket-mode.invalid/", **kwargs)
        self.hub = hub
        self.transport = SocketModeTransport(hub, self.timeout)

    def command_envelope(
        self, text: str, user: str, channel: str, *, retry_attempt: int = 0
    ) -> dict[str, Any]:
        """The envelope of a slash command, to send as is (or twice) with the hub's
        `deliver_envelope`."""
        transport, self.transport = self.transport, _Keep()
        try:
            body, content_type = self.command(text, user, channel)  # type: ignore[misc]
        finally:
            self.transport = transport
        kind, payload = envelope_parts(body, content_type)
        return {
            "envelope_id": str(uuid.uuid4()),
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
            "retry_attempt": retry_attempt,
            "retry_reason": "",
        }
