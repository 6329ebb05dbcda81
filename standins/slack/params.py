"""The Web API error type and request-parameter handling: coercion, cursors, Block Kit limits."""

from __future__ import annotations

import base64
import json
from typing import Any

# Limits Slack enforces on Block Kit; violating them is a classic production-only failure.
_TEXT_LIMITS = {"section": 3000, "header": 150}
_VIEW_TEXT_LIMIT = 24
_PRIVATE_METADATA_LIMIT = 3000


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


def _parse_blocks(raw: Any) -> list[dict[str, Any]]:
    blocks = _json_value(raw, "invalid_blocks_format")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    problems = []
    if len(blocks) > 50:
        problems.append("must provide no more than 50 items [json-pointer:/blocks]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:/blocks/{i}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen:
                problems.append(f"duplicate block_id [json-pointer:/blocks/{i}/block_id]")
            seen.add(block_id)
        limit = _TEXT_LIMITS.get(block["type"])
        text = block.get("text")
        if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
            problems.append(
                f"must be less than {limit + 1} characters [json-pointer:/blocks/{i}/text]"
            )
    if problems:
        meta = {"messages": [f"[ERROR] {p}" for p in problems]}
        raise SlackError("invalid_blocks", errors=problems, response_metadata=meta)
    return blocks


def _validate_view(raw: Any) -> dict[str, Any]:
    view = _json_value(raw, "invalid_arguments")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments")
    problems = []
    if view.get("type") not in ("modal", "home"):
        problems.append("must be a valid enum value [json-pointer:/view/type]")
    if view.get("type") == "modal" and not isinstance(view.get("title"), dict):
        problems.append("missing required field: title [json-pointer:/view]")
    for key in ("title", "submit", "close"):
        text = view.get(key)
        if isinstance(text, dict) and len(str(text.get("text", ""))) > _VIEW_TEXT_LIMIT:
            problems.append(f"must be less than 25 characters [json-pointer:/view/{key}/text]")
    if len(view.get("blocks") or []) > 100:
        problems.append("must provide no more than 100 items [json-pointer:/view/blocks]")
    if len(str(view.get("private_metadata", ""))) > _PRIVATE_METADATA_LIMIT:
        problems.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if problems:
        meta = {"messages": [f"[ERROR] {p}" for p in problems]}
        raise SlackError("invalid_arguments", response_metadata=meta)
    return view
