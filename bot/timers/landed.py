"""A timer's posts, each marked with the timer's identity (Slack message metadata), so a process
taking over a lapsed claim finds in Slack what its dead predecessor already posted and does not
post it again."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.chat import Blocks, mark
from bot.models import Timer
from bot.runtime import Runtime

log = logging.getLogger(__name__)
EVENT_TYPE = "warroom_timer"
# Slack's clock against ours: a post cannot predate its timer's due time by more than this.
SKEW = timedelta(seconds=60)


class TimerPosts:
    """Posts of one firing. With `recheck` (the claim was taken over from a process that did not
    finish), each part is first looked for in the channel's history since the timer fell due."""

    def __init__(self, rt: Runtime, timer: Timer, recheck: bool) -> None:
        self.rt = rt
        self.timer = timer
        self.recheck = recheck
        self.found: list[str] = []  # parts found already posted
        self._landed: dict[str, set[str]] = {}

    def post(self, channel: str, part: str, text: str, blocks: Blocks | None = None) -> None:
        t = self.timer
        if self.recheck and part in self._landed_in(channel):
            log.info("timer %s (%s): %s already in Slack, not posted again", t.id, t.kind, part)
            self.found.append(part)
            return
        meta = mark(EVENT_TYPE, timer=t.id, kind=t.kind, part=part)
        self.rt.chat.post(channel, text, blocks, metadata=meta)

    def _landed_in(self, channel: str) -> set[str]:
        if channel not in self._landed:
            parts: set[str] = set()
            # Only channels: a DM (posted to a user id) cannot be read without im:history.
            if channel[:1] in ("C", "G"):
                oldest = (self.timer.due_at - SKEW).timestamp()
                for _ts, payload in self.rt.chat.marked(channel, EVENT_TYPE, oldest):
                    if payload.get("timer") == self.timer.id:
                        parts.add(str(payload.get("part")))
            self._landed[channel] = parts
        return self._landed[channel]
