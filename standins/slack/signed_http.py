"""Signed HTTP to the bot's `/slack/events`: Slack's headers and v0 signature, over one
kept-alive connection per thread. `SlackDriver` builds the payloads; this carries them."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Stale keep-alive connections fail in one of these ways; the request is then retried once.
_RECONNECT_ERRORS = (
    http.client.RemoteDisconnected,
    http.client.CannotSendRequest,
    http.client.BadStatusLine,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)


@dataclass
class DriverResponse:
    """The bot's HTTP answer; ``headers`` lookups are case-insensitive."""

    status: int
    body: str
    json: dict[str, Any] | None
    headers: Mapping[str, str]
    elapsed: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def slack_signature(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Slack's v0 request signature for ``body`` sent at ``timestamp``."""
    raw = body.decode() if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{raw}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def _maybe_json(resp: http.client.HTTPResponse, text: str) -> dict[str, Any] | None:
    if "json" not in (resp.getheader("Content-Type") or "") and not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class SignedHttp:
    """POSTs bodies to the bot as Slack does, signed with the signing secret."""

    def __init__(self, bot_url: str, signing_secret: str, timeout: float = 10.0) -> None:
        parts = urlsplit(bot_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"bot_url must be an http(s) URL, got {bot_url!r}")
        self.signing_secret = signing_secret
        self.timeout = timeout
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        sign: bool = True,
        timestamp: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> DriverResponse:
        """POST a raw body with Slack's headers; ``sign=False`` sends a wrong signature."""
        ts = int(time.time()) if timestamp is None else timestamp
        secret = self.signing_secret if sign else "not-the-" + self.signing_secret
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": slack_signature(secret, ts, body),
            **(headers or {}),
        }
        started = time.perf_counter()
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request("POST", self._path, body=body, headers=all_headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except _RECONNECT_ERRORS:
                conn.close()
                self._local.conn = None
                # Only a reused keep-alive socket may have gone stale; a fresh failure is real.
                if attempt == 2 or not reused:
                    raise
            except BaseException:
                conn.close()
                self._local.conn = None
                raise
        elapsed = time.perf_counter() - started
        if resp.will_close:
            conn.close()
            self._local.conn = None
        text = raw.decode("utf-8", errors="replace")
        return DriverResponse(resp.status, text, _maybe_json(resp, text), resp.msg, elapsed)

    def close(self) -> None:
        """Close this thread's connection (other threads' connections close when they exit)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None:
            return conn, True
        if conn is None:
            cls = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn, False
