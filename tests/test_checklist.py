"""The playbook checklist in the war room, over the real wire on both databases: posted and pinned
once, ticked, skipped (why asked in a form), run (the normal approval request), un-ticked; each
on the timeline and the message updated in place; first click wins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import ActionRequest
from bot.playbooks.models import ChecklistStep
from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import load_demo
from tests.conftest import make_bot
from tests.helpers import ephemeral_texts, events, incidents
from tests.test_catalog import policy_for


@pytest.fixture
def cbot(db_url, standin) -> Iterator:
    standin.add_usergroup("S0SRE", ["U0CAROL"])
    yield from make_bot(db_url, standin, policy_for())


def checklist_msgs(bot, inc) -> list[dict]:
    return [
        m
        for m in bot.slack.messages(inc.channel_id)
        if (m.get("metadata") or {}).get("event_type") == "warroom_checklist"
        or "cl_skip:" in str(m.get("blocks"))
        or "Checklist" in m.get("text", "")
    ]


def the_checklist(bot, inc) -> dict:
    [msg] = checklist_msgs(bot, inc)
    return msg


def steps(bot, inc) -> dict[str, ChecklistStep]:
    with bot.rt.db.read() as s:
        rows = s.scalars(select(ChecklistStep).where(ChecklistStep.incident_id == inc.id))
        return {f"{r.playbook}/{r.step_id}": r for r in rows}


def press(bot, inc, action_id: str, user: str = "U0ALICE"):
    msg = the_checklist(bot, inc)
    r = bot.driver.press(inc.channel_id, msg["ts"], action_id, user)
    assert r.status == 200, r.body
    bot.settle()
    return r


def declare(bot, text="declare P1 checkout: Checkout API returns 500s --type outage"):
    bot.cmd(text)
    [inc] = incidents(bot.rt)
    return inc


def checklist_events(bot, inc) -> list:
    return [e for e in events(bot.rt, inc.id) if e.kind == "checklist"]


def test_declared_with_a_type_posts_and_pins_the_checklist_once(cbot) -> None:
    inc = declare(cbot)
    msg = the_checklist(cbot, inc)
    assert msg["pinned"]
    blocks = str(msg["blocks"])
    assert "Service outage / API down" in blocks
    # The service filled the arguments: checkout's deployment in shop.
    assert "pods deployment/checkout -n shop" in blocks
    assert "cl_done:" in blocks and "cl_run:" in blocks and "cl_skip:" in blocks
    assert len(steps(cbot, inc)) == 30
    # Setup again (a retry) and the flow's hook again: still one checklist, one pin.
    from bot.incident import flows
    from bot.playbooks import flows as checklist_flows

    flows.open_war_room(cbot.rt, inc.id)
    checklist_flows.after_setup(cbot.rt, inc.id)
    cbot.settle()
    assert len(checklist_msgs(cbot, inc)) == 1
    assert len(cbot.slack.calls_to("pins.add")) == 2  # the alert and the checklist
    posted = [e for e in events(cbot.rt, inc.id) if "Checklist of the" in e.text]
    assert len(posted) == 1


def _step_ids(bot, inc) -> dict[str, int]:
    return {k.split("/")[1]: v.id for k, v in steps(bot, inc).items()}


def test_done_skip_undo_on_the_timeline_and_the_message_updated_in_place(cbot) -> None:
    inc = declare(cbot)
    ids = _step_ids(cbot, inc)
    ts = the_checklist(cbot, inc)["ts"]
    cbot.slack.reset_calls()

    press(cbot, inc, f"cl_done:{ids['acknowledge']}", "U0DAN")
    msg = the_checklist(cbot, inc)
    assert msg["ts"] == ts and "Done by <@U0DAN>" in str(msg["blocks"])
    assert f"cl_undo:{ids['acknowledge']}" in str(msg["blocks"])
    assert cbot.slack.calls_to("chat.update") and not [
        c for c in cbot.slack.calls_to("chat.postMessage") if "Checklist" in str(c)
    ]

    # Skip asks why in a form; the reason lands on the step, the timeline and the message.
    press(cbot, inc, f"cl_skip:{ids['notify']}", "U0DAN")
    [view] = [v for v in cbot.slack.views.values() if v["callback_id"] == "checklist_skip"]
    r = cbot.driver.submit_view("U0DAN", view, {"reason": {"reason": "Comms <lead> has it"}})
    assert r.status == 200
    cbot.settle()
    row = steps(cbot, inc)["outage/notify"]
    assert (row.status, row.by_id, row.skip_reason) == ("skipped", "U0DAN", "Comms <lead> has it")
    assert "Comms &lt;lead&gt; has it" in str(the_checklist(cbot, inc)["blocks"])

    # An empty reason is refused by the form itself.
    press(cbot, inc, f"cl_skip:{ids['health']}", "U0DAN")
    [view] = [
        v
        for v in cbot.slack.views.values()
        if v["callback_id"] == "checklist_skip"
        and json.loads(v["private_metadata"])["step"] == ids["health"]
    ]
    r = cbot.driver.submit_view("U0DAN", view, {"reason": {"reason": "  "}})
    assert r.json and r.json.get("response_action") == "errors"

    press(cbot, inc, f"cl_undo:{ids['acknowledge']}", "U0ALICE")
    assert steps(cbot, inc)["outage/acknowledge"].status == "open"
    texts = [(e.actor_id, e.text) for e in checklist_events(cbot, inc)]
    assert ("U0DAN", "Checklist: done “Acknowledge the incident in the monitoring system”") in texts
    assert any(a == "U0DAN" and "skipped" in t and "Comms <lead> has it" in t for a, t in texts)
    assert any(a == "U0ALICE" and "un-ticked" in t and "<@U0DAN>" in t for a, t in texts)
    assert the_checklist(cbot, inc)["ts"] == ts


def test_two_people_pressing_done_together_tick_it_once_and_both_are_told(cbot) -> None:
    inc = declare(cbot)
    sid = _step_ids(cbot, inc)["acknowledge"]
    ts = the_checklist(cbot, inc)["ts"]

    def click(user: str):
        return cbot.driver.press(inc.channel_id, ts, f"cl_done:{sid}", user)

    with ThreadPoolExecutor(2) as pool:
        rs = list(pool.map(click, ["U0DAN", "U0CAROL"]))
    assert all(r.status == 200 for r in rs)
    cbot.settle()
    row = steps(cbot, inc)["outage/acknowledge"]
    winner = row.by_id
    loser = "U0CAROL" if winner == "U0DAN" else "U0DAN"
    done = [e for e in checklist_events(cbot, inc) if "done" in e.text]
    assert len(done) == 1 and done[0].actor_id == winner
    assert any("Done:" in t for t in ephemeral_texts(cbot.slack, winner))
    assert any(f"already done by <@{winner}>" in t for t in ephemeral_texts(cbot.slack, loser))


def test_run_opens_the_normal_approval_request_with_the_steps_arguments(cbot) -> None:
    inc = declare(cbot)
    sid = _step_ids(cbot, inc)["pods"]
    press(cbot, inc, f"cl_run:{sid}", "U0DAN")
    with cbot.rt.db.read() as s:
        [req] = s.scalars(select(ActionRequest).where(ActionRequest.incident_id == inc.id))
    assert (req.action, req.requester_id, req.state) == ("pods", "U0DAN", "pending")
    assert "checkout" in (req.preview + str(req.params)) and "shop" in req.target
    request_msg = next(
        m for m in cbot.slack.messages(inc.channel_id) if m.get("ts") == req.message_ts
    )
    assert "approve_action" in str(request_msg["blocks"])
    row = steps(cbot, inc)["outage/pods"]
    assert (row.status, row.by_id, row.request_id) == ("run", "U0DAN", req.id)
    assert f"request #{req.id}" in str(the_checklist(cbot, inc)["blocks"])
    assert any("ran “Check the service's pods”" in e.text for e in checklist_events(cbot, inc))
    # A second press finds it run, and asks for nothing more.
    cbot.driver.block_action("U0CAROL", inc.channel_id, the_checklist(cbot, inc)["ts"],
                             f"cl_run:{sid}", value=str(sid))  # fmt: skip
    cbot.settle()
    with cbot.rt.db.read() as s:
        assert len(list(s.scalars(select(ActionRequest)))) == 1
    assert any("already run by <@U0DAN>" in t for t in ephemeral_texts(cbot.slack, "U0CAROL"))


def test_run_on_a_resolved_incident_is_refused(cbot) -> None:
    inc = declare(cbot)
    ids = _step_ids(cbot, inc)
    ts = the_checklist(cbot, inc)["ts"]
    cbot.cmd("resolve Fixed by a rollback", channel=inc.channel_id)
    cbot.driver.block_action("U0DAN", inc.channel_id, ts, f"cl_run:{ids['pods']}",
                             value=str(ids["pods"]))  # fmt: skip
    cbot.settle()
    assert any("is resolved" in t for t in ephemeral_texts(cbot.slack, "U0DAN"))
    with cbot.rt.db.read() as s:
        assert list(s.scalars(select(ActionRequest))) == []
    assert steps(cbot, inc)["outage/pods"].status == "open"


@pytest.fixture
def k8s() -> Iterator[K8sStandIn]:
    k = K8sStandIn().start()
    load_demo(k)
    yield k
    k.stop()


def test_run_of_a_remediation_builds_its_preview_and_waits_for_approval(db_url, standin, k8s):
    for bot in make_bot(db_url, standin, policy_for(k8s.url)):
        inc = declare(bot)
        sid = _step_ids(bot, inc)["rollback"]
        press(bot, inc, "cl_show:resolution")
        press(bot, inc, f"cl_run:{sid}", "U0DAN")
        with bot.rt.db.read() as s:
            [req] = s.scalars(select(ActionRequest))
        assert (req.action, req.state) == ("rollback", "pending")
        assert "checkout" in req.preview
        assert steps(bot, inc)["outage/rollback"].request_id == req.id
        assert not [r for r in k8s.requests if r.method == "PATCH"]  # nothing before approval


def test_a_run_whose_request_is_refused_leaves_the_step_open(cbot) -> None:
    # The Kubernetes API of policy_for() is unreachable: the rollback's preview cannot be built.
    inc = declare(cbot)
    sid = _step_ids(cbot, inc)["rollback"]
    press(cbot, inc, "cl_show:resolution")
    press(cbot, inc, f"cl_run:{sid}", "U0DAN")
    with cbot.rt.db.read() as s:
        assert list(s.scalars(select(ActionRequest))) == []
    row = steps(cbot, inc)["outage/rollback"]
    assert (row.status, row.request_id) == ("open", None)
    assert any(":warning:" in t for t in ephemeral_texts(cbot.slack, "U0DAN"))
    assert f"cl_run:{sid}" in str(the_checklist(cbot, inc)["blocks"])
    assert any("asked for nothing" in e.text for e in checklist_events(cbot, inc))


def test_a_post_that_landed_unrecorded_is_found_not_posted_again(cbot) -> None:
    from bot.playbooks import flows as checklist_flows
    from bot.playbooks.models import Checklist

    inc = declare(cbot)
    ts = the_checklist(cbot, inc)["ts"]
    # As if the process died after Slack took the post and before the database heard of it.
    with cbot.rt.db.session() as s:
        row = s.get(Checklist, inc.id)
        row.message_ts = None
        row.post_claim_until = cbot.rt.now() - timedelta(seconds=1)
    checklist_flows.show(cbot.rt, inc.id)
    cbot.settle()
    assert [m["ts"] for m in checklist_msgs(cbot, inc)] == [ts]
    with cbot.rt.db.read() as s:
        assert s.get(Checklist, inc.id).message_ts == ts
