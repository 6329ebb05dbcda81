"""The Slack stand-in's fault injection, latency, response_url and event delivery."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from standins.slack.api import SlackStandIn
from standins.slack.state import SlackError
from tests.slack_standin.conftest import TOKEN, error_of


# ---------------------------------------------------------------------- fault injection
def test_rate_limit_is_429_with_retry_after(slack: SlackStandIn, client: WebClient) -> None:
    slack.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert slack.messages("C0GENERAL") == []


def test_rate_limit_honoured_by_retry_handler(slack: SlackStandIn, client: WebClient) -> None:
    client.retry_handlers = [RateLimitErrorRetryHandler(max_retry_count=2)]
    slack.rate_limit_next("chat.postMessage", retry_after=1)
    assert client.chat_postMessage(channel="C0GENERAL", text="after backoff")["ok"]
    first, second = slack.calls_to("chat.postMessage")
    assert second.at - first.at >= 1.0
    assert [m["text"] for m in slack.messages("C0GENERAL")] == ["after backoff"]


def test_fail_next(slack: SlackStandIn, client: WebClient) -> None:
    slack.fail_next("conversations.create", error="name_taken", times=2)
    for _ in range(2):
        assert error_of(client.conversations_create, name="inc-fresh") == "name_taken"
    assert client.conversations_create(name="inc-fresh")["channel"]["name"] == "inc-fresh"
    assert len(slack.calls_to("conversations.create")) == 3
    slack.reset_calls()
    assert slack.calls == []


def test_latency_applies_per_call_and_calls_overlap(slack: SlackStandIn) -> None:
    slack.latency = 0.15
    fast = WebClient(token=TOKEN, base_url=slack.api_url)
    started = time.perf_counter()
    fast.auth_test()
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    threads = [threading.Thread(target=fast.auth_test) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The delay is not taken under the state lock: four calls cost about one delay.
    assert time.perf_counter() - started < 0.45


def test_calls_record_merged_params(slack: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="hi", blocks=[{"type": "divider"}])
    client.users_info(user="U0BOB")
    post, info = slack.calls
    assert post.method == "chat.postMessage" and post.params["blocks"] == [{"type": "divider"}]
    assert info.params == {"user": "U0BOB"} and "token" not in post.params


# ------------------------------------------------------------------------- response_url
def test_response_url_recording(slack: SlackStandIn) -> None:
    url = slack.new_response_url("C0GENERAL", "U0ALICE")
    assert url.startswith(slack.base_url + "/response/")
    hook = WebhookClient(url)
    got = hook.send(text="Only you can see this")
    assert (got.status_code, got.body) == (200, "ok")
    assert slack.ephemerals(channel_id="C0GENERAL") == [
        {
            "channel": "C0GENERAL",
            "user": "U0ALICE",
            "text": "Only you can see this",
            "blocks": [],
            "response_type": "ephemeral",
            "via": "response_url",
            "ts": slack.ephemerals()[0]["ts"],
            "thread_ts": None,
        }
    ]
    hook.send(text="Everyone sees this", response_type="in_channel")
    last = slack.messages("C0GENERAL")[-1]
    assert (last["text"], last["user"]) == ("Everyone sees this", "U0WARROOM")
    assert [c.method for c in slack.calls] == ["response_url", "response_url"]
    assert WebhookClient(slack.base_url + "/response/R0UNKNOWN").send(text="x").status_code == 404


def test_response_url_replace_and_delete_original(slack: SlackStandIn) -> None:
    ts = slack.call_method("chat.postMessage", {"channel": "C0GENERAL", "text": "Ack?"})["ts"]
    url = slack.new_response_url("C0GENERAL", "U0BOB", message_ts=ts)
    WebhookClient(url).send(text="Acked by bob", replace_original=True)
    assert slack.message("C0GENERAL", ts)["text"] == "Acked by bob"
    WebhookClient(url).send(delete_original=True)
    assert slack.message("C0GENERAL", ts) is None


# ------------------------------------------------------------------------------- events
def test_events_in_order_without_blocking_the_api(slack: SlackStandIn, client: WebClient) -> None:
    seen: list[dict[str, Any]] = []
    threads: set[str] = set()

    def slow_sink(event: dict[str, Any]) -> None:
        time.sleep(0.2)
        threads.add(threading.current_thread().name)
        seen.append(event)

    slack.event_sink = slow_sink
    ts = slack.user_post("C0INCIDENTS", "U0ALICE", "checkout is down")
    started = time.perf_counter()
    client.pins_add(channel="C0INCIDENTS", timestamp=ts)
    assert time.perf_counter() - started < 0.15  # the API did not wait for the sink
    slack.user_react("C0INCIDENTS", ts, "U0BOB", "pushpin")
    cid = client.conversations_create(name="inc-events")["channel"]["id"]
    client.conversations_invite(channel=cid, users="U0DAN")
    slack.user_post(slack.add_channel("quiet", members=["U0ALICE"]), "U0ALICE", "not for the bot")
    assert slack.drain_events(timeout=2.0)
    assert [e["type"] for e in seen] == [
        "message",
        "pin_added",
        "reaction_added",
        "member_joined_channel",
    ]
    message, pin, reaction, joined = seen
    assert (message["channel"], message["user"], message["ts"]) == ("C0INCIDENTS", "U0ALICE", ts)
    assert pin["channel_id"] == "C0INCIDENTS" and pin["user"] == "U0WARROOM"
    assert (
        pin["item"]["message"]["ts"] == ts and pin["item"]["message"]["text"] == "checkout is down"
    )
    assert reaction["item"] == {"type": "message", "channel": "C0INCIDENTS", "ts": ts}
    assert (reaction["reaction"], reaction["item_user"]) == ("pushpin", "U0ALICE")
    assert (joined["user"], joined["channel"], joined["inviter"]) == ("U0DAN", cid, "U0WARROOM")
    assert threads == {"slack-standin-events"}


def test_user_actions_validate(slack: SlackStandIn) -> None:
    ts = slack.user_post("C0GENERAL", "U0BOB", "hello")
    slack.user_pin("C0GENERAL", ts, "U0CAROL")
    with pytest.raises(SlackError, match="already_pinned"):
        slack.user_pin("C0GENERAL", ts, "U0DAN")
    with pytest.raises(SlackError, match="not_in_channel"):
        slack.user_post(slack.add_channel("ops"), "U0BOB", "hi")
    assert [e["type"] for e in slack.events] == ["message", "pin_added"]


def test_drain_events_times_out_on_a_stuck_sink(slack: SlackStandIn) -> None:
    release = threading.Event()
    slack.event_sink = lambda event: release.wait(5)
    slack.user_post("C0GENERAL", "U0BOB", "hello")
    assert slack.drain_events(timeout=0.1) is False
    release.set()
    assert slack.drain_events(timeout=2.0) is True
