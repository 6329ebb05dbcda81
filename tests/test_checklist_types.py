"""Choosing and switching the incident's type over the wire: `/incident type`, the suggested
playbook's button, steps that cannot run (shown with why), a 60-step playbook within Slack's
limits (the stand-in refuses blocks beyond them), and `/incident checklist`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from tests.conftest import make_bot
from tests.helpers import ephemeral_texts, incidents
from tests.test_catalog import policy_for
from tests.test_checklist import checklist_events, checklist_msgs, declare, press, steps
from tests.test_checklist import the_checklist as checklist_of


@pytest.fixture
def cbot(db_url, standin) -> Iterator:
    standin.add_usergroup("S0SRE", ["U0CAROL"])
    yield from make_bot(db_url, standin, policy_for())


def blocks_text(msg: dict) -> str:
    return str(msg["blocks"])


def test_switching_type_adds_the_new_playbook_and_keeps_what_was_done(cbot) -> None:
    inc = declare(cbot)
    ids = {k.split("/")[1]: v.id for k, v in steps(cbot, inc).items()}
    press(cbot, inc, f"cl_done:{ids['acknowledge']}", "U0DAN")
    ts = checklist_of(cbot, inc)["ts"]

    r = cbot.cmd("type database", channel=inc.channel_id)
    assert "from `outage` to `database`" in r.json["text"]
    [inc] = incidents(cbot.rt)
    assert inc.type == "database"
    rows = steps(cbot, inc)
    assert rows["outage/acknowledge"].status == "done"  # kept
    assert any(k.startswith("database/") for k in rows)
    msg = checklist_of(cbot, inc)
    assert msg["ts"] == ts  # the same message, updated in place
    assert "Database performance" in blocks_text(msg) or "`database` playbook" in blocks_text(msg)
    assert "Kept from the outage playbook: 1 done" in blocks_text(msg)
    assert any(
        "Type changed from outage to database" in e.text for e in checklist_events(cbot, inc)
    )

    # Back to outage: its steps come back as they were, nothing added twice.
    cbot.cmd("type outage", channel=inc.channel_id)
    rows = steps(cbot, inc)
    assert rows["outage/acknowledge"].status == "done"
    assert len([k for k in rows if k.startswith("outage/")]) == 30


def test_an_unknown_type_lists_the_known_ones(cbot) -> None:
    inc = declare(cbot)
    r = cbot.cmd("type databse", channel=inc.channel_id)
    text = r.json["text"]
    assert "`databse` is not an incident type" in text
    for name in ("outage", "database", "memory", "security"):
        assert f"`{name}`" in text
    assert incidents(cbot.rt)[0].type == "outage"
    r = cbot.cmd("type", channel=inc.channel_id)
    assert "Known types" in r.json["text"]


def test_without_a_type_a_playbook_is_suggested_and_its_button_attaches_it(cbot) -> None:
    inc = declare(cbot, "declare P1 checkout: Checkout API returns 500s")
    assert inc.type is None and checklist_msgs(cbot, inc) == []
    [sugg] = [
        m for m in cbot.slack.messages(inc.channel_id) if "cl_use_type" in str(m.get("blocks"))
    ]
    assert "Use the outage playbook" in blocks_text(sugg)
    r = cbot.driver.press(inc.channel_id, sugg["ts"], "cl_use_type", "U0DAN")
    assert r.status == 200
    cbot.settle()
    [inc] = incidents(cbot.rt)
    assert inc.type == "outage"
    msg = checklist_of(cbot, inc)
    assert msg["pinned"] and "pods deployment/checkout -n shop" in blocks_text(msg)
    sugg = next(m for m in cbot.slack.messages(inc.channel_id) if m["ts"] == sugg["ts"])
    assert "cl_use_type" not in blocks_text(sugg) and "chosen by <@U0DAN>" in sugg["text"]


def test_a_step_the_policy_refuses_or_the_service_cannot_fill_is_shown_not_runnable(
    db_url, standin
) -> None:
    for bot in make_bot(db_url, standin, policy_for()):
        inc = declare(bot)
        # The policy now caps scaling at 2 replicas; the playbook scales to 3.
        bot.rt.policy = bot.rt.policy.model_copy(update={"scale_max_replicas": 2})
        ids = {k.split("/")[1]: v.id for k, v in steps(bot, inc).items()}
        press(bot, inc, "cl_show:resolution")
        text = blocks_text(checklist_of(bot, inc))
        assert "scale deployment/checkout 3 -n shop" in text
        assert "Not runnable: the policy refuses it" in text
        assert f"cl_run:{ids['scale']}" not in text and f"cl_done:{ids['scale']}" in text
        assert f"cl_run:{ids['rollback']}" in text
        # A forged click on Run is refused too, and nothing is requested.
        bot.driver.block_action(
            "U0DAN", inc.channel_id, checklist_of(bot, inc)["ts"], f"cl_run:{ids['scale']}",
            value=str(ids["scale"]),
        )  # fmt: skip
        bot.settle()
        assert any("cannot run" in t for t in ephemeral_texts(bot.slack, "U0DAN"))
        assert steps(bot, inc)["outage/scale"].status == "open"

        # payments has no PostgreSQL target: the database playbook's queries say so.
        bot.cmd("declare P2 Payments queries slow --service payments --type database")
        inc2 = incidents(bot.rt)[1]
        text = blocks_text(checklist_of(bot, inc2))
        assert "needs {postgres}: service `payments` has none in the catalog" in text


def _big_playbook(tmp_path, filler: str = "long words " * 15) -> str:
    phases = []
    for pid in ("immediate", "investigation", "resolution", "recovery", "post_incident"):
        phase = {"id": pid, "title": f"{pid.title()} " + "x" * 100, "steps": []}
        for i in range(12):
            step = {"id": f"{pid[:4]}-{i}", "title": f"Step {i} of {pid}: " + filler}
            if pid == "investigation":
                step.update(action="pods", args="{workload} -n {namespace}")
            elif pid == "post_incident":
                step["due_hours"] = 24
            else:
                step["code"] = "kubectl patch deployment x " + "-p '{}' " * 30
            phase["steps"].append(step)
        if pid == "immediate":
            phase["window_minutes"] = 15
        phases.append(phase)
    pb = {"name": "big", "title": "Sixty steps", "keywords": ["huge"], "phases": phases}
    d = tmp_path / "playbooks"
    d.mkdir()
    (d / "big.yaml").write_text(yaml.safe_dump(pb))
    return str(d)


def test_a_60_step_playbook_stays_within_slacks_limits_and_pages(db_url, standin, tmp_path) -> None:
    policy = policy_for().model_copy(update={"playbooks_dir": _big_playbook(tmp_path)})
    for bot in make_bot(db_url, standin, policy):
        inc = declare(bot, "declare P1 checkout: Everything is huge --type big")
        assert len(steps(bot, inc)) == 60
        msg = checklist_of(bot, inc)  # the stand-in refused nothing: it was posted
        assert len(msg["blocks"]) <= 50
        assert "Show more (7)" in blocks_text(msg)
        press(bot, inc, "cl_page:immediate:1")
        msg = checklist_of(bot, inc)
        assert "Step 5 of immediate" in blocks_text(
            msg
        ) and "Step 0 of immediate" not in blocks_text(msg)
        press(bot, inc, "cl_show:post_incident")
        msg = checklist_of(bot, inc)
        assert len(msg["blocks"]) <= 50 and "Step 0 of post_incident" in blocks_text(msg)
        for b in msg["blocks"]:
            assert len((b.get("text") or {}).get("text", "")) <= 3000


def test_titles_full_of_markup_list_fewer_steps_rather_than_exceed_slacks_text_budget(
    db_url, standin, tmp_path
) -> None:
    # Each `<&>` is sent as `&lt;&amp;&gt;`: 200-character titles become 800 characters.
    folder = _big_playbook(tmp_path, "<&>" * 58)
    policy = policy_for().model_copy(update={"playbooks_dir": folder})
    for bot in make_bot(db_url, standin, policy):
        inc = declare(bot, "declare P1 checkout: Everything is huge --type big")
        press(bot, inc, "cl_show:post_incident")
        msg = checklist_of(bot, inc)  # posted and updated: the stand-in refused neither
        assert "Step 0 of post_incident" in blocks_text(msg)
        assert "Show more" in blocks_text(msg) and "&lt;&amp;&gt;" in blocks_text(msg)
        chars = sum(len((b.get("text") or {}).get("text", "")) for b in msg["blocks"])
        assert chars <= 13_200


def test_checklist_command_shows_progress(cbot) -> None:
    inc = declare(cbot)
    ids = {k.split("/")[1]: v.id for k, v in steps(cbot, inc).items()}
    press(cbot, inc, f"cl_done:{ids['acknowledge']}")
    r = cbot.cmd("checklist", channel=inc.channel_id)
    text = r.json["text"]
    assert "1 of 30 steps finished" in text and "*Immediate actions*: 1/4 finished" in text
    assert "Next open step: “Check service health”" in text
    r = cbot.cmd("checklist")  # outside a war room
    assert "war room" in r.json["text"]
