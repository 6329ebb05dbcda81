"""Approved actions whose run died with its process: how each is settled (a change is checked
against the far end, a read-only action runs once more), and the sweep every `serve` runs."""

from __future__ import annotations

import logging
import threading

from bot.approvals import recovery
from bot.approvals.recovery import Handling
from bot.runtime import Runtime
from commands.actions.registry import ACTIONS, load

log = logging.getLogger(__name__)
SWEEP_SECONDS = 5.0


def handling(rt: Runtime):
    from commands.run import execute  # the same runner a click starts

    def how(name: str) -> Handling | None:
        action = ACTIONS.get(name)
        if action is None:
            return None
        if action.mutating:
            check = action.check
            if check is None:
                return Handling(action.kind, None, None)
            return Handling(
                action.kind, lambda req: check(rt.targets, req), None, action.again is not None
            )
        return Handling(action.kind, None, lambda req: execute(rt, req, action))

    return how


def sweep(rt: Runtime) -> int:
    load()
    return recovery.sweep(rt, handling(rt))


def watch(rt: Runtime, every: float = SWEEP_SECONDS) -> threading.Event:
    """Sweep now and every `every` seconds, on a thread of its own; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                n = sweep(rt)
                if n:
                    log.info("settled %d interrupted action run(s)", n)
            except Exception:
                log.exception("looking for interrupted action runs failed; will look again")
            if stop.wait(every):
                return

    threading.Thread(target=loop, name="interrupted-actions", daemon=True).start()
    return stop
