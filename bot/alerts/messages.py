"""Block Kit for alerts: the suggestion in #incidents, and new alerts in a war room.

Everything an alert carries is someone else's text: escaped; links only when they are http(s)."""

from __future__ import annotations

import re
from typing import Any

from bot.alerts.models import Alert
from bot.messages import actions, button, context, section
from bot.mrkdwn import escape

Block = dict[str, Any]
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")
SHOWN = 5  # alerts listed per message; the rest are counted


def link(url: str, label: str) -> str:
    """`<url|label>` for an http(s) URL without Slack's control characters; else nothing."""
    if not url or not _SAFE_URL.match(url):
        return ""
    return f"<{url.replace('&', '&amp;')}|{escape(label)}>"


def details(a: Alert, external_url: str = "") -> str:
    """Summary, description and links of one alert, as plain text for the incident's impact:
    the pinned alert escapes it, and Slack makes the bare URLs clickable."""
    ann = a.annotations
    lines = [f"{a.labels.get('alertname', 'Alert')} ({a.status})"]
    lines += [ann[k] for k in ("summary", "description") if ann.get(k)]
    for label, url in (
        ("Runbook", ann.get("runbook_url", "")),
        ("Source", a.generator_url),
        ("Alerts", external_url),
    ):
        if url and _SAFE_URL.match(url):
            lines.append(f"{label}: {url}")
    return "\n".join(lines)[:1500]


def _line(a: Alert) -> str:
    name = escape(a.labels.get("alertname", "alert"))
    summary = escape(a.annotations.get("summary", ""))
    links = " · ".join(
        x
        for x in (
            link(a.annotations.get("runbook_url", ""), "runbook"),
            link(a.generator_url, "source"),
        )
        if x
    )
    icon = ":red_circle:" if a.status == "firing" else ":white_check_mark:"
    return (
        f"{icon} *{name}* {a.status}"
        + (f" — {summary}" if summary else "")
        + (f" ({links})" if links else "")
    )


def suggestion(
    group_id: int, route: str, service: str, severity: str, a: Alert
) -> tuple[str, list[Block]]:
    name = escape(a.labels.get("alertname", "alert"))
    desc = escape(a.annotations.get("description", ""))
    head = f":bell: *Alert {name}* suggests a *{severity}* incident"
    if service:
        head += f" for *{escape(service)}*"
    text = head + "\n" + _line(a) + (f"\n{desc}" if desc else "")
    blocks = [
        section(text),
        context(f"Route `{escape(route)}` · declare it, or ignore this group of alerts"),
        actions(
            f"alert_suggestion_{group_id}",
            button("Declare", "alert_declare", str(group_id), "primary"),
            button("Ignore", "alert_ignore", str(group_id)),
        ),
    ]
    return f"Alert {name} suggests a {severity} incident", blocks


def decided(text: str) -> tuple[str, list[Block]]:
    return text, [section(text)]


def new_alerts(alerts: list[Alert]) -> tuple[str, list[Block]]:
    firing = sum(a.status == "firing" for a in alerts)
    resolved = len(alerts) - firing
    head = f":bell: {firing} alert(s) firing, {resolved} resolved, on this incident's timeline"
    lines = [_line(a) for a in alerts[:SHOWN]]
    if len(alerts) > SHOWN:
        lines.append(f"…and {len(alerts) - SHOWN} more (`/incident timeline`)")
    return head, [section(head + "\n" + "\n".join(lines))]


def all_resolved(route: str, auto_resolve: bool) -> tuple[str, list[Block]]:
    text = (
        f":white_check_mark: Every alert of this incident (route `{escape(route)}`) has resolved."
    )
    text += (
        " Resolving the incident, as the route says."
        if auto_resolve
        else " Resolve it with `/incident resolve` when you are satisfied."
    )
    return text, [section(text)]


def listing(unrouted: list[Alert], suggested: list[tuple[int, Alert | None, str]]) -> str:
    out = []
    if suggested:
        out.append("*Suggested, waiting for Declare or Ignore:*")
        out += [f"• {_line(a)} (route `{escape(r)}`)" for _, a, r in suggested if a is not None]
    out.append("*Unrouted alerts* (no route of the policy matched; newest first):")
    if not unrouted:
        out.append("_none_")
    for a in unrouted:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(a.labels.items()))
        out.append(f"• {_line(a)} · {escape(labels[:300])} · {a.source}")
    return "\n".join(out)
