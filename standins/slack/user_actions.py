"""What people do in the workspace: post, react, pin, join, and answer through a response_url."""

from __future__ import annotations

import secrets
from typing import Any

from standins.slack.message_store import MessageStore
from standins.slack.params import SlackError, _bool
from standins.slack.store import BOT_USER_ID, TEAM_ID

_RESPONSE_URL_USES = 5
_WEBHOOK_ERRORS = {"no_text": "missing_text_or_fallback_or_attachments"}


class UserActions(MessageStore):
    """Actions taken as a human user; they emit the events Slack would send the app."""

    def user_post(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> str:
        with self.lock:
            ch = self._visible_to(channel_id, user_id)
            if user_id not in ch["members"]:
                raise SlackError("not_in_channel")
            msg = self._add_message(ch, user_id, text, [], thread_ts)
            event = {
                "type": "message",
                "channel": ch["id"],
                "user": user_id,
                "text": text,
                "ts": msg["ts"],
                "team": TEAM_ID,
                "channel_type": "im" if ch["is_im"] else "group" if ch["is_private"] else "channel",
                "event_ts": msg["ts"],
            }
            if msg["thread_ts"]:
                event["thread_ts"] = msg["thread_ts"]
            self._emit_in(ch, event)
            return msg["ts"]

    def user_edit(self, channel_id: str, ts: str, user_id: str, text: str) -> None:
        """A person edits their message: ``message_changed`` with the previous message."""
        with self.lock:
            ch = self._visible_to(channel_id, user_id)
            msg = ch["index"].get(ts) or self._raise("message_not_found")
            if msg["user"] != user_id:
                raise SlackError("cant_update_message")
            before = self._api_message(ch, msg)
            msg["text"] = text
            msg["edited"] = {"user": user_id, "ts": self._next_ts()}
            self._emit_in(
                ch,
                {
                    "type": "message",
                    "subtype": "message_changed",
                    "hidden": True,
                    "channel": ch["id"],
                    "message": self._api_message(ch, msg),
                    "previous_message": before,
                    "ts": msg["edited"]["ts"],
                    "event_ts": msg["edited"]["ts"],
                    "channel_type": "group" if ch["is_private"] else "channel",
                },
            )

    def user_delete(self, channel_id: str, ts: str, user_id: str) -> None:
        """A person deletes their message: ``message_deleted`` with the previous message."""
        with self.lock:
            ch = self._visible_to(channel_id, user_id)
            msg = ch["index"].get(ts) or self._raise("message_not_found")
            if msg["user"] != user_id:
                raise SlackError("cant_delete_message")
            before = self._api_message(ch, msg)
            self._delete_message(ch, ts)
            now = self._next_ts()
            self._emit_in(
                ch,
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "hidden": True,
                    "channel": ch["id"],
                    "deleted_ts": ts,
                    "previous_message": before,
                    "ts": now,
                    "event_ts": now,
                    "channel_type": "group" if ch["is_private"] else "channel",
                },
            )

    def user_leave(self, channel_id: str, user_id: str) -> None:
        with self.lock:
            ch = self._visible_to(channel_id, user_id)
            if user_id not in ch["members"]:
                raise SlackError("not_in_channel")
            ch["members"].remove(user_id)
            event = {"type": "member_left_channel", "user": user_id, "channel": ch["id"]}
            event.update(channel_type="G" if ch["is_private"] else "C", team=TEAM_ID)
            self._emit_in(ch, event)

    def _visible_to(self, channel_id: str, user_id: str) -> dict[str, Any]:
        """A private channel does not exist for someone not in it: channel_not_found."""
        self._user(user_id)
        ch = self._channels.get(channel_id) or self._raise("channel_not_found")
        if ch["is_private"] and user_id not in ch["members"]:
            raise SlackError("channel_not_found")
        return ch

    def user_react(self, channel_id: str, ts: str, user_id: str, name: str) -> None:
        with self.lock:
            self._react(self._visible_to(channel_id, user_id), ts, user_id, name)

    def user_pin(self, channel_id: str, ts: str, user_id: str) -> None:
        with self.lock:
            self._pin(self._visible_to(channel_id, user_id), ts, user_id)

    def user_join(self, channel_id: str, user_id: str) -> None:
        with self.lock:
            # A private channel is joined by invitation only; to outsiders it does not exist.
            ch = self._visible_to(channel_id, user_id)
            if user_id in ch["members"]:
                raise SlackError("already_in_channel")
            self._join(ch, user_id, inviter=None)

    def new_response_url(self, channel_id: str, user_id: str, message_ts: str | None = None) -> str:
        """A response_url; ``message_ts`` (the clicked message) enables replace/delete_original."""
        with self.lock:
            rid = f"{self._next_id('R')}-{secrets.token_hex(6)}"
            self._response_urls[rid] = {
                "channel": channel_id,
                "user": user_id,
                "message_ts": message_ts,
                "uses": 0,
            }
            return f"{self.base_url}/response/{rid}"

    # Wire-only: the HTTP server hands over response_url POSTs.
    def post_response_url(self, rid: str, body: dict[str, Any]) -> tuple[int, str]:
        """Apply a response_url POST; returns (HTTP status, text body) as Slack answers."""
        with self.lock:
            hook = self._response_urls.get(rid)
            if hook is None:
                return 404, "no_service"
            hook["uses"] += 1
            if hook["uses"] > _RESPONSE_URL_USES:
                return 404, "used_url"
            ch = self._channels.get(hook["channel"])
            original = ch["index"].get(hook["message_ts"] or "") if ch else None
            if _bool(body.get("delete_original")):
                if original is not None:
                    self._delete_message(ch, original["ts"])
                return 200, "ok"
            try:
                text, blocks = self._content(body, "response_url", hook["channel"])
                if _bool(body.get("replace_original")) and original is not None:
                    original["text"] = text or ""
                    original["blocks"] = blocks or []
                    original["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
                elif body.get("response_type") == "in_channel" and ch is not None:
                    thread_ts = body.get("thread_ts")
                    self._add_message(ch, BOT_USER_ID, text or "", blocks or [], thread_ts)
                else:
                    self._ephemerals.append(
                        {
                            "channel": hook["channel"],
                            "user": hook["user"],
                            "text": text or "",
                            "blocks": blocks or [],
                            "response_type": "ephemeral",
                            "via": "response_url",
                            "ts": self._next_ts(),
                            "thread_ts": None,
                        }
                    )
            except SlackError as exc:
                # response_url answers like an incoming webhook: a plain-text code.
                return 400, _WEBHOOK_ERRORS.get(exc.error, exc.error)
            return 200, "ok"
