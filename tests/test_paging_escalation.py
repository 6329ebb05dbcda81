"""An escalation step that pages: nobody takes the lead, the step pages the service's on-call
through the page outbox, once, even when its timer is fired again after a crash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.clock import FrozenClock
from bot.config import EscalationStep, Policy
from bot.models import Timer
from bot.paging.outbox import PageRunner
from bot.paging.policy import PagingPolicy, PagingTarget, escalation_problems
from bot.timers.runner import TimerRunner
from standins.pagerduty.api import PagerDutyStandIn
from tests.conftest import Bot, make_bot
from tests.helpers import events, incidents
from tests.test_paging import PD_KEY, _pages, _until


@pytest.fixture
def pd() -> Iterator[PagerDutyStandIn]:
    s = PagerDutyStandIn({PD_KEY}).start()
    yield s
    s.stop()


def _policy(pd_url: str, steps: list[EscalationStep]) -> Policy:
    p = Policy(
        paging=PagingPolicy(
            targets={
                "checkout": PagingTarget(provider="pagerduty", key_env="PD_KEY_E", url=pd_url)
            },
            default="checkout",
            backoff_seconds=0.2,
        )
    )
    p.severities["P2"] = p.severities["P2"].model_copy(update={"escalation": steps})
    return p


@pytest.fixture
def ebot(db_url, standin, pd, monkeypatch) -> Iterator[tuple[Bot, FrozenClock]]:
    monkeypatch.setenv("PD_KEY_E", PD_KEY)
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    steps = [
        EscalationStep(after_minutes=0, page=True),  # instead of Slack: page only
        EscalationStep(after_minutes=10, notify=["U0CAROL"], page="checkout"),  # besides
    ]
    for bot in make_bot(db_url, standin, _policy(pd.url, steps), clock=clock):
        runner = PageRunner(bot.rt, tick_seconds=0.1).start()
        try:
            yield bot, clock
        finally:
            runner.stop()


def triggers(pd: PagerDutyStandIn) -> list[dict]:
    return [
        r.body
        for r in pd.received
        if isinstance(r.body, dict) and r.body.get("event_action") == "trigger"
    ]


def test_nobody_leads_so_the_escalation_pages_once_even_when_refired(ebot, pd):
    bot, clock = ebot
    bot.cmd("declare P2 Search is slow")
    [inc] = incidents(bot.rt)
    assert _pages(bot.rt) == []  # P2 does not page at declaration
    clock.advance(minutes=bot.rt.policy.severities["P2"].respond_minutes + 1)
    TimerRunner(bot.rt).tick()
    bot.settle()
    _until(lambda: len(triggers(pd)) == 1)
    [sent] = triggers(pd)
    assert sent["routing_key"] == PD_KEY and "escalation level 1" in sent["payload"]["summary"]
    room = [m["text"] for m in bot.slack.messages(inc.channel_id) if m.get("bot_id")]
    assert any("Escalation (level 1)" in t and "Paging checkout on-call" in t for t in room)
    assert "U0CAROL" not in bot.slack.channel(inc.channel_id)["members"]
    # The process dies after paging, before marking the timer fired: another worker takes the
    # lapsed claim and fires it again.
    with bot.rt.db.session() as s:
        s.execute(
            update(Timer)
            .where(Timer.incident_id == inc.id, Timer.kind == "ack_escalation", Timer.step == 0)
            .values(
                state="firing",
                claimed_by="dead-worker",
                claim_until=clock.now() - timedelta(seconds=1),
            )
        )
    TimerRunner(bot.rt).tick()
    bot.settle()
    _until(lambda: all(p.state == "sent" for p in _pages(bot.rt)))
    assert len(triggers(pd)) == 1 and len(_pages(bot.rt)) == 1
    assert [e.kind for e in events(bot.rt, inc.id)].count("page") == 1
    # Level 2 pages besides inviting: a step of its own, so a second trigger.
    clock.advance(minutes=10)
    TimerRunner(bot.rt).tick()
    bot.settle()
    _until(lambda: len(triggers(pd)) == 2)
    assert "U0CAROL" in bot.slack.channel(inc.channel_id)["members"]
    assert sorted(p.step for p in _pages(bot.rt)) == [-2, -1]


def test_taking_the_lead_first_means_no_escalation_page(ebot, pd):
    bot, clock = ebot
    bot.cmd("declare P2 Search is slow")
    [inc] = incidents(bot.rt)
    bot.cmd("lead @alice", channel=inc.channel_id)
    clock.advance(minutes=bot.rt.policy.severities["P2"].respond_minutes + 30)
    TimerRunner(bot.rt).tick()
    bot.settle()
    assert _pages(bot.rt) == [] and triggers(pd) == []


def test_a_step_paging_an_unknown_target_is_said_at_start():
    p = _policy("http://127.0.0.1:9", [EscalationStep(page="nobody")])
    assert escalation_problems(p) == ["P2 escalation step 1 pages 'nobody': no such target"]
    assert escalation_problems(_policy("http://127.0.0.1:9", [EscalationStep(page=True)])) == []


def test_help_lists_paging_the_status_page_and_alerts_escaped(bot):
    text = bot.cmd("help").json["text"]
    assert "`page &lt;service or team&gt; [message]`" in text
    assert "`statuspage`" in text and "`alerts`" in text
