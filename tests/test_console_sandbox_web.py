"""The sandbox as a Slack-like page, in Debian's Chromium: declare, open the war room, take the
lead, approve a diagnostic as another user, read its result (the stand-ins and the real wire)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack.server import BackgroundServer
from standins.sandbox.web import build, open_sandbox
from tests.test_console_browser import browser, shots  # noqa: F401  (fixtures)


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    web = open_sandbox()
    server = BackgroundServer(build(web)).start()
    try:
        yield server.url
    finally:
        server.stop()
        web.box.close()


def say(page, text: str) -> None:
    page.get_by_label("Message #", exact=False).fill(text)
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()


def test_declare_lead_and_approve_in_the_web_sandbox(browser, shots, sandbox_url) -> None:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    try:
        page.goto(sandbox_url)
        say(page, "/incident declare P1 Checkout API returns 500s")
        room = page.get_by_role("link", name="incident-", exact=False).first
        room.click()
        page.get_by_role("button", name="Take lead").click()
        page.get_by_text("You lead this incident now", exact=False).first.wait_for()
        say(page, "/incident run pods deployment/checkout")
        page.get_by_role("button", name="Approve").last.wait_for()
        page.get_by_label("You are").select_option(label="bob")
        page.get_by_role("button", name="Switch").click()
        page.get_by_role("button", name="Approve").last.click()
        done = page.locator("ol.messages li", has_text="done").last
        done.wait_for()
        assert "Approved by @bob" in done.inner_text()
        assert "checkout" in page.locator("ol.messages").inner_text()  # the pods it read
        page.screenshot(path=shots / "sandbox-web.png", full_page=True)
        assert "<script" not in page.content().split("</head>")[1]
        assert problems == []
    finally:
        context.close()


def test_a_modal_opens_as_a_form_and_submits(browser, sandbox_url) -> None:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(sandbox_url)
        say(page, "/incident declare")
        form = page.get_by_role("form", name="Declare", exact=False)
        form.get_by_label("Title").fill("Orders <b>stuck</b> & late")
        form.get_by_label("Severity").select_option("P1")
        form.get_by_role("button", name="Submit").click()
        page.get_by_role("link", name="incident-", exact=False).first.wait_for()
        page.get_by_role("link", name="# incidents", exact=True).click()
        alert = page.locator("ol.messages li", has_text="Orders").last
        assert "Orders <b>stuck</b> & late" in alert.inner_text()  # shown as typed, not as HTML
        assert page.locator("ol.messages b").count() == 0
    finally:
        context.close()
