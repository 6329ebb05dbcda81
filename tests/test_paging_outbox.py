"""The page outbox under contention, and the stand-ins' own strictness as the docs describe."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import UTC, datetime

import pytest

from bot.config import Policy, Settings
from bot.db import Database
from bot.models import Incident
from bot.paging import service
from bot.paging.models import Page
from bot.paging.outbox import deliver_due
from bot.paging.policy import PagingPolicy, PagingTarget
from bot.runtime import Runtime
from standins.jsm.api import JsmStandIn
from standins.pagerduty.api import PagerDutyStandIn
from standins.statuspage.api import StatuspageStandIn

PD_KEY = "R0UTINGKEYR0UTINGKEYR0UTINGKEY32"


def _post(url: str, body, headers=None, method: str = "POST"):
    req = urllib.request.Request(url, json.dumps(body).encode(), method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_concurrent_workers_send_each_page_once(db_url, monkeypatch) -> None:
    pd = PagerDutyStandIn({PD_KEY}).start()
    monkeypatch.setenv("PD_KEY", PD_KEY)
    policy = Policy(
        paging=PagingPolicy(
            targets={"checkout": PagingTarget(provider="pagerduty", key_env="PD_KEY", url=pd.url)}
        )
    )
    rt = Runtime(
        settings=Settings(database_url=db_url),
        policy=policy,
        db=Database(db_url),
        chat=None,
        clock=None,
        once=None,  # type: ignore[arg-type]
    )
    rt.clock = type("C", (), {"now": staticmethod(lambda: datetime.now(UTC))})()
    try:
        now = datetime.now(UTC)
        with rt.db.session() as s:
            for i in range(20):
                inc = Incident(
                    day=now.date(),
                    seq=i + 1,
                    title=f"Incident {i}",
                    severity="P1",
                    reporter_id="U0ALICE",
                    declared_at=now,
                )
                s.add(inc)
                s.flush()
                service.page(s, policy.paging, inc, "checkout", inc.title, "U0ALICE", now)
        threads = [threading.Thread(target=deliver_due, args=(rt,)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with rt.db.read() as s:
            states = [p.state for p in s.query(Page)]
        assert states == ["sent"] * 20
        assert len(pd.calls("/v2/enqueue")) == 20  # six workers, each page sent once
        assert sorted(a.triggers for a in pd.alerts) == [1] * 20
    finally:
        rt.db.dispose()
        pd.stop()


def test_pagerduty_standin_refuses_what_pagerduty_refuses() -> None:
    pd = PagerDutyStandIn({PD_KEY}).start()
    try:
        status, body = _post(pd.url, {"routing_key": PD_KEY, "event_action": "trigger"})
        assert status == 400 and body["status"] == "invalid event"
        assert "'payload' is missing or not an object" in body["errors"]
        event = {"summary": "x", "source": "s", "severity": "fatal"}
        status, body = _post(
            pd.url, {"routing_key": "short", "event_action": "trigger", "payload": event}
        )
        assert "Invalid routing key" in body["errors"]
        assert "'payload.severity' is missing or invalid" in body["errors"]
        status, body = _post(pd.url, {"routing_key": PD_KEY, "event_action": "resolve"})
        assert "'dedup_key' is missing or blank" in body["errors"]
        ok = {
            "routing_key": PD_KEY,
            "event_action": "trigger",
            "dedup_key": "k",
            "payload": {"summary": "x", "source": "s", "severity": "info"},
        }
        assert _post(pd.url, ok) == (
            202,
            {"status": "success", "message": "Event processed", "dedup_key": "k"},
        )
        _post(pd.url, ok)
        assert len(pd.alerts) == 1 and pd.alerts[0].triggers == 2  # merged into the open alert
        _post(pd.url, {"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": "k"})
        _post(pd.url, ok)
        assert [a.status for a in pd.alerts] == ["resolved", "triggered"]  # a new alert
    finally:
        pd.stop()


def test_jsm_standin_authenticates_validates_and_dedups_by_alias() -> None:
    jsm = JsmStandIn({"good"}).start()
    try:
        url = jsm.url + "/alerts"
        assert _post(url, {"message": "x"})[0] == 401
        assert _post(url, {"message": "x"}, {"Authorization": "GenieKey bad"})[0] == 401
        auth = {"Authorization": "GenieKey good"}
        status, body = _post(url, {"message": "", "priority": "P9"}, auth)
        assert status == 422 and set(body["errors"]) == {"message", "priority"}
        for _ in range(2):
            status, body = _post(url, {"message": "db down", "alias": "a1", "priority": "P1"}, auth)
            assert status == 202 and body["result"] == "Request will be processed"
        [alert] = jsm.alerts
        assert alert.count == 2
        status, _ = _post(url + "/a1/close?identifierType=nope", {}, auth)
        assert status == 422
        status, body = _post(url + "/missing/close?identifierType=alias", {}, auth)
        assert status == 202
        assert jsm.requests[body["requestId"]]["status"] == "Alert does not exist"
    finally:
        jsm.stop()


def test_statuspage_standin_enforces_auth_enums_and_components() -> None:
    sp = StatuspageStandIn("key", "pg1", {"c1": "API"}).start()
    try:
        url = sp.url + "/pages/pg1/incidents"
        assert _post(url, {"incident": {"name": "x"}})[0] == 401
        auth = {"Authorization": "OAuth key"}
        assert _post(sp.url + "/pages/other/incidents", {"incident": {"name": "x"}}, auth)[0] == 404
        status, body = _post(
            url, {"incident": {"name": "", "status": "broken", "components": {"c9": "down"}}}, auth
        )
        assert status == 422 and len(body["error"]) == 3
        status, inc = _post(
            url, {"incident": {"name": "API down", "components": {"c1": "major_outage"}}}, auth
        )
        assert status == 201 and inc["status"] == "investigating"
        status, inc = _post(
            f"{url}/{inc['id']}", {"incident": {"status": "resolved"}}, auth, "PATCH"
        )
        assert status == 200 and inc["resolved_at"]
    finally:
        sp.stop()


@pytest.mark.parametrize("status", [429, 420])
def test_statuspage_throttling_is_retried_by_the_adapter(status) -> None:
    from bot.statuspage.atlassian import AtlassianStatuspage

    sp = StatuspageStandIn("key", "pg1", {}).start()
    try:
        sp.fail_next(status, times=1, retry_after=0)
        page = AtlassianStatuspage(sp.url, "pg1", "key", timeout=2)
        with pytest.raises(Exception) as e:
            page.open("x", "investigating", "b", {})
        assert e.value.retry and e.value.retry_after == 0  # the caller waits and retries
        assert page.open("x", "investigating", "b", {})
    finally:
        sp.stop()
