"""War-room commands that move the incident: status, update, severity, resolve, reopen."""

from __future__ import annotations

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
    change = ops.in_war_room(rt, req.channel_id, lifecycle.resolve, args, req.user_id)
    return _done(rt, req, change, "Resolved. The resolution notice is going out.")


def reopen(rt: Runtime, req: Request, args: str) -> Reply:
    change = ops.in_war_room(rt, req.channel_id, lifecycle.reopen, req.user_id)
    return _done(rt, req, change, "Reopened; status is *investigating*.")
