"""The chat port: what the core asks of Slack, so flows run alike under Bolt, sandbox and tests."""

from __future__ import annotations

from typing import Any, Protocol


class ChatError(Exception):
    """A chat call that failed after retries; `code` is Slack's error code."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"{method}: {code}")
        self.method = method
        self.code = code


Blocks = list[dict[str, Any]]
# Slack message metadata: {"event_type": "warroom_timer", "event_payload": {...}}. It stays with
# the message, so a restarted process can find out whether its post already landed.
Metadata = dict[str, Any]


def mark(event_type: str, **payload: str | int | float | bool) -> Metadata:
    """Metadata naming what a post is (event_type: letters, digits and underscores)."""
    return {"event_type": event_type, "event_payload": payload}


class Chat(Protocol):
    bot_user_id: str

    def create_channel(self, name: str, private: bool = False) -> str: ...
    def find_channel(self, name: str) -> dict[str, Any] | None: ...
    def channel_id(self, name_or_id: str) -> str: ...
    def set_topic(self, channel: str, topic: str) -> None: ...
    def set_purpose(self, channel: str, purpose: str) -> None: ...
    def invite(self, channel: str, users: list[str]) -> None: ...
    def post(
        self,
        channel: str,
        text: str,
        blocks: Blocks | None = None,
        thread_ts: str | None = None,
        metadata: Metadata | None = None,
    ) -> str: ...
    def marked(self, channel: str, event_type: str, oldest: float) -> list[tuple[str, Metadata]]:
        """(ts, event_payload) of the bot's top-level posts in `channel` since `oldest` (epoch
        seconds) whose metadata has `event_type`, newest first."""
        ...

    def update(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None: ...
    def pin(self, channel: str, ts: str) -> None: ...
    def ephemeral(
        self, channel: str, user: str, text: str, blocks: Blocks | None = None
    ) -> None: ...
    def respond(self, response_url: str, text: str, blocks: Blocks | None = None) -> None: ...
    def archive(self, channel: str) -> None: ...
    def group_members(self, group_id: str) -> set[str]: ...
    def user_name(self, user_id: str | None) -> str: ...
    def upload(
        self,
        channel: str,
        filename: str,
        content: str | bytes,
        title: str,
        comment: str,
        thread_ts: str | None = None,
    ) -> None: ...
    def message(self, channel: str, ts: str) -> dict[str, Any] | None: ...
    def history(
        self, channel: str, cursor: str | None = None, thread_ts: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a channel's history (or of a thread's replies) and the next cursor."""
        ...

    def permalink(self, channel: str, ts: str) -> str: ...
    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None: ...
