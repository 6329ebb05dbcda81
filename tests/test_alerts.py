"""Alerts in through the real HTTP hooks: authentication, routes, grouping, dedupe, resolution."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.alerts.models import Alert
from bot.config import Policy
from tests.alert_payloads import ALERTS_POLICY, am_alert, am_body, grafana_body, post
from tests.conftest import Bot, make_bot
from tests.helpers import incidents, kinds


@pytest.fixture
def abot(db_url, standin) -> Iterator[Bot]:
    yield from make_bot(db_url, standin, Policy(alerts=ALERTS_POLICY))


def stored(bot: Bot) -> int:
    with bot.rt.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Alert)) or 0)


def bot_texts(bot: Bot, channel: str) -> str:
    return "\n".join(
        m["text"] + str(m.get("blocks")) for m in bot.slack.messages(channel) if m.get("bot_id")
    )


@pytest.mark.parametrize(
    "source,headers",
    [
        ("alertmanager", {}),
        ("alertmanager", {"Authorization": "Bearer wrong"}),
        ("alertmanager", {"Authorization": "Basic am-token-s3cret"}),
        ("grafana", {"X-Grafana-Alerting-Signature": "00" * 32}),
        ("grafana", {"Authorization": "Bearer am-token-s3cret"}),
        ("generic", {"Authorization": "Bearer am-token-s3cret"}),  # another source's token
    ],
)
def test_unauthenticated_deliveries_are_refused_and_nothing_is_stored(abot, source, headers):
    body = grafana_body(am_alert()) if source == "grafana" else am_body(am_alert())
    status, answer = post(abot.url, source, body, headers)
    assert (status, answer) == (401, {"error": "unauthorized"})
    assert stored(abot) == 0 and incidents(abot.rt) == []


def test_a_source_the_policy_does_not_name_is_refused(db_url, standin):
    policy = Policy(alerts={**ALERTS_POLICY, "sources": {}})
    for bot in make_bot(db_url, standin, policy):
        status, _ = post(bot.url, "alertmanager", am_body(am_alert()))
        assert status == 401 and stored(bot) == 0


def test_declare_route_opens_one_incident_even_when_delivered_three_times_at_once(abot):
    body = am_body(am_alert(instance="pod-1"), am_alert(instance="pod-2"))
    results: list[tuple[int, dict]] = []
    threads = [
        threading.Thread(target=lambda: results.append(post(abot.url, "alertmanager", body)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    abot.settle()
    assert [r[0] for r in results] == [200, 200, 200]
    assert sum(r[1]["new"] for r in results) == 2
    assert sum(r[1]["duplicates"] for r in results) == 4
    [inc] = incidents(abot.rt)
    assert inc.severity == "P1" and inc.channel_id and inc.service in (None, "")
    # A repeat later (repeat_interval) changes nothing either.
    status, answer = post(abot.url, "alertmanager", body)
    abot.settle()
    assert status == 200 and answer["new"] == 0 and answer["duplicates"] == 2
    assert len(incidents(abot.rt)) == 1 and stored(abot) == 2
    assert kinds(abot.rt, inc.id).count("alert_firing") == 2


def test_alert_details_reach_the_pinned_alert_escaped(abot):
    alert = am_alert(
        summary="Checkout <!channel> 5xx & rising",
        description="Error rate above 5% <@U0ALICE|x>",
        runbook_url="https://runbooks.example/checkout?a=1&b=2",
    )
    post(abot.url, "alertmanager", am_body(alert))
    abot.settle()
    [inc] = incidents(abot.rt)
    pinned = str(abot.slack.message(inc.channel_id, inc.alert_ts)["blocks"])
    assert "&lt;!channel&gt; 5xx &amp; rising" in pinned
    assert "<!channel>" not in bot_texts(abot, inc.channel_id)
    assert "<!channel>" not in bot_texts(abot, "C0INCIDENTS")
    assert "https://runbooks.example/checkout?a=1&amp;b=2" in pinned
    assert (
        "<http://prometheus.example:9090/graph?g0.expr=up&amp;g0.tab=1&amp;i=pod-1|link>" in pinned
    )


def test_new_alerts_of_the_group_attach_to_the_open_incident_and_tell_the_war_room(abot):
    post(abot.url, "alertmanager", am_body(am_alert(instance="pod-1")))
    abot.settle()
    [inc] = incidents(abot.rt)
    status, answer = post(abot.url, "alertmanager", am_body(am_alert(instance="pod-3")))
    abot.settle()
    assert status == 200 and answer["new"] == 1 and answer["declaring"] == 0
    assert len(incidents(abot.rt)) == 1
    assert kinds(abot.rt, inc.id).count("alert_firing") == 2
    assert "HighErrorRate on pod-3" in bot_texts(abot, inc.channel_id)
    # Another alertname is another group: another incident.
    post(abot.url, "alertmanager", am_body(am_alert(name="LatencyHigh")))
    abot.settle()
    assert len(incidents(abot.rt)) == 2


def test_resolved_alerts_are_recorded_and_all_resolved_tells_the_war_room(abot):
    firing = [am_alert(instance="pod-1"), am_alert(instance="pod-2")]
    post(abot.url, "alertmanager", am_body(*firing))
    abot.settle()
    [inc] = incidents(abot.rt)
    post(abot.url, "alertmanager", am_body(am_alert(instance="pod-1", status="resolved")))
    abot.settle()
    assert "Every alert" not in bot_texts(abot, inc.channel_id)
    post(abot.url, "alertmanager", am_body(am_alert(instance="pod-2", status="resolved")))
    abot.settle()
    assert kinds(abot.rt, inc.id).count("alert_resolved") == 2
    assert "Every alert of this incident" in bot_texts(abot, inc.channel_id)
    [inc] = incidents(abot.rt)
    assert inc.status != "resolved"  # the route does not say auto_resolve
    with abot.rt.db.read() as s:
        assert s.scalar(select(func.count()).where(Alert.status == "resolved")) == 2


def test_auto_resolve_route_resolves_when_every_alert_resolved(abot):
    post(abot.url, "alertmanager", am_body(am_alert(service="payments")))
    abot.settle()
    post(abot.url, "alertmanager", am_body(am_alert(service="payments", status="resolved")))
    abot.settle()
    [inc] = incidents(abot.rt)
    assert inc.status == "resolved"
    assert "INCIDENT RESOLVED" in bot_texts(abot, inc.channel_id)


def test_suggest_posts_declare_and_ignore_and_a_double_click_declares_once(abot):
    status, answer = post(abot.url, "grafana", grafana_body(am_alert(service="search-api")))
    abot.settle()
    assert status == 200 and answer["declaring"] == 0 and incidents(abot.rt) == []
    [msg] = [m for m in abot.slack.messages("C0INCIDENTS") if "suggests" in m["text"]]
    assert "alert_declare" in str(msg["blocks"]) and "alert_ignore" in str(msg["blocks"])
    results = []
    threads = [
        threading.Thread(
            target=lambda u=u: results.append(
                abot.driver.press("C0INCIDENTS", msg["ts"], "alert_declare", u).status
            )
        )
        for u in ("U0ALICE", "U0BOB")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    abot.settle()
    assert results == [200, 200]
    [inc] = incidents(abot.rt)
    assert inc.reporter_id in ("U0ALICE", "U0BOB") and inc.channel_id
    assert kinds(abot.rt, inc.id).count("alert_firing") == 1
    after = abot.slack.message("C0INCIDENTS", msg["ts"])
    assert "Declared as" in str(after["blocks"]) and "alert_declare" not in str(after["blocks"])
    # The same alert again changes nothing; no second suggestion.
    post(abot.url, "grafana", grafana_body(am_alert(service="search-api")))
    abot.settle()
    assert len([m for m in abot.slack.messages("C0INCIDENTS") if "suggests" in m["text"]]) == 1


def test_ignore_records_who_ignored(abot):
    post(abot.url, "alertmanager", am_body(am_alert(service="search")))
    abot.settle()
    [msg] = [m for m in abot.slack.messages("C0INCIDENTS") if "suggests" in m["text"]]
    assert abot.driver.press("C0INCIDENTS", msg["ts"], "alert_ignore", "U0BOB").status == 200
    abot.settle()
    assert "Ignored by <@U0BOB>" in str(abot.slack.message("C0INCIDENTS", msg["ts"])["blocks"])
    assert incidents(abot.rt) == []
    # A second press from a screen that still shows the buttons.
    value = str(msg["blocks"]).split("'value': '")[1].split("'")[0]
    abot.driver.block_action(
        "U0ALICE", "C0INCIDENTS", msg["ts"], "alert_ignore", value, message=msg
    )
    abot.settle()
    assert any(
        "already ignored by <@U0BOB>" in e["text"] for e in abot.slack.ephemerals(user="U0ALICE")
    )


def test_attach_only_records_and_unrouted_alerts_show_in_incident_alerts(abot):
    post(abot.url, "alertmanager", am_body(am_alert(name="LogVolumeHigh", service="misc")))
    post(abot.url, "alertmanager", am_body(am_alert(name="<!here> Mystery", service="nowhere")))
    abot.settle()
    assert incidents(abot.rt) == [] and stored(abot) == 2
    r = abot.cmd("alerts")
    text = r.json["text"]
    assert "&lt;!here&gt; Mystery" in text and "<!here>" not in text
    assert "LogVolumeHigh" not in text  # routed (attach), so not unrouted


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        ({"version": "3", "alerts": []}, "version"),
        ({"version": "4", "groupKey": "g", "status": "firing"}, "missing field 'alerts'"),
        ({**am_body(am_alert()), "groupKey": None}, "groupKey"),
        ({**am_body(am_alert(), {**am_alert(instance="x"), "startsAt": "yesterday"})}, "startsAt"),
        ({**am_body(am_alert(), {**am_alert(instance="y"), "status": "pending"})}, "status"),
        ({**am_body(am_alert(), {**am_alert(instance="z"), "labels": {"a": 1}})}, "labels"),
        (b"x" * 1_000_001, "too large"),
    ],
)
def test_malformed_bodies_are_400_with_a_reason_and_nothing_is_half_stored(abot, body, reason):
    status, answer = post(abot.url, "alertmanager", body)
    assert status == 400 and reason in answer["error"]
    assert stored(abot) == 0 and incidents(abot.rt) == []


def test_generic_hook_takes_its_documented_json(abot):
    body = {
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "service": "payments"},
                "summary": "Disk 95% full",
                "starts_at": "2026-11-22T10:00:00Z",
            }
        ]
    }
    status, answer = post(abot.url, "generic", body)
    abot.settle()
    assert status == 200 and answer["new"] == 1 and answer["declaring"] == 1
    assert len(incidents(abot.rt)) == 1
    status, answer = post(abot.url, "generic", {"alerts": [{"status": "firing", "labels": {}}]})
    assert status == 400 and "alertname" in answer["error"]


def test_a_failed_declaration_is_retried_by_the_next_delivery_even_a_repeat(abot, monkeypatch):
    from bot.alerts import flows
    from bot.incident.service import IncidentError

    real = flows.ops.declare

    def refuse(*a, **kw):
        raise IncidentError("This incident is already being declared; it will appear in a moment.")

    monkeypatch.setattr(flows.ops, "declare", refuse)
    body = am_body(am_alert())
    assert post(abot.url, "alertmanager", body)[0] == 200
    abot.settle()  # the declaration runs after the answer
    assert incidents(abot.rt) == []
    monkeypatch.setattr(flows.ops, "declare", real)
    assert post(abot.url, "alertmanager", body)[1]["declaring"] == 0  # within the lease
    later = abot.rt.now() + timedelta(seconds=61)
    monkeypatch.setattr(abot.rt, "now", lambda: later)
    status, answer = post(abot.url, "alertmanager", body)
    abot.settle()
    assert status == 200 and answer["new"] == 0 and answer["declaring"] == 1
    [inc] = incidents(abot.rt)
    assert kinds(abot.rt, inc.id).count("alert_firing") == 1
