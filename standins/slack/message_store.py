"""Messages within channels: posting, threads, deletion, pins, reactions and the API shape.

Shared by the chat/pins/reactions methods, file sharing and user-side actions.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from standins.slack import blockkit
from standins.slack.params import SlackError
from standins.slack.store import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, SlackStore


class MessageStore(SlackStore):
    """Message-level state changes and their events, for channels held by ``SlackStore``."""

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """All messages of a channel (thread replies included) in posting order."""
        with self.lock:
            return copy.deepcopy(self._channels[channel_id]["messages"])

    def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        with self.lock:
            msg = self._channels[channel_id]["index"].get(ts)
            return copy.deepcopy(msg)

    def slack_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """A message as the Web API returns it (the shape Slack puts in interaction payloads)."""
        with self.lock:
            ch = self._channels.get(channel_id)
            msg = ch["index"].get(ts) if ch else None
            return self._api_message(ch, msg) if msg else None

    def _content(
        self, p: dict, via: str, channel: str, update: bool = False
    ) -> tuple[str | None, list | None]:
        text = p.get("text")
        blocks = blockkit.message_blocks(p["blocks"]) if p.get("blocks") not in (None, "") else None
        # chat.update may clear blocks with an explicit empty list; posts need some content.
        if not text and not blocks and not p.get("attachments") and not (update and blocks == []):
            raise SlackError("no_text")
        if text is not None and len(str(text)) > 40000:
            raise SlackError("msg_too_long")
        if blocks and not text:
            # Slack posts it, but notifications and screen readers fall back to `text`.
            self._warnings.append(f"{via}: blocks without a text fallback in {channel}")
        return (None if text is None else str(text)), blocks

    def _add_message(
        self,
        ch: dict[str, Any],
        user_id: str,
        text: str,
        blocks: list,
        thread_ts: Any,
        files: list | None = None,
    ) -> dict[str, Any]:
        parent = None
        if thread_ts:
            parent = ch["index"].get(str(thread_ts))
            if parent is None:
                raise SlackError("thread_not_found")
            # Replying to a reply lands in the same thread, as in the Slack client.
            parent = ch["index"][parent["thread_ts"] or parent["ts"]]
        ts = self._next_ts()
        msg = {
            "type": "message",
            "channel": ch["id"],
            "ts": ts,
            "user": user_id,
            "bot_id": BOT_ID if user_id == BOT_USER_ID else None,
            "text": text,
            "blocks": blocks,
            "thread_ts": parent["ts"] if parent else None,
            "reactions": [],
            "pinned": False,
            "edited": None,
            "files": files or [],
            "reply_count": 0,
            "reply_users": [],
            "latest_reply": None,
            "metadata": None,
        }
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] += 1
            parent["latest_reply"] = ts
            if user_id not in parent["reply_users"]:
                parent["reply_users"].append(user_id)
        ch["messages"].append(msg)
        ch["index"][ts] = msg
        return msg

    def _delete_message(self, ch: dict[str, Any], ts: str) -> None:
        msg = ch["index"].pop(ts)
        ch["messages"].remove(msg)
        ch["pins"].pop(ts, None)

    def _pin(self, ch: dict[str, Any], ts: str, user_id: str) -> None:
        msg = ch["index"].get(ts)
        if msg is None:
            raise SlackError("message_not_found")
        if msg["pinned"]:
            raise SlackError("already_pinned")
        now = int(time.time())
        msg["pinned"] = True
        ch["pins"][ts] = (user_id, now)
        item = {
            "type": "message",
            "created": now,
            "created_by": user_id,
            "channel": ch["id"],
            "message": self._api_message(ch, msg),
        }
        event = {
            "type": "pin_added",
            "user": user_id,
            "channel_id": ch["id"],
            "item": item,
            "item_user": msg["user"],
            "pin_count": len(ch["pins"]),
            "event_ts": self._next_ts(),
        }
        self._emit_in(ch, event)

    def _react(self, ch: dict[str, Any], ts: str, user_id: str, name: str) -> None:
        if not name:
            raise SlackError("no_reaction")
        if ":" in name or " " in name:
            raise SlackError("invalid_name")
        msg = ch["index"].get(ts)
        if msg is None:
            raise SlackError("message_not_found")
        reaction = next((r for r in msg["reactions"] if r["name"] == name), None)
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            msg["reactions"].append(reaction)
        if user_id in reaction["users"]:
            raise SlackError("already_reacted")
        reaction["users"].append(user_id)
        reaction["count"] += 1
        event = {
            "type": "reaction_added",
            "user": user_id,
            "reaction": name,
            "item": {"type": "message", "channel": ch["id"], "ts": ts},
            "item_user": msg["user"],
            "event_ts": self._next_ts(),
        }
        self._emit_in(ch, event)

    def _api_message(
        self, ch: dict[str, Any], m: dict[str, Any], with_metadata: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "user": m["user"], "text": m["text"]}
        out.update(ts=m["ts"], team=TEAM_ID)
        if m["bot_id"]:
            out.update(bot_id=m["bot_id"], app_id=APP_ID)
        if m["blocks"]:
            out["blocks"] = m["blocks"]
        if m["thread_ts"]:
            out["thread_ts"] = m["thread_ts"]
        if m["reply_count"]:
            out.update(reply_count=m["reply_count"], reply_users=m["reply_users"])
            out["latest_reply"] = m["latest_reply"]
        if m["reactions"]:
            out["reactions"] = m["reactions"]
        if m["pinned"]:
            out["pinned_to"] = [ch["id"]]
        if m["edited"]:
            out["edited"] = m["edited"]
        if m["files"]:
            out.update(files=m["files"], upload=False)
        if with_metadata and m.get("metadata"):
            out["metadata"] = m["metadata"]  # conversations.history with include_all_metadata
        return copy.deepcopy(out)
