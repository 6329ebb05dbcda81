"""`/incident note <text>`: a line on the timeline, echoed in the war room."""

from __future__ import annotations

from bot.incident import flows, lifecycle, ops
from bot.runtime import Runtime
from commands.base import Reply, Request, ok


def note(rt: Runtime, req: Request, args: str) -> Reply:
    change = ops.in_war_room(rt, req.channel_id, lifecycle.add_note, args, req.user_id)
    return ok("Noted on the timeline.", lambda: flows.apply_change(rt, change, req.response_url))
