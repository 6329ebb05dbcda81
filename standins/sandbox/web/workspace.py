"""The web sandbox's workspace: one terminal `Sandbox` (stand-ins, real signed wire) behind a lock,
read as plain data for the page and acted on through the same driver calls the terminal uses."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from standins.sandbox.terminal import Sandbox
from standins.sandbox.web.markup import emoji

USERS = ("U0ALICE", "U0BOB", "U0CAROL", "U0DAN")
# The terminal sandbox's scripted incident, replayed by "Play demo" (a source checkout has it).
DEMO = Path(__file__).resolve().parents[3] / "examples" / "checkout-outage.txt"


class WebSandbox:
    def __init__(self, box: Sandbox, out: io.StringIO, demo: Path | None = DEMO) -> None:
        self.box, self.out = box, out
        self.lock = threading.RLock()
        self.demo_path = demo if demo and demo.is_file() else None
        self.demo: dict[str, Any] | None = None  # {"line", "at", "of", "done"} while playing
        self.errors: dict[str, str] = {}  # the open form's field errors, from the bot
        self.typed: dict[str, str] = {}  # what was typed in it, kept when the bot refused it
        self.replies: list[dict[str, Any]] = []  # slash commands' answers (only to their typer)
        self.demo_pause = 1.5  # seconds between the demo's lines, to read along
        self.autoplay: list[str] | None = None  # a script to play when the page is first seen

    # -- reading
    def channels(self) -> list[dict[str, Any]]:
        """#general, #incidents, then every channel the bot created that the person may see."""
        box, slack = self.box, self.box.slack
        ids = list(box.seen)
        for call in slack.calls_to("conversations.create"):
            ch = slack.channel_by_name(call.params.get("name", ""))
            if ch and ch["id"] not in ids:
                ids.append(ch["id"])
        out = []
        for cid in ids:
            ch = slack.channel(cid)
            member = box.user in ch["members"]
            if ch["is_private"] and not member:
                continue
            out.append(
                {
                    "id": cid,
                    "name": ch["name"],
                    "private": ch["is_private"],
                    "member": member,
                    "archived": ch["is_archived"],
                }
            )
        dm = slack.im_channel(box.user)
        if dm:
            out.append(
                {
                    "id": dm,
                    "name": "warroom (DM)",
                    "private": True,
                    "member": True,
                    "archived": False,
                    "dm": True,
                }
            )
        return out

    def pick_channel(self, wanted: str) -> str:
        ids = [c["id"] for c in self.channels()]
        for cid in (wanted, self.box.channel):
            if cid in ids:
                return cid
        return ids[0] if ids else "C0GENERAL"

    def state(self, channel: str) -> dict[str, Any]:
        box, slack = self.box, self.box.slack
        self.notice_views()
        channels = self.channels()
        cid = self.pick_channel(channel)
        info = next((c for c in channels if c["id"] == cid), None)
        msgs = [self._message(m, n) for n, m in enumerate(slack.messages(cid), 1)]
        ephemerals = [e for e in slack.ephemerals(channel_id=cid, user=box.user) if e.get("text")]
        ephemerals += [e for e in self.replies if (e["channel"], e["user"]) == (cid, box.user)]
        # What only this person sees sits among the messages at its time, as in Slack.
        timeline = msgs + [self._message(e, 0) | {"ephemeral": True, "ts": ""} for e in ephemerals]
        timeline.sort(key=lambda m: float(m["at"] or 0))
        files = [
            {"id": fid, "name": f.get("title") or f.get("name") or fid}
            for fid, f in slack.files.items()
            if f.get("channel") == cid
        ]
        return {
            "me": box.user,
            "me_name": box._uname(box.user),
            "users": [(u, box._uname(u)) for u in USERS],
            "channels": channels,
            "channel": cid,
            "channel_name": info["name"] if info else box._cname(cid),
            "member": bool(info and info["member"]),
            "topic": slack.channel(cid)["topic"],
            "messages": msgs,
            "pinned": [m for m in msgs if m["pinned"]],
            "timeline": timeline,
            "view": self._view(box.open_view),
            "errors": self.errors,
            "files": files,
            "log": self.out.getvalue().splitlines()[-60:],
            "demo": self.demo,
            "can_demo": self.demo_path is not None,
        }

    def version(self, state: dict[str, Any]) -> str:
        """A digest of everything the page shows: it changes exactly when the page would."""
        raw = json.dumps(
            {k: v for k, v in state.items() if k != "log"}, sort_keys=True, default=str
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def notice_views(self) -> None:
        """A view opened or pushed since last look becomes the open form; an update replaces it."""
        box = self.box
        for vid, view in box.slack.views.items():
            if vid not in box.views_seen:
                box.views_seen.add(vid)
                box.open_view, self.errors, self.typed = view, {}, {}
            elif (box.open_view or {}).get("id") == vid and view.get("hash") != (
                box.open_view or {}
            ).get("hash"):
                box.open_view = view

    def _message(self, m: dict[str, Any], n: int) -> dict[str, Any]:
        bot = bool(m.get("bot_id"))
        return {
            "n": n,
            "ts": m.get("ts", ""),
            "at": m.get("ts", ""),
            "who": "warroom" if bot else self.box._uname(m.get("user", "")),
            "bot": bot,
            "pinned": bool(m.get("pinned")),
            "thread": bool(m.get("thread_ts") and m.get("thread_ts") != m.get("ts")),
            "edited": bool(m.get("edited")),
            "text": m.get("text", ""),
            "blocks": m.get("blocks") or [],
            "reactions": [
                {
                    "name": r.get("name", ""),
                    "emoji": emoji(r.get("name", "")),
                    "count": len(r.get("users", [])),
                    "mine": self.box.user in r.get("users", []),
                }
                for r in m.get("reactions") or []
            ],
        }

    def _view(self, view: dict[str, Any] | None) -> dict[str, Any] | None:
        if not view:
            return None
        blocks = []
        for b in view.get("blocks", []):
            if b.get("type") != "input":
                blocks.append(b)
                continue
            el = b["element"]
            blocks.append(
                b
                | {
                    "input": {
                        "id": b["block_id"],
                        "label": (b.get("label") or {}).get("text", b["block_id"]),
                        "hint": (b.get("hint") or {}).get("text", ""),
                        "multiline": bool(el.get("multiline")),
                        "options": [(o["value"], o["text"]["text"]) for o in el.get("options", [])],
                        "value": self.typed.get(b["block_id"])
                        or el.get("initial_value")
                        or (el.get("initial_option") or {}).get("value", ""),
                        "optional": bool(b.get("optional")),
                        "placeholder": (el.get("placeholder") or {}).get("text", ""),
                        "max": el.get("max_length"),
                    }
                }
            )
        text = lambda key, default: (view.get(key) or {}).get("text", default)  # noqa: E731
        return {
            "title": text("title", "Form"),
            "submit": text("submit", "Submit"),
            "close": text("close", "Cancel"),
            "blocks": blocks,
        }

    # -- acting (callers hold the lock)
    def say(self, channel: str, text: str) -> None:
        box = self.box
        box.channel = channel or box.channel
        if not text.startswith("/") and box.user not in box.slack.channel(box.channel)["members"]:
            self._reply(f"You are not in #{box._cname(box.channel)}: press Join channel.")
            return
        if not text.startswith("/incident"):
            box.handle(" ".join(text.split("\n")) if text.startswith("/") else text)
            return
        # The command's own answer is what Slack shows only to the person who typed it.
        r = box.driver.command(text.partition(" ")[2], user=box.user, channel=box.channel)
        body = r.json or {} if r.status == 200 else {"text": f"Slack got HTTP {r.status}."}
        if body.get("text") or body.get("blocks"):
            self._reply(body.get("text", ""), body.get("blocks"))
        box.settle_and_show()

    def _reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Something only the person who typed sees, like Slack's answers to a command."""
        box = self.box
        reply = {"channel": box.channel, "user": box.user, "ts": f"{time.time():.6f}"}
        self.replies.append(reply | {"text": text, "blocks": blocks or []})

    def press(self, channel: str, ts: str, action: str, value: str) -> None:
        box = self.box
        if ts:
            box.driver.press(channel, ts, action, box.user)
        else:  # a button on an ephemeral message: Slack sends no stored message
            box.driver.block_action(box.user, channel, "0", action, value=value)
        box.settle_and_show()

    def submit(self, fields: dict[str, str]) -> None:
        box = self.box
        view = box.open_view
        if view is None:
            return
        values: dict[str, dict[str, Any]] = {}
        for b in view.get("blocks", []):
            if b.get("type") != "input":
                continue
            el, v = b["element"], fields.get(b["block_id"], "")
            state = {"selected_option": {"value": v} if v else None}
            values[b["block_id"]] = {el["action_id"]: state if "select" in el["type"] else v}
        r = box.driver.submit_view(box.user, view, values)
        body = r.json or {}
        if body.get("response_action") == "errors":  # shown by the fields, typed text kept
            self.errors, self.typed = dict(body.get("errors") or {}), fields
        else:
            self.errors, self.typed, box.open_view = {}, {}, None
        box.settle_and_show()

    def close_view(self) -> None:
        self.box.open_view, self.errors, self.typed = None, {}, {}

    def react(self, channel: str, ts: str, name: str) -> None:
        if name == "pin":
            self.box.slack.user_pin(channel, ts, self.box.user)
        else:
            self.box.slack.user_react(channel, ts, self.box.user, name)
        self.box.settle_and_show()

    def join(self, channel: str) -> None:
        self.box.slack.user_join(channel, self.box.user)
        self.box.channel = channel
        self.box.settle_and_show()

    def switch(self, user: str) -> None:
        if user in USERS:
            self.box.user = user
            self.errors = {}

    # -- the demo
    def play(self, lines: Iterable[str] | None = None, pause: float | None = None) -> bool:
        """Replay a script (the demo by default) one line at a time on a thread; False if busy."""
        if self.demo and not self.demo["done"]:
            return False
        if lines is None:
            if self.demo_path is None:
                return False
            lines = self.demo_path.read_text().splitlines()
        script = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
        self.demo = {"line": "", "at": 0, "of": len(script), "done": False}
        pause = self.demo_pause if pause is None else pause
        threading.Thread(target=self._play, args=(script, pause), daemon=True).start()
        return True

    def _play(self, script: list[str], pause: float) -> None:
        assert self.demo is not None
        for n, line in enumerate(script, 1):
            with self.lock:
                self.demo.update(line=line, at=n)
                self.box.say(
                    f"\n{self.box._uname(self.box.user)}@#"
                    f"{self.box._cname(self.box.channel)}> {line}"
                )
                self.box.handle(line)
                self.notice_views()
            time.sleep(pause)
        with self.lock:
            self.demo["done"] = True
