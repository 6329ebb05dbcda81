"""Text people type, through the real wire: unescaped and parsed on the way in (Slack sends it
escaped, mentions as markup), escaped wherever the bot posts it, never a live broadcast."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs

import pytest

from bot import mrkdwn
from bot.models import ActionItem
from standins.sandbox.terminal import play
from tests.helpers import events, incidents, today_room

# Everything the bot hands Slack to show: messages, ephemerals, topics, purposes, views.
SHOWN = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "conversations.setTopic",
    "conversations.setPurpose",
    "views.open",
    "views.update",
    "views.push",
    "response_url",
)
LIVE_BROADCAST = re.compile(r"<!(?:channel|here|everyone|subteam\^)")
TYPED_BROADCASTS = "@channel @here @everyone @oncall"
RAW_BROADCASTS = "<!channel> <!here> <!everyone> <!subteam^S1|@oncall>"


def _displayed(value):
    """What Slack renders: an input's `initial_value` is text to edit, never markup."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _displayed(v) for k, v in value.items() if k != "initial_value"}
    if isinstance(value, list):
        return [_displayed(v) for v in value]
    return value


def shown(slack, *methods: str) -> list[str]:
    return [
        json.dumps(_displayed(c.params), ensure_ascii=False)
        for c in slack.calls
        if c.method in (methods or SHOWN)
    ]


def live(slack) -> list[str]:
    return [t for t in shown(slack) if LIVE_BROADCAST.search(t)]


def resolve_with_form(bot, room: str, user: str, **fields: str) -> None:
    r = bot.driver.command("resolve", user=user, channel=room)
    assert r.status == 200
    bot.settle()
    view = next(v for v in bot.slack.views.values() if v["callback_id"] == "resolve_modal")
    values = {k: {k: v} for k, v in fields.items()}
    assert bot.driver.submit_view(user, view, values).status == 200
    bot.settle()


def test_the_driver_sends_what_slack_sends_with_escaping_on(bot) -> None:
    bot.driver.usergroups["oncall"] = "S1"
    typed = "R&D <login> @bob #general @here @oncall @nobody bob@x.io https://x.io/a?b=1&c=2"
    assert bot.driver.typed(typed) == (
        "R&amp;D &lt;login&gt; <@U0BOB|bob> <#C0GENERAL|general> <!here> "
        "<!subteam^S1|@oncall> @nobody bob@x.io <https://x.io/a?b=1&amp;c=2>"
    )
    sent = []
    real_send = bot.driver.transport.send

    def spy(body, *args, **kwargs):
        sent.append(body)
        return real_send(body, *args, **kwargs)

    bot.driver.transport.send = spy
    bot.driver.command("note R&D <b> @bob", user="U0ALICE", channel="C0GENERAL")
    bot.driver.command("note <@U0BOB>", user="U0ALICE", channel="C0GENERAL", raw=True)
    texts = [parse_qs(b.decode())["text"][0] for b in sent]
    assert texts == ["note R&amp;D &lt;b&gt; <@U0BOB|bob>", "note <@U0BOB>"]


def test_placeholders_in_help_and_usage_are_not_read_as_links(bot) -> None:
    assert "`declare &lt;P0-P3&gt; &lt;title&gt;`" in bot.cmd("help").json["text"]
    refused = bot.cmd("declare Checkout down").json["text"]
    assert "`/incident declare &lt;P0-P3&gt; &lt;title&gt;`" in refused
    assert "`&lt;b&gt;` is not a Warroom command" in bot.cmd("<b> & c").json["text"]


def test_slash_title_with_entities_is_stored_as_typed_and_named_without_them(bot) -> None:
    r = bot.cmd("declare P2 R&D portal <login> fails")
    [inc] = incidents(bot.rt)
    assert inc.title == "R&D portal <login> fails"
    assert inc.channel_name == today_room(1, "r-d-portal-login-fails")
    assert "R&amp;D portal &lt;login&gt; fails" in r.json["text"]
    alert = bot.slack.message(inc.channel_id, inc.alert_ts)
    assert "R&amp;D portal &lt;login&gt; fails" in alert["text"]
    assert "R&amp;D portal &lt;login&gt; fails" in json.dumps(alert["blocks"])
    topic = bot.slack.channel(inc.channel_id)["topic"]
    assert "R&amp;D portal &lt;login&gt; fails" in topic
    assert "&amp;amp;" not in json.dumps(shown(bot.slack))


def test_no_typed_text_becomes_a_live_broadcast_anywhere(bot) -> None:
    bot.driver.usergroups["oncall"] = "S1"
    acks: list[str] = []  # the commands' own answers, shown to the person who typed them

    def cmd(text: str, channel: str = "C0GENERAL") -> None:
        acks.append(json.dumps(bot.cmd(text, channel=channel).json, ensure_ascii=False))

    # Typed in a slash command: Slack turns these into <!channel>, <!subteam^S1|@oncall>…
    cmd(f"declare P1 Orders {TYPED_BROADCASTS} & <stuck>")
    # Typed raw into the declare modal (plain_text_input values are not escaped by Slack).
    bot.driver.command("declare P2", user="U0BOB", channel="C0GENERAL")
    bot.settle()
    view = next(v for v in bot.slack.views.values() if v["callback_id"] == "declare_modal")
    values = {
        "title": {"title": f"Payments {RAW_BROADCASTS} & <down>"},
        "severity": {"severity": {"selected_option": {"value": "P2"}}},
        "impact": {"impact": f"Impact {RAW_BROADCASTS}"},
    }
    assert bot.driver.submit_view("U0BOB", view, values).status == 200
    bot.settle()
    first, second = incidents(bot.rt)
    assert first.title == "Orders @channel @here @everyone @oncall & <stuck>"
    assert second.title == f"Payments {RAW_BROADCASTS} & <down>"
    for inc in (first, second):
        room = inc.channel_id
        cmd(f"note look {TYPED_BROADCASTS} <!channel> & <x>", channel=room)
        cmd(f"update still {TYPED_BROADCASTS} <!here> & <y>", channel=room)
        cmd(f"status identified {TYPED_BROADCASTS} & <z>", channel=room)
        cmd("show", channel=room)
        cmd("timeline", channel=room)
        cmd("list", channel=room)
        cmd(f"lead {TYPED_BROADCASTS}", channel=room)  # refused, quoting the token
    cmd(f"resolve fixed {TYPED_BROADCASTS} <!everyone> & <done>", channel=first.channel_id)
    resolve_with_form(
        bot,
        second.channel_id,
        "U0BOB",
        summary=f"Summary {RAW_BROADCASTS} & <s>",
        root_cause=f"Cause {RAW_BROADCASTS}",
        impact=f"Impact {RAW_BROADCASTS}",
        resolution=f"Fix {RAW_BROADCASTS}",
    )
    cmd(f"frobnicate {TYPED_BROADCASTS}")
    assert live(bot.slack) == [] and [a for a in acks if LIVE_BROADCAST.search(a)] == []
    everything = "\n".join(shown(bot.slack) + acks)
    for typed in ("&amp; &lt;stuck&gt;", "&amp; &lt;down&gt;", "&amp; &lt;x&gt;", "&lt;!here&gt;"):
        assert typed in everything
    assert any("`@channel` is not a user mention" in a for a in acks)
    # The database keeps what people meant, not entities.
    notes = [e.text for e in events(bot.rt, first.id) if e.kind == "note"]
    assert notes == ["look @channel @here @everyone @oncall <!channel> & <x>"]


def test_a_raw_broadcast_in_a_modal_title_stays_out_of_the_purpose(bot) -> None:
    bot.driver.command("declare P2", user="U0BOB", channel="C0GENERAL")
    bot.settle()
    view = next(v for v in bot.slack.views.values() if v["callback_id"] == "declare_modal")
    values = {
        "title": {"title": "Payments <!channel> down"},
        "severity": {"severity": {"selected_option": {"value": "P2"}}},
    }
    bot.driver.submit_view("U0BOB", view, values)
    bot.settle()
    assert live(bot.slack) == []


def test_mentions_in_slash_text_are_parsed_as_mentions(bot) -> None:
    bot.cmd("declare P2 Search slow")
    [inc] = incidents(bot.rt)
    room = inc.channel_id
    r = bot.cmd("lead @bob", channel=room)
    assert "<@U0BOB> now leads" in r.json["text"]
    bot.cmd("note asked @carol in #general, see https://x.io/a?b=1&c=2", channel=room)
    [note] = [e.text for e in events(bot.rt, inc.id) if e.kind == "note"]
    assert note == "asked <@U0CAROL> in <#C0GENERAL>, see https://x.io/a?b=1&c=2"
    posted = [m["text"] for m in bot.slack.messages(room) if "Note from" in m["text"]]
    assert posted == [
        ":memo: Note from <@U0ALICE>: asked <@U0CAROL> in <#C0GENERAL>, "
        "see https://x.io/a?b=1&amp;c=2"
    ]


def test_message_shortcut_text_arrives_escaped_and_prefills_what_was_meant(bot) -> None:
    ts = bot.driver.user_post("C0GENERAL", "U0CAROL", "R&D <login> fails @here\nsince 10:02")
    assert bot.slack.message("C0GENERAL", ts)["text"].startswith("R&amp;D &lt;login&gt;")
    bot.driver.message_shortcut("declare_from_message", "U0CAROL", "C0GENERAL", ts)
    bot.settle()
    [view] = list(bot.slack.views.values())
    title = next(b for b in view["blocks"] if b["block_id"] == "title")["element"]
    assert title["initial_value"] == "R&D <login> fails @here"


@pytest.mark.parametrize(
    ("wire", "meant"),
    [
        ("R&amp;D &lt;login&gt;", "R&D <login>"),
        ("&amp;lt;", "&lt;"),
        ("<@U1|bob> <@W2>", "<@U1> <@W2>"),
        ("<#C1|general>", "<#C1>"),
        (
            "<!here> <!channel> <!everyone> <!subteam^S1|@oncall>",
            "@here @channel @everyone @oncall",
        ),
        ("<https://x.io/a?b&amp;c>", "https://x.io/a?b&c"),
        ("<https://x.io|Docs>", "Docs (https://x.io)"),
        ("<mailto:a@b.io|a@b.io>", "a@b.io"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
    ],
)
def test_from_slack_reads_the_wire_form(wire: str, meant: str) -> None:
    assert mrkdwn.from_slack(wire) == meant


def test_escape_makes_markup_inert_but_keeps_one_person_mentions() -> None:
    assert mrkdwn.escape("a & <!channel> <https://x|y> <@U1> <#C1>") == (
        "a &amp; &lt;!channel&gt; &lt;https://x|y&gt; <@U1> <#C1>"
    )
    assert mrkdwn.unescape(mrkdwn.escape("&lt; & <x>")) == "&lt; & <x>"


def test_the_sandbox_types_through_slacks_escaping_and_shows_text_unescaped() -> None:
    out = io.StringIO()
    play(["/incident declare P2 R&D <login> fails @here", "hello & <b> @bob"], out)
    transcript = out.getvalue()
    assert "*R&D <login> fails @here*" in transcript
    assert "#incident-" in transcript and "-r-d-login-fails-here" in transcript
    assert "alice:\n   hello & <b> @bob" in transcript
    assert "&amp;" not in transcript and "&lt;" not in transcript and "<!" not in transcript


def test_an_action_item_is_echoed_escaped_and_its_owner_parsed(bot) -> None:
    bot.cmd("declare P2 Search slow")
    [inc] = incidents(bot.rt)
    r = bot.cmd("action add Fix R&D <index> @here @carol due:2026-12-01", channel=inc.channel_id)
    assert r.json["text"] == "Action item 1 added: Fix R&amp;D &lt;index&gt; @here"
    r = bot.cmd("action done 1", channel=inc.channel_id)
    assert r.json["text"] == "Action item 1 done: Fix R&amp;D &lt;index&gt; @here"
    with bot.rt.db.read() as s:
        [item] = s.query(ActionItem).all()
    assert (item.text, item.owner_id) == ("Fix R&D <index> @here", "U0CAROL")
