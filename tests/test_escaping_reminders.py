"""The automatic reminder quotes the latest update, however it was posted, escaped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import FrozenClock
from bot.timers.runner import TimerRunner
from tests.conftest import make_bot
from tests.helpers import incidents


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def tbot(db_url, standin, clock):
    yield from make_bot(db_url, standin, clock=clock)


def _fire(bot, clock, minutes: int) -> list[dict]:
    clock.advance(minutes=minutes)
    TimerRunner(bot.rt).tick()
    bot.settle()
    room = incidents(bot.rt)[-1].channel_id
    return [m for m in bot.slack.messages(room) if "(automatic)" in m["text"]]


def _latest(message: dict) -> str:
    fields = [f["text"] for b in message["blocks"] for f in b.get("fields", [])]
    return next(f for f in fields if f.startswith("*Latest update*"))


@pytest.mark.parametrize("status", ["investigating", "identified"])
def test_an_update_from_the_form_is_the_next_reminders_latest_update(tbot, clock, status) -> None:
    tbot.cmd("declare P2 Search slow")
    [inc] = incidents(tbot.rt)
    [first] = _fire(tbot, clock, 60)
    assert "_none posted yet_" in _latest(first)
    reminder = next(m for m in tbot.slack.messages(inc.channel_id) if "post_update" in str(m))
    tbot.driver.press(inc.channel_id, reminder["ts"], "post_update", "U0BOB")
    tbot.settle()
    view = next(v for v in tbot.slack.views.values() if v["callback_id"] == "update_modal")
    values = {
        "status": {"status": status},
        "progress": {"progress": "Rolled back R&D <search> to v41"},
        "next_update": {"next_update": "30"},
    }
    assert tbot.driver.submit_view("U0BOB", view, values).status == 200
    tbot.settle()
    autos = _fire(tbot, clock, 60)
    assert len(autos) == 2
    assert _latest(autos[-1]) == "*Latest update*\nRolled back R&amp;D &lt;search&gt; to v41"


def test_a_slash_update_is_the_next_reminders_latest_update(tbot, clock) -> None:
    tbot.cmd("declare P2 Search slow")
    [inc] = incidents(tbot.rt)
    tbot.cmd("update Rolled back R&D <search> to v41", channel=inc.channel_id)
    [auto] = _fire(tbot, clock, 60)
    assert _latest(auto) == "*Latest update*\nRolled back R&amp;D &lt;search&gt; to v41"
