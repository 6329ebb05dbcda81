"""The post-mortem page: the bot's own Markdown, rendered escaped; fields saved through the bot's
own `set_field` (on the timeline with the person); exported as Markdown."""

from __future__ import annotations

from markdown_it import MarkdownIt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.console import queries, web
from bot.console.sessions import Viewer
from bot.errors import UserError
from bot.incident import lifecycle, ops
from bot.models import Incident
from bot.postmortem import compile as pm_compile
from bot.runtime import Runtime

# html=False: any HTML people typed is shown as text; markdown-it also refuses javascript: links.
MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
EDITABLE = {"root_cause": "Root cause", "impact": "Impact", "lessons": "Lessons learned"}


def markdown_of(rt: Runtime, viewer: Viewer, incident_id: int) -> tuple[Incident, str]:
    """What `/incident postmortem` would post now: the same loader, template and names."""
    with rt.db.read() as s:
        inc = queries.find(s, viewer, incident_id)
        data = pm_compile.load(s, inc)
    room = f"#{inc.channel_name}" if inc.channel_name else ""
    content = pm_compile.render(
        inc,
        data,
        rt.policy,
        rt.now(),
        rt.chat.user_name,
        rt.chat.bot_user_id,
        room,
        rt.policy.postmortem_template,
    )
    return inc, content


def save_field(rt: Runtime, viewer: Viewer, incident_id: int, field: str, text: str) -> str:
    if field not in EDITABLE:
        raise UserError(f"'{field}' cannot be edited here; fields: {', '.join(EDITABLE)}.")
    with rt.db.read() as s:
        queries.find(s, viewer, incident_id)  # visibility first
    change = ops.on_incident(rt, incident_id, lifecycle.set_field, field, text, viewer.user_id)
    return change.text


def routes(rt: Runtime) -> list[BaseRoute]:
    def page(viewer: Viewer, incident_id: int, status: int = 200, **extra: object) -> Response:
        inc, md = markdown_of(rt, viewer, incident_id)
        return web.render(
            "postmortem.html",
            status,
            viewer=viewer,
            inc=inc,
            html=MARKDOWN.render(md),
            fields=[(k, label, getattr(inc, k) or "") for k, label in EDITABLE.items()],
            **extra,
        )

    @web.console(rt)
    async def show(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        saved = request.query_params.get("saved", "")
        try:
            return await run_in_threadpool(
                page, viewer, request.path_params["incident_id"], saved=EDITABLE.get(saved)
            )
        except UserError as e:
            return web.refuse(404, "Not found", str(e), viewer)

    @web.console(rt)
    async def edit(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        inc_id = request.path_params["incident_id"]
        form = request.state.form
        field = form.get("field", "")
        try:
            await run_in_threadpool(save_field, rt, viewer, inc_id, field, form.get("text", ""))
        except UserError as e:
            try:
                return await run_in_threadpool(page, viewer, inc_id, 400, problem=str(e))
            except UserError as missing:
                return web.refuse(404, "Not found", str(missing), viewer)
        return web.secure(
            RedirectResponse(f"/incidents/{inc_id}/postmortem?saved={field}#field-{field}", 303)
        )

    @web.console(rt)
    async def export(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        try:
            inc, md = await run_in_threadpool(
                markdown_of, rt, viewer, request.path_params["incident_id"]
            )
        except UserError as e:
            return web.refuse(404, "Not found", str(e), viewer)
        resp = Response(md, media_type="text/markdown; charset=utf-8")
        resp.headers["Content-Disposition"] = f'attachment; filename="postmortem-{inc.number}.md"'
        return web.secure(resp)

    return [
        Route("/incidents/{incident_id:int}/postmortem", show, methods=["GET"]),
        Route("/incidents/{incident_id:int}/postmortem", edit, methods=["POST"]),
        Route("/incidents/{incident_id:int}/postmortem.md", export, methods=["GET"]),
    ]
