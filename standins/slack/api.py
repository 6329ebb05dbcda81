"""Slack Web API stand-in: a local HTTP server over ``SlackState`` with fault and latency injection.

Point ``slack_sdk.WebClient(token=..., base_url=standin.api_url)`` at it.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from standins.http_server import KeepAliveServer, TrackedHandler
from standins.slack.openid import OpenIDConnect, basic_credentials
from standins.slack.rate_limits import RateLimits
from standins.slack.scopes import ScopeCheck, conversation_kinds, manifest_bot_scopes
from standins.slack.socket_mode import SocketModeHub
from standins.slack.state import TEAM_DOMAIN, TEAM_ID, TEAM_NAME, SlackError, SlackState

__all__ = ["Call", "RateLimits", "SlackError", "SlackStandIn"]

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]


class Call(NamedTuple):
    """One Web API request as received (``at`` is ``time.monotonic()`` on arrival)."""

    method: str
    params: dict[str, Any]
    at: float


class SlackStandIn(SlackState):
    """Fake Slack workspace served on 127.0.0.1; thread-safe, one lock around all state.

    The bot token holds the scopes of ``bot/slack_manifest.yaml`` unless ``scopes`` is given.
    ``rate_limits`` (off by default) answers 429 past Slack's tiers: ``True`` for real time, or a
    ``RateLimits(scale=...)`` to run the clock faster.
    """

    def __init__(
        self,
        token: str = "xoxb-sandbox",
        port: int = 0,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        app_token: str = "xapp-sandbox",
        scopes: Iterable[str] | None = None,
        rate_limits: RateLimits | bool | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.scopes = ScopeCheck(manifest_bot_scopes() if scopes is None else scopes)
        if rate_limits is True:
            rate_limits = RateLimits()
        self.rate_limits: RateLimits | None = rate_limits or None
        self.app_token = app_token  # Socket Mode's app-level token (apps.connections.open)
        self.socket_mode = SocketModeHub()
        self.openid = OpenIDConnect(TEAM_ID, TEAM_NAME, TEAM_DOMAIN, self)  # Sign in with Slack
        self.latency = latency  # seconds added to every Web API call; may be changed at runtime
        self.event_sink: EventSink | None = None
        self._host = host
        self._port = port
        self.base_url = f"http://{host}:{port}"
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._calls: list[Call] = []
        self._fail: dict[str, deque[str]] = {}
        self._rate: dict[str, deque[int]] = {}
        self._queue: queue.SimpleQueue[tuple[EventSink, dict[str, Any]] | None] = (
            queue.SimpleQueue()
        )
        self._idle = threading.Condition()
        self._pending = 0
        self._dispatcher: threading.Thread | None = None

    # ------------------------------------------------------------------------ lifecycle
    def start(self) -> SlackStandIn:
        if self._server is not None:
            return self
        self._server = _Server((self._host, self._port), _Handler)
        self._server.standin = self
        self._port = self._server.server_address[1]
        self.base_url = f"http://{self._host}:{self._port}"
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-standin-http",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        self.socket_mode.close_all()
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        with self.lock:  # _emit starts dispatchers under the lock
            dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            self._queue.put(None)
            if dispatcher is not threading.current_thread():
                dispatcher.join(timeout=2.0)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ---------------------------------------------------------------- calls and faults
    @property
    def calls(self) -> list[Call]:
        with self.lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self._calls if c.method == method]

    def reset_calls(self) -> None:
        with self.lock:
            self._calls.clear()

    def fail_next(self, method: str, error: str = "internal_error", times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        with self.lock:
            self._fail.setdefault(method, deque()).extend([error] * times)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After``."""
        with self.lock:
            self._rate.setdefault(method, deque()).extend([retry_after] * times)

    def handle_api(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        basic: tuple[str, str] | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Serve one Web API request; returns (HTTP status, JSON body, extra headers)."""
        with self.lock:
            secret = ("token", "client_secret", "code")
            recorded = {k: v for k, v in params.items() if k not in secret}
            self._calls.append(Call(method, recorded, time.monotonic()))
        if self.latency > 0:
            time.sleep(self.latency)  # outside the lock so concurrent calls overlap like on Slack
        if method.startswith("openid.connect."):  # client credentials or a user token
            return 200, self.openid.api(method, params, token, basic), {}
        if method == "apps.connections.open":  # the one method that takes the app token
            if token != self.app_token:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            limited = self.rate_limits and self.rate_limits.check(method)
            if limited:
                return _ratelimited(limited)
            ticket = uuid.uuid4().hex
            url = f"ws://{self._host}:{self._port}/link/?ticket={ticket}&app_id=A0WARROOM"
            return 200, {"ok": True, "url": url}, {}
        with self.lock:
            if not self.has_method(method):
                return 200, {"ok": False, "error": "unknown_method"}, {}
            rate = self._rate.get(method)
            if rate:
                return _ratelimited(rate.popleft())
            if not token:
                return 200, {"ok": False, "error": "not_authed"}, {}
            if token != self.token:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if self.rate_limits is not None:
                retry_after = self.rate_limits.check(method, params.get("channel"))
                if retry_after is not None:
                    return _ratelimited(retry_after)
            try:
                self.scopes.require(method, conversation_kinds(self, method, params))
            except SlackError as exc:
                return 200, {"ok": False, "error": exc.error, **exc.extra}, {}
            failures = self._fail.get(method)
            if failures:
                return 200, {"ok": False, "error": failures.popleft()}, {}
        # call_method takes the lock itself and runs `after_call` outside it.
        return 200, self.call_method(method, params), {}

    def handle_response_url(self, rid: str, raw: bytes) -> tuple[int, str]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, "invalid_payload"
        if not isinstance(body, dict):
            return 400, "invalid_payload"
        with self.lock:
            self._calls.append(Call("response_url", body, time.monotonic()))
        return self.post_response_url(rid, body)

    # --------------------------------------------------------------------------- events
    def _emit(self, event: dict[str, Any]) -> None:
        super()._emit(event)
        sink = self.event_sink
        if sink is None:
            return
        with self._idle:
            self._pending += 1
        # Enqueued under the state lock so delivery order equals the order of state changes;
        # the sink itself runs on the dispatcher thread without the lock.
        self._queue.put((sink, event))
        if self._dispatcher is None:
            self._dispatcher = threading.Thread(
                target=self._dispatch_events, name="slack-standin-events", daemon=True
            )
            self._dispatcher.start()

    def _dispatch_events(self) -> None:
        while (item := self._queue.get()) is not None:
            sink, event = item
            try:
                sink(event)
            except Exception:  # a broken sink must not kill delivery of later events
                log.exception("event_sink failed for %s event", event.get("type"))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def drain_events(self, timeout: float = 2.0) -> bool:
        """Wait until every queued event was handed to the sink; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


class _Server(KeepAliveServer):
    standin: SlackStandIn


class _Handler(TrackedHandler):
    server: _Server

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        standin = self.server.standin
        path = url.path
        if path.startswith("/api/"):
            try:
                params = _parse_params(url.query, self.headers.get("Content-Type", ""), body)
            except SlackError as exc:
                self._send(200, _json({"ok": False, "error": exc.error}))
                return
            auth = self.headers.get("Authorization", "")
            token = auth[7:].strip() if auth.startswith("Bearer ") else params.get("token")
            try:
                basic = basic_credentials(auth)
                status, payload, headers = standin.handle_api(path[5:], params, token, basic)
            except Exception:  # a stand-in bug must look like a Slack outage, not a hang
                log.exception("stand-in failed on %s", path)
                status, payload, headers = 500, {"ok": False, "error": "fatal_error"}, {}
            self._send(status, _json(payload), headers=headers)
        elif path == "/openid/connect/authorize":
            status, page, headers = standin.openid.authorize(self.command, url.query, body)
            self._send(status, page.encode(), "text/html; charset=utf-8", headers)
        elif path.startswith("/link/") and self.command == "GET":
            standin.socket_mode.serve(self)  # returns when the WebSocket closes
        elif path.startswith("/response/") and self.command == "POST":
            status, text = standin.handle_response_url(path[len("/response/") :], body)
            self._send(status, text.encode(), "text/plain; charset=utf-8")
        elif path.startswith("/upload/") and self.command == "POST":
            if standin.receive_upload(path[len("/upload/") :], body):
                self._send(200, f"OK - {len(body)}".encode(), "text/plain; charset=utf-8")
            else:
                self._send(404, b"file_not_found", "text/plain; charset=utf-8")
        else:
            self._send(404, b"not_found", "text/plain; charset=utf-8")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _ratelimited(retry_after: int) -> tuple[int, dict[str, Any], dict[str, str]]:
    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def _parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Merge query string and body params; slack_sdk sends form, JSON or multipart bodies."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return params
    if ctype == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("invalid_json")
        params.update({k: v for k, v in data.items() if v is not None})
    elif ctype == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            params[name] = payload if part.get_filename() else payload.decode()
    else:
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    return params
