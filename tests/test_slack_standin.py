"""The Slack stand-in and driver, exercised through the real slack_sdk clients and a signed wire."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver
from standins.slack.state import SlackError

TOKEN = "xoxb-sandbox"
SECRET = "standin-test-secret"
TS_RE = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as s:
        yield s


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def error_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value.response["error"]


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


# ------------------------------------------------------------------------------- driver
class Receiver:
    """A tiny HTTP/1.1 endpoint that records requests and checks Slack signatures."""

    def __init__(self, close_after_response: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.verifier = SignatureVerifier(SECRET)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                valid = outer.verifier.is_valid_request(body, headers)
                outer.requests.append(
                    {
                        "path": self.path,
                        "headers": headers,
                        "body": body,
                        "port": self.client_address[1],
                        "valid": valid,
                    }
                )
                reply = json.dumps({"ok": valid}).encode()
                self.send_response(200 if valid else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                # Simulates a server dropping an idle keep-alive connection without notice.
                self.close_connection = close_after_response

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def payload(self, index: int = -1) -> dict[str, Any]:
        return json.loads(parse_qs(self.requests[index]["body"].decode())["payload"][0])

    def form(self, index: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[index]["body"].decode()).items()}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def driver(receiver: Receiver, slack: SlackStandIn) -> SlackDriver:
    return SlackDriver(bot_url=receiver.url, signing_secret=SECRET, standin=slack)


def test_command_is_signed_and_slack_shaped(
    slack: SlackStandIn, receiver: Receiver, driver: SlackDriver
) -> None:
    got = driver.command(
        "declare P1 Checkout API returns 500s", user="U0ALICE", channel="C0GENERAL"
    )
    assert got.status == 200 and got.json == {"ok": True} and got.elapsed > 0
    req = receiver.requests[0]
    assert req["valid"] and req["path"] == "/slack/events"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = receiver.form()
    assert form["command"] == "/incident" and form["text"] == "declare P1 Checkout API returns 500s"
    assert (form["user_id"], form["user_name"]) == ("U0ALICE", "alice")
    assert (form["channel_id"], form["channel_name"], form["team_id"]) == (
        "C0GENERAL",
        "general",
        "T0WARROOM",
    )
    assert form["response_url"].startswith(slack.base_url + "/response/")
    assert len(form["trigger_id"].split(".")) == 3
    WebhookClient(form["response_url"]).send(text="Declared")
    assert slack.ephemerals(user="U0ALICE")[0]["text"] == "Declared"


def test_bad_signature_and_stale_timestamp(receiver: Receiver, driver: SlackDriver) -> None:
    assert driver.command("help", user="U0BOB", channel="C0GENERAL", sign=False).status == 401
    stale = int(time.time()) - 600
    assert driver.url_verification("abc", timestamp=stale).status == 401
    req = receiver.requests[-1]
    # Correctly signed for that old timestamp: only the replay window rejects it.
    expected = receiver.verifier.generate_signature(timestamp=str(stale), body=req["body"])
    assert req["headers"]["X-Slack-Signature"] == expected
    assert req["headers"]["X-Slack-Request-Timestamp"] == str(stale)
    assert driver.url_verification("abc").status == 200


def test_events_envelope_and_retry_headers(receiver: Receiver, driver: SlackDriver) -> None:
    event = {"type": "app_mention", "user": "U0BOB", "text": "<@U0WARROOM> status"}
    driver.event(event, retry_num=1, retry_reason="http_timeout")
    driver.event(event, event_id="Ev0FIXED")
    first, second = (json.loads(r["body"]) for r in receiver.requests)
    assert first["type"] == "event_callback" and first["event"] == event
    assert first["event_id"].startswith("Ev") and second["event_id"] == "Ev0FIXED"
    assert first["team_id"] == "T0WARROOM" and isinstance(first["event_time"], int)
    assert receiver.requests[0]["headers"]["X-Slack-Retry-Num"] == "1"
    assert receiver.requests[0]["headers"]["X-Slack-Retry-Reason"] == "http_timeout"
    assert "X-Slack-Retry-Num" not in receiver.requests[1]["headers"]
    assert all(r["valid"] for r in receiver.requests)


def test_keep_alive_and_reconnect(receiver: Receiver, driver: SlackDriver) -> None:
    for _ in range(5):
        assert driver.url_verification("x").status == 200
    assert len({r["port"] for r in receiver.requests}) == 1  # one persistent connection
    dropping = Receiver(close_after_response=True)
    try:
        flaky = SlackDriver(bot_url=dropping.url, signing_secret=SECRET)
        for _ in range(4):
            assert flaky.url_verification("x").status == 200
        assert len({r["port"] for r in dropping.requests}) == 4
    finally:
        dropping.close()


def test_driver_connections_are_per_thread(receiver: Receiver, driver: SlackDriver) -> None:
    statuses: list[int] = []

    def burst() -> None:
        for _ in range(5):
            statuses.append(driver.url_verification("x").status)

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 20 and all(r["valid"] for r in receiver.requests)
    assert len({r["port"] for r in receiver.requests}) == 4


def test_press_finds_buttons(slack: SlackStandIn, receiver: Receiver, driver: SlackDriver) -> None:
    blocks = [
        {
            "type": "section",
            "block_id": "summary",
            "text": {"type": "mrkdwn", "text": "P1"},
            "accessory": {
                "type": "button",
                "action_id": "ack",
                "value": "inc-7",
                "text": {"type": "plain_text", "text": "Ack"},
            },
        },
        {
            "type": "actions",
            "block_id": "controls",
            "elements": [
                {
                    "type": "button",
                    "action_id": "resolve",
                    "value": "inc-7:resolve",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Resolve"},
                }
            ],
        },
    ]
    ts = slack.call_method(
        "chat.postMessage", {"channel": "C0INCIDENTS", "text": "P1", "blocks": blocks}
    )["ts"]
    driver.press("C0INCIDENTS", ts, "resolve", user="U0BOB")
    payload = receiver.payload()
    assert payload["type"] == "block_actions" and receiver.requests[-1]["valid"]
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "resolve",
        "controls",
        "inc-7:resolve",
        "button",
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0INCIDENTS",
        "is_ephemeral": False,
    }
    assert payload["user"]["username"] == "bob" and payload["channel"]["name"] == "incidents"
    assert payload["message"]["blocks"] == blocks and payload["message"]["ts"] == ts
    driver.press("C0INCIDENTS", ts, "ack", user="U0BOB")
    assert receiver.payload()["actions"][0]["block_id"] == "summary"
    # The response_url is tied to the clicked message, so replace_original edits it.
    WebhookClient(receiver.payload()["response_url"]).send(text="Acked", replace_original=True)
    assert slack.message("C0INCIDENTS", ts)["text"] == "Acked"
    with pytest.raises(LookupError):
        driver.press("C0INCIDENTS", ts, "escalate", user="U0BOB")
    with pytest.raises(LookupError):
        driver.press("C0INCIDENTS", "1.000001", "ack", user="U0BOB")


def test_submit_view_builds_typed_state(
    slack: SlackStandIn, receiver: Receiver, driver: SlackDriver
) -> None:
    view = {
        "type": "modal",
        "callback_id": "declare",
        "private_metadata": '{"channel": "C0GENERAL"}',
        "title": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
            {
                "type": "input",
                "block_id": "sev",
                "element": {
                    "type": "static_select",
                    "action_id": "v",
                    "options": [
                        {"text": {"type": "plain_text", "text": "P1 - critical"}, "value": "P1"},
                        {"text": {"type": "plain_text", "text": "P2 - major"}, "value": "P2"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "lead",
                "element": {"type": "users_select", "action_id": "v"},
            },
            {
                "type": "input",
                "block_id": "notes",
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
        ],
    }
    opened = slack.call_method("views.open", {"trigger_id": "1.2.3", "view": view})["view"]
    driver.submit_view(
        "U0CAROL",
        opened,
        {"title": {"v": "Checkout down"}, "sev": {"v": "P1"}, "lead": {"v": "U0DAN"}},
    )
    payload = receiver.payload()
    assert payload["type"] == "view_submission" and receiver.requests[-1]["valid"]
    submitted = payload["view"]
    assert submitted["id"] == opened["id"] and submitted["callback_id"] == "declare"
    assert submitted["private_metadata"] == '{"channel": "C0GENERAL"}'
    assert submitted["state"]["values"] == {
        "title": {"v": {"type": "plain_text_input", "value": "Checkout down"}},
        "sev": {
            "v": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "P1 - critical"},
                    "value": "P1",
                },
            }
        },
        "lead": {"v": {"type": "users_select", "selected_user": "U0DAN"}},
        "notes": {"v": {"type": "plain_text_input", "value": None}},
    }
    assert payload["user"]["id"] == "U0CAROL"


def test_shortcuts(receiver: Receiver, driver: SlackDriver, slack: SlackStandIn) -> None:
    ts = slack.user_post("C0GENERAL", "U0ALICE", "db is on fire")
    driver.message_shortcut(
        "declare_from_message", user="U0BOB", channel="C0GENERAL", message_ts=ts
    )
    msg_action = receiver.payload()
    assert (
        msg_action["type"] == "message_action"
        and msg_action["callback_id"] == "declare_from_message"
    )
    assert msg_action["message"]["text"] == "db is on fire" and msg_action["trigger_id"]
    driver.global_shortcut("declare", user="U0BOB")
    shortcut = receiver.payload()
    assert (shortcut["type"], shortcut["callback_id"]) == ("shortcut", "declare")
    assert all(r["valid"] for r in receiver.requests)


def test_forward_events_to_bot(
    slack: SlackStandIn, receiver: Receiver, driver: SlackDriver
) -> None:
    driver.forward_events_to_bot()
    ts = slack.user_post("C0INCIDENTS", "U0ALICE", "root cause found")
    slack.user_pin("C0INCIDENTS", ts, "U0BOB")
    slack.user_react("C0INCIDENTS", ts, "U0CAROL", "pushpin")
    assert slack.drain_events()
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["event"]["type"] for b in bodies] == ["message", "pin_added", "reaction_added"]
    assert bodies[1]["event"]["item"]["message"]["text"] == "root cause found"
    assert all(r["valid"] for r in receiver.requests)
    assert len({b["event_id"] for b in bodies}) == 3
