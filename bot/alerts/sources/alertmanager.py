"""Prometheus Alertmanager's webhook_config payload, version "4"."""

from __future__ import annotations

from typing import Any

import bot.alerts.sources.base as base
from bot.alerts.sources.base import BadPayload, Delivery, IncomingAlert


class Alertmanager:
    name = "alertmanager"
    display = "Alertmanager"
    version = "4"

    def parse(self, doc: Any, max_alerts: int) -> Delivery:
        if isinstance(doc, dict) and doc.get("version") != self.version:
            raise BadPayload(
                f"body.version: '{str(doc.get('version'))[:20]}' is not supported; "
                f"Warroom takes Alertmanager's webhook version {self.version}"
            )
        alerts = base.alert_list(doc, max_alerts)
        group_key = base.need(doc, "groupKey", str, "body")
        base.status(doc.get("status"), "body.status")
        external = base.url(doc.get("externalURL"), "body.externalURL")
        truncated = doc.get("truncatedAlerts", 0)
        if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
            raise BadPayload("body.truncatedAlerts: must be a whole number ≥ 0")
        return Delivery(
            [_alert(a, i, group_key, external) for i, a in enumerate(alerts)], truncated
        )


def _alert(a: Any, i: int, group_key: str, external: str) -> IncomingAlert:
    where = f"alerts[{i}]"
    if not isinstance(a, dict):
        raise BadPayload(f"{where}: must be an object")
    labels = base.string_map(base.need(a, "labels", dict, where), f"{where}.labels")
    starts = base.timestamp(a.get("startsAt"), f"{where}.startsAt")
    assert starts is not None
    return IncomingAlert(
        fingerprint=base.fingerprint(a.get("fingerprint"), labels, where),
        status=base.status(a.get("status"), f"{where}.status"),
        labels=labels,
        annotations=base.string_map(a.get("annotations"), f"{where}.annotations"),
        starts_at=starts,
        ends_at=base.timestamp(a.get("endsAt"), f"{where}.endsAt", optional=True),
        generator_url=base.url(a.get("generatorURL"), f"{where}.generatorURL"),
        source_group_key=group_key[:1000],
        external_url=external,
    )
