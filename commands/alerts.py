"""`/incident alerts`, and *Declare* / *Ignore* on an alert's suggestion in #incidents."""

from __future__ import annotations

from bot.alerts import flows
from bot.errors import UserError
from bot.runtime import Runtime
from commands.base import Reply, Request, ok


def alerts(rt: Runtime, req: Request, args: str) -> Reply:
    if args.strip():
        raise UserError("`/incident alerts` takes nothing after it.")
    return ok(flows.listing(rt))


def _group(value: str) -> int:
    if not value.isdigit():
        raise UserError("That button is not from an alert suggestion.")
    return int(value)


def declare_suggested(rt: Runtime, req: Request, value: str) -> Reply:
    inc = flows.declare_suggested(rt, _group(value), req.user_id)
    return ok(f":rotating_light: Declared *{inc.number}* from the alert. Opening the war room…")


def ignore_suggested(rt: Runtime, req: Request, value: str) -> Reply:
    flows.ignore_suggested(rt, _group(value), req.user_id)
    return ok("Ignored; nobody will be asked about this group of alerts again while it fires.")
