"""In-memory Slack workspace (users, channels, messages, views, files) and Web API method logic.

Pure Python with no HTTP: ``slack_api.SlackStandIn`` serves it over the wire.
"""

from __future__ import annotations

import base64
import copy
import json
import mimetypes
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

BOT_USER_ID = "U0WARROOM"
BOT_ID = "B0WARROOM"
TEAM_ID = "T0WARROOM"
APP_ID = "A0WARROOM"
TEAM_NAME = "Warroom Sandbox"
TEAM_DOMAIN = "warroom-sandbox"
WORKSPACE_URL = f"https://{TEAM_DOMAIN}.slack.com/"

SEED_USERS = {"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol", "U0DAN": "dan"}
SEED_CHANNELS = {"C0INCIDENTS": "incidents", "C0GENERAL": "general"}

_NAME_RE = re.compile(r"[a-z0-9_-]+")
# Limits Slack enforces on Block Kit; violating them is a classic production-only failure.
_TEXT_LIMITS = {"section": 3000, "header": 150}
_VIEW_TEXT_LIMIT = 24
_PRIVATE_METADATA_LIMIT = 3000
_RESPONSE_URL_USES = 5


class SlackError(Exception):
    """A Slack API error code (``{"ok": false, "error": code, **extra}``)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _json_value(value: Any, error: str) -> Any:
    """Form bodies carry JSON as strings, JSON bodies carry it inline; accept both."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    return value


def _id_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _paginate(items: list[Any], params: dict[str, Any], default_limit: int = 100) -> tuple:
    """Slice ``items`` with Slack's opaque cursor scheme; returns (page, response_metadata)."""
    limit = _int(params.get("limit"), default_limit)
    limit = default_limit if limit <= 0 else min(limit, 1000)
    start = 0
    cursor = params.get("cursor") or ""
    if cursor:
        try:
            kind, offset = base64.b64decode(cursor).decode().split(":")
            start = int(offset)
            if kind != "next" or start < 0:
                raise ValueError(cursor)
        except ValueError:
            raise SlackError("invalid_cursor") from None
    end = start + limit
    next_cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], {"next_cursor": next_cursor}


def _parse_blocks(raw: Any) -> list[dict[str, Any]]:
    blocks = _json_value(raw, "invalid_blocks_format")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    problems = []
    if len(blocks) > 50:
        problems.append("must provide no more than 50 items [json-pointer:/blocks]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:/blocks/{i}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen:
                problems.append(f"duplicate block_id [json-pointer:/blocks/{i}/block_id]")
            seen.add(block_id)
        limit = _TEXT_LIMITS.get(block["type"])
        text = block.get("text")
        if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
            problems.append(
                f"must be less than {limit + 1} characters [json-pointer:/blocks/{i}/text]"
            )
    if problems:
        meta = {"messages": [f"[ERROR] {p}" for p in problems]}
        raise SlackError("invalid_blocks", errors=problems, response_metadata=meta)
    return blocks


def _validate_view(raw: Any) -> dict[str, Any]:
    view = _json_value(raw, "invalid_arguments")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments")
    problems = []
    if view.get("type") not in ("modal", "home"):
        problems.append("must be a valid enum value [json-pointer:/view/type]")
    if view.get("type") == "modal" and not isinstance(view.get("title"), dict):
        problems.append("missing required field: title [json-pointer:/view]")
    for key in ("title", "submit", "close"):
        text = view.get(key)
        if isinstance(text, dict) and len(str(text.get("text", ""))) > _VIEW_TEXT_LIMIT:
            problems.append(f"must be less than 25 characters [json-pointer:/view/{key}/text]")
    if len(view.get("blocks") or []) > 100:
        problems.append("must provide no more than 100 items [json-pointer:/view/blocks]")
    if len(str(view.get("private_metadata", ""))) > _PRIVATE_METADATA_LIMIT:
        problems.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if problems:
        meta = {"messages": [f"[ERROR] {p}" for p in problems]}
        raise SlackError("invalid_arguments", response_metadata=meta)
    return view


class SlackState:
    """A single Slack workspace. Every public method takes ``self.lock``; returns are copies."""

    bot_user_id = BOT_USER_ID
    bot_id = BOT_ID
    team_id = TEAM_ID
    app_id = APP_ID

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.base_url = "http://127.0.0.1:0"
        self._last_us = 0
        self._counter = 0
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._add_user(BOT_USER_ID, "warroom", "Warroom", is_bot=True)
        for user_id, name in SEED_USERS.items():
            self._add_user(user_id, name, name.capitalize())
        for channel_id, name in SEED_CHANNELS.items():
            self._new_channel(name, "U0ALICE", [*SEED_USERS, BOT_USER_ID], False, channel_id)

    # ----------------------------------------------------------------- inspection helpers
    def add_user(self, user_id: str, name: str, real_name: str | None = None) -> None:
        with self.lock:
            self._add_user(user_id, name, real_name or name.capitalize())

    def add_channel(
        self,
        name: str,
        members: Iterable[str] = (),
        is_private: bool = False,
        channel_id: str | None = None,
    ) -> str:
        """Create a channel directly (no events). The bot is a member only if listed."""
        with self.lock:
            self._check_channel_name(name)
            members = list(dict.fromkeys(members))
            for user_id in members:
                self._user(user_id)
            creator = members[0] if members else "U0ALICE"
            return self._new_channel(name, creator, members, is_private, channel_id)["id"]

    def channel(self, channel_id: str) -> dict[str, Any]:
        """Channel summary; ``topic``/``purpose`` are plain strings. KeyError if unknown."""
        with self.lock:
            ch = self._channels[channel_id]
            return {
                "id": ch["id"],
                "name": ch["name"],
                "topic": ch["topic"]["value"],
                "purpose": ch["purpose"]["value"],
                "creator": ch["creator"],
                "members": list(ch["members"]),
                "is_archived": ch["is_archived"],
                "is_private": ch["is_private"],
                "is_im": ch["is_im"],
                "created": ch["created"],
            }

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        with self.lock:
            ch = self._by_name(name.lstrip("#"))
            return self.channel(ch["id"]) if ch else None

    def im_channel(self, user_id: str) -> str | None:
        """The bot's DM channel with ``user_id``, if the bot opened one."""
        with self.lock:
            return next(
                (c["id"] for c in self._channels.values() if c.get("user") == user_id), None
            )

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

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            user = self._users.get(user_id)
            return dict(user) if user else None

    def ephemerals(self, channel_id: str | None = None, user: str | None = None) -> list[dict]:
        with self.lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if channel_id in (None, e["channel"]) and user in (None, e["user"])
            ]

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._views)

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {
                fid: {k: f[k] for k in ("name", "title", "content", "channel")}
                for fid, f in self._files.items()
                if f["completed"]
            }

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event emitted so far, whether or not an ``event_sink`` was set."""
        with self.lock:
            return copy.deepcopy(self._events)

    # ------------------------------------------------------------------ user-side actions
    def user_post(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> str:
        with self.lock:
            ch = self._channels.get(channel_id) or self._raise("channel_not_found")
            self._user(user_id)
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

    def user_react(self, channel_id: str, ts: str, user_id: str, name: str) -> None:
        with self.lock:
            self._user(user_id)
            self._react(
                self._channels.get(channel_id) or self._raise("channel_not_found"),
                ts,
                user_id,
                name,
            )

    def user_pin(self, channel_id: str, ts: str, user_id: str) -> None:
        with self.lock:
            self._user(user_id)
            self._pin(
                self._channels.get(channel_id) or self._raise("channel_not_found"), ts, user_id
            )

    def user_join(self, channel_id: str, user_id: str) -> None:
        with self.lock:
            ch = self._channels.get(channel_id) or self._raise("channel_not_found")
            self._user(user_id)
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

    # --------------------------------------------------------------------- Web API entry
    def call_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one Web API method; returns Slack's JSON body (``ok`` true or false)."""
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self.lock:
            try:
                return {"ok": True, **handler(params)}
            except SlackError as exc:
                return {"ok": False, "error": exc.error, **exc.extra}

    def has_method(self, method: str) -> bool:
        return hasattr(self, "api_" + method.replace(".", "_"))

    def api_auth_test(self, p: dict) -> dict:
        return {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": "warroom",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def api_conversations_create(self, p: dict) -> dict:
        name = str(p.get("name") or "")
        self._check_channel_name(name)
        ch = self._new_channel(name, BOT_USER_ID, [BOT_USER_ID], _bool(p.get("is_private")))
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
        return {
            "messages": [self._api_message(ch, m) for m in page],
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
        return {
            "messages": [self._api_message(ch, m) for m in page],
            "has_more": bool(meta["next_cursor"]),
            "response_metadata": meta,
        }

    def api_chat_postMessage(self, p: dict) -> dict:
        ch = self._writable(p.get("channel"), allow_name=True)
        text, blocks = self._content(p)
        msg = self._add_message(ch, BOT_USER_ID, text or "", blocks or [], p.get("thread_ts"))
        return {"channel": ch["id"], "ts": msg["ts"], "message": self._api_message(ch, msg)}

    def api_chat_update(self, p: dict) -> dict:
        ch = self._find(p.get("channel"), allow_name=True)
        msg = ch["index"].get(str(p.get("ts") or ""))
        if msg is None:
            raise SlackError("message_not_found")
        if msg["user"] != BOT_USER_ID:
            raise SlackError("cant_update_message")
        text, blocks = self._content(p, update=True)
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
        text, blocks = self._content(p)
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

    def api_users_info(self, p: dict) -> dict:
        return {"user": self._api_user(self._user(str(p.get("user") or "")))}

    def api_users_list(self, p: dict) -> dict:
        page, meta = _paginate(list(self._users.values()), p, default_limit=200)
        return {
            "members": [self._api_user(u) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": meta,
        }

    def api_users_lookupByEmail(self, p: dict) -> dict:
        email = str(p.get("email") or "").lower()
        for user in self._users.values():
            if user["email"] == email and not user["is_bot"]:
                return {"user": self._api_user(user)}
        raise SlackError("users_not_found")

    def api_views_open(self, p: dict) -> dict:
        if not p.get("trigger_id"):
            raise SlackError("invalid_trigger_id")
        view = self._store_view(_validate_view(p.get("view")), None)
        return {"view": copy.deepcopy(view)}

    def api_views_push(self, p: dict) -> dict:
        return self.api_views_open(p)

    def api_views_update(self, p: dict) -> dict:
        view_id = p.get("view_id")
        if not view_id and p.get("external_id"):
            view_id = next(
                (v["id"] for v in self._views.values() if v["external_id"] == p["external_id"]),
                None,
            )
        old = self._views.get(str(view_id or ""))
        if old is None:
            raise SlackError("not_found")
        if p.get("hash") and p["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        view = self._store_view(_validate_view(p.get("view")), old)
        return {"view": copy.deepcopy(view)}

    def api_files_getUploadURLExternal(self, p: dict) -> dict:
        length = _int(p.get("length"), -1)
        if not p.get("filename") or length < 0:
            raise SlackError("invalid_arguments")
        file_id = self._next_id("F")
        self._files[file_id] = {
            "name": str(p["filename"]),
            "title": str(p["filename"]),
            "content": b"",
            "channel": None,
            "length": length,
            "completed": False,
            "created": int(time.time()),
        }
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def api_files_completeUploadExternal(self, p: dict) -> dict:
        items = _json_value(p.get("files"), "invalid_arguments")
        if not isinstance(items, list) or not items:
            raise SlackError("invalid_arguments")
        ids = [str(i.get("id")) if isinstance(i, dict) else "" for i in items]
        if any(i not in self._files or self._files[i]["completed"] for i in ids):
            raise SlackError("file_not_found")
        channel_ref = p.get("channel_id") or (_id_list(p.get("channels")) or [None])[0]
        ch = self._writable(channel_ref) if channel_ref else None
        for item, file_id in zip(items, ids, strict=True):
            f = self._files[file_id]
            f.update(completed=True, title=str(item.get("title") or f["name"]))
            f["channel"] = ch["id"] if ch else None
        objs = [self._api_file(i) for i in ids]
        if ch is not None:
            text = str(p.get("initial_comment") or "")
            self._add_message(ch, BOT_USER_ID, text, [], p.get("thread_ts"), files=objs)
        return {"files": copy.deepcopy(objs)}

    # ------------------------------------------------------------- wire-only entry points
    def receive_upload(self, file_id: str, data: bytes) -> bool:
        with self.lock:
            f = self._files.get(file_id)
            if f is None or f["completed"]:
                return False
            f["content"] = data
            return True

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
                text, blocks = self._content(body)
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
                return 400, exc.error
            return 200, "ok"

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
        """Poll ``predicate`` until true (for bots that finish work after acking)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    # ------------------------------------------------------------------------ internals
    def _emit(self, event: dict[str, Any]) -> None:
        """Record an event; ``SlackStandIn`` extends this to deliver it to ``event_sink``."""
        self._events.append(copy.deepcopy(event))

    def _emit_in(self, ch: dict[str, Any], event: dict[str, Any]) -> None:
        # Slack only sends events for conversations the app is a member of.
        if BOT_USER_ID in ch["members"]:
            self._emit(event)

    @staticmethod
    def _raise(error: str) -> Any:
        raise SlackError(error)

    def _next_ts(self) -> str:
        # Slack ts: "seconds.micros", unique and increasing per workspace in this model.
        self._last_us = max(int(time.time() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        # Letters in the ID matter: callers tell IDs from names with checks like str.isupper().
        return f"{prefix}0SBX{self._counter:06d}"

    def _add_user(self, user_id: str, name: str, real_name: str, is_bot: bool = False) -> None:
        email = "" if is_bot else f"{name}@{TEAM_DOMAIN}.example"
        self._users[user_id] = {
            "id": user_id,
            "name": name,
            "real_name": real_name,
            "is_bot": is_bot,
            "email": email.lower(),
        }

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self._users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def _by_name(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self._channels.values() if c["name"] == name and name), None)

    def _check_channel_name(self, name: str) -> None:
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _NAME_RE.fullmatch(name):
            raise SlackError("invalid_name_specials")
        if not name.strip("-_"):
            raise SlackError("invalid_name_punctuation")
        if self._by_name(name):
            raise SlackError("name_taken")

    def _new_channel(
        self,
        name: str,
        creator: str,
        members: list[str],
        is_private: bool,
        channel_id: str | None = None,
        im_user: str | None = None,
    ) -> dict[str, Any]:
        channel_id = channel_id or self._next_id("D" if im_user else "C")
        if channel_id in self._channels:
            raise SlackError("name_taken")
        now = int(time.time())
        ch = {
            "id": channel_id,
            "name": name,
            "is_private": is_private,
            "is_im": im_user is not None,
            "user": im_user,
            "created": now,
            "creator": creator,
            "is_archived": False,
            "members": list(members),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "messages": [],
            "index": {},
            "pins": {},
        }
        self._channels[channel_id] = ch
        return ch

    def _im(self, user_id: str) -> dict[str, Any]:
        existing = self.im_channel(user_id)
        if existing:
            return self._channels[existing]
        return self._new_channel("", BOT_USER_ID, [BOT_USER_ID, user_id], True, im_user=user_id)

    def _find(self, ref: Any, allow_name: bool = False) -> dict[str, Any]:
        ref = str(ref or "")
        ch = self._channels.get(ref)
        if ch is None and allow_name:
            ch = self._by_name(ref.lstrip("#"))
            if ch is None and ref in self._users and ref != BOT_USER_ID:
                ch = self._im(ref)  # posting to a user ID opens the app's DM, as on Slack
        # Private conversations the bot is not in are invisible to it.
        if ch is None or (ch["is_private"] and BOT_USER_ID not in ch["members"]):
            raise SlackError("channel_not_found")
        return ch

    def _require_member(self, ch: dict[str, Any]) -> None:
        if BOT_USER_ID not in ch["members"]:
            raise SlackError("not_in_channel")

    def _writable(self, ref: Any, allow_name: bool = False) -> dict[str, Any]:
        ch = self._find(ref, allow_name)
        if ch["is_archived"]:
            raise SlackError("is_archived")
        self._require_member(ch)
        return ch

    def _set_text_field(self, p: dict, field: str, limit: int) -> dict:
        ch = self._writable(p.get("channel"))
        value = str(p.get(field) or "")
        if len(value) > limit:
            raise SlackError("too_long")
        ch[field] = {"value": value, "creator": BOT_USER_ID, "last_set": int(time.time())}
        return {"channel": self._api_channel(ch)}

    def _join(self, ch: dict[str, Any], user_id: str, inviter: str | None) -> None:
        ch["members"].append(user_id)
        event = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": ch["id"],
            "channel_type": "G" if ch["is_private"] else "C",
            "team": TEAM_ID,
            "event_ts": self._next_ts(),
        }
        if inviter:
            event["inviter"] = inviter
        self._emit_in(ch, event)

    def _content(self, p: dict, update: bool = False) -> tuple[str | None, list | None]:
        text = p.get("text")
        blocks = _parse_blocks(p["blocks"]) if p.get("blocks") not in (None, "") else None
        # chat.update may clear blocks with an explicit empty list; posts need some content.
        if not text and not blocks and not p.get("attachments") and not (update and blocks == []):
            raise SlackError("no_text")
        if text is not None and len(str(text)) > 40000:
            raise SlackError("msg_too_long")
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

    def _store_view(self, view: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        view_id = old["id"] if old else self._next_id("V")
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "root_view_id": old["root_view_id"] if old else view_id,
            "previous_view_id": old["previous_view_id"] if old else None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        self._views[view_id] = stored
        return stored

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

    def _api_message(self, ch: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
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
        return copy.deepcopy(out)

    def _api_user(self, u: dict[str, Any]) -> dict[str, Any]:
        profile = {
            "real_name": u["real_name"],
            "real_name_normalized": u["real_name"],
            "display_name": u["name"],
            "display_name_normalized": u["name"],
            "team": TEAM_ID,
        }
        if u["is_bot"]:
            profile["bot_id"] = BOT_ID
        else:
            profile["email"] = u["email"]
        return {
            "id": u["id"],
            "team_id": TEAM_ID,
            "name": u["name"],
            "deleted": False,
            "real_name": u["real_name"],
            "tz": "Etc/UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": u["is_bot"],
            "is_app_user": False,
            "profile": profile,
        }

    def _api_file(self, file_id: str) -> dict[str, Any]:
        f = self._files[file_id]
        mimetype = mimetypes.guess_type(f["name"])[0] or "application/octet-stream"
        return {
            "id": file_id,
            "created": f["created"],
            "timestamp": f["created"],
            "name": f["name"],
            "title": f["title"],
            "mimetype": mimetype,
            "filetype": f["name"].rsplit(".", 1)[-1] if "." in f["name"] else "binary",
            "user": BOT_USER_ID,
            "size": len(f["content"]),
            "mode": "hosted",
            "is_external": False,
            "url_private": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{file_id}/{f['name']}",
            "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{file_id}/{f['name']}",
            "channels": [f["channel"]] if f["channel"] else [],
        }
