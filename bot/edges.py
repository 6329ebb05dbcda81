"""The HTTP edges beside Slack's events path: each adapter (alert hooks, the web console) adds its
routes here, so every server (serve, tests, the sandbox) exposes the same surface."""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.alerts import views as alert_hooks
from bot.console import routes as console
from bot.runtime import Runtime


def http_routes(rt: Runtime) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    routes += alert_hooks.routes(rt)  # POST /hooks/alertmanager, /hooks/grafana, /hooks/generic
    routes += console.routes(rt)  # the web console: /, /login, /incidents/…, /metrics
    return routes
