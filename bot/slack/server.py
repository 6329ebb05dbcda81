"""HTTP serving: Slack's one events path, health and readiness, under uvicorn (ASGI)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from urllib.parse import parse_qs

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App, BoltRequest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.edges import http_routes
from bot.errors import DatabaseUnreachable
from bot.runtime import Runtime
from bot.slack import door

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # Slack payloads are far smaller; refuse anything absurd


def build_asgi(bolt: App, rt: Runtime) -> Starlette:
    secret = rt.settings.slack_signing_secret
    replays = door.ReplayGuard(rt.db, rt.once, rt.now)

    def admit(body: bytes, headers: Mapping[str, str]) -> Response | None:
        """None lets the request in; anything else is the answer at the door."""
        ok, why = door.verify(secret, body, headers, time.time())
        if not ok:
            rt.metrics.refused.labels(why).inc()
            return PlainTextResponse("invalid request", status_code=401)
        content_type = headers.get("content-type", "")
        if not door.well_formed(body, content_type):
            rt.metrics.refused.labels("malformed").inc()
            return PlainTextResponse("malformed body", status_code=400)
        key = door.replay_key(why, body, content_type, headers.get("x-slack-retry-num", ""))
        try:
            first = replays.first_time(key)
        except DatabaseUnreachable as e:
            rt.metrics.refused.labels("database").inc()
            return _unreachable(rt, body, content_type, f":warning: {e}")
        if not first:
            rt.metrics.refused.labels("replayed").inc()
            log.warning("refused a replayed request (its signature was already served)")
            return PlainTextResponse("replayed request", status_code=401)
        return None

    async def events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("payload too large", status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        refused = await run_in_threadpool(admit, body, headers)
        if refused is not None:
            return refused
        bolt_req = BoltRequest(
            body=body.decode("utf-8", "replace"),
            query=request.url.query,
            headers=headers,
        )
        # Bolt's dispatch blocks (DB write, signature check): keep it off the event loop.
        resp = await run_in_threadpool(bolt.dispatch, bolt_req)
        headers = {k: v[0] for k, v in resp.headers.items() if v and k.lower() != "content-length"}
        return Response(resp.body, status_code=resp.status, headers=headers)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        def check() -> str | None:
            try:
                with rt.db.read() as s:
                    s.execute(text("SELECT 1"))
            except Exception as e:
                return f"database: {e.__class__.__name__}"
            return None

        problem = await run_in_threadpool(check)
        if problem:
            return PlainTextResponse(problem, status_code=503)
        # Redis only fronts the database's guards: without it the bot still serves, so a pod
        # stays in rotation and says so (taking every pod out would be the outage).
        redis_ok = await run_in_threadpool(rt.once.ping)
        return PlainTextResponse("ready" if redis_ok else "degraded: redis unreachable")

    async def metrics(_: Request) -> Response:
        body = await run_in_threadpool(rt.metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *http_routes(rt),
        ]
    )


def _unreachable(rt: Runtime, body: bytes, content_type: str, text: str) -> Response:
    """The database is away: Slack gets its ack and the person reads why. An event answered
    503 comes again; a click's answer goes to its response_url, a form's under its first field."""
    if content_type.startswith("application/json"):
        return PlainTextResponse("database unreachable", status_code=503)
    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    if "payload" not in form:
        return JSONResponse({"response_type": "ephemeral", "text": text})
    payload = json.loads(form["payload"][0])
    if payload.get("type") == "view_submission":
        fields = list(((payload.get("view") or {}).get("state") or {}).get("values") or {})
        if fields:
            return JSONResponse({"response_action": "errors", "errors": {fields[0]: text}})
    url = payload.get("response_url") or next(
        (r.get("response_url") for r in payload.get("response_urls") or [] if r), None
    )
    if isinstance(url, str) and url:
        rt.submit(rt.chat.respond, url, text)
    return Response(status_code=200)


def serve(asgi: Starlette, host: str, port: int) -> None:
    # log_config=None: uvicorn's loggers go through ours (JSON, redacted), tracebacks included.
    uvicorn.run(asgi, host=host, port=port, log_level="warning", access_log=False, log_config=None)


class BackgroundServer:
    """uvicorn on a thread, for the sandbox, tests and benchmarks."""

    def __init__(self, asgi: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(
            asgi,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            log_config=None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn")

    def start(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
