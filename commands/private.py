"""Private incidents at the door: requests from outside a private war room learn nothing."""

from __future__ import annotations

from collections.abc import Callable

from bot.incident import ops, visibility
from bot.runtime import Runtime
from commands.base import Reply, Request

Handler = Callable[[Runtime, Request, str], Reply]


def screen(rt: Runtime, req: Request) -> None:
    """A request from a private war room by someone not in it is treated as coming from no war
    room at all: every command then answers as it would anywhere else."""
    if visibility.outsider(rt, req.channel_id, req.user_id):
        req.channel_id = ""


def need_to_know(handler: Handler) -> Handler:
    """A button whose value is an incident's id: a private incident the clicker may not see
    gets the reply an unknown id gets."""

    def checked(rt: Runtime, req: Request, value: str) -> Reply:
        if value.strip().isdigit():
            inc = ops.get(rt, int(value))
            visibility.check(rt, inc, req.user_id, f"No incident with id {value.strip()}.")
        return handler(rt, req, value)

    return checked
