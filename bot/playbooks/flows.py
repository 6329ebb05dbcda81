"""The checklist in Slack: posted and pinned once, updated in place after every change, the
type suggested when none was given, and the immediate-actions window reminded once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update

from bot.catalog.war_room import service_of
from bot.chat import ChatError, mark
from bot.errors import UserError
from bot.incident import service, timeline
from bot.models import ActionItem, Incident
from bot.playbooks import checklist, messages
from bot.playbooks.model import Playbook
from bot.playbooks.models import Checklist, ChecklistStep
from bot.runtime import Runtime

log = logging.getLogger(__name__)
EVENT = "warroom_checklist"  # metadata on the posted checklist: a retry finds it in Slack
POST_LEASE = timedelta(seconds=60)
SKEW = timedelta(seconds=60)
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(incident_id: int) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(incident_id, threading.Lock())


def values_for(rt: Runtime, inc: Incident) -> dict[str, str]:
    svc = service_of(rt.policy, inc)
    return svc.placeholders() if svc else {}


def why_not(rt: Runtime, inc: Incident) -> Callable[[ChecklistStep], str | None]:
    """Why an action step cannot run now: a placeholder the service cannot fill, an action the
    registry lacks, or arguments the policy refuses (the action's own parser says why)."""
    registry = getattr(rt.playbooks.check, "registry", None)

    def check(st: ChecklistStep) -> str | None:
        if st.action is None:
            return None
        missing = checklist.unfilled(st.args)
        if missing:
            names = ", ".join("{" + m + "}" for m in missing)
            whose = (
                f"service `{inc.service}` has none in the catalog"
                if inc.service
                else "the incident has no service (declare with --service)"
            )
            return f"needs {names}: {whose}"
        if registry is None:
            return None
        action = registry.get(st.action)
        if action is None:
            return f"Warroom has no action `{st.action}`"
        try:
            action.parse(st.args, rt.policy)
        except UserError as e:
            return f"the policy refuses it: {e}"
        return None

    return check


def attach(rt: Runtime, incident_id: int, pb: Playbook, actor: str | None) -> Incident:
    with rt.db.session() as s:
        inc = service.by_id(s, incident_id, lock=True)
        checklist.attach(s, inc, pb, values_for(rt, inc), actor, rt.now())
        return inc


def render(rt: Runtime, incident_id: int) -> tuple[Incident, Checklist, str, messages.Blocks]:
    with rt.db.read() as s:
        inc = service.by_id(s, incident_id)
        cl = s.get(Checklist, incident_id) or Checklist(incident_id=incident_id, pages={})
        every = checklist.steps(s, incident_id)
        items = {
            i: n
            for i, n in s.execute(
                select(ActionItem.id, ActionItem.number).where(
                    ActionItem.incident_id == incident_id
                )
            )
        }
    rows = checklist.current(every, inc.type)
    others = [st for st in every if st.playbook != inc.type]
    pb = rt.playbooks.get(inc.type) if inc.type else None
    text, blocks = messages.render(
        inc, pb, rows, others, cl, why_not(rt, inc), rt.policy.tz, rt.now(), items
    )
    return inc, cl, text, blocks


def show(rt: Runtime, incident_id: int) -> None:
    """Post and pin the checklist once, or update the posted one in place."""
    with _lock(incident_id):
        inc, cl, text, blocks = render(rt, incident_id)
        if inc.channel_id is None or not inc.type:
            return
        if cl.message_ts:
            rt.chat.update(inc.channel_id, cl.message_ts, text, blocks)
            # Another replica may have rendered a newer state and updated before us: whoever
            # finishes last checks the version it showed, so the message ends up current.
            for _ in range(3):
                with rt.db.read() as s:
                    now_version = s.scalar(
                        select(Checklist.version).where(Checklist.incident_id == incident_id)
                    )
                if now_version == cl.version:
                    break
                inc, cl, text, blocks = render(rt, incident_id)
                rt.chat.update(inc.channel_id, cl.message_ts, text, blocks)
            if not cl.pinned:
                _pin(rt, inc, cl.message_ts)
            return
        now = rt.now()
        with rt.db.session() as s:
            t = Checklist.__table__.c
            taken = s.execute(
                update(Checklist)
                .where(
                    t.incident_id == incident_id,
                    t.message_ts.is_(None),
                    or_(t.post_claim_until.is_(None), t.post_claim_until < now),
                )
                .values(post_claim_until=now + POST_LEASE)
            ).rowcount
            resumed = cl.post_claim_until is not None
        if taken != 1:
            return  # posted meanwhile, or another worker is posting it
        ts = _landed(rt, inc) if resumed else None
        if ts is None:
            meta = mark(EVENT, incident=incident_id, part="checklist")
            ts = rt.chat.post(inc.channel_id, text, blocks, metadata=meta)
        with rt.db.session() as s:
            row = checklist.view(s, incident_id)
            row.message_ts, row.post_claim_until = ts, None
            timeline.record(
                s, incident_id, "bot_post", at=rt.now(), actor=rt.chat.bot_user_id,
                text=f"Checklist of the {inc.type} playbook posted and pinned",
            )  # fmt: skip
        _pin(rt, inc, ts)


def _landed(rt: Runtime, inc: Incident) -> str | None:
    assert inc.channel_id is not None
    oldest = (inc.declared_at - SKEW).timestamp()
    for ts, payload in rt.chat.marked(inc.channel_id, EVENT, oldest):
        if payload.get("incident") == inc.id and payload.get("part") == "checklist":
            return ts
    return None


def _pin(rt: Runtime, inc: Incident, ts: str) -> None:
    assert inc.channel_id is not None
    try:
        rt.chat.pin(inc.channel_id, ts)
    except ChatError as e:
        if e.code != "already_pinned":
            raise
    with rt.db.session() as s:
        checklist.view(s, inc.id).pinned = True


def refresh(rt: Runtime, incident_id: int) -> None:
    try:
        show(rt, incident_id)
    except ChatError as e:
        log.warning("checklist of incident %s not updated: %s", incident_id, e)


def after_setup(rt: Runtime, incident_id: int) -> None:
    """The war room is ready: its type's checklist, or a suggested type to confirm."""
    try:
        with rt.db.read() as s:
            inc = service.by_id(s, incident_id)
            has_rows = bool(checklist.steps(s, incident_id))
        if inc.type:
            pb = rt.playbooks.get(inc.type)
            if pb is None:
                return
            if not has_rows:
                attach(rt, incident_id, pb, inc.reporter_id)
            show(rt, incident_id)
        else:
            suggest(rt, inc)
    except ChatError as e:
        log.warning("checklist of incident %s not posted: %s", incident_id, e)


def suggest(rt: Runtime, inc: Incident) -> None:
    svc = service_of(rt.policy, inc)
    name = rt.playbooks.suggest(inc.title, svc.playbooks if svc else ())
    pb = rt.playbooks.get(name) if name else None
    if pb is None or inc.channel_id is None:
        return
    with rt.db.session() as s:
        t = Checklist.__table__.c
        checklist.view(s, inc.id)
        s.flush()
        taken = s.execute(
            update(Checklist)
            .where(t.incident_id == inc.id, t.suggested.is_(None))
            .values(suggested=pb.name)
        ).rowcount
    if taken != 1:
        return  # suggested once already
    text, blocks = messages.suggestion(inc, pb, rt.playbooks.names())
    ts = rt.chat.post(inc.channel_id, text, blocks)
    with rt.db.session() as s:
        checklist.view(s, inc.id).suggest_ts = ts


def settle_suggestion(rt: Runtime, incident_id: int, pb: Playbook, user: str) -> None:
    """The suggestion's button is gone once a type is chosen, whichever way it was."""
    with rt.db.read() as s:
        inc = service.by_id(s, incident_id)
        cl = s.get(Checklist, incident_id)
        ts = cl.suggest_ts if cl else None
    if ts and inc.channel_id:
        text, blocks = messages.chosen(pb, user)
        rt.chat.update(inc.channel_id, ts, text, blocks)


def window_reminder(rt: Runtime, posts: Any, inc: Incident) -> tuple[str, str]:
    """The timer's firing: remind the lead once of immediate steps still open."""
    with rt.db.read() as s:
        rows = checklist.open_in_window(s, inc)
    pb = rt.playbooks.get(inc.type) if inc.type else None
    minutes = next((p.window_minutes for p in pb.phases if p.id == "immediate"), 0) if pb else 0
    if not rows or inc.is_resolved or inc.channel_id is None:
        return "skipped", ""
    text, blocks = messages.window_reminder(inc, rows, minutes or 0)
    posts.post(inc.channel_id, "checklist_window", text, blocks)
    return "posted", f"Immediate actions window passed: {len(rows)} steps open, lead reminded"
