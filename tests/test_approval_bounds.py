"""Approvals bound to their people and their place: Deny takes the approvers' check (the
requester may cancel), and a click counts only from the request's own message and war room."""

from __future__ import annotations

from bot.config import ActionRule
from tests.conftest import make_bot
from tests.helpers import incidents
from tests.test_approvals import _policy, audit, requests


def _room_with_request(bot, title: str) -> tuple[str, object]:
    bot.cmd(f"declare P2 {title}")
    room = next(i for i in incidents(bot.rt) if i.title == title).channel_id
    bot.cmd("run redis-info cache", channel=room, user="U0ALICE")
    return room, requests(bot)[-1]


def test_only_approvers_may_deny_and_the_requester_may_cancel(db_url, standin) -> None:
    rule = ActionRule(approvers=["U0BOB"])
    for bot in make_bot(db_url, standin, _policy(**{"redis-info": rule})):
        room, req = _room_with_request(bot, "Cache misses")
        bot.driver.press(room, req.message_ts, "deny_action", "U0CAROL")
        bot.settle()
        assert requests(bot)[0].state == "pending"
        assert any(
            "cannot deny" in e["text"] and "<@U0BOB>" in e["text"]
            for e in bot.slack.ephemerals(user="U0CAROL")
        )
        assert ("refused", "U0CAROL") in audit(bot)

        bot.driver.press(room, req.message_ts, "deny_action", "U0ALICE")  # the requester
        bot.settle()
        [req] = requests(bot)
        assert req.state == "denied" and req.decided_by == "U0ALICE"
        assert ("cancelled", "U0ALICE") in audit(bot)
        assert any("Cancelled." in e["text"] for e in bot.slack.ephemerals(user="U0ALICE"))


def test_an_approver_denies_and_the_policy_can_let_anyone_deny(db_url, standin) -> None:
    rules = {
        "redis-info": ActionRule(approvers=["U0BOB"]),
        "redis-ping": ActionRule(approvers=["U0BOB"], anyone_may_deny=True),
    }
    for bot in make_bot(db_url, standin, _policy(**rules)):
        room, req = _room_with_request(bot, "Cache misses")
        bot.driver.press(room, req.message_ts, "deny_action", "U0BOB")
        bot.cmd("run redis-ping cache", channel=room, user="U0ALICE")
        ping = requests(bot)[-1]
        bot.driver.press(room, ping.message_ts, "deny_action", "U0CAROL")
        bot.settle()
        assert [(r.state, r.decided_by) for r in requests(bot)] == [
            ("denied", "U0BOB"),
            ("denied", "U0CAROL"),
        ]


def test_a_click_in_another_war_room_cannot_decide_this_rooms_request(db_url, standin) -> None:
    for bot in make_bot(db_url, standin, _policy()):
        room_a, req_a = _room_with_request(bot, "Checkout down")
        room_b, req_b = _room_with_request(bot, "Search slow")
        # A signed click whose container is room B's request message, naming A's request.
        for action in ("approve_action", "deny_action"):
            bot.driver.block_action("U0BOB", room_b, req_b.message_ts, action, value=str(req_a.id))
        bot.settle()
        assert [r.state for r in requests(bot)] == ["pending", "pending"]
        told = [e["text"] for e in bot.slack.ephemerals(user="U0BOB")]
        assert sum("another incident's request" in t for t in told) == 2
        assert audit(bot).count(("refused", "U0BOB")) == 2

        # In the right room but on another message (B's request moved there, say): refused too.
        bot.cmd("run redis-ping cache", channel=room_a, user="U0ALICE")
        other = requests(bot)[-1]
        bot.driver.block_action(
            "U0BOB", room_a, other.message_ts, "approve_action", value=str(req_a.id)
        )
        bot.settle()
        assert requests(bot)[0].state == "pending"
        assert any(
            "this request's message" in e["text"] for e in bot.slack.ephemerals(user="U0BOB")
        )

        # From its own message it counts.
        bot.driver.press(room_a, req_a.message_ts, "approve_action", "U0BOB")
        bot.settle()
        assert requests(bot)[0].state == "succeeded"
