"""Sign in with Slack (OpenID Connect): /login, /auth/callback and /logout.

The code is exchanged with ``openid.connect.token``, the person read with
``openid.connect.userInfo``; only the configured workspace (and, by policy, some user groups)
gets a session. Every login, logout and refusal is audited.
"""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import urlencode

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.chat import ChatError
from bot.console import sessions, web
from bot.console.sessions import Viewer
from bot.runtime import Runtime

FLOW_COOKIE = "warroom_oidc"  # state, nonce and where to go after, signed; ten minutes
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"


def slack_base(rt: Runtime) -> str:
    """https://slack.com from https://slack.com/api/ (the stand-in's base likewise)."""
    return rt.settings.slack_api_url.rstrip("/").removesuffix("/api")


def _safe_next(target: str) -> str:
    # "//host" and "/\\host" both leave the site in a browser.
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


class Gate:
    """The workspace's team id, read once from the bot token when not configured."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._team = rt.settings.slack_team_id

    def team_id(self) -> str:
        if not self._team:
            client = WebClient(self.rt.settings.slack_bot_token, self.rt.settings.slack_api_url)
            self._team = str(client.auth_test()["team_id"])
        return self._team

    def exchange(self, code: str, redirect_uri: str) -> dict:
        s = self.rt.settings
        client = WebClient(base_url=s.slack_api_url)
        token = client.openid_connect_token(
            client_id=s.slack_client_id,
            client_secret=s.slack_client_secret,
            code=code,
            redirect_uri=redirect_uri,
            grant_type="authorization_code",
        )
        user = WebClient(str(token["access_token"]), s.slack_api_url).openid_connect_userInfo()
        info = dict(user.data) if isinstance(user.data, dict) else {}
        # Straight from the token endpoint over TLS, the id_token needs no signature check
        # (OIDC Core 3.1.3.7); its nonce and audience still tie it to this sign-in.
        return info | {"_id_token": _claims(str(token.get("id_token", "")))}

    def member_of_groups(self, user_id: str) -> bool:
        groups = self.rt.policy.console.usergroups
        if not groups:
            return True
        return any(user_id in self.rt.chat.group_members(g) for g in groups)


def routes(rt: Runtime) -> list[BaseRoute]:
    gate = Gate(rt)

    async def login(request: Request) -> Response:
        if not rt.settings.slack_client_id:
            return web.refuse(
                503,
                "Sign in is not configured",
                "Set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (the Slack app's credentials).",
            )
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        target = _safe_next(request.query_params.get("next", "/"))
        query = urlencode(
            {
                "response_type": "code",
                "scope": "openid profile email",
                "client_id": rt.settings.slack_client_id,
                "state": state,
                "nonce": nonce,
                "redirect_uri": web.base_url(rt, request) + "/auth/callback",
            }
        )
        resp = RedirectResponse(f"{slack_base(rt)}/openid/connect/authorize?{query}", 303)
        flow = sessions.sign(rt, f"{state}|{nonce}|{target}")
        web.set_cookie(resp, request, FLOW_COOKIE, flow, 600)
        return web.secure(resp)

    def deny(reason: str, user: str | None, team: str | None, detail: str = "") -> Response:
        sessions.audit(rt, "denied", user_id=user, team_id=team, reason=reason, detail=detail)
        messages = {
            "state": "The sign-in took too long or did not start here. Sign in again.",
            "slack": "Slack did not confirm who you are. Sign in again.",
            "team": "You signed in to a different Slack workspace than this Warroom's.",
            "group": "The console is open to some user groups only; ask an admin to add you.",
        }
        return web.refuse(403, "Not signed in", messages[reason])

    def callback(request: Request) -> Response:
        q = request.query_params
        flow = sessions.unsign(rt, request.cookies.get(FLOW_COOKIE, "")) or ""
        state, _, rest = flow.partition("|")
        nonce, _, target = rest.partition("|")
        if not state or not secrets.compare_digest(state, q.get("state", "")):
            return deny("state", None, None, "state missing or different")
        if "error" in q or not q.get("code"):
            return deny("slack", None, None, f"authorize: {q.get('error', 'no code')}"[:200])
        try:
            info = gate.exchange(q["code"], web.base_url(rt, request) + "/auth/callback")
        except SlackApiError as e:
            return deny("slack", None, None, f"token exchange: {e.response.get('error')}")
        id_token = info.get("_id_token", {})
        if id_token.get("nonce") != nonce or id_token.get("aud") != rt.settings.slack_client_id:
            return deny("slack", None, None, "id_token nonce or audience differ")
        user, team = str(info.get(USER_CLAIM, "")), str(info.get(TEAM_CLAIM, ""))
        if not user or team != gate.team_id():
            return deny("team", user or None, team or None)
        try:
            allowed = gate.member_of_groups(user)
        except ChatError as e:
            return deny("group", user, team, f"user groups unreadable: {e}")
        if not allowed:
            return deny("group", user, team)
        cookie = sessions.start(
            rt, user, team, str(info.get("name", user)), request.cookies.get(sessions.COOKIE, "")
        )
        sessions.audit(rt, "login", user_id=user, team_id=team)
        resp = RedirectResponse(_safe_next(target), 303)
        web.set_cookie(resp, request, sessions.COOKIE, cookie, int(3600 * _hours(rt)))
        resp.delete_cookie(FLOW_COOKIE, path="/")
        return web.secure(resp)

    async def callback_async(request: Request) -> Response:
        return await run_in_threadpool(callback, request)

    @web.console(rt)
    async def logout(request: Request, rt: Runtime, viewer: Viewer) -> Response:
        cookie = request.cookies.get(sessions.COOKIE, "")
        await run_in_threadpool(sessions.end, rt, cookie)
        await run_in_threadpool(sessions.audit, rt, "logout", user_id=viewer.user_id or None)
        resp = RedirectResponse("/signed-out", 303)
        resp.delete_cookie(sessions.COOKIE, path="/")
        return web.secure(resp)

    async def signed_out(request: Request) -> Response:
        return web.render("signed_out.html", viewer=None)

    return [
        Route("/login", login, methods=["GET"]),
        Route("/auth/callback", callback_async, methods=["GET"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/signed-out", signed_out, methods=["GET"]),
    ]


def _claims(jwt: str) -> dict:
    try:
        body = jwt.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _hours(rt: Runtime) -> float:
    return rt.policy.console.session_hours
