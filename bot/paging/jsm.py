"""Jira Service Management Operations alerts (the successor of Opsgenie's alert API).

Its integration events API: create with an `alias` (the dedup key), then acknowledge and close
by that alias (`identifierType=alias`), authenticated with the API integration's key
(`Authorization: GenieKey <key>`). Requests are asynchronous: 202 with a `requestId`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.paging.base import Severity
from bot.paging.wire import call, refused

PRIORITY = {"critical": "P1", "error": "P2", "warning": "P3", "info": "P5"}
MAX_MESSAGE = 130  # characters, per the API
MAX_ALIAS = 512


class JiraServiceManagement:
    def __init__(self, url: str, api_key: str, timeout: float = 10) -> None:
        self.url = url.rstrip("/")  # …/jsm/ops/integration/v2
        self._key = api_key
        self.timeout = timeout

    def _post(self, path: str, body: dict[str, Any], what: str) -> str:
        a = call(
            "POST", self.url + path, body, {"Authorization": f"GenieKey {self._key}"}, self.timeout
        )
        if a.status == 202 and isinstance(a.body, dict):
            return (
                f"Jira Service Management: {what} accepted (request {a.body.get('requestId', '?')})"
            )
        detail = ""
        if isinstance(a.body, dict):
            detail = str(a.body.get("message") or "")
            if isinstance(a.body.get("errors"), dict):
                detail += " " + "; ".join(f"{k}: {v}" for k, v in a.body["errors"].items())
        raise refused("Jira Service Management", a, detail.strip() or "no reason given")

    def trigger(self, key: str, summary: str, severity: Severity, details: dict[str, Any]) -> str:
        body = {
            "message": summary[:MAX_MESSAGE],
            "alias": key[:MAX_ALIAS],
            "description": str(details.get("description", ""))[:15000],
            "priority": PRIORITY[severity],
            "source": "Warroom",
            "entity": str(details.get("service") or "incident"),
            "details": {k: str(v) for k, v in details.items() if k != "description"},
        }
        return self._post("/alerts", body, "alert")

    def acknowledge(self, key: str) -> str:
        path = f"/alerts/{quote(key, safe='')}/acknowledge?identifierType=alias"
        return self._post(path, {"source": "Warroom"}, "acknowledgement")

    def resolve(self, key: str) -> str:
        path = f"/alerts/{quote(key, safe='')}/close?identifierType=alias"
        return self._post(path, {"source": "Warroom"}, "close")
