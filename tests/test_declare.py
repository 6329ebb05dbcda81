"""Declaring an incident over the real wire: war room, invites, pinned alert, announcement, once."""

from __future__ import annotations

import threading

import pytest

from bot.config import Policy, SeverityPolicy
from tests.conftest import make_bot
from tests.helpers import incidents, kinds, today_room


def test_declare_opens_a_ready_war_room(bot) -> None:
    r = bot.cmd("declare P1 Checkout API returns 500s")
    assert r.json["response_type"] == "ephemeral"
    assert "Declared" in r.json["text"] and "-001" in r.json["text"]

    [inc] = incidents(bot.rt)
    assert (inc.severity, inc.status, inc.reporter_id) == ("P1", "investigating", "U0ALICE")
    assert inc.ready_at is not None and inc.setup_error is None

    room = bot.slack.channel(inc.channel_id)
    assert room["name"] == today_room(1, "checkout-api-returns-500s") == inc.channel_name
    assert "P1" in room["topic"] and "INVESTIGATING" in room["topic"]
    assert "U0ALICE" in room["members"]

    # The bot's posts there: the alert, and the playbook it suggests (no --type given).
    [alert] = [
        m
        for m in bot.slack.messages(inc.channel_id)
        if m.get("bot_id") and "cl_use_type" not in str(m.get("blocks"))
    ]
    assert alert["ts"] == inc.alert_ts and alert["pinned"]
    body = str(alert["blocks"])
    for field in ("Severity", "Title", "Impact", "Status", "Lead", "War room"):
        assert f"*{field}*" in body
    assert "take_lead" in body

    [announce] = [m for m in bot.slack.messages("C0INCIDENTS") if m.get("bot_id")]
    assert f"<#{inc.channel_id}>" in announce["text"] or f"<#{inc.channel_id}>" in str(
        announce["blocks"]
    )
    assert "join_war_room" in str(announce["blocks"])
    assert kinds(bot.rt, inc.id) == ["declared", "war_room_created", "war_room_ready"]


def test_responders_for_the_severity_are_invited(db_url, standin) -> None:
    sev = Policy().severities
    sev["P0"] = SeverityPolicy(
        label="Critical",
        respond_minutes=15,
        resolve_minutes=120,
        update_minutes=30,
        responders=["U0BOB", "U0CAROL"],
        mirror_updates=True,
    )
    for bot in make_bot(db_url, standin, Policy(severities=sev)):
        bot.cmd("declare SEV1 Database primary down", user="U0DAN")
        [inc] = incidents(bot.rt)
        assert inc.severity == "P0"
        members = set(bot.slack.channel(inc.channel_id)["members"])
        assert {"U0DAN", "U0BOB", "U0CAROL"} <= members


def test_retyped_declaration_makes_no_second_incident(bot) -> None:
    bot.cmd("declare P1 Checkout API returns 500s")
    r = bot.cmd("declare P1  checkout api returns 500S")
    assert "already declared" in r.json["text"]
    assert len(incidents(bot.rt)) == 1
    assert len(bot.slack.calls_to("conversations.create")) == 1


def test_concurrent_double_submissions_make_one_incident(bot) -> None:
    replies: list[str] = []

    def go() -> None:
        replies.append(
            bot.driver.command(
                "declare P2 Search latency high", user="U0BOB", channel="C0GENERAL"
            ).json["text"]
        )

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bot.settle()
    assert len(incidents(bot.rt)) == 1
    assert len(bot.slack.calls_to("conversations.create")) == 1
    assert sum("Declared" in r for r in replies) == 1
    assert all("Declared" in r or "already" in r for r in replies)


def test_redis_fast_path_still_makes_one_incident(db_url, standin, redis_url) -> None:
    for bot in make_bot(db_url, standin, redis_url=redis_url):
        results: list[str] = []

        def go(b=bot, out=results) -> None:
            r = b.driver.command("declare P1 Login broken", user="U0CAROL", channel="C0GENERAL")
            out.append(r.json["text"])

        threads = [threading.Thread(target=go) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bot.settle()
        assert len(incidents(bot.rt)) == 1
        assert sum("Declared" in r for r in results) == 1
        assert bot.rt.once.claim("probe", 5) and not bot.rt.once.claim("probe", 5)


def test_each_declaration_gets_the_next_number_of_the_day(bot) -> None:
    bot.cmd("declare P2 First thing")
    bot.cmd("declare P3 Second thing")
    a, b = incidents(bot.rt)
    assert (a.seq, b.seq) == (1, 2)
    assert b.channel_name == today_room(2, "second-thing")


def test_taken_channel_name_gets_a_suffix(bot) -> None:
    bot.slack.add_channel(today_room(1, "payments-down"))
    bot.cmd("declare P1 Payments down")
    [inc] = incidents(bot.rt)
    assert inc.channel_name == today_room(1, "payments-down") + "-2"
    assert inc.ready_at is not None


def test_non_latin_title_gets_a_channel_without_slug(bot) -> None:
    bot.cmd("declare P2 支付服务故障")
    [inc] = incidents(bot.rt)
    assert inc.title == "支付服务故障" and inc.channel_name == today_room(1, "")


def test_failed_channel_creation_keeps_the_incident_and_retry_finishes(bot) -> None:
    bot.slack.fail_next("conversations.create", error="restricted_action")
    bot.cmd("declare P1 Checkout API returns 500s")
    [inc] = incidents(bot.rt)
    assert (
        inc.channel_id is None and inc.ready_at is None and "restricted_action" in inc.setup_error
    )
    [told] = [e for e in bot.slack.ephemerals(user="U0ALICE") if "Retry" in str(e.get("blocks"))]
    assert "is recorded" in told["text"]

    bot.cmd(f"retry {inc.number}")
    [inc] = incidents(bot.rt)
    assert inc.ready_at is not None and inc.channel_id
    assert kinds(bot.rt, inc.id) == [
        "declared",
        "war_room_failed",
        "war_room_created",
        "war_room_ready",
    ]


def test_retry_resumes_without_a_second_channel(bot) -> None:
    bot.slack.fail_next("chat.postMessage", error="fatal_error", times=2)
    bot.cmd("declare P2 Queue backlog growing")
    [inc] = incidents(bot.rt)
    assert inc.channel_id and inc.ready_at is None
    [retry_msg] = [
        e for e in bot.slack.ephemerals(user="U0ALICE") if "retry_setup" in str(e.get("blocks"))
    ]
    assert "fatal_error" in retry_msg["text"]
    bot.driver.block_action("U0ALICE", "C0GENERAL", "1.0", "retry_setup", value=str(inc.id))
    bot.settle()
    [inc] = incidents(bot.rt)
    assert inc.ready_at is not None
    assert len(bot.slack.calls_to("conversations.create")) == 1


def test_war_room_is_ready_before_the_pin_and_a_failed_pin_is_finished_by_retry(bot) -> None:
    """Ready means it can be worked in; the pin needs the alert's ts, so it comes after."""
    bot.slack.fail_next("pins.add", error="fatal_error")
    bot.cmd("declare P2 Queue backlog growing")
    [inc] = incidents(bot.rt)
    assert inc.ready_at is not None and not inc.alert_pinned and "fatal_error" in inc.setup_error
    assert kinds(bot.rt, inc.id)[-2:] == ["war_room_ready", "war_room_failed"]
    r = bot.cmd(f"retry {inc.number}")
    assert "Retrying" in r.json["text"]
    [inc] = incidents(bot.rt)
    assert inc.alert_pinned and inc.setup_error is None
    assert [m["ts"] for m in bot.slack.messages(inc.channel_id) if m["pinned"]] == [inc.alert_ts]
    assert kinds(bot.rt, inc.id).count("war_room_ready") == 1
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if "cl_use_type" not in str(c)]
    assert len(posts) == 2  # alert and announcement, once each (besides the playbook suggestion)


def test_rate_limited_post_is_retried_not_dropped(bot) -> None:
    bot.slack.rate_limit_next("chat.postMessage", retry_after=1)
    bot.cmd("declare P3 Typo on status page")
    [inc] = incidents(bot.rt)
    assert inc.ready_at is not None
    assert any(m["ts"] == inc.alert_ts for m in bot.slack.messages(inc.channel_id))


def test_declare_without_title_opens_the_modal_and_submission_declares(bot) -> None:
    bot.cmd("declare P0")
    assert len(bot.slack.calls_to("views.open")) == 1
    [view] = list(bot.slack.views.values())
    assert view["callback_id"] == "declare_modal"
    r = bot.driver.submit_view(
        "U0BOB",
        view,
        {
            "title": {"title": "Orders not shipping"},
            "severity": {"severity": {"selected_option": {"value": "P0"}}},
            "impact": {"impact": "No orders ship since 09:00"},
        },
    )
    assert r.status == 200
    bot.settle()
    [inc] = incidents(bot.rt)
    assert (inc.title, inc.severity, inc.impact) == (
        "Orders not shipping",
        "P0",
        "No orders ship since 09:00",
    )
    assert inc.ready_at is not None


def test_modal_with_blank_title_is_refused_in_the_form(bot) -> None:
    bot.cmd("declare")
    [view] = list(bot.slack.views.values())
    r = bot.driver.submit_view(
        "U0BOB",
        view,
        {
            "title": {"title": " 🔥 "},
            "severity": {"severity": {"selected_option": {"value": "P2"}}},
            "impact": {"impact": ""},
        },
    )
    assert r.json["response_action"] == "errors" and "title" in r.json["errors"]
    assert incidents(bot.rt) == []


def test_message_shortcut_prefills_and_links_the_message(bot) -> None:
    ts = bot.slack.user_post(
        "C0GENERAL", "U0CAROL", "Checkout is timing out for everyone\nsince 10:02"
    )
    bot.driver.message_shortcut("declare_from_message", "U0CAROL", "C0GENERAL", ts)
    bot.settle()
    [view] = list(bot.slack.views.values())
    assert "Checkout is timing out for everyone" in str(view["blocks"])
    r = bot.driver.submit_view(
        "U0CAROL",
        view,
        {
            "title": {"title": "Checkout is timing out for everyone"},
            "severity": {"severity": {"selected_option": {"value": "P1"}}},
            "impact": {"impact": "everyone"},
        },
    )
    assert r.status == 200
    bot.settle()
    [inc] = incidents(bot.rt)
    assert ts.replace(".", "") in inc.source_link


@pytest.mark.parametrize(
    "text,expect",
    [
        ("explode now", "not a Warroom command"),
        ("declare P7 Something broke", "`P7` is not a severity"),
        ("declare Checkout broke", "Start with the severity"),
        ("declare P1 " + "x" * 10_000, "keep it under 150"),
        ("declare P1 🔥🔥 !!!", "at least one word"),
        ("status identified", "inside an incident's war room"),
        ("resolve", "inside an incident's war room"),
    ],
)
def test_bad_input_gets_a_clear_reply_and_stores_nothing(bot, text: str, expect: str) -> None:
    r = bot.cmd(text)
    assert r.status == 200 and expect in r.json["text"]
    assert "Traceback" not in r.body
    assert incidents(bot.rt) == []
    assert bot.slack.calls_to("conversations.create") == []


def test_setup_left_by_a_dead_process_is_resumed_and_adopts_its_channel(bot) -> None:
    from datetime import timedelta

    from bot.incident import flows, ops
    from bot.models import Incident

    # A process recorded the incident, created the channel, then died before saving its id.
    d = ops.declare(
        bot.rt,
        title="Cache stampede",
        severity="P2",
        impact="",
        reporter="U0BOB",
        team_id="T0WARROOM",
        channel="C0GENERAL",
    )
    name = today_room(d.incident.seq, "cache-stampede")
    bot.rt.chat.create_channel(name)
    with bot.rt.db.session() as s:
        s.get(Incident, d.incident.id).setup_claim_until = bot.rt.now() - timedelta(seconds=1)

    assert flows.resume_unfinished(bot.rt) == [d.incident.id]
    bot.settle()
    [inc] = incidents(bot.rt)
    assert inc.ready_at is not None and inc.channel_name == name
    assert len(bot.slack.calls_to("conversations.create")) == 2  # the dead one's, then name_taken
    assert flows.resume_unfinished(bot.rt) == []


def test_concurrent_declarations_get_consecutive_numbers_without_retries(bot) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.incident import ops

    def declare(i: int) -> int:
        d = ops.declare(
            bot.rt,
            title=f"Thing {i} broke",
            severity="P2",
            impact="",
            reporter=f"U0R{i:03d}",
            team_id="T0WARROOM",
            channel="C0GENERAL",
        )
        return d.incident.seq

    with ThreadPoolExecutor(16) as pool:
        seqs = list(pool.map(declare, range(48)))
    assert sorted(seqs) == list(range(1, 49))


def test_a_flood_is_acknowledged_while_war_room_setups_queue(bot) -> None:
    """Setups beyond the setups pool wait their turn; the acknowledgements do not wait for them."""
    import itertools
    import time
    from concurrent.futures import ThreadPoolExecutor

    bot.rt.setups.shutdown(wait=True)
    bot.rt.setups = ThreadPoolExecutor(1, "setup")  # SETUP_WORKERS=1
    for u in ("U0BOB", "U0CAROL"):
        bot.slack.add_user(u, u[3:].lower())
    bot.slack.latency = 0.05  # every Slack call takes at least 50 ms
    acked = []
    for user in ("U0ALICE", "U0BOB", "U0CAROL"):
        r = bot.driver.command(f"declare P2 Cache {user} misses", user=user, channel="C0GENERAL")
        assert r.status == 200 and "Declared" in r.json["text"]
        acked.append(time.monotonic())
    bot.settle()
    creates = [c.at for c in bot.slack.calls_to("conversations.create")]
    assert len(creates) == 3
    # One setup at a time: create, then the id-only calls, then the pin, each ≥ 50 ms.
    assert all(b - a >= 0.14 for a, b in itertools.pairwise(creates))
    assert acked[-1] < creates[-1]  # all three were answered before the last setup began
    assert all(i.ready_at is not None for i in incidents(bot.rt))
