"""Who may post alerts: the source's bearer token, basic auth or HMAC-SHA256 signature, checked
on the raw body before anything parses it, in constant time. Secrets never reach a log line."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from bot.alerts.policy import SourceAuth


def admitted(auth: SourceAuth | None, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    """headers: lower-cased names. False for anything but a valid credential."""
    if auth is None:
        return False  # a source the policy does not name takes nothing
    secret = auth.resolved()
    if not secret:
        return False
    if auth.kind == "bearer":
        given = headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), secret.encode()
        )
    if auth.kind == "basic":
        return _basic(headers.get("authorization", ""), auth.username, secret)
    signature = headers.get(auth.header.lower(), "").strip().removeprefix("sha256=")
    signed = body
    if auth.timestamp_header:
        stamp = headers.get(auth.timestamp_header.lower(), "")
        try:
            if abs(now - float(stamp)) > auth.max_skew_seconds:
                return False
        except ValueError:
            return False
        signed = stamp.encode() + b":" + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.lower().encode())


def _basic(given: str, username: str, password: str) -> bool:
    scheme, _, encoded = given.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, sep, pw = base64.b64decode(encoded.strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return False
    # Both compared in full, whatever the first says: no timing tells which one was wrong.
    user_ok = hmac.compare_digest(user, username.encode())
    pw_ok = hmac.compare_digest(pw, password.encode())
    return bool(sep) and user_ok and pw_ok
