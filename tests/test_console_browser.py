"""The console in a real browser: Debian's Chromium driven by Playwright (no browser download).

Screenshots of every page land in $WARROOM_ARTIFACTS/console (default: pytest's temp folder;
the path is printed).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CI, Bot
from tests.helpers import incidents
from tests.test_console_auth import console_bot

CHROMIUM = "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not shutil.which(CHROMIUM):
        msg = "Debian's chromium is not installed (.ci/run installs it)"
        pytest.fail(msg) if CI else pytest.skip(msg)
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    root = os.environ.get("WARROOM_ARTIFACTS")
    folder = Path(root) / "console" if root else tmp_path_factory.mktemp("console-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots: {folder}")
    return folder


@pytest.fixture
def cbot(db_url, standin) -> Iterator[Bot]:
    yield from console_bot(db_url, standin)


@pytest.fixture
def page(browser, cbot):
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.problems = []  # CSP violations and script errors show up as console errors
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(m.text))
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    yield pg
    context.close()


def sign_in(page, bot: Bot, user: str = "alice") -> None:
    """Through the stand-in's consent page, as a person would: choose the user, press Allow."""
    page.goto(bot.url + "/")
    assert page.url.startswith(bot.slack.base_url + "/openid/connect/authorize?")
    page.select_option("#user", label=user)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(bot.url + "/")


def test_sign_in_find_open_watch_edit_and_chart(page, cbot, shots) -> None:
    cbot.cmd("declare P1 Checkout API returns 500s")
    cbot.cmd("declare P3 Search is slow")
    inc = next(i for i in incidents(cbot.rt) if i.title.startswith("Checkout"))
    sign_in(page, cbot)
    page.screenshot(path=shots / "list.png", full_page=True)

    page.get_by_label("Text").fill("checkout")
    page.get_by_label("Severity").select_option("P1")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/?q=checkout*")
    rows = page.locator("table.incidents tbody tr")
    assert rows.count() == 1 and "Checkout API returns 500s" in rows.inner_text()
    page.screenshot(path=shots / "list-filtered.png", full_page=True)

    page.get_by_role("link", name="Checkout API returns 500s").click()
    page.wait_for_url(f"**/incidents/{inc.id}")
    assert page.locator("#live-state").is_visible()
    page.wait_for_timeout(500)  # the EventSource connects
    sent = time.monotonic()
    cbot.driver.command("note Rolled back payments to v41", user="U0BOB", channel=inc.channel_id)
    entry = page.locator("#timeline li.fresh", has_text="Rolled back payments to v41")
    entry.wait_for(timeout=5_000)
    print(f"live timeline entry shown {time.monotonic() - sent:.2f} s after the command")
    assert "@bob" in entry.inner_text()
    page.screenshot(path=shots / "incident.png", full_page=True)

    page.get_by_role("link", name="Post-mortem").click()
    page.wait_for_url(f"**/incidents/{inc.id}/postmortem")
    page.get_by_label("Root cause").fill("A config flag flipped the payment provider")
    page.get_by_role("button", name="Save root cause").click()
    page.get_by_role("status").wait_for()
    assert "Root cause saved" in page.get_by_role("status").inner_text()
    assert "A config flag flipped the payment provider" in page.locator("article").inner_text()
    page.screenshot(path=shots / "postmortem.png", full_page=True)
    assert incidents(cbot.rt)[0].root_cause == "A config flag flipped the payment provider"

    page.get_by_role("link", name="Metrics").click()
    page.wait_for_url("**/stats")
    assert page.locator("svg.chart").count() == 4
    assert page.locator('svg.chart rect[data-value="1"]').count() >= 2  # a P1 and a P3 bar
    page.screenshot(path=shots / "stats.png", full_page=True)
    assert page.problems == []


def test_a_form_without_its_csrf_token_is_refused(page, cbot, shots) -> None:
    cbot.cmd("declare P2 Checkout API returns 500s")
    inc = incidents(cbot.rt)[0]
    sign_in(page, cbot)
    page.goto(f"{cbot.url}/incidents/{inc.id}/postmortem")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_label("Impact").fill("Everyone")
    page.get_by_role("button", name="Save impact").click()
    page.get_by_role("heading", name="Form refused").wait_for()
    page.screenshot(path=shots / "csrf-refused.png", full_page=True)
    assert incidents(cbot.rt)[0].impact != "Everyone"


def test_anonymous_is_sent_to_sign_in_and_another_workspace_is_refused(page, cbot, shots) -> None:
    page.goto(cbot.url + "/stats")
    assert page.url.startswith(cbot.slack.base_url + "/openid/connect/authorize?")
    page.screenshot(path=shots / "authorize.png", full_page=True)
    cbot.slack.openid.team_of_user["U0DAN"] = "T0ELSEWHERE"
    page.select_option("#user", label="dan")
    page.get_by_role("button", name="Allow").click()
    page.get_by_text("different Slack workspace").wait_for()
    page.screenshot(path=shots / "wrong-team.png", full_page=True)
    page.goto(cbot.url + "/")
    assert page.url.startswith(cbot.slack.base_url)  # still no session


def test_inputs_have_labels_and_the_keyboard_reaches_links_and_buttons(page, cbot) -> None:
    cbot.cmd("declare P2 Checkout API returns 500s")
    inc = incidents(cbot.rt)[0]
    sign_in(page, cbot)
    for path in ("/", f"/incidents/{inc.id}", f"/incidents/{inc.id}/postmortem", "/stats"):
        page.goto(cbot.url + path)
        unlabeled = page.evaluate(
            """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => e.labels.length === 0).map(e => e.name)"""
        )
        assert unlabeled == [], (path, unlabeled)
    page.goto(cbot.url + "/")
    reached = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.textContent.trim()"))
    assert {"Incidents", "Metrics", "Sign out", "Filter"} <= reached
    assert "Checkout API returns 500s" in reached
