"""In-memory Slack workspace (users, channels, messages, views, files) and Web API method logic.

Pure Python with no HTTP: ``slack_api.SlackStandIn`` serves it over the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from standins.slack.conversations import ConversationsMethods
from standins.slack.messages import MessageMethods
from standins.slack.params import SlackError
from standins.slack.store import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    SEED_CHANNELS,
    SEED_USERS,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    WORKSPACE_URL,
)
from standins.slack.user_actions import UserActions
from standins.slack.users_views_files import UsersViewsFilesMethods

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "SEED_CHANNELS",
    "SEED_USERS",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "WORKSPACE_URL",
    "SlackError",
    "SlackState",
]


class SlackState(ConversationsMethods, MessageMethods, UsersViewsFilesMethods, UserActions):
    """A single Slack workspace. Every public method takes ``self.lock``; returns are copies."""

    # Called with (method, params, answer) after a call succeeded and its effect is stored, before
    # the answer is sent: a test may hold it there and kill the caller, so the effect landed in
    # Slack but the caller never learned of it (a crash between a post and its record).
    after_call: Callable[[str, dict[str, Any], dict[str, Any]], None] | None = None

    # --------------------------------------------------------------------- Web API entry
    def call_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run one Web API method; returns Slack's JSON body (``ok`` true or false)."""
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self.lock:
            try:
                result = {"ok": True, **handler(params)}
            except SlackError as exc:
                return {"ok": False, "error": exc.error, **exc.extra}
        hook = self.after_call
        if hook is not None:
            hook(method, params, result)  # outside the lock: it may hold this answer back
        return result

    def has_method(self, method: str) -> bool:
        return hasattr(self, "api_" + method.replace(".", "_"))
