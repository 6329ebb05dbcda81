"""The Slack stand-in's Web API methods, exercised through the real slack_sdk client."""

from __future__ import annotations

import json
import threading

import pytest
from slack_sdk import WebClient

from standins.slack.api import SlackStandIn
from tests.slack_standin.conftest import TOKEN, TS_RE, error_of


# ------------------------------------------------------------------------------ Web API
def test_auth_test_and_token_checks(slack: SlackStandIn, client: WebClient) -> None:
    me = client.auth_test()
    assert (me["user_id"], me["bot_id"], me["team_id"]) == ("U0WARROOM", "B0WARROOM", "T0WARROOM")
    assert me["team"] == "Warroom Sandbox"
    assert error_of(WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test) == (
        "invalid_auth"
    )
    assert error_of(WebClient(base_url=slack.api_url).auth_test) == "not_authed"
    # The token may also arrive as a form param instead of the Authorization header.
    anon = WebClient(base_url=slack.api_url)
    assert anon.api_call("auth.test", params={"token": TOKEN})["user_id"] == "U0WARROOM"
    assert error_of(client.api_call, api_method="nope.never") == "unknown_method"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("Inc-Checkout", "invalid_name_specials"),
        ("inc checkout", "invalid_name_specials"),
        ("inc#1", "invalid_name_specials"),
        ("a" * 81, "invalid_name_maxlength"),
        ("--__", "invalid_name_punctuation"),
        ("incidents", "name_taken"),
    ],
)
def test_create_channel_name_rules(client: WebClient, name: str, error: str) -> None:
    assert error_of(client.conversations_create, name=name) == error


def test_create_channel_returns_full_conversation(slack: SlackStandIn, client: WebClient) -> None:
    ch = client.conversations_create(name="inc-2024-001_" + "x" * 67)["channel"]
    assert len(ch["name"]) == 80
    assert ch["id"].startswith("C") and ch["id"][1:].isupper()
    assert ch["creator"] == "U0WARROOM" and ch["is_member"] and ch["num_members"] == 1
    assert ch["is_channel"] and not ch["is_private"] and not ch["is_archived"]
    assert set(ch["topic"]) == {"value", "creator", "last_set"}
    private = client.conversations_create(name="inc-secret", is_private=True)["channel"]
    assert private["is_private"] and not private["is_channel"]
    assert slack.channel(ch["id"])["members"] == ["U0WARROOM"]
    assert slack.channel_by_name("inc-secret")["id"] == private["id"]


def test_archived_names_stay_taken(client: WebClient) -> None:
    cid = client.conversations_create(name="inc-old")["channel"]["id"]
    client.conversations_archive(channel=cid)
    assert client.conversations_info(channel=cid)["channel"]["is_archived"]
    assert error_of(client.conversations_create, name="inc-old") == "name_taken"
    assert error_of(client.chat_postMessage, channel=cid, text="late") == "is_archived"


def test_topic_and_purpose(slack: SlackStandIn, client: WebClient) -> None:
    got = client.conversations_setTopic(channel="C0INCIDENTS", topic="SEV1: checkout")
    assert got["channel"]["topic"]["value"] == "SEV1: checkout"
    client.conversations_setPurpose(channel="C0INCIDENTS", purpose="war room")
    assert (slack.channel("C0INCIDENTS")["topic"], slack.channel("C0INCIDENTS")["purpose"]) == (
        "SEV1: checkout",
        "war room",
    )
    ops = slack.add_channel("ops", members=["U0ALICE"])
    assert error_of(client.conversations_setTopic, channel=ops, topic="x") == "not_in_channel"
    assert error_of(client.conversations_setTopic, channel="C0MISSING", topic="x") == (
        "channel_not_found"
    )


def test_invite_semantics(slack: SlackStandIn, client: WebClient) -> None:
    cid = client.conversations_create(name="inc-invite")["channel"]["id"]
    got = client.conversations_invite(channel=cid, users=["U0ALICE", "U0BOB"])
    assert got["channel"]["num_members"] == 3
    assert slack.channel(cid)["members"] == ["U0WARROOM", "U0ALICE", "U0BOB"]
    assert error_of(client.conversations_invite, channel=cid, users="U0ALICE,U0BOB") == (
        "already_in_channel"
    )
    # One unknown user fails the whole call unless force=true, which skips it.
    assert error_of(client.conversations_invite, channel=cid, users="U0CAROL,U0GHOST") == (
        "user_not_found"
    )
    assert "U0CAROL" not in slack.channel(cid)["members"]
    forced = client.conversations_invite(channel=cid, users="U0CAROL,U0GHOST", force=True)
    assert forced["errors"] == [{"user": "U0GHOST", "ok": False, "error": "user_not_found"}]
    assert slack.channel(cid)["members"][-1] == "U0CAROL"
    outside = slack.add_channel("ops", members=["U0ALICE"])
    assert error_of(client.conversations_invite, channel=outside, users="U0BOB") == (
        "not_in_channel"
    )
    joined = [e["user"] for e in slack.events if e["type"] == "member_joined_channel"]
    assert joined == ["U0ALICE", "U0BOB", "U0CAROL"]


def test_private_channels_are_invisible_to_outsiders(
    slack: SlackStandIn, client: WebClient
) -> None:
    hidden = slack.add_channel("legal", members=["U0ALICE"], is_private=True)
    assert error_of(client.conversations_info, channel=hidden) == "channel_not_found"
    names = [c["name"] for c in client.conversations_list(types="private_channel")["channels"]]
    assert "legal" not in names


def test_join_then_post(slack: SlackStandIn, client: WebClient) -> None:
    ops = slack.add_channel("ops", members=["U0ALICE"])
    assert error_of(client.chat_postMessage, channel=ops, text="hi") == "not_in_channel"
    client.conversations_join(channel=ops)
    assert client.conversations_join(channel=ops)["warning"] == "already_in_channel"
    assert client.chat_postMessage(channel="#ops", text="hi")["channel"] == ops


def test_post_message_shapes(slack: SlackStandIn, client: WebClient) -> None:
    blocks = [{"type": "section", "block_id": "b1", "text": {"type": "mrkdwn", "text": "*P1*"}}]
    got = client.chat_postMessage(channel="incidents", text="P1 declared", blocks=blocks)
    assert got["channel"] == "C0INCIDENTS" and TS_RE.match(got["ts"])
    msg = got["message"]
    assert (msg["user"], msg["bot_id"], msg["text"], msg["blocks"]) == (
        "U0WARROOM",
        "B0WARROOM",
        "P1 declared",
        blocks,
    )
    # Form-encoded bodies carry blocks as a JSON string; both must work.
    form = client.api_call(
        "chat.postMessage", params={"channel": "#incidents", "blocks": json.dumps(blocks)}
    )
    assert slack.message("C0INCIDENTS", form["ts"])["blocks"] == blocks
    reply = client.chat_postMessage(channel="C0INCIDENTS", text="update", thread_ts=got["ts"])
    parent = slack.message("C0INCIDENTS", got["ts"])
    assert parent["reply_count"] == 1 and reply["message"]["thread_ts"] == got["ts"]
    assert [m["ts"] for m in slack.messages("C0INCIDENTS")] == [got["ts"], form["ts"], reply["ts"]]
    assert error_of(client.chat_postMessage, channel="C0INCIDENTS") == "no_text"
    assert error_of(client.chat_postMessage, channel="C0NOPE", text="x") == "channel_not_found"
    long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert error_of(client.chat_postMessage, channel="C0INCIDENTS", text="x", blocks=long) == (
        "invalid_blocks"
    )


def test_ts_unique_and_increasing_under_concurrency(slack: SlackStandIn) -> None:
    def post(n: int) -> None:
        for i in range(10):
            slack.call_method("chat.postMessage", {"channel": "C0GENERAL", "text": f"{n}-{i}"})

    threads = [threading.Thread(target=post, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = [m["ts"] for m in slack.messages("C0GENERAL")]
    assert len(stamps) == 160 and len(set(stamps)) == 160
    assert stamps == sorted(stamps, key=float) and all(TS_RE.match(ts) for ts in stamps)


def test_update_rules(slack: SlackStandIn, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "open"}}]
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="open", blocks=blocks)["ts"]
    got = client.chat_update(channel="C0INCIDENTS", ts=ts, text="resolved")
    assert got["ts"] == ts and got["message"]["edited"]["user"] == "U0WARROOM"
    msg = slack.message("C0INCIDENTS", ts)
    assert msg["text"] == "resolved" and msg["blocks"] == blocks  # omitted blocks are kept
    assert error_of(client.chat_update, channel="C0INCIDENTS", ts="1.000001", text="x") == (
        "message_not_found"
    )
    theirs = slack.user_post("C0INCIDENTS", "U0BOB", "mine")
    assert error_of(client.chat_update, channel="C0INCIDENTS", ts=theirs, text="x") == (
        "cant_update_message"
    )


def test_pins_reactions_permalink_history(slack: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="status")["ts"]
    client.pins_add(channel="C0INCIDENTS", timestamp=ts)
    assert slack.message("C0INCIDENTS", ts)["pinned"] is True
    assert error_of(client.pins_add, channel="C0INCIDENTS", timestamp=ts) == "already_pinned"
    assert error_of(client.pins_add, channel="C0INCIDENTS", timestamp="9.000009") == (
        "message_not_found"
    )
    items = client.pins_list(channel="C0INCIDENTS")["items"]
    assert [(i["type"], i["message"]["ts"], i["created_by"]) for i in items] == [
        ("message", ts, "U0WARROOM")
    ]
    client.reactions_add(channel="C0INCIDENTS", timestamp=ts, name="eyes")
    assert error_of(client.reactions_add, channel="C0INCIDENTS", timestamp=ts, name="eyes") == (
        "already_reacted"
    )
    assert slack.message("C0INCIDENTS", ts)["reactions"] == [
        {"name": "eyes", "users": ["U0WARROOM"], "count": 1}
    ]
    link = client.chat_getPermalink(channel="C0INCIDENTS", message_ts=ts)["permalink"]
    assert link == f"https://warroom-sandbox.slack.com/archives/C0INCIDENTS/p{ts.replace('.', '')}"
    later = client.chat_postMessage(channel="C0INCIDENTS", text="later")["ts"]
    history = client.conversations_history(channel="C0INCIDENTS", limit=1)
    assert [m["ts"] for m in history["messages"]] == [later] and history["has_more"]
    older = client.conversations_history(
        channel="C0INCIDENTS", cursor=history["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in older["messages"]] == [ts]
    assert older["messages"][0]["pinned_to"] == ["C0INCIDENTS"]
    exact = client.conversations_history(channel="C0INCIDENTS", latest=ts, inclusive=True, limit=1)
    assert exact["messages"][0]["ts"] == ts


def test_list_pagination_and_members(client: WebClient) -> None:
    for i in range(5):
        client.conversations_create(name=f"inc-page-{i}")
    names, cursor, pages = [], None, 0
    while True:
        page = client.conversations_list(limit=2, cursor=cursor)
        names += [c["name"] for c in page["channels"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 4 and names[:2] == ["incidents", "general"] and len(set(names)) == 7
    assert error_of(client.conversations_list, cursor="garbage") == "invalid_cursor"
    members = client.conversations_members(channel="C0GENERAL")["members"]
    assert set(members) == {"U0ALICE", "U0BOB", "U0CAROL", "U0DAN", "U0WARROOM"}


def test_users(slack: SlackStandIn, client: WebClient) -> None:
    alice = client.users_info(user="U0ALICE")["user"]
    assert (alice["name"], alice["real_name"], alice["is_bot"]) == ("alice", "Alice", False)
    assert error_of(client.users_info, user="U0GHOST") == "user_not_found"
    slack.add_user("U0ERIN", "erin")
    ids = [u["id"] for u in client.users_list()["members"]]
    assert {"U0WARROOM", "U0DAN", "U0ERIN"} <= set(ids)


def test_ephemeral_and_views(slack: SlackStandIn, client: WebClient) -> None:
    got = client.chat_postEphemeral(channel="C0GENERAL", user="U0BOB", text="only you")
    assert TS_RE.match(got["message_ts"])
    assert slack.ephemerals(user="U0BOB")[0]["via"] == "chat.postEphemeral"
    ops = slack.add_channel("ops", members=["U0WARROOM"])
    assert error_of(client.chat_postEphemeral, channel=ops, user="U0BOB", text="x") == (
        "user_not_in_channel"
    )
    view = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": "Declare incident"},
        "blocks": [],
    }
    opened = client.views_open(trigger_id="123.456.abc", view=json.dumps(view))["view"]
    assert opened["id"].startswith("V") and slack.views[opened["id"]]["callback_id"] == "declare"
    updated = client.views_update(view_id=opened["id"], view=view, hash=opened["hash"])["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert error_of(client.views_update, view_id=opened["id"], view=view, hash="stale") == (
        "hash_conflict"
    )
    too_long = {**view, "title": {"type": "plain_text", "text": "A title that is far too long"}}
    assert error_of(client.views_open, trigger_id="1.2.3", view=too_long) == "invalid_arguments"
    assert error_of(client.views_open, trigger_id="", view=view) == "invalid_trigger_id"


def test_file_upload_v2(slack: SlackStandIn, client: WebClient) -> None:
    got = client.files_upload_v2(
        channel="C0INCIDENTS",
        content="12:00 page\n12:05 rollback\n",
        filename="timeline.txt",
        title="Timeline",
        initial_comment="Postmortem draft",
    )
    file_id = got["file"]["id"]
    assert slack.files[file_id] == {
        "name": "timeline.txt",
        "title": "Timeline",
        "content": b"12:00 page\n12:05 rollback\n",
        "channel": "C0INCIDENTS",
    }
    last = slack.messages("C0INCIDENTS")[-1]
    assert last["text"] == "Postmortem draft" and last["files"][0]["id"] == file_id
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
