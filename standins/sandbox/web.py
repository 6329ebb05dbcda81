"""`warroom sandbox --web`: the terminal sandbox's workspace as a small Slack-like page.

Channels on the left, messages with Block Kit rendered, buttons that click, modals as forms,
pins and reactions, files, and switching users. It drives the same `Sandbox` (stand-ins, real
signed wire) as the terminal; pages are rendered on the server with autoescape and no script.
"""

from __future__ import annotations

import hmac
import io
import re
import secrets
import shlex
import threading
from typing import Any
from urllib.parse import parse_qsl, quote

from jinja2 import DictLoader, Environment
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from standins.sandbox.render import mrkdwn
from standins.sandbox.terminal import Sandbox
from standins.sandbox.web_page import CSS, PAGE

USERS = ("U0ALICE", "U0BOB", "U0CAROL", "U0DAN")
EMOJI = {
    "pushpin": "📌",
    "rotating_light": "🚨",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "x": "❌",
    "memo": "📝",
    "fire": "🔥",
    "hourglass_flowing_sand": "⏳",
    "mag": "🔍",
    "bell": "🔔",
    "no_entry": "⛔",
    "arrows_counterclockwise": "🔄",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "red_circle": "🔴",
    "information_source": "ℹ️",
    "rewind": "⏪",
    "speech_balloon": "💬",
    "clipboard": "📋",
    "busts_in_silhouette": "👥",
    "ballot_box_with_check": "☑️",
    "large_orange_circle": "🟠",
    "large_blue_circle": "🔵",
    "white_circle": "⚪",
    "bulb": "💡",
    "bust_in_silhouette": "👤",
    "hourglass": "⌛",
    "link": "🔗",
    "page_facing_up": "📄",
    "checkered_flag": "🏁",
    "rocket": "🚀",
    "loudspeaker": "📢",
    "eyes": "👀",
    "stopwatch": "⏱️",
}
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
_CODE_BLOCK = re.compile(r"```(.*?)```", re.S)
_INLINE = [
    (re.compile(r"`([^`\n]+)`"), r"<code>\1</code>"),
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), r"<em>\1</em>"),
    (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), r"<del>\1</del>"),
]
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")


class WebSandbox:
    """One sandbox behind one lock: the page is a view of it, forms are its commands."""

    def __init__(self, box: Sandbox, out: io.StringIO) -> None:
        self.box, self.out = box, out
        self.lock = threading.Lock()
        self.token = secrets.token_urlsafe(24)  # a form token: only this page's forms count
        self.env = Environment(loader=DictLoader({"page.html": PAGE}), autoescape=True)
        self.env.filters["rich"] = self.rich

    def rich(self, text: str) -> Markup:
        """mrkdwn as HTML: names for ids, then escaped, then bold/italic/code and emoji."""
        plain = mrkdwn(text or "", self.box._cname, self.box._uname)
        parts, last = [], 0
        for m in _CODE_BLOCK.finditer(plain):
            parts.append(self._inline(plain[last : m.start()]))
            parts.append(f"<pre>{escape(m.group(1).strip(chr(10)))}</pre>")
            last = m.end()
        parts.append(self._inline(plain[last:]))
        return Markup("".join(parts))

    def _inline(self, text: str) -> str:
        html = str(escape(text))
        for pattern, repl in _INLINE:
            html = pattern.sub(repl, html)
        html = _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), html)
        return html.replace("\n", "<br>")

    # -- reading the workspace
    def state(self, channel: str) -> dict[str, Any]:
        box, slack = self.box, self.box.slack
        box.settle_and_show()  # also records modals opened for the current user
        if channel:
            box.channel = channel
        # Every public channel the sandbox knows, like Slack's channel browser: a responder
        # who was not invited still opens the war room to approve.
        known = list(box.seen)
        for call in slack.calls_to("conversations.create"):
            ch = slack.channel_by_name(call.params.get("name", ""))
            if ch and ch["id"] not in known and not ch["is_private"]:
                known.append(ch["id"])
        channels = [(c, box._cname(c)) for c in known]
        if box.channel not in dict(channels) and channels:
            box.channel = channels[0][0]
        cid = box.channel
        ephemerals = [e for e in slack.ephemerals(channel_id=cid, user=box.user) if e.get("text")][
            -5:
        ]
        files = [
            {"id": fid, "name": f.get("name") or f.get("title") or fid, "title": f.get("title")}
            for fid, f in slack.files.items()
            if f.get("completed") and f.get("channel") == cid
        ]
        return {
            "me": box.user,
            "users": [(u, box._uname(u)) for u in USERS],
            "channels": channels,
            "channel": cid,
            "channel_name": box._cname(cid),
            "messages": [self._message(m) for m in slack.messages(cid)],
            "ephemerals": [self._message(e | {"ts": ""}) for e in ephemerals],
            "view": self._view(box.open_view),
            "files": files,
            "log": self.out.getvalue().splitlines()[-40:],
            "token": self.token,
        }

    def _message(self, m: dict[str, Any]) -> dict[str, Any]:
        who = "warroom" if m.get("bot_id") else self.box._uname(m.get("user", ""))
        reactions = [
            (EMOJI.get(r.get("name", ""), f":{r.get('name')}:"), len(r.get("users", [])))
            for r in m.get("reactions") or []
        ]
        return {
            "ts": m.get("ts", ""),
            "who": who,
            "bot": bool(m.get("bot_id")),
            "pinned": bool(m.get("pinned")),
            "text": m.get("text", ""),
            "blocks": m.get("blocks") or [],
            "reactions": reactions,
        }

    def _view(self, view: dict[str, Any] | None) -> dict[str, Any] | None:
        if not view:
            return None
        inputs = []
        for b in view.get("blocks", []):
            if b.get("type") != "input":
                continue
            el = b["element"]
            inputs.append(
                {
                    "id": b["block_id"],
                    "label": (b.get("label") or {}).get("text", b["block_id"]),
                    "multiline": bool(el.get("multiline")),
                    "options": [o["value"] for o in el.get("options", [])],
                    "value": el.get("initial_value")
                    or (el.get("initial_option") or {}).get("value", ""),
                    "optional": bool(b.get("optional")),
                }
            )
        title = (view.get("title") or {}).get("text", "Form")
        return {"title": title, "inputs": inputs}

    # -- acting
    def say(self, channel: str, text: str) -> None:
        self.box.channel = channel or self.box.channel
        self.box.handle(text.replace("\n", " ") if text.startswith("/") else text)

    def press(self, channel: str, ts: str, action: str, value: str) -> None:
        self.box.driver.block_action(self.box.user, channel, ts or "0", action, value=value)
        self.box.settle_and_show()

    def submit(self, fields: dict[str, str]) -> None:
        pairs = " ".join(f"{k}={shlex.quote(v)}" for k, v in fields.items())
        self.box.handle(f"/submit {pairs}")

    def react(self, channel: str, ts: str, emoji: str) -> None:
        if emoji == "pin":
            self.box.slack.user_pin(channel, ts, self.box.user)
        else:
            self.box.slack.user_react(channel, ts, self.box.user, emoji)
        self.box.settle_and_show()


def build(web: WebSandbox) -> Starlette:
    def secure(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    async def page(request: Request) -> Response:
        channel = request.query_params.get("c", "")

        def render() -> str:
            with web.lock:
                return web.env.get_template("page.html").render(**web.state(channel))

        return secure(HTMLResponse(await run_in_threadpool(render)))

    async def act(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if not hmac.compare_digest(form.pop("token", ""), web.token):
            return secure(PlainTextResponse("This form is stale; reload the page.", 403))
        what, channel = request.path_params["what"], form.pop("channel", "")

        def run() -> None:
            with web.lock:
                if what == "say" and form.get("text", "").strip():
                    web.say(channel, form["text"].strip())
                elif what == "press":
                    web.press(channel, form["ts"], form["action_id"], form.get("value", ""))
                elif what == "as" and form.get("user") in USERS:
                    web.box.user = form["user"]
                elif what == "submit":
                    web.submit(form)
                elif what == "react":
                    web.react(channel, form["ts"], form.get("emoji", "pushpin"))

        await run_in_threadpool(run)
        return secure(RedirectResponse(f"/?c={quote(channel or web.box.channel)}", 303))

    async def file(request: Request) -> Response:
        f = web.box.slack.files.get(request.path_params["file_id"])
        if f is None:
            return secure(PlainTextResponse("no such file", 404))
        body = f.get("content") or b""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        return secure(PlainTextResponse(text))

    async def css(_: Request) -> Response:
        return Response(CSS, media_type="text/css")

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/act/{what}", act, methods=["POST"]),
            Route("/files/{file_id}", file, methods=["GET"]),
            Route("/sandbox.css", css, methods=["GET"]),
        ]
    )


def open_sandbox(latency_ms: int = 0) -> WebSandbox:
    out = io.StringIO()
    box = Sandbox(out, latency_ms)
    box.say("Warroom sandbox in the browser — you are alice in #general.")
    return WebSandbox(box, out)


def run(port: int = 8025, latency_ms: int = 0) -> int:
    from bot.slack.server import serve

    web = open_sandbox(latency_ms)
    print(f"Warroom sandbox: open http://127.0.0.1:{port}/ (Ctrl-C to stop)")
    try:
        serve(build(web), "127.0.0.1", port)
    finally:
        web.box.close()
    return 0
