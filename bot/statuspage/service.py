"""Status-page posts in the database, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import insert_for
from bot.incident import timeline
from bot.models import Incident
from bot.statuspage import draft
from bot.statuspage.models import StatusPost
from bot.statuspage.policy import StatusPagePolicy

KINDS = {"investigating": "open", "resolved": "resolve"}


def offer(
    s: Session,
    policy: StatusPagePolicy,
    inc: Incident,
    status: str,
    now: datetime,
    message: str = "",
) -> bool:
    """Draft the post for `status` once per incident; True if this call drafted it."""
    kind = KINDS.get(status, "update")
    component = policy.components.get(getattr(inc, "service", None) or "")
    stmt = insert_for(s.get_bind())(StatusPost).values(
        incident_id=inc.id,
        kind=kind,
        status=status,
        name=draft.name(inc),
        body=draft.body(inc, status, message),
        component_id=component,
        component_status=draft.component_status(inc, status) if component else None,
        state="draft",
        drafted_at=now,
        channel_id=inc.channel_id,
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["incident_id", "status", "kind"])
    # RETURNING, not rowcount: PostgreSQL's answered -1 (true) when the conflict inserted nothing.
    if s.execute(stmt.returning(StatusPost.id)).first() is None:
        return False
    timeline.record(
        s,
        inc,
        "status_page_draft",
        at=now,
        actor=None,
        text=f"Status page {kind} drafted ({status}), waiting for *Publish*",
        data={"status": status, "kind": kind},
    )
    return True


def opened(s: Session, incident_id: int) -> StatusPost | None:
    """The published first post: later updates go to its Statuspage incident."""
    return s.scalar(
        select(StatusPost).where(
            StatusPost.incident_id == incident_id,
            StatusPost.kind == "open",
            StatusPost.state == "published",
        )
    )


def posts_of(s: Session, incident_id: int) -> list[StatusPost]:
    return list(
        s.scalars(
            select(StatusPost).where(StatusPost.incident_id == incident_id).order_by(StatusPost.id)
        )
    )
