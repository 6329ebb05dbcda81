"""Post-mortems compiled from the timeline, action items, fields, metrics; CLI and templates."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from bot.clock import FrozenClock
from bot.config import Policy
from bot.models import Postmortem
from bot.timers.runner import TimerRunner
from tests.conftest import make_bot
from tests.helpers import events, incidents


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 22, 14, 0, tzinfo=UTC))


@pytest.fixture
def pbot(db_url, standin, clock):
    for bot in make_bot(db_url, standin, Policy(timezone="Europe/Berlin"), clock=clock):
        bot.cmd("declare P2 Checkout API returns 500s")
        bot.room = incidents(bot.rt)[0].channel_id
        yield bot


def _compiled(bot) -> str:
    """The comment the post-mortem file was posted with: its version and what changed."""
    return [m["text"] for m in bot.slack.messages(bot.room) if ":memo:" in m["text"]][-1]


def _file(bot) -> str:
    f = list(bot.slack.files.values())[-1]
    return f["content"].decode() if isinstance(f["content"], bytes) else f["content"]


def test_postmortem_compiles_everything_the_incident_recorded(pbot, clock) -> None:
    room = pbot.room
    clock.advance(minutes=5)
    pbot.cmd("lead @bob", channel=room)
    ts = pbot.slack.user_post(room, "U0ALICE", "Deploy 42 went out at 14:01")
    pbot.slack.user_react(room, ts, "U0ALICE", "pushpin")
    pbot.settle()
    clock.advance(minutes=10)
    pbot.cmd("severity P1", channel=room)
    pbot.cmd("status identified Bad deploy of payments v42", channel=room)
    pbot.cmd("set root_cause A config flag flipped the payment provider to sandbox", channel=room)
    pbot.cmd("action add Add a canary for payments @carol due:2026-12-01", channel=room)
    pbot.cmd("action add Alert on provider mode", channel=room)
    clock.advance(minutes=40)
    pbot.cmd("resolve Rolled back to v41", channel=room)
    pbot.cmd("set lessons Flags need review", channel=room)

    r = pbot.cmd("postmortem", channel=room)
    assert "Compiling the post-mortem" in r.json["text"]
    assert "Post-mortem v1 compiled" in _compiled(pbot)
    md = _file(pbot)
    assert md.startswith("# Post-mortem: Checkout API returns 500s\n")
    assert "DRAFT" not in md
    assert "P1 — High (changes: P2 → P1 at 15:15)" in md  # Europe/Berlin
    assert "**Acknowledged**: 2026-11-22 15:05 CET" in md
    assert "**Duration**: 55 min" in md
    assert "@bob" in md and "@carol" in md and "@alice" in md
    assert "Deploy 42 went out at 14:01 ([message](https://" in md
    assert "A config flag flipped the payment provider to sandbox" in md
    assert "| Time to acknowledge | 1 h 0 min | 5 min | met |" in md  # P1 after the re-grade
    assert "| Time to resolve | 8 h 0 min | 55 min | met |" in md
    assert "- [ ] 1. Add a canary for payments (Owner: @carol, Due: 2026-12-01)" in md
    assert "- [ ] 2. Alert on provider mode (Owner: —, Due: —)" in md
    assert "Flags need review" in md
    with pbot.rt.db.session() as s:
        pm = s.get(Postmortem, incidents(pbot.rt)[0].id)
        assert pm.version == 1 and not pm.draft and pm.content == md
    assert incidents(pbot.rt)[0].postmortem_at is not None


def test_recompiling_replaces_the_draft_and_says_what_changed(pbot, clock) -> None:
    pbot.cmd("postmortem", channel=pbot.room)
    assert "Draft v1 compiled" in _compiled(pbot)
    assert "DRAFT (the incident is not resolved)" in _file(pbot)
    pbot.cmd("postmortem", channel=pbot.room)
    assert "Draft v2" in _compiled(pbot)
    pbot.cmd("set impact Payments failed for 12% of users", channel=pbot.room)
    pbot.cmd("postmortem", channel=pbot.room)
    said = _compiled(pbot)
    assert "v3" in said and "changed: " in said and "Impact" in said
    with pbot.rt.db.session() as s:
        assert s.get(Postmortem, incidents(pbot.rt)[0].id).version == 3


def test_postmortem_is_acknowledged_without_waiting_for_slack_names(pbot) -> None:
    """Names come from users.info, one per participant: none may be asked before the ack.

    users.info is held shut until the acknowledgement is back: a handler that asked Slack for a
    name first would hang there and the command would never be answered."""
    for who, name in (("U0BOB", "bob"), ("U0CAROL", "carol")):
        pbot.cmd(f"note seen by @{name}", channel=pbot.room, user=who)
    gate = threading.Event()
    serve = pbot.slack.handle_api

    def held(method, params, token):
        if method == "users.info":
            gate.wait(30)
        return serve(method, params, token)

    pbot.slack.handle_api = held
    try:
        r = pbot.driver.command("postmortem", user="U0ALICE", channel=pbot.room)
        assert r.status == 200 and "Compiling the post-mortem" in r.json["text"]
        assert not pbot.slack.calls_to("files.completeUploadExternal")
    finally:
        gate.set()
        del pbot.slack.handle_api
    pbot.settle()
    assert "Draft v1 compiled" in _compiled(pbot)
    assert "@bob" in _file(pbot) and "@carol" in _file(pbot)


def test_actions_taken_are_listed_with_requester_and_approver(pbot, clock) -> None:
    from bot.approvals import service
    from bot.config import ActionRule

    inc = incidents(pbot.rt)[0]
    with pbot.rt.db.session() as s:
        from bot.models import Incident

        row = s.get(Incident, inc.id)
        req = service.create(
            s,
            row,
            action="pods",
            params={},
            target="kubernetes `shop`",
            preview="list pods",
            requester="U0ALICE",
            rule=ActionRule(),
            now=clock.now(),
        )
        rid = req.id
    with pbot.rt.db.session() as s:
        service.decide(s, rid, "U0BOB", True, ActionRule(), clock.now(), lambda g, u: False)
    with pbot.rt.db.session() as s:
        service.start(s, rid, clock.now())
    with pbot.rt.db.session() as s:
        service.finish(s, rid, True, "3 pod(s), 1 not ready", clock.now())
    pbot.cmd("postmortem", channel=pbot.room)
    md = _file(pbot)
    assert (
        "`pods` on kubernetes `shop` — asked by @alice, approved by @bob — succeeded: 3 pod(s)"
        in md
    )


@pytest.mark.parametrize(
    "text,expect",
    [
        ("set mood great", "`mood` is not a field"),
        ("set root_cause", "Write the root cause"),
        ("action add", "Say what needs doing"),
        ("action add Fix it due:tomorrow", "`tomorrow` is not a date"),
        ("action done 7", "no action item 7"),
        ("action done two", "Which item?"),
        ("action frobnicate", "Usage"),
        ("stats forever", "not a window"),
    ],
)
def test_bad_postmortem_input_gets_a_clear_reply(pbot, text, expect) -> None:
    r = pbot.cmd(text, channel=pbot.room)
    assert expect in r.json["text"]


def test_action_items_done_list_and_overdue_reminder_to_owner(pbot, clock) -> None:
    pbot.cmd("action add Write the runbook @dan due:2026-11-23", channel=pbot.room)
    pbot.cmd("action add Fix alerting @carol due:2026-11-23", channel=pbot.room)
    assert "done" in pbot.cmd("action done 2", channel=pbot.room).json["text"]
    assert "already done" in pbot.cmd("action done 2", channel=pbot.room).json["text"]
    listing = pbot.cmd("action list", channel=pbot.room).json["text"]
    assert "⬜ *1.* Write the runbook" in listing and "✅ *2.* Fix alerting" in listing
    clock.advance(days=2)
    TimerRunner(pbot.rt).tick()
    pbot.settle()
    dan_dm = pbot.slack.im_channel("U0DAN")
    assert dan_dm and any("Write the runbook" in m["text"] for m in pbot.slack.messages(dan_dm))
    assert pbot.slack.im_channel("U0CAROL") is None  # done items are not chased


def test_resolve_form_collects_the_postmortem_fields(pbot) -> None:
    pbot.cmd("resolve", channel=pbot.room)
    view = next(v for v in pbot.slack.views.values() if v["callback_id"] == "resolve_modal")
    pbot.driver.submit_view(
        "U0ALICE",
        view,
        {
            "summary": {"summary": "Rolled back"},
            "root_cause": {"root_cause": "Bad flag"},
            "impact": {"impact": "12% of checkouts"},
            "resolution": {"resolution": "Reverted v42"},
        },
    )
    pbot.settle()
    [inc] = incidents(pbot.rt)
    assert (inc.status, inc.summary, inc.root_cause, inc.impact, inc.resolution) == (
        "resolved",
        "Rolled back",
        "Bad flag",
        "12% of checkouts",
        "Reverted v42",
    )


def test_stats_count_and_breaches(pbot, clock) -> None:
    pbot.cmd("declare P0 Everything down")
    room0 = incidents(pbot.rt)[1].channel_id
    clock.advance(minutes=20)  # P0 acknowledge target is 15 min
    pbot.cmd("lead @bob", channel=room0)
    pbot.cmd("resolve ok", channel=room0)
    text = pbot.cmd("stats 30d", channel=pbot.room).json["text"]
    assert "Incidents declared in the last 30 days: 2" in text
    assert "P0       1  20 min / 20 min" in text and "1/1 (100%)" in text
    assert "Open incidents now: 1" in text


def test_cli_postmortem_and_custom_template_errors(pbot, tmp_path, monkeypatch, capsys) -> None:
    inc = incidents(pbot.rt)[0]
    monkeypatch.setenv("DATABASE_URL", pbot.rt.db.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    out = tmp_path / "pm.md"
    assert main(["postmortem", inc.number, "-o", str(out)]) == 0
    assert out.read_text().startswith("# Post-mortem: Checkout API returns 500s — DRAFT")
    assert main(["postmortem", "2026-01-01-999"]) == 1
    assert "no incident 2026-01-01-999" in capsys.readouterr().err

    bad = tmp_path / "team.md.j2"
    bad.write_text("# {{ inc.title }}\n\n{% for e in events %}\n- {{ e.text }\n{% endfor %}\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"postmortem_template: {bad}\n")
    monkeypatch.setenv("WARROOM_CONFIG", str(policy))
    assert main(["postmortem", inc.number]) == 1
    err = capsys.readouterr().err
    assert "team.md.j2:4" in err

    bad.write_text("# {{ inc.title }} for {{ inc.customer }}\n")
    assert main(["postmortem", inc.number]) == 1
    assert "team.md.j2" in capsys.readouterr().err

    bad.write_text("# {{ inc.title }} ({{ inc.severity }}), {{ events | length }} events\n")
    assert main(["postmortem", inc.number]) == 0
    assert "# Checkout API returns 500s (P2), " in capsys.readouterr().out


def test_postmortem_of_many_events_stays_linear(pbot, clock) -> None:
    from bot.incident import timeline
    from bot.models import Incident

    inc = incidents(pbot.rt)[0]
    with pbot.rt.db.session() as s:
        row = s.get(Incident, inc.id)
        for i in range(2000):
            timeline.record(
                s,
                row,
                "note",
                at=clock.now() + timedelta(seconds=i),
                actor="U0ALICE",
                text=f"note {i}",
            )
    pbot.cmd("postmortem", channel=pbot.room)
    md = _file(pbot)
    assert "note 1999" in md and md.count("— @alice — note ") == 2000
    assert len(events(pbot.rt, inc.id)) > 2000
