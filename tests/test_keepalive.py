"""The kept-alive Web API client: calls share a connection, a connection the server dropped is
replaced without failing the call, and Slack's errors still arrive as slack_sdk's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.chat import make_client
from bot.slack.keepalive import KeepAliveWebClient
from standins.slack.api import SlackStandIn


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    s = SlackStandIn().start()
    yield s
    s.stop()


@pytest.fixture
def client(slack: SlackStandIn) -> Iterator[KeepAliveWebClient]:
    c = make_client(slack.token, slack.api_url)
    assert isinstance(c, KeepAliveWebClient)
    yield c
    c.pool.close()


def idle(client: KeepAliveWebClient) -> list:
    return [conn for conns in client.pool._idle.values() for conn in conns]


def test_successive_calls_reuse_one_connection(client: KeepAliveWebClient) -> None:
    client.auth_test()
    [first] = idle(client)
    sock = first.sock
    client.chat_postMessage(channel="C0GENERAL", text="one")
    client.chat_postMessage(channel="C0GENERAL", text="two")
    [again] = idle(client)
    assert again is first and again.sock is sock  # the same TCP connection all along


def test_a_connection_the_server_dropped_is_replaced_and_the_call_succeeds(
    slack: SlackStandIn, client: KeepAliveWebClient
) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="before")
    slack._server.close_connections()  # the server drops every idle keep-alive connection
    resp = client.chat_postMessage(channel="C0GENERAL", text="after")
    assert resp["ok"]
    assert [m["text"] for m in slack.messages("C0GENERAL")][-2:] == ["before", "after"]
    assert len(slack.calls_to("chat.postMessage")) == 2  # sent once each, not twice


def test_slack_errors_and_rate_limits_keep_slack_sdks_behaviour(
    slack: SlackStandIn, client: KeepAliveWebClient
) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0NOSUCH", text="x")
    assert err.value.response["error"] == "channel_not_found"
    slack.rate_limit_next("chat.postMessage", retry_after=1)
    assert client.chat_postMessage(channel="C0GENERAL", text="after a 429")["ok"]
    assert len(slack.calls_to("chat.postMessage")) == 3  # the 429, then the retry
