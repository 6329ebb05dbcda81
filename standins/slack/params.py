"""The Web API error type and request-parameter handling: coercion and cursors."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_EVENT_TYPE = re.compile(r"[A-Za-z0-9_]+")


class SlackError(Exception):
    """A Slack API error code (``{"ok": false, "error": code, **extra}``)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _json_value(value: Any, error: str) -> Any:
    """Form bodies carry JSON as strings, JSON bodies carry it inline; accept both."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    return value


def _metadata(value: Any) -> dict[str, Any] | None:
    """``metadata`` of chat.postMessage / chat.update: a JSON string (form bodies) or an object
    (JSON bodies) with ``event_type`` (alphanumeric, underscores allowed) and an object
    ``event_payload``. Not JSON or not an object: ``invalid_metadata_format``; the wrong keys or
    types: ``invalid_metadata_schema``."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise SlackError("invalid_metadata_format") from None
    if not isinstance(value, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = value.get("event_type"), value.get("event_payload")
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        raise SlackError("invalid_metadata_schema")
    if not isinstance(payload, dict) or set(value) - {"event_type", "event_payload"}:
        raise SlackError("invalid_metadata_schema")
    return {"event_type": event_type, "event_payload": payload}


def _id_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _paginate(items: list[Any], params: dict[str, Any], default_limit: int = 100) -> tuple:
    """Slice ``items`` with Slack's opaque cursor scheme; returns (page, response_metadata)."""
    limit = _int(params.get("limit"), default_limit)
    limit = default_limit if limit <= 0 else min(limit, 1000)
    start = 0
    cursor = params.get("cursor") or ""
    if cursor:
        try:
            kind, offset = base64.b64decode(cursor).decode().split(":")
            start = int(offset)
            if kind != "next" or start < 0:
                raise ValueError(cursor)
        except ValueError:
            raise SlackError("invalid_cursor") from None
    end = start + limit
    next_cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], {"next_cursor": next_cursor}
