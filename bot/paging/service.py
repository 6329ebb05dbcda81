"""Putting pages in the outbox, inside the caller's transaction, with their timeline entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import insert_for
from bot.errors import UserError
from bot.incident import timeline
from bot.models import Incident
from bot.paging.base import SEVERITY
from bot.paging.models import Page
from bot.paging.policy import PagingPolicy

PRODUCTS = {"pagerduty": "PagerDuty", "jsm": "Jira Service Management"}


def dedup_key(inc: Incident, target: str) -> str:
    """One per incident and target: the product merges every event sent with it."""
    return f"warroom-{inc.number}-{target}"


def _add(s: Session, row: dict) -> bool:
    """Insert unless this (dedup_key, action, step) exists; True if this call added it."""
    table = Page.__table__
    stmt = insert_for(s.get_bind())(table).values(**row)
    stmt = stmt.on_conflict_do_nothing(index_elements=["dedup_key", "action", "step"])
    # RETURNING, not rowcount: an ORM-enabled INSERT on PostgreSQL answered -1 (true) even
    # when the conflict inserted nothing, and the timeline said "Paging" twice.
    return s.execute(stmt.returning(table.c.id)).first() is not None


def page(
    s: Session,
    policy: PagingPolicy,
    inc: Incident,
    target: str,
    summary: str,
    actor: str | None,
    now: datetime,
    step: int | None = 0,
) -> bool:
    """Queue a trigger for `target`'s on-call. `step=None`: the next step (an explicit ask)."""
    conf = policy.targets.get(target)
    if conf is None:
        known = ", ".join(sorted(policy.targets)) or "none are configured"
        raise UserError(f"`{target}` is not a paging target. Targets: {known}.")
    key = dedup_key(inc, target)
    if step is None:
        last = s.scalar(
            select(func.max(Page.step)).where(Page.dedup_key == key, Page.action == "trigger")
        )
        step = 0 if last is None else last + 1
    added = _add(
        s,
        {
            "incident_id": inc.id,
            "target": target,
            "provider": conf.provider,
            "dedup_key": key,
            "action": "trigger",
            "step": step,
            "summary": summary,
            "severity": SEVERITY.get(inc.severity, "error"),
            "actor_id": actor,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "said": False,
        },
    )
    if added:
        timeline.record(
            s,
            inc,
            "page",
            at=now,
            actor=actor,
            text=f"Paging {target} on-call through {PRODUCTS[conf.provider]}: {summary}",
            data={"target": target, "provider": conf.provider, "action": "trigger", "step": step},
        )
    return added


def follow_up(s: Session, inc: Incident, action: str, actor: str | None, now: datetime) -> int:
    """Queue `acknowledge` or `resolve` for every target this incident paged; how many."""
    # One per trigger step: after a reopen and a new page, resolving resolves the new alert too.
    triggered = s.execute(
        select(Page.target, Page.provider, Page.dedup_key, func.max(Page.step))
        .where(Page.incident_id == inc.id, Page.action == "trigger")
        .group_by(Page.target, Page.provider, Page.dedup_key)
    ).all()
    n = 0
    for target, provider, key, step in triggered:
        if _add(
            s,
            {
                "incident_id": inc.id,
                "target": target,
                "provider": provider,
                "dedup_key": key,
                "action": action,
                "step": step,
                "summary": "",
                "severity": SEVERITY.get(inc.severity, "error"),
                "actor_id": actor,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "said": False,
            },
        ):
            n += 1
            verb = "Acknowledging" if action == "acknowledge" else "Resolving"
            timeline.record(
                s,
                inc,
                "page",
                at=now,
                actor=actor,
                text=f"{verb} the page to {target} in {PRODUCTS[provider]}",
                data={"target": target, "provider": provider, "action": action},
            )
    return n


def pages_of(s: Session, incident_id: int) -> list[Page]:
    return list(s.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))
