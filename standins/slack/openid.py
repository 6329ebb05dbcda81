"""Sign in with Slack (OpenID Connect) as the stand-in's workspace answers it.

Enforced like Slack: the authorize page refuses an unknown ``client_id``, a ``redirect_uri``
other than the registered one, a ``response_type`` other than ``code`` and a scope without
``openid``; ``openid.connect.token`` takes the client's credentials (form fields or HTTP Basic)
and answers ``invalid_client_id``, ``bad_client_secret``, ``invalid_code``, ``code_already_used``
(codes are one-time and expire after 10 minutes), ``bad_redirect_uri``, ``invalid_grant_type``;
``openid.connect.userInfo`` takes the user token it issued, else ``not_authed``/``invalid_auth``.

Not modelled: the id_token is signed with HS256 and the client secret (Slack signs RS256 with
keys at ``/openid/connect/keys``), refresh tokens, token rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

CLIENT_ID = "1000000000.2000000000"
CLIENT_SECRET = "standin-client-secret"
CODE_TTL = 600.0


@dataclass
class _Code:
    user_id: str
    team_id: str
    redirect_uri: str
    nonce: str
    issued: float
    used: bool = False


@dataclass
class OpenIDConnect:
    """The identity side of the workspace. ``users`` answers (name, real name) for a user id."""

    team_id: str
    team_name: str
    team_domain: str
    workspace: Any  # the SlackStore whose users sign in
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_uris: list[str] = field(default_factory=list)  # empty: any (the sandbox's own port)
    auto_approve_as: str | None = None  # a user id: the authorize page approves at once
    team_of_user: dict[str, str] = field(default_factory=dict)  # a user from another workspace
    _codes: dict[str, _Code] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # user, team, nonce
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --------------------------------------------------------------------- authorize page
    def authorize(self, method: str, query: str, body: bytes) -> tuple[int, str, dict[str, str]]:
        """GET shows the consent page (or approves at once); POST is the form's answer."""
        q = dict(parse_qsl(query, keep_blank_values=True))
        if method == "POST":
            q.update(parse_qsl(body.decode(), keep_blank_values=True))
        problem = self._authorize_problem(q)
        if problem:
            return 400, _page("Sign in with Slack", f"<p>{html.escape(problem)}</p>"), {}
        user = self.auto_approve_as if method == "GET" else q.get("user")
        if method == "GET" and not user:
            return 200, self._consent(q), {}
        if not user or self.workspace.user(user) is None:
            return 400, _page("Sign in with Slack", "<p>Choose a user of the workspace.</p>"), {}
        if method == "POST" and q.get("decision") == "deny":
            return 302, "", {"Location": _with(q["redirect_uri"], error="access_denied", **_st(q))}
        code = f"{int(time.time())}.{secrets.token_hex(16)}"
        with self._lock:
            self._codes[code] = _Code(
                user,
                self.team_of_user.get(user, self.team_id),
                q["redirect_uri"],
                q.get("nonce", ""),
                time.monotonic(),
            )
        return 302, "", {"Location": _with(q["redirect_uri"], code=code, **_st(q))}

    def _authorize_problem(self, q: dict[str, str]) -> str:
        if q.get("client_id") != self.client_id:
            return "invalid_client_id: this app is not known to the workspace."
        if q.get("response_type") != "code":
            return "invalid_response_type: only response_type=code is supported."
        if "openid" not in q.get("scope", "").split():
            return "invalid_scope: Sign in with Slack needs the openid scope."
        uri = q.get("redirect_uri", "")
        if not uri.startswith(("http://", "https://")) or (
            self.redirect_uris and uri not in self.redirect_uris
        ):
            return "bad_redirect_uri: the redirect URI is not registered for this app."
        return ""

    def _consent(self, q: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in q.items()
        )
        options = "".join(
            f'<option value="{html.escape(u["id"])}">{html.escape(u["name"])}</option>'
            for u in self._people()
        )
        return _page(
            f"Sign in to {html.escape(self.team_name)}",
            f'<form method="post">{hidden}<label for="user">Sign in as</label> '
            f'<select id="user" name="user">{options}</select> '
            '<button name="decision" value="allow">Allow</button> '
            '<button name="decision" value="deny">Cancel</button></form>',
        )

    def _people(self) -> list[dict[str, Any]]:
        with self.workspace.lock:
            return [dict(u) for u in self.workspace._users.values() if not u.get("is_bot")]

    # ------------------------------------------------------------------------ Web API
    def api(
        self, method: str, params: dict[str, Any], token: str | None, basic: tuple[str, str] | None
    ) -> dict[str, Any]:
        if method == "openid.connect.token":
            return self._token(params, basic)
        if method == "openid.connect.userInfo":
            return self._user_info(token)
        return {"ok": False, "error": "unknown_method"}

    def _token(self, p: dict[str, Any], basic: tuple[str, str] | None) -> dict[str, Any]:
        client_id, secret = basic or (str(p.get("client_id", "")), str(p.get("client_secret", "")))
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if not hmac.compare_digest(secret.encode(), self.client_secret.encode()):
            return {"ok": False, "error": "bad_client_secret"}
        if p.get("grant_type", "authorization_code") != "authorization_code":
            return {"ok": False, "error": "invalid_grant_type"}
        with self._lock:
            code = self._codes.get(str(p.get("code", "")))
            if code is None or time.monotonic() - code.issued > CODE_TTL:
                return {"ok": False, "error": "invalid_code"}
            if code.used:
                return {"ok": False, "error": "code_already_used"}
            if p.get("redirect_uri") and p["redirect_uri"] != code.redirect_uri:
                return {"ok": False, "error": "bad_redirect_uri"}
            code.used = True
            token = "xoxp-" + secrets.token_hex(20)
            self._tokens[token] = (code.user_id, code.team_id, code.nonce)
        claims = self._claims(code.user_id, code.team_id) | {
            "iss": "https://slack.com",
            "aud": self.client_id,
            "iat": int(time.time()),
            "exp": int(time.time()) + 3600,
            "nonce": code.nonce,
        }
        return {
            "ok": True,
            "access_token": token,
            "token_type": "Bearer",
            "id_token": self._jwt(claims),
        }

    def _user_info(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {"ok": False, "error": "not_authed"}
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, **self._claims(grant[0], grant[1])}

    def _claims(self, user_id: str, team_id: str) -> dict[str, Any]:
        user = self.workspace.user(user_id) or {"name": user_id, "real_name": user_id}
        return {
            "sub": user_id,
            "https://slack.com/user_id": user_id,
            "https://slack.com/team_id": team_id,
            "https://slack.com/team_name": self.team_name,
            "https://slack.com/team_domain": self.team_domain,
            "email": f"{user['name']}@{self.team_domain}.example",
            "email_verified": True,
            "name": user.get("real_name") or user["name"],
            "given_name": user.get("real_name") or user["name"],
            "locale": "en-US",
        }

    def _jwt(self, claims: dict[str, Any]) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64(json.dumps(claims).encode())
        sig = hmac.new(self.client_secret.encode(), f"{head}.{body}".encode(), hashlib.sha256)
        return f"{head}.{body}.{b64(sig.digest())}"


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``Authorization: Basic base64(client_id:client_secret)``, as slack_sdk sends it."""
    if not header.startswith("Basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


def _st(q: dict[str, str]) -> dict[str, str]:
    return {"state": q["state"]} if "state" in q else {}


def _with(uri: str, **params: str) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href='data:,'>"
        f"<title>{title}</title></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )
