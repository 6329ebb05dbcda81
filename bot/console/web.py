"""The console's page plumbing: autoescaping templates, security headers, who is looking, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.console import sessions
from bot.console.sessions import Viewer
from bot.runtime import Runtime

TEMPLATES = Environment(
    loader=PackageLoader("bot.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# No inline script or style anywhere: what the pages need is served from /static.
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
MAX_FORM = 200_000  # a post-mortem field is at most 20,000 characters
Page = Callable[[Request, Runtime, Viewer], Awaitable[Response]]


def secure(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def render(template: str, status: int = 200, **context: Any) -> Response:
    return secure(HTMLResponse(TEMPLATES.get_template(template).render(**context), status))


def behind_tls(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip().lower() == "https"


def base_url(rt: Runtime, request: Request) -> str:
    if rt.settings.console_url:
        return rt.settings.console_url.rstrip("/")
    scheme = "https" if behind_tls(request) else request.url.scheme
    return f"{scheme}://{request.headers.get('host', request.url.netloc)}"


def set_cookie(resp: Response, request: Request, name: str, value: str, max_age: int) -> None:
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=behind_tls(request),
    )


def refuse(status: int, title: str, message: str, viewer: Viewer | None = None) -> Response:
    return render("refused.html", status, title=title, message=message, viewer=viewer)


async def form(request: Request) -> dict[str, str]:
    """Our forms post url-encoded fields only (no uploads); anything else reads as empty."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if ctype != "application/x-www-form-urlencoded" or len(body) > MAX_FORM:
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def console(rt: Runtime) -> Callable[[Page], Callable]:
    """Wrap a page: find the viewer (or send them to sign in), and check CSRF on POST."""

    def wrap(fn: Page) -> Callable[[Request], Awaitable[Response]]:
        @wraps(fn)
        async def endpoint(request: Request) -> Response:
            viewer = await run_in_threadpool(
                sessions.find, rt, request.cookies.get(sessions.COOKIE, "")
            )
            if viewer is None and rt.policy.console.anonymous and request.method == "GET":
                viewer = Viewer("", "anonymous", "", anonymous=True)
            if viewer is None:
                if request.method != "GET":
                    await run_in_threadpool(
                        sessions.audit, rt, "denied", reason="no_session", detail=request.url.path
                    )
                    return refuse(403, "Sign in first", "Your session ended; sign in again.")
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return secure(RedirectResponse(f"/login?next={quote(target, safe='')}", 303))
            if request.method == "POST":
                request.state.form = data = await form(request)
                token = data.get("csrf_token", "")
                if viewer.anonymous or not hmac.compare_digest(token, viewer.csrf):
                    await run_in_threadpool(
                        sessions.audit,
                        rt,
                        "denied",
                        user_id=viewer.user_id or None,
                        reason="csrf",
                        detail=request.url.path,
                    )
                    return refuse(
                        403,
                        "Form refused",
                        "This form is missing its security token or it is stale. "
                        "Reload the page and submit again.",
                        viewer,
                    )
            return await fn(request, rt, viewer)

        return endpoint

    return wrap
