"""The status-page kind: what the core asks of any status page product.

Calls return the product's id for the incident; a refusal raises `bot.paging.base.PageError`
(the same wire errors: `retry` for throttling and outages, not for a bad key or input)."""

from __future__ import annotations

from typing import Literal, Protocol

Status = Literal["investigating", "identified", "monitoring", "resolved"]
ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]


class StatusPage(Protocol):
    def open(self, name: str, status: Status, body: str, components: dict[str, str]) -> str: ...
    def update(
        self, incident_id: str, status: Status, body: str, components: dict[str, str]
    ) -> str: ...
