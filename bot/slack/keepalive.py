"""slack_sdk's WebClient over kept-alive HTTP connections.

slack_sdk sends every Web API call through `urllib.request.urlopen`, which opens and closes a
TCP (and TLS) connection per call. A war room is seven calls; at 50 declarations a second the
connection set-up alone cost more CPU than the calls. This client keeps a small pool of
connections per host and reuses them; everything else (retry handlers, error mapping,
pagination) stays slack_sdk's own, because only the innermost transport method is replaced.
"""

from __future__ import annotations

import http.client
import io
import threading
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient

# A connection the server closed while it sat idle fails on reuse with one of these, before
# any response; the request is then sent once more on a fresh connection.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
MAX_IDLE = 64  # as many as the effects and fan-out pools can have in flight


class ConnectionPool:
    """Idle HTTP(S) connections by (scheme, host, port); thread-safe, at most MAX_IDLE each."""

    def __init__(self, timeout: float, ssl_context: Any = None) -> None:
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str, int]) -> tuple[http.client.HTTPConnection, bool]:
        """A connection for `key`, and whether it was used before."""
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        scheme, host, port = key
        if scheme == "https":
            return (
                http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self.ssl_context
                ),
                False,
            )
        return http.client.HTTPConnection(host, port, timeout=self.timeout), False

    def give_back(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()


class KeepAliveWebClient(WebClient):
    """A WebClient whose calls reuse pooled connections (no proxy; with one, slack_sdk's own)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = ConnectionPool(self.timeout, self.ssl)

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        default_port = 443 if parts.scheme == "https" else 80
        key = (parts.scheme, parts.hostname or "", parts.port or default_port)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(req.header_items())
        body = req.data if isinstance(req.data, bytes) else None
        while True:
            conn, reused = self.pool.take(key)
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except _STALE:
                conn.close()
                if reused:
                    continue  # the server had closed it; this request never reached it
                raise
            except BaseException:
                conn.close()
                raise
            break
        if resp.will_close:
            conn.close()
        else:
            self.pool.give_back(key, conn)
        if resp.status >= 400:
            # slack_sdk's retry handlers and error mapping expect urllib's HTTPError.
            raise _http_error(url, resp, data)
        charset = resp.headers.get_content_charset() or "utf-8"
        return {"status": resp.status, "headers": resp.headers, "body": data.decode(charset)}


def _http_error(url: str, resp: http.client.HTTPResponse, data: bytes) -> HTTPError:
    return HTTPError(url, resp.status, resp.reason, resp.headers, io.BytesIO(data))
