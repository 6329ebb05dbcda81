"""Private incidents: a closed war room with a neutral name, an announcement that says nothing,
and need to know on every command and button, through the real wire and the strict stand-in."""

from __future__ import annotations

import pytest

from bot.config import Policy, _default_severities
from tests.conftest import make_bot
from tests.helpers import events, incidents

TITLE = "Leaked admin tokens on payments host"
MEMBER, LEAD, GROUPIE, OUTSIDER = "U0ALICE", "U0BOB", "U0CAROL", "U0DAN"


def _policy(**extra) -> Policy:
    sev = _default_severities()
    sev["P0"].responders = [OUTSIDER]  # a public P0 would bring Dan in; a private one must not
    fields = {"security_responders": [LEAD, "S0SECURITY"], "security_lead": LEAD}
    return Policy(severities=sev, **{**fields, **extra})


@pytest.fixture
def sec(db_url, standin):
    standin.add_usergroup("S0SECURITY", [GROUPIE])
    yield from make_bot(db_url, standin, _policy())


@pytest.fixture
def private(sec):
    r = sec.cmd(f"declare P0 --private {TITLE}")
    assert r.status == 200
    [inc] = incidents(sec.rt)
    return inc


def _outside_texts(slack, room: str) -> list[str]:
    """Everything anyone outside the private room can read: messages, topics, purposes."""
    out = []
    for cid in list(slack._channels):
        if cid == room:
            continue
        ch = slack.channel(cid)
        out += [ch["name"], ch["topic"], ch["purpose"]]
        out += [m["text"] + str(m.get("blocks")) for m in slack.messages(cid)]
    return out


def test_private_declaration_opens_a_closed_neutral_room_with_only_the_need_to_know(
    sec, private
) -> None:
    inc = private
    assert inc.private and inc.slug == ""
    room = sec.slack.channel(inc.channel_id)
    assert room["is_private"] is True
    assert room["name"] == f"incident-{inc.number}"  # no slug from the title
    assert set(room["members"]) == {sec.rt.chat.bot_user_id, MEMBER, LEAD, GROUPIE}
    assert OUTSIDER not in room["members"]
    assert inc.alert_ts and sec.slack.message(inc.channel_id, inc.alert_ts) is not None
    # The incidents channel: number, severity and the lead to contact; no title, no people.
    [ann] = [m for m in sec.slack.messages("C0INCIDENTS") if m.get("bot_id")]
    said = ann["text"] + str(ann["blocks"])
    assert inc.number in said and "P0" in said and f"<@{LEAD}>" in said
    assert "join_war_room" not in said
    for text in _outside_texts(sec.slack, inc.channel_id):
        assert "Leaked" not in text and "tokens" not in text and "payments" not in text
        assert f"<@{MEMBER}>" not in text and f"<@{GROUPIE}>" not in text


def test_a_public_p0_with_the_same_policy_invites_the_severity_responders(sec) -> None:
    sec.cmd("declare P0 Checkout down")  # the control: Dan is a P0 responder
    [inc] = incidents(sec.rt)
    assert not inc.private and OUTSIDER in sec.slack.channel(inc.channel_id)["members"]
    assert not sec.slack.channel(inc.channel_id)["is_private"]


def test_security_type_is_private_by_default(sec) -> None:
    sec.cmd(f"declare P1 --type security {TITLE}")
    [inc] = incidents(sec.rt)
    assert inc.private and sec.slack.channel(inc.channel_id)["is_private"]


def test_private_with_an_unknown_flag_is_refused_clearly(sec) -> None:
    r = sec.cmd(f"declare P0 --private --secret {TITLE}")
    assert "`--secret` is not an option of declare" in r.json["text"]
    assert "--private" in r.json["text"]
    assert incidents(sec.rt) == []
    r = sec.cmd(f"declare P0 --private=yes {TITLE}")
    assert "takes no value" in r.json["text"] and incidents(sec.rt) == []


def test_without_security_responders_the_reporter_alone_is_invited_and_told(
    db_url, standin
) -> None:
    for bot in make_bot(db_url, standin, Policy(private_announcement="none")):
        r = bot.cmd(f"declare P0 --private {TITLE}")
        assert "only you are invited" in r.json["text"]
        [inc] = incidents(bot.rt)
        members = set(standin.channel(inc.channel_id)["members"])
        assert members == {MEMBER, bot.rt.chat.bot_user_id}
        # private_announcement: none -> nothing at all in the incidents channel
        assert [m for m in standin.messages("C0INCIDENTS") if m.get("bot_id")] == []


def _reply(bot, text: str, user: str = OUTSIDER, channel: str = "C0GENERAL") -> str:
    r = bot.driver.command(text, user=user, channel=channel)
    assert r.status == 200, r.body
    bot.settle()
    return r.json["text"]


PROBES = [
    "show {n}",
    "timeline {n}",
    "status resolved",
    "update all clear {n}",
    "note {n} hello",
    "severity P3",
    "lead <@U0DAN>",
    "role scribe <@U0DAN>",
    "resolve {n}",
    "reopen {n}",
    "postmortem {n}",
    "set root_cause {n}",
    "action list",
    "run help",
    "checklist {n}",
    "remind off",
    "page {n}",
    "statuspage {n}",
    "retry {n}",
    "evidence {n}",
    "private {n}",
    "type security",
]


def test_an_outsider_probing_with_every_command_learns_nothing(sec, private) -> None:
    inc = private
    fake = inc.number[:-3] + "987"
    before = [e.kind for e in events(sec.rt, inc.id)]
    for probe in PROBES:
        # From a channel the outsider is in, with the private incident's number or another's.
        real = _reply(sec, probe.format(n=inc.number)).replace(inc.number, "N")
        none = _reply(sec, probe.format(n=fake)).replace(fake, "N")
        assert real == none, probe
        # From the private room itself (a forged request): as from no war room at all.
        inside = _reply(sec, probe.format(n=fake), channel=inc.channel_id).replace(fake, "N")
        assert inside == none, probe
        assert "Leaked" not in real + inside
    assert [e.kind for e in events(sec.rt, inc.id)] == before  # nothing changed
    listing = _reply(sec, "list all")
    assert f"private incident {inc.number}" in listing and "Leaked" not in listing
    assert inc.channel_id not in listing
    assert "Leaked" not in _reply(sec, "stats")
    for text in _outside_texts(sec.slack, inc.channel_id):
        assert "Leaked" not in text


def _click(bot, action_id: str, value: str, user: str = OUTSIDER) -> str:
    n = len(bot.slack.ephemerals(user=user))
    r = bot.driver.block_action(user, "C0GENERAL", "", action_id, value=value, message={})
    assert r.status == 200, r.body
    bot.settle()
    new = bot.slack.ephemerals(user=user)[n:]
    return " ".join(e["text"] for e in new)


def test_buttons_about_a_private_incident_answer_as_for_an_unknown_one(sec, private) -> None:
    inc = private
    buttons = ("join_war_room", "retry_setup", "snooze_15", "snooze_30", "stop_reminders")
    for action in (*buttons, "take_lead", "post_update"):
        real = _click(sec, action, str(inc.id)).replace(str(inc.id), "N")
        none = _click(sec, action, "987654").replace("987654", "N")
        assert real == none and "Leaked" not in real, action
    assert OUTSIDER not in sec.slack.channel(inc.channel_id)["members"]
    with pytest.raises(Exception, match="channel_not_found"):
        sec.slack.user_join(inc.channel_id, OUTSIDER)  # joined by invitation only


def test_a_member_sees_everything(sec, private) -> None:
    inc = private
    room = inc.channel_id
    assert TITLE in _reply(sec, "show", user=MEMBER, channel=room)
    assert "Timeline of" in _reply(sec, "timeline", user=GROUPIE, channel=room)
    assert TITLE in _reply(sec, "list", user=LEAD)
    _reply(sec, "update contained; keys rotated", user=MEMBER, channel=room)
    assert "keys rotated" not in " ".join(_outside_texts(sec.slack, room))  # never mirrored


def test_someone_invited_later_by_a_member_sees_it_and_leaving_ends_it(sec, private) -> None:
    inc = private
    sec.rt.chat.invite(inc.channel_id, [OUTSIDER])  # a member's invitation (as the bot here)
    sec.settle()
    assert TITLE in _reply(sec, "list", user=OUTSIDER)
    sec.slack.user_leave(inc.channel_id, OUTSIDER)
    sec.settle()
    assert TITLE not in _reply(sec, "list", user=OUTSIDER)


def test_the_declare_form_has_a_private_checkbox_that_declares_privately(sec) -> None:
    sec.cmd("declare P0")
    [view] = list(sec.slack.views.values())
    assert "Private" in str(view["blocks"])
    values = {
        "title": {"title": TITLE},
        "severity": {"severity": {"selected_option": {"value": "P0"}}},
        "impact": {"impact": "Tokens seen on a paste site"},
        "private": {"private": ["private"]},
    }
    r = sec.driver.submit_view(MEMBER, view, values)
    assert r.status == 200, r.body
    sec.settle()
    [inc] = incidents(sec.rt)
    assert inc.private and sec.slack.channel(inc.channel_id)["is_private"]
    for text in _outside_texts(sec.slack, inc.channel_id):
        assert "paste site" not in text and "Leaked" not in text


def test_checklist_buttons_of_a_private_incident_answer_as_for_a_missing_step(sec) -> None:
    from sqlalchemy import select

    from bot.playbooks.models import ChecklistStep

    sec.cmd(f"declare P1 --type security {TITLE}")
    [inc] = incidents(sec.rt)
    with sec.rt.db.read() as s:
        steps = list(s.scalars(select(ChecklistStep).where(ChecklistStep.incident_id == inc.id)))
    assert steps, "the security playbook's checklist"
    sid = steps[0].id
    for action in ("cl_done", "cl_undo", "cl_run", "cl_skip"):
        real = _click(sec, f"{action}:{sid}", str(sid)).replace(str(sid), "N")
        none = _click(sec, f"{action}:987654", "987654").replace("987654", "N")
        assert real == none and "Leaked" not in real, action
    with sec.rt.db.read() as s:
        assert s.get(ChecklistStep, sid).status == "open"
    [lead] = incidents(sec.rt)
    assert lead.lead_id is None
