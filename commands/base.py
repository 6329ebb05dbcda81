"""What every handler receives and returns, whatever transport the request came by."""

from __future__ import annotations

import re
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


# C0 controls but tab and newlines, DEL, and lone surrogates: no message carries them on purpose,
# and PostgreSQL cannot store NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def control_character(text: str) -> str | None:
    """The first character Warroom refuses in `text`, as `U+0000`; None if there is none."""
    m = _CONTROL.search(text)
    return f"U+{ord(m.group()):04X}" if m else None


def control_refusal(char: str) -> str:
    return (
        f"The text has an invisible control character ({char}) that Warroom cannot store. "
        "Retype it without that character (pasting from a terminal often adds one)."
    )


def strip_controls(text: str) -> str:
    """Someone else's text (a message declared from): drop what cannot be stored."""
    return _CONTROL.sub("", text)
