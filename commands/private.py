"""Private incidents at the door: requests from outside a private war room learn nothing."""

from __future__ import annotations

from collections.abc import Callable

from bot.errors import UserError
from bot.incident import going_private, ops, visibility
from bot.playbooks import ops as checklist_ops
from bot.runtime import Runtime
from commands.base import Reply, Request, ok

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


def step_need_to_know(handler: Handler) -> Handler:
    """A checklist button (its value a step's id): the reply a step that does not exist gets."""

    def checked(rt: Runtime, req: Request, value: str) -> Reply:
        inc, _ = checklist_ops.step_of(rt, value)
        visibility.check(rt, inc, req.user_id, "That checklist step no longer exists.")
        return handler(rt, req, value)

    return checked


def private(rt: Runtime, req: Request, args: str) -> Reply:
    """`/incident private`: move a public incident into a closed room."""
    inc = ops.find_in_war_room(rt, req.channel_id)
    if inc.private:
        raise UserError(f"{inc.number} is already private.")
    going_private.mark(rt, inc.id, True)
    return ok(
        f":lock: Making *{inc.number}* private: a closed room is being opened for its reporter, "
        "lead, roles and the security responders; this room gets a pointer and is archived, and "
        "the incidents channel's posts about it are rewritten.",
        lambda: rt.submit(going_private.make_private, rt, inc.id, req.user_id),
    )


def public(rt: Runtime, req: Request, args: str) -> Reply:
    """`/incident public`: the lead makes a private incident visible again (its room stays)."""
    inc = ops.find_in_war_room(rt, req.channel_id)
    if not inc.private:
        raise UserError(f"{inc.number} is not private.")
    if inc.lead_id != req.user_id:
        none = " (nobody has taken the lead yet: `/incident lead @you`)" if not inc.lead_id else ""
        raise UserError(f"Only the incident lead may make it public again{none}.")
    going_private.make_public(rt, inc.id, req.user_id)
    return ok(
        f"{inc.number} is public again: lists and the console show it; this is on the timeline."
    )
