"""Jira Service Management Operations stand-in: the integration events alerts API
(`/jsm/ops/integration/v2/alerts`, `Authorization: GenieKey <key>`), asynchronous like the real
one: a well-formed request is 202 with a `requestId`, and its outcome is read back from
`GET …/alerts/requests/{requestId}`. An open alert's `alias` deduplicates: a repeat counts up.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from standins.json_api import Answer, JsonStandIn, RateLimit, Received

BASE = "/jsm/ops/integration/v2/alerts"
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
_ACTION = re.compile(rf"^{BASE}/([^/]+)/(acknowledge|close)$")
_REQUEST = re.compile(rf"^{BASE}/requests/([0-9a-f-]+)$")


@dataclass
class Alert:
    id: str
    tiny_id: str
    alias: str
    message: str
    priority: str
    status: str = "open"  # open | closed
    acknowledged: bool = False
    count: int = 1


def _meta() -> dict[str, Any]:
    return {"took": 0.01, "requestId": str(uuid.uuid4())}


def _unprocessable(errors: dict[str, str]) -> Answer:
    body = {
        "message": "Request body is not processable. Please check the errors.",
        "errors": errors,
    }
    return 422, body | _meta(), {}


class JsmStandIn(JsonStandIn):
    name = "jsm"

    def __init__(self, api_keys: set[str], rate_limits: bool = False, **kw: Any) -> None:
        super().__init__(RateLimit(10, 1) if rate_limits else None, **kw)
        self.api_keys = set(api_keys)
        self.alerts: list[Alert] = []
        self.requests: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return self.base_url + "/jsm/ops/integration/v2"

    def rate_key(self, r: Received) -> str:
        return r.headers.get("authorization", "")

    def fault_body(self, status: int) -> Any:
        if status == 429:
            too_many = "You are making too many requests! To avoid errors, limit requests."
            return {"message": too_many} | _meta()
        return {"message": "Internal Server Error"} | _meta()

    def by_alias(self, alias: str) -> list[Alert]:
        with self.lock:
            return [a for a in self.alerts if a.alias == alias]

    def _accepted(self, success: bool, status: str, alert: Alert | None) -> Answer:
        meta = _meta()
        self.requests[meta["requestId"]] = {
            "success": success,
            "action": status,
            "status": status,
            "alertId": alert.id if alert else "",
            "alias": alert.alias if alert else "",
        }
        return 202, {"result": "Request will be processed"} | meta, {}

    def handle(self, r: Received) -> Answer:
        auth = r.headers.get("authorization", "")
        if not auth.startswith("GenieKey ") or auth.removeprefix("GenieKey ") not in self.api_keys:
            return 401, {"message": "Could not authenticate"} | _meta(), {}
        with self.lock:
            if r.method == "GET" and (m := _REQUEST.match(r.path)):
                req = self.requests.get(m.group(1))
                if req is None:
                    return 404, {"message": "Request not found"} | _meta(), {}
                return 200, {"data": req} | _meta(), {}
            if r.method != "POST":
                return 404, {"message": "Not found"} | _meta(), {}
            if r.headers.get("x-standin-bad-json") or not isinstance(r.body, dict):
                return _unprocessable({"body": "Request body is not a valid JSON object."})
            if r.path == BASE:
                return self._create(r.body)
            if m := _ACTION.match(r.path):
                return self._act(m.group(1), m.group(2), r.query.get("identifierType", "id"))
        return 404, {"message": "Not found"} | _meta(), {}

    def _create(self, b: dict[str, Any]) -> Answer:
        errors: dict[str, str] = {}
        message = b.get("message")
        if not isinstance(message, str) or not message.strip():
            errors["message"] = "Message can not be empty."
        alias = b.get("alias") or (message if isinstance(message, str) else "")
        if isinstance(alias, str) and len(alias) > 512:
            errors["alias"] = "Alias can not be longer than 512 characters."
        if "priority" in b and b["priority"] not in PRIORITIES:
            errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]."
        if "description" in b and len(str(b["description"])) > 15000:
            errors["description"] = "Description can not be longer than 15000 characters."
        if errors:
            return _unprocessable(errors)
        open_one = next((a for a in self.alerts if a.alias == alias and a.status == "open"), None)
        if open_one is not None:
            open_one.count += 1  # de-duplicated: the open alert counts the repeat
            return self._accepted(True, "Alert deduplicated", open_one)
        a = Alert(
            id=str(uuid.uuid4()),
            tiny_id=str(len(self.alerts) + 1),
            alias=alias,
            message=message[:130],  # the API keeps the first 130 characters
            priority=b.get("priority", "P3"),
        )
        self.alerts.append(a)
        return self._accepted(True, "Created alert", a)

    def _act(self, ident: str, action: str, kind: str) -> Answer:
        if kind not in ("id", "tiny", "alias"):
            return _unprocessable(
                {"identifierType": "identifierType should be one of [id, tiny, alias]."}
            )
        field = {"id": "id", "tiny": "tiny_id", "alias": "alias"}[kind]
        match = [a for a in self.alerts if getattr(a, field) == ident]
        alert = next((a for a in match if a.status == "open"), match[-1] if match else None)
        if alert is None:
            return self._accepted(False, "Alert does not exist", None)
        if action == "acknowledge":
            alert.acknowledged = True
            return self._accepted(True, "Acknowledged", alert)
        alert.status = "closed"
        return self._accepted(True, "Closed", alert)
