"""An alert that declares a P1 for a catalog service pages that service's on-call, once, however
often Alertmanager re-sends the group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Policy
from bot.paging.outbox import PageRunner
from bot.paging.policy import PagingPolicy, PagingTarget
from standins.pagerduty.api import PagerDutyStandIn
from tests.alert_payloads import ALERTS_POLICY, am_alert, am_body, post
from tests.conftest import Bot, make_bot
from tests.helpers import incidents
from tests.test_paging import PD_KEY, _until

POLICY = {
    **ALERTS_POLICY,
    "routes": [
        {
            "name": "checkout",
            "match": {"service": "checkout"},
            "service": "checkout",
            "severity": "P1",
            "action": "declare",
            "group_by": ["alertname", "service"],
        }
    ],
}


@pytest.fixture
def pd() -> Iterator[PagerDutyStandIn]:
    s = PagerDutyStandIn({PD_KEY}).start()
    yield s
    s.stop()


@pytest.fixture
def abot(db_url, standin, pd, monkeypatch) -> Iterator[Bot]:
    monkeypatch.setenv("PD_ALERTS_KEY", PD_KEY)
    paging = PagingPolicy(
        targets={
            "checkout": PagingTarget(provider="pagerduty", key_env="PD_ALERTS_KEY", url=pd.url)
        }
    )
    for bot in make_bot(db_url, standin, Policy(alerts=POLICY, paging=paging)):
        runner = PageRunner(bot.rt, tick_seconds=0.1).start()
        try:
            yield bot
        finally:
            runner.stop()


def test_an_alert_declared_p1_pages_its_services_on_call_once(abot, pd):
    body = am_body(am_alert(instance="pod-1"), am_alert(instance="pod-2"))
    for _ in range(3):  # the first delivery, a retry and a repeat
        assert post(abot.url, "alertmanager", body)[0] == 200
        abot.settle()
    [inc] = incidents(abot.rt)
    assert inc.service == "checkout" and inc.severity == "P1"
    _until(lambda: len(pd.alerts) == 1)
    [alert] = pd.alerts
    assert alert.dedup_key == f"warroom-{inc.number}-checkout" and alert.triggers == 1
