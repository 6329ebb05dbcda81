"""Slack's rate tiers on the stand-in (HTTP 429 + Retry-After), and the bot through a burst of
declarations that runs into them: every war room still ends ready, none reported failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from standins.slack.api import RateLimits, SlackStandIn
from standins.slack.scopes import EVERY_SCOPE
from tests.conftest import make_bot
from tests.helpers import incidents, kinds


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[SlackStandIn]:
    limits = RateLimits(clock=clock)
    with SlackStandIn(scopes=EVERY_SCOPE, rate_limits=limits) as s:
        yield s


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.token, base_url=slack.api_url)  # no retry on 429


def retry_after(call, **kwargs) -> int:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    response = info.value.response
    assert (response.status_code, response["error"]) == (429, "ratelimited")
    return int(response.headers["Retry-After"])


def test_tier_2_allows_20_a_minute_then_answers_429(
    slack: SlackStandIn, client: WebClient, clock: FakeClock
) -> None:
    for i in range(20):
        client.conversations_create(name=f"inc-{i}")
    clock.now += 30
    assert retry_after(client.conversations_create, name="inc-20") == 30
    assert slack.channel_by_name("inc-20") is None  # a 429 changes nothing
    client.pins_list(channel="C0GENERAL")  # other methods have windows of their own
    clock.now += 30
    client.conversations_create(name="inc-20")


def test_tiers_differ_by_method(client: WebClient, clock: FakeClock) -> None:
    for _ in range(50):
        client.conversations_info(channel="C0GENERAL")  # Tier 3
    assert retry_after(client.conversations_info, channel="C0GENERAL") == 60
    for _ in range(100):
        client.users_info(user="U0ALICE")  # Tier 4
    assert retry_after(client.users_info, user="U0ALICE") == 60


def test_post_message_is_paced_per_channel_with_a_short_burst(
    client: WebClient, clock: FakeClock
) -> None:
    for i in range(3):
        client.chat_postMessage(channel="C0GENERAL", text=f"burst {i}")
    assert retry_after(client.chat_postMessage, channel="C0GENERAL", text="one too many") == 1
    client.chat_postMessage(channel="C0INCIDENTS", text="another channel is not held up")
    clock.now += 1.0
    client.chat_postMessage(channel="C0GENERAL", text="a second later")


def test_scale_shortens_the_minute_but_retry_after_stays_whole_seconds() -> None:
    clock = FakeClock()
    limits = RateLimits(scale=20, clock=clock)  # a "minute" of 3 s
    assert all(limits.check("pins.add") is None for _ in range(20))
    assert limits.check("pins.add") == 3
    clock.now += 2.9
    assert limits.check("pins.add") == 1  # 0.1 s left, answered as Slack would: 1
    clock.now += 0.1
    assert limits.check("pins.add") is None


def test_limits_are_off_unless_asked_for() -> None:
    with SlackStandIn(scopes=EVERY_SCOPE) as slack:
        client = WebClient(token=slack.token, base_url=slack.api_url)
        for i in range(25):
            client.conversations_create(name=f"inc-{i}")
        assert slack.rate_limits is None


def test_a_burst_of_100_declarations_ends_with_100_ready_war_rooms(db_url: str) -> None:
    limits = RateLimits(scale=20)  # Slack's tiers with a 3-second minute
    with SlackStandIn(token="xoxb-sandbox", rate_limits=limits) as slack:
        for bot in make_bot(db_url, slack):
            for i in range(100):
                r = bot.driver.command(
                    f"declare P2 Burst {i:03d} checkout errors", "U0BOB", "C0GENERAL"
                )
                assert r.status == 200, r.body

            def all_settled(rt=bot.rt) -> bool:  # ready and pinned, or reported failed
                done = incidents(rt)
                return len(done) == 100 and all(
                    (i.ready_at and i.alert_pinned) or i.setup_error for i in done
                )

            assert slack.wait_for(all_settled, timeout=240), "war room setups did not finish"
            bot.settle()
            assert limits.limited > 0, "the burst never met a rate limit"
            rooms = incidents(bot.rt)
            assert len({i.channel_id for i in rooms}) == 100
            for inc in rooms:
                assert inc.setup_error is None
                assert "war_room_failed" not in kinds(bot.rt, inc.id)
                room = slack.channel(inc.channel_id)
                assert "P2" in room["topic"] and inc.number in room["purpose"]
                assert "U0BOB" in room["members"]
                assert slack.message(inc.channel_id, inc.alert_ts)["pinned"]
            announced = [m for m in slack.messages("C0INCIDENTS") if m.get("bot_id")]
            assert len(announced) == 100
