"""Every reply to any text is a result or a clear refusal, never "Something went wrong": a
property over the command grammar, sent through the real wire, on both databases."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.router import SUBCOMMANDS
from tests.helpers import incidents

EXAMPLES = int(os.environ.get("WARROOM_FUZZ_EXAMPLES", "120"))

# Pieces a person (or a hostile client) puts into a command, as Slack sends them.
PIECES = st.one_of(
    st.sampled_from(
        [
            "P0",
            "P1",
            "P2",
            "P3",
            "P9",
            "SEV1",
            "sev5",
            "investigating",
            "resolved",
            "bogus",
            "comms",
            "scribe",
            "lead",
            "add",
            "done",
            "list",
            "all",
            "off",
            "help",
            "30d",
            "0d",
            "99999w",
            "due:2026-13-45",
            "due:tomorrow",
            "--tail",
            "--to-revision",
            "-n",
            "shop",
            "deployment/checkout",
            "pod/../../etc",
            "main",
            "cache",
            "root_cause",
            "impact",
            "<@U0BOB>",
            "<@U0BOB|bob>",
            "<@W123>",
            "<#C0GENERAL|general>",
            "<!channel>",
            "<!here>",
            "<!everyone>",
            "<!subteam^S1|@oncall>",
            "<https://x.test|x>",
            "&amp;",
            "&lt;script&gt;",
            "&",
            "<",
            ">",
            "'",
            '"',
            "`",
            "*bold*",
            "\\",
            "%s",
            "{0}",
            "{{x}}",
            "1180591620717411303424",
            "-1",
            "0",
            "2147483648",
            "1e9",
            "NaN",
            "٣",
            "2026-11-22-001",
            "2026-02-30-001",
            "9999-99-99-999",
            "\x00",
            "\x1b[31m",
            "\x7f",
            "\u202e",
            "\ufeff",
            "\U0001f525",
            "支付",
            "a" * 400,
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=30),
)
ARGS = st.lists(PIECES, max_size=6).map(" ".join)
COMMANDS = st.tuples(st.sampled_from([*sorted(SUBCOMMANDS), "", "nope"]), ARGS).map(
    lambda t: f"{t[0]} {t[1]}".strip()
)


@pytest.fixture
def room(bot) -> str:
    bot.cmd("declare P2 Fuzzing target")
    return incidents(bot.rt)[0].channel_id


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples each run: a red build is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=COMMANDS, in_room=st.booleans())
def test_every_reply_is_a_result_or_a_clear_refusal(bot, room, text, in_room) -> None:
    channel = room if in_room else "C0GENERAL"
    r = bot.driver.command(text, user="U0ALICE", channel=channel)
    assert r.status == 200, (text, r.status, r.body)
    reply = (r.json or {}).get("text", "")
    assert reply, text
    assert "Something went wrong" not in reply, (text, reply)
    bot.settle()


def test_no_command_ended_as_an_internal_error(bot, room) -> None:
    """The metric of the property above, as a counter a person would watch."""
    for text in ("note \x00", "retry 1180591620717411303424", "action done 99999999999999999999"):
        r = bot.driver.command(text, user="U0ALICE", channel=room)
        assert r.status == 200 and "Something went wrong" not in r.json["text"], text
    bot.settle()
    assert b'outcome="error"' not in bot.rt.metrics.render()


@pytest.mark.parametrize(
    "text,expect",
    [
        ("note card \x00 declines", "control character (U+0000)"),
        ("declare P1 Orders\x1b[31m stuck", "control character (U+001B)"),
        ("retry 1180591620717411303424", "No incident"),
        ("retry 2147483648", "No incident"),
        ("action done 99999999999999999999", "no action item"),
    ],
)
def test_nul_and_numbers_past_the_integer_range_get_a_clear_reply(bot, room, text, expect):
    r = bot.driver.command(text, user="U0ALICE", channel=room)
    assert r.status == 200 and expect in r.json["text"], r.json
    bot.settle()
    assert len(incidents(bot.rt)) == 1  # nothing half-made


def test_a_control_character_in_a_form_is_shown_under_the_field(bot, room) -> None:
    bot.cmd("declare P0")
    [view] = [v for v in bot.slack.views.values() if v["callback_id"] == "declare_modal"]
    r = bot.driver.submit_view(
        "U0ALICE",
        view,
        {
            "title": {"title": "Orders\x00 not shipping"},
            "severity": {"severity": {"selected_option": {"value": "P0"}}},
            "impact": {"impact": "none"},
        },
    )
    assert r.status == 200
    assert r.json["response_action"] == "errors"
    assert "U+0000" in r.json["errors"]["title"]
    bot.settle()
    assert len(incidents(bot.rt)) == 1
