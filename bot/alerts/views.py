"""`POST /hooks/<source>`: authenticate on the raw body, parse, store once, answer in JSON.

401 for any credential problem (and nothing stored), 400 with the reason for a bad body."""

from __future__ import annotations

import json
import logging
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.alerts import flows
from bot.alerts.auth import admitted
from bot.alerts.sources import ADAPTERS
from bot.alerts.sources.base import AlertSource, BadPayload
from bot.runtime import Runtime

log = logging.getLogger(__name__)


class TooLarge(Exception):
    pass


# An oversized body is read to its end (up to this much) before the 400, so a client still
# sending gets the answer instead of a broken pipe; past it the connection is simply closed.
DRAIN_CAP = 8_000_000


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max(limit, DRAIN_CAP):
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max(limit, DRAIN_CAP):
            raise TooLarge
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise TooLarge
    return b"".join(chunks)


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


def hook(rt: Runtime, source: AlertSource):  # type: ignore[no-untyped-def]
    async def receive(request: Request) -> Response:
        policy = rt.policy.alerts
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = await _body(request, policy.max_body_bytes)
        except TooLarge:
            return _error(400, f"body too large: at most {policy.max_body_bytes} bytes")
        if not admitted(policy.sources.get(source.name), headers, body, time.time()):  # type: ignore[call-overload]
            rt.metrics.refused.labels("alert_auth").inc()
            log.warning("refused an unauthenticated %s delivery", source.display)
            return _error(401, "unauthorized")
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            return _error(400, f"body is not JSON: {str(e)[:100]}")
        try:
            delivery = source.parse(doc, policy.max_alerts)
        except BadPayload as e:
            return _error(400, str(e))
        received = await run_in_threadpool(flows.receive, rt, source, delivery)
        return JSONResponse(received.as_json())

    return receive


def routes(rt: Runtime) -> list[BaseRoute]:
    missing = [name for name in ADAPTERS if name not in rt.policy.alerts.sources]
    if rt.policy.alerts.routes and missing:
        log.info("alert sources without credentials in the policy (refused): %s", missing)
    return [
        Route(f"/hooks/{name}", hook(rt, adapter), methods=["POST"])
        for name, adapter in ADAPTERS.items()
    ]
