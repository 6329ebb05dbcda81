"""The web console's Sign in with Slack, sessions, CSRF and audit, through the OIDC stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import ConsoleAccess, Policy
from bot.console.models import ConsoleAudit, ConsoleSession
from standins.slack.openid import CLIENT_ID, CLIENT_SECRET
from tests.conftest import Bot, make_bot


def console_bot(db_url, standin, policy: Policy | None = None, clock=None) -> Iterator[Bot]:
    for bot in make_bot(db_url, standin, policy, clock=clock):
        bot.rt.settings.slack_client_id = CLIENT_ID
        bot.rt.settings.slack_client_secret = CLIENT_SECRET
        yield bot


@pytest.fixture
def cbot(db_url, standin) -> Iterator[Bot]:
    yield from console_bot(db_url, standin)


def sign_in(bot: Bot, client: httpx.Client, user: str = "U0ALICE", **headers: str):
    """Walk the whole flow as a browser would; returns the callback's response."""
    bot.slack.openid.auto_approve_as = user
    r = client.get("/login", params={"next": "/?severity=P1"}, headers=headers)
    assert r.status_code == 303, r.text
    if headers:  # a Secure cookie: httpx over plain http would not send it back
        flow = next(h for h in r.headers.get_list("set-cookie") if "warroom_oidc=" in h)
        assert "Secure" in flow and "HttpOnly" in flow
        client.cookies.set("warroom_oidc", flow.split(";")[0].split("=", 1)[1])
    authorize = r.headers["location"]
    assert authorize.startswith(bot.slack.base_url + "/openid/connect/authorize?")
    q = parse_qs(urlsplit(authorize).query)
    assert q["scope"] == ["openid profile email"] and q["client_id"] == [CLIENT_ID]
    # Behind a TLS proxy the browser comes back on https.
    base = bot.url.replace("http:", "https:") if headers else bot.url
    assert q["redirect_uri"] == [base + "/auth/callback"] and q["nonce"] and q["state"]
    r = httpx.get(authorize)
    assert r.status_code == 302, r.text
    back = r.headers["location"]
    assert back.startswith(base + "/auth/callback?")
    return client.get(back.removeprefix(base), headers=headers)


def audit(bot: Bot) -> list[tuple[str, str | None, str]]:
    with bot.rt.db.read() as s:
        rows = s.scalars(select(ConsoleAudit).order_by(ConsoleAudit.id))
        return [(a.event, a.user_id, a.reason) for a in rows]


def test_anonymous_visitor_is_sent_to_sign_in(cbot) -> None:
    with httpx.Client(base_url=cbot.url) as c:
        r = c.get("/?status=resolved")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2F%3Fstatus%3Dresolved"


def test_sign_in_with_slack_opens_a_session(cbot) -> None:
    with httpx.Client(base_url=cbot.url) as c:
        r = sign_in(cbot, c)
        assert r.status_code == 303 and r.headers["location"] == "/?severity=P1"
        cookie = next(h for h in r.headers.get_list("set-cookie") if "warroom_session=" in h)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        page = c.get("/")
    assert page.status_code == 200 and "Alice" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    token_calls = cbot.slack.calls_to("openid.connect.token")
    assert len(token_calls) == 1 and "client_secret" not in token_calls[0].params
    assert len(cbot.slack.calls_to("openid.connect.userInfo")) == 1
    assert audit(cbot) == [("login", "U0ALICE", "")]


def test_session_cookie_is_secure_behind_tls(cbot) -> None:
    with httpx.Client(base_url=cbot.url) as c:
        r = sign_in(cbot, c, **{"X-Forwarded-Proto": "https"})
    assert r.status_code == 303
    cookie = next(h for h in r.headers.get_list("set-cookie") if "warroom_session=" in h)
    assert "Secure" in cookie


def test_a_member_of_another_workspace_is_refused(cbot) -> None:
    cbot.slack.openid.team_of_user["U0BOB"] = "T0ELSEWHERE"
    with httpx.Client(base_url=cbot.url) as c:
        r = sign_in(cbot, c, user="U0BOB")
        assert r.status_code == 403 and "different Slack workspace" in r.text
        assert "warroom_session" not in c.cookies
    assert audit(cbot) == [("denied", "U0BOB", "team")]


def test_a_code_works_once_and_a_foreign_state_is_refused(cbot) -> None:
    with httpx.Client(base_url=cbot.url) as c:
        r = sign_in(cbot, c)
        assert r.status_code == 303
        callback = str(r.request.url).removeprefix(cbot.url)
        # The same code again, with a fresh flow cookie so the state matches: Slack refuses it.
        r = c.get("/login")
        state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
        replay = callback.split("&state=")[0] + "&state=" + state
        assert c.get(replay).status_code == 403
        r = c.get("/auth/callback?code=x&state=not-the-one")
        assert r.status_code == 403 and "Sign in again" in r.text
    with cbot.rt.db.read() as s:
        details = [a.detail for a in s.scalars(select(ConsoleAudit))]
    assert "token exchange: code_already_used" in details
    assert [e for e, _, _ in audit(cbot)] == ["login", "denied", "denied"]


def test_a_wrong_client_secret_gets_no_session(cbot) -> None:
    cbot.rt.settings.slack_client_secret = "not-the-secret"
    with httpx.Client(base_url=cbot.url) as c:
        assert sign_in(cbot, c).status_code == 403
    with cbot.rt.db.read() as s:
        assert [a.detail for a in s.scalars(select(ConsoleAudit))] == [
            "token exchange: bad_client_secret"
        ]


def test_the_policy_can_open_the_console_to_user_groups_only(db_url, standin) -> None:
    standin.add_usergroup("S0ONCALL", ["U0ALICE"])
    policy = Policy(console=ConsoleAccess(usergroups=["S0ONCALL"]))
    for bot in console_bot(db_url, standin, policy):
        with httpx.Client(base_url=bot.url) as c:
            r = sign_in(bot, c, user="U0BOB")
            assert r.status_code == 403 and "user groups" in r.text
        with httpx.Client(base_url=bot.url) as c:
            assert sign_in(bot, c, user="U0ALICE").status_code == 303
        assert audit(bot) == [("denied", "U0BOB", "group"), ("login", "U0ALICE", "")]


def test_sign_out_needs_the_csrf_token_and_ends_the_session(cbot) -> None:
    with httpx.Client(base_url=cbot.url) as c:
        sign_in(cbot, c)
        page = c.get("/").text
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post("/logout", data={})
        assert r.status_code == 403 and "security token" in r.text
        assert c.get("/").status_code == 200  # still signed in
        old = c.cookies["warroom_session"]
        r = c.post("/logout", data={"csrf_token": csrf})
        assert r.status_code == 303
        c.cookies.set("warroom_session", old)
        assert c.get("/").status_code == 303  # the old cookie names no session any more
    assert [(e, r) for e, _, r in audit(cbot)] == [
        ("login", ""),
        ("denied", "csrf"),
        ("logout", ""),
    ]


def test_signing_in_again_rotates_the_session(cbot) -> None:
    with httpx.Client(base_url=cbot.url) as c:
        sign_in(cbot, c)
        first = c.cookies["warroom_session"]
        sign_in(cbot, c)
        assert c.cookies["warroom_session"] != first
        with cbot.rt.db.read() as s:
            assert len(list(s.scalars(select(ConsoleSession)))) == 1
        c.cookies.set("warroom_session", first)
        assert c.get("/").status_code == 303


def test_a_session_expires(db_url, standin) -> None:
    clock = FrozenClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    policy = Policy(console=ConsoleAccess(session_hours=1))
    for bot in console_bot(db_url, standin, policy, clock):
        with httpx.Client(base_url=bot.url) as c:
            sign_in(bot, c)
            assert c.get("/").status_code == 200
            clock.advance(minutes=61)
            assert c.get("/").status_code == 303


def test_a_forged_cookie_is_no_session(cbot) -> None:
    with httpx.Client(base_url=cbot.url) as c:
        sign_in(cbot, c)
        sid, _, mac = c.cookies["warroom_session"].rpartition(".")
        c.cookies.set("warroom_session", sid + "x." + mac)
        assert c.get("/").status_code == 303


def test_anonymous_reading_only_when_the_policy_says_so(db_url, standin) -> None:
    for bot in console_bot(db_url, standin, Policy(console=ConsoleAccess(anonymous=True))):
        with httpx.Client(base_url=bot.url) as c:
            r = c.get("/")
            assert r.status_code == 200 and "Sign in" in r.text
            assert c.post("/logout", data={"csrf_token": ""}).status_code == 403


def test_a_code_issued_for_another_sign_in_is_refused(cbot) -> None:
    # A code obtained with someone else's nonce (an injected code) fails the id_token check.
    cbot.slack.openid.auto_approve_as = "U0ALICE"
    with httpx.Client(base_url=cbot.url) as c:
        authorize = c.get("/login").headers["location"]
        q = parse_qs(urlsplit(authorize).query)
        swapped = authorize.replace("nonce=" + q["nonce"][0], "nonce=someone-elses")
        back = httpx.get(swapped).headers["location"]
        r = c.get(back.removeprefix(cbot.url))
        assert r.status_code == 403 and "warroom_session" not in c.cookies
    with cbot.rt.db.read() as s:
        assert [a.detail for a in s.scalars(select(ConsoleAudit))] == [
            "id_token nonce or audience differ"
        ]


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example"])
def test_after_sign_in_the_browser_stays_on_the_console(cbot, target: str) -> None:
    cbot.slack.openid.auto_approve_as = "U0ALICE"
    with httpx.Client(base_url=cbot.url) as c:
        authorize = c.get("/login", params={"next": target}).headers["location"]
        back = httpx.get(authorize).headers["location"]
        r = c.get(back.removeprefix(cbot.url))
    assert r.status_code == 303 and r.headers["location"] == "/"
