"""`/incident statuspage` (the draft now) and the draft's *Publish* button."""

from __future__ import annotations

from bot.errors import UserError
from bot.runtime import Runtime
from bot.statuspage import messages, ops
from commands.base import Reply, Request, ok


def draft(rt: Runtime, req: Request, args: str) -> Reply:
    if args.strip():
        raise UserError("`/incident statuspage` takes nothing more: it posts the draft here.")
    number = ops.draft_on_request(rt, req.channel_id)
    return ok(f"Posting the status page draft for *{number}* here; *Publish* sends it.")


def publish(rt: Runtime, req: Request, post_id: str) -> Reply:
    if not post_id.isdigit():
        raise UserError(
            "That button is from an old message; `/incident statuspage` posts it again."
        )
    post, now = ops.ask_publish(rt, int(post_id), req.user_id)
    if now:
        return ok("Publishing to the status page…", lambda: ops.publish(rt, post.id))

    def show_request() -> None:
        if post.channel_id and post.message_ts:
            rt.chat.update(post.channel_id, post.message_ts, *messages.offer(post, None))

    return ok("Asked: another person must approve before it is published.", show_request)
