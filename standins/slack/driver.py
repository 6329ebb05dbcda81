"""Plays Slack's side: commands, interactivity and events as Slack builds them, sent to the bot
over signed HTTP (`signed_http`) or, with `socket_mode.SocketModeDriver`, over Socket Mode.

Bodies and headers follow what Slack itself sends, so the bot's real verification path runs.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from standins.slack.composer import compose
from standins.slack.signed_http import DriverResponse, SignedHttp, slack_signature
from standins.slack.view_state import view_state

if TYPE_CHECKING:
    from standins.slack.api import SlackStandIn

__all__ = ["DriverResponse", "SlackDriver", "slack_signature"]

log = logging.getLogger(__name__)

TEAM_ID = "T0WARROOM"
TEAM_DOMAIN = "warroom-sandbox"
APP_ID = "A0WARROOM"
BOT_USER_ID = "U0WARROOM"


class SlackDriver:
    """Plays Slack's side of the HTTP conversation with the bot."""

    def __init__(
        self,
        bot_url: str = "http://127.0.0.1:3000/slack/events",
        signing_secret: str = "",
        standin: SlackStandIn | None = None,
        verification_token: str = "sandbox-verification-token",
        timeout: float = 10.0,
        usergroups: Mapping[str, str] | None = None,
    ) -> None:
        self.bot_url = bot_url
        self.transport: Any = SignedHttp(bot_url, signing_secret, timeout)
        self.signing_secret = signing_secret
        self.standin = standin
        self.verification_token = verification_token
        self.timeout = timeout
        self._team_id = standin.team_id if standin is not None else TEAM_ID
        # User group handles people can @-mention (handle -> S… id): Slack's @oncall menu.
        self.usergroups: dict[str, str] = dict(usergroups or {})

    # ------------------------------------------------------------------- slash commands
    def command(
        self,
        text: str,
        user: str,
        channel: str,
        command: str = "/incident",
        *,
        raw: bool = False,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> DriverResponse:
        """``text`` as a person types it (`@bob`, `#general`, `R&D`), sent as Slack sends it;
        ``raw=True`` sends ``text`` as the wire form, untouched."""
        fields = {
            "token": self.verification_token,
            "team_id": self._team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self._user_name(user),
            "command": command,
            "text": text if raw else self.typed(text),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(channel, user),
            "trigger_id": _trigger_id(),
        }
        body = urlencode(fields).encode()
        return self.transport.send(
            body, "application/x-www-form-urlencoded", sign=sign, timestamp=timestamp
        )

    # -------------------------------------------------------------------- interactivity
    def block_action(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
        message: dict[str, Any] | None = None,
        *,
        element: dict[str, Any] | None = None,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> DriverResponse:
        """A ``block_actions`` payload for a button click on a channel message."""
        if message is None:
            message = self._stored_message(channel, message_ts)
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or secrets.token_urlsafe(4),
            "type": "button",
            "action_ts": _now_ts(),
        }
        if element is not None:
            action["type"] = element.get("type", "button")
            if "text" in element:
                action["text"] = element["text"]
            if "style" in element:
                action["style"] = element["style"]
        if value is not None:
            action["value"] = value
        payload = {
            "type": "block_actions",
            "user": self._user_obj(user),
            "api_app_id": APP_ID,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": _trigger_id(),
            "team": {"id": self._team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "message": message or {"type": "message", "ts": message_ts, "text": ""},
            "state": {"values": {}},
            "response_url": self._response_url(channel, user, message_ts),
            "actions": [action],
        }
        return self._send_payload(payload, sign, timestamp)

    def press(
        self,
        channel: str,
        message_ts: str,
        action_id: str,
        user: str,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> DriverResponse:
        """Click the button ``action_id`` of a message stored in the stand-in."""
        if self.standin is None:
            raise LookupError("press() needs a stand-in to find the message")
        message = self._stored_message(channel, message_ts)
        if message is None:
            raise LookupError(f"no message {message_ts} in {channel}")
        for block in message.get("blocks") or []:
            elements = list(block.get("elements") or [])
            if isinstance(block.get("accessory"), dict):
                elements.append(block["accessory"])
            for element in elements:
                if element.get("type") == "button" and element.get("action_id") == action_id:
                    return self.block_action(
                        user,
                        channel,
                        message_ts,
                        action_id,
                        value=element.get("value"),
                        block_id=block.get("block_id"),
                        message=message,
                        element=element,
                        sign=sign,
                        timestamp=timestamp,
                    )
        raise LookupError(f"no button {action_id!r} on message {message_ts} in {channel}")

    def submit_view(
        self,
        user: str,
        view: dict[str, Any],
        values: Mapping[str, Mapping[str, Any]],
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> DriverResponse:
        """A ``view_submission``; ``values`` is ``{block_id: {action_id: value_or_state}}``."""
        view_id = view.get("id") or f"V{secrets.token_hex(5).upper()}"
        state = view_state(view, values)
        submitted = {
            "id": view_id,
            "team_id": self._team_id,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": state},
            "hash": view.get("hash", f"{int(time.time())}.{secrets.token_hex(4)}"),
            "title": view.get("title"),
            "clear_on_close": view.get("clear_on_close", False),
            "notify_on_close": view.get("notify_on_close", False),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": view.get("previous_view_id"),
            "root_view_id": view.get("root_view_id", view_id),
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self._team_id,
            "bot_id": view.get("bot_id", "B0WARROOM"),
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self._team_id, "domain": TEAM_DOMAIN},
            "user": self._user_obj(user),
            "api_app_id": APP_ID,
            "token": self.verification_token,
            "trigger_id": _trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._send_payload(payload, sign, timestamp)

    def message_shortcut(
        self,
        callback_id: str,
        user: str,
        channel: str,
        message_ts: str,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> DriverResponse:
        message = self._stored_message(channel, message_ts)
        payload = {
            "type": "message_action",
            "token": self.verification_token,
            "action_ts": _now_ts(),
            "team": {"id": self._team_id, "domain": TEAM_DOMAIN},
            "user": self._user_obj(user),
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": _trigger_id(),
            "response_url": self._response_url(channel, user),
            "message_ts": message_ts,
            "message": message or {"type": "message", "ts": message_ts, "text": ""},
        }
        return self._send_payload(payload, sign, timestamp)

    def global_shortcut(
        self, callback_id: str, user: str, *, sign: bool = True, timestamp: int | None = None
    ) -> DriverResponse:
        payload = {
            "type": "shortcut",
            "token": self.verification_token,
            "action_ts": _now_ts(),
            "team": {"id": self._team_id, "domain": TEAM_DOMAIN},
            "user": self._user_obj(user),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": _trigger_id(),
        }
        return self._send_payload(payload, sign, timestamp)

    # ---------------------------------------------------------------------- Events API
    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> DriverResponse:
        """Wrap ``event`` in an ``event_callback`` envelope; ``retry_num`` marks a Slack retry."""
        envelope = {
            "token": self.verification_token,
            "team_id": self._team_id,
            "context_team_id": self._team_id,
            "context_enterprise_id": None,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self._team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        body = json.dumps(envelope).encode()
        return self.transport.send(
            body, "application/json", sign=sign, timestamp=timestamp, headers=headers
        )

    def url_verification(
        self, challenge: str, *, sign: bool = True, timestamp: int | None = None
    ) -> DriverResponse:
        body = {
            "token": self.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        raw = json.dumps(body).encode()
        return self.transport.send(raw, "application/json", sign=sign, timestamp=timestamp)

    def forward_events_to_bot(self) -> None:
        """Route the stand-in's events (pins, reactions, messages) to the bot over the transport."""
        if self.standin is None:
            raise RuntimeError("forward_events_to_bot() needs a stand-in")

        def sink(event: dict[str, Any]) -> None:
            try:
                response = self.event(event)
            except OSError as exc:  # bot down or restarting: Slack would retry; we just report
                log.warning("could not deliver %s event to the bot: %r", event.get("type"), exc)
                return
            if not response.ok:
                log.warning("bot answered %s to %s event", response.status, event.get("type"))

        self.standin.event_sink = sink

    # ------------------------------------------------------------------------- transport
    def close(self) -> None:
        """Close this thread's connection (other threads' connections close when they exit)."""
        self.transport.close()

    def _send_payload(
        self, payload: dict[str, Any], sign: bool, timestamp: int | None
    ) -> DriverResponse:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.transport.send(
            body, "application/x-www-form-urlencoded", sign=sign, timestamp=timestamp
        )

    # -------------------------------------------------------------------------- helpers
    def typed(self, text: str) -> str:
        """What Slack sends for ``text`` typed in the composer, escaping on (`should_escape`)."""
        return compose(text, self._user_id, self._channel_id, self.usergroups)

    def user_post(self, channel: str, user: str, text: str) -> str:
        """A person posts ``text`` (as typed) in ``channel``; Slack stores its escaped form."""
        if self.standin is None:
            raise RuntimeError("user_post() needs a stand-in")
        return self.standin.user_post(channel, user, self.typed(text))

    def _user_id(self, name: str) -> str | None:
        if self.standin is None:
            return None
        members = self.standin.call_method("users.list", {"limit": 1000}).get("members", [])
        return next((u["id"] for u in members if u.get("name") == name), None)

    def _channel_id(self, name: str) -> str | None:
        ch = self.standin.channel_by_name(name) if self.standin is not None else None
        return ch["id"] if ch else None

    def _user_name(self, user_id: str) -> str:
        user = self.standin.user(user_id) if self.standin is not None else None
        return str(user["name"]) if user else user_id

    def _channel_name(self, channel_id: str) -> str:
        if self.standin is not None:
            try:
                ch = self.standin.channel(channel_id)
            except KeyError:
                return channel_id
            return "directmessage" if ch["is_im"] else ch["name"]
        return channel_id

    def _user_obj(self, user_id: str) -> dict[str, str]:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self._team_id}

    def _response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        if self.standin is not None:
            return self.standin.new_response_url(channel, user, message_ts)
        return f"https://hooks.slack.com/actions/{self._team_id}/{secrets.randbelow(10**12)}/x"

    def _stored_message(self, channel: str, message_ts: str) -> dict[str, Any] | None:
        if self.standin is None:
            return None
        return self.standin.slack_message(channel, message_ts)


def _trigger_id() -> str:
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def _now_ts() -> str:
    return f"{time.time():.6f}"
