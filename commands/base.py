"""What every handler receives and returns, whatever transport the request came by."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import mrkdwn
from bot.errors import UserError


@dataclass
class Request:
    user_id: str
    team_id: str = ""
    channel_id: str = ""
    user_name: str = ""
    response_url: str | None = None
    trigger_id: str | None = None
    message_ts: str | None = None  # the message a button was clicked in


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    # Work for after the acknowledgement (Slack calls); the transport runs these off-thread.
    after: list[Callable[[], Any]] = field(default_factory=list)
    outcome: str = "ok"  # ok | refused (bad input, said so) | error (our fault); for metrics


def ok(text: str, *after: Callable[[], Any]) -> Reply:
    return Reply(text=text, after=list(after))


def parse_user(token: str, usage: str) -> str:
    """A Slack mention `<@U123|name>` as sent with escaping on; a bare `@name` is not resolvable."""
    user = mrkdwn.user_id(token)
    if user is None:
        raise UserError(
            f"`{token}` is not a user mention. Pick the person from Slack's @ menu: {usage}"
        )
    return user
