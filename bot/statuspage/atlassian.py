"""Atlassian Statuspage REST API v1: incidents on one page, `Authorization: OAuth <key>`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.paging.base import PageError
from bot.paging.wire import Answer, call, refused
from bot.statuspage.base import Status


class AtlassianStatuspage:
    def __init__(self, url: str, page_id: str, api_key: str, timeout: float = 10) -> None:
        self.base = f"{url.rstrip('/')}/pages/{quote(page_id, safe='')}/incidents"
        self._key = api_key
        self.timeout = timeout

    def _send(self, method: str, url: str, incident: dict[str, Any]) -> str:
        a = call(
            method,
            url,
            {"incident": incident},
            {"Authorization": f"OAuth {self._key}"},
            self.timeout,
        )
        if a.status in (200, 201) and isinstance(a.body, dict) and a.body.get("id"):
            return str(a.body["id"])
        raise refused("Statuspage", a, _error(a))

    def open(self, name: str, status: Status, body: str, components: dict[str, str]) -> str:
        incident: dict[str, Any] = {
            "name": name,
            "status": status,
            "body": body,
            "deliver_notifications": True,
        }
        if components:
            incident["components"] = components
            incident["component_ids"] = list(components)
        return self._send("POST", self.base, incident)

    def update(
        self, incident_id: str, status: Status, body: str, components: dict[str, str]
    ) -> str:
        incident: dict[str, Any] = {"status": status, "body": body, "deliver_notifications": True}
        if components:
            incident["components"] = components
            incident["component_ids"] = list(components)
        return self._send("PATCH", f"{self.base}/{quote(incident_id, safe='')}", incident)


def _error(a: Answer) -> str:
    if isinstance(a.body, dict):
        e = a.body.get("error") or a.body.get("message")
        return "; ".join(map(str, e)) if isinstance(e, list) else str(e or "no reason given")
    return "no reason given"


__all__ = ["AtlassianStatuspage", "PageError"]
