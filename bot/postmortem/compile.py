"""Compile the post-mortem Markdown from what the incident recorded, through a Jinja2 template."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session

from bot.config import Policy
from bot.errors import UserError
from bot.messages import duration as span
from bot.models import ActionItem, ActionRequest, Incident, TimelineEvent
from bot.playbooks.models import ChecklistStep
from bot.postmortem.response import response

DEFAULT_TEMPLATE = Path(__file__).with_name("template.md.j2")


@dataclass
class SLARow:
    name: str
    target: str
    actual: str
    result: str


def _mins(td: timedelta) -> str:
    m = int(td.total_seconds() // 60)
    return f"{m // 60} h {m % 60} min" if m >= 60 else f"{m} min"


def sla_rows(inc: Incident, policy: Policy, now: datetime) -> list[SLARow]:
    level = policy.level(inc.severity)

    def row(name: str, at: datetime | None, target: timedelta | None) -> SLARow:
        if at is None:
            running = now - inc.declared_at
            late = target is not None and running > target
            return SLARow(
                name,
                _mins(target) if target else "—",
                "not yet",
                "breached" if late else ("running" if target else "—"),
            )
        took = at - inc.declared_at
        result = "—" if target is None else ("met" if took <= target else "breached")
        return SLARow(name, _mins(target) if target else "—", _mins(took), result)

    return [
        row("Time to acknowledge", inc.acknowledged_at, level.respond),
        row("Time to mitigate", inc.mitigated_at, None),
        row("Time to resolve", inc.resolved_at, level.resolve),
    ]


@dataclass(slots=True)
class Line:
    """One timeline event as the template sees it: raw fields plus the formatted ones."""

    at: datetime
    kind: str
    actor_id: str | None
    text: str
    data: dict[str, Any]
    when: str = ""  # in the policy's time zone
    who: str = ""  # a display name
    link: str = ""  # permalink of a captured Slack message


def load(s: Session, inc: Incident) -> dict[str, Any]:
    # Plain rows, not ORM objects: a 10,000-event incident must compile in a blink.
    t = TimelineEvent.__table__.c
    # `data` as raw text: most events have none, and parsing 10,000 "{}" is a third of the cost.
    events = [
        Line(at, kind, actor, txt, _data(raw))
        for at, kind, actor, txt, raw in s.execute(
            select(t.at, t.kind, t.actor_id, t.text, type_coerce(t.data, Text))
            .where(t.incident_id == inc.id)
            .order_by(t.at, t.id)
        )
    ]
    actions = list(
        s.scalars(
            select(ActionRequest)
            .where(ActionRequest.incident_id == inc.id)
            .order_by(ActionRequest.id)
        )
    )
    items = list(
        s.scalars(
            select(ActionItem).where(ActionItem.incident_id == inc.id).order_by(ActionItem.number)
        )
    )
    steps = list(
        s.scalars(
            select(ChecklistStep)
            .where(ChecklistStep.incident_id == inc.id)
            .order_by(ChecklistStep.position, ChecklistStep.id)
        )
    )
    return {"events": events, "actions": actions, "items": items, "steps": steps}


def _stamper(tz: Any) -> Callable[[datetime], str]:
    """Format many times fast: one offset per hour instead of a zone lookup per event."""
    cache: dict[int, tuple[timedelta, str]] = {}

    def stamp(dt: datetime) -> str:
        hour = int(dt.timestamp()) // 3600
        hit = cache.get(hour)
        if hit is None:
            local = dt.astimezone(tz)
            hit = cache[hour] = (local.utcoffset() or timedelta(0), local.strftime("%Z"))
        d = dt + hit[0]
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d} {hit[1]}"

    return stamp


def participants(inc: Incident, events: list[TimelineEvent], bot_user: str) -> list[str]:
    seen: dict[str, None] = {}
    for uid in [
        inc.reporter_id,
        inc.lead_id,
        inc.comms_id,
        inc.scribe_id,
        *(e.actor_id for e in events),
        *(e.data.get("author") for e in events),
    ]:
        if uid and uid != bot_user and uid.startswith(("U", "W")):
            seen.setdefault(uid, None)
    return list(seen)


def _data(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # SQLite hands back text; psycopg has already parsed it
        return json.loads(raw) if raw != "{}" else {}
    return raw or {}


@functools.lru_cache(maxsize=8)
def _environment(folder: str) -> jinja2.Environment:
    # One environment per folder keeps compiled templates; Jinja re-reads a changed file.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render(
    inc: Incident,
    data: dict[str, Any],
    policy: Policy,
    now: datetime,
    names: Callable[[str | None], str],
    bot_user: str,
    room: str = "",
    template_path: str = "",
) -> str:
    path = Path(template_path) if template_path else DEFAULT_TEMPLATE
    env = _environment(str(path.parent))
    tz = policy.tz
    events: list[Line] = data["events"]
    stamp = _stamper(tz)
    name_of: dict[str | None, str] = {}
    for e in events:
        e.when = stamp(e.at)
        if e.actor_id not in name_of:
            name_of[e.actor_id] = names(e.actor_id)
        e.who = name_of[e.actor_id]
        e.text = e.text.replace("\n", " ")
        e.link = e.data.get("permalink") or ""
    severity_changes = [
        f"{e.data.get('from')} → {e.data.get('to')} at {e.at.astimezone(tz):%H:%M}"
        for e in events
        if e.kind == "severity"
    ]
    end = inc.resolved_at or now
    ctx = {
        "inc": inc,
        "level": policy.level(inc.severity),
        "draft": not inc.is_resolved,
        "room": room,
        "events": events,
        "actions": data["actions"],
        "items": data["items"],
        "severity_changes": severity_changes,
        "participants": [names(u) for u in participants(inc, events, bot_user)],
        "duration": span(inc.declared_at, end) + ("" if inc.resolved_at else " so far"),
        "sla": sla_rows(inc, policy, now),
        "today": now.astimezone(tz).date(),
        "t": lambda dt: stamp(dt) if dt else "—",
        "response": response(inc, data.get("steps", []), data["actions"], stamp, names),
        "name": names,
    }
    try:
        return env.get_template(path.name).render(**ctx)
    except jinja2.TemplateSyntaxError as e:
        raise UserError(
            f"The post-mortem template has an error at {e.filename or path}:{e.lineno}: {e.message}"
        ) from None
    except jinja2.TemplateNotFound:
        raise UserError(f"The post-mortem template {path} does not exist.") from None
    except jinja2.TemplateError as e:
        line = _template_line(e, path)
        raise UserError(f"The post-mortem template failed at {path}{line}: {e}") from None


def _template_line(e: Exception, path: Path) -> str:
    tb = e.__traceback__
    line = ""
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(path.name):
            line = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return line


def change_summary(old: str, new: str) -> str:
    """Which sections changed between two compilations, for the reply."""
    if old == new:
        return "nothing changed since the last compilation"

    def sections(text: str) -> dict[str, str]:
        out: dict[str, list[str]] = {}
        cur = "(top)"
        for line in text.splitlines():
            if line.startswith("## "):
                cur = line[3:].strip()
            out.setdefault(cur, []).append(line)
        return {k: "\n".join(v) for k, v in out.items()}

    a, b = sections(old), sections(new)
    changed = [k for k in b if a.get(k) != b[k] and k != "(top)"]
    if not changed:
        return "nothing changed since the last compilation"
    return "changed: " + ", ".join(changed)


def parse_due(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"`{text}` is not a date; write due:YYYY-MM-DD, e.g. due:2026-12-01."
        ) from None
