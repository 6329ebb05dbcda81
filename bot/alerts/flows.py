"""Alerts in, end to end: store a delivery in one transaction, then declare, suggest, attach and
tell the war room. Declarations go through the same `ops.declare` as `/incident declare`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from bot.alerts import digest, messages, service
from bot.alerts.models import Alert, AlertGroup
from bot.alerts.sources.base import AlertSource, Delivery
from bot.chat import ChatError
from bot.errors import UserError
from bot.incident import flows, lifecycle, ops
from bot.incident.service import MAX_TITLE, IncidentError
from bot.models import Incident
from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class Received:
    new: int
    duplicates: int
    unrouted: int
    declaring: int  # groups whose incident is being declared, after this answer
    truncated: int

    def as_json(self) -> dict[str, Any]:
        return self.__dict__


def receive(rt: Runtime, source: AlertSource, delivery: Delivery) -> Received:
    with rt.db.session() as s:
        st = service.store(s, source.name, delivery.alerts, rt.policy.alerts, rt.now())
    if delivery.truncated:
        log.warning("%s left out %d alerts of a group", source.display, delivery.truncated)
    external = delivery.alerts[0].external_url if delivery.alerts else ""
    # Declaring (a war room, invitations, pins) takes longer than a sender should wait: the
    # alerts are stored and the group claimed, so it happens after the answer; if it fails or
    # the process dies, the claim's lease runs out and the next delivery declares again.
    for group_id, route, alert_id in st.to_declare:
        rt.submit(declare_group, rt, group_id, route, alert_id, rt.chat.bot_user_id, external)
    for group_id, route, alert_id in st.to_suggest:
        rt.submit(post_suggestion, rt, group_id, route, alert_id)
    for incident_id, alert_ids in st.attached.items():
        digest.add(rt, incident_id, alert_ids)
    for incident_id, route in st.all_resolved:
        rt.submit(all_resolved, rt, incident_id, route)
    return Received(st.new, st.duplicates, st.unrouted, len(st.to_declare), delivery.truncated)


def _title(a: Alert, group_labels: dict[str, str]) -> str:
    name = a.labels.get("alertname", "Alert")
    summary = a.annotations.get("summary", "")
    scope = ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items()) if k != "alertname" and v)
    title = f"{name}: {summary}" if summary else name
    # The group's labels keep two groups' titles apart (declarations dedupe on the title).
    suffix = f" [{scope}]" if scope else ""
    return title[: MAX_TITLE - len(suffix)].rstrip() + suffix if suffix else title[:MAX_TITLE]


def declare_group(
    rt: Runtime, group_id: int, route_name: str, alert_id: int, reporter: str, external: str = ""
) -> int | None:
    """Open the group's incident (the caller claimed the group); None if that failed, in which
    case the claim's lease runs out and the next delivery tries again."""
    route = rt.policy.alerts.route(route_name)
    with rt.db.read() as s:
        a, g = s.get(Alert, alert_id), s.get(AlertGroup, group_id)
    if route is None or a is None or g is None:
        return None
    try:
        d = ops.declare(
            rt,
            title=_title(a, g.labels),
            severity=route.severity_for(a.labels),
            impact=messages.details(a, external),
            reporter=reporter,
            team_id="",
            channel="",
            source_link=a.generator_url or external,
            # Named at declaration, so a P0/P1 pages the service's on-call as it commits.
            service_name=route.service or None,
        )
    except IncidentError as e:
        log.warning("declaring for alert group %s failed: %s", group_id, e)
        return None
    with rt.db.session() as s:
        service.link(s, group_id, d.incident.id, reporter, rt.now(), route.service)
    if not d.duplicate:
        flows.start_war_room(rt, d.incident.id)
    return d.incident.id


def post_suggestion(rt: Runtime, group_id: int, route_name: str, alert_id: int) -> None:
    route = rt.policy.alerts.route(route_name)
    with rt.db.read() as s:
        a = s.get(Alert, alert_id)
    if route is None or a is None:
        return
    text, blocks = messages.suggestion(
        group_id, route.name, route.service, route.severity_for(a.labels), a
    )
    channel = rt.chat.channel_id(rt.policy.announcement_channel)
    ts = rt.chat.post(channel, text, blocks)
    with rt.db.session() as s:
        s.execute(
            update(AlertGroup)
            .where(AlertGroup.id == group_id)
            .values(suggestion_channel=channel, suggestion_ts=ts)
        )


def _decide(rt: Runtime, group_id: int, to: str, user: str) -> AlertGroup:
    with rt.db.session() as s:
        if not service.claim_suggestion(s, group_id, to, user, rt.now()):
            g = s.get(AlertGroup, group_id)
            if g is None:
                raise UserError("That alert suggestion no longer exists.")
            what = {"declared": "declared", "declaring": "being declared", "ignored": "ignored"}
            who = f" by <@{g.decided_by}>" if g.decided_by else ""
            raise UserError(f"This alert was already {what.get(g.state, 'handled')}{who}.")
        g = s.get(AlertGroup, group_id, populate_existing=True)
        assert g is not None
        return g


def declare_suggested(rt: Runtime, group_id: int, user: str) -> Incident:
    """*Declare* on a suggestion: the first press declares, any other is told who did."""
    g = _decide(rt, group_id, "declaring", user)
    with rt.db.read() as s:
        alert_id = s.scalar(
            select(Alert.id)
            .where(Alert.group_id == group_id, Alert.status == "firing")
            .order_by(Alert.id.desc())
        )
    inc_id = declare_group(rt, group_id, g.route, alert_id, user) if alert_id else None
    if inc_id is None:
        with rt.db.session() as s:  # give the button back
            s.execute(update(AlertGroup).where(AlertGroup.id == group_id).values(state="suggested"))
        raise UserError("Declaring from this alert failed; press Declare again in a moment.")
    inc = ops.get(rt, inc_id)
    _replace(rt, g, f":rotating_light: Declared as *{inc.number}* by <@{user}>.")
    return inc


def ignore_suggested(rt: Runtime, group_id: int, user: str) -> None:
    g = _decide(rt, group_id, "ignored", user)
    _replace(rt, g, f":see_no_evil: Ignored by <@{user}>.")


def _replace(rt: Runtime, g: AlertGroup, line: str) -> None:
    if not (g.suggestion_channel and g.suggestion_ts):
        return
    channel, ts = g.suggestion_channel, g.suggestion_ts

    def edit() -> None:
        msg = rt.chat.message(channel, ts) or {}
        blocks = [b for b in msg.get("blocks") or [] if b.get("type") != "actions"]
        blocks.append(messages.decided(line)[1][0])
        rt.chat.update(channel, ts, msg.get("text") or line, blocks)

    rt.submit(edit)


def all_resolved(rt: Runtime, incident_id: int, route_name: str) -> None:
    route = rt.policy.alerts.route(route_name)
    auto = bool(route and route.auto_resolve)
    inc = ops.get(rt, incident_id)
    if inc.channel_id:
        text, blocks = messages.all_resolved(route_name, auto)
        try:
            rt.chat.post(inc.channel_id, text, blocks)
        except ChatError as e:
            log.warning("could not tell war room %s that its alerts resolved: %s", inc.number, e)
    if auto:
        try:
            change = ops.on_incident(
                rt, incident_id, lifecycle.resolve, "Every alert resolved", rt.chat.bot_user_id
            )
        except IncidentError:
            return  # resolved meanwhile
        flows.apply_change(rt, change)


def listing(rt: Runtime, limit: int = 20) -> str:
    with rt.db.read() as s:
        unrouted = list(
            s.scalars(
                select(Alert)
                .where(Alert.route.is_(None))
                .order_by(Alert.received_at.desc(), Alert.id.desc())
                .limit(limit)
            )
        )
        groups = list(s.scalars(select(AlertGroup).where(AlertGroup.state == "suggested")))
        suggested = [
            (
                g.id,
                s.scalar(select(Alert).where(Alert.group_id == g.id).order_by(Alert.id.desc())),
                g.route,
            )
            for g in groups[:limit]
        ]
    return messages.listing(unrouted, suggested)
