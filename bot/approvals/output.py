"""What an action returns: success, a one-line summary, and the full text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Output:
    ok: bool
    summary: str  # one line for the timeline and the request message
    text: str = ""  # the full output (code block or file)
    filename: str = "output.txt"
