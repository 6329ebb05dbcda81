"""War-room commands that move the incident: status, update, severity, resolve, reopen."""

from __future__ import annotations

import json

from bot.errors import UserError
from bot.incident import flows, lifecycle, ops
from bot.incident.states import parse_status
from bot.runtime import Runtime
from bot.severity import normalize
from commands.base import Reply, Request, ok


def _done(rt: Runtime, req: Request, change: lifecycle.Change, text: str) -> Reply:
    return ok(text, lambda: flows.apply_change(rt, change, req.response_url))


def status(rt: Runtime, req: Request, args: str) -> Reply:
    parts = args.split(None, 1)
    if not parts:
        raise UserError("Which status? `/incident status identified Bad deploy of payments v42`")
    new = parse_status(parts[0])
    msg = parts[1] if len(parts) > 1 else ""
    change = ops.in_war_room(rt, req.channel_id, lifecycle.set_status, new, msg, req.user_id)
    return _done(rt, req, change, f"Status is now *{change.after}*.")


def update(rt: Runtime, req: Request, args: str) -> Reply:
    change = ops.in_war_room(rt, req.channel_id, lifecycle.post_update, args, req.user_id)
    return _done(rt, req, change, "Update posted.")


def severity(rt: Runtime, req: Request, args: str) -> Reply:
    if not args.strip():
        raise UserError("Which severity? `/incident severity P0`")
    change = ops.in_war_room(
        rt, req.channel_id, lifecycle.set_severity, normalize(args.split()[0]), req.user_id
    )
    return _done(rt, req, change, f"Severity is now *{change.after}*.")


def resolve(rt: Runtime, req: Request, args: str) -> Reply:
    if not args.strip() and req.trigger_id:
        inc = ops.find_in_war_room(rt, req.channel_id)
        if inc.is_resolved:
            raise UserError("The incident is already resolved.")
        view = resolve_modal(req.channel_id, inc.impact)
        return ok("Opening the resolution form…", lambda: rt.chat.open_view(req.trigger_id, view))
    change = ops.in_war_room(rt, req.channel_id, lifecycle.resolve, args, req.user_id)
    return _done(rt, req, change, "Resolved. The resolution notice is going out.")


def resolve_submitted(rt: Runtime, req: Request, values: dict[str, str], metadata: str) -> Reply:
    req.channel_id = json.loads(metadata or "{}").get("channel", req.channel_id)
    change = ops.in_war_room(
        rt,
        req.channel_id,
        lifecycle.resolve_with_fields,
        values.get("summary", ""),
        values.get("root_cause", ""),
        values.get("impact", ""),
        values.get("resolution", ""),
        req.user_id,
    )
    return _done(rt, req, change, "Resolved. The resolution notice is going out.")


def resolve_modal(channel_id: str, impact: str) -> dict:
    def text(block_id: str, label: str, optional: bool, initial: str = "") -> dict:
        el = {
            "type": "plain_text_input",
            "action_id": block_id,
            "multiline": True,
            "max_length": 3000,
        }
        if initial:
            el["initial_value"] = initial[:3000]
        return {
            "type": "input",
            "block_id": block_id,
            "optional": optional,
            "label": {"type": "plain_text", "text": label},
            "element": el,
        }

    return {
        "type": "modal",
        "callback_id": "resolve_modal",
        "private_metadata": json.dumps({"channel": channel_id}),
        "title": {"type": "plain_text", "text": "Resolve incident"},
        "submit": {"type": "plain_text", "text": "Resolve"},
        "blocks": [
            text("summary", "Summary", True),
            text("root_cause", "Root cause", True),
            text("impact", "Impact", True, impact),
            text("resolution", "Resolution", True),
        ],
    }


def reopen(rt: Runtime, req: Request, args: str) -> Reply:
    change = ops.in_war_room(rt, req.channel_id, lifecycle.reopen, req.user_id)
    return _done(rt, req, change, "Reopened; status is *investigating*.")
