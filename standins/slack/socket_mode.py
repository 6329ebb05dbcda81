"""Slack's Socket Mode, stood in: the WebSocket end that `apps.connections.open` hands out
(the driver that delivers over it is `socket_driver`).

Slack sends each envelope to one of the app's open connections, chosen at random, and the app
acknowledges it with the envelope's id (a slash command's or interaction's reply rides in the
acknowledgement's `payload`). The WebSocket framing (RFC 6455) is the little this needs: text,
ping/pong and close frames, masked from the client, unmasked from the server.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
import struct
import threading
import uuid
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class SocketModeConnection:
    """One app connection: reads frames on the handler's thread, writes under a lock."""

    def __init__(self, rfile: Any, wfile: Any) -> None:
        self.rfile = rfile
        self.wfile = wfile
        self._write_lock = threading.Lock()
        self.open = True

    def send_text(self, data: dict[str, Any]) -> None:
        self._write(TEXT, json.dumps(data).encode())

    def _write(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self._write_lock:
            self.wfile.write(head + payload)
            self.wfile.flush()

    def read_message(self) -> tuple[int, bytes] | None:
        """The next whole message (continuations joined); None when the socket closed."""
        parts: list[bytes] = []
        first_opcode = 0
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return None
            fin, opcode = head[0] & 0x80, head[0] & 0x0F
            masked, n = head[1] & 0x80, head[1] & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self.rfile.read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self.rfile.read(8))
            mask = self.rfile.read(4) if masked else b""
            data = self.rfile.read(n)
            if len(data) < n:
                return None
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode in (CLOSE, PING, PONG):
                return opcode, data  # control frames are never fragmented
            first_opcode = first_opcode or opcode
            parts.append(data)
            if fin:
                return first_opcode, b"".join(parts)

    def close(self) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(OSError):
                self._write(CLOSE, struct.pack("!H", 1000))


class SocketModeHub:
    """The stand-in's Socket Mode side: open connections, and envelopes waiting for their ack."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._connections: list[SocketModeConnection] = []
        self._acks: dict[str, dict[str, Any] | None] = {}
        self.opened = 0  # connections ever opened (a reconnect counts again)

    @property
    def connected(self) -> int:
        with self._lock:
            return len(self._connections)

    def wait_connected(self, count: int = 1, timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self._connections) >= count, timeout)

    def serve(self, handler: Any) -> None:
        """Upgrade an HTTP request to a WebSocket and run it until either side closes."""
        key = handler.headers.get("Sec-WebSocket-Key", "")
        if handler.headers.get("Upgrade", "").lower() != "websocket" or not key:
            handler.send_error(400, "expected a WebSocket upgrade")
            return
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept)
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        conn = SocketModeConnection(handler.rfile, handler.wfile)
        with self._lock:
            self._connections.append(conn)
            self.opened += 1
            self._lock.notify_all()
        try:
            conn.send_text(
                {
                    "type": "hello",
                    "num_connections": len(self._connections),
                    "debug_info": {"host": "standin", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "A0WARROOM"},
                }
            )
            self._read_loop(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)
                self._lock.notify_all()
            conn.close()

    def _read_loop(self, conn: SocketModeConnection) -> None:
        while (msg := conn.read_message()) is not None:
            opcode, data = msg
            if opcode == CLOSE:
                return
            if opcode == PING:
                conn._write(PONG, data)
            elif opcode == TEXT:
                with contextlib.suppress(ValueError):
                    self._ack(json.loads(data))

    def _ack(self, ack: Any) -> None:
        if not isinstance(ack, dict):
            return  # Slack ignores what is not an acknowledgement
        envelope_id = ack.get("envelope_id")
        with self._lock:
            if envelope_id in self._acks:
                self._acks[envelope_id] = ack
                self._lock.notify_all()

    def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 3.0,
    ) -> dict[str, Any] | None:
        """Send one envelope to a random connection; the app's ack, or None after `timeout`
        (Slack's limit is 3 s)."""
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        return self.deliver_envelope(envelope, timeout=timeout)

    def deliver_envelope(
        self, envelope: dict[str, Any], *, timeout: float = 3.0
    ) -> dict[str, Any] | None:
        """Send an envelope as given (the same one twice is a redelivery); its ack or None."""
        return self.send_frame(
            json.dumps(envelope), envelope_id=str(envelope["envelope_id"]), timeout=timeout
        )

    def send_frame(
        self, data: str | bytes, *, envelope_id: str | None = None, timeout: float = 3.0
    ) -> dict[str, Any] | None:
        """Send one text frame with anything in it (for fuzzing what arrives over the socket).
        With `envelope_id`, wait for the ack that names it; None when none came in `timeout`."""
        raw = data.encode() if isinstance(data, str) else data
        with self._lock:
            if not self._connections:
                raise ConnectionError("no Socket Mode connection is open")
            conn = random.choice(self._connections)
            if envelope_id is not None:
                self._acks[envelope_id] = None
        try:
            conn._write(TEXT, raw)
            if envelope_id is None:
                return None
            with self._lock:
                self._lock.wait_for(lambda: self._acks[envelope_id] is not None, timeout)
                return self._acks[envelope_id]
        finally:
            if envelope_id is not None:
                with self._lock:
                    self._acks.pop(envelope_id, None)

    def close_all(self) -> None:
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            conn.close()
