"""Status-update reminders: `/incident remind`, and the reminder's buttons and form."""

from __future__ import annotations

import json

from bot.errors import UserError
from bot.incident import flows, ops, reminders
from bot.incident.states import STATUSES
from bot.runtime import Runtime
from commands.base import Reply, Request, ok

NEXT_UPDATE_CHOICES = (15, 30, 60, 120)


def remind(rt: Runtime, req: Request, args: str) -> Reply:
    if not args.strip():
        raise UserError(f"Usage: {reminders.USAGE}")
    minutes = reminders.parse_minutes(args)
    change = ops.in_war_room(rt, req.channel_id, reminders.set_reminders, minutes, req.user_id)
    return ok(change.text + ".", lambda: flows.apply_change(rt, change, req.response_url))


def _snooze(minutes: int):
    def handler(rt: Runtime, req: Request, incident_id: str) -> Reply:
        change = ops.on_incident(rt, int(incident_id), reminders.snooze, minutes, req.user_id)
        return ok(
            f"Snoozed: the next reminder comes in {minutes} min.",
            lambda: flows.apply_change(rt, change, req.response_url),
        )

    return handler


snooze_15 = _snooze(15)
snooze_30 = _snooze(30)


def stop(rt: Runtime, req: Request, incident_id: str) -> Reply:
    change = ops.on_incident(rt, int(incident_id), reminders.set_reminders, None, req.user_id)
    return ok(
        "Reminders stopped; `/incident remind 30` starts them again.",
        lambda: flows.apply_change(rt, change, req.response_url),
    )


def open_update_form(rt: Runtime, req: Request, incident_id: str) -> Reply:
    inc = ops.get(rt, int(incident_id))
    if inc.is_resolved:
        raise UserError("The incident is resolved; no update is due.")
    if not req.trigger_id:
        raise UserError("Use `/incident update <message>` in the war room.")
    view = update_modal(inc.id, inc.status)
    return ok("Opening the update form…", lambda: rt.chat.open_view(req.trigger_id, view))


def update_submitted(rt: Runtime, req: Request, values: dict[str, str], metadata: str) -> Reply:
    incident_id = int(json.loads(metadata)["incident"])
    minutes = int(values.get("next_update") or 30)
    change = ops.on_incident(
        rt,
        incident_id,
        reminders.structured_update,
        values.get("status", ""),
        values.get("progress", ""),
        values.get("next_steps", ""),
        minutes,
        req.user_id,
    )
    req.channel_id = change.incident.channel_id or req.channel_id
    return ok("Update posted.", lambda: flows.apply_change(rt, change, None))


def update_modal(incident_id: int, status: str) -> dict:
    def opt(v: str, label: str | None = None) -> dict:
        return {"text": {"type": "plain_text", "text": label or v}, "value": v}

    statuses = [opt(s, s.capitalize()) for s in STATUSES]
    nexts = [opt(str(m), f"in {m} min") for m in NEXT_UPDATE_CHOICES]
    return {
        "type": "modal",
        "callback_id": "update_modal",
        "private_metadata": json.dumps({"incident": incident_id}),
        "title": {"type": "plain_text", "text": "Status update"},
        "submit": {"type": "plain_text", "text": "Post"},
        "blocks": [
            {
                "type": "input",
                "block_id": "status",
                "label": {"type": "plain_text", "text": "Status"},
                "element": {
                    "type": "static_select",
                    "action_id": "status",
                    "options": statuses,
                    "initial_option": next(o for o in statuses if o["value"] == status),
                },
            },
            {
                "type": "input",
                "block_id": "progress",
                "label": {"type": "plain_text", "text": "Progress: what has been done"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "progress",
                    "multiline": True,
                    "max_length": 2000,
                },
            },
            {
                "type": "input",
                "block_id": "next_steps",
                "optional": True,
                "label": {"type": "plain_text", "text": "Next steps"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "next_steps",
                    "multiline": True,
                    "max_length": 1000,
                },
            },
            {
                "type": "input",
                "block_id": "next_update",
                "label": {"type": "plain_text", "text": "Next update"},
                "element": {
                    "type": "static_select",
                    "action_id": "next_update",
                    "options": nexts,
                    "initial_option": nexts[1],
                },
            },
        ],
    }
