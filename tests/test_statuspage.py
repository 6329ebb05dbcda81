"""The status page through the wire: a P1's draft offered to the comms role, *Publish* reaching
the Statuspage stand-in with the right fields, the matching update per status, the resolution
notice, approval by a second person, and who published what on the timeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Policy
from bot.models import Postmortem
from bot.statuspage.models import StatusPost
from bot.statuspage.policy import StatusPagePolicy
from standins.statuspage.api import StatuspageStandIn
from tests.conftest import make_bot
from tests.helpers import events, incidents

KEY = "sp-api-key-0123456789abcdef"
PAGE = "pg7x2q"
COMPONENT = "cmp0checkout"


@pytest.fixture
def sp() -> Iterator[StatuspageStandIn]:
    s = StatuspageStandIn(KEY, PAGE, {COMPONENT: "Checkout"}).start()
    yield s
    s.stop()


def _bot(db_url, standin, sp, monkeypatch, **policy):
    monkeypatch.setenv("STATUSPAGE_API_KEY", KEY)
    conf = StatusPagePolicy(page_id=PAGE, url=sp.url, components={"checkout": COMPONENT}, **policy)
    yield from make_bot(db_url, standin, Policy(status_page=conf))


@pytest.fixture
def bot_sp(db_url, standin, sp, monkeypatch):
    yield from _bot(db_url, standin, sp, monkeypatch)


@pytest.fixture
def bot_approval(db_url, standin, sp, monkeypatch):
    yield from _bot(db_url, standin, sp, monkeypatch, require_approval=True)


def _posts(rt) -> list[StatusPost]:
    with rt.db.read() as s:
        return list(s.query(StatusPost).order_by(StatusPost.id))


def _offer_ts(bot, channel: str, label: str = "Publish") -> str:
    msgs = [m for m in bot.slack.messages(channel) if "statuspage_publish" in str(m.get("blocks"))]
    assert msgs, "no status page offer in the war room"
    assert label in str(msgs[-1]["blocks"])
    return msgs[-1]["ts"]


def _room(bot, sev: str = "P1") -> object:
    bot.cmd(f"declare {sev} Checkout API returns 500s")
    [inc] = incidents(bot.rt)
    with bot.rt.db.session() as s:  # the catalog service the declaration would name
        s.execute(
            __import__("sqlalchemy").text("UPDATE incidents SET service='checkout' WHERE id=:i"),
            {"i": inc.id},
        )
    return inc


def test_draft_publish_update_and_resolve_reach_statuspage(bot_sp, sp) -> None:
    bot = bot_sp
    inc = _room(bot)
    bot.cmd("role comms @carol", channel=inc.channel_id)
    ts = _offer_ts(bot, inc.channel_id)
    offer = bot.slack.message(inc.channel_id, ts)
    assert "<@U0CAROL>" in offer["text"] + str(offer["blocks"])
    assert sp.received == []  # nothing leaves before someone presses Publish
    bot.driver.press(inc.channel_id, ts, "statuspage_publish", "U0CAROL")
    bot.settle()
    [create] = [c for c in sp.received if c.method == "POST"]
    assert create.headers["authorization"] == f"OAuth {KEY}"
    fields = create.body["incident"]
    assert fields["name"] == "Checkout API returns 500s" and fields["status"] == "investigating"
    assert fields["components"] == {COMPONENT: "partial_outage"}
    assert fields["component_ids"] == [COMPONENT]
    assert "We are investigating" in fields["body"]
    [sp_inc] = sp.incidents.values()
    assert "published by <@U0CAROL>" in bot.slack.message(inc.channel_id, ts)["text"]

    bot.cmd("status identified Bad deploy of payments v42", channel=inc.channel_id)
    ts = _offer_ts(bot, inc.channel_id)
    bot.driver.press(inc.channel_id, ts, "statuspage_publish", "U0CAROL")
    bot.settle()
    patch = [c for c in sp.received if c.method == "PATCH"][-1]
    assert patch.path == f"/v1/pages/{PAGE}/incidents/{sp_inc['id']}"
    assert patch.body["incident"]["status"] == "identified"
    assert "Bad deploy of payments v42" in patch.body["incident"]["body"]

    bot.cmd("resolve Rolled back to v41", channel=inc.channel_id)
    ts = _offer_ts(bot, inc.channel_id)
    bot.driver.press(inc.channel_id, ts, "statuspage_publish", "U0BOB")
    bot.settle()
    assert sp_inc["status"] == "resolved" and sp_inc["resolved_at"]
    assert sp.components[COMPONENT]["status"] == "operational"
    assert [u["status"] for u in sp_inc["incident_updates"]] == [
        "investigating",
        "identified",
        "resolved",
    ]
    published = [e for e in events(bot.rt, inc.id) if e.kind == "status_page"]
    assert [(e.actor_id, e.data["status"]) for e in published] == [
        ("U0CAROL", "investigating"),
        ("U0CAROL", "identified"),
        ("U0BOB", "resolved"),
    ]
    assert "Published to the status page (resolved) by <@U0BOB>" in published[-1].text
    bot.cmd("postmortem", channel=inc.channel_id)
    with bot.rt.db.read() as s:
        md = s.get(Postmortem, inc.id).content
    assert "Published to the status page (identified)" in md


def test_a_second_click_publishes_nothing_twice(bot_sp, sp) -> None:
    bot = bot_sp
    inc = _room(bot)
    bot.cmd("lead @bob", channel=inc.channel_id)
    ts = _offer_ts(bot, inc.channel_id)
    stale = bot.slack.message(inc.channel_id, ts)  # as a slow client still shows it
    [button] = stale["blocks"][1]["elements"]
    for _ in range(2):
        bot.driver.block_action(
            "U0BOB",
            inc.channel_id,
            ts,
            "statuspage_publish",
            value=button["value"],
            block_id=stale["blocks"][1]["block_id"],
            message=stale,
            element=button,
        )
        bot.settle()
    assert len([c for c in sp.received if c.method == "POST"]) == 1
    assert any("already published" in e["text"] for e in bot.slack.ephemerals(user="U0BOB"))


def test_approval_needs_a_second_person(bot_approval, sp) -> None:
    bot = bot_approval
    inc = _room(bot, "P0")
    bot.cmd("role comms @carol", channel=inc.channel_id)
    ts = _offer_ts(bot, inc.channel_id)
    bot.driver.press(inc.channel_id, ts, "statuspage_publish", "U0CAROL")
    bot.settle()
    assert sp.received == []
    _offer_ts(bot, inc.channel_id, "Approve and publish")
    bot.driver.press(inc.channel_id, ts, "statuspage_publish", "U0CAROL")
    bot.settle()
    assert sp.received == []
    assert any(
        "Someone else must approve" in e["text"] for e in bot.slack.ephemerals(user="U0CAROL")
    )
    bot.driver.press(inc.channel_id, ts, "statuspage_publish", "U0BOB")
    bot.settle()
    [create] = [c for c in sp.received if c.method == "POST"]
    assert create.body["incident"]["components"] == {COMPONENT: "major_outage"}
    [post] = _posts(bot.rt)
    assert (post.state, post.requested_by, post.approved_by) == ("published", "U0CAROL", "U0BOB")


def test_p2_gets_no_offer_and_a_refused_key_is_said_without_it(bot_sp, sp, monkeypatch) -> None:
    bot = bot_sp
    inc = _room(bot, "P2")
    bot.cmd("role comms @carol", channel=inc.channel_id)
    assert _posts(bot.rt) == []
    monkeypatch.setenv("STATUSPAGE_API_KEY", "wrong-key-zzz")
    bot.cmd("statuspage", channel=inc.channel_id)
    ts = _offer_ts(bot, inc.channel_id)
    bot.driver.press(inc.channel_id, ts, "statuspage_publish", "U0CAROL")
    bot.settle()
    [c] = sp.received
    assert c.status == 401
    said = [m["text"] for m in bot.slack.messages(inc.channel_id) if "did not take" in m["text"]]
    assert len(said) == 1 and "HTTP 401" in said[0] and "wrong-key-zzz" not in said[0]
    [post] = _posts(bot.rt)
    assert post.state == "draft"  # can be published once the key is fixed


def test_a_private_incident_is_offered_no_draft_on_its_own(bot_sp, sp) -> None:
    bot = bot_sp
    bot.cmd("declare P1 --private Credentials leaked from billing-db")
    bot.settle()
    [inc] = incidents(bot.rt)
    assert inc.private
    bot.cmd("role comms @carol", channel=inc.channel_id)
    bot.settle()
    assert _posts(bot.rt) == [] and sp.received == []
