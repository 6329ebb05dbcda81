"""One adapter per alerting product behind the alert-source interface (base.py)."""

from __future__ import annotations

from bot.alerts.sources.alertmanager import Alertmanager
from bot.alerts.sources.base import AlertSource
from bot.alerts.sources.generic import Generic
from bot.alerts.sources.grafana import Grafana

ADAPTERS: dict[str, AlertSource] = {a.name: a for a in (Alertmanager(), Grafana(), Generic())}
