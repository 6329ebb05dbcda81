"""`/incident page <service|team> [message]`: page an on-call from the war room."""

from __future__ import annotations

from bot.errors import UserError
from bot.mrkdwn import escape
from bot.paging import ops
from bot.paging.service import PRODUCTS
from bot.runtime import Runtime
from commands.base import Reply, Request, ok

USAGE = "`/incident page <service or team> [message]`, e.g. `/incident page checkout DB is down`"


def page(rt: Runtime, req: Request, args: str) -> Reply:
    parts = args.strip().split(None, 1)
    if not parts:
        known = ", ".join(f"`{t}`" for t in sorted(rt.policy.paging.targets)) or "none configured"
        raise UserError(f"Who should be paged? {USAGE}. Targets: {known}.")
    target = parts[0].lower().lstrip("@")
    message = parts[1].strip() if len(parts) > 1 else ""
    ops.page_on_request(rt, req.channel_id, target, message, req.user_id)
    product = PRODUCTS[rt.policy.paging.targets[target].provider]
    return ok(
        f":pager: Paging *{escape(target)}* on-call through {product}"
        + (f": {escape(message)}" if message else "")
        + ". Their answer goes on the timeline; if the page cannot be delivered, this room is told."
    )
