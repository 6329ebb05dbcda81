"""Health checks are shown by name and the URL's shape: a secret in the path or in a query
value not named like one (`/ping/<token>`, `?code=…`) never reaches Slack."""

from __future__ import annotations

import json

from bot.config import Policy, Targets
from tests.conftest import make_bot
from tests.helpers import incidents
from tests.test_approvals import requests

TOKEN = "3f9a8b7c6d5e4f3a2b1c9d8e"
CODE = "Zq7xKp2mWv"
URL = f"https://hc.example.test/ping/{TOKEN}?code={CODE}&region=eu"


def test_a_health_check_request_shows_no_secret_part_of_its_url(db_url, standin) -> None:
    policy = Policy(targets=Targets(http={"checkout-ping": URL}))
    for bot in make_bot(db_url, standin, policy):
        bot.cmd("declare P2 Checkout health flapping")
        room = incidents(bot.rt)[0].channel_id
        r = bot.cmd("run health checkout-ping --samples 1", channel=room)
        assert r.status == 200
        [req] = requests(bot)
        msg = bot.slack.message(room, req.message_ts)
        shown = json.dumps(msg, ensure_ascii=False)
        assert "checkout-ping" in shown
        assert "GET https://hc.example.test/ping/…?code=…&amp;region=…" in shown or (
            "GET https://hc.example.test/ping/…?code=…&region=…" in shown
        )
        everything = json.dumps([c.params for c in bot.slack.calls]) + r.body
        assert TOKEN not in everything and CODE not in everything
        assert TOKEN not in req.preview and CODE not in req.preview
