"""What the checklist leaves behind, over the wire on both databases: the immediate actions'
window reminded once to the lead, post-incident steps become action items due after the
resolution (and reminded when overdue), and the post-mortem's Response section."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.models import ActionItem, Postmortem, Timer
from bot.timers.runner import TimerRunner
from tests.conftest import make_bot
from tests.helpers import events, incidents
from tests.test_catalog import policy_for
from tests.test_checklist import declare, press, steps


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def tbot(db_url, standin, clock) -> Iterator:
    standin.add_usergroup("S0SRE", ["U0CAROL"])
    yield from make_bot(db_url, standin, policy_for(), clock=clock)


def tick(bot) -> None:
    TimerRunner(bot.rt).tick()
    bot.settle()


def window_posts(bot, inc) -> list[dict]:
    return [m for m in bot.slack.messages(inc.channel_id) if ":hourglass:" in m.get("text", "")]


def ids(bot, inc) -> dict[str, int]:
    return {k.split("/")[1]: v.id for k, v in steps(bot, inc).items()}


def test_open_immediate_steps_are_reminded_to_the_lead_once_when_the_window_passes(
    tbot, clock
) -> None:
    inc = declare(tbot)
    tbot.cmd("lead @dan", channel=inc.channel_id)
    sid = ids(tbot, inc)
    press(tbot, inc, f"cl_done:{sid['acknowledge']}")
    clock.advance(minutes=14)
    tick(tbot)
    assert window_posts(tbot, inc) == []  # not yet: the outage runbook's window is 15 minutes
    clock.advance(minutes=2)
    tick(tbot)
    [post] = window_posts(tbot, inc)
    assert "<@U0DAN>" in post["text"] and "3 immediate steps are still open" in post["text"]
    assert "Check service health" in post["text"] and "Acknowledge" not in post["text"]
    # Later ticks, a second runner, a type switch: still once.
    clock.advance(minutes=30)
    tick(tbot)
    tbot.cmd("type memory", channel=inc.channel_id)
    clock.advance(minutes=30)
    tick(tbot)
    assert len(window_posts(tbot, inc)) == 1
    reminded = [e for e in events(tbot.rt, inc.id) if "window passed" in e.text]
    assert len(reminded) == 1


def test_no_reminder_when_the_immediate_steps_are_finished_in_time(tbot, clock) -> None:
    inc = declare(tbot)
    sid = ids(tbot, inc)
    for name in ("acknowledge", "notify"):
        press(tbot, inc, f"cl_done:{sid[name]}")
    for name in ("health", "pods"):
        press(tbot, inc, f"cl_run:{sid[name]}")
    clock.advance(minutes=16)
    tick(tbot)
    assert window_posts(tbot, inc) == []
    with tbot.rt.db.read() as s:
        [t] = s.scalars(select(Timer).where(Timer.kind == "checklist_window"))
    assert (t.state, t.outcome) == ("fired", "skipped")


def test_post_incident_steps_become_action_items_due_after_resolution(tbot, clock) -> None:
    inc = declare(tbot)
    tbot.cmd("lead @dan", channel=inc.channel_id)
    clock.advance(hours=1)
    tbot.cmd("resolve Rolled back", channel=inc.channel_id)
    resolved = clock.now()
    with tbot.rt.db.read() as s:
        items = list(s.scalars(select(ActionItem).where(ActionItem.incident_id == inc.id)))
        timers = {
            t.ref_id: t for t in s.scalars(select(Timer).where(Timer.kind == "action_item_due"))
        }
    assert len(items) == 9
    by_text = {i.text: i for i in items}
    two = by_text["Confirm full service restoration"]
    week = by_text["Hold the blameless post-mortem meeting"]
    assert two.owner_id == week.owner_id == "U0DAN"
    assert two.due == (resolved + timedelta(hours=2)).date()
    assert week.due == (resolved + timedelta(hours=168)).date()
    assert timers[two.id].due_at == resolved + timedelta(hours=2)
    # Reopened and resolved again: no second set.
    tbot.cmd("reopen", channel=inc.channel_id)
    tbot.cmd("resolve Really", channel=inc.channel_id)
    with tbot.rt.db.read() as s:
        assert len(list(s.scalars(select(ActionItem)))) == 9
    # Overdue: reminded like any action item, by DM to the owner.
    clock.advance(hours=3)
    tick(tbot)
    dm = [m["text"] for m in tbot.slack.messages(tbot.slack.im_channel("U0DAN") or "")]
    assert any("Confirm full service restoration" in t for t in dm)
    assert not any("post-mortem meeting" in t for t in dm)


def test_the_postmortem_has_a_response_section(tbot, clock) -> None:
    inc = declare(tbot)
    sid = ids(tbot, inc)
    clock.advance(minutes=3)
    press(tbot, inc, f"cl_done:{sid['acknowledge']}", "U0DAN")
    clock.advance(minutes=2)
    press(tbot, inc, f"cl_run:{sid['pods']}", "U0DAN")
    press(tbot, inc, f"cl_skip:{sid['notify']}", "U0DAN")
    [view] = [v for v in tbot.slack.views.values() if v["callback_id"] == "checklist_skip"]
    tbot.driver.submit_view("U0DAN", view, {"reason": {"reason": "Status page covers it"}})
    tbot.settle()
    tbot.cmd("resolve Rolled back", channel=inc.channel_id)
    tbot.cmd("postmortem", channel=inc.channel_id)
    with tbot.rt.db.read() as s:
        pm = s.get(Postmortem, inc.id)
    assert pm is not None
    section = pm.content.split("## Response", 1)[1].split("\n## ", 1)[0]

    assert "Playbook `outage`: 1 of 30 steps done, 1 run, 1 skipped, 27 left open." in section
    assert "**Immediate actions**" in section
    assert "[x] Acknowledge the incident in the monitoring system — done by @dan at " in section
    assert "(+3 min after declaration)" in section
    assert (
        "[x] Check the service's pods (`pods deployment/checkout -n shop`) — run by @dan" in section
    )
    assert "request #1 pending" in section
    assert "[-] Notify stakeholders via the incident channel — skipped by @dan" in section
    assert "Status page covers it" in section
    assert "[ ] Check service health (`health checkout`) — left open" in section
    [inc] = incidents(tbot.rt)
    assert inc.type == "outage"
