"""Strict argument parsing for actions: known flags only, every value validated, no shell."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from bot.errors import UserError

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_LABEL_KEY = r"(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_VAL = r"(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
_REQ = re.compile(
    rf"^\s*(?:!?{_LABEL_KEY}|{_LABEL_KEY}\s*(?:==|!=|=)\s*{_LABEL_VAL}"
    rf"|{_LABEL_KEY}\s+(?:in|notin)\s+\(\s*{_LABEL_VAL}(?:\s*,\s*{_LABEL_VAL})*\s*\))\s*$"
)
_DURATION = re.compile(r"^(\d{1,5})([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class Parsed:
    positional: list[str] = field(default_factory=list)
    options: dict[str, str | bool] = field(default_factory=dict)


def split(text: str, usage: str, flags: dict[str, bool]) -> Parsed:
    """Split like a shell would (quotes only; nothing is executed). flags: name -> takes value."""
    try:
        tokens = shlex.split(text)
    except ValueError as e:
        raise UserError(f"Could not read the arguments ({e}). Usage: {usage}") from None
    out = Parsed()
    it = iter(tokens)
    for tok in it:
        if tok.startswith("-") and not _is_number(tok):
            name, _, inline = tok.partition("=")
            key = name.lstrip("-")
            if key not in flags:
                known = ", ".join(("-" if len(f) == 1 else "--") + f for f in flags) or "none"
                raise UserError(f"Unknown option `{name}` (known: {known}). Usage: {usage}")
            if flags[key]:
                value = inline or next(it, None)
                if value is None:
                    raise UserError(f"`{name}` needs a value. Usage: {usage}")
                out.options[key] = value
            else:
                out.options[key] = True
        else:
            out.positional.append(tok)
    return out


def _is_number(tok: str) -> bool:
    return tok.lstrip("-").isdigit()


def dns_label(value: str, what: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise UserError(
            f"`{value[:80]}` is not a valid {what}: lowercase letters, digits and "
            "'-', starting and ending with a letter or digit, at most 63 characters."
        )
    return value


def dns_subdomain(value: str, what: str) -> str:
    if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        raise UserError(
            f"`{value[:80]}` is not a valid {what}: lowercase letters, digits, '-' "
            "and '.', at most 253 characters."
        )
    return value


def selector(value: str) -> str:
    parts = [p for p in re.split(r",(?![^(]*\))", value)]
    if len(value) > 512 or not parts or not all(_REQ.match(p) for p in parts):
        raise UserError(
            f"`{value[:80]}` is not a label selector, e.g. `app=checkout` or "
            "`tier in (web,api),env!=dev`."
        )
    return value


def bounded_int(value: str | bool, what: str, lo: int, hi: int) -> int:
    try:
        n = int(str(value))
    except ValueError:
        raise UserError(f"{what} must be a whole number, got `{value}`.") from None
    if not lo <= n <= hi:
        raise UserError(f"{what} must be between {lo} and {hi}, got {n}.")
    return n


def duration_seconds(value: str | bool, what: str, max_seconds: int) -> int:
    m = _DURATION.match(str(value))
    if not m:
        raise UserError(f"{what} is a duration like `30s`, `10m`, `2h`; got `{value}`.")
    secs = int(m.group(1)) * _UNIT[m.group(2)]
    if not 1 <= secs <= max_seconds:
        raise UserError(f"{what} must be at most {max_seconds // 3600} h.")
    return secs


def target_name(value: str, kind: str, known: list[str]) -> str:
    if not TARGET_NAME.match(value) or value not in known:
        listed = ", ".join(f"`{k}`" for k in known) or "none are configured"
        raise UserError(f"`{value[:80]}` is not a {kind} target in the policy ({listed}).")
    return value


def kind_name(value: str, kinds: tuple[str, ...], usage: str) -> tuple[str, str]:
    """`deployment/checkout` -> ("deployment", "checkout")."""
    kind, sep, name = value.partition("/")
    aliases = {
        "deploy": "deployment",
        "deployments": "deployment",
        "sts": "statefulset",
        "statefulsets": "statefulset",
        "ds": "daemonset",
        "daemonsets": "daemonset",
        "po": "pod",
        "pods": "pod",
    }
    kind = aliases.get(kind.lower(), kind.lower())
    if not sep or kind not in kinds:
        raise UserError(f"Name the object as `{kinds[0]}/<name>`. Usage: {usage}")
    return kind, dns_subdomain(name, f"{kind} name")
