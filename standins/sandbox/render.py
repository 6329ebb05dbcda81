"""Block Kit as readable terminal text: sections, fields, context, numbered buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.mrkdwn import unescape

Button = tuple[str, str, str, str, str]  # (channel, message ts, action_id, label, value)

_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_STEP = re.compile(r"^(?::[a-z_]+: )?\*(\d+)\.\*")  # a checklist line: ":white_square: *3.* …"
_SPECIAL = re.compile(r"<!([^|>^]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")  # <!here>, <!subteam^S1|@x>


def mrkdwn(text: str, channel_name: Callable[[str], str], user_name: Callable[[str], str]) -> str:
    """Slack's markup as a person reads it: names for ids, link labels, and `&amp;` as `&`."""
    text = _CHANNEL.sub(lambda m: "#" + channel_name(m.group(1)), text)
    text = _USER.sub(lambda m: "@" + user_name(m.group(1)), text)
    text = _SPECIAL.sub(lambda m: m.group(2) or "@" + m.group(1), text)
    return unescape(_LINK.sub(lambda m: m.group(2) or m.group(1), text))


def message_lines(
    msg: dict[str, Any], fmt: Callable[[str], str], buttons: list[Button], channel: str
) -> list[str]:
    """Render one message; its buttons are appended to `buttons` and shown by number."""
    blocks = msg.get("blocks") or []
    if not blocks:
        return [fmt(msg.get("text", ""))]
    out: list[str] = []
    step = ""  # a checklist step's number: its buttons are named "Run step 3", "Skip step 3"
    for b in blocks:
        kind = b.get("type")
        if kind == "section":
            found = _STEP.match((b.get("text") or {}).get("text", ""))
            step = f" step {found.group(1)}" if found else ""
            if b.get("text"):
                out.append(fmt(b["text"]["text"]))
            for f in b.get("fields", []):
                key, _, value = fmt(f["text"]).partition("\n")
                out.append(f"  {key.strip('*')}: {value}")
            acc = b.get("accessory")
            if acc and acc.get("type") == "button":
                buttons.append(
                    (
                        channel,
                        msg["ts"],
                        acc["action_id"],
                        acc["text"]["text"] + step,
                        acc.get("value", ""),
                    )
                )
                out.append(f"  [{len(buttons)}] {acc['text']['text']}{step}")
        elif kind == "context":
            out.append("  " + " ".join(fmt(e.get("text", "")) for e in b.get("elements", [])))
        elif kind == "actions":
            labels = []
            for e in b.get("elements", []):
                if e.get("type") == "button":
                    label = e["text"]["text"] + step
                    buttons.append((channel, msg["ts"], e["action_id"], label, e.get("value", "")))
                    labels.append(f"[{len(buttons)}] {label}")
            out.append("  " + "   ".join(labels))
            step = ""
        elif kind == "header":
            out.append(fmt(b["text"]["text"]).upper())
    return out


def modal_lines(view: dict[str, Any]) -> list[str]:
    out = [f"┌ {view.get('title', {}).get('text', 'Form')} (fill it in with /submit key=value …)"]
    for b in view.get("blocks", []):
        if b.get("type") != "input":
            continue
        el = b["element"]
        initial = el.get("initial_value") or (el.get("initial_option") or {}).get("value", "")
        opts = [o["value"] for o in el.get("options", [])]
        hint = f" one of {', '.join(opts)}" if opts else ""
        optional = " (optional)" if b.get("optional") else ""
        out.append(f"│ {b['block_id']}{optional}{hint}: {initial}")
    out.append("└")
    return out
