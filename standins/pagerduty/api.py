"""PagerDuty Events API v2 stand-in: `POST /v2/enqueue`, validated as PagerDuty documents it.

Alerts are kept per (routing key, dedup key): a trigger on an open alert is merged into it, one
on a resolved alert opens a new one; acknowledge and resolve of no open alert are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from standins.json_api import Answer, JsonStandIn, RateLimit, Received

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_BYTES = 512 * 1024


@dataclass
class Alert:
    routing_key: str
    dedup_key: str
    summary: str
    severity: str
    status: str = "triggered"  # triggered | acknowledged | resolved
    triggers: int = 1
    log: list[str] = field(default_factory=list)


def _invalid(*errors: str) -> Answer:
    return (
        400,
        {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)},
        {},
    )


class PagerDutyStandIn(JsonStandIn):
    name = "pagerduty"

    def __init__(self, routing_keys: set[str], rate_limits: bool = False, **kw: Any) -> None:
        # PagerDuty documents about 120 events a minute per integration key.
        super().__init__(RateLimit(120, 60) if rate_limits else None, **kw)
        self.routing_keys = set(routing_keys)
        self.alerts: list[Alert] = []
        self._seq = 0

    @property
    def url(self) -> str:
        return self.base_url + "/v2/enqueue"

    def rate_key(self, r: Received) -> str:
        return str((r.body or {}).get("routing_key", "")) if isinstance(r.body, dict) else ""

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {
                "status": "throttle event",
                "message": "Requests for this service are arriving too quickly; retry later.",
            }
        return {"status": "error", "message": "Internal server error"}

    def open_alerts(self) -> list[Alert]:
        with self.lock:
            return [a for a in self.alerts if a.status != "resolved"]

    def alerts_for(self, dedup_key: str) -> list[Alert]:
        with self.lock:
            return [a for a in self.alerts if a.dedup_key == dedup_key]

    def handle(self, r: Received) -> Answer:
        if r.method != "POST" or r.path != "/v2/enqueue":
            return 404, {"status": "not found", "message": "Not Found"}, {}
        if r.headers.get("x-standin-bad-json") or not isinstance(r.body, dict):
            return _invalid("Event object is not valid JSON")
        if int(r.headers.get("content-length") or 0) > MAX_BYTES:
            return _invalid("Event object is larger than 512 KB")
        e = r.body
        errors: list[str] = []
        key = e.get("routing_key")
        if not isinstance(key, str) or not key:
            errors.append("'routing_key' is missing or blank")
        elif len(key) != 32 or key not in self.routing_keys:
            errors.append("Invalid routing key")
        action = e.get("event_action")
        if action not in ACTIONS:
            errors.append("'event_action' is missing or invalid")
        dedup = e.get("dedup_key")
        if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
            errors.append("'dedup_key' must be a string of at most 255 characters")
        if action in ("acknowledge", "resolve") and not dedup:
            errors.append("'dedup_key' is missing or blank")
        if action == "trigger":
            p = e.get("payload")
            if not isinstance(p, dict):
                errors.append("'payload' is missing or not an object")
            else:
                summary = p.get("summary")
                if not isinstance(summary, str) or not summary.strip():
                    errors.append("'payload.summary' is missing or blank")
                elif len(summary) > 1024:
                    errors.append("'payload.summary' is longer than 1024 characters")
                if not isinstance(p.get("source"), str) or not p["source"].strip():
                    errors.append("'payload.source' is missing or blank")
                if p.get("severity") not in SEVERITIES:
                    errors.append("'payload.severity' is missing or invalid")
        if errors:
            return _invalid(*errors)
        with self.lock:
            if not dedup:
                self._seq += 1
                dedup = f"standin-{self._seq:08d}"
            open_one = next(
                (
                    a
                    for a in self.alerts
                    if a.routing_key == key and a.dedup_key == dedup and a.status != "resolved"
                ),
                None,
            )
            if action == "trigger":
                if open_one is None:
                    p = e["payload"]
                    self.alerts.append(Alert(key, dedup, p["summary"], p["severity"]))
                else:  # merged into the open alert: a trigger log entry, no new alert
                    open_one.triggers += 1
                    open_one.log.append("trigger")
            elif open_one is not None:
                if action == "acknowledge" and open_one.status == "triggered":
                    open_one.status = "acknowledged"
                elif action == "resolve":
                    open_one.status = "resolved"
                open_one.log.append(action)
            # else: dropped, as PagerDuty drops events for no open alert (still 202)
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup}, {}
