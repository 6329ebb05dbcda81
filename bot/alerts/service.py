"""Plain database operations on alerts, each in the caller's transaction: store a delivery once,
group it, attach it to its group's open incident, and claim the group's next step."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.alerts.models import Alert, AlertGroup
from bot.alerts.policy import AlertRoute, AlertsPolicy
from bot.alerts.sources.base import IncomingAlert
from bot.db import insert_for
from bot.incident import timeline
from bot.models import Incident

DECLARE_LEASE = timedelta(seconds=60)  # a declaration that died is retried after this


@dataclass
class Stored:
    """What one delivery changed, for the flows to act on after the commit."""

    new: int = 0
    duplicates: int = 0
    unrouted: int = 0
    to_declare: list[tuple[int, str, int]] = field(default_factory=list)  # group, route, alert
    to_suggest: list[tuple[int, str, int]] = field(default_factory=list)
    attached: dict[int, list[int]] = field(default_factory=dict)  # incident -> alert ids
    all_resolved: list[tuple[int, str]] = field(default_factory=list)  # incident, route


def group_key(route: AlertRoute, labels: dict[str, str]) -> tuple[str, dict[str, str]]:
    values = {k: labels.get(k, "") for k in route.group_by}
    raw = "\x1f".join(f"{k}\x1e{v}" for k, v in sorted(values.items()))
    return hashlib.sha256(raw.encode()).hexdigest(), values


def _group(
    s: Session, route: str, key: str, labels: dict[str, str], now: datetime
) -> tuple[AlertGroup, int | None]:
    """The group's row, created if new, locked until commit (deliveries of one group queue
    here), and its open incident. A known group costs one round trip: the locking SELECT."""
    pick = (
        select(AlertGroup, Incident.status)
        .outerjoin(Incident, Incident.id == AlertGroup.incident_id)
        .where(AlertGroup.route == route, AlertGroup.key == key)
        .with_for_update(of=AlertGroup)
        .execution_options(populate_existing=True)
    )
    row = s.execute(pick).first()
    if row is None:
        table = AlertGroup.__table__
        s.execute(
            insert_for(s.get_bind())(table)
            .values(route=route, key=key, labels=labels, state="", created_at=now)
            .on_conflict_do_nothing(index_elements=[table.c.route, table.c.key])
        )
        row = s.execute(pick).first()
    assert row is not None
    g, status = row
    return g, g.incident_id if status is not None and status != "resolved" else None


def _ident(fingerprint: str, status: str, starts_at: datetime) -> tuple[str, str, datetime]:
    return fingerprint, status, starts_at.astimezone(UTC)


def _insert_many(
    s: Session,
    source: str,
    alerts: list[IncomingAlert],
    route: str | None,
    group_id: int | None,
    now: datetime,
    incident_id: int | None = None,
) -> tuple[list[tuple[int, IncomingAlert]], int]:
    """Store a delivery's alerts of one group in one round trip, whatever the count (an
    executemany that SQLAlchemy sends as one multi-row INSERT … RETURNING, its statement
    compiled once and cached); the new ones with their ids, and how many were already stored."""
    unique: dict[tuple[str, str, datetime], IncomingAlert] = {}
    for a in alerts:
        unique.setdefault(_ident(a.fingerprint, a.status, a.starts_at), a)
    table = Alert.__table__
    rows = s.execute(
        insert_for(s.get_bind())(table)
        .on_conflict_do_nothing(
            index_elements=[table.c.source, table.c.fingerprint, table.c.status, table.c.starts_at]
        )
        .returning(table.c.id, table.c.fingerprint, table.c.status, table.c.starts_at),
        [
            {
                "source": source,
                "fingerprint": a.fingerprint,
                "status": a.status,
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "labels": a.labels,
                "annotations": a.annotations,
                "generator_url": a.generator_url,
                "source_group_key": a.source_group_key,
                "route": route,
                "group_id": group_id,
                "incident_id": incident_id,
                "received_at": now,
            }
            for a in unique.values()
        ],
    ).all()
    # RETURNING gives no order for a multi-row INSERT: match the rows back by their key.
    new = sorted((int(r.id), unique[_ident(r.fingerprint, r.status, r.starts_at)]) for r in rows)
    return new, len(alerts) - len(new)


def store(
    s: Session, source: str, alerts: Iterable[IncomingAlert], policy: AlertsPolicy, now: datetime
) -> Stored:
    out = Stored()
    unrouted: list[IncomingAlert] = []
    grouped: dict[tuple[str, str], tuple[AlertRoute, dict[str, str], list[IncomingAlert]]] = {}
    for a in alerts:
        route = policy.route_for(source, a.labels)
        if route is None:
            unrouted.append(a)
            continue
        key, values = group_key(route, a.labels)
        grouped.setdefault((route.name, key), (route, values, []))[2].append(a)
    if unrouted:
        new, dup = _insert_many(s, source, unrouted, None, None, now)
        out.new, out.unrouted, out.duplicates = len(new), len(new), dup
    # Lock groups in one order everywhere, so two deliveries never wait on each other in a circle.
    for (name, key), (route, values, items) in sorted(grouped.items(), key=lambda kv: kv[0]):
        g, incident = _group(s, name, key, values, now)
        # With the group's incident open, the alerts are stored already on it.
        new, dup = _insert_many(s, source, items, name, g.id, now, incident)
        out.duplicates += dup
        out.new += len(new)
        if new:
            _route_group(s, source, g, incident, route, new, now, out)
        elif g.state == "declaring" and g.claim_until is not None and g.claim_until <= now:
            _redeclare(s, g, incident, route, now, out)
    return out


def _redeclare(
    s: Session, g: AlertGroup, incident: int | None, route: AlertRoute, now: datetime, out: Stored
) -> None:
    """A declaration that failed (or whose process died) is tried again by the next delivery,
    even a repeat that brings nothing new: otherwise dedupe would keep the group silent."""
    if route.action != "declare" or incident is not None:
        return
    latest = s.scalar(
        select(Alert.id)
        .where(Alert.group_id == g.id, Alert.status == "firing", Alert.incident_id.is_(None))
        .order_by(Alert.id.desc())
    )
    if latest is not None and _still_firing(s, g.id):
        g.claim_until = now + DECLARE_LEASE
        out.to_declare.append((g.id, route.name, latest))


def _route_group(
    s: Session,
    source: str,
    g: AlertGroup,
    incident: int | None,
    route: AlertRoute,
    new: list[tuple[int, IncomingAlert]],
    now: datetime,
    out: Stored,
) -> None:
    firing = [aid for aid, a in new if a.status == "firing"]
    if incident is not None:
        known = {aid: (source, a) for aid, a in new}
        attach(s, incident, [aid for aid, _ in new], now, known)
        out.attached.setdefault(incident, []).extend(aid for aid, _ in new)
        if firing:
            if g.all_resolved_at is not None:  # no UPDATE of the group for every delivery
                g.all_resolved_at = None
        elif all_resolved(s, incident) and g.all_resolved_at is None:
            g.all_resolved_at = now
            timeline.record(
                s,
                incident,
                "alerts_resolved",
                at=now,
                actor=None,
                text=f"Every alert of route {route.name} has resolved",
            )
            out.all_resolved.append((incident, route.name))
        return
    if not firing:
        if g.state in ("suggested", "ignored") and not _still_firing(s, g.id):
            g.state = ""  # the next firing alert of this group is suggested afresh
        return
    lease_over = g.claim_until is None or g.claim_until <= now
    if route.action == "declare" and (g.state != "declaring" or lease_over):
        g.state, g.claim_until = "declaring", now + DECLARE_LEASE
        out.to_declare.append((g.id, route.name, firing[0]))
    elif route.action == "suggest" and g.state not in ("suggested", "ignored", "declaring"):
        g.state = "suggested"
        out.to_suggest.append((g.id, route.name, firing[0]))


def _still_firing(s: Session, group_id: int) -> bool:
    rows = s.execute(
        select(Alert.fingerprint, Alert.starts_at, Alert.status).where(Alert.group_id == group_id)
    ).all()
    return bool(_firing_set(rows))


def _firing_set(rows: Iterable[tuple[str, datetime, str]]) -> set[tuple[str, datetime]]:
    firing = {(f, t) for f, t, st in rows if st == "firing"}
    return firing - {(f, t) for f, t, st in rows if st == "resolved"}


def all_resolved(s: Session, incident_id: int) -> bool:
    rows = s.execute(
        select(Alert.fingerprint, Alert.starts_at, Alert.status).where(
            Alert.incident_id == incident_id
        )
    ).all()
    return bool(rows) and not _firing_set(rows)


def attach(
    s: Session,
    incident_id: int,
    alert_ids: list[int],
    now: datetime,
    known: dict[int, tuple[str, IncomingAlert]] | None = None,
) -> None:
    """Put alerts on the incident and its timeline, one event each, in this transaction.

    known: the alerts as just stored on the incident (id -> source, alert), so they are
    neither updated nor read back."""
    if not alert_ids:
        return
    if known is None:
        s.execute(update(Alert).where(Alert.id.in_(alert_ids)).values(incident_id=incident_id))
        rows = s.scalars(select(Alert).where(Alert.id.in_(alert_ids)).order_by(Alert.id))
        known = {a.id: (a.source, a) for a in rows}  # type: ignore[misc]
    for aid in sorted(alert_ids):
        source, a = known[aid]
        name = a.labels.get("alertname", "alert")
        summary = a.annotations.get("summary", "")
        timeline.record(
            s,
            incident_id,
            "alert_" + a.status,
            at=a.ends_at if a.status == "resolved" and a.ends_at else a.starts_at,
            recorded_at=now,
            actor=None,
            text=f"{name} {a.status}" + (f": {summary}" if summary else ""),
            data={"alert_id": aid, "fingerprint": a.fingerprint, "source": source},
        ).source_key = f"alert:{aid}"


def link(
    s: Session,
    group_id: int,
    incident_id: int,
    decided_by: str | None,
    now: datetime,
    service: str = "",
) -> list[int]:
    """The group's new incident: every alert of the group not yet on one goes onto it."""
    g = s.get(AlertGroup, group_id, with_for_update=True, populate_existing=True)
    assert g is not None
    g.incident_id, g.state, g.claim_until = incident_id, "declared", None
    g.decided_by, g.decided_at, g.all_resolved_at = decided_by, now, None
    if service:
        s.execute(
            update(Incident)
            .where(Incident.id == incident_id, Incident.service.is_(None))
            .values(service=service)
        )
    ids = list(
        s.scalars(select(Alert.id).where(Alert.group_id == group_id, Alert.incident_id.is_(None)))
    )
    attach(s, incident_id, ids, now)
    return ids


def claim_suggestion(s: Session, group_id: int, to: str, user: str, now: datetime) -> bool:
    """Declare or Ignore pressed: True for the first press only (double clicks, two people)."""
    res = s.execute(
        update(AlertGroup)
        .where(AlertGroup.id == group_id, AlertGroup.state == "suggested")
        .values(state=to, decided_by=user, decided_at=now, claim_until=now + DECLARE_LEASE)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]
