"""The web sandbox without a browser: its mrkdwn renderer escapes, its forms need the page's
token, its pages carry a script-only-from-self CSP, and views opened/updated by the app show."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from slack_sdk import WebClient

from bot.slack.server import BackgroundServer
from standins.sandbox.web import WebSandbox, build, open_sandbox
from standins.sandbox.web.markup import EMOJI, Renderer

NAMES = Renderer(lambda c: {"C1": "general"}.get(c, c), lambda u: {"U1": "alice"}.get(u, u))


def html(text: str) -> str:
    return str(NAMES.render(text))


def test_mrkdwn_becomes_escaped_html() -> None:
    assert html("*bold* _it_ ~gone~ `co*de*`") == (
        "<strong>bold</strong> <em>it</em> <del>gone</del> <code>co*de*</code>"
    )
    # What people typed reaches the app escaped by Slack and is shown as text, never as markup.
    assert html("&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &amp;") == (
        "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &amp;"
    )
    assert html('<img src=x onerror="alert(1)">') == (
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
    )
    assert html("<@U1> in <#C1> <!here>") == (
        '<span class="mention">@alice</span> in <a class="mention" href="/?c=C1">#general</a> '
        '<span class="mention">@here</span>'
    )
    assert html("```a <b> &amp; *c*```") == '<pre class="code">a &lt;b&gt; &amp; *c*</pre>'
    assert html(":fire: :no_such_emoji:") == "🔥 :no_such_emoji:"
    assert html("line\nnext") == "line<br>next"
    assert html("said:\n&gt; it is <@U1>\nok") == (
        'said:<blockquote>it is <span class="mention">@alice</span></blockquote>ok'
    )
    assert html("a &gt; b") == "a &gt; b"


def test_every_shortcode_warroom_posts_is_shown_as_an_emoji() -> None:
    root = Path(__file__).resolve().parents[1]
    sources = [*root.glob("bot/**/*.py"), *root.glob("commands/*.py")]
    used = {m for f in sources for m in re.findall(r":([a-z][a-z0-9_]+):", f.read_text())}
    not_emoji = {"once", "regclass"}  # `:once:` in a key, PostgreSQL's `::regclass`
    assert used - not_emoji, "the scan finds the shortcodes"
    assert sorted(used - not_emoji - set(EMOJI)) == []


def test_links_are_links_only_for_web_and_mail_addresses() -> None:
    assert html('<https://x.example/?a=1&amp;b="2"|the &lt;b&gt;doc&lt;/b&gt;>') == (
        '<a href="https://x.example/?a=1&amp;b=&#34;2&#34;" rel="noopener noreferrer" '
        'target="_blank">the &lt;b&gt;doc&lt;/b&gt;</a>'
    )
    assert "<a" not in html("<javascript:alert(1)|click>")
    assert "<a" not in html("<data:text/html,x|click>")


@pytest.fixture(scope="module")
def web() -> Iterator[WebSandbox]:
    w = open_sandbox()
    yield w
    w.box.close()


@pytest.fixture(scope="module")
def client(web) -> Iterator[httpx.Client]:
    server = BackgroundServer(build(web)).start()
    with httpx.Client(base_url=server.url) as c:
        yield c
    server.stop()


def test_pages_carry_a_strict_csp_and_forms_need_the_token(client, web) -> None:
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.text and " on" + "click=" not in page.text
    assert re.search(r'<script src="/static/sandbox.js" defer></script>', page.text)
    before = len(web.box.slack.messages("C0GENERAL"))
    # A cross-site form (no token, or a wrong one) changes nothing.
    for token in ("", "forged"):
        r = client.post("/act/say", data={"token": token, "channel": "C0GENERAL", "text": "hi"})
        assert r.status_code == 403
    assert len(web.box.slack.messages("C0GENERAL")) == before
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    r = client.post("/act/say", data={"token": token, "channel": "C0GENERAL", "text": "hi"})
    assert r.status_code == 303
    assert len(web.box.slack.messages("C0GENERAL")) == before + 1


def test_the_live_endpoint_answers_only_changes(client, web) -> None:
    first = client.get("/live", params={"c": "C0GENERAL", "v": ""}).json()
    assert first["version"] and 'ol class="messages"' in first["main"]
    same = client.get("/live", params={"c": "C0GENERAL", "v": first["version"]}).json()
    assert same == {"version": first["version"]}
    with web.lock:
        web.box.slack.user_post("C0GENERAL", "U0BOB", "anyone seeing 500s?")
    changed = client.get("/live", params={"c": "C0GENERAL", "v": first["version"]}).json()
    assert changed["version"] != first["version"] and "anyone seeing 500s?" in changed["main"]


def test_views_opened_pushed_and_updated_by_the_app_are_the_open_form(web) -> None:
    slack = WebClient(token="xoxb-sandbox", base_url=web.box.slack.api_url + "/")

    def modal(title: str) -> str:
        field = {"type": "plain_text_input", "action_id": "a"}
        block = {"type": "input", "block_id": "b", "label": _text("Why"), "element": field}
        view = {"type": "modal", "title": _text(title), "submit": _text("Go"), "blocks": [block]}
        return json.dumps(view)

    with web.lock:
        opened = slack.views_open(trigger_id="1.2.3", view=modal("First"))["view"]
        assert web.state("C0GENERAL")["view"]["title"] == "First"
        slack.views_push(trigger_id="1.2.4", view=modal("Second"))
        assert web.state("C0GENERAL")["view"]["title"] == "Second"
        slack.views_update(view_id=opened["id"], view=modal("First, again"))
        assert web.state("C0GENERAL")["view"]["title"] == "Second"  # not the one on top
        web.close_view()
        assert web.state("C0GENERAL")["view"] is None


def _text(t: str) -> dict[str, str]:
    return {"type": "plain_text", "text": t}


def test_uploaded_files_are_shown_escaped_and_binaries_downloaded(client, web) -> None:
    slack = WebClient(token="xoxb-sandbox", base_url=web.box.slack.api_url + "/")
    log = 'level=error msg="<script>alert(1)</script>"\n'
    text_id = slack.files_upload_v2(channel="C0GENERAL", content=log, filename="app.log")["file"]
    zip_id = slack.files_upload_v2(
        channel="C0GENERAL", content=b"PK\x03\x04\x00\xff", filename="evidence.zip"
    )["file"]
    page = client.get(f"/files/{text_id['id']}")
    assert page.status_code == 200 and "<script>" not in page.text
    assert "level=error msg=&#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in page.text
    assert client.get(f"/files/{text_id['id']}/raw").text == log
    page = client.get(f"/files/{zip_id['id']}")
    assert "A binary file of 6 bytes" in page.text
    raw = client.get(f"/files/{zip_id['id']}/raw")
    assert raw.content == b"PK\x03\x04\x00\xff"
    assert raw.headers["content-disposition"] == 'attachment; filename="evidence.zip"'
    assert client.get("/files/F_NONE").status_code == 404
