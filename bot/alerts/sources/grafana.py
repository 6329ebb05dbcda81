"""Grafana alerting's webhook contact point: Alertmanager's shape plus orgId, version "1"."""

from __future__ import annotations

from typing import Any

import bot.alerts.sources.base as base
from bot.alerts.sources.base import BadPayload, Delivery, IncomingAlert


class Grafana:
    name = "grafana"
    display = "Grafana"
    version = "1"

    def parse(self, doc: Any, max_alerts: int) -> Delivery:
        if isinstance(doc, dict) and doc.get("version") != self.version:
            raise BadPayload(
                f"body.version: '{str(doc.get('version'))[:20]}' is not supported; "
                f"Warroom takes Grafana's webhook version {self.version}"
            )
        alerts = base.alert_list(doc, max_alerts)
        base.need(doc, "orgId", int, "body")
        group_key = doc.get("groupKey") if isinstance(doc.get("groupKey"), str) else ""
        external = base.url(doc.get("externalURL"), "body.externalURL")
        out = []
        for i, a in enumerate(alerts):
            where = f"alerts[{i}]"
            if not isinstance(a, dict):
                raise BadPayload(f"{where}: must be an object")
            labels = base.string_map(base.need(a, "labels", dict, where), f"{where}.labels")
            starts = base.timestamp(a.get("startsAt"), f"{where}.startsAt")
            assert starts is not None
            link = a.get("panelURL") or a.get("dashboardURL") or a.get("generatorURL")
            out.append(
                IncomingAlert(
                    fingerprint=base.fingerprint(a.get("fingerprint"), labels, where),
                    status=base.status(a.get("status"), f"{where}.status"),
                    labels=labels,
                    annotations=base.string_map(a.get("annotations"), f"{where}.annotations"),
                    starts_at=starts,
                    ends_at=base.timestamp(a.get("endsAt"), f"{where}.endsAt", optional=True),
                    generator_url=base.url(link, f"{where}.generatorURL"),
                    source_group_key=group_key[:1000],
                    external_url=external,
                )
            )
        return Delivery(out, doc.get("truncatedAlerts", 0) or 0)
