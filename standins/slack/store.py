"""Core workspace state: ids, timestamps, users, channels, events and inspection helpers.

Web API method families and user-side actions extend ``SlackStore`` as mixins.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from standins.slack.params import SlackError

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


class SlackStore:
    """All workspace state and the primitives on channels and users; no Web API methods."""

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
        self._usergroups: dict[str, list[str]] = {}
        self._warnings: list[str] = []
        self._add_user(BOT_USER_ID, "warroom", "Warroom", is_bot=True)
        for user_id, name in SEED_USERS.items():
            self._add_user(user_id, name, name.capitalize())
        for channel_id, name in SEED_CHANNELS.items():
            self._new_channel(name, "U0ALICE", [*SEED_USERS, BOT_USER_ID], False, channel_id)

    # ----------------------------------------------------------------- inspection helpers
    def add_user(self, user_id: str, name: str, real_name: str | None = None) -> None:
        with self.lock:
            self._add_user(user_id, name, real_name or name.capitalize())

    def add_usergroup(self, group_id: str, members: Iterable[str]) -> None:
        """A user group (S…) for approver policies; usergroups.users.list answers from it."""
        with self.lock:
            self._usergroups[group_id] = list(members)

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

    @property
    def warnings(self) -> list[str]:
        """What Slack accepts but flags: messages with blocks and no ``text`` fallback (which
        notifications and screen readers show), as ``"<method>: <what> in <channel>"``."""
        with self.lock:
            return list(self._warnings)

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
