"""New alerts told to their war room at most once per few seconds per incident, summarised.

A storm brings a delivery every second or so per group; a post for each would queue behind
Slack's one message a second per channel and crowd out people. The first delivery after a quiet
spell is told at once; what comes within `EVERY` of a post waits and goes out as one message.
The alerts themselves are on the timeline already (in the delivery's transaction): this is only
the telling, kept in memory, so a process that dies loses at most a few seconds of summaries.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.alerts import messages
from bot.alerts.models import Alert
from bot.models import Incident
from bot.runtime import Runtime

log = logging.getLogger(__name__)
EVERY = 5.0  # seconds between two alert posts to one war room


@dataclass
class _Room:
    ids: list[int] = field(default_factory=list)
    last: float = float("-inf")  # monotonic time of the last post
    due: bool = False  # a post is scheduled


class Digest:
    def __init__(self, rt: Runtime) -> None:
        self._rt = weakref.ref(rt)  # the registry below must not keep a runtime alive
        self._lock = threading.Lock()
        self._rooms: dict[int, _Room] = {}

    def add(self, incident_id: int, alert_ids: list[int]) -> None:
        with self._lock:
            room = self._rooms.setdefault(incident_id, _Room())
            room.ids.extend(alert_ids)
            if room.due:
                return  # the scheduled post will carry these too
            room.due = True
            wait = room.last + EVERY - time.monotonic()
        if wait <= 0:
            self._later(incident_id)
        else:
            timer = threading.Timer(wait, self._later, (incident_id,))
            timer.daemon = True
            timer.start()

    def _later(self, incident_id: int) -> None:
        rt = self._rt()
        try:
            if rt is not None:
                rt.submit(self.flush, rt, incident_id)
        except RuntimeError:  # shutting down: the alerts are on the timeline
            log.info("not telling incident %s of new alerts: shutting down", incident_id)

    def flush(self, rt: Runtime, incident_id: int) -> None:
        with self._lock:
            room = self._rooms[incident_id]
            ids, room.ids, room.due, room.last = room.ids, [], False, time.monotonic()
        tell_war_room(rt, incident_id, ids)


_digests: dict[int, Digest] = {}  # by id(runtime); dropped when the runtime is
_made = threading.Lock()


def add(rt: Runtime, incident_id: int, alert_ids: list[int]) -> None:
    with _made:
        d = _digests.get(id(rt))
        if d is None or d._rt() is not rt:
            d = _digests[id(rt)] = Digest(rt)
            weakref.finalize(rt, _digests.pop, id(rt), None)
    d.add(incident_id, alert_ids)


def tell_war_room(rt: Runtime, incident_id: int, alert_ids: list[int]) -> None:
    with rt.db.read() as s:
        channel = s.scalar(select(Incident.channel_id).where(Incident.id == incident_id))
        alerts = list(s.scalars(select(Alert).where(Alert.id.in_(alert_ids)).order_by(Alert.id)))
    if not channel or not alerts:
        return  # the war room is being set up; its pinned alert carries the first alert
    text, blocks = messages.new_alerts(alerts)
    rt.chat.post(channel, text, blocks)
