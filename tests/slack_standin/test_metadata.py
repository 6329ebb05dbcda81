"""Message metadata in the Slack stand-in, as slack_sdk's WebClient sends and reads it: stored with
the message, validated like Slack, returned by conversations.history only on request."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient

from standins.slack.api import SlackStandIn
from tests.slack_standin.conftest import TOKEN, error_of

META = {"event_type": "warroom_timer", "event_payload": {"timer": 7, "part": "reminder"}}


def history(client: WebClient, **kwargs: object) -> list[dict]:
    return client.conversations_history(channel="C0INCIDENTS", **kwargs)["messages"]


def test_metadata_is_stored_and_returned_only_with_include_all_metadata(
    client: WebClient,
) -> None:
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="hi", metadata=META)["ts"]
    [plain] = history(client)
    assert plain["ts"] == ts and "metadata" not in plain
    [marked] = history(client, include_all_metadata=True)
    assert marked["metadata"] == META


def test_metadata_as_a_form_encoded_json_string(client: WebClient) -> None:
    client.api_call(
        "chat.postMessage",
        data={"channel": "C0INCIDENTS", "text": "hi", "metadata": json.dumps(META)},
    )
    [m] = history(client, include_all_metadata="true")
    assert m["metadata"] == META


def test_a_message_without_metadata_has_none(client: WebClient) -> None:
    client.chat_postMessage(channel="C0INCIDENTS", text="plain")
    [m] = history(client, include_all_metadata=True)
    assert "metadata" not in m


@pytest.mark.parametrize(
    "metadata, error",
    [
        ("{not json", "invalid_metadata_format"),
        ("[1, 2]", "invalid_metadata_format"),
        ('"warroom_timer"', "invalid_metadata_format"),
        ({"event_payload": {"a": 1}}, "invalid_metadata_schema"),
        ({"event_type": "warroom_timer"}, "invalid_metadata_schema"),
        ({"event_type": "warroom_timer", "event_payload": [1]}, "invalid_metadata_schema"),
        ({"event_type": "warroom-timer!", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": 5, "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "a", "event_payload": {}, "extra": 1}, "invalid_metadata_schema"),
    ],
)
def test_malformed_metadata_is_refused_and_nothing_is_posted(
    client: WebClient, slack: SlackStandIn, metadata: object, error: str
) -> None:
    if isinstance(metadata, str):
        call = client.api_call
        kwargs = {
            "api_method": "chat.postMessage",
            "data": {"channel": "C0INCIDENTS", "text": "x", "metadata": metadata},
        }
    else:
        call = client.chat_postMessage
        kwargs = {"channel": "C0INCIDENTS", "text": "x", "metadata": metadata}
    assert error_of(call, **kwargs) == error
    assert slack.messages("C0INCIDENTS") == []


def test_update_keeps_metadata_unless_given(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="v1", metadata=META)["ts"]
    client.chat_update(channel="C0INCIDENTS", ts=ts, text="v2")
    [m] = history(client, include_all_metadata=True)
    assert (m["text"], m["metadata"]) == ("v2", META)
    other = {"event_type": "warroom_setup", "event_payload": {"incident": 1}}
    client.chat_update(channel="C0INCIDENTS", ts=ts, text="v3", metadata=other)
    [m] = history(client, include_all_metadata=True)
    assert m["metadata"] == other


def test_reading_metadata_needs_the_history_scope() -> None:
    with SlackStandIn(token=TOKEN, scopes=["chat:write"]) as s:
        client = WebClient(token=TOKEN, base_url=s.api_url)
        client.chat_postMessage(channel="C0INCIDENTS", text="hi", metadata=META)
        assert error_of(client.conversations_history, channel="C0INCIDENTS") == "missing_scope"


def test_after_call_sees_the_stored_post_before_its_answer(
    client: WebClient, slack: SlackStandIn
) -> None:
    seen: list[tuple[str, int]] = []
    slack.after_call = lambda method, p, answer: seen.append(
        (method, len(slack.messages("C0INCIDENTS")))
    )
    client.chat_postMessage(channel="C0INCIDENTS", text="hi")
    assert seen == [("chat.postMessage", 1)]
