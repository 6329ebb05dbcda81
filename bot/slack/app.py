"""The Bolt app, built once: maps Slack's commands, buttons, views and events to handlers.

Listeners only translate Slack payloads into `commands.base.Request`; handlers do the rest.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltResponse

from bot import logs, mrkdwn
from bot.chat import ChatError
from bot.evidence import capture
from bot.incident import ops, visibility
from bot.runtime import Runtime
from commands import alerts, checklist, declare, reminders, roles, run, status, statuspage
from commands.actions.playbooks import registry_check
from commands.base import Reply, Request, control_character, strip_controls
from commands.private import need_to_know, screen, step_need_to_know
from commands.router import SUBCOMMANDS, dispatch, guarded

log = logging.getLogger(__name__)


def _req(body: dict[str, Any]) -> Request:
    user = body.get("user") or {}
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    team = body.get("team") or {}
    return Request(
        user_id=body.get("user_id") or user.get("id", ""),
        user_name=body.get("user_name") or user.get("username") or user.get("name", ""),
        team_id=body.get("team_id") or team.get("id") or user.get("team_id", ""),
        channel_id=body.get("channel_id") or channel.get("id") or container.get("channel_id", ""),
        response_url=body.get("response_url"),
        trigger_id=body.get("trigger_id"),
        message_ts=container.get("message_ts"),
    )


def _run_after(rt: Runtime, reply: Reply) -> None:
    for fn in reply.after:
        rt.submit(fn)


def _respond_later(rt: Runtime, req: Request, reply: Reply) -> None:
    """Buttons and views cannot carry a reply in the ack: send it ephemerally, then the effects."""

    def tell() -> None:
        try:
            if req.response_url:
                rt.chat.respond(req.response_url, reply.text, reply.blocks)
            elif req.channel_id:
                rt.chat.ephemeral(req.channel_id, req.user_id, reply.text, reply.blocks)
        except ChatError as e:
            log.warning("could not send the reply to %s: %s", req.user_id, e)

    if reply.text:  # a click whose answer is the message it updates says nothing more
        rt.submit(tell)
    _run_after(rt, reply)


def _not_token_unused(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment even when given a client built from it,
    # then warns at every start that the token "will be unused": true, and no problem.
    return "`token` will be unused" not in record.getMessage()


def build_app(rt: Runtime, signing_secret: str, token: str) -> App:
    from slack_sdk import WebClient

    bolt_log = logging.getLogger("slack_bolt.App")
    if _not_token_unused not in bolt_log.filters:
        bolt_log.addFilter(_not_token_unused)

    client = getattr(rt.chat, "client", None)
    client = client if isinstance(client, WebClient) else None
    rt.playbooks.bind(registry_check(rt.policy))  # steps checked against the action registry
    app = App(
        signing_secret=signing_secret,
        token=None if client else token,
        client=client,
        # The listener only parses, writes one transaction and acks; Slack calls go to
        # rt.effects after, so the HTTP response need not wait for anything slow.
        process_before_response=True,
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(8, "bolt"),
        raise_error_for_unhandled_request=False,
    )

    @app.command("/incident")
    def incident_command(ack: Ack, body: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        logs.request_id.set(uuid.uuid4().hex[:12])
        req = _req(body)
        # Slack escapes the text and writes mentions as markup; handlers get what was meant.
        text = mrkdwn.from_slack(body.get("text", ""))
        reply = dispatch(rt, req, text)
        ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
        sub = text.split(None, 1)[0].lower() if text.strip() else "help"
        rt.metrics.commands.labels(sub if sub in SUBCOMMANDS else "unknown", reply.outcome).inc()
        rt.metrics.ack_seconds.observe(time.perf_counter() - t0)
        _run_after(rt, reply)

    def button(action_id: str | re.Pattern[str], handler: Any) -> None:
        @app.action(action_id)
        def on_click(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            req = _req(body)
            value = (body.get("actions") or [{}])[0].get("value", "")
            _respond_later(rt, req, guarded(lambda: screen(rt, req) or handler(rt, req, value)))

    button("take_lead", need_to_know(roles.take_lead))
    button("statuspage_publish", statuspage.publish)
    button("join_war_room", declare.join_war_room)
    button("retry_setup", declare.retry_setup)
    # Buttons whose value is an incident's id: a private one answers as unknown to outsiders.
    button("snooze_15", need_to_know(reminders.snooze_15))
    button("snooze_30", need_to_know(reminders.snooze_30))
    button("stop_reminders", need_to_know(reminders.stop))
    button("post_update", need_to_know(reminders.open_update_form))
    button("approve_action", run.approve)
    button("deny_action", run.deny)
    button("run_again", run.run_again)  # under an interrupted change that was not applied
    button("diagnose", run.open_menu)
    button("alert_declare", alerts.declare_suggested)
    button("alert_ignore", alerts.ignore_suggested)
    # One button per revision: action_ids must be unique within a message (`rollback_to:3`).
    button(re.compile(r"^rollback_to(:\d+)?$"), run.rollback_to)
    # The checklist's buttons carry the step (or phase and page) in the id and the value.
    button(re.compile(r"^cl_done:\d+$"), step_need_to_know(checklist.done))
    button(re.compile(r"^cl_undo:\d+$"), step_need_to_know(checklist.undo))
    button(re.compile(r"^cl_run:\d+$"), step_need_to_know(checklist.run_step))
    button(re.compile(r"^cl_skip:\d+$"), step_need_to_know(checklist.skip_open))
    button(re.compile(r"^cl_(show|page):[a-z_]+(:\d+)?$"), checklist.view_button)
    button("cl_use_type", checklist.use_type)

    def form(callback_id: str, handler: Any, required: str | None = None) -> None:
        """A modal submission: check the one required field in the form, then the handler."""

        @app.view(callback_id)
        def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            values = _view_values(view)
            if required and not values.get(required, "").strip():
                ack(response_action="errors", errors={required: "This is needed."})
                return
            if errors := _control_errors(values):
                ack(response_action="errors", errors=errors)
                return
            ack()
            req = _req(body)
            meta = view.get("private_metadata", "")
            _respond_later(
                rt, req, guarded(lambda: screen(rt, req) or handler(rt, req, values, meta))
            )

    form("resolve_modal", status.resolve_submitted)
    form("diagnose_modal", run.menu_submitted)
    form("update_modal", reminders.update_submitted, required="progress")
    form("checklist_skip", checklist.skip_submitted, required="reason")

    @app.view("declare_modal")
    def on_declare_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        req = _req(body)
        values = _view_values(view)
        if errors := _control_errors(values):
            ack(response_action="errors", errors=errors)
            return
        title = values.get("title", "").strip()
        if not title or not any(c.isalnum() for c in title):
            ack(
                response_action="errors",
                errors={"title": "Say what is broken, e.g. Checkout API returns 500s"},
            )
            return
        ack()
        _respond_later(
            rt,
            req,
            guarded(
                lambda: declare.declare_submitted(rt, req, values, view.get("private_metadata", ""))
            ),
        )

    @app.shortcut("declare_incident")
    def on_global_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        req = _req(body)
        reply = guarded(lambda: declare.declare_command(rt, req, ""))
        _run_after(rt, reply)

    @app.shortcut("declare_from_message")
    def on_message_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        req = _req(body)
        msg = body.get("message") or {}

        def open_form() -> None:
            link = rt.chat.permalink(req.channel_id, msg.get("ts", ""))
            text = strip_controls(mrkdwn.from_slack(msg.get("text", "")))
            for fn in declare.declare_from_message(rt, req, text, link).after:
                fn()

        rt.submit(open_form)

    @app.event("pin_added")
    def on_pin(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        msg = item.get("message") or {}
        channel = event.get("channel_id") or item.get("channel", "")
        rt.submit(
            _capture,
            rt,
            body.get("event_id", ""),
            channel,
            msg.get("ts", ""),
            event.get("user", ""),
            "pin",
            msg,
        )

    @app.event("reaction_added")
    def on_reaction(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != "pushpin" or item.get("type") != "message":
            return
        rt.submit(
            _capture,
            rt,
            body.get("event_id", ""),
            item.get("channel", ""),
            item.get("ts", ""),
            event.get("user", ""),
            "pushpin",
            None,
        )

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        # Edits and deletions in a war room go onto its timeline, with what was said before.
        if event.get("subtype") in ("message_changed", "message_deleted"):
            rt.submit(capture.edit_or_deletion, rt, body.get("event_id", ""), event)

    @app.event("member_joined_channel")
    def on_join(event: dict[str, Any]) -> None:
        # Who is in a war room decides who may see a private incident.
        channel, user = event.get("channel", ""), event.get("user", "")
        if visibility.is_war_room(rt, channel):
            visibility.record_members(rt, channel, [user])

    @app.event("member_left_channel")
    def on_leave(event: dict[str, Any]) -> None:
        visibility.forget_member(rt, event.get("channel", ""), event.get("user", ""))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.exception("unhandled error in a Slack listener", exc_info=error)
        return BoltResponse(status=200, body="")

    return app


def _control_errors(values: dict[str, str]) -> dict[str, str]:
    """Shown by Slack under the fields themselves."""
    return {
        k: f"Remove the invisible control character {char}; Warroom cannot store it."
        for k, v in values.items()
        if (char := control_character(v))
    }


def _view_values(view: dict[str, Any]) -> dict[str, str]:
    # plain_text_input values arrive as typed, not escaped: nothing to decode.
    out: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for _action_id, v in actions.items():
            if v.get("selected_option"):
                out[block_id] = v["selected_option"]["value"]
            elif v.get("selected_options") is not None:  # checkboxes
                out[block_id] = ",".join(o["value"] for o in v["selected_options"])
            elif v.get("value") is not None:
                out[block_id] = v["value"]
    return out


def _capture(
    rt: Runtime,
    event_id: str,
    channel: str,
    ts: str,
    actor: str,
    how: str,
    msg: dict[str, Any] | None,
) -> None:
    if not ts or ops.seen_event(rt, event_id):
        return
    if msg is None:
        msg = rt.chat.message(channel, ts) or {}
    try:
        link = rt.chat.permalink(channel, ts)
    except ChatError:
        link = None
    ops.capture_message(
        rt,
        event_id=event_id,
        channel_id=channel,
        ts=ts,
        actor=actor,
        how=how,
        text=mrkdwn.from_slack(msg.get("text", "")),
        author=msg.get("user"),
        permalink=link,
    )
