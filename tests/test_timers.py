"""Timers through the real wire with an injected clock: reminders, escalation, SLA, follow-ups."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import EscalationStep, Policy
from bot.models import Timer
from bot.timers.runner import TimerRunner
from tests.conftest import make_bot
from tests.helpers import events, incidents


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


def _policy(**sev_changes) -> Policy:
    p = Policy()
    for code, changes in sev_changes.items():
        p.severities[code] = p.severities[code].model_copy(update=changes)
    return p


@pytest.fixture
def tbot(db_url, standin, clock):
    policy = _policy(
        P1={
            "escalation": [
                EscalationStep(after_minutes=0, notify=["U0BOB"]),
                EscalationStep(after_minutes=10, notify=["U0CAROL"]),
                EscalationStep(after_minutes=20, notify=["S0ENGMGR"]),
            ]
        }
    )
    yield from make_bot(db_url, standin, policy, clock=clock)


def pending(bot, kind: str | None = None) -> list[Timer]:
    with bot.rt.db.session() as s:
        q = select(Timer).where(Timer.state == "pending").order_by(Timer.due_at)
        return [t for t in s.scalars(q) if kind in (None, t.kind)]


def tick(bot, runner: TimerRunner | None = None) -> int:
    n = (runner or TimerRunner(bot.rt)).tick()
    bot.settle()
    return n


def bot_posts(bot, channel: str) -> list[str]:
    return [m["text"] for m in bot.slack.messages(channel) if m.get("bot_id")]


def declare(bot, sev: str = "P1", title: str = "Checkout API returns 500s"):
    bot.cmd(f"declare {sev} {title}")
    return incidents(bot.rt)[-1]


def test_declaration_plans_the_runbook_timers(tbot, clock) -> None:
    declare(tbot)
    due = {t.kind: t.due_at - clock.now() for t in pending(tbot)}
    assert due == {
        "update_due": timedelta(minutes=30),
        "ack_escalation": timedelta(hours=1),
        "resolve_warning": timedelta(hours=8) * 0.8,
        "resolve_breach": timedelta(hours=8),
    }


def test_due_update_posts_the_template_and_reminds_with_buttons(tbot, clock) -> None:
    inc = declare(tbot)
    tbot.cmd("lead @bob", channel=inc.channel_id)
    clock.advance(minutes=29)
    assert tick(tbot) == 0
    clock.advance(minutes=1)
    assert tick(tbot) == 1
    room = bot_posts(tbot, inc.channel_id)
    assert any("INCIDENT UPDATE — P1 (automatic)" in t for t in room)
    assert any("<@U0BOB> a status update" in t for t in room)
    reminder = [
        m for m in tbot.slack.messages(inc.channel_id) if "snooze_15" in str(m.get("blocks"))
    ]
    assert len(reminder) == 1 and "post_update" in str(reminder[0]["blocks"])
    assert any("(automatic)" in t for t in bot_posts(tbot, "C0INCIDENTS"))
    [ev] = [e for e in events(tbot.rt, inc.id) if e.kind == "reminder"]
    assert ev.data["late_seconds"] == 0
    [nxt] = pending(tbot, "update_due")
    assert nxt.due_at == inc.declared_at + timedelta(minutes=60)


def test_a_posted_update_resets_the_clock(tbot, clock) -> None:
    inc = declare(tbot)
    clock.advance(minutes=20)
    tbot.cmd("update Rolled back, watching", channel=inc.channel_id)
    [t] = pending(tbot, "update_due")
    assert t.due_at == clock.now() + timedelta(minutes=30)
    clock.advance(minutes=10)
    assert tick(tbot) == 0


def test_downtime_fires_once_marked_late_not_once_per_missed_period(tbot, clock) -> None:
    inc = declare(tbot, "P2", "Search slow")
    clock.advance(hours=3, minutes=5)  # three hourly periods missed while "down"
    runner = TimerRunner(tbot.rt)
    assert tick(tbot, runner) >= 1
    reminders = [e for e in events(tbot.rt, inc.id) if e.kind == "reminder"]
    assert len(reminders) == 1 and reminders[0].data["late_seconds"] == 2 * 3600 + 5 * 60
    assert any("late by" in t for t in bot_posts(tbot, inc.channel_id))
    [nxt] = pending(tbot, "update_due")
    assert nxt.due_at == clock.now() + timedelta(hours=1)
    assert tick(tbot, runner) == 0


def test_escalation_walks_the_chain_until_someone_leads(tbot, clock) -> None:
    inc = declare(tbot)
    clock.advance(hours=1)
    tick(tbot)
    assert any(
        "Escalation (level 1)" in t and "<@U0BOB>" in t for t in bot_posts(tbot, inc.channel_id)
    )
    assert "U0BOB" in tbot.slack.channel(inc.channel_id)["members"]
    clock.advance(minutes=10)
    tick(tbot)
    assert any(
        "Escalation (level 2)" in t and "<@U0CAROL>" in t for t in bot_posts(tbot, inc.channel_id)
    )
    tbot.driver.press(
        inc.channel_id,
        next(
            m["ts"]
            for m in tbot.slack.messages(inc.channel_id)
            if "Escalation (level 2)" in m["text"]
        ),
        "take_lead",
        "U0CAROL",
    )
    tbot.settle()
    clock.advance(minutes=10)
    tick(tbot)
    assert not any("level 3" in t for t in bot_posts(tbot, inc.channel_id))
    assert [e.kind for e in events(tbot.rt, inc.id)].count("escalation") == 2
    assert pending(tbot, "ack_escalation") == []


def test_resolution_target_warning_and_breach(tbot, clock) -> None:
    inc = declare(tbot, "P0", "Database down")
    clock.advance(minutes=96)
    tick(tbot)
    assert any("80% of the 2 h resolution target" in t for t in bot_posts(tbot, inc.channel_id))
    clock.advance(minutes=24)
    tick(tbot)
    assert any("was breached" in t for t in bot_posts(tbot, inc.channel_id))
    kinds = [e.kind for e in events(tbot.rt, inc.id)]
    assert kinds.count("sla_warning") == 1 and kinds.count("sla_breach") == 1


def test_resolving_cancels_sla_timers_and_plans_the_postmortem_reminder(tbot, clock) -> None:
    inc = declare(tbot)
    tbot.cmd("resolve Fixed", channel=inc.channel_id)
    assert [t.kind for t in pending(tbot)] == ["postmortem_due"]
    clock.advance(hours=48)
    tick(tbot)
    assert any("has no post-mortem yet" in t for t in bot_posts(tbot, inc.channel_id))
    tbot.cmd("reopen", channel=inc.channel_id)
    assert "postmortem_due" not in [t.kind for t in pending(tbot)]
    assert "update_due" in [t.kind for t in pending(tbot)]


def test_remind_command_changes_the_cadence_and_refuses_bad_values(tbot, clock) -> None:
    inc = declare(tbot)
    r = tbot.cmd("remind 10", channel=inc.channel_id)
    assert "every 10 min" in r.json["text"]
    [t] = pending(tbot, "update_due")
    assert t.due_at == clock.now() + timedelta(minutes=10)
    for bad, expect in [
        ("0", "1 to 1440"),
        ("-5", "1 to 1440"),
        ("1441", "1 to 1440"),
        ("soon", "not a number"),
        ("", "Usage"),
    ]:
        assert expect in tbot.cmd(f"remind {bad}", channel=inc.channel_id).json["text"]
    tbot.cmd("remind off", channel=inc.channel_id)
    assert pending(tbot, "update_due") == []
    clock.advance(hours=2)
    tick(tbot)
    assert not [e for e in events(tbot.rt, inc.id) if e.kind == "reminder"]
    tbot.cmd("resolve Done", channel=inc.channel_id)
    assert "resolved" in tbot.cmd("remind 5", channel=inc.channel_id).json["text"]


def test_snooze_and_stop_buttons_and_a_stale_button_after_resolution(tbot, clock) -> None:
    inc = declare(tbot)
    clock.advance(minutes=30)
    tick(tbot)
    [rem] = [m for m in tbot.slack.messages(inc.channel_id) if "snooze_15" in str(m.get("blocks"))]
    tbot.driver.press(inc.channel_id, rem["ts"], "snooze_15", "U0ALICE")
    tbot.settle()
    [t] = pending(tbot, "update_due")
    assert t.due_at == clock.now() + timedelta(minutes=15)
    tbot.driver.press(inc.channel_id, rem["ts"], "stop_reminders", "U0ALICE")
    tbot.settle()
    assert pending(tbot, "update_due") == []
    tbot.cmd("resolve Done", channel=inc.channel_id)
    tbot.driver.press(inc.channel_id, rem["ts"], "snooze_30", "U0ALICE")
    tbot.settle()
    assert any("is resolved" in e["text"] for e in tbot.slack.ephemerals(user="U0ALICE"))
    assert "update_due" not in [t.kind for t in pending(tbot)]


def test_post_update_form_posts_moves_status_and_sets_next_time(tbot, clock) -> None:
    inc = declare(tbot)
    clock.advance(minutes=30)
    tick(tbot)
    [rem] = [
        m for m in tbot.slack.messages(inc.channel_id) if "post_update" in str(m.get("blocks"))
    ]
    tbot.driver.press(inc.channel_id, rem["ts"], "post_update", "U0ALICE")
    tbot.settle()
    view = next(v for v in tbot.slack.views.values() if v["callback_id"] == "update_modal")
    tbot.driver.submit_view(
        "U0ALICE",
        view,
        {
            "status": {"status": {"selected_option": {"value": "mitigating"}}},
            "progress": {"progress": "Scaled checkout to 12 replicas"},
            "next_steps": {"next_steps": "Watch error rate"},
            "next_update": {"next_update": {"selected_option": {"value": "60"}}},
        },
    )
    tbot.settle()
    [inc] = incidents(tbot.rt)
    assert inc.status == "mitigating" and inc.last_update_at == clock.now()
    assert any("Scaled checkout" in t for t in bot_posts(tbot, inc.channel_id))
    [t] = pending(tbot, "update_due")
    assert t.due_at == clock.now() + timedelta(minutes=60)


def test_severity_change_replans_the_cadence(tbot, clock) -> None:
    inc = declare(tbot, "P3", "Typo on the status page")
    assert pending(tbot, "update_due") == []
    tbot.cmd("severity P1", channel=inc.channel_id)
    [t] = pending(tbot, "update_due")
    assert t.due_at == inc.declared_at + timedelta(minutes=30)


def test_concurrent_runners_fire_each_timer_once(tbot, clock) -> None:
    for i in range(12):
        declare(tbot, "P2", f"Thing {i} broken")
    clock.advance(hours=1)
    runners = [TimerRunner(tbot.rt, batch=5) for _ in range(4)]
    barrier = threading.Barrier(len(runners))

    def go(r: TimerRunner) -> None:
        barrier.wait()
        for _ in range(6):
            r.tick()

    threads = [threading.Thread(target=go, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tbot.settle()
    with tbot.rt.db.session() as s:
        fired = list(
            s.scalars(select(Timer).where(Timer.kind == "update_due", Timer.state == "fired"))
        )
    assert len(fired) == 12
    reminders = [
        m
        for inc in incidents(tbot.rt)
        for m in tbot.slack.messages(inc.channel_id)
        if "snooze_15" in str(m.get("blocks"))
    ]
    assert len(reminders) == 12


def test_scheduler_fires_for_real_within_two_seconds(db_url, standin) -> None:
    policy = _policy(P3={"update_minutes": 0.03})  # 1.8 s
    for bot in make_bot(db_url, standin, policy):
        runner = TimerRunner(bot.rt, tick_seconds=0.2).start()
        try:
            bot.cmd("declare P3 Slow page")
            [inc] = incidents(bot.rt)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if any(e.kind == "reminder" for e in events(bot.rt, inc.id)):
                    break
                time.sleep(0.05)
        finally:
            runner.stop()
        bot.settle()
        with bot.rt.db.session() as s:
            t = s.scalars(
                select(Timer).where(Timer.kind == "update_due", Timer.state == "fired")
            ).first()
        assert t is not None, "the scheduler never fired the reminder"
        assert (t.fired_at - t.due_at).total_seconds() < 2


def test_a_lapsed_claim_stands_down_so_a_due_time_posts_once(tbot, clock) -> None:
    from bot.timers.fire import fire
    from bot.timers.runner import LEASE, claim_due

    inc = declare(tbot, "P2", "Queue stuck")
    clock.advance(hours=1)
    [tid] = claim_due(tbot.rt, "worker-a#1", 10)
    clock.advance(seconds=LEASE.total_seconds() + 1)  # the first job sat in a queue too long
    assert claim_due(tbot.rt, "worker-a#2", 10) == [tid]
    assert fire(tbot.rt, tid, "worker-a#1") == "lost"
    assert fire(tbot.rt, tid, "worker-a#2") == "posted"
    tbot.settle()
    reminders = [
        m for m in tbot.slack.messages(inc.channel_id) if "snooze_15" in str(m.get("blocks"))
    ]
    assert len(reminders) == 1


def test_an_overloaded_runner_claims_no_more_than_it_can_fire(tbot, clock) -> None:
    for i in range(6):
        declare(tbot, "P2", f"Thing {i} slow")
    clock.advance(hours=1)
    runner = TimerRunner(tbot.rt, max_in_flight=4)
    runner._in_flight = 3  # three fires already queued in this process
    assert runner.tick() == 1
    tbot.settle()
    with tbot.rt.db.session() as s:
        fired = s.scalars(select(Timer).where(Timer.state == "fired")).all()
    assert len(fired) == 1  # the other five stay pending for this or another replica


def test_timers_fired_together_are_each_finished_and_followed_once(tbot, clock) -> None:
    """One chunk: an update and an escalation of each of two incidents, one of whose war rooms
    was archived behind the bot's back; each timer ends once, each is followed once."""
    a = declare(tbot, "P1", "Checkout API returns 500s")
    b = declare(tbot, "P1", "Payments timing out")
    tbot.slack.call_method("conversations.archive", {"channel": b.channel_id})
    clock.advance(hours=1)  # update_due (30 min) and ack_escalation (1 h) of both are due
    assert tick(tbot) == 4
    with tbot.rt.db.session() as s:
        fired = {
            (t.incident_id, t.kind): t.outcome
            for t in s.scalars(select(Timer))
            if t.state == "fired"
        }
    assert fired == {
        (a.id, "update_due"): "posted",
        (a.id, "ack_escalation"): "posted",
        (b.id, "update_due"): "failed",  # is_archived: not retried, recorded
        (b.id, "ack_escalation"): "failed",
    }
    for inc in (a, b):  # the next update and the next escalation step, once each
        nxt = [t for t in pending(tbot) if t.incident_id == inc.id]
        assert [t.kind for t in nxt].count("update_due") == 1
        assert [t.step for t in nxt if t.kind == "ack_escalation"] == [1]
    a_kinds = [e.kind for e in events(tbot.rt, a.id)]
    assert a_kinds.count("reminder") == 1 and a_kinds.count("escalation") == 1
    b_texts = [e.text for e in events(tbot.rt, b.id) if e.kind in ("reminder", "escalation")]
    assert len(b_texts) == 2 and all("is_archived" in t for t in b_texts)
