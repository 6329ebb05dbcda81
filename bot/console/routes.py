"""The console's routes, added to the same server as Slack's events path (bot/edges.py)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.console import auth, metrics, postmortem, views
from bot.runtime import Runtime


def routes(rt: Runtime) -> list[BaseRoute]:
    return [
        *auth.routes(rt),
        *views.routes(rt),
        *postmortem.routes(rt),
        *metrics.routes(rt),
        Mount("/static", StaticFiles(packages=[("bot.console", "static")]), name="static"),
    ]
