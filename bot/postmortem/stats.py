"""Incident metrics: counts, time to acknowledge and resolve, SLA breaches, open by age."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Policy
from bot.models import Incident
from bot.severity import CODES


@dataclass
class SeverityStats:
    code: str
    count: int = 0
    tta: list[float] = field(default_factory=list)  # minutes
    ttr: list[float] = field(default_factory=list)
    breaches: int = 0


def _fmt(values: list[float]) -> str:
    if not values:
        return "—"
    mean, median = statistics.fmean(values), statistics.median(values)
    return f"{_m(mean)} / {_m(median)}"


def _m(minutes: float) -> str:
    return f"{minutes / 60:.1f} h" if minutes >= 120 else f"{minutes:.0f} min"


def compute(s: Session, policy: Policy, now: datetime, window: timedelta) -> str:
    since = now - window
    rows = list(s.scalars(select(Incident).where(Incident.declared_at >= since)))
    per = {c: SeverityStats(c) for c in CODES}
    for inc in rows:
        st, level = per[inc.severity], policy.level(inc.severity)
        st.count += 1
        breached = False
        if inc.acknowledged_at:
            tta = inc.acknowledged_at - inc.declared_at
            st.tta.append(tta.total_seconds() / 60)
            breached |= tta > level.respond
        else:
            breached |= now - inc.declared_at > level.respond
        if inc.resolved_at:
            ttr = inc.resolved_at - inc.declared_at
            st.ttr.append(ttr.total_seconds() / 60)
            breached |= ttr > level.resolve
        else:
            breached |= now - inc.declared_at > level.resolve
        st.breaches += breached
    days = window.days or round(window.total_seconds() / 86400, 1)
    lines = [
        f"Incidents declared in the last {days:g} days: {len(rows)}",
        "",
        "SEV  COUNT  ACK mean/median     RESOLVE mean/median  SLA BREACHED",
    ]
    for st in per.values():
        rate = (
            f"{st.breaches}/{st.count} ({100 * st.breaches / st.count:.0f}%)" if st.count else "—"
        )
        lines.append(f"{st.code:<4} {st.count:>5}  {_fmt(st.tta):<19} {_fmt(st.ttr):<20} {rate}")
    open_now = list(s.scalars(select(Incident).where(Incident.status != "resolved")))
    buckets = {"< 1 h": 0, "1-24 h": 0, "1-7 d": 0, "> 7 d": 0}
    for inc in open_now:
        age = now - inc.declared_at
        key = (
            "< 1 h"
            if age < timedelta(hours=1)
            else "1-24 h"
            if age < timedelta(days=1)
            else "1-7 d"
            if age < timedelta(days=7)
            else "> 7 d"
        )
        buckets[key] += 1
    lines += [
        "",
        f"Open incidents now: {len(open_now)} — by age: "
        + ", ".join(f"{k}: {v}" for k, v in buckets.items()),
    ]
    return "\n".join(lines)
