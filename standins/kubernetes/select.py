"""Label and field selectors of the Kubernetes API stand-in, parsed and matched like the server."""

from __future__ import annotations

import re
from typing import Any

from standins.kubernetes.store import ApiError, Obj

Requirement = tuple[str, str, frozenset[str]]  # key, operator, values

_KEY = re.compile(
    r"^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$"
)
_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")


def _terms(selector: str) -> list[str]:
    """Split on commas outside parentheses: ``a in (x,y),b`` has two terms."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(selector):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return [t.strip() for t in terms if t.strip()]


def _key(key: str, term: str) -> str:
    key = key.strip()
    if not _KEY.match(key):
        raise ApiError.bad_request(
            f"unable to parse requirement: invalid label key {key!r} in {term!r}"
        )
    return key


def parse_labels(selector: str | None) -> list[Requirement]:
    reqs: list[Requirement] = []
    for term in _terms(selector or ""):
        if m := _SET.match(term):
            values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append((_key(m.group(1), term), m.group(2), values))
        elif "!=" in term:
            k, v = term.split("!=", 1)
            reqs.append((_key(k, term), "!=", frozenset({v.strip()})))
        elif "==" in term or "=" in term:
            k, v = term.split("==", 1) if "==" in term else term.split("=", 1)
            reqs.append((_key(k, term), "=", frozenset({v.strip()})))
        elif term.startswith("!"):
            reqs.append((_key(term[1:], term), "!", frozenset()))
        else:
            reqs.append((_key(term, term), "exists", frozenset()))
    return reqs


def labels_match(reqs: list[Requirement], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        if op in ("=", "in") and not (present and labels[key] in values):
            return False
        if op in ("!=", "notin") and present and labels[key] in values:
            return False
        if (op == "exists" and not present) or (op == "!" and present):
            return False
    return True


def selector_requirements(selector: Obj | None) -> list[Requirement]:
    """A ``LabelSelector`` object (matchLabels + matchExpressions) as requirements."""
    selector = selector or {}
    reqs: list[Requirement] = [
        (k, "=", frozenset({v})) for k, v in sorted((selector.get("matchLabels") or {}).items())
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or ():
        reqs.append((expr["key"], ops[expr["operator"]], frozenset(expr.get("values") or ())))
    return reqs


def selector_string(selector: Obj | None) -> str:
    """The text form the API server prints, e.g. in ``Scale.status.selector``."""
    out = []
    for key, op, values in sorted(selector_requirements(selector)):
        if op == "=":
            out.append(f"{key}={next(iter(values))}")
        elif op in ("in", "notin"):
            out.append(f"{key} {op} ({','.join(sorted(values))})")
        else:
            out.append(key if op == "exists" else f"!{key}")
    return ",".join(out)


def parse_fields(selector: str | None) -> list[tuple[str, bool, str]]:
    """Field selector terms as (path, equal?, value); only =, == and != exist for fields."""
    out = []
    for term in _terms(selector or ""):
        if "!=" in term:
            path, value = term.split("!=", 1)
            out.append((path.strip(), False, value.strip()))
        elif "=" in term:
            path, value = term.split("==", 1) if "==" in term else term.split("=", 1)
            out.append((path.strip(), True, value.strip()))
        else:
            raise ApiError.bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
    return out


def field_value(obj: Obj, path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def fields_match(terms: list[tuple[str, bool, str]], obj: Obj) -> bool:
    return all((field_value(obj, path) == value) == equal for path, equal, value in terms)
