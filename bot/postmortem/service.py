"""Storing post-mortems: one per incident, replaced on each compilation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.incident import timeline
from bot.models import Incident, Postmortem
from bot.postmortem.compile import change_summary


def store(
    s: Session, inc: Incident, content: str, actor: str | None, now: datetime
) -> tuple[Postmortem, str]:
    pm = s.get(Postmortem, inc.id, with_for_update=True)
    if pm is None:
        pm = Postmortem(
            incident_id=inc.id,
            version=1,
            content=content,
            draft=not inc.is_resolved,
            compiled_at=now,
            compiled_by=actor,
        )
        s.add(pm)
        note = "first compilation"
    else:
        note = change_summary(pm.content, content)
        pm.version += 1
        pm.content, pm.draft, pm.compiled_at, pm.compiled_by = (
            content,
            not inc.is_resolved,
            now,
            actor,
        )
    if not pm.draft and inc.postmortem_at is None:
        inc.postmortem_at = now  # stops the 48-hour reminder
    timeline.record(
        s,
        inc,
        "postmortem",
        at=now,
        actor=actor,
        text=f"Post-mortem {'draft ' if pm.draft else ''}v{pm.version} compiled ({note})",
    )
    return pm, note
