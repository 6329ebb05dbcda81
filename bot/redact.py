"""Redaction of secrets bound for Slack or logs: DSN passwords, tokens, secret keys."""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_PATTERNS = [
    (
        re.compile(r"(?P<pre>\bauthorization:\s*(?:bearer|basic)\s+)(?P<secret>\S+)", re.I),
        r"\g<pre>" + MASK,
    ),
    # scheme://user:password@host  (DSNs, URLs with credentials)
    (
        re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?=@)", re.I),
        r"\g<pre>" + MASK,
    ),
    # key=value / key: value / "key": "value" where the key names a secret
    (
        re.compile(
            r"(?P<pre>[\"']?\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|"
            r"access[_-]?key|private[_-]?key|credentials?|auth)[\w.-]*[\"']?\s*[:=]\s*[\"']?)"
            r"(?P<secret>[^\s\"',;&]+)",
            re.I,
        ),
        r"\g<pre>" + MASK,
    ),
    (re.compile(r"\b(?:bearer)\s+[A-Za-z0-9._~+/-]{16,}=*", re.I), "Bearer " + MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"), MASK),  # Slack tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),  # AWS access key ids
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), MASK),  # GitHub tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), MASK),  # JWT
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        MASK,
    ),
]


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
