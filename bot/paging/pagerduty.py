"""PagerDuty Events API v2: `POST /v2/enqueue` with trigger, acknowledge and resolve.

The routing key is the integration key; the dedup key groups the three actions on one alert.
"""

from __future__ import annotations

from typing import Any

from bot.paging.base import PageError, Severity
from bot.paging.wire import call, refused

MAX_SUMMARY = 1024  # characters, per the API


class PagerDuty:
    def __init__(self, url: str, routing_key: str, timeout: float = 10) -> None:
        self.url = url
        self._key = routing_key
        self.timeout = timeout

    def _send(self, action: str, dedup_key: str, payload: dict[str, Any] | None = None) -> str:
        body: dict[str, Any] = {
            "routing_key": self._key,
            "event_action": action,
            "dedup_key": dedup_key,
        }
        if payload is not None:
            body["payload"] = payload
            body["client"] = "Warroom"
        a = call("POST", self.url, body, {}, self.timeout)
        if a.status == 202 and isinstance(a.body, dict) and a.body.get("status") == "success":
            return f"PagerDuty: {a.body.get('message', 'Event processed')}"
        errors = a.body.get("errors") if isinstance(a.body, dict) else None
        detail = "; ".join(str(e) for e in errors or []) or "no reason given"
        if a.status == 400 and any("routing key" in str(e).lower() for e in errors or []):
            # The Events API has no auth header: a wrong key is a 400 naming the routing key.
            raise PageError(
                "PagerDuty refused the routing key (HTTP 400: invalid routing key): check the "
                "key in the policy's environment variable",
                retry=False,
                status=400,
            )
        raise refused("PagerDuty", a, detail)

    def trigger(self, key: str, summary: str, severity: Severity, details: dict[str, Any]) -> str:
        payload = {
            "summary": summary[:MAX_SUMMARY],
            "source": "warroom",
            "severity": severity,
            "component": details.get("service") or "incident",
            "custom_details": details,
        }
        return self._send("trigger", key, payload)

    def acknowledge(self, key: str) -> str:
        return self._send("acknowledge", key)

    def resolve(self, key: str) -> str:
        return self._send("resolve", key)
