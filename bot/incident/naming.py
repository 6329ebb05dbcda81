"""War-room channel names under Slack's rules: lowercase, digits, '-' and '_', at most 80."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MAX_CHANNEL = 80
MAX_SLUG = 40
_NON_WORD = re.compile(r"[^a-z0-9]+")
_MENTION = re.compile(r"<[@#][A-Z0-9]+>")  # a user or channel id says nothing about the incident


def slugify(title: str, limit: int = MAX_SLUG) -> str:
    """ASCII slug of a title; '' when nothing Latin survives (emoji, CJK)."""
    folded = (
        unicodedata.normalize("NFKD", _MENTION.sub(" ", title))
        .encode("ascii", "ignore")
        .decode()
        .lower()
    )
    slug = _NON_WORD.sub("-", folded).strip("-")
    if len(slug) > limit:
        cut = slug[:limit]
        # Prefer to cut at a word boundary when one is reasonably near the end.
        slug = cut.rsplit("-", 1)[0] if "-" in cut[limit // 2 :] else cut
    return slug.strip("-")


def channel_name(prefix: str, day: date, seq: int, slug: str, suffix: int = 0) -> str:
    base = f"{prefix}-{day.isoformat()}-{seq:03d}"
    tail = f"-{suffix}" if suffix else ""
    if slug:
        room = MAX_CHANNEL - len(base) - len(tail) - 1
        slug = slug[:room].rstrip("-")
        if slug:
            return f"{base}-{slug}{tail}"
    return f"{base}{tail}"
