"""Block Kit for incident messages, from the runbooks' communication templates.

Plain dicts only: flows hand them to the chat port; nothing here talks to Slack.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.incident.cadence import next_update_due
from bot.models import Incident
from bot.mrkdwn import escape
from bot.severity import SeverityLevel

Block = dict[str, Any]
EMOJI = {
    "P0": ":red_circle:",
    "P1": ":large_orange_circle:",
    "P2": ":large_yellow_circle:",
    "P3": ":white_circle:",
}
SECTION_LIMIT = 3000


def _cut(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _who(user: str | None) -> str:
    return f"<@{user}>" if user else "_unassigned_"


def when(dt: datetime | None, tz: ZoneInfo) -> str:
    if dt is None:
        return "—"
    local = dt.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M %Z")


def duration(start: datetime, end: datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    h, m = divmod(max(minutes, 0), 60)
    return f"{h} h {m} min" if h else f"{m} min"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text)}}


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": _cut(f"*{k}*\n{v}", 2000)} for k, v in pairs[:10]],
    }


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    b: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        b["style"] = style
    return b


def actions(block_id: str, *elements: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def topic(inc: Incident, lead_name: str | None = None) -> str:
    """Topics are not linkified: a `<@U…>` there shows as raw code, so the lead goes by name."""
    lead = f"lead {escape(lead_name or inc.lead_id or '')}" if inc.lead_id else "no lead yet"
    return f"{inc.severity} · {inc.status.upper()} · {lead} · {escape(inc.title)}"


def alert(
    inc: Incident, level: SeverityLevel, tz: ZoneInfo, next_update: datetime | None
) -> tuple[str, list[Block]]:
    """The pinned alert, kept current: the runbooks' INCIDENT ALERT template."""
    title = escape(inc.title)
    head = f":rotating_light: INCIDENT ALERT — {inc.severity} ({level.label})"
    if inc.is_resolved:
        head = f":white_check_mark: RESOLVED — {inc.severity} ({level.label})"
    pairs = [
        ("Title", title),
        ("Severity", f"{EMOJI.get(inc.severity, '')} {inc.severity} — {level.label}"),
        ("Service", escape(inc.service or "") or "—"),
        ("Status", inc.status.capitalize()),
        ("Lead", _who(inc.lead_id)),
        ("Impact", escape(inc.impact or "") or "_not yet described_"),
        ("Started", when(inc.declared_at, tz)),
        ("War room", f"<#{inc.channel_id}>" if inc.channel_id else "_being created_"),
        ("Next update", when(next_update, tz) if next_update and not inc.is_resolved else "—"),
        (
            "SLA",
            f"respond {int(level.respond.total_seconds() // 60)} min · "
            f"resolve {int(level.resolve.total_seconds() // 3600)} h",
        ),
    ]
    blocks = [section(f"*{head}*\n*{inc.number}* {title}"), fields(pairs)]
    if re.match(r"^https?://[^\s<>|]+$", inc.source_link or ""):  # where it came from
        blocks.append(context(f"Source: <{inc.source_link.replace('&', '&amp;')}|link>"))
    if inc.comms_id or inc.scribe_id:
        blocks.append(fields([("Comms", _who(inc.comms_id)), ("Scribe", _who(inc.scribe_id))]))
    if not inc.is_resolved:
        buttons = [button("Diagnose", "diagnose", str(inc.id))]
        if inc.lead_id is None:
            buttons.insert(0, button("Take lead", "take_lead", str(inc.id), "primary"))
        blocks.append(actions("alert_actions", *buttons))
    return f"{head}: {title}", blocks


def announcement(inc: Incident, level: SeverityLevel) -> tuple[str, list[Block]]:
    title = escape(inc.title)
    text = (
        f"{EMOJI.get(inc.severity, '')} *{inc.severity} incident declared* "
        f"by <@{inc.reporter_id}>: *{title}*\n"
        f"War room: <#{inc.channel_id}> · Status: {inc.status.capitalize()}"
    )
    if inc.service:
        text += f" · Service: {escape(inc.service)}"
    if inc.impact:
        text += f"\nImpact: {escape(inc.impact)}"
    blocks = [
        section(text),
        actions("announce_actions", button("Join war room", "join_war_room", str(inc.id))),
    ]
    return f"{inc.severity} incident declared: {title}", blocks


def private_announcement(inc: Incident, contact: str | None) -> tuple[str, list[Block]]:
    """A private incident, announced: its number and severity and whom to ask; nothing else."""
    text = f"{EMOJI.get(inc.severity, '')} *A private {inc.severity} incident was declared:* " + (
        f"{inc.number}. Its war room is closed; contact <@{contact}> if you need to know more."
        if contact
        else f"{inc.number}. Its war room is closed."
    )
    return f"Private {inc.severity} incident {inc.number} declared", [section(text)]


def status_update(
    inc: Incident,
    level: SeverityLevel,
    message: str,
    author: str,
    tz: ZoneInfo,
    next_update: datetime | None,
) -> tuple[str, list[Block]]:
    """The runbooks' INCIDENT UPDATE template."""
    head = f":bar_chart: INCIDENT UPDATE — {inc.severity}"
    title, message = escape(inc.title), escape(message)
    pairs = [
        ("Title", title),
        ("Status", inc.status.capitalize()),
        ("Progress", message),
        ("Lead", _who(inc.lead_id)),
        ("Next update", when(next_update, tz) if next_update else "as needed"),
    ]
    blocks = [
        section(f"*{head}*  ·  <#{inc.channel_id}>" if inc.channel_id else f"*{head}*"),
        fields(pairs),
        context(f"Posted by <@{author}>"),
    ]
    return f"{head}: {title} — {message}", blocks


def resolution(inc: Incident, level: SeverityLevel, tz: ZoneInfo) -> tuple[str, list[Block]]:
    """The runbooks' INCIDENT RESOLVED template."""
    end = inc.resolved_at or inc.declared_at
    head = f":white_check_mark: INCIDENT RESOLVED — {inc.severity}"
    title = escape(inc.title)
    pairs = [
        ("Title", title),
        ("Status", "Resolved"),
        (
            "Duration",
            f"{duration(inc.declared_at, end)} ({when(inc.declared_at, tz)} → {when(end, tz)})",
        ),
        ("Summary", escape(inc.summary or "") or "_none given_"),
        ("Impact", escape(inc.impact or "") or "_not described_"),
        ("Lead", _who(inc.lead_id)),
    ]
    blocks = [
        section(f"*{head}*" + (f"  ·  <#{inc.channel_id}>" if inc.channel_id else "")),
        fields(pairs),
        context("Post-incident review will be scheduled; post-mortem within 48 hours."),
    ]
    return f"{head}: {title}", blocks


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text, 2000)}]}


def card(inc: Incident, level: SeverityLevel, tz: ZoneInfo, now: datetime) -> list[Block]:
    """`/incident show`: the incident at a glance."""
    acked = inc.acknowledged_at
    if acked:
        sla_ack = "met" if acked - inc.declared_at <= level.respond else "breached"
    elif inc.is_resolved:
        sla_ack = "never acknowledged"
    else:
        sla_ack = "breached" if now - inc.declared_at > level.respond else "running"
    pairs = [
        ("Status", inc.status.capitalize()),
        ("Severity", f"{inc.severity} — {level.label}"),
        ("Lead", _who(inc.lead_id)),
        ("Comms", _who(inc.comms_id)),
        ("Scribe", _who(inc.scribe_id)),
        ("Declared", when(inc.declared_at, tz)),
        ("Age", duration(inc.declared_at, inc.resolved_at or now)),
        ("Acknowledge SLA", f"{sla_ack} ({int(level.respond.total_seconds() // 60)} min)"),
        ("Impact", escape(inc.impact or "") or "—"),
        ("Next update", when(next_update_due(inc, level), tz)),
    ]
    return [section(f"*{inc.number}* {escape(inc.title)}"), fields(pairs)]


def incident_line(inc: Incident, tz: ZoneInfo, now: datetime) -> str:
    room = f"<#{inc.channel_id}>" if inc.channel_id else "_no war room yet_"
    return (
        f"{EMOJI.get(inc.severity, '')} *{inc.severity}* {inc.number} {escape(inc.title)} — "
        f"{inc.status} · {_who(inc.lead_id)} · {room} · {duration(inc.declared_at, now)} old"
    )


def _select(action_id: str, choices: list[tuple[str, str]], initial: str | None) -> Block:
    options = [
        {"text": {"type": "plain_text", "text": label[:75]}, "value": value}
        for value, label in choices[:100]
    ]
    el: Block = {"type": "static_select", "action_id": action_id, "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        el["initial_option"] = chosen
    return el


# A private incident (a security breach): a closed war room, nothing said outside it.
PRIVATE_CHECKBOX: Block = {
    "type": "input",
    "block_id": "private",
    "optional": True,
    "label": {"type": "plain_text", "text": "Need to know"},
    "element": {
        "type": "checkboxes",
        "action_id": "private",
        "options": [
            {
                "text": {"type": "plain_text", "text": "Private"},
                "description": {
                    "type": "plain_text",
                    "text": "A closed war room; only its members see the details",
                },
                "value": "private",
            }
        ],
    },
}


def declare_modal(
    private_metadata: str,
    title: str = "",
    severity: str = "P2",
    impact: str = "",
    services: list[tuple[str, str]] | None = None,
    service: str | None = None,
    types: list[tuple[str, str]] | None = None,
    type: str | None = None,
) -> dict[str, Any]:
    """The declare form; `services` (value, label) and `types` add optional selects."""
    options = [
        {"text": {"type": "plain_text", "text": code}, "value": code}
        for code in ("P0", "P1", "P2", "P3")
    ]
    sev = {
        "type": "static_select",
        "action_id": "severity",
        "options": options,
        "initial_option": next(o for o in options if o["value"] == severity),
    }
    title_input: Block = {"type": "plain_text_input", "action_id": "title", "max_length": 150}
    if title:
        title_input["initial_value"] = title[:150]
    impact_input: Block = {
        "type": "plain_text_input",
        "action_id": "impact",
        "multiline": True,
        "max_length": 2000,
    }
    if impact:
        impact_input["initial_value"] = impact[:2000]
    return {
        "type": "modal",
        "callback_id": "declare_modal",
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Declare incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": title_input,
            },
            {
                "type": "input",
                "block_id": "severity",
                "label": {"type": "plain_text", "text": "Severity"},
                "element": sev,
            },
            {
                "type": "input",
                "block_id": "impact",
                "optional": True,
                "label": {"type": "plain_text", "text": "Impact"},
                "element": impact_input,
            },
            *(
                [
                    {
                        "type": "input",
                        "block_id": "service",
                        "optional": True,
                        "label": {"type": "plain_text", "text": "Service"},
                        "element": _select("service", services, service),
                    }
                ]
                if services
                else []
            ),
            *(
                [
                    {
                        "type": "input",
                        "block_id": "type",
                        "optional": True,
                        "label": {"type": "plain_text", "text": "Incident type"},
                        "element": _select("type", types, type),
                    }
                ]
                if types
                else []
            ),
            PRIVATE_CHECKBOX,
        ],
    }
