"""Incident pages: the filtered list, one incident with its live timeline (server-sent events)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from bot.console import queries, web
from bot.console.sessions import Viewer
from bot.errors import UserError
from bot.models import Incident, TimelineEvent
from bot.runtime import Runtime

_USER = re.compile(r"<@([UW][A-Z0-9]+)>")
_ROOM = re.compile(r"<#([CG][A-Z0-9]+)>")
LIVE_POLL_SECONDS = 0.25  # the database is the one source: replicas see each other's writes
LIVE_MAX_SECONDS = 300  # then the browser reconnects (EventSource does) with Last-Event-ID


def helpers(rt: Runtime) -> dict[str, Any]:
    """What every template may call: times in the policy's zone, names, war-room links."""

    def when(at: datetime | None) -> str:
        return at.astimezone(rt.policy.tz).strftime("%Y-%m-%d %H:%M %Z") if at else "—"

    def name(user_id: str | None) -> str:
        return rt.chat.user_name(user_id) if user_id else "—"

    def room(inc: Incident) -> dict[str, str] | None:
        if not inc.channel_id:
            return None
        team = inc.team_id or rt.settings.slack_team_id
        return {
            "app": f"slack://channel?team={team}&id={inc.channel_id}",
            "web": f"https://app.slack.com/client/{team}/{inc.channel_id}",
            "name": f"#{inc.channel_name or inc.channel_id}",
        }

    def plain(text: str) -> str:
        """Stored text keeps mentions as <@U1> / <#C1>: show names (still escaped on output)."""
        text = _USER.sub(lambda m: name(m.group(1)), text)
        return _ROOM.sub(lambda m: "#" + m.group(1), text)

    return {"when": when, "name": name, "room": room, "plain": plain}


def event_json(rt: Runtime, ev: TimelineEvent) -> str:
    h = helpers(rt)
    return json.dumps(
        {
            "id": ev.id,
            "at": h["when"](ev.at),
            "kind": ev.kind,
            "actor": h["name"](ev.actor_id),
            "text": h["plain"](ev.text),
        }
    )


def sla(rt: Runtime, inc: Incident) -> list[dict[str, str]]:
    """Acknowledge and resolve clocks against the severity's targets."""
    level, now = rt.policy.level(inc.severity), rt.now()
    clocks = []
    for what, target, done in (
        ("Acknowledge", level.respond, inc.acknowledged_at),
        ("Resolve", level.resolve, inc.resolved_at),
    ):
        took = (done or now) - inc.declared_at
        state = ("met" if took <= target else "breached") if done else "running"
        if not done and took > target:
            state = "breached"
        clocks.append(
            {
                "what": what,
                "target": _minutes(target.total_seconds() / 60),
                "took": _minutes(took.total_seconds() / 60),
                "state": state,
            }
        )
    return clocks


def _minutes(m: float) -> str:
    return f"{m / 60:.1f} h" if m >= 120 else f"{m:.0f} min"


def routes(rt: Runtime) -> list[BaseRoute]:
    @web.console(rt)
    async def index(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        f = queries.Filters.parse(request.query_params)
        rows, more = await run_in_threadpool(queries.listing, rt, viewer, f)

        def page_link(n: int) -> str:
            return "/?" + urlencode(f.query(n))

        return await run_in_threadpool(
            lambda: web.render(
                "list.html",
                viewer=viewer,
                f=f,
                rows=rows,
                statuses=queries.STATUSES,
                prev=page_link(f.page - 1) if f.page > 1 else None,
                next=page_link(f.page + 1) if more else None,
                **helpers(rt),
            )
        )

    @web.console(rt)
    async def incident(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        inc_id = request.path_params["incident_id"]
        before = request.query_params.get("before", "")
        try:
            view = await run_in_threadpool(
                queries.incident, rt, viewer, inc_id, int(before) if before.isdigit() else None
            )
        except UserError as e:
            return web.refuse(404, "Not found", str(e), viewer)
        return await run_in_threadpool(
            lambda: web.render(
                "incident.html",
                viewer=viewer,
                v=view,
                inc=view.incident,
                clocks=sla(rt, view.incident),
                last_id=max((e.id for e in view.timeline), default=0),
                **helpers(rt),
            )
        )

    @web.console(rt)
    async def live(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        inc_id = request.path_params["incident_id"]
        raw = request.headers.get("last-event-id") or request.query_params.get("after", "0")
        after = int(raw) if raw.isdigit() else 0
        try:
            await run_in_threadpool(queries.is_open, rt, viewer, inc_id)
        except UserError as e:
            return web.refuse(404, "Not found", str(e), viewer)

        async def stream() -> AsyncIterator[str]:
            nonlocal after
            started = time.monotonic()
            yield "retry: 1000\n\n"
            while time.monotonic() - started < LIVE_MAX_SECONDS:
                if await request.is_disconnected():
                    return
                events = await run_in_threadpool(queries.timeline_after, rt, viewer, inc_id, after)
                for ev in events:
                    after = ev.id
                    payload = await run_in_threadpool(event_json, rt, ev)
                    yield f"id: {ev.id}\nevent: entry\ndata: {payload}\n\n"
                if not events:
                    yield ": idle\n\n"  # a comment keeps proxies from closing the stream
                await asyncio.sleep(LIVE_POLL_SECONDS)

        resp = StreamingResponse(stream(), media_type="text/event-stream")
        resp.headers["X-Accel-Buffering"] = "no"
        return web.secure(resp)

    return [
        Route("/", index, methods=["GET"]),
        Route("/incidents/{incident_id:int}", incident, methods=["GET"]),
        Route("/incidents/{incident_id:int}/live", live, methods=["GET"]),
    ]
