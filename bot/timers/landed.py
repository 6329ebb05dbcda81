"""A timer's posts, each marked with the timer's identity (Slack message metadata), so a process
taking over a lapsed claim finds in Slack what its dead predecessor already posted and does not
post it again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from datetime import timedelta

from bot.chat import Blocks, mark
from bot.models import Timer
from bot.runtime import Runtime

log = logging.getLogger(__name__)
EVENT_TYPE = "warroom_timer"
# Slack's clock against ours: a post cannot predate its timer's due time by more than this.
SKEW = timedelta(seconds=60)


class Landed:
    """What timers of one batch already posted, read from each channel's history once (the
    incidents channel is shared by every mirrored update): {channel: {timer id: parts}}."""

    def __init__(self, rt: Runtime, timers: Collection[Timer]) -> None:
        self.rt = rt
        due = [t.due_at for t in timers]
        self.oldest = (min(due) - SKEW).timestamp() if due else 0.0
        self._seen: dict[str, dict[int, set[str]]] = {}
        self._lock = threading.Lock()

    def parts(self, channel: str, timer_id: int) -> set[str]:
        with self._lock:  # one read per channel, even when two timers ask at once
            if channel not in self._seen:
                found: dict[int, set[str]] = {}
                # Only channels: a DM (posted to a user id) cannot be read without im:history.
                if channel[:1] in ("C", "G"):
                    for _ts, payload in self.rt.chat.marked(channel, EVENT_TYPE, self.oldest):
                        if isinstance(payload.get("timer"), int):
                            found.setdefault(payload["timer"], set()).add(str(payload.get("part")))
                self._seen[channel] = found
            return self._seen[channel].get(timer_id, set())


class TimerPosts:
    """Posts of one firing. With `landed` (the claim was taken over from a process that did not
    finish), each part is first looked for in the channel's history since the timer fell due."""

    def __init__(self, rt: Runtime, timer: Timer, landed: Landed | None) -> None:
        self.rt = rt
        self.timer = timer
        self.landed = landed
        self.found: list[str] = []  # parts found already posted

    def post(self, channel: str, part: str, text: str, blocks: Blocks | None = None) -> None:
        t = self.timer
        if self.landed is not None and part in self.landed.parts(channel, t.id):
            log.info("timer %s (%s): %s already in Slack, not posted again", t.id, t.kind, part)
            self.found.append(part)
            return
        meta = mark(EVENT_TYPE, timer=t.id, kind=t.kind, part=part)
        self.rt.chat.post(channel, text, blocks, metadata=meta)
