"""Web API ``chat.*``, ``pins.*`` and ``reactions.*`` methods as a mixin over message state."""

from __future__ import annotations

from standins.slack.message_store import MessageStore
from standins.slack.params import SlackError, _metadata
from standins.slack.store import BOT_USER_ID, WORKSPACE_URL


class MessageMethods(MessageStore):
    """Handlers run under ``self.lock``, taken by ``SlackState.call_method``."""

    def api_chat_postMessage(self, p: dict) -> dict:
        ch = self._writable(p.get("channel"), allow_name=True)
        text, blocks = self._content(p, "chat.postMessage", ch["id"])
        metadata = _metadata(p.get("metadata"))
        msg = self._add_message(ch, BOT_USER_ID, text or "", blocks or [], p.get("thread_ts"))
        msg["metadata"] = metadata
        return {"channel": ch["id"], "ts": msg["ts"], "message": self._api_message(ch, msg)}

    def api_chat_update(self, p: dict) -> dict:
        ch = self._find(p.get("channel"), allow_name=True)
        msg = ch["index"].get(str(p.get("ts") or ""))
        if msg is None:
            raise SlackError("message_not_found")
        if msg["user"] != BOT_USER_ID:
            raise SlackError("cant_update_message")
        text, blocks = self._content(p, "chat.update", ch["id"], update=True)
        metadata = _metadata(p.get("metadata"))  # omitted: the message keeps its metadata
        if metadata is not None:
            msg["metadata"] = metadata
        # Slack keeps fields the update omits; an empty blocks list removes the blocks.
        if text is not None:
            msg["text"] = text
        if blocks is not None:
            msg["blocks"] = blocks
        msg["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "channel": ch["id"],
            "ts": msg["ts"],
            "text": msg["text"],
            "message": self._api_message(ch, msg),
        }

    def api_chat_delete(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        msg = ch["index"].get(str(p.get("ts") or ""))
        if msg is None:
            raise SlackError("message_not_found")
        if msg["user"] != BOT_USER_ID:
            raise SlackError("cant_delete_message")
        self._delete_message(ch, msg["ts"])
        return {"channel": ch["id"], "ts": msg["ts"]}

    def api_chat_postEphemeral(self, p: dict) -> dict:
        ch = self._writable(p.get("channel"), allow_name=True)
        user = self._user(str(p.get("user") or ""))
        if user["id"] not in ch["members"]:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(p, "chat.postEphemeral", ch["id"])
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": ch["id"],
                "user": user["id"],
                "text": text or "",
                "blocks": blocks or [],
                "response_type": "ephemeral",
                "via": "chat.postEphemeral",
                "ts": ts,
                "thread_ts": p.get("thread_ts"),
            }
        )
        return {"message_ts": ts}

    def api_chat_getPermalink(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        msg = ch["index"].get(str(p.get("message_ts") or ""))
        if msg is None:
            raise SlackError("message_not_found")
        link = f"{WORKSPACE_URL}archives/{ch['id']}/p{msg['ts'].replace('.', '')}"
        if msg["thread_ts"] and msg["thread_ts"] != msg["ts"]:
            link += f"?thread_ts={msg['thread_ts']}&cid={ch['id']}"
        return {"channel": ch["id"], "permalink": link}

    def api_pins_add(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        self._require_member(ch)
        if not p.get("timestamp"):
            raise SlackError("no_item_specified")
        self._pin(ch, str(p["timestamp"]), BOT_USER_ID)
        return {}

    def api_pins_remove(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        self._require_member(ch)
        msg = ch["index"].get(str(p.get("timestamp") or ""))
        if msg is None:
            raise SlackError("message_not_found")
        if not msg["pinned"]:
            raise SlackError("no_pin")
        msg["pinned"] = False
        del ch["pins"][msg["ts"]]
        item = {"type": "message", "channel": ch["id"], "message": self._api_message(ch, msg)}
        self._emit_in(
            ch,
            {
                "type": "pin_removed",
                "user": BOT_USER_ID,
                "channel_id": ch["id"],
                "item": item,
                "has_pins": bool(ch["pins"]),
                "event_ts": self._next_ts(),
            },
        )
        return {}

    def api_pins_list(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        items = [
            {
                "type": "message",
                "created": created,
                "created_by": by,
                "channel": ch["id"],
                "message": self._api_message(ch, ch["index"][ts]),
            }
            for ts, (by, created) in reversed(ch["pins"].items())
        ]
        return {"items": items}

    def api_reactions_add(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        self._require_member(ch)
        self._react(ch, str(p.get("timestamp") or ""), BOT_USER_ID, str(p.get("name") or ""))
        return {}
