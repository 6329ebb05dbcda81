"""Slack's control characters `&`, `<`, `>`: escape what people typed on the way out, and read
Slack's escaped text (entities, mentions, links) on the way in. Pure functions, no Slack SDK."""

from __future__ import annotations

import re

# `<@U…>` and `<#C…>` pass through escape(): a person's mention of one user or channel.
_KEPT = re.compile(r"<@[UW][A-Z0-9]+>|<#[CG][A-Z0-9]+>")
_TOKEN = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"^@([UW][A-Z0-9]+)(?:\|.*)?$", re.S)
_CHANNEL = re.compile(r"^#([CG][A-Z0-9]+)(?:\|.*)?$", re.S)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_BROADCASTS = ("here", "channel", "everyone")


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str) -> str:
    """Plain text for a mrkdwn field: `&`, `<`, `>` as entities, so nothing typed becomes markup
    (no `<!channel>`, no link); a user or channel mention in Warroom's form (`<@U1>`) stays."""
    out, last = [], 0
    for m in _KEPT.finditer(text):
        out += [_entities(text[last : m.start()]), m.group(0)]
        last = m.end()
    out.append(_entities(text[last:]))
    return "".join(out)


def unescape(text: str) -> str:
    """Slack's three entities back to characters (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def from_slack(text: str) -> str:
    """Text as Slack sends it (slash commands, messages) as the person meant it: entities
    decoded, user and channel mentions kept as `<@U1>` / `<#C1>`, broadcast and group mentions
    made inert (`@channel`, `@oncall`), links reduced to their address (and label)."""
    out, last = [], 0
    for m in _TOKEN.finditer(text):
        out += [unescape(text[last : m.start()]), _token(m.group(1))]
        last = m.end()
    out.append(unescape(text[last:]))
    return "".join(out)


def _token(inner: str) -> str:
    body, _, label = inner.partition("|")
    label = unescape(label)
    if m := _USER.match(inner):
        return f"<@{m.group(1)}>"
    if m := _CHANNEL.match(inner):
        return f"<#{m.group(1)}>"
    if body.startswith("!"):
        name = body[1:]
        if name in _BROADCASTS:
            return f"@{name}"
        if name.startswith("subteam^"):
            return label if label.startswith("@") else f"@{label or name[8:]}"
        return label or ""  # <!date^…|fallback> and friends: what the reader sees
    url = unescape(body)
    if not label or label == url or url.endswith("//" + label) or url == "mailto:" + label:
        return url.removeprefix("mailto:")
    return f"{label} ({url})"


def user_id(token: str) -> str | None:
    """The id in a user mention `<@U1>` or `<@U1|name>`; None for anything else."""
    m = _MENTION.match(token.strip())
    return m.group(1) if m else None
