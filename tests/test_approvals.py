"""Diagnostics behind approval, over the real wire: four eyes, expiry, exactly once, audit."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, select, text

from bot.approvals.output import Output
from bot.config import ActionRule, Policy, PostgresTarget, RedisTarget, Targets
from bot.models import ActionRequest, AuditEntry
from bot.targets import Targets as TargetClients
from commands.actions.registry import ACTIONS, Action, Plan
from tests.conftest import PG_ADMIN, make_bot
from tests.helpers import events, incidents


def _policy(http_url: str = "http://127.0.0.1:9/none", **rules: ActionRule) -> Policy:
    return Policy(
        targets=Targets(
            postgres={
                "main": PostgresTarget(dsn=PG_ADMIN),
                "broken": PostgresTarget(dsn="postgresql://warroom:pw@127.0.0.1:1/x"),
            },
            redis={"cache": RedisTarget(url="redis://127.0.0.1:6379/15")},
            http={"self": http_url},
        ),
        actions=rules,
    )


@pytest.fixture
def abot(db_url, standin):
    for bot in make_bot(db_url, standin, _policy()):
        bot.cmd("declare P1 Checkout API returns 500s")
        bot.room = incidents(bot.rt)[0].channel_id
        bot.slack.reset_calls()
        yield bot


def requests(bot) -> list[ActionRequest]:
    with bot.rt.db.session() as s:
        return list(s.scalars(select(ActionRequest).order_by(ActionRequest.id)))


def audit(bot) -> list[tuple[str, str | None]]:
    with bot.rt.db.session() as s:
        return [
            (a.event, a.actor_id) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def request_msg(bot, req: ActionRequest) -> dict:
    return bot.slack.message(bot.room, req.message_ts)


def thread(bot, req: ActionRequest) -> list[dict]:
    return [
        m
        for m in bot.slack.messages(bot.room)
        if m.get("thread_ts") == req.message_ts and m["ts"] != req.message_ts
    ]


def test_run_help_lists_every_action_with_usage(abot) -> None:
    r = abot.cmd("run help", channel=abot.room)
    for name in ("pg-activity", "pg-locks", "redis-info", "health"):
        assert f"`{name}`" in r.json["text"]


@pytest.mark.parametrize(
    "args,expect",
    [
        ("rm-rf /", "not an action Warroom can run"),
        ("pg-activity ../x", "not a PostgreSQL target"),
        ("pg-activity 'a;rm -rf /'", "not a PostgreSQL target"),
        ("pg-activity " + "a" * 300, "not a PostgreSQL target"),
        ("pg-activity main --limit 999", "between 1 and 200"),
        ("pg-activity main --evil 1", "Unknown option `--evil`"),
        ("pg-activity", "Usage"),
        ("redis-ping cache --samples ten", "whole number"),
        ("pg-activity main 'unclosed", "Could not read the arguments"),
    ],
)
def test_bad_arguments_get_a_clear_reply_and_nothing_is_requested(abot, args, expect) -> None:
    r = abot.cmd(f"run {args}", channel=abot.room)
    assert expect in r.json["text"]
    assert requests(abot) == []


def test_actions_only_run_from_a_war_room(abot) -> None:
    r = abot.cmd("run pg-sizes main", channel="C0GENERAL")
    assert "war room" in r.json["text"] and requests(abot) == []


def test_request_approved_by_someone_else_runs_once_and_reports(abot) -> None:
    r = abot.cmd("run pg-sizes main", channel=abot.room)
    assert "waiting for approval" in r.json["text"]
    [req] = requests(abot)
    msg = request_msg(abot, req)
    assert "approve_action" in str(msg["blocks"]) and "pg-sizes" in msg["text"]
    assert "read-only" in str(msg["blocks"]) and "except the requester" in str(msg["blocks"])

    abot.driver.press(abot.room, req.message_ts, "approve_action", "U0ALICE")
    abot.settle()
    assert any("four eyes" in e["text"] for e in abot.slack.ephemerals(user="U0ALICE"))
    assert requests(abot)[0].state == "pending"

    abot.driver.press(abot.room, req.message_ts, "approve_action", "U0BOB")
    abot.settle()
    [req] = requests(abot)
    assert req.state == "succeeded" and req.decided_by == "U0BOB" and "row(s)" in req.summary
    [result] = thread(abot, req)
    assert "```" in result["text"] and "postgres" in result["text"]
    assert "approve_action" not in str(request_msg(abot, req)["blocks"])
    assert "done in" in str(request_msg(abot, req)["blocks"])
    kinds = [e.kind for e in events(abot.rt, req.incident_id)]
    assert kinds[-3:] == ["action_requested", "action_approved", "action_succeeded"]
    assert [e for e, _ in audit(abot)] == [
        "requested",
        "refused",
        "approved",
        "started",
        "succeeded",
    ]


def test_deny_then_late_approve_is_refused(abot) -> None:
    abot.cmd("run redis-info cache", channel=abot.room)
    [req] = requests(abot)
    abot.driver.press(abot.room, req.message_ts, "deny_action", "U0BOB")
    abot.settle()
    # a stale copy of the message in someone's client still has the button
    abot.driver.block_action(
        "U0CAROL", abot.room, req.message_ts, "approve_action", value=str(req.id)
    )
    abot.settle()
    [req] = requests(abot)
    assert req.state == "denied" and thread(abot, req) == []
    assert any(
        "Already denied by <@U0BOB>" in e["text"] for e in abot.slack.ephemerals(user="U0CAROL")
    )
    assert "Denied by" in str(request_msg(abot, req)["blocks"])


def test_concurrent_approvals_run_the_action_exactly_once(abot) -> None:
    abot.cmd("run redis-ping cache", channel=abot.room)
    [req] = requests(abot)
    users = ["U0BOB", "U0CAROL", "U0DAN"] * 4
    barrier = threading.Barrier(len(users))

    def click(u: str) -> None:
        barrier.wait()
        abot.driver.press(abot.room, req.message_ts, "approve_action", u)

    threads = [threading.Thread(target=click, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    abot.settle()
    [req] = requests(abot)
    assert req.state == "succeeded"
    events_ = [e for e, _ in audit(abot)]
    assert events_.count("started") == 1 and events_.count("approved") == 1
    assert len(thread(abot, req)) == 1


def test_expired_request_cannot_be_approved(db_url, standin) -> None:
    for bot in make_bot(db_url, standin, _policy(**{"pg-sizes": ActionRule(expire_minutes=0.01)})):
        bot.cmd("declare P2 Disk filling")
        room = incidents(bot.rt)[0].channel_id
        bot.cmd("run pg-sizes main", channel=room)
        [req] = requests(bot)
        time.sleep(0.8)
        bot.driver.block_action("U0BOB", room, req.message_ts, "approve_action", value=str(req.id))
        bot.settle()
        [req] = requests(bot)
        assert req.state == "expired"
        assert any("expired" in e["text"] for e in bot.slack.ephemerals(user="U0BOB"))


def test_only_listed_approvers_and_group_members_may_approve(db_url, standin) -> None:
    standin.add_usergroup("S0ONCALL", ["U0DAN"])
    rule = ActionRule(approvers=["U0BOB", "S0ONCALL"])
    for bot in make_bot(db_url, standin, _policy(**{"redis-info": rule})):
        bot.cmd("declare P2 Cache misses")
        room = incidents(bot.rt)[0].channel_id
        bot.cmd("run redis-info cache", channel=room)
        [req] = requests(bot)
        bot.driver.press(room, req.message_ts, "approve_action", "U0CAROL")
        bot.settle()
        assert requests(bot)[0].state == "pending"
        assert any("not an approver" in e["text"] for e in bot.slack.ephemerals(user="U0CAROL"))
        bot.driver.press(room, req.message_ts, "approve_action", "U0DAN")
        bot.settle()
        assert requests(bot)[0].state == "succeeded"


def test_two_approvals_when_the_policy_asks_for_two(db_url, standin) -> None:
    for bot in make_bot(db_url, standin, _policy(**{"pg-sizes": ActionRule(min_approvals=2)})):
        bot.cmd("declare P1 Orders stuck")
        room = incidents(bot.rt)[0].channel_id
        bot.cmd("run pg-sizes main", channel=room)
        [req] = requests(bot)
        for _ in range(2):  # the same person twice counts once
            bot.driver.press(room, req.message_ts, "approve_action", "U0BOB")
            bot.settle()
        assert requests(bot)[0].state == "pending"
        bot.driver.press(room, req.message_ts, "approve_action", "U0CAROL")
        bot.settle()
        [req] = requests(bot)
        assert req.state == "succeeded" and req.approvers == ["U0BOB", "U0CAROL"]


def test_auto_policy_runs_on_request_and_secrets_are_redacted(db_url, standin) -> None:
    for bot in make_bot(db_url, standin, _policy()):
        url = bot.url.replace("http://", "http://probe:hunter2@") + "/healthz"
        bot.rt.policy = _policy(url, health=ActionRule(mode="auto"))
        bot.rt.targets = TargetClients(bot.rt.policy)  # the URL needs the bot's port
        bot.cmd("declare P1 API down")
        room = incidents(bot.rt)[0].channel_id
        r = bot.cmd("run health self --samples 3", channel=room)
        assert "running (policy: auto)" in r.json["text"]
        [req] = requests(bot)
        assert req.state == "succeeded" and req.summary.startswith("3/3 healthy")
        everything = str(bot.slack.messages(room)) + str(bot.slack.calls)
        assert "hunter2" not in everything and "probe" not in everything
        assert f"GET {bot.url}/healthz x3" in str(bot.slack.messages(room))  # shown, no credentials


def test_unreachable_target_is_reported_in_plain_words(abot) -> None:
    abot.cmd("run pg-connections broken", channel=abot.room)
    [req] = requests(abot)
    abot.driver.press(abot.room, req.message_ts, "approve_action", "U0BOB")
    abot.settle()
    [req] = requests(abot)
    assert req.state == "failed" and "Could not connect to PostgreSQL" in req.summary
    assert "pw" not in req.summary
    [result] = thread(abot, req)
    assert ":warning:" in result["text"]


@pytest.fixture
def fake_actions():
    """Test-only actions to drive the long-output and timeout paths of the real engine."""

    def plan(text: str, policy: Policy) -> Plan:
        return Plan({}, "nothing", "prints lines")

    added = {
        "t-long": Action(
            "t-long",
            "diagnostic",
            "t-long",
            "long output",
            plan,
            lambda t, p: Output(
                True, "120 lines", "\n".join(f"line {i} token=abc{i}" for i in range(120))
            ),
        ),
        "t-slow": Action(
            "t-slow",
            "diagnostic",
            "t-slow",
            "sleeps",
            plan,
            lambda t, p: (time.sleep(2), Output(True, "late"))[1],
        ),
    }
    ACTIONS.update(added)
    yield
    for k in added:
        ACTIONS.pop(k, None)


def test_long_output_is_uploaded_as_a_file_redacted(abot, fake_actions) -> None:
    abot.cmd("run t-long", channel=abot.room)
    [req] = requests(abot)
    abot.driver.press(abot.room, req.message_ts, "approve_action", "U0BOB")
    abot.settle()
    [f] = abot.slack.files.values()
    content = f["content"].decode() if isinstance(f["content"], bytes) else f["content"]
    assert "line 119" in content and "abc119" not in content
    assert abot.slack.calls_to("files.completeUploadExternal")


def test_timeout_is_reported_as_failed(db_url, standin, fake_actions) -> None:
    for bot in make_bot(db_url, standin, _policy(**{"t-slow": ActionRule(timeout_seconds=0.3)})):
        bot.cmd("declare P2 Slow")
        room = incidents(bot.rt)[0].channel_id
        bot.cmd("run t-slow", channel=room)
        [req] = requests(bot)
        bot.driver.press(room, req.message_ts, "approve_action", "U0BOB")
        bot.settle()
        [req] = requests(bot)
        assert req.state == "failed" and "timed out after 0.3 s" in req.summary


def test_postgres_activity_and_lock_waits_are_reported(abot) -> None:
    eng = create_engine(PG_ADMIN)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS warroom_lock_probe (id int)"))
    holder = eng.connect()
    holder.begin()
    holder.execute(text("LOCK TABLE warroom_lock_probe IN ACCESS EXCLUSIVE MODE"))
    waiter_err: list[Exception] = []

    def wait_for_lock() -> None:
        try:
            with eng.connect() as c:
                c.execute(text("SET statement_timeout = 8000"))
                c.execute(text("SELECT count(*) FROM warroom_lock_probe"))
        except Exception as e:
            waiter_err.append(e)

    def sleeper() -> None:
        with eng.connect() as c:
            c.execute(text("SELECT pg_sleep(3)"))

    threads = [threading.Thread(target=wait_for_lock), threading.Thread(target=sleeper)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        for cmd in ("pg-activity main", "pg-locks main"):
            abot.cmd(f"run {cmd}", channel=abot.room)
            req = requests(abot)[-1]
            abot.driver.press(abot.room, req.message_ts, "approve_action", "U0BOB")
            abot.settle()
        act, locks = requests(abot)
        assert act.state == locks.state == "succeeded"
        assert "pg_sleep" in thread(abot, act)[0]["text"]
        lock_text = thread(abot, locks)[0]["text"]
        assert "warroom_lock_probe" in lock_text and "AccessShareLock" in lock_text
    finally:
        holder.rollback()
        holder.close()
        for t in threads:
            t.join()
        eng.dispose()
