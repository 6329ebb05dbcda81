"""Slack's message composer: what a person types becomes the text Slack sends an app.

With "Escape channels, users, and links" on (the manifest's `should_escape: true`), Slack sends
`&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;`, a known `@name` as `<@U…|name>`, `#channel` as
`<#C…|channel>`, `@here`/`@channel`/`@everyone` as `<!here>`…, a user group's `@handle` as
`<!subteam^S…|@handle>`, and a typed address as a link `<https://…>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_BROADCASTS = ("here", "channel", "everyone")
_NAME = r"[a-z0-9][a-z0-9._-]*[a-z0-9_]|[a-z0-9]"
_WORD = re.compile(rf"(?<![\w@#/&])([@#])({_NAME})", re.I)
_URL = re.compile(r"\b(?:https?://|mailto:)[^\s<>]*[^\s<>.,;:!?)'\"]")

Lookup = Callable[[str], str | None]


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def compose(
    typed: str,
    user: Lookup,
    channel: Lookup,
    usergroups: Mapping[str, str] | None = None,
) -> str:
    """``typed`` as Slack delivers it; ``user``/``channel`` map a name to its id (or None)."""
    groups = {k.lower(): v for k, v in (usergroups or {}).items()}
    escaped = _entities(typed)

    def mention(m: re.Match[str]) -> str:
        sigil, name = m.group(1), m.group(2)
        key = name.lower()
        if sigil == "#":
            cid = channel(key)
            return f"<#{cid}|{key}>" if cid else m.group(0)
        if key in _BROADCASTS:
            return f"<!{key}>"
        if key in groups:
            return f"<!subteam^{groups[key]}|@{name}>"
        uid = user(key)
        return f"<@{uid}|{key}>" if uid else m.group(0)

    def link(m: re.Match[str]) -> str:
        return f"<{m.group(0)}>"

    out, last = [], 0
    for m in _URL.finditer(escaped):
        out += [_WORD.sub(mention, escaped[last : m.start()]), link(m)]
        last = m.end()
    out.append(_WORD.sub(mention, escaped[last:]))
    return "".join(out)
