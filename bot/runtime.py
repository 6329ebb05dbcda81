"""Everything a handler or flow needs, built once at start and passed in by name."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.chat import Chat
from bot.clock import Clock
from bot.config import Policy, Settings
from bot.db import Database
from bot.metrics import Metrics
from bot.once import Once
from bot.playbooks.library import Library

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    policy: Policy
    db: Database
    chat: Chat
    clock: Clock
    once: Once
    # Slack work after the ack runs here, not on Bolt's 5-thread listener pool.
    effects: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(16, "effects"))
    # Approved actions run here, each under its own timeout, apart from Slack work.
    actions: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "actions"))
    targets: Any = None  # bot.targets.Targets, built from the policy
    metrics: Metrics = field(default_factory=Metrics)
    # Shipped and team playbooks; re-read when a file changes (bot.playbooks.library).
    playbooks: Library = field(default_factory=Library)
    # Independent Slack calls inside one flow run side by side here.
    fanout: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(32, "fanout"))
    # War-room setups, the heaviest effect, run a few at a time: when declarations outrun the
    # process, setups queue here instead of crowding acknowledgements off the CPU.
    setups: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "setup"))

    _pending: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def now(self) -> datetime:
        return self.clock.now()

    def submit(
        self, fn: Callable[..., Any], *args: Any, pool: ThreadPoolExecutor | None = None
    ) -> Future[Any]:
        """Run `fn(*args)` after the acknowledgement, on the effects pool or on `pool`."""

        def run() -> Any:
            try:
                return fn(*args)
            except Exception:
                log.exception("effect %s failed", getattr(fn, "__name__", fn))
                raise
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        with self._idle:
            self._pending += 1
        # Carry the request and incident ids into the effect's log lines.
        return (pool or self.effects).submit(contextvars.copy_context().run, run)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no effect is queued or running (the sandbox and tests use it)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def drain(self) -> None:
        """Finish in-flight effects and accept no more."""
        self.effects.shutdown(wait=True)
        self.setups.shutdown(wait=True)

    def shutdown(self) -> None:
        self.effects.shutdown(wait=True)
        self.setups.shutdown(wait=True)
        self.actions.shutdown(wait=False, cancel_futures=True)
        self.fanout.shutdown(wait=True)
        self.db.dispose()
