"""`/incident private` on a public incident, and `/incident public` back (the lead only)."""

from __future__ import annotations

import pytest

from bot.config import Policy
from tests.conftest import make_bot
from tests.helpers import incidents, kinds

TITLE = "Suspicious logins on the admin panel"


@pytest.fixture
def sec(db_url, standin):
    yield from make_bot(
        db_url, standin, Policy(security_responders=["U0BOB"], security_lead="U0BOB")
    )


def test_making_an_incident_private_moves_it_and_scrubs_what_was_said_outside(sec) -> None:
    sec.cmd(f"declare P1 {TITLE}")
    [inc] = incidents(sec.rt)
    public_room = inc.channel_id
    sec.slack.user_join(public_room, "U0DAN")
    sec.cmd("update looking at auth logs", channel=public_room)  # mirrored for P1
    said = " ".join(m["text"] + str(m["blocks"]) for m in sec.slack.messages("C0INCIDENTS"))
    assert "Suspicious logins" in said  # the control: the title was out there

    r = sec.cmd("private", channel=public_room)
    assert "Making" in r.json["text"]
    [inc] = incidents(sec.rt)
    assert inc.private and inc.channel_id != public_room
    room = sec.slack.channel(inc.channel_id)
    assert room["is_private"] and room["name"] == f"incident-{inc.number}"
    assert set(room["members"]) >= {"U0ALICE", "U0BOB"} and "U0DAN" not in room["members"]
    old = sec.slack.channel(public_room)
    assert old["is_archived"] and "Suspicious" not in old["topic"] + old["purpose"]
    assert "now private" in sec.slack.messages(public_room)[-1]["text"]
    for m in sec.slack.messages("C0INCIDENTS"):
        text = m["text"] + str(m["blocks"])
        assert "Suspicious" not in text and "auth logs" not in text and "join_war_room" not in text
    for m in sec.slack.messages(public_room):
        if m.get("bot_id"):
            assert "Suspicious" not in m["text"] + str(m["blocks"])
    assert "made_private" in kinds(sec.rt, inc.id)
    listing = sec.cmd("list", user="U0DAN").json["text"]
    assert f"private incident {inc.number}" in listing and "Suspicious" not in listing
    assert TITLE in sec.cmd("show", channel=inc.channel_id).json["text"]


def test_making_it_public_again_needs_the_lead_and_is_on_the_timeline(sec) -> None:
    sec.cmd(f"declare P1 --private {TITLE}")
    [inc] = incidents(sec.rt)
    r = sec.cmd("public", channel=inc.channel_id)
    assert "Only the incident lead" in r.json["text"]
    assert incidents(sec.rt)[0].private
    sec.cmd("lead <@U0BOB>", channel=inc.channel_id)
    r = sec.cmd("public", user="U0BOB", channel=inc.channel_id)
    assert "public again" in r.json["text"]
    assert not incidents(sec.rt)[0].private
    assert "made_public" in kinds(sec.rt, inc.id)
    assert TITLE in sec.cmd("list", user="U0DAN").json["text"]
