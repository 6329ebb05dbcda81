"""The on-call kind: what the core asks of any paging product. Adapters raise PageError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Severity = Literal["critical", "error", "warning", "info"]
# From the incident's severity (P0 … P3) to the paging products' scale.
SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}


@dataclass
class PageError(Exception):
    """A page the product did not take. `retry`: try again later (after `retry_after` seconds
    when the product said so); otherwise it will never be taken as sent (bad key, bad input)."""

    reason: str
    retry: bool
    status: int = 0
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.reason


class OnCall(Protocol):
    """One paging product, reached with one target's key. Each call returns the product's
    answer in a few words (for the timeline) or raises PageError."""

    def trigger(
        self, key: str, summary: str, severity: Severity, details: dict[str, Any]
    ) -> str: ...
    def acknowledge(self, key: str) -> str: ...
    def resolve(self, key: str) -> str: ...
