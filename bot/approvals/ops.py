"""Approval operations a person triggers, each one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.approvals import service
from bot.approvals.service import Decision
from bot.db import fits_int
from bot.incident import service as incidents
from bot.incident.service import IncidentError
from bot.models import ActionRequest
from bot.runtime import Runtime


def request(
    rt: Runtime,
    channel_id: str,
    *,
    action: str,
    params: dict[str, Any],
    target: str,
    preview: str,
    requester: str,
    mutating: bool = False,
) -> ActionRequest:
    with rt.db.session() as s:
        inc = incidents.by_channel(s, channel_id)
        if inc is None:
            raise IncidentError(
                "Actions run from an incident's war room, so they land on its "
                "timeline. `/incident list` shows the war rooms."
            )
        return service.create(
            s,
            inc,
            action=action,
            params=params,
            target=target,
            preview=preview,
            requester=requester,
            rule=rt.policy.rule(action),
            now=rt.now(),
            mutating=mutating,
        )


def decide(
    rt: Runtime,
    request_id: int,
    user: str,
    approve: bool,
    in_group: Callable[[str, str], bool],
    channel_id: str | None = None,
    message_ts: str | None = None,
) -> Decision:
    """`channel_id` and `message_ts` say where the click came from; it must be the request's."""
    with rt.db.session() as s:
        req = s.get(ActionRequest, request_id) if fits_int(request_id) else None
        if req is None:
            raise IncidentError("That request no longer exists.")
        d = service.decide(
            s,
            request_id,
            user,
            approve,
            rt.policy.rule(req.action),
            rt.now(),
            in_group,
            channel_id,
            message_ts,
        )
    rt.metrics.approvals.labels(_outcome(d)).inc()
    return d


def _outcome(d: Decision) -> str:
    if d.run:
        return "approved"
    if d.req.state == "pending":
        return "partial" if d.message.startswith("Approval ") else "refused"
    return {"denied": "denied", "expired": "expired"}.get(d.req.state, "refused")


def find(rt: Runtime, request_id: int, channel_id: str) -> ActionRequest:
    """A request of this channel's incident (a button names it by id)."""
    with rt.db.read() as s:
        req = s.get(ActionRequest, request_id) if fits_int(request_id) else None
        if req is None or req.channel_id != channel_id:
            raise IncidentError("That request is not one of this war room's.")
        s.expunge(req)
        return req
