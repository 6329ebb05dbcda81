"""The Slack stand-in's Sign in with Slack, driven by slack_sdk's own OpenID Connect methods."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from standins.slack.openid import CLIENT_ID, CLIENT_SECRET

REDIRECT = "http://127.0.0.1:9/auth/callback"


def authorize_url(standin, **over: str) -> str:
    q = {
        "response_type": "code",
        "scope": "openid profile email",
        "client_id": CLIENT_ID,
        "state": "s1",
        "nonce": "n1",
        "redirect_uri": REDIRECT,
    } | over
    return f"{standin.base_url}/openid/connect/authorize?{urlencode(q)}"


def code_for(standin, user: str = "U0CAROL") -> str:
    """Through the consent form, as a person clicking Allow."""
    page = httpx.get(authorize_url(standin))
    assert page.status_code == 200 and '<select id="user" name="user">' in page.text
    assert "warroom" not in page.text  # the bot is not someone to sign in as
    form = {"user": user, "decision": "allow"} | {
        k: v[0] for k, v in parse_qs(urlsplit(authorize_url(standin)).query).items()
    }
    r = httpx.post(f"{standin.base_url}/openid/connect/authorize", data=form)
    assert r.status_code == 302
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["state"] == ["s1"]
    return q["code"][0]


def error_of(fn) -> str:
    with pytest.raises(SlackApiError) as e:
        fn()
    return e.value.response["error"]


def test_the_code_exchange_and_user_info_as_slack_answers(standin) -> None:
    client = WebClient(base_url=standin.api_url)
    code = code_for(standin)
    token = client.openid_connect_token(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code, redirect_uri=REDIRECT
    )
    assert token["access_token"].startswith("xoxp-") and token["id_token"].count(".") == 2
    info = WebClient(token["access_token"], standin.api_url).openid_connect_userInfo()
    assert info["https://slack.com/user_id"] == "U0CAROL"
    assert info["https://slack.com/team_id"] == standin.team_id and info["email_verified"]
    again = error_of(
        lambda: client.openid_connect_token(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code, redirect_uri=REDIRECT
        )
    )
    assert again == "code_already_used"


def test_the_exchange_refuses_bad_credentials_and_codes(standin) -> None:
    client = WebClient(base_url=standin.api_url)
    code = code_for(standin)
    assert (
        error_of(lambda: client.openid_connect_token(client_id="1.2", client_secret="x", code=code))
        == "invalid_client_id"
    )
    assert (
        error_of(
            lambda: client.openid_connect_token(client_id=CLIENT_ID, client_secret="x", code=code)
        )
        == "bad_client_secret"
    )
    assert (
        error_of(
            lambda: client.openid_connect_token(
                client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code="made-up"
            )
        )
        == "invalid_code"
    )
    assert error_of(
        lambda: WebClient("xoxp-made-up", standin.api_url).openid_connect_userInfo()
    ) == ("invalid_auth")
    assert error_of(lambda: client.openid_connect_userInfo()) == "not_authed"


def test_the_authorize_page_refuses_what_slack_refuses(standin) -> None:
    standin.openid.redirect_uris = [REDIRECT]
    for over, said in (
        ({"client_id": "9.9"}, "invalid_client_id"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"response_type": "token"}, "invalid_response_type"),
        ({"redirect_uri": "http://evil.example/cb"}, "bad_redirect_uri"),
    ):
        r = httpx.get(authorize_url(standin, **over))
        assert r.status_code == 400 and said in r.text, over
    r = httpx.post(
        f"{standin.base_url}/openid/connect/authorize",
        data={"decision": "deny", "user": "U0BOB"}
        | {k: v[0] for k, v in parse_qs(urlsplit(authorize_url(standin)).query).items()},
    )
    assert r.status_code == 302 and "error=access_denied" in r.headers["location"]
