"""`/incident declare`, the declare modal and shortcuts, *Join war room* and setup retry."""

from __future__ import annotations

import json

from bot import messages
from bot.errors import UserError
from bot.incident import flows, ops
from bot.mrkdwn import escape
from bot.runtime import Runtime
from bot.severity import looks_like_severity, normalize
from commands.base import Reply, Request, ok

USAGE = "`/incident declare <P0-P3> <title>`, e.g. `/incident declare P1 Checkout API returns 500s`"


def declare_command(rt: Runtime, req: Request, args: str) -> Reply:
    parts = args.split(None, 1)
    if not parts or (len(parts) == 1 and looks_like_severity(parts[0])):
        # No title: ask for one in the modal (severity pre-selected when given).
        sev = normalize(parts[0]) if parts else "P2"
        if not req.trigger_id:
            raise UserError(f"Give a severity and a title: {USAGE}")
        meta = json.dumps({"channel": req.channel_id})
        view = messages.declare_modal(meta, severity=sev)
        return ok("Opening the declaration form…", lambda: rt.chat.open_view(req.trigger_id, view))
    if not looks_like_severity(parts[0]):
        raise UserError(f"Start with the severity: {USAGE}")
    severity = normalize(parts[0])
    title = parts[1] if len(parts) > 1 else ""
    return declare(rt, req, severity=severity, title=title, impact="")


def declare(
    rt: Runtime, req: Request, *, severity: str, title: str, impact: str, source_link: str = ""
) -> Reply:
    d = ops.declare(
        rt,
        title=title,
        severity=severity,
        impact=impact,
        reporter=req.user_id,
        team_id=req.team_id,
        channel=req.channel_id,
        source_link=source_link,
    )
    inc = d.incident
    if d.duplicate:
        where = f"<#{inc.channel_id}>" if inc.channel_id else "its war room (being set up)"
        return ok(
            f"You already declared this: *{inc.number}* {escape(inc.title)} ({inc.severity}) — "
            f"{where}. "
            "Nothing new was created."
        )
    return ok(
        f":rotating_light: Declared *{inc.number}* ({severity}) {escape(inc.title)}. "
        "Opening the war room…",
        lambda: flows.start_war_room(rt, inc.id, req.response_url),
    )


def declare_submitted(
    rt: Runtime, req: Request, values: dict[str, str], private_metadata: str
) -> Reply:
    meta = json.loads(private_metadata or "{}")
    req.channel_id = meta.get("channel", req.channel_id)
    return declare(
        rt,
        req,
        severity=normalize(values.get("severity") or "P2"),
        title=values.get("title", ""),
        impact=values.get("impact", ""),
        source_link=meta.get("source", ""),
    )


def declare_from_message(rt: Runtime, req: Request, message_text: str, permalink: str) -> Reply:
    first_line = (message_text.strip().splitlines() or [""])[0][:150]
    meta = json.dumps({"channel": req.channel_id, "source": permalink})
    view = messages.declare_modal(meta, title=first_line, impact=message_text[:2000])
    return ok("Opening the declaration form…", lambda: rt.chat.open_view(req.trigger_id, view))


def join_war_room(rt: Runtime, req: Request, incident_id: str) -> Reply:
    inc = ops.get(rt, int(incident_id))
    if not inc.channel_id:
        raise UserError("The war room is still being set up; try again in a moment.")
    return ok(
        f"Adding you to <#{inc.channel_id}>…", lambda: rt.chat.invite(inc.channel_id, [req.user_id])
    )


def retry_setup(rt: Runtime, req: Request, incident_ref: str) -> Reply:
    ref = incident_ref.strip()
    if not ref:
        raise UserError("Which incident? `/incident retry 2026-11-22-001`")
    inc = ops.get(rt, int(ref)) if ref.isdigit() else ops.by_number(rt, ref)
    if inc.ready_at is not None and inc.alert_pinned:
        return ok(f"The war room <#{inc.channel_id}> is already set up.")
    return ok(
        f"Retrying the war-room setup for *{inc.number}*…",
        lambda: flows.start_war_room(rt, inc.id, req.response_url),
    )
