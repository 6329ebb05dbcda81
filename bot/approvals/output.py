"""What an action returns: success, a one-line summary, and the full text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Output:
    ok: bool
    summary: str  # one line for the timeline and the request message
    text: str = ""  # the full output (code block or file)
    filename: str = "output.txt"
    buttons: tuple[tuple[str, str, str], ...] = ()  # (label, action_id, value) under the result
    # After a change: follow it (e.g. a rollout), reporting progress; returns (outcome, ok).
    follow: Callable[[Callable[[str], None]], tuple[str, bool]] | None = None
