"""Webhook bodies as Alertmanager (version 4) and Grafana send them, and a client that posts
them to the bot's real HTTP endpoint with the policy's credentials."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

AM_TOKEN = "am-token-s3cret"
GRAFANA_KEY = "grafana-hmac-key"
GENERIC_TOKEN = "generic-token"

ALERTS_POLICY: dict[str, Any] = {
    "sources": {
        "alertmanager": {"kind": "bearer", "secret": AM_TOKEN},
        "grafana": {
            "kind": "hmac",
            "secret": GRAFANA_KEY,
            "header": "X-Grafana-Alerting-Signature",
        },
        "generic": {"kind": "bearer", "secret": GENERIC_TOKEN},
    },
    "routes": [
        {
            "name": "checkout",
            "match": {"service": "checkout"},
            "severity_label": "severity",
            "severity_map": {"critical": "P1", "warning": "P3"},
            "action": "declare",
            "group_by": ["alertname", "service"],
        },
        {
            "name": "payments",
            "match": {"service": "payments"},
            "severity": "P2",
            "action": "declare",
            "group_by": ["service"],
            "auto_resolve": True,
        },
        {"name": "search", "match_re": {"service": "search(-.*)?"}, "action": "suggest"},
        {"name": "logs", "match_re": {"alertname": "Log.*"}, "action": "attach"},
    ],
}


def am_alert(
    name: str = "HighErrorRate",
    service: str = "checkout",
    instance: str = "pod-1",
    status: str = "firing",
    starts: str = "2026-11-22T10:00:00.123456789Z",
    **annotations: str,
) -> dict[str, Any]:
    labels = {"alertname": name, "service": service, "instance": instance, "severity": "critical"}
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations or {"summary": f"{name} on {instance}"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-22T10:30:00Z",
        "generatorURL": f"http://prometheus.example:9090/graph?g0.expr=up&g0.tab=1&i={instance}",
        "fingerprint": hashlib.sha256(f"{name}{service}{instance}".encode()).hexdigest()[:16],
    }


def am_body(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    first = alerts[0]["labels"]
    return {
        "version": "4",
        "groupKey": '{}:{alertname="' + first["alertname"] + '"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "warroom",
        "groupLabels": {"alertname": first["alertname"]},
        "commonLabels": {"alertname": first["alertname"]},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }


def grafana_body(*alerts: dict[str, Any]) -> dict[str, Any]:
    body = am_body(*alerts)
    body.update(version="1", orgId=1, state="alerting", title="[FIRING:1]", message="")
    return body


def post(
    base_url: str, source: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if headers is None:
        headers = credentials(source, raw)
    req = urllib.request.Request(
        f"{base_url}/hooks/{source}",
        data=raw,
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def credentials(source: str, raw: bytes) -> dict[str, str]:
    if source == "grafana":
        sig = hmac.new(GRAFANA_KEY.encode(), raw, hashlib.sha256).hexdigest()
        return {"X-Grafana-Alerting-Signature": sig}
    token = AM_TOKEN if source == "alertmanager" else GENERIC_TOKEN
    return {"Authorization": f"Bearer {token}"}
