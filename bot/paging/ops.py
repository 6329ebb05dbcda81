"""Paging around an incident's life: at declaration, on request, on *Take lead*, on resolve.

The hooks run inside the incident's own transaction (the outbox row commits with the change);
the sending starts after the commit, off the request's thread.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.incident import service as incidents
from bot.incident.lifecycle import Change
from bot.models import Incident
from bot.paging import service
from bot.paging.models import Page
from bot.paging.outbox import kick
from bot.paging.policy import PagingPolicy
from bot.runtime import Runtime

log = logging.getLogger(__name__)
MAX_MESSAGE = 500
ESCALATION = -1  # escalation level n pages as step -1 - n
NOT_A_WAR_ROOM = "Page from the incident's war room: `/incident page <service or team> [message]`."


def _send_after_commit(s: Session, rt: Runtime) -> None:
    if not s.info.get("pages_kick"):
        s.info["pages_kick"] = True
        event.listen(s, "after_commit", lambda _s: kick(rt), once=True)


def _summary(inc: Incident, message: str = "") -> str:
    if getattr(inc, "private", False):
        # Need to know: the page leaves Slack, so a private incident is paged by its number only.
        return f"[{inc.severity}] private incident {inc.number}: see its war room in Slack"
    text = f"[{inc.severity}] {inc.number}: {inc.title}"
    return f"{text} — {message}" if message else text


def after_declare(s: Session, rt: Runtime, inc: Incident, now: datetime) -> None:
    policy = rt.policy.paging
    if inc.severity not in policy.page_on_declare:
        return
    target = policy.target_for(getattr(inc, "service", None))
    if target is None:
        return
    s.flush()  # the incident's id and number
    if service.page(s, policy, inc, target, _summary(inc), inc.reporter_id, now, step=0):
        _send_after_commit(s, rt)


def after_change(s: Session, rt: Runtime, change: Change, now: datetime) -> None:
    inc = change.incident
    added = 0
    if change.kind == "role" and change.text == "lead" and change.before is None:
        added = service.follow_up(s, inc, "acknowledge", change.actor, now)
    elif change.kind == "resolved":
        added = service.follow_up(s, inc, "resolve", change.actor, now)
    elif change.kind == "severity" and change.after in rt.policy.paging.page_on_declare:
        target = rt.policy.paging.target_for(getattr(inc, "service", None))
        if target is not None:
            added = service.page(s, rt.policy.paging, inc, target, _summary(inc), change.actor, now)
    if added:
        _send_after_commit(s, rt)


def page_on_request(rt: Runtime, channel_id: str, target: str, message: str, actor: str) -> str:
    """`/incident page <target> [message]`: a new step, paged once; returns the target."""
    if len(message) > MAX_MESSAGE:
        raise UserError(f"Keep the message under {MAX_MESSAGE} characters; it goes to a phone.")
    with rt.db.session() as s:
        inc = incidents.by_channel(s, channel_id, lock=True)
        if inc is None:
            raise UserError(NOT_A_WAR_ROOM)
        if inc.is_resolved:
            raise UserError("The incident is resolved; `/incident reopen` before paging anyone.")
        service.page(
            s, rt.policy.paging, inc, target, _summary(inc, message), actor, rt.now(), None
        )
        _send_after_commit(s, rt)
        return target


def pages(rt: Runtime, incident_id: int) -> list[Page]:
    with rt.db.read() as s:
        return service.pages_of(s, incident_id)


def escalation_target(policy: PagingPolicy, page: str | bool, service: str | None) -> str | None:
    """The target an escalation step's `page:` names: itself, or for `true` the service's."""
    if page is True:
        return policy.target_for(service)
    return page or None


def escalate(rt: Runtime, incident_id: int, step: int, page: str | bool) -> str:
    """An escalation step that pages: queue it once (however often the timer is re-fired after
    a crash or a lapsed claim: the step is the row's key) and send it; what to say in Slack."""
    with rt.db.session() as s:
        inc = s.get(Incident, incident_id)
        if inc is None or inc.is_resolved or inc.lead_id:
            return ""
        target = escalation_target(rt.policy.paging, page, getattr(inc, "service", None))
        if target is None:
            return "Could not page: the incident's service has no paging target."
        summary = _summary(inc, f"escalation level {step + 1}: nobody has taken the lead")
        try:
            # Steps below 0 are the escalation's own: declaration pages step 0, asks count up.
            added = service.page(
                s, rt.policy.paging, inc, target, summary, None, rt.now(), ESCALATION - step
            )
        except UserError as e:
            log.error("escalation of incident %s could not page: %s", incident_id, e)
            return f"Could not page {target}: not a paging target of the policy."
        if added:
            _send_after_commit(s, rt)
    return f"Paging {target} on-call."
