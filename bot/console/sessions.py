"""Console sessions kept in the database, the cookie that names them, and the console's audit."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from bot.console.models import ConsoleAudit, ConsoleSession
from bot.runtime import Runtime

log = logging.getLogger(__name__)

COOKIE = "warroom_session"


@dataclass(frozen=True)
class Viewer:
    """The person looking at the console; anonymous only when the policy allows it."""

    user_id: str
    name: str
    csrf: str
    anonymous: bool = False


def _key(rt: Runtime) -> bytes:
    s = rt.settings
    material = f"warroom-console\0{s.slack_client_secret}\0{s.slack_signing_secret}"
    return hashlib.sha256(material.encode()).digest()


def sign(rt: Runtime, value: str) -> str:
    mac = hmac.new(_key(rt), value.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{value}.{mac}"


def unsign(rt: Runtime, signed: str) -> str | None:
    value, _, _mac = signed.rpartition(".")
    if not value or not hmac.compare_digest(sign(rt, value), signed):
        return None
    return value


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(rt: Runtime, user_id: str, team_id: str, name: str, old_cookie: str = "") -> str:
    """A new session (a new id at every login, the old one ended); returns the cookie value."""
    sid = secrets.token_urlsafe(32)
    now = rt.now()
    hours = rt.policy.console.session_hours
    old = unsign(rt, old_cookie) if old_cookie else None
    with rt.db.session() as s:
        if old:
            s.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _hash(old)))
        s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        s.add(
            ConsoleSession(
                id_hash=_hash(sid),
                user_id=user_id,
                team_id=team_id,
                name=name[:200],
                csrf=secrets.token_urlsafe(24),
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return sign(rt, sid)


def find(rt: Runtime, cookie: str) -> Viewer | None:
    sid = unsign(rt, cookie) if cookie else None
    if sid is None:
        return None
    with rt.db.read() as s:
        row = s.get(ConsoleSession, _hash(sid))
        if row is None or row.expires_at <= rt.now():
            return None
        return Viewer(row.user_id, row.name, row.csrf)


def end(rt: Runtime, cookie: str) -> None:
    sid = unsign(rt, cookie) if cookie else None
    if sid is None:
        return
    with rt.db.session() as s:
        s.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _hash(sid)))


def audit(
    rt: Runtime,
    event: str,
    *,
    user_id: str | None = None,
    team_id: str | None = None,
    reason: str = "",
    detail: str = "",
) -> None:
    """Logins, logouts and refusals: a log line and a row, never a secret or a code."""
    log.info(
        "console %s",
        event,
        extra={"user_id": user_id, "team_id": team_id, "reason": reason, "detail": detail},
    )
    with rt.db.session() as s:
        s.add(
            ConsoleAudit(
                at=rt.now(),
                event=event,
                user_id=user_id,
                team_id=team_id,
                reason=reason[:64],
                detail=detail[:2000],
            )
        )
