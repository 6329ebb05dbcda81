"""Secrets never reach Slack: what the redactor catches and what it leaves alone."""

from __future__ import annotations

import pytest

from bot.redact import MASK, redact


@pytest.mark.parametrize(
    "raw,secret",
    [
        ("postgresql+psycopg://app:s3cr3t!@db:5432/shop", "s3cr3t!"),
        ("redis://:hunter2@cache:6379/0", "hunter2"),
        ("DATABASE_PASSWORD=correct-horse", "correct-horse"),
        ('{"api_key": "abc123def456"}', "abc123def456"),
        ("client_secret: zzz999", "zzz999"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
        ("token xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
        ("AWS AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
    ],
)
def test_secrets_are_masked(raw: str, secret: str) -> None:
    out = redact(raw)
    assert secret not in out and MASK in out


def test_ordinary_output_is_left_alone() -> None:
    text = "checkout-7d9f 1/1 Running 0 5m node-a\nGET /health 200 12ms\nuser=alice state=active"
    assert redact(text) == text
