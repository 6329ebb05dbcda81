"""Pages out through the wire: declaring, *Take lead*, resolving and `/incident page` reach the
PagerDuty and Jira Service Management stand-ins exactly once, with retries and loud failures."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.config import Policy
from bot.paging.models import Page
from bot.paging.outbox import PageRunner
from bot.paging.policy import PagingPolicy, PagingTarget
from standins.jsm.api import JsmStandIn
from standins.pagerduty.api import PagerDutyStandIn
from tests.conftest import make_bot
from tests.helpers import events, incidents

PD_KEY = "R0UTINGKEYR0UTINGKEYR0UTINGKEY32"
JSM_KEY = "0b4c2f6e-jsm-integration-key"


@pytest.fixture
def pd() -> Iterator[PagerDutyStandIn]:
    s = PagerDutyStandIn({PD_KEY}, hold_seconds=3).start()
    yield s
    s.stop()


@pytest.fixture
def jsm() -> Iterator[JsmStandIn]:
    s = JsmStandIn({JSM_KEY}).start()
    yield s
    s.stop()


@pytest.fixture
def paged(db_url, standin, pd, jsm, monkeypatch):
    monkeypatch.setenv("PD_CHECKOUT_KEY", PD_KEY)
    monkeypatch.setenv("JSM_DBA_KEY", JSM_KEY)
    policy = Policy(
        paging=PagingPolicy(
            targets={
                "checkout": PagingTarget(
                    provider="pagerduty", key_env="PD_CHECKOUT_KEY", url=pd.url
                ),
                "dba": PagingTarget(provider="jsm", key_env="JSM_DBA_KEY", url=jsm.url),
            },
            default="checkout",
            max_attempts=3,
            timeout_seconds=1,
            backoff_seconds=0.2,
        )
    )
    for bot in make_bot(db_url, standin, policy):
        runner = PageRunner(bot.rt, tick_seconds=0.1).start()
        try:
            yield bot
        finally:
            runner.stop()


def _pages(rt) -> list[Page]:
    with rt.db.read() as s:
        return list(s.query(Page).order_by(Page.id))


def _until(cond, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _settled(bot) -> None:
    _until(lambda: all(p.state not in ("pending", "sending") for p in _pages(bot.rt)))
    bot.settle()


def _bot_said(bot, channel: str) -> list[str]:
    return [m["text"] for m in bot.slack.messages(channel) if m.get("bot_id")]


def test_p1_declaration_pages_the_default_on_call_once_even_when_declared_twice(paged, pd) -> None:
    paged.cmd("declare P1 Checkout API returns 500s")
    paged.cmd("declare P1 Checkout API returns 500s")  # retyped: the same incident
    _settled(paged)
    [inc] = incidents(paged.rt)
    [alert] = pd.alerts
    assert alert.dedup_key == f"warroom-{inc.number}-checkout"
    assert alert.severity == "error" and inc.title in alert.summary
    assert len(pd.calls("/v2/enqueue")) == 1 and alert.triggers == 1
    [p] = _pages(paged.rt)
    assert (p.action, p.state, p.attempts) == ("trigger", "sent", 1)
    texts = [e.text for e in events(paged.rt, inc.id) if e.kind in ("page", "page_answer")]
    assert texts[0].startswith("Paging checkout on-call through PagerDuty")
    assert "PagerDuty took the page for checkout: PagerDuty: Event processed" in texts[1]


def test_p2_declaration_pages_nobody(paged, pd) -> None:
    paged.cmd("declare P2 Search is slow")
    paged.settle()
    assert pd.received == [] and _pages(paged.rt) == []


def test_take_lead_acknowledges_and_resolve_resolves_at_the_far_end(paged, pd) -> None:
    paged.cmd("declare P0 Payments down")
    _settled(paged)
    [inc] = incidents(paged.rt)
    paged.driver.press(inc.channel_id, inc.alert_ts, "take_lead", "U0BOB")
    _settled(paged)
    [alert] = pd.alerts
    assert alert.status == "acknowledged"
    paged.cmd("resolve Rolled back", channel=inc.channel_id)
    _settled(paged)
    assert alert.status == "resolved"
    actions = [c.body["event_action"] for c in pd.calls("/v2/enqueue")]
    assert actions == ["trigger", "acknowledge", "resolve"]
    answers = [e.text for e in events(paged.rt, inc.id) if e.kind == "page_answer"]
    assert len(answers) == 3 and "resolve for checkout" in answers[-1]


def test_page_command_pages_a_team_through_jsm_with_priority_and_alias(paged, jsm) -> None:
    paged.cmd("declare P2 Replica lag")
    [inc] = incidents(paged.rt)
    r = paged.cmd("page dba Replica lag 40 min <!channel>", channel=inc.channel_id)
    assert "Paging *dba* on-call through Jira Service Management" in r.json["text"]
    assert "&lt;!channel&gt;" in r.json["text"]
    _settled(paged)
    [alert] = jsm.alerts
    assert alert.alias == f"warroom-{inc.number}-dba" and alert.priority == "P3"
    assert "Replica lag 40 min" in alert.message
    [call] = jsm.calls("/alerts")
    assert call.headers["authorization"] == f"GenieKey {JSM_KEY}"
    paged.cmd("resolve Fixed", channel=inc.channel_id)
    _settled(paged)
    assert alert.status == "closed"
    assert jsm.calls("/close")[0].query == {"identifierType": "alias"}


def test_page_command_refuses_unknown_targets_and_outside_war_rooms(paged, pd) -> None:
    paged.cmd("declare P2 Replica lag")
    [inc] = incidents(paged.rt)
    r = paged.cmd("page nobody help", channel=inc.channel_id)
    assert "`nobody` is not a paging target. Targets: checkout, dba." in r.json["text"]
    r = paged.cmd("page checkout help")
    assert "war room" in r.json["text"]
    r = paged.cmd("page", channel=inc.channel_id)
    assert "Who should be paged?" in r.json["text"]
    paged.settle()
    assert pd.received == [] and _pages(paged.rt) == []


def test_throttled_page_waits_for_retry_after_then_lands_once(paged, pd) -> None:
    pd.fail_next(429, times=1, retry_after=1)
    t0 = time.monotonic()
    paged.cmd("declare P1 Checkout API returns 500s")
    _until(lambda: len(pd.alerts) == 1)
    waited = time.monotonic() - t0
    _settled(paged)
    assert waited >= 1.0  # Retry-After honoured, not the 0.2 s backoff
    assert [c.status for c in pd.calls("/v2/enqueue")] == [429, 202]
    [alert] = pd.alerts
    assert alert.triggers == 1
    [p] = _pages(paged.rt)
    assert (p.state, p.attempts) == ("sent", 2)


def test_a_timeout_is_retried_and_pages_once(paged, pd) -> None:
    pd.fail_next(0, times=1)  # no answer within the 1 s timeout
    paged.cmd("declare P1 Checkout API returns 500s")
    _settled(paged)
    assert len(pd.alerts) == 1 and pd.alerts[0].triggers == 1
    [p] = _pages(paged.rt)
    assert p.state == "sent" and p.attempts == 2


def test_persistent_500_is_said_once_in_the_war_room(paged, pd) -> None:
    pd.fail_next(500, times=50)
    paged.cmd("declare P1 Checkout API returns 500s")
    _settled(paged)
    [inc] = incidents(paged.rt)
    [p] = _pages(paged.rt)
    assert (p.state, p.attempts) == ("failed", 3)
    paged.driver.press(inc.channel_id, inc.alert_ts, "take_lead", "U0BOB")
    paged.cmd("resolve Gone", channel=inc.channel_id)
    _settled(paged)
    time.sleep(0.3)
    said = [t for t in _bot_said(paged, inc.channel_id) if "Paging checkout failed" in t]
    assert len(said) == 1, said
    assert "HTTP 500" in said[0] and "gave up after 3 attempts" in said[0]
    assert [x.state for x in _pages(paged.rt)] == ["failed", "skipped", "skipped"]
    assert len(pd.calls("/v2/enqueue")) == 3  # the ack and resolve never went out


def test_wrong_key_is_said_once_clearly_and_never_shown(paged, pd, monkeypatch, caplog) -> None:
    wrong = "WR0NGKEYWR0NGKEYWR0NGKEYWR0NGK32"
    monkeypatch.setenv("PD_CHECKOUT_KEY", wrong)
    paged.cmd("declare P1 Checkout API returns 500s")
    _settled(paged)
    [inc] = incidents(paged.rt)
    [p] = _pages(paged.rt)
    assert (p.state, p.attempts) == ("failed", 1)  # a refused key is not retried
    _until(lambda: any("Paging checkout failed" in t for t in _bot_said(paged, inc.channel_id)))
    time.sleep(0.3)  # a few more runner ticks: still said once
    said = [t for t in _bot_said(paged, inc.channel_id) if "Paging checkout failed" in t]
    assert len(said) == 1 and "routing key" in said[0]
    everything = (
        str(paged.slack.messages(inc.channel_id))
        + caplog.text
        + str([e.text for e in events(paged.rt, inc.id)])
    )
    assert wrong not in everything and "routing key" in caplog.text


def test_reopened_incident_paged_again_is_resolved_again(paged, pd) -> None:
    paged.cmd("declare P1 Checkout API returns 500s")
    [inc] = incidents(paged.rt)
    paged.cmd("resolve Rolled back", channel=inc.channel_id)
    _settled(paged)
    paged.cmd("reopen", channel=inc.channel_id)
    paged.cmd("page checkout It is back", channel=inc.channel_id)
    _settled(paged)
    paged.cmd("resolve Fixed for real", channel=inc.channel_id)
    _settled(paged)
    assert [a.status for a in pd.alerts] == ["resolved", "resolved"]
    actions = [c.body["event_action"] for c in pd.calls("/v2/enqueue")]
    assert actions == ["trigger", "resolve", "trigger", "resolve"]


def test_a_private_incident_is_paged_by_its_number_only(paged, pd) -> None:
    paged.cmd("declare P1 --private Credentials leaked from billing-db")
    _settled(paged)
    [inc] = incidents(paged.rt)
    assert inc.private
    [alert] = pd.alerts
    assert f"private incident {inc.number}" in alert.summary
    assert "billing" not in alert.summary.lower() and "leaked" not in alert.summary.lower()
    assert all("billing" not in str(c).lower() for c in pd.calls("/v2/enqueue"))
