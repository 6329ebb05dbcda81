"""The Slack stand-in refuses Block Kit that Slack refuses, with Slack's codes and wording."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from standins.slack.api import SlackStandIn
from standins.slack.scopes import EVERY_SCOPE


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(scopes=EVERY_SCOPE) as s:
        yield s


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.token, base_url=slack.api_url)


def refusal(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return dict(info.value.response.data)


def md(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def button(action_id: str, text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(text), **extra}


def section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": md(text), **extra}


def actions(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **extra}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


BAD_BLOCKS = [
    ([section()] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    ([section("x" * 3001)], "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
    ([section("")], "must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
    ([{"type": "section"}], "must provide either text or fields [json-pointer:/blocks/0]"),
    (
        [{"type": "section", "fields": [md("f")] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    (
        [{"type": "section", "fields": [md("x" * 2001)]}],
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    (
        [{"type": "header", "text": md("*P1*")}],
        "must be a valid enum value [json-pointer:/blocks/0/text/type]",
    ),
    (
        [{"type": "header", "text": plain("x" * 151)}],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    (
        [{"type": "context", "elements": [md("c")] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        [actions(*[button(f"b{i}") for i in range(26)])],
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        [actions(button("ack"), button("ack"))],
        '`action_id` "ack" already exists [json-pointer:/blocks/0/elements/1/action_id]',
    ),
    (
        [section(block_id="b"), section(block_id="b")],
        '`block_id` "b" already exists [json-pointer:/blocks/1/block_id]',
    ),
    (
        [section(block_id="b" * 256)],
        "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
    ),
    (
        [actions(button("a" * 256))],
        "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
    ),
    (
        [actions(button("a", "x" * 76))],
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    (
        [actions({"type": "button", "action_id": "a", "text": md("*go*")})],
        "must be a valid enum value [json-pointer:/blocks/0/elements/0/text/type]",
    ),
    (
        [actions({"type": "button", "action_id": "a"})],
        "missing required field: text [json-pointer:/blocks/0/elements/0]",
    ),
    (
        [actions(button("a", value="v" * 2001))],
        "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
    ),
    (
        [actions(button("a", url="https://x.example/" + "p" * 3000))],
        "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]",
    ),
    (
        [actions(button("a", style="warning"))],
        "must be a valid enum value [json-pointer:/blocks/0/elements/0/style]",
    ),
    (
        [section(accessory={"type": "static_select", "options": [option("x" * 76, "v")]})],
        "must be less than 76 characters [json-pointer:/blocks/0/accessory/options/0/text/text]",
    ),
    (
        [section(accessory={"type": "static_select", "options": [option("x", "v" * 151)]})],
        "must be less than 151 characters [json-pointer:/blocks/0/accessory/options/0/value]",
    ),
    (
        [section(accessory={"type": "static_select", "placeholder": plain("p" * 151)})],
        "must be less than 151 characters [json-pointer:/blocks/0/accessory/placeholder/text]",
    ),
    (
        [{"type": "sections", "text": md("x")}],
        "unsupported type: sections [json-pointer:/blocks/0/type]",
    ),
]


@pytest.mark.parametrize(("blocks", "message"), BAD_BLOCKS)
def test_post_message_refuses_what_slack_refuses(
    slack: SlackStandIn, client: WebClient, blocks: list, message: str
) -> None:
    got = refusal(client.chat_postMessage, channel="C0GENERAL", text="fallback", blocks=blocks)
    assert got["error"] == "invalid_blocks"
    assert f"[ERROR] {message}" in got["response_metadata"]["messages"]
    assert slack.messages("C0GENERAL") == []


def test_a_block_may_share_action_ids_with_another_block(client: WebClient) -> None:
    # "unique among all other action_ids in the containing block": ids repeat across blocks.
    blocks = [actions(button("ack"), block_id="one"), actions(button("ack"), block_id="two")]
    assert client.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks)["ok"]


def test_every_message_surface_is_checked(slack: SlackStandIn, client: WebClient) -> None:
    bad = [actions(button("ack"), button("ack"))]
    ts = client.chat_postMessage(channel="C0GENERAL", text="ok", blocks=[section()])["ts"]
    for call, kwargs in (
        (client.chat_update, {"channel": "C0GENERAL", "ts": ts, "text": "t"}),
        (client.chat_postEphemeral, {"channel": "C0GENERAL", "user": "U0BOB", "text": "t"}),
    ):
        assert refusal(call, blocks=bad, **kwargs)["error"] == "invalid_blocks"
    assert slack.message("C0GENERAL", ts)["blocks"] == [section()]
    hook = WebhookClient(slack.new_response_url("C0GENERAL", "U0BOB"))
    refused = hook.send(text="t", blocks=bad)
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    assert hook.send(text="").body == "missing_text_or_fallback_or_attachments"
    assert slack.ephemerals(user="U0BOB") == []


def test_blocks_carrying_too_much_text_are_msg_blocks_too_long(client: WebClient) -> None:
    blocks = [section("x" * 2900) for _ in range(5)]  # each within 3000, 14,500 together
    got = refusal(client.chat_postMessage, channel="C0GENERAL", text="t", blocks=blocks)
    assert got["error"] == "msg_blocks_too_long"
    assert client.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks[:4])["ok"]


def test_blocks_without_text_are_posted_and_flagged(slack: SlackStandIn, client: WebClient) -> None:
    client.api_call(
        "chat.postMessage", json={"channel": "C0GENERAL", "blocks": [section("no fallback")]}
    )
    client.chat_postMessage(channel="C0GENERAL", text="fallback", blocks=[section()])
    assert slack.warnings == ["chat.postMessage: blocks without a text fallback in C0GENERAL"]
    assert refusal(client.chat_postMessage, channel="C0GENERAL")["error"] == "no_text"


def modal(**extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Declare"), "blocks": [], **extra}


def text_input(block_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain("Title"),
        "element": {"type": "plain_text_input", "action_id": "v"},
        **extra,
    }


BAD_VIEWS = [
    (
        modal(title=plain("x" * 25)),
        "must be less than 25 characters [json-pointer:/view/title/text]",
    ),
    (modal(close=md("*no*")), "must be a valid enum value [json-pointer:/view/close/type]"),
    (modal(blocks=[section()] * 101), "no more than 100 items allowed [json-pointer:/view/blocks]"),
    (modal(blocks=[text_input("t")]), "missing required field: submit [json-pointer:/view]"),
    (
        modal(submit=plain("Go"), blocks=[text_input("t", label=plain("x" * 2001))]),
        "must be less than 2001 characters [json-pointer:/view/blocks/0/label/text]",
    ),
    (
        modal(submit=plain("Go"), blocks=[text_input("t"), text_input("t")]),
        '`block_id` "t" already exists [json-pointer:/view/blocks/1/block_id]',
    ),
    ({"type": "modal", "blocks": []}, "missing required field: title [json-pointer:/view]"),
    (
        modal(private_metadata="m" * 3001),
        "must be less than 3001 characters [json-pointer:/view/private_metadata]",
    ),
]


@pytest.mark.parametrize(("view", "message"), BAD_VIEWS)
def test_views_refuse_what_slack_refuses(
    slack: SlackStandIn, client: WebClient, view: dict, message: str
) -> None:
    got = refusal(client.views_open, trigger_id="1.2.3", view=json.dumps(view))
    assert got["error"] == "invalid_arguments"
    assert f"[ERROR] {message}" in got["response_metadata"]["messages"]
    assert slack.views == {}


def test_views_update_and_push_are_checked(client: WebClient) -> None:
    opened = client.views_open(trigger_id="1.2.3", view=modal())["view"]
    bad = modal(title=plain("x" * 25))
    assert refusal(client.views_update, view_id=opened["id"], view=bad)["error"] == (
        "invalid_arguments"
    )
    assert refusal(client.views_push, trigger_id="1.2.3", view=bad)["error"] == "invalid_arguments"
    # Input blocks in different blocks share action_id "v": state.values keys by block_id.
    ok = modal(submit=plain("Declare"), blocks=[text_input("title"), text_input("impact")])
    assert client.views_update(view_id=opened["id"], view=ok)["ok"]
