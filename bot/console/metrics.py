"""The metrics page: MTTA and MTTR per severity by week, incidents per week, SLA breaches,
action items open and overdue. The same breach rule as `/incident stats`."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console import charts, queries, web
from bot.console.sessions import Viewer
from bot.models import Incident
from bot.runtime import Runtime
from bot.severity import CODES


@dataclass
class Week:
    start: date
    count: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CODES, 0))
    tta: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CODES})
    ttr: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CODES})


def breached(rt: Runtime, inc: Incident, now: datetime) -> bool:
    level = rt.policy.level(inc.severity)
    ack = (inc.acknowledged_at or now) - inc.declared_at
    res = (inc.resolved_at or now) - inc.declared_at
    return ack > level.respond or res > level.resolve


def compute(rt: Runtime, viewer: Viewer, weeks: int) -> dict:
    now = rt.now()
    tz = rt.policy.tz
    today = now.astimezone(tz).date()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = datetime.combine(first, datetime.min.time(), tz)
    table = {first + timedelta(weeks=i): Week(first + timedelta(weeks=i)) for i in range(weeks)}
    breaches = dict.fromkeys(CODES, 0)
    services: dict[str, Week] = {}  # per service: the same counters, over the whole window
    for inc in queries.in_window(rt, viewer, since):
        _count(services.setdefault(inc.service or "—", Week(first)), inc)
        day = inc.declared_at.astimezone(tz).date()
        wk = table.get(day - timedelta(days=day.weekday()))
        if wk is None or inc.severity not in wk.count:
            continue
        _count(wk, inc)
        breaches[inc.severity] += breached(rt, inc, now)
    items = queries.open_action_items(rt, viewer)
    overdue = [i for i in items if i.due and i.due < today]
    labels = [w.start.strftime("%d %b") for w in table.values()]

    def mean(per: str, code: str) -> list[float | None]:
        return [
            statistics.fmean(getattr(w, per)[code]) if getattr(w, per)[code] else None
            for w in table.values()
        ]

    return {
        "weeks": weeks,
        "since": first,
        "total": sum(sum(w.count.values()) for w in table.values()),
        "per_week": charts.stacked_bars(
            "Incidents per week by severity",
            labels,
            {c: [float(w.count[c]) for w in table.values()] for c in CODES},
        ),
        "mtta": charts.lines(
            "Mean time to acknowledge per severity (minutes)",
            labels,
            {c: mean("tta", c) for c in CODES},
            "m",
        ),
        "mttr": charts.lines(
            "Mean time to resolve per severity (minutes)",
            labels,
            {c: mean("ttr", c) for c in CODES},
            "m",
        ),
        "breaches": charts.stacked_bars(
            "SLA breaches per severity", list(CODES), {c: _one_hot(c, breaches) for c in CODES}
        ),
        "breach_counts": breaches,
        "services": [
            {
                "name": name,
                "count": sum(w.count.values()),
                "mtta": _mean([v for vals in w.tta.values() for v in vals]),
                "mttr": _mean([v for vals in w.ttr.values() for v in vals]),
            }
            for name, w in sorted(services.items())
        ],
        "open_items": len(items),
        "overdue_items": overdue,
    }


def _count(wk: Week, inc: Incident) -> None:
    if inc.severity not in wk.count:
        return
    wk.count[inc.severity] += 1
    if inc.acknowledged_at:
        wk.tta[inc.severity].append((inc.acknowledged_at - inc.declared_at).total_seconds() / 60)
    if inc.resolved_at:
        wk.ttr[inc.severity].append((inc.resolved_at - inc.declared_at).total_seconds() / 60)


def _mean(values: list[float]) -> str:
    if not values:
        return "—"
    m = statistics.fmean(values)
    return f"{m / 60:.1f} h" if m >= 120 else f"{m:.0f} min"


def _one_hot(code: str, counts: dict[str, int]) -> list[float]:
    return [float(counts[code]) if c == code else 0.0 for c in CODES]


def routes(rt: Runtime) -> list[BaseRoute]:
    @web.console(rt)
    async def page(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        raw = request.query_params.get("weeks", "12")
        weeks = int(raw) if raw.isdigit() and 1 <= int(raw) <= 104 else 12
        m = await run_in_threadpool(compute, rt, viewer, weeks)
        return await run_in_threadpool(lambda: web.render("metrics.html", viewer=viewer, m=m))

    return [Route("/stats", page, methods=["GET"])]
