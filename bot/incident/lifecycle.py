"""Changes to a running incident: status, severity, roles, updates, notes, resolve, reopen.

Each function validates, mutates and writes the timeline in the caller's transaction, and
returns what changed so the flows can tell Slack after the acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.incident import timeline
from bot.incident.service import IncidentError
from bot.incident.states import ACTIVE, RESOLVED, check_transition
from bot.models import Incident

ROLES = ("lead", "comms", "scribe")
MAX_TEXT = 3000


@dataclass
class Change:
    incident: Incident
    kind: str
    before: str | None = None
    after: str | None = None
    text: str = ""
    actor: str | None = None
    next_due: datetime | None = None  # a responder's own "next update at", overriding cadence


def _text(text: str, what: str) -> str:
    t = text.strip()
    if len(t) > MAX_TEXT:
        raise IncidentError(f"The {what} is {len(t)} characters; Slack shows at most {MAX_TEXT}.")
    return t


def _require_active(inc: Incident, doing: str) -> None:
    if inc.status == RESOLVED:
        raise IncidentError(
            f"The incident is resolved, so you cannot {doing}. `/incident reopen` first."
        )


def _mark_progress(inc: Incident, status: str, now: datetime) -> None:
    if status in ("monitoring", RESOLVED) and inc.mitigated_at is None:
        inc.mitigated_at = now


def set_status(s, inc: Incident, status: str, message: str, actor: str, now: datetime) -> Change:
    check_transition(inc.status, status)
    if status == RESOLVED:
        return resolve(s, inc, message, actor, now)
    before, inc.status = inc.status, status
    _mark_progress(inc, status, now)
    msg = _text(message, "message")
    if msg:
        inc.last_update_at = now
    timeline.record(
        s,
        inc,
        "status",
        at=now,
        actor=actor,
        text=f"Status {before} → {status}" + (f": {msg}" if msg else ""),
        data={"from": before, "to": status, "message": msg},
    )
    return Change(inc, "status", before, status, msg, actor)


def post_update(s, inc: Incident, message: str, actor: str, now: datetime) -> Change:
    _require_active(inc, "post an update")
    msg = _text(message, "update")
    if not msg:
        raise IncidentError(
            "Say what changed: `/incident update Rolled back to v41, errors falling`."
        )
    inc.last_update_at = now
    timeline.record(s, inc, "update", at=now, actor=actor, text=msg)
    return Change(inc, "update", text=msg, actor=actor)


def set_severity(s, inc: Incident, severity: str, actor: str, now: datetime) -> Change:
    _require_active(inc, "change the severity")
    if severity == inc.severity:
        raise IncidentError(f"The incident is already {severity}.")
    before, inc.severity = inc.severity, severity
    timeline.record(
        s,
        inc,
        "severity",
        at=now,
        actor=actor,
        text=f"Severity {before} → {severity}",
        data={"from": before, "to": severity},
    )
    return Change(inc, "severity", before, severity, actor=actor)


def assign_role(s, inc: Incident, role: str, user: str, actor: str, now: datetime) -> Change:
    if role not in ROLES:
        raise IncidentError(f"`{role}` is not a role. Roles: {', '.join(ROLES)}.")
    _require_active(inc, f"assign the {role}")
    attr = f"{role}_id"
    before = getattr(inc, attr)
    if before == user:
        raise IncidentError(f"<@{user}> is already the {role}.")
    setattr(inc, attr, user)
    first_ack = role == "lead" and inc.acknowledged_at is None
    if first_ack:
        inc.acknowledged_at = now
    timeline.record(
        s,
        inc,
        "role",
        at=now,
        actor=actor,
        text=f"<@{user}> is {role}" + (" (incident acknowledged)" if first_ack else ""),
        data={"role": role, "from": before, "to": user, "acknowledged": first_ack},
    )
    return Change(inc, "role", before, user, role, actor)


def take_lead(s, inc: Incident, user: str, now: datetime) -> Change:
    """The *Take lead* button: only the first click wins."""
    if inc.lead_id is not None:
        who = "You are" if inc.lead_id == user else f"<@{inc.lead_id}> is"
        raise IncidentError(f"{who} already leading this incident.")
    return assign_role(s, inc, "lead", user, user, now)


def add_note(s, inc: Incident, text: str, actor: str, now: datetime) -> Change:
    note = _text(text, "note")
    if not note:
        raise IncidentError(
            "Write the note after the command: `/incident note Saw a spike in 502s at 14:02`."
        )
    timeline.record(s, inc, "note", at=now, actor=actor, text=note)
    return Change(inc, "note", text=note, actor=actor)


def resolve(s, inc: Incident, summary: str, actor: str, now: datetime) -> Change:
    if inc.status == RESOLVED:
        raise IncidentError("The incident is already resolved.")
    before = inc.status
    inc.status = RESOLVED
    _mark_progress(inc, RESOLVED, now)
    inc.resolved_at = now
    inc.summary = _text(summary, "summary") or inc.summary
    timeline.record(
        s,
        inc,
        "resolved",
        at=now,
        actor=actor,
        text="Resolved" + (f": {inc.summary}" if inc.summary else ""),
        data={"from": before},
    )
    return Change(inc, "resolved", before, RESOLVED, inc.summary, actor)


def reopen(s, inc: Incident, actor: str, now: datetime) -> Change:
    if inc.status in ACTIVE:
        raise IncidentError(
            f"The incident is not resolved (it is *{inc.status}*); nothing to reopen."
        )
    inc.status = "investigating"
    inc.resolved_at = None
    timeline.record(
        s,
        inc,
        "reopened",
        at=now,
        actor=actor,
        text="Reopened",
        data={"from": RESOLVED, "to": "investigating"},
    )
    return Change(inc, "reopened", RESOLVED, "investigating", actor=actor)


FIELDS = {
    "root_cause": "root_cause",
    "root-cause": "root_cause",
    "rootcause": "root_cause",
    "impact": "impact",
    "resolution": "resolution",
    "lessons": "lessons",
    "lessons_learned": "lessons",
    "lessons-learned": "lessons",
    "summary": "summary",
}


def set_field(s, inc: Incident, field: str, text: str, actor: str, now: datetime) -> Change:
    """Post-mortem fields; allowed after resolution, when post-mortems are written."""
    attr = FIELDS.get(field.lower())
    if attr is None:
        raise IncidentError(
            f"`{field}` is not a field. Fields: root_cause, impact, resolution, lessons, summary."
        )
    value = text.strip()
    if not value:
        raise IncidentError(f"Write the {attr.replace('_', ' ')} after the field name.")
    if len(value) > 20000:
        raise IncidentError("Keep it under 20,000 characters; link to a document for more.")
    setattr(inc, attr, value)
    timeline.record(
        s,
        inc,
        "field",
        at=now,
        actor=actor,
        text=f"{attr.replace('_', ' ')} set",
        data={"field": attr},
    )
    return Change(inc, "field", text=f"{attr.replace('_', ' ').capitalize()} updated.", actor=actor)


def resolve_with_fields(
    s,
    inc: Incident,
    summary: str,
    root_cause: str,
    impact: str,
    resolution: str,
    actor: str,
    now: datetime,
) -> Change:
    """The resolve form: resolution notice plus the post-mortem fields in one transaction."""
    for attr, value in (("root_cause", root_cause), ("resolution", resolution)):
        if value.strip():
            setattr(inc, attr, value.strip()[:20000])
    if impact.strip():
        inc.impact = impact.strip()[:20000]
    return resolve(s, inc, summary, actor, now)
