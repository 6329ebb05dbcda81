"""`warroom sandbox`: the bot on SQLite against the Slack stand-in, in a terminal chat.

Type `/incident declare P1 Checkout API returns 500s`, press buttons by number, switch channels.
`--script FILE` plays the same lines with no terminal and prints the transcript.
"""

from __future__ import annotations

import fnmatch
import secrets
import shlex
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.config import (
    KubernetesTarget,
    Policy,
    PostgresTarget,
    RedisTarget,
    Settings,
    Targets,
)
from bot.migrate import upgrade
from bot.paging.outbox import PageRunner
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.targets import Targets as TargetClients
from bot.timers.runner import TimerRunner
from bot.wiring import build_runtime
from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import load_demo
from standins.sandbox.outside import Outside
from standins.sandbox.render import Button, message_lines, modal_lines, mrkdwn
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver

HELP = """Sandbox commands (anything else is posted as a message in the current channel):
  /incident …          the slash command, e.g. /incident declare P1 Checkout API returns 500s
  /press N|label       press button [N], or the latest one so labelled (/press approve,
                       /press run step 3 on a checklist)
  /react N emoji       react to message #N (pushpin)
  /pin N               pin message #N         /go #channel     switch channel (/channels)
  /as NAME               act as alice, bob, carol or dan
  /outside               what the PagerDuty and Statuspage stand-ins received
  /submit key=value …    submit the open form, e.g. /submit title="Orders stuck" severity=P1
  /show                  show the current channel again   /help   /quit"""

SANDBOX_CHECKOUT = {
    "title": "Checkout API",
    "namespace": "shop",
    "workloads": ["deployment/checkout"],
    "postgres": ["shop-db"],
    "redis": ["shop-cache"],
    "health": ["warroom"],
    "owners": ["U0DAN"],
    "playbooks": ["outage"],
    "keywords": ["cart", "checkout api"],
}


class Sandbox:
    def __init__(self, out: TextIO, latency_ms: int = 0, policy: Policy | None = None) -> None:
        self.out = out
        self.dir = tempfile.TemporaryDirectory(prefix="warroom-sandbox-")
        secret = secrets.token_hex(16)
        self.slack = SlackStandIn(token="xoxb-sandbox", latency=latency_ms / 1000).start()
        url = f"sqlite:///{Path(self.dir.name) / 'warroom.db'}"
        upgrade(url)
        settings = Settings(
            slack_bot_token="xoxb-sandbox",
            slack_signing_secret=secret,
            slack_api_url=self.slack.api_url,
            database_url=url,
        )
        # A demo cluster (namespace `shop`, a crash-looping `checkout`) for diagnostics.
        self.k8s = K8sStandIn().start()
        load_demo(self.k8s)
        # PagerDuty and Statuspage stand-ins: declaring a P1 for checkout pages and drafts.
        self.outside = Outside()
        policy = policy or Policy(
            **self.outside.policy(),
            targets=Targets(
                kubernetes=KubernetesTarget(host=self.k8s.url, namespaces=["shop"]),
                # The demo's database and cache: set these to point pg-*/redis-* at real ones.
                postgres={"shop-db": PostgresTarget(dsn_env="WARROOM_SANDBOX_POSTGRES_DSN")},
                redis={"shop-cache": RedisTarget(url_env="WARROOM_SANDBOX_REDIS_URL")},
                http={"warroom": "http://127.0.0.1/healthz"},  # its real URL is known below
            ),
            # The catalog's demo: `/incident declare P1 checkout: …` binds the war room to it.
            services={"checkout": SANDBOX_CHECKOUT},
            rollout_poll_seconds=0.2,
            rollout_watch_seconds=20,
        )
        self.rt = build_runtime(settings, policy)
        self.server = BackgroundServer(
            build_asgi(build_app(self.rt, secret, "xoxb-sandbox"), self.rt)
        )
        self.server.start()
        # The bot's own health endpoint is the demo's allow-listed health check.
        self.rt.policy.targets.http["warroom"] = self.server.url + "/healthz"
        self.rt.targets = TargetClients(self.rt.policy)
        self.driver = SlackDriver(self.server.url + "/slack/events", secret, standin=self.slack)
        self.driver.forward_events_to_bot()
        self.timers = TimerRunner(self.rt).start()
        self.pages = PageRunner(self.rt, tick_seconds=0.5).start()
        self.user = "U0ALICE"
        self.channel = "C0GENERAL"
        self.buttons: list[Button] = []
        self.seen: dict[str, int] = {}
        self.edits: dict[tuple[str, str], str | None] = {}  # (channel, ts) -> last edit shown
        self.ephemerals_seen = 0
        self.views_seen: set[str] = set()
        self.open_view: dict[str, Any] | None = None
        self._mark_all_seen()

    # -- naming
    def _uname(self, uid: str) -> str:
        u = self.slack.user(uid)
        return u["name"] if u else uid

    def _cname(self, cid: str) -> str:
        try:
            return self.slack.channel(cid)["name"]
        except KeyError:
            return cid

    def _fmt(self, text: str) -> str:
        return mrkdwn(text, self._cname, self._uname)

    def say(self, line: str = "") -> None:
        print(line, file=self.out)

    # -- showing what changed
    def _mark_all_seen(self) -> None:
        for name in ("general", "incidents"):
            ch = self.slack.channel_by_name(name)
            if ch:
                self.seen[ch["id"]] = len(self.slack.messages(ch["id"]))

    def _member_channels(self) -> list[str]:
        found = [c for c in self.seen]
        for call in self.slack.calls_to("conversations.create"):
            ch = self.slack.channel_by_name(call.params.get("name", ""))
            if ch and ch["id"] not in found:
                found.append(ch["id"])
        return [c for c in found if self.user in self.slack.channel(c)["members"]]

    def settle_and_show(self) -> None:
        for _ in range(3):
            self.rt.wait_idle(15)
            self.slack.drain_events()
        self.rt.wait_idle(15)
        eph = self.slack.ephemerals(user=self.user)
        all_eph = self.slack.ephemerals()
        for e in all_eph[self.ephemerals_seen :]:
            if e["user"] == self.user:
                self._show_ephemeral(e)
        self.ephemerals_seen = len(all_eph)
        del eph
        for cid in self._member_channels():
            msgs = self.slack.messages(cid)
            new = msgs[self.seen.get(cid, 0) :]
            self.seen[cid] = len(msgs)
            # A message updated in place (the checklist after a click) is shown again.
            edited = [
                m for m in msgs if m not in new and self._edit_seen(cid, m) and m.get("edited")
            ]
            for m in new:
                self._edit_seen(cid, m)
            if new or edited:
                self.say(
                    f"── #{self._cname(cid)} " + ("(you are here)" if cid == self.channel else "")
                )
                for m in edited:
                    self._show_message(cid, m, msgs.index(m) + 1, " (edited)")
                for m in new:
                    self._show_message(cid, m, msgs.index(m) + 1)
        for vid, view in self.slack.views.items():
            if vid not in self.views_seen:
                self.views_seen.add(vid)
                self.open_view = view
                for line in modal_lines(view):
                    self.say(line)

    def _edit_seen(self, cid: str, m: dict[str, Any]) -> bool:
        """Whether `m` was edited since it was last shown (and remember it as shown now)."""
        stamp = (m.get("edited") or {}).get("ts")
        key = (cid, m["ts"])
        changed = self.edits.get(key) != stamp
        self.edits[key] = stamp
        return changed

    def _show_message(self, cid: str, m: dict[str, Any], n: int, note: str = "") -> None:
        who = "warroom [APP]" if m.get("bot_id") else self._uname(m.get("user", ""))
        pin = " 📌" if m.get("pinned") else ""
        self.say(f"#{n} {who}{pin}{note}:")
        for line in message_lines(m, self._fmt, self.buttons, cid):
            self.say("   " + line.replace("\n", "\n   "))
        files = self.slack.files
        for f in m.get("files") or []:
            content = files.get(f["id"], {}).get("content", b"")
            self.say(f"   📎 {f['name']}")
            if f["name"].endswith((".md", ".txt")):  # text files (the post-mortem) are shown
                for line in content.decode("utf-8", "replace").splitlines():
                    self.say("   │ " + line)

    def _show_ephemeral(self, e: dict[str, Any]) -> None:
        self.say("(only visible to you)")
        for line in message_lines(
            {"text": e["text"], "blocks": e.get("blocks"), "ts": ""},
            self._fmt,
            self.buttons,
            e["channel"],
        ):
            self.say("   " + line.replace("\n", "\n   "))

    # -- input
    def handle(self, line: str) -> bool:
        line = line.strip()
        if not line or line.startswith("#!"):
            return True
        cmd, _, rest = line.partition(" ")
        try:
            if cmd == "/quit":
                return False
            if cmd == "/help":
                self.say(HELP)
            elif cmd == "/incident":
                r = self.driver.command(rest, user=self.user, channel=self.channel)
                reply = (r.json or {}).get("text") if r.status == 200 else f"HTTP {r.status}"
                if reply:
                    self._show_ephemeral(
                        {
                            "text": reply,
                            "blocks": (r.json or {}).get("blocks"),
                            "channel": self.channel,
                        }
                    )
            elif cmd == "/press":
                self._press(rest.strip())
            elif cmd in ("/react", "/pin"):
                parts = rest.split()
                ts = self.slack.messages(self.channel)[int(parts[0]) - 1]["ts"]
                if cmd == "/pin":
                    self.slack.user_pin(self.channel, ts, self.user)
                    self.say(f"📌 pinned #{parts[0]}")
                else:
                    self.slack.user_react(self.channel, ts, self.user, parts[1].strip(":"))
                    self.say(f":{parts[1].strip(':')}: on #{parts[0]}")
            elif cmd == "/go":
                ch = self._find_channel(rest.strip().lstrip("#"))
                if not ch:
                    self.say(f"No channel {rest}. /channels lists them.")
                else:
                    self.channel = ch["id"]
                    self.say(f"You are in #{ch['name']}.")
            elif cmd == "/channels":
                for cid in self._member_channels():
                    self.say(f"  #{self._cname(cid)}")
            elif cmd == "/as":
                ch = next(
                    (
                        u
                        for u in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAN")
                        if self._uname(u) == rest.strip().lower()
                    ),
                    None,
                )
                if ch is None:
                    self.say("Users: alice, bob, carol, dan.")
                else:
                    self.user = ch
                    self.say(f"You are {rest.strip().lower()}.")
            elif cmd == "/submit":
                self._submit(rest)
            elif cmd == "/outside":
                self.rt.wait_idle(10)
                for out_line in self.outside.lines():
                    self.say(out_line)
            elif cmd == "/show":
                self.seen[self.channel] = 0
            elif cmd.startswith("/"):
                self.say(f"Unknown sandbox command {cmd}. /help lists them.")
            else:
                self.driver.user_post(self.channel, self.user, line)  # escaped, as Slack does
        except (IndexError, ValueError):
            self.say("No such number. Numbers are shown as [N] for buttons and #N for messages.")
        except Exception as e:  # a sandbox typo must not end the session
            self.say(f"Sandbox: {e.__class__.__name__}: {e}")
        self.settle_and_show()
        return True

    def _press(self, which: str) -> None:
        """`/press 3` presses button [3]; `/press approve` the latest button labelled so."""
        if which.isdigit():
            button = self.buttons[int(which) - 1]
        else:
            # "run step 1" is step 1's Run, not step 12's: a whole label first, then a prefix
            matches = [b for b in self.buttons if b[3].lower() == which.lower()] or [
                b for b in self.buttons if b[3].lower().startswith(which.lower())
            ]
            if not matches:
                self.say(f"No button labelled {which!r} has been shown.")
                return
            button = matches[-1]
        channel, ts, action, _label, value = button
        self.driver.block_action(self.user, channel, ts or "0", action, value=value)

    def _find_channel(self, pattern: str) -> dict[str, Any] | None:
        """A name, or a glob such as `incident-*-001-*` (scripts cannot know today's date)."""
        exact = self.slack.channel_by_name(pattern)
        if exact:
            return exact
        names = [self._cname(c) for c in self._member_channels()]
        match = next((n for n in names if fnmatch.fnmatch(n, pattern)), None)
        return self.slack.channel_by_name(match) if match else None

    def _submit(self, rest: str) -> None:
        if self.open_view is None:
            self.say("No form is open.")
            return
        values: dict[str, dict[str, Any]] = {}
        given = dict(kv.split("=", 1) for kv in shlex.split(rest) if "=" in kv)
        for b in self.open_view.get("blocks", []):
            if b.get("type") != "input":
                continue
            el = b["element"]
            v = given.get(
                b["block_id"],
                el.get("initial_value") or (el.get("initial_option") or {}).get("value", ""),
            )
            payload = {"selected_option": {"value": v}} if el["type"] == "static_select" else v
            values[b["block_id"]] = {el["action_id"]: payload}
        r = self.driver.submit_view(self.user, self.open_view, values)
        if r.json and r.json.get("response_action") == "errors":
            for k, msg in r.json["errors"].items():
                self.say(f"│ {k}: {msg}")
            return
        self.open_view = None

    def close(self) -> None:
        self.timers.stop()
        self.pages.stop()
        self.slack.event_sink = None
        self.server.stop()
        self.rt.shutdown()
        self.slack.stop()
        self.k8s.stop()
        self.outside.stop()
        self.dir.cleanup()


def play(lines: Iterable[str], out: TextIO, latency_ms: int = 0, echo: bool = True) -> None:
    box = Sandbox(out, latency_ms)
    try:
        box.say(f"Warroom sandbox — you are alice in #general. {HELP.splitlines()[0]}")
        for line in lines:
            line = line.rstrip("\n")
            if line.startswith("#") and not line.startswith("#!"):
                continue
            if echo:
                box.say(f"\n{box._uname(box.user)}@#{box._cname(box.channel)}> {line}")
            if not box.handle(line):
                break
    finally:
        box.close()


def _interactive() -> Iterable[str]:
    while True:
        try:
            yield input()
        except EOFError:
            return


def run(script: str | None = None, latency_ms: int = 0) -> int:
    if script:
        play(Path(script).read_text().splitlines(), sys.stdout, latency_ms)
        return 0
    print("Type /help for sandbox commands; Ctrl-D or /quit to leave.")
    play(_interactive(), sys.stdout, latency_ms, echo=False)
    return 0
