"""Atlassian Statuspage REST v1 stand-in: one page's incidents and components.

`POST /v1/pages/{page_id}/incidents`, `PATCH …/incidents/{id}` and `GET` of both, with
`Authorization: OAuth <key>`, JSON bodies under `incident`, the documented enums, and
`incident_updates` appended on every change of status or body.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from standins.json_api import Answer, JsonStandIn, RateLimit, Received

STATUSES = ("investigating", "identified", "monitoring", "resolved")
COMPONENT_STATUSES = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
IMPACTS = ("none", "minor", "major", "critical")
_PATH = re.compile(r"^/v1/pages/([^/]+)/incidents(?:/([^/]+))?(?:\.json)?$")


def _id() -> str:
    return uuid.uuid4().hex[:12]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class StatuspageStandIn(JsonStandIn):
    name = "statuspage"

    def __init__(
        self,
        api_key: str,
        page_id: str,
        components: dict[str, str],
        rate_limits: bool = False,
        **kw: Any,
    ) -> None:
        # Documented: 1 request a second per token over a 60 s rolling window; 420 or 429.
        super().__init__(RateLimit(60, 60, status=429) if rate_limits else None, **kw)
        self.api_key = api_key
        self.page_id = page_id
        self.components = {
            cid: {"id": cid, "name": n, "status": "operational"} for cid, n in components.items()
        }
        self.incidents: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return self.base_url + "/v1"

    def rate_key(self, r: Received) -> str:
        return r.headers.get("authorization", "")

    def fault_body(self, status: int) -> Any:
        return {"error": "Rate limit exceeded" if status in (420, 429) else "Internal server error"}

    def handle(self, r: Received) -> Answer:
        if r.headers.get("authorization") != f"OAuth {self.api_key}":
            return 401, {"error": "Could not authenticate"}, {}
        m = _PATH.match(r.path)
        if not m or m.group(1) != self.page_id:
            return 404, {"error": "The requested resource could not be found."}, {}
        incident_id = m.group(2)
        with self.lock:
            if r.method == "GET":
                if incident_id is None:
                    return 200, list(self.incidents.values()), {}
                inc = self.incidents.get(incident_id)
                return (200, inc, {}) if inc else (404, {"error": "Not found"}, {})
            if r.headers.get("x-standin-bad-json") or not isinstance(r.body, dict):
                return 400, {"error": "Body must be JSON with an incident object"}, {}
            fields = r.body.get("incident")
            if not isinstance(fields, dict):
                return 400, {"error": "param is missing or the value is empty: incident"}, {}
            if r.method == "POST" and incident_id is None:
                return self._create(fields)
            if r.method in ("PATCH", "PUT") and incident_id is not None:
                inc = self.incidents.get(incident_id)
                if inc is None:
                    return 404, {"error": "The requested resource could not be found."}, {}
                return self._update(inc, fields)
        return 405, {"error": "Method not allowed"}, {}

    def _check(self, f: dict[str, Any], creating: bool) -> list[str]:
        errors = []
        if creating and not str(f.get("name") or "").strip():
            errors.append("Name can't be blank")
        if "status" in f and f["status"] not in STATUSES:
            errors.append(f"Status must be one of {', '.join(STATUSES)}")
        if "impact_override" in f and f["impact_override"] not in IMPACTS:
            errors.append("Impact override is not included in the list")
        comps = f.get("components") or {}
        if not isinstance(comps, dict):
            errors.append("Components must be a map of component id to status")
            comps = {}
        for cid, st in comps.items():
            if cid not in self.components:
                errors.append(f"Component {cid} does not exist on this page")
            elif st not in COMPONENT_STATUSES:
                errors.append(f"Component status {st} is not valid")
        for cid in f.get("component_ids") or []:
            if cid not in self.components:
                errors.append(f"Component {cid} does not exist on this page")
        return errors

    def _apply(self, inc: dict[str, Any], f: dict[str, Any]) -> None:
        for cid, st in (f.get("components") or {}).items():
            self.components[cid]["status"] = st
        ids = set(f.get("component_ids") or []) | set(f.get("components") or {})
        if ids:
            inc["components"] = [dict(self.components[c]) for c in sorted(ids)]
        if "status" in f or "body" in f:
            inc["status"] = f.get("status", inc["status"])
            inc["incident_updates"].append(
                {
                    "id": _id(),
                    "status": inc["status"],
                    "body": f.get("body", ""),
                    "created_at": _now(),
                }
            )
            if inc["status"] == "resolved":
                inc["resolved_at"] = _now()
        inc["updated_at"] = _now()

    def _create(self, f: dict[str, Any]) -> Answer:
        if errors := self._check(f, creating=True):
            return 422, {"error": errors}, {}
        inc = {
            "id": _id(),
            "page_id": self.page_id,
            "name": f["name"],
            "status": f.get("status", "investigating"),
            "impact": f.get("impact_override", "none"),
            "created_at": _now(),
            "resolved_at": None,
            "components": [],
            "incident_updates": [],
        }
        f = {"status": inc["status"], **f}
        self._apply(inc, f)
        self.incidents[inc["id"]] = inc
        return 201, inc, {}

    def _update(self, inc: dict[str, Any], f: dict[str, Any]) -> Answer:
        if errors := self._check(f, creating=False):
            return 422, {"error": errors}, {}
        if "name" in f:
            inc["name"] = f["name"]
        self._apply(inc, f)
        return 200, inc, {}
