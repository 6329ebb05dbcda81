"""The door of the HTTP endpoint: Slack's signature over the raw bytes before anything is
parsed, replays refused by their signature, and signed bodies that are not Slack's shape
answered 400 without reaching Bolt."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from sqlalchemy import delete

from bot.db import Database, insert_for
from bot.models import SeenRequest
from bot.once import Once

log = logging.getLogger(__name__)

WINDOW_SECONDS = 300  # Slack's: a request older or newer than five minutes is refused
_SWEEP_EVERY = 500  # inserts between deletions of signatures older than the window


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: float) -> tuple[bool, str]:
    """(True, signature) when the request is Slack's; (False, why) otherwise. Parses nothing
    of the body and reads only the two headers."""
    if not secret:
        return False, "no signing secret configured"
    ts = headers.get("x-slack-request-timestamp", "")
    sig = headers.get("x-slack-signature", "")
    if not (ts.isascii() and ts.isdigit()) or len(ts) > 12:
        return False, "bad timestamp"
    if abs(now - int(ts)) > WINDOW_SECONDS:
        return False, "stale timestamp"
    base = b"v0:" + ts.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace")):
        return False, "bad signature"
    return True, sig


def well_formed(body: bytes, content_type: str) -> bool:
    """Slack's three shapes: a JSON object (events), `payload=<JSON object>` (interactivity),
    or a form (commands)."""
    try:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip().lower() == "application/json":
            return isinstance(json.loads(text), dict)
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        if "payload" in form:
            return len(form["payload"]) == 1 and isinstance(json.loads(form["payload"][0]), dict)
        return True
    except ValueError:  # also UnicodeDecodeError and parse_qs's strict errors
        return False


def replay_key(signature: str, body: bytes, content_type: str, retry_num: str) -> str:
    """What makes a request new. Only the Events API retries (X-Slack-Retry-Num, not signed, so
    it is part of the key only for events, which are also de-duplicated by event_id)."""
    is_event = content_type.split(";")[0].strip().lower() == "application/json"
    return f"{signature}:{retry_num}" if is_event and retry_num.isdigit() else signature


class ReplayGuard:
    """First sight of a signature within the window: Redis `SET NX` when configured and
    answering, the `seen_requests` table otherwise."""

    def __init__(self, db: Database, once: Once, now: Callable[[], datetime]) -> None:
        self.db = db
        self.once = once
        self.now = now
        self._inserts = 0
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        first = self.once.first("req:" + key, WINDOW_SECONDS * 2)
        if first is not None:
            return first
        now = self.now()
        table = SeenRequest.__table__
        with self.db.session() as s:
            insert = insert_for(s.get_bind())
            taken = s.execute(
                insert(table)
                .values(signature=key[:80], seen_at=now)
                .on_conflict_do_nothing(index_elements=[table.c.signature])
                .returning(table.c.signature)
            ).first()
            if self._sweep_due():
                s.execute(
                    delete(table).where(
                        table.c.seen_at < now - timedelta(seconds=WINDOW_SECONDS * 2)
                    )
                )
        return taken is not None

    def _sweep_due(self) -> bool:
        with self._lock:
            self._inserts += 1
            return self._inserts % _SWEEP_EVERY == 1
