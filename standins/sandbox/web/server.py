"""The web sandbox's routes: the page, a small JSON endpoint its script polls for live updates,
form posts that act (each carries the page's token), and uploaded files."""

from __future__ import annotations

import hmac
import io
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from standins.sandbox.terminal import Sandbox
from standins.sandbox.web.markup import Renderer
from standins.sandbox.web.workspace import DEMO, WebSandbox

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML shown as text


def environment(web: WebSandbox) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
    )
    env.filters["rich"] = Renderer(web.box._cname, web.box._uname).render
    return env


def build(web: WebSandbox) -> Starlette:
    env = environment(web)
    token = secrets.token_urlsafe(24)  # only this page's forms count (no cross-site posts)

    def secure(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def render(template: str, **ctx: Any) -> str:
        return env.get_template(template).render(token=token, **ctx)

    def fragments(state: dict[str, Any], version: str) -> dict[str, str]:
        return {
            "version": version,
            "nav": render("_nav.html", **state),
            "main": render("_channel.html", **state),
        }

    async def page(request: Request) -> Response:
        wanted = request.query_params.get("c", "")

        def build_page() -> str:
            with web.lock:
                if web.autoplay is not None:
                    web.play(web.autoplay or None)
                    web.autoplay = None
                if not (web.demo and not web.demo["done"]):
                    web.box.settle_and_show()
                    web.box.channel = web.pick_channel(wanted)
                state = web.state(wanted)
                return render("page.html", version=web.version(state), **state)

        return secure(HTMLResponse(await run_in_threadpool(build_page)))

    async def live(request: Request) -> Response:
        wanted, seen = request.query_params.get("c", ""), request.query_params.get("v", "")

        def look() -> dict[str, Any]:
            with web.lock:
                state = web.state(wanted)
                version = web.version(state)
                playing = web.demo and not web.demo["done"]
                if playing and web.box.channel != state["channel"]:
                    return {"go": f"/?c={quote(web.box.channel)}"}
                if version == seen:
                    return {"version": version}
                return fragments(state, version)

        return secure(JSONResponse(await run_in_threadpool(look)))

    async def act(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if not hmac.compare_digest(form.pop("token", ""), token):
            return secure(PlainTextResponse("This form is stale: reload the page.", 403))
        what, channel = request.path_params["what"], form.pop("channel", "")

        def run() -> None:
            with web.lock:
                if what == "say" and form.get("text", "").strip():
                    web.say(channel, form["text"].strip())
                elif what == "press":
                    web.press(channel, form.get("ts", ""), form["action_id"], form.get("value", ""))
                elif what == "as":
                    web.switch(form.get("user", ""))
                elif what == "submit":
                    web.submit(form)
                elif what == "close":
                    web.close_view()
                elif what == "react":
                    web.react(channel, form["ts"], form.get("emoji", "pushpin"))
                elif what == "join":
                    web.join(channel)
                elif what == "demo":
                    web.play()

        await run_in_threadpool(run)
        target = channel or web.box.channel
        return secure(RedirectResponse(f"/?c={quote(target)}", 303))

    async def file(request: Request) -> Response:
        fid = request.path_params["file_id"]
        f = web.box.slack.files.get(fid)
        if f is None:
            return secure(PlainTextResponse("No such file.", 404))
        text = _text(f.get("content"))
        name = f.get("name") or fid
        markdown = name.endswith(".md")
        html = Markup(_MD.render(text)) if markdown and text is not None else None
        size = len(f.get("content") or b"")
        body = render("file.html", f=f, fid=fid, name=name, text=text, html=html, size=size)
        return secure(HTMLResponse(body))

    async def raw(request: Request) -> Response:
        fid = request.path_params["file_id"]
        f = web.box.slack.files.get(fid)
        if f is None:
            return secure(PlainTextResponse("No such file.", 404))
        text = _text(f.get("content"))
        if text is not None:
            return secure(PlainTextResponse(text))
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f.get("name") or fid)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return secure(
            Response(f["content"], media_type="application/octet-stream", headers=headers)
        )

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/live", live, methods=["GET"]),
            Route("/act/{what}", act, methods=["POST"]),
            Route("/files/{file_id}", file, methods=["GET"]),
            Route("/files/{file_id}/raw", raw, methods=["GET"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
    )


def _text(body: Any) -> str | None:
    """A file's content as text, or None for a binary file (an evidence archive)."""
    if not isinstance(body, bytes):
        return str(body or "")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def open_sandbox(latency_ms: int = 0, demo: Path | None = DEMO) -> WebSandbox:
    out = io.StringIO()
    box = Sandbox(out, latency_ms)
    box.say("Warroom sandbox in the browser: you are alice in #general.")
    return WebSandbox(box, out, demo)


def run(
    port: int = 8025, latency_ms: int = 0, demo: bool = False, script: str | None = None
) -> int:
    from bot.slack.server import serve

    web = open_sandbox(latency_ms)
    if script:
        web.autoplay = Path(script).read_text().splitlines()
    elif demo:
        web.autoplay = []  # the built-in demo, when the page is first seen
    print(f"Warroom sandbox: open http://127.0.0.1:{port}/ (Ctrl-C to stop)")
    try:
        serve(build(web), "127.0.0.1", port)
    finally:
        web.box.close()
    return 0
