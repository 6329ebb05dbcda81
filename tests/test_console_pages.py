"""The console's pages over HTTP: the list and its filters, an incident, its live timeline,
the post-mortem edited and exported, the metrics; incidents made through Slack commands."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot.console import queries
from bot.models import Incident, TimelineEvent
from tests.conftest import Bot
from tests.helpers import incidents
from tests.test_console_auth import console_bot, sign_in


@pytest.fixture
def signed(db_url, standin) -> Iterator[tuple[Bot, httpx.Client]]:
    for bot in console_bot(db_url, standin):
        with httpx.Client(base_url=bot.url, timeout=10) as c:
            assert sign_in(bot, c).status_code == 303
            yield bot, c


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def declared(bot: Bot) -> dict[str, Incident]:
    return {i.title: i for i in incidents(bot.rt)}


def test_the_list_filters_pages_and_escapes(signed, monkeypatch) -> None:
    bot, c = signed
    bot.cmd("declare P1 Checkout API returns 500s")
    bot.cmd("declare P3 Slow search <script>alert(1)</script>")
    bot.cmd("declare P1 Payments queue backs up")
    page = c.get("/").text
    assert "Checkout API returns 500s" in page and "Payments queue backs up" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    p1 = c.get("/", params={"severity": "P1"}).text
    assert "Checkout API" in p1 and "Slow search" not in p1
    found = c.get("/", params={"q": "checkout"}).text
    assert "Checkout API" in found and "Payments queue" not in found
    assert "Checkout API" not in c.get("/", params={"status": "resolved"}).text
    assert "Checkout API" not in c.get("/", params={"until": "2000-01-01"}).text
    assert "is not a date" in c.get("/", params={"since": "yesterday"}).text
    room = declared(bot)["Checkout API returns 500s"].channel_id
    assert f"slack://channel?team=T0WARROOM&amp;id={room}" in page
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    first, second = c.get("/").text, c.get("/", params={"page": 2}).text
    assert 'rel="next"' in first and "Payments queue" in first and "Checkout API" not in first
    assert "Checkout API" in second and 'rel="next"' not in second


def test_an_incident_page_shows_summary_clocks_and_timeline(signed) -> None:
    bot, c = signed
    bot.cmd("declare P2 Checkout API returns 500s")
    inc = declared(bot)["Checkout API returns 500s"]
    bot.cmd("lead @bob", channel=inc.channel_id)
    bot.cmd("status identified Bad deploy", channel=inc.channel_id)
    bot.cmd("action add Add a canary @carol due:2026-12-01", channel=inc.channel_id)
    page = c.get(f"/incidents/{inc.id}").text
    assert "Acknowledge" in page and "Resolve" in page and "running" in page
    assert "Bad deploy" in page and "Add a canary" in page and "@bob" in page
    assert 'data-live="1"' in page
    assert "invited @alice" in page and "&lt;@U0ALICE&gt;" not in page  # names, not mrkdwn
    assert c.get("/incidents/999999").status_code == 404


def _read_live(bot: Bot, cookies, inc_id: int, after: int, found: list) -> None:
    """Read the stream until a note arrives (or 10 s pass), on a connection of its own."""
    with (
        httpx.Client(base_url=bot.url, cookies=cookies, timeout=10) as c,
        c.stream("GET", f"/incidents/{inc_id}/live", params={"after": after}) as r,
    ):
        assert r.headers["content-type"].startswith("text/event-stream")
        deadline = time.monotonic() + 10
        for line in r.iter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
            if any(e["kind"] == "note" for e in found) or time.monotonic() > deadline:
                return


def test_the_timeline_streams_new_entries_while_open(signed) -> None:
    bot, c = signed
    bot.cmd("declare P2 Checkout API returns 500s")
    inc = declared(bot)["Checkout API returns 500s"]
    with bot.rt.db.read() as s:
        last = max(s.scalars(select(TimelineEvent.id).where(TimelineEvent.incident_id == inc.id)))
    found: list[dict] = []
    reader = threading.Thread(target=_read_live, args=(bot, c.cookies, inc.id, last, found))
    reader.start()
    bot.cmd("note Rolled back payments to v41 <b>now</b>", channel=inc.channel_id)
    reader.join(timeout=15)
    notes = [e for e in found if e["kind"] == "note"]
    assert notes and "Rolled back payments to v41" in notes[0]["text"]
    assert all(e["id"] > last for e in found)
    assert c.get("/incidents/999999/live").status_code == 404


def test_a_post_mortem_field_is_saved_through_the_bot_and_exported(signed) -> None:
    bot, c = signed
    bot.cmd("declare P2 Checkout API returns 500s")
    inc = declared(bot)["Checkout API returns 500s"]
    url = f"/incidents/{inc.id}/postmortem"
    page = c.get(url).text
    assert "<h1>Post-mortem: Checkout API returns 500s" in page
    cause = "A flag flipped <img src=x onerror=alert(1)> the provider"
    refused = c.post(url, data={"field": "root_cause", "text": cause})
    assert refused.status_code == 403
    assert declared(bot)["Checkout API returns 500s"].root_cause == ""
    r = c.post(url, data={"field": "root_cause", "text": cause, "csrf_token": csrf(page)})
    assert r.status_code == 303
    assert declared(bot)["Checkout API returns 500s"].root_cause == cause
    with bot.rt.db.read() as s:
        ev = s.scalars(select(TimelineEvent).where(TimelineEvent.kind == "field")).one()
        assert ev.actor_id == "U0ALICE" and ev.data == {"field": "root_cause"}
    shown = c.get(url).text
    assert "<img src=x" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    bad = c.post(url, data={"field": "title", "text": "x", "csrf_token": csrf(page)})
    assert bad.status_code == 400 and "cannot be edited here" in bad.text
    md = c.get(url + ".md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert f'postmortem-{inc.number}.md"' in md.headers["content-disposition"]
    assert "## Root Cause\n" + cause in md.text


def test_metrics_are_drawn_as_svg_from_the_incidents(signed) -> None:
    bot, c = signed
    bot.cmd("declare P1 Checkout API returns 500s")
    bot.cmd("declare P1 Payments queue backs up")
    room = declared(bot)["Checkout API returns 500s"].channel_id
    bot.cmd("lead @bob", channel=room)
    page = c.get("/stats").text
    assert page.count("<svg") == 4
    assert 'data-value="2"' in page  # two P1 incidents this week, in the per-week bars
    assert "2 incidents declared" in page
    assert "<td>—</td><td>2</td><td>0 min</td><td>—</td>" in page  # no service: both under —
