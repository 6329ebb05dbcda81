"""`/incident evidence`: export the war room's history and records as a verifiable archive."""

from __future__ import annotations

from bot.evidence import flows
from bot.incident import ops
from bot.runtime import Runtime
from commands.base import Reply, Request, ok


def evidence(rt: Runtime, req: Request, args: str) -> Reply:
    inc = ops.find_in_war_room(rt, req.channel_id)
    return ok(
        f"Exporting the evidence of *{inc.number}*: the room's history (edits, deletions, files, "
        "reactions), the timeline and the audit of actions. The archive is posted here with its "
        "SHA-256 manifest; a big room takes a while (progress is shown).",
        lambda: rt.submit(flows.export, rt, inc.id, req.user_id),
    )
