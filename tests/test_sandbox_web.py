"""`warroom sandbox --web` in Debian's Chromium (Playwright, no browser download): the sandbox as a
small Slack, driving the same stand-ins over the same signed wire as the terminal sandbox.

Screenshots land in $WARROOM_ARTIFACTS/console (default: pytest's temp folder; the path is printed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

import tests.test_console_a11y as a11y
from bot.slack.server import BackgroundServer
from standins.sandbox.web import WebSandbox, build, open_sandbox
from tests.test_console_browser import browser, playwright_api, shots  # noqa: F401


@pytest.fixture
def web() -> Iterator[WebSandbox]:
    box = open_sandbox()
    yield box
    box.box.close()


@pytest.fixture
def url(web) -> Iterator[str]:
    server = BackgroundServer(build(web)).start()
    yield server.url
    server.stop()


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.problems = []  # CSP violations and script errors show up as console errors
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(m.text))
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    yield pg
    context.close()


def say(page, text: str) -> None:
    page.get_by_label("Message #", exact=False).fill(text)
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()


def messages(page):
    return page.locator("ol.messages > li")


# Every element with its own text: its colour and the first opaque background behind it.
COLOURS_JS = """() => {
  const opaque = c => c && c !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(c);
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.offsetParent && getComputedStyle(el).position !== "fixed") continue;
    let bg = null;
    for (let e = el; e && !bg; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (opaque(c)) bg = c;
    }
    out.push([getComputedStyle(el).color, bg || "rgb(255, 255, 255)", el.textContent.trim()]);
  }
  return out;
}"""


def low_contrast(page) -> list[tuple[str, float]]:
    """Text below WCAG AA (4.5:1) as the browser draws it."""

    def hex_of(css: str) -> str:
        r, g, b = (int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])
        return f"#{r:02x}{g:02x}{b:02x}"

    found = []
    for fg, bg, text in page.evaluate(COLOURS_JS):
        ratio = a11y.contrast(hex_of(fg), hex_of(bg))
        if ratio < 4.5:
            found.append((text[:40], round(ratio, 2)))
    return found


def act_as(page, name: str) -> None:
    page.get_by_label("You are").select_option(label=name)
    page.get_by_role("button", name="Switch").click()
    page.wait_for_load_state()


def test_declare_lead_run_and_approve_as_someone_else(page, url, web, shots) -> None:  # noqa: F811
    page.goto(url)
    say(page, "/incident declare P1 Checkout API returns 500s")
    # The answer only the typer sees, then the war room in the sidebar.
    page.get_by_text("Only visible to you").first.wait_for()
    room = page.get_by_role("navigation").get_by_role("link", name=re.compile(r"# incident-"))
    room.first.click()
    page.get_by_role("heading", name=re.compile(r"# incident-")).wait_for()
    page.screenshot(path=shots / "sandbox-war-room.png", full_page=True)

    page.get_by_role("button", name="Take lead").first.click()
    page.get_by_text("You lead this incident now", exact=False).first.wait_for()

    say(page, "/incident run pods deployment/checkout")
    request = messages(page).filter(has=page.get_by_role("button", name="Approve")).last
    request.wait_for()
    # The requester may not approve: switch to bob and press Approve as him.
    act_as(page, "bob")
    assert page.get_by_label("You are").input_value() == "U0BOB"
    say(page, "I can look at it")  # bob was not invited: Slack asks him to join first
    messages(page).filter(has_text="press Join channel").last.wait_for()
    messages(page).get_by_role("button", name="Approve").last.click()
    result = messages(page).filter(has_text="Approved by @bob").last
    result.wait_for()
    # The diagnostic's output, read from the demo cluster, arrives (live, without a reload).
    page.locator("ol.messages pre.code", has_text="checkout").first.wait_for()
    page.screenshot(path=shots / "sandbox-approved.png", full_page=True)
    assert low_contrast(page) == []
    page.get_by_role("button", name="Join channel").click()
    say(page, "I can look at it")
    assert "bob" in messages(page).filter(has_text="I can look at it").last.inner_text()
    assert page.problems == []
    # What the browser showed is what the stand-in holds: the approval went over the wire.
    room_id = web.box.slack.channel_by_name(room.first.inner_text().strip("# \n"))["id"]
    stored = json.dumps(web.box.slack.messages(room_id))
    assert "Approved by <@U0BOB>" in stored


def test_typed_markup_is_shown_as_text(page, url, shots) -> None:  # noqa: F811
    page.goto(url)
    title = 'Cart <script>window.pwned=1</script> <img src=x onerror="window.pwned=2"> <!channel>'
    say(page, f"/incident declare P2 {title}")
    page.get_by_role("link", name=re.compile(r"# incident-")).first.wait_for()
    page.get_by_role("link", name="# incidents", exact=True).click()
    alert = messages(page).filter(has_text="Cart").last
    alert.wait_for()
    shown = alert.inner_text()
    assert "<script>window.pwned=1</script>" in shown
    assert "<!channel>" in shown  # not a mention: typed text, escaped by Slack and by the bot
    assert page.locator("ol.messages script, ol.messages img").count() == 0
    assert page.evaluate("window.pwned") is None
    page.screenshot(path=shots / "sandbox-escaped.png", full_page=True)
    assert page.problems == []


def test_a_modal_opens_submits_and_reports_errors(page, url) -> None:
    page.goto(url)
    say(page, "/incident declare")
    dialog = page.get_by_role("dialog", name=re.compile("Declare", re.I))
    dialog.wait_for()
    # The form takes the focus (the composer keeps it only when no form is open).
    playwright_api.expect(dialog.get_by_label("Title")).to_be_focused()
    # Slack's client refuses an empty required field; the bot refuses a title saying nothing.
    dialog.get_by_label("Title").fill("???")
    dialog.get_by_label("Severity").select_option("P1")
    dialog.get_by_role("button", name="Declare").click()
    title = page.get_by_role("dialog").get_by_label("Title")
    playwright_api.expect(title).to_have_attribute("aria-invalid", "true")
    assert "Say what is broken" in page.get_by_role("dialog").inner_text()
    assert page.get_by_role("dialog").get_by_label("Severity").input_value() == "P1"  # kept
    assert low_contrast(page) == []
    for _ in range(12):  # the keyboard stays in the form
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('#modal') !== null")
    dialog.get_by_label("Title").fill("Orders <b>stuck</b> & late")
    dialog.get_by_label("Severity").select_option("P1")
    dialog.get_by_role("button", name="Declare").click()
    page.get_by_role("link", name=re.compile(r"# incident-.*orders")).first.wait_for()
    assert page.get_by_role("dialog").count() == 0
    page.get_by_role("link", name="# incidents", exact=True).click()
    alert = messages(page).filter(has_text="Orders").last
    assert "Orders <b>stuck</b> & late" in alert.inner_text()
    assert page.locator("ol.messages b").count() == 0


def test_pins_reactions_files_and_the_keyboard(page, url, web, shots) -> None:  # noqa: F811
    page.goto(url)
    say(page, "/incident declare P1 Checkout API returns 500s")
    page.get_by_role("link", name=re.compile(r"# incident-")).first.click()
    say(page, "Error rate jumped at 14:02 :fire:")
    note = messages(page).filter(has_text="Error rate jumped").last
    assert "🔥" in note.inner_text()  # shortcodes shown as emoji
    note.get_by_role("button", name=re.compile("React with pushpin")).click()
    note = messages(page).filter(has_text="Error rate jumped").last
    note.locator(".reaction", has_text="📌").wait_for()
    note.get_by_role("button", name=re.compile("^Pin message")).click()
    messages(page).filter(has_text="Error rate jumped").last.get_by_text("📌 pinned").wait_for()

    # Resolve and ask for the post-mortem: the bot uploads a file, viewable from the sidebar.
    say(page, "/incident resolve Rolled back")
    say(page, "/incident postmortem")
    files = page.get_by_role("navigation").get_by_role("link", name=re.compile("📄"))
    files.first.wait_for()
    files.first.click()
    page.get_by_role("heading", name="Post-mortem: Checkout API returns 500s").wait_for()
    assert "Checkout API returns 500s" in page.content()
    assert page.locator("article.markdown table").count() >= 1  # the SLA table, as a table
    page.screenshot(path=shots / "sandbox-file.png", full_page=True)
    assert low_contrast(page) == []
    page.go_back()
    page.wait_for_load_state()

    # The keyboard alone: the composer has the focus, Enter sends; Tab reaches every control.
    # (Focus is given once the page has loaded: wait for it, fail if it never comes.)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'text'")
    page.keyboard.type("/incident help")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.get_by_text("Only visible to you").last.wait_for()
    page.mouse.click(2, 2)  # nothing focusable there: Tab starts from the top
    stops = []
    while "Send" not in stops and len(stops) < 300:
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.textContent.trim()"))
    page.mouse.click(2, 2)
    page.keyboard.press("Shift+Tab")  # before the sidebar: the skip link, Enter goes to the box
    assert page.evaluate("document.activeElement.textContent") == "Skip to the message box"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "text"
    assert {"Switch", "Send", "+📌", "Pin"} <= set(stops)
    assert any(s.startswith("# incident-") for s in stops)
    # Every button and field has an accessible name.
    controls = "button, input:not([type=hidden]), select, textarea"
    unnamed = page.evaluate(
        f"""() => [...document.querySelectorAll("{controls}")].filter(e =>
        !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim()
        ).map(e => e.outerHTML)"""
    )
    assert unnamed == []
    assert page.problems == []


def test_what_others_do_arrives_live_without_a_reload(page, url, web) -> None:
    page.goto(url)
    say(page, "/incident declare P2 Search is slow")
    page.get_by_role("link", name=re.compile(r"# incident-")).first.click()
    page.get_by_role("heading", name=re.compile(r"# incident-")).wait_for()
    page.evaluate("window.stillHere = 'yes'")  # a reload or navigation would lose it
    room = web.box.channel
    with web.lock:  # dan, in another Slack window, posts an update through the real wire
        web.box.user = "U0DAN"
        web.box.slack.user_join(room, "U0DAN")
        web.say(room, "/incident update Index rebuilt, latency back to normal")
        web.box.user = "U0ALICE"
    messages(page).filter(has_text="Index rebuilt").last.wait_for(timeout=5000)
    assert page.evaluate("window.stillHere") == "yes"
    assert page.problems == []


def test_the_demo_plays_in_the_page(page, url, web, shots) -> None:  # noqa: F811
    assert web.demo_path is not None, "examples/checkout-outage.txt is the demo"
    web.demo_pause = 0.05
    page.goto(url)
    page.get_by_role("button", name="Play demo").click()
    page.get_by_text("Playing demo", exact=False).first.wait_for()
    # The page follows the demo into the war room and shows it through to the post-mortem.
    page.get_by_text("Demo finished", exact=False).wait_for(timeout=120_000)
    assert "# incident-" in page.get_by_role("heading", level=1).inner_text()
    shown = messages(page).all_inner_texts()
    assert any("Approved by @bob" in t for t in shown)
    assert page.get_by_role("navigation").get_by_role("link", name=re.compile("📄")).count()
    page.screenshot(path=shots / "sandbox-demo.png", full_page=True)
    assert low_contrast(page) == []
    assert page.problems == []


def test_a_script_given_on_the_command_line_plays_when_the_page_is_first_seen(page, url, web):
    # `warroom sandbox --web --script FILE` (and `--demo`) hand the lines over as `autoplay`.
    web.autoplay, web.demo_pause = ["/incident declare P3 Autoplayed search slowness"], 0.05
    page.goto(url)
    page.get_by_text("Demo finished (1 step)").wait_for()
    page.get_by_role("link", name=re.compile(r"# incident-.*autoplayed")).wait_for()
    assert web.autoplay is None  # played once, not again on the next page view


def test_a_diagnostic_run_from_the_checklist_is_approved_by_someone_else(page, url) -> None:
    page.goto(url)
    say(page, "/incident declare P1 checkout: Checkout API returns 500s")
    page.get_by_role("link", name=re.compile(r"# incident-")).first.click()
    page.get_by_role("button", name="Use the outage playbook").click()
    checklist = messages(page).filter(has=page.get_by_role("button", name="Run")).first
    checklist.get_by_role("button", name="Run").first.click()
    request = messages(page).filter(has=page.get_by_role("button", name="Approve")).last
    request.wait_for()
    act_as(page, "carol")
    messages(page).get_by_role("button", name="Approve").last.click()
    messages(page).filter(has_text="Approved by @carol").last.wait_for()
    page.locator("ol.messages pre.code").first.wait_for()  # its output, in the thread
    assert page.problems == []
