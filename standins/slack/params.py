"""The Web API error type and request-parameter handling: coercion and cursors."""

from __future__ import annotations

import base64
import json
from typing import Any


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
