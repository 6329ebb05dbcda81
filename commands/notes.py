"""`/incident note <text>`: a line on the timeline, echoed in the war room."""

from __future__ import annotations

from dataclasses import replace

from bot.incident import flows, lifecycle, ops
from bot.mrkdwn import escape
from bot.runtime import Runtime
from commands.base import Reply, Request, ok


def note(rt: Runtime, req: Request, args: str) -> Reply:
    change = ops.in_war_room(rt, req.channel_id, lifecycle.add_note, args, req.user_id)
    # The timeline keeps what was typed; flows posts `change.text` into mrkdwn as it is.
    shown = replace(change, text=escape(change.text))
    return ok("Noted on the timeline.", lambda: flows.apply_change(rt, shown, req.response_url))
