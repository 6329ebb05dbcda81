"""Block Kit for what timers post: the automatic status update, reminders, escalations, warnings."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.messages import Block, actions, button, context, duration, fields, section, when
from bot.models import Incident, TimelineEvent
from bot.mrkdwn import escape
from bot.severity import SeverityLevel


def _late(late: timedelta) -> str:
    if not late:
        return ""
    secs = int(late.total_seconds())
    span = f"{secs // 60} min" if secs >= 120 else f"{secs} s"
    return f" _(late by {span}: the bot was unavailable)_"


def update_text(e: TimelineEvent) -> str:
    """What an event said as a status update: `/incident update`, or a status move with a
    message (the *Post update* form records one when it changes the status)."""
    if e.kind == "update":
        return e.text
    return str((e.data or {}).get("message") or "") if e.kind == "status" else ""


def auto_update(
    inc: Incident,
    level: SeverityLevel,
    since: list[TimelineEvent],
    latest: str,
    tz: ZoneInfo,
    now: datetime,
    next_due: datetime | None,
) -> tuple[str, list[Block]]:
    """The runbooks' status-update template, filled from what the incident recorded.

    ``since`` may start with the last update itself (recorded at `last_update_at`): it is the
    latest update, not news since it.
    """
    head = f":bar_chart: INCIDENT UPDATE — {inc.severity} (automatic)"
    title = escape(inc.title)
    latest = latest or next((t for e in reversed(since) if (t := update_text(e))), "")
    start = inc.last_update_at or inc.declared_at
    news = [e for e in since if e.at > start]
    recent = (
        "\n".join(f"• {when(e.at, tz)[11:]} {escape(e.text)}" for e in news[-8:])
        or "nothing new recorded"
    )
    pairs = [
        ("Title", title),
        ("Status", inc.status.capitalize()),
        ("Duration so far", duration(inc.declared_at, now)),
        ("Lead", f"<@{inc.lead_id}>" if inc.lead_id else "_unassigned_"),
        ("Latest update", escape(latest) or "_none posted yet_"),
        ("Next update", when(next_due, tz) if next_due else "as needed"),
    ]
    room = f"  ·  <#{inc.channel_id}>" if inc.channel_id else ""
    blocks = [
        section(f"*{head}*{room}"),
        fields(pairs),
        section(f"*Since the last update*\n{recent}"),
    ]
    return f"{head}: {title}", blocks


def reminder(inc: Incident, who: list[str], late: timedelta) -> tuple[str, list[Block]]:
    mention = " ".join(f"<@{u}>" for u in who) or "<!here>"
    text = (
        f":alarm_clock: {mention} a status update for *{escape(inc.title)}* is due. "
        f"Post one so stakeholders are not left guessing.{_late(late)}"
    )
    blocks = [
        section(text),
        actions(
            "reminder_actions",
            button("Post update", "post_update", str(inc.id), "primary"),
            button("Snooze 15 min", "snooze_15", str(inc.id)),
            button("Snooze 30 min", "snooze_30", str(inc.id)),
            button("Stop reminders", "stop_reminders", str(inc.id)),
        ),
    ]
    return text, blocks


def escalation(
    inc: Incident, level: SeverityLevel, step: int, notify: tuple[str, ...], late: timedelta
) -> tuple[str, list[Block]]:
    who = " ".join(f"<!subteam^{u}>" if u.startswith("S") else f"<@{u}>" for u in notify)
    mins = int(level.respond.total_seconds() // 60)
    text = (
        f":rotating_light: *Escalation (level {step + 1})*: nobody has taken the lead of this "
        f"{inc.severity} within its {mins}-minute response time. {who or '<!here>'} "
        f"please take the lead.{_late(late)}"
    )
    blocks = [
        section(text),
        actions("escalation_actions", button("Take lead", "take_lead", str(inc.id), "primary")),
    ]
    return text, blocks


def resolve_warning(
    inc: Incident, level: SeverityLevel, percent: int, tz: ZoneInfo, breached: bool, late: timedelta
) -> tuple[str, list[Block]]:
    target = inc.declared_at + level.resolve
    hours = level.resolve.total_seconds() / 3600
    span = f"{hours:g} h" if hours >= 1 else f"{int(level.resolve.total_seconds() // 60)} min"
    if breached:
        text = (
            f":red_circle: The {span} resolution target for {inc.severity} was breached at "
            f"{when(target, tz)}.{_late(late)}"
        )
    else:
        text = (
            f":hourglass_flowing_sand: {percent}% of the {span} resolution target for "
            f"{inc.severity} has passed; the target is {when(target, tz)}.{_late(late)}"
        )
    return text, [section(text)]


def postmortem_due(inc: Incident, hours: float, late: timedelta) -> tuple[str, list[Block]]:
    who = f"<@{inc.lead_id}>" if inc.lead_id else f"<@{inc.reporter_id}>"
    text = (
        f":memo: {who} *{escape(inc.title)}* was resolved {hours:g} h ago and has no "
        "post-mortem yet. "
        f"Compile the draft with `/incident postmortem`.{_late(late)}"
    )
    return text, [section(text), context("The runbooks ask for a post-mortem within 48 hours.")]
