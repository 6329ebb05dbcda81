"""Web API ``auth.test``, ``users.*``, ``views.*`` and ``files.*`` methods as a mixin."""

from __future__ import annotations

import copy
import mimetypes
import secrets
import time
from typing import Any

from standins.slack import blockkit
from standins.slack.message_store import MessageStore
from standins.slack.params import (
    SlackError,
    _id_list,
    _int,
    _json_value,
    _paginate,
)
from standins.slack.store import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    TEAM_NAME,
    WORKSPACE_URL,
)


class UsersViewsFilesMethods(MessageStore):
    """Handlers run under ``self.lock``, taken by ``SlackState.call_method``."""

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

    def api_users_info(self, p: dict) -> dict:
        return {"user": self._api_user(self._user(str(p.get("user") or "")))}

    def api_users_list(self, p: dict) -> dict:
        page, meta = _paginate(list(self._users.values()), p, default_limit=200)
        return {
            "members": [self._api_user(u) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": meta,
        }

    def api_usergroups_users_list(self, p: dict) -> dict:
        group = str(p.get("usergroup") or "")
        if group not in self._usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self._usergroups[group])}

    def api_users_lookupByEmail(self, p: dict) -> dict:
        email = str(p.get("email") or "").lower()
        for user in self._users.values():
            if user["email"] == email and not user["is_bot"]:
                return {"user": self._api_user(user)}
        raise SlackError("users_not_found")

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

    def api_views_open(self, p: dict) -> dict:
        if not p.get("trigger_id"):
            raise SlackError("invalid_trigger_id")
        view = self._store_view(blockkit.view(p.get("view")), None)
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
        view = self._store_view(blockkit.view(p.get("view")), old)
        return {"view": copy.deepcopy(view)}

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

    # Wire-only: the HTTP server hands over the bytes POSTed to an upload_url.
    def receive_upload(self, file_id: str, data: bytes) -> bool:
        with self.lock:
            f = self._files.get(file_id)
            if f is None or f["completed"]:
                return False
            f["content"] = data
            return True

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
