"""Checklist operations a person triggers, each one transaction (the commands call these)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.db import fits_int
from bot.incident import service
from bot.incident.service import IncidentError
from bot.models import Incident
from bot.playbooks import checklist, flows
from bot.playbooks.model import Playbook
from bot.playbooks.models import ChecklistStep
from bot.runtime import Runtime

Change = Callable[..., checklist.Outcome]


def step_of(rt: Runtime, step_id: int | str) -> tuple[Incident, ChecklistStep]:
    """The step a button names, with its incident."""
    sid = int(step_id) if str(step_id).isdigit() else -1
    with rt.db.read() as s:
        st = s.get(ChecklistStep, sid) if fits_int(sid) and sid > 0 else None
        if st is None:
            raise IncidentError("That checklist step no longer exists.")
        return service.by_id(s, st.incident_id), st


def change(rt: Runtime, step_id: int, fn: Change, actor: str, *args: str) -> checklist.Outcome:
    """`fn(session, incident, step_id, actor, *args, now)` with the incident locked."""
    with rt.db.session() as s:
        inc_id = s.get(ChecklistStep, step_id)
        if inc_id is None:
            raise IncidentError("That checklist step no longer exists.")
        inc = service.by_id(s, inc_id.incident_id, lock=True)
        return fn(s, inc, step_id, actor, *args, rt.now())


def link_request(rt: Runtime, step_id: int, requester: str, since: datetime) -> int | None:
    with rt.db.session() as s:
        return checklist.link_request(s, step_id, requester, since)


def set_type(rt: Runtime, channel_id: str, pb: Playbook, actor: str) -> tuple[Incident, str]:
    """(incident, previous type); the playbook's steps added, what was done kept."""
    with rt.db.session() as s:
        inc = service.by_channel(s, channel_id, lock=True)
        if inc is None:
            raise IncidentError(
                "Run this in an incident's war room. `/incident list` shows the war rooms."
            )
        before = inc.type
        if before != pb.name or not checklist.current(checklist.steps(s, inc.id), pb.name):
            checklist.attach(s, inc, pb, flows.values_for(rt, inc), actor, rt.now())
        return inc, before or ""


def view_page(rt: Runtime, incident_id: int, phase: str, page: int | None) -> None:
    """*Show* (page None: open the phase) and the page buttons: how the message is viewed."""
    with rt.db.session() as s:
        cl = checklist.view(s, incident_id)
        if page is None:
            cl.focus = phase
        else:
            cl.pages = {**(cl.pages or {}), phase: max(0, page)}
        cl.version += 1


def progress(rt: Runtime, channel_id: str) -> tuple[Incident, list[ChecklistStep]]:
    with rt.db.read() as s:
        inc = service.by_channel(s, channel_id)
        if inc is None:
            raise IncidentError(
                "Run this in an incident's war room. `/incident list` shows the war rooms."
            )
        return inc, checklist.current(checklist.steps(s, inc.id), inc.type)
