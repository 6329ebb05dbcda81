"""Slack's `view.state.values` for a submitted modal: every input element, typed by element."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def view_state(
    view: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Build ``view.state.values`` the way Slack does: every input element, typed by element."""
    state: dict[str, dict[str, Any]] = {}
    elements: dict[tuple[str, str], dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            element = block["element"]
            key = (block.get("block_id", ""), element.get("action_id", ""))
            elements[key] = element
            state.setdefault(key[0], {})[key[1]] = element_state(element, None)
    for block_id, actions in values.items():
        for action_id, value in actions.items():
            element = elements.get((block_id, action_id), {"type": "plain_text_input"})
            entry = value if isinstance(value, dict) else element_state(element, value)
            state.setdefault(block_id, {})[action_id] = entry
    return state


def element_state(element: Mapping[str, Any], value: Any) -> dict[str, Any]:
    kind = element.get("type", "plain_text_input")

    def option(v: str) -> dict[str, Any]:
        for opt in element.get("options") or []:
            if opt.get("value") == v:
                return dict(opt)
        return {"text": {"type": "plain_text", "text": str(v), "emoji": True}, "value": str(v)}

    if kind in ("static_select", "external_select", "radio_buttons"):
        return {"type": kind, "selected_option": None if value is None else option(value)}
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return {"type": kind, "selected_options": [option(v) for v in value or []]}
    singles = {
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "timepicker": "selected_time",
    }
    if kind in singles:
        return {"type": kind, singles[kind]: value}
    multis = {
        "multi_users_select": "selected_users",
        "multi_conversations_select": "selected_conversations",
        "multi_channels_select": "selected_channels",
    }
    if kind in multis:
        return {"type": kind, multis[kind]: list(value or [])}
    return {"type": kind, "value": value}
