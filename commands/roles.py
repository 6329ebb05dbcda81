"""Roles: `/incident lead @user`, `/incident role comms|scribe @user`, the *Take lead* button."""

from __future__ import annotations

from bot.errors import UserError
from bot.incident import flows, lifecycle, ops
from bot.runtime import Runtime
from commands.base import Reply, Request, ok, parse_user

ROLE_USAGE = "`/incident role comms @user` or `/incident role scribe @user`"


def lead(rt: Runtime, req: Request, args: str) -> Reply:
    if not args.strip():
        raise UserError("Who leads? `/incident lead @user`")
    user = parse_user(args.split()[0], "`/incident lead @user`")
    change = ops.in_war_room(rt, req.channel_id, lifecycle.assign_role, "lead", user, req.user_id)
    return ok(
        f"<@{user}> now leads the incident.",
        lambda: flows.apply_change(rt, change, req.response_url),
    )


def role(rt: Runtime, req: Request, args: str) -> Reply:
    parts = args.split()
    if len(parts) != 2 or parts[0].lower() not in ("comms", "scribe"):
        raise UserError(f"Usage: {ROLE_USAGE}. For the lead: `/incident lead @user`.")
    name = parts[0].lower()
    user = parse_user(parts[1], ROLE_USAGE)
    change = ops.in_war_room(rt, req.channel_id, lifecycle.assign_role, name, user, req.user_id)
    return ok(
        f"<@{user}> is now the {name}.", lambda: flows.apply_change(rt, change, req.response_url)
    )


def take_lead(rt: Runtime, req: Request, incident_id: str) -> Reply:
    change = ops.on_incident(rt, int(incident_id), lifecycle.take_lead, req.user_id)
    return ok(
        "You lead this incident now; the incident is acknowledged.",
        lambda: flows.apply_change(rt, change, req.response_url),
    )
