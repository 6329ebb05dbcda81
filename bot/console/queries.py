"""What the console reads, every query starting from `visible()` so access can be scoped there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from bot.console.sessions import Viewer
from bot.incident import visibility
from bot.incident.service import IncidentError
from bot.models import ActionItem, ActionRequest, AuditEntry, Incident, Postmortem, TimelineEvent
from bot.runtime import Runtime

PAGE_SIZE = 50
TIMELINE_PAGE = 200  # newest entries shown; older ones page on with ?before=<event id>
HISTORY_KINDS = ("declared", "status", "severity", "role", "resolved", "reopened")
STATUSES = ("investigating", "identified", "monitoring", "resolved")


def visible(viewer: Viewer) -> Select[tuple[Incident]]:
    """The incidents this viewer may see: a private one only by the members of its war room."""
    return select(Incident).where(visibility.clause(None if viewer.anonymous else viewer.user_id))


@dataclass
class Filters:
    status: str = ""
    severity: str = ""
    service: str = ""
    type: str = ""
    since: date | None = None
    until: date | None = None
    text: str = ""
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, q: Any) -> Filters:
        f = cls()
        f.status = q.get("status", "") if q.get("status", "") in STATUSES else ""
        sev = q.get("severity", "").upper()
        f.severity = sev if sev in ("P0", "P1", "P2", "P3") else ""
        f.service = q.get("service", "").strip()[:40]
        f.type = q.get("type", "").strip()[:40]
        f.text = q.get("q", "").strip()[:200]
        for name in ("since", "until"):
            raw = q.get(name, "").strip()
            if raw:
                try:
                    setattr(f, name, date.fromisoformat(raw))
                except ValueError:
                    f.problems.append(f"'{raw}' is not a date; use YYYY-MM-DD.")
        page = q.get("page", "1")
        f.page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
        return f

    def query(self, page: int | None = None) -> dict[str, str]:
        """The filters as query parameters (for paging links)."""
        out = {
            "status": self.status,
            "severity": self.severity,
            "service": self.service,
            "type": self.type,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "q": self.text,
        }
        if page:
            out["page"] = str(page)
        return {k: v for k, v in out.items() if v}


def listing(rt: Runtime, viewer: Viewer, f: Filters) -> tuple[list[Incident], bool]:
    """One page of incidents, newest first; True when there is a next page."""
    q = visible(viewer)
    if f.status:
        q = q.where(Incident.status == f.status)
    if f.severity:
        q = q.where(Incident.severity == f.severity)
    if f.service:
        q = q.where(Incident.service == f.service)
    if f.type:
        q = q.where(Incident.type == f.type)
    if f.since:
        q = q.where(Incident.declared_at >= datetime.combine(f.since, time.min, rt.policy.tz))
    if f.until:
        end = datetime.combine(f.until + timedelta(days=1), time.min, rt.policy.tz)
        q = q.where(Incident.declared_at < end)
    if f.text:
        like = "%" + f.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(
            or_(
                func.lower(Incident.title).like(like + "%", escape="\\"),
                func.lower(Incident.impact).like(like + "%", escape="\\"),
                func.lower(Incident.channel_name).like(like + "%", escape="\\"),
            )
        )
    q = q.order_by(Incident.declared_at.desc(), Incident.id.desc())
    q = q.offset((f.page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    with rt.db.read() as s:
        rows = list(s.scalars(q))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def find(s: Session, viewer: Viewer, incident_id: int) -> Incident:
    inc = s.scalar(visible(viewer).where(Incident.id == incident_id))
    if inc is None:
        raise IncidentError(f"There is no incident with id {incident_id} that you can see.")
    return inc


@dataclass
class IncidentView:
    incident: Incident
    timeline: list[TimelineEvent]
    older: int | None  # the id to page on from, when older entries exist
    history: list[TimelineEvent]  # status and severity changes, oldest first
    requests: list[ActionRequest]
    audit: list[AuditEntry]
    items: list[ActionItem]
    postmortem: Postmortem | None


def incident(rt: Runtime, viewer: Viewer, incident_id: int, before: int | None) -> IncidentView:
    with rt.db.read() as s:
        inc = find(s, viewer, incident_id)
        tl = select(TimelineEvent).where(TimelineEvent.incident_id == inc.id)
        if before:
            tl = tl.where(TimelineEvent.id < before)
        newest = list(s.scalars(tl.order_by(TimelineEvent.id.desc()).limit(TIMELINE_PAGE + 1)))
        older = newest[TIMELINE_PAGE - 1].id if len(newest) > TIMELINE_PAGE else None
        events = sorted(newest[:TIMELINE_PAGE], key=lambda e: (e.at, e.id))
        history = list(
            s.scalars(
                select(TimelineEvent)
                .where(
                    TimelineEvent.incident_id == inc.id,
                    TimelineEvent.kind.in_(HISTORY_KINDS),
                )
                .order_by(TimelineEvent.at, TimelineEvent.id)
                .limit(100)
            )
        )
        requests = list(
            s.scalars(
                select(ActionRequest)
                .where(ActionRequest.incident_id == inc.id)
                .order_by(ActionRequest.id.desc())
                .limit(100)
            )
        )
        audit = list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.incident_id == inc.id)
                .order_by(AuditEntry.id.desc())
                .limit(200)
            )
        )
        items = list(
            s.scalars(
                select(ActionItem)
                .where(ActionItem.incident_id == inc.id)
                .order_by(ActionItem.number)
            )
        )
        pm = s.get(Postmortem, inc.id)
    return IncidentView(inc, events, older, history, requests, audit, items, pm)


def timeline_after(
    rt: Runtime, viewer: Viewer, incident_id: int, after: int
) -> list[TimelineEvent]:
    """Entries recorded since `after` (by id), for the live timeline."""
    with rt.db.read() as s:
        inc = find(s, viewer, incident_id)
        return list(
            s.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.incident_id == inc.id, TimelineEvent.id > after)
                .order_by(TimelineEvent.id)
                .limit(TIMELINE_PAGE)
            )
        )


def is_open(rt: Runtime, viewer: Viewer, incident_id: int) -> bool:
    with rt.db.read() as s:
        return not find(s, viewer, incident_id).is_resolved


def in_window(rt: Runtime, viewer: Viewer, since: datetime) -> list[Incident]:
    """Incidents declared since `since`, for the metrics page."""
    with rt.db.read() as s:
        return list(s.scalars(visible(viewer).where(Incident.declared_at >= since)))


def open_action_items(rt: Runtime, viewer: Viewer) -> list[ActionItem]:
    ids = visible(viewer).with_only_columns(Incident.id).scalar_subquery()
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(ActionItem).where(
                    ActionItem.state == "open", ActionItem.incident_id.in_(ids)
                )
            )
        )
