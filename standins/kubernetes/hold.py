"""A request the stand-in holds on its way through, so a test can kill the client at the worst
moment: after the change is stored and before the answer leaves, or before anything is done."""

from __future__ import annotations

import threading


class Hold:
    """A request held on its way through (see ``K8sStandIn.hold``)."""

    def __init__(self, method: str, path: str, applied: bool, timeout: float) -> None:
        self.method, self.path, self.applied, self.timeout = method, path, applied, timeout
        self.reached = threading.Event()  # set when a matching request is being held
        self._go = threading.Event()

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and path.endswith(self.path) and not self.reached.is_set()

    def release(self) -> None:
        self._go.set()

    def wait(self) -> None:
        self.reached.set()
        self._go.wait(self.timeout)
