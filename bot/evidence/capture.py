"""Edits and deletions in a war room, captured onto its timeline with what was said before:
the record of what was said cannot be quietly rewritten."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bot import mrkdwn
from bot.incident import service, timeline

log = logging.getLogger(__name__)


def edit_or_deletion(rt: Any, event_id: str, event: dict[str, Any]) -> bool:
    """Put one `message_changed` or `message_deleted` event on its war room's timeline, once."""
    deleted = event.get("subtype") == "message_deleted"
    before = event.get("previous_message") or {}
    after = event.get("message") or {}
    ts = str(event.get("deleted_ts") or after.get("ts") or before.get("ts") or "")
    author = after.get("user") or before.get("user")
    if not ts or before.get("bot_id") or after.get("bot_id") or author == rt.chat.bot_user_id:
        return False  # the bot's own posts (alerts, checklists) are edited by design
    when = str(event.get("event_ts") or event.get("ts") or ts)
    previous = mrkdwn.from_slack(before.get("text", ""))
    with rt.db.session() as s:
        if event_id and not service.claim_event(s, event_id, rt.now()):
            return False
        inc = service.by_channel(s, str(event.get("channel") or ""))
        if inc is None:
            return False
        if deleted:
            kind, text, data = (
                "message_deleted",
                f"Message deleted (it said: {previous})",
                {"ts": ts, "author": author, "previous_text": previous},
            )
        else:
            edited_by = (after.get("edited") or {}).get("user") or author
            new = mrkdwn.from_slack(after.get("text", ""))
            kind, text, data = (
                "message_edited",
                f"Message edited: {new} (it said: {previous})",
                {
                    "ts": ts,
                    "author": author,
                    "by": edited_by,
                    "previous_text": previous,
                    "text": new,
                },
            )
        captured = timeline.capture_once(
            s,
            inc,
            source_key=f"{kind[8:]}:{ts}:{when}"[:80],
            kind=kind,
            at=datetime.fromtimestamp(float(when), UTC),
            recorded_at=rt.now(),
            actor=author,
            text=text,
            data=data,
        )
    if captured and not inc.private:
        log.info("war room %s: %s %s captured", inc.number, kind, ts)
    return captured
