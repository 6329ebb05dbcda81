"""The chat port over slack_sdk's WebClient, with retries for rate limits and lost connections."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from bot.chat import Blocks, ChatError, Metadata
from bot.slack.keepalive import KeepAliveWebClient

log = logging.getLogger(__name__)


RATE_LIMIT_PATIENCE = 600.0  # seconds one call may wait out 429s: a Tier 2 burst of 100 drains in 5


class RateLimitRetry(RetryHandler):
    """Retries a 429 after its ``Retry-After`` (plus jitter, so waiting callers spread out) for as
    long as the call's deadline allows, however many answers that takes.

    A burst of declarations meets Tier 2's 20 a minute: each waiting call must get its turn, not
    give up after three tries. Calls run after the acknowledgement (setup, effects and fan-out
    pools), so the wait holds no request of Slack's open.
    """

    def __init__(self, patience: float = RATE_LIMIT_PATIENCE) -> None:
        super().__init__(max_retry_count=1_000_000)
        self.patience = patience

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        values = state.custom_values = state.custom_values or {}
        deadline = values.setdefault("rate_limit_deadline", time.monotonic() + self.patience)
        return time.monotonic() + _retry_after(response) <= deadline

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        assert response is not None
        state.next_attempt_requested = True
        time.sleep(_retry_after(response) + random.random())
        # current_attempt is not counted up: it is shared with the connection-error handler,
        # whose two retries must stay available however long the rate limit lasted.


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                break
    return 1.0


def make_client(token: str, base_url: str) -> WebClient:
    client = KeepAliveWebClient(token=token, base_url=base_url, timeout=10)
    # slack_sdk retries only connection errors by default; 429s must honour Retry-After.
    client.retry_handlers = [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitRetry()]
    return client


class SlackChat:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._bot_user_id: str | None = None
        self._channels: dict[str, str] = {}
        self._groups: dict[str, tuple[float, set[str]]] = {}
        self._names: dict[str, str] = {}
        self.observer: Callable[[str, str], None] | None = None  # (method, "ok" | error code)
        self._lock = threading.Lock()

    @property
    def bot_user_id(self) -> str:
        if self._bot_user_id is None:
            self._bot_user_id = self._call("auth_test")["user_id"]
        return self._bot_user_id

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            result = getattr(self.client, method)(**kwargs)
        except SlackApiError as e:
            code = e.response.get("error", "") if e.response is not None else ""
            err = ChatError(method, code or f"http_{e.response.status_code}")
        except OSError as e:  # the connection failed even after retries
            err = ChatError(method, f"unreachable ({e.__class__.__name__})")
        else:
            self._observe(method, "ok")
            return result
        self._observe(method, err.code)
        raise err

    def _observe(self, method: str, outcome: str) -> None:
        if self.observer is not None:
            self.observer(method.replace("_", ".", 1), outcome.split(" ")[0])

    def create_channel(self, name: str, private: bool = False) -> str:
        return self._call("conversations_create", name=name, is_private=private)["channel"]["id"]

    def find_channel(self, name: str) -> dict[str, Any] | None:
        cursor = None
        while True:
            page = self._call(
                "conversations_list",
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=1000,
                cursor=cursor,
            )
            for ch in page["channels"]:
                if ch["name"] == name:
                    return ch
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    def channel_id(self, name_or_id: str) -> str:
        key = name_or_id.lstrip("#")
        if key[:1] in ("C", "G") and key.isalnum() and key == key.upper():
            return key
        with self._lock:
            if key in self._channels:
                return self._channels[key]
        ch = self.find_channel(key)
        if ch is None:
            raise ChatError("conversations.list", f"channel_not_found ({key})")
        with self._lock:
            self._channels[key] = ch["id"]
        return ch["id"]

    def set_topic(self, channel: str, topic: str) -> None:
        self._call("conversations_setTopic", channel=channel, topic=topic[:250])

    def set_purpose(self, channel: str, purpose: str) -> None:
        self._call("conversations_setPurpose", channel=channel, purpose=purpose[:250])

    def invite(self, channel: str, users: list[str]) -> None:
        users = [u for u in dict.fromkeys(users) if u and u != self.bot_user_id]
        for i in range(0, len(users), 1000):
            try:
                # force: one unknown id must not keep everyone else out of the war room
                self._call(
                    "conversations_invite", channel=channel, users=users[i : i + 1000], force=True
                )
            except ChatError as e:
                if e.code != "already_in_channel":
                    raise

    def post(
        self,
        channel: str,
        text: str,
        blocks: Blocks | None = None,
        thread_ts: str | None = None,
        metadata: Metadata | None = None,
    ) -> str:
        kwargs = {
            "channel": channel,
            "text": text,
            "blocks": blocks,
            "thread_ts": thread_ts,
            "unfurl_links": False,
            "metadata": metadata,
        }
        try:
            return self._call("chat_postMessage", **kwargs)["ts"]
        except ChatError as e:
            if e.code != "not_in_channel":
                raise
        self._call("conversations_join", channel=channel)
        return self._call("chat_postMessage", **kwargs)["ts"]

    def marked(self, channel: str, event_type: str, oldest: float) -> list[tuple[str, Metadata]]:
        found: list[tuple[str, Metadata]] = []
        cursor = None
        while True:
            page = self._call(
                "conversations_history",
                channel=channel,
                oldest=f"{max(oldest, 0):.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for m in page.get("messages", []):
                meta = m.get("metadata") or {}
                # Only our own posts: another app could post the same event_type.
                if m.get("user") == self.bot_user_id and meta.get("event_type") == event_type:
                    found.append((m["ts"], meta.get("event_payload") or {}))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    def update(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        self._call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks)

    def pin(self, channel: str, ts: str) -> None:
        try:
            self._call("pins_add", channel=channel, timestamp=ts)
        except ChatError as e:
            if e.code != "already_pinned":
                raise

    def ephemeral(self, channel: str, user: str, text: str, blocks: Blocks | None = None) -> None:
        self._call("chat_postEphemeral", channel=channel, user=user, text=text, blocks=blocks)

    def respond(self, response_url: str, text: str, blocks: Blocks | None = None) -> None:
        resp = WebhookClient(response_url, timeout=10).send(
            text=text, blocks=blocks, response_type="ephemeral"
        )
        if resp.status_code != 200:
            raise ChatError("response_url", f"http_{resp.status_code}: {resp.body[:100]}")

    def upload(
        self,
        channel: str,
        filename: str,
        content: str | bytes,
        title: str,
        comment: str,
        thread_ts: str | None = None,
    ) -> None:
        # files.upload is gone: slack_sdk's v2 does getUploadURLExternal + completeUploadExternal
        self._call(
            "files_upload_v2",
            channel=channel,
            filename=filename,
            content=content,
            title=title,
            initial_comment=comment,
            thread_ts=thread_ts,
        )

    def user_name(self, user_id: str | None) -> str:
        """A person's display name for documents (mentions do not render in files)."""
        if not user_id:
            return "—"
        with self._lock:
            if user_id in self._names:
                return self._names[user_id]
        try:
            u = self._call("users_info", user=user_id)["user"]
            p = u.get("profile") or {}
            name = p.get("display_name") or u.get("real_name") or u.get("name") or user_id
        except ChatError:
            name = user_id
        with self._lock:
            self._names[user_id] = f"@{name}"
        return f"@{name}"

    def group_members(self, group_id: str) -> set[str]:
        """Members of a user group, cached for a minute (approver checks on every click)."""
        now = time.monotonic()
        with self._lock:
            hit = self._groups.get(group_id)
            if hit and now - hit[0] < 60:
                return hit[1]
        members = set(self._call("usergroups_users_list", usergroup=group_id)["users"])
        with self._lock:
            self._groups[group_id] = (now, members)
        return members

    def archive(self, channel: str) -> None:
        try:
            self._call("conversations_archive", channel=channel)
        except ChatError as e:
            if e.code != "already_archived":
                raise

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        page = self._call(
            "conversations_history", channel=channel, latest=ts, inclusive=True, limit=1
        )
        for m in page.get("messages", []):
            if m.get("ts") == ts:
                return m
        return None

    def history(
        self, channel: str, cursor: str | None = None, thread_ts: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        if thread_ts:
            page = self._call(
                "conversations_replies", channel=channel, ts=thread_ts, limit=200, cursor=cursor
            )
        else:
            page = self._call("conversations_history", channel=channel, limit=200, cursor=cursor)
        nxt = (page.get("response_metadata") or {}).get("next_cursor") or None
        return list(page.get("messages", [])), nxt

    def permalink(self, channel: str, ts: str) -> str:
        return self._call("chat_getPermalink", channel=channel, message_ts=ts)["permalink"]

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views_open", trigger_id=trigger_id, view=json.dumps(view))
