"""Warroom's own small alert JSON, for anything that can POST:

    {"alerts": [{"status": "firing",                      # or "resolved"
                 "labels": {"alertname": "DiskFull", "service": "checkout", "severity": "critical"},
                 "summary": "Disk 95% full on db-1",      # optional, as are the next three
                 "description": "…", "runbook_url": "https://…", "url": "https://…",
                 "starts_at": "2026-11-22T10:00:00Z",     # required: with the id, the dedupe key
                 "id": "db-1-disk"}]}                     # optional; default: from the labels

`labels.alertname` is required. Re-sending the same alert (id or labels, status, starts_at)
changes nothing."""

from __future__ import annotations

from typing import Any

import bot.alerts.sources.base as base
from bot.alerts.sources.base import BadPayload, Delivery, IncomingAlert

_TEXTS = ("summary", "description", "runbook_url")


class Generic:
    name = "generic"
    display = "Webhook"

    def parse(self, doc: Any, max_alerts: int) -> Delivery:
        out = []
        for i, a in enumerate(base.alert_list(doc, max_alerts)):
            where = f"alerts[{i}]"
            if not isinstance(a, dict):
                raise BadPayload(f"{where}: must be an object")
            labels = base.string_map(base.need(a, "labels", dict, where), f"{where}.labels")
            if not labels.get("alertname"):
                raise BadPayload(f"{where}.labels: needs 'alertname'")
            texts = base.string_map({k: a[k] for k in _TEXTS if a.get(k) is not None}, f"{where}")
            starts = base.timestamp(a.get("starts_at"), f"{where}.starts_at")
            assert starts is not None
            out.append(
                IncomingAlert(
                    fingerprint=base.fingerprint(a.get("id"), labels, where),
                    status=base.status(a.get("status"), f"{where}.status"),
                    labels=labels,
                    annotations=texts,
                    starts_at=starts,
                    ends_at=base.timestamp(a.get("ends_at"), f"{where}.ends_at", optional=True),
                    generator_url=base.url(a.get("url"), f"{where}.url"),
                )
            )
        return Delivery(out)
