"""Finding a service or an incident type from what a person typed or wrote.

The prefix rule for `/incident declare P1 checkout: Checkout API returns 500s`: a title whose
first word ends in `:` names a service when that word is a service's name or alias (any case).
When it is not one, the word stays in the title (`DB: slow`, `Re: latency`) unless it looks
like a mistyped service: written in lowercase service-name syntax and close to a known name
(`checkuot:`), and only when the catalog has services. Then the reply lists the known ones; a
title that really starts so is declared with `--` before it (`P1 -- checkuot: …`).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from bot.catalog.policy import SLUG, Service
from bot.errors import UserError

# The incident types of the runbooks, the shipped playbooks' names: what `--type` takes when
# no playbook library is running.
SHIPPED_TYPES = ("outage", "performance", "database", "memory", "data", "security")
_WORD = r"[A-Za-z0-9_-]"


def _services(policy: Any) -> dict[str, Service]:
    return getattr(policy, "services", {}) or {}


def by_name(policy: Any, word: str) -> Service | None:
    """The service named or aliased `word` (any case), or None."""
    key = word.strip().lower()
    for svc in _services(policy).values():
        if key == svc.name or key in (a.lower() for a in svc.aliases):
            return svc
    return None


def known_services(policy: Any) -> str:
    svcs = _services(policy)
    if not svcs:
        return "The policy has no service catalog (`services:`), so no service can be named."
    return "Known services: " + ", ".join(f"`{n}`" for n in sorted(svcs)) + "."


def require(policy: Any, word: str) -> Service:
    svc = by_name(policy, word)
    if svc is None:
        raise UserError(f"`{word[:40]}` is not a service in the catalog. {known_services(policy)}")
    return svc


def _close(policy: Any, word: str) -> list[str]:
    names = [w for s in _services(policy).values() for w in (s.name, *s.aliases)]
    return difflib.get_close_matches(word, names, n=3, cutoff=0.75)


def split_prefix(policy: Any, title: str) -> tuple[Service | None, str]:
    """(service, title without its prefix); see the module's rule. Raises on a mistyped one."""
    first, _, rest = title.strip().partition(" ")
    if not first.endswith(":") or len(first) < 2:
        return None, title
    word = first[:-1]
    svc = by_name(policy, word)
    if svc is not None:
        return svc, rest.strip()
    if _services(policy) and SLUG.match(word) and _close(policy, word):
        near = ", ".join(f"`{w}`" for w in _close(policy, word))
        raise UserError(
            f"`{word}` is not a service in the catalog (did you mean {near}?). "
            f"{known_services(policy)} If `{word}:` belongs to the title, put `--` before it: "
            f"`/incident declare P1 -- {word}: …`"
        )
    return None, title


def infer(policy: Any, text: str) -> Service | None:
    """The one service a message names (name, alias or keyword, whole words); None if it names
    none or several."""
    found = set()
    low = text.lower()
    for svc in _services(policy).values():
        for w in (svc.name, *svc.aliases, *svc.keywords):
            w = w.strip().lower()
            if w and re.search(rf"(?<!{_WORD}){re.escape(w)}(?!{_WORD})", low):
                found.add(svc.name)
                break
    return _services(policy)[found.pop()] if len(found) == 1 else None


def known_types(rt: Any) -> list[str]:
    """Incident types: the playbook library's names when it runs, else the shipped ones."""
    library = getattr(rt, "playbooks", None)
    names = library.names() if library is not None and hasattr(library, "names") else []
    return list(names) or list(SHIPPED_TYPES)


def require_type(rt: Any, word: str) -> str:
    key = word.strip().lower()
    known = known_types(rt)
    if key not in known:
        raise UserError(
            f"`{word[:40]}` is not an incident type. Known types: "
            + ", ".join(f"`{t}`" for t in known)
            + "."
        )
    return key
