"""Web API ``conversations.*`` methods as a mixin over the workspace state."""

from __future__ import annotations

import copy
import time
from typing import Any

from standins.slack.message_store import MessageStore
from standins.slack.params import SlackError, _bool, _id_list, _paginate
from standins.slack.store import BOT_USER_ID


class ConversationsMethods(MessageStore):
    """Handlers run under ``self.lock``, taken by ``SlackState.call_method``."""

    def api_conversations_create(self, p: dict) -> dict:
        name = str(p.get("name") or "")
        self._check_channel_name(name)
        ch = self._new_channel(name, BOT_USER_ID, [BOT_USER_ID], _bool(p.get("is_private")))
        return {"channel": self._api_channel(ch)}

    def api_conversations_rename(self, p: dict) -> dict:
        ch = self._writable(p.get("channel"))
        if ch["is_im"]:
            raise SlackError("method_not_supported_for_channel_type")
        if ch["creator"] != BOT_USER_ID:
            raise SlackError("not_authorized")  # only the creator (or an admin) may rename
        name = str(p.get("name") or "")
        if name != ch["name"]:
            self._check_channel_name(name)
        ch["name"] = name
        self._emit_in(ch, {"type": "channel_rename", "channel": {"id": ch["id"], "name": name}})
        return {"channel": self._api_channel(ch)}

    def api_conversations_setTopic(self, p: dict) -> dict:
        return self._set_text_field(p, "topic", 250)

    def api_conversations_setPurpose(self, p: dict) -> dict:
        return self._set_text_field(p, "purpose", 250)

    def api_conversations_invite(self, p: dict) -> dict:
        ch = self._writable(p.get("channel"))
        if ch["is_im"]:
            raise SlackError("method_not_supported_for_channel_type")
        users = _id_list(p.get("users"))
        if not users:
            raise SlackError("no_user")
        if len(users) > 1000:
            raise SlackError("too_many_users")
        force = _bool(p.get("force"))
        errors, new = [], []
        for user_id in dict.fromkeys(users):
            error = "cant_invite_self" if user_id == BOT_USER_ID else None
            if user_id not in self._users:
                error = "user_not_found"
            if error:
                errors.append({"user": user_id, "ok": False, "error": error})
                if not force:
                    raise SlackError(error, errors=errors)
            elif user_id not in ch["members"]:
                new.append(user_id)
        if not new:
            raise SlackError(errors[0]["error"] if errors else "already_in_channel", errors=errors)
        for user_id in new:
            self._join(ch, user_id, inviter=BOT_USER_ID)
        result: dict[str, Any] = {"channel": self._api_channel(ch)}
        if errors:
            result["errors"] = errors
        return result

    def api_conversations_join(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        if ch["is_private"] or ch["is_im"]:
            raise SlackError("method_not_supported_for_channel_type")
        if ch["is_archived"]:
            raise SlackError("is_archived")
        if BOT_USER_ID in ch["members"]:
            warn = {"warnings": ["already_in_channel"]}
            return {
                "channel": self._api_channel(ch),
                "warning": "already_in_channel",
                "response_metadata": warn,
            }
        self._join(ch, BOT_USER_ID, inviter=None)
        return {"channel": self._api_channel(ch)}

    def api_conversations_archive(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        if ch["is_archived"]:
            raise SlackError("already_archived")
        if ch["name"] == "general":
            raise SlackError("cant_archive_general")
        self._require_member(ch)
        ch["is_archived"] = True
        self._emit({"type": "channel_archive", "channel": ch["id"], "user": BOT_USER_ID})
        return {}

    def api_conversations_open(self, p: dict) -> dict:
        users = _id_list(p.get("users") or p.get("user"))
        if len(users) != 1:
            raise SlackError(
                "not_enough_users" if not users else "method_not_supported_for_channel_type"
            )
        ch = self._im(self._user(users[0])["id"])
        return {"channel": self._api_channel(ch) if _bool(p.get("return_im")) else {"id": ch["id"]}}

    def api_conversations_info(self, p: dict) -> dict:
        return {"channel": self._api_channel(self._find(p.get("channel")))}

    def api_conversations_list(self, p: dict) -> dict:
        types = set(_id_list(p.get("types") or "public_channel"))
        exclude_archived = _bool(p.get("exclude_archived"))
        chans = []
        for ch in self._channels.values():
            kind = (
                "im" if ch["is_im"] else "private_channel" if ch["is_private"] else "public_channel"
            )
            if kind not in types or (exclude_archived and ch["is_archived"]):
                continue
            if kind != "public_channel" and BOT_USER_ID not in ch["members"]:
                continue
            chans.append(ch)
        page, meta = _paginate(chans, p)
        return {"channels": [self._api_channel(c) for c in page], "response_metadata": meta}

    def api_conversations_members(self, p: dict) -> dict:
        page, meta = _paginate(self._find(p.get("channel"))["members"], p)
        return {"members": list(page), "response_metadata": meta}

    def api_conversations_history(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        self._require_member(ch)
        inclusive = _bool(p.get("inclusive"))
        try:
            oldest = float(p.get("oldest") or 0)
        except ValueError:
            raise SlackError("invalid_ts_oldest") from None
        try:
            latest = float(p.get("latest") or 1e12)
        except ValueError:
            raise SlackError("invalid_ts_latest") from None

        def in_range(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        top = [
            m
            for m in reversed(ch["messages"])
            if m["thread_ts"] in (None, m["ts"]) and in_range(float(m["ts"]))
        ]
        page, meta = _paginate(top, p)
        with_metadata = _bool(p.get("include_all_metadata"))
        return {
            "messages": [self._api_message(ch, m, with_metadata) for m in page],
            "has_more": bool(meta["next_cursor"]),
            "pin_count": len(ch["pins"]),
            "response_metadata": meta,
        }

    def api_conversations_replies(self, p: dict) -> dict:
        ch = self._find(p.get("channel"))
        self._require_member(ch)
        parent = ch["index"].get(str(p.get("ts") or ""))
        if parent is None:
            raise SlackError("thread_not_found")
        root = parent["thread_ts"] or parent["ts"]
        thread = [m for m in ch["messages"] if m["ts"] == root or m["thread_ts"] == root]
        page, meta = _paginate(thread, p, default_limit=1000)
        with_metadata = _bool(p.get("include_all_metadata"))
        return {
            "messages": [self._api_message(ch, m, with_metadata) for m in page],
            "has_more": bool(meta["next_cursor"]),
            "response_metadata": meta,
        }

    def _set_text_field(self, p: dict, field: str, limit: int) -> dict:
        ch = self._writable(p.get("channel"))
        value = str(p.get(field) or "")
        if len(value) > limit:
            raise SlackError("too_long")
        ch[field] = {"value": value, "creator": BOT_USER_ID, "last_set": int(time.time())}
        return {"channel": self._api_channel(ch)}

    def _api_channel(self, ch: dict[str, Any]) -> dict[str, Any]:
        if ch["is_im"]:
            return {
                "id": ch["id"],
                "created": ch["created"],
                "is_im": True,
                "is_org_shared": False,
                "user": ch["user"],
                "is_user_deleted": False,
                "priority": 0,
            }
        return copy.deepcopy(
            {
                "id": ch["id"],
                "name": ch["name"],
                "name_normalized": ch["name"],
                "is_channel": not ch["is_private"],
                "is_group": ch["is_private"],
                "is_im": False,
                "is_mpim": False,
                "is_private": ch["is_private"],
                "created": ch["created"],
                "creator": ch["creator"],
                "is_archived": ch["is_archived"],
                "is_general": ch["name"] == "general",
                "is_shared": False,
                "is_ext_shared": False,
                "is_org_shared": False,
                "is_member": BOT_USER_ID in ch["members"],
                "topic": ch["topic"],
                "purpose": ch["purpose"],
                "previous_names": [],
                "num_members": len(ch["members"]),
            }
        )
