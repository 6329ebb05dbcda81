"""What the JSON API stand-ins (PagerDuty, Jira Service Management, Statuspage) share: a loopback
HTTP server, a record of every request, opt-in rate limits with `Retry-After`, and faults on
demand (an HTTP status, or no answer at all, for the next N calls)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standins.http_server import KeepAliveServer, TrackedHandler

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0  # what the stand-in answered


@dataclass
class Fault:
    status: int  # 0: hold the request past any client's timeout (then close it)
    times: int
    retry_after: int | None = None
    body: Any = None


@dataclass
class RateLimit:
    """At most `calls` per `per` seconds per key, over a rolling window; past it, `status`."""

    calls: int
    per: float
    status: int = 429
    _seen: dict[str, deque[float]] = field(default_factory=dict)

    def check(self, key: str) -> int | None:
        """None when allowed, else the seconds to wait (for Retry-After)."""
        now = time.monotonic()
        q = self._seen.setdefault(key, deque())
        while q and q[0] <= now - self.per:
            q.popleft()
        if len(q) >= self.calls:
            return max(1, int(q[0] + self.per - now + 0.999))
        q.append(now)
        return None


class JsonStandIn:
    name = "stand-in"

    def __init__(self, rate_limit: RateLimit | None = None, hold_seconds: float = 15) -> None:
        self.rate_limit = rate_limit
        self.hold_seconds = hold_seconds
        self.lock = threading.RLock()
        self.received: list[Received] = []
        self._faults: deque[Fault] = deque()
        self._server: KeepAliveServer | None = None
        self.base_url = ""

    # --- tests' controls -------------------------------------------------------------------
    def fail_next(
        self, status: int, times: int = 1, retry_after: int | None = None, body: Any = None
    ) -> None:
        """The next `times` calls answer `status` (0: no answer until the client gives up)."""
        with self.lock:
            self._faults.append(Fault(status, times, retry_after, body))

    def calls(self, path_part: str = "") -> list[Received]:
        with self.lock:
            return [r for r in self.received if path_part in r.path]

    # --- serving -----------------------------------------------------------------------------
    def handle(self, r: Received) -> Answer:  # pragma: no cover - subclasses answer
        raise NotImplementedError

    def rate_key(self, r: Received) -> str:
        return "all"

    def fault_body(self, status: int) -> Any:
        return {"message": "stand-in fault"}

    def _answer(self, r: Received) -> Answer | None:
        with self.lock:
            self.received.append(r)
            if self._faults:
                f = self._faults[0]
                f.times -= 1
                if f.times <= 0:
                    self._faults.popleft()
                if f.status == 0:
                    return None
                headers = {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {}
                return (
                    f.status,
                    f.body if f.body is not None else self.fault_body(f.status),
                    headers,
                )
            if self.rate_limit is not None:
                wait = self.rate_limit.check(self.rate_key(r))
                if wait is not None:
                    return (
                        self.rate_limit.status,
                        self.fault_body(self.rate_limit.status),
                        {"Retry-After": str(wait)},
                    )
            return self.handle(r)

    def start(self) -> JsonStandIn:
        standin = self

        class Handler(TrackedHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                    bad_json = False
                except ValueError:
                    body, bad_json = raw.decode("utf-8", "replace"), True
                r = Received(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                if bad_json:
                    r.headers["x-standin-bad-json"] = "1"
                answer = standin._answer(r)
                if answer is None:
                    time.sleep(standin.hold_seconds)
                    self.close_connection = True
                    return
                status, payload, headers = answer
                r.status = status
                out = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self._server = KeepAliveServer(("127.0.0.1", 0), Handler)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-standin",
            daemon=True,
        ).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
