"""The kind "alert source": a webhook body in, the alerts it carries out, or a reason it is bad.

Adapters only parse; authentication, routing and storing are the same for every product."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

MAX_TEXT = 4000  # an annotation or label value longer than this is cut
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Go writes nanoseconds; Python reads microseconds


class BadPayload(Exception):
    """The body is not what the source sends; the message says what is wrong (HTTP 400)."""


@dataclass
class IncomingAlert:
    fingerprint: str
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str = ""
    source_group_key: str = ""
    external_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Delivery:
    alerts: list[IncomingAlert]
    truncated: int = 0  # alerts the sender left out (Alertmanager's truncatedAlerts)


class AlertSource(Protocol):
    name: str  # the path: /hooks/<name>
    display: str  # who "reported" it, for people

    def parse(self, doc: Any, max_alerts: int) -> Delivery: ...


def need(obj: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise BadPayload(f"{where}: missing field '{key}'")
    v = obj[key]
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise BadPayload(f"{where}.{key}: must be {kind.__name__}")
    return v


def string_map(v: Any, where: str) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict) or not all(
        isinstance(k, str) and isinstance(x, str) for k, x in v.items()
    ):
        raise BadPayload(f"{where}: must be an object of strings")
    if any("\x00" in k or "\x00" in x for k, x in v.items()):
        raise BadPayload(f"{where}: contains a NUL character")
    return {k[:200]: x[:MAX_TEXT] for k, x in v.items()}


def timestamp(v: Any, where: str, optional: bool = False) -> datetime | None:
    """RFC 3339; Go's zero time (0001-01-01T00:00:00Z) means "not set"."""
    if v in (None, "") and optional:
        return None
    if not isinstance(v, str):
        raise BadPayload(f"{where}: must be an RFC 3339 time string")
    if v.startswith("0001-01-01"):
        if optional:
            return None
        raise BadPayload(f"{where}: is the zero time")
    try:
        dt = datetime.fromisoformat(_FRACTION.sub(r"\1", v))
    except ValueError:
        raise BadPayload(f"{where}: '{v[:40]}' is not an RFC 3339 time") from None
    if dt.tzinfo is None:
        raise BadPayload(f"{where}: needs a time zone (Z or +hh:mm)")
    return dt.astimezone(UTC)


def status(v: Any, where: str) -> str:
    if v not in ("firing", "resolved"):
        raise BadPayload(f"{where}: status must be 'firing' or 'resolved'")
    return str(v)


def label_fingerprint(labels: dict[str, str]) -> str:
    """For senders that give none: stable over the label set, like Alertmanager's own."""
    raw = "\x1f".join(f"{k}\x1e{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def fingerprint(v: Any, labels: dict[str, str], where: str) -> str:
    if v in (None, ""):
        return label_fingerprint(labels)
    if not isinstance(v, str) or len(v) > 64 or not v.isprintable():
        raise BadPayload(f"{where}.fingerprint: must be a string of at most 64 characters")
    return v


def url(v: Any, where: str) -> str:
    if v in (None, ""):
        return ""
    if not isinstance(v, str):
        raise BadPayload(f"{where}: must be a string")
    return v[:2000]


def alert_list(doc: Any, max_alerts: int) -> list[Any]:
    if not isinstance(doc, dict):
        raise BadPayload("the body must be a JSON object")
    alerts = need(doc, "alerts", list, "body")
    if not alerts:
        raise BadPayload("body.alerts: is empty")
    if len(alerts) > max_alerts:
        raise BadPayload(f"body.alerts: {len(alerts)} alerts; at most {max_alerts} per request")
    return alerts
