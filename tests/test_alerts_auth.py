"""Alert sources' credentials through the real hook: Alertmanager's http_config basic_auth, and
Grafana's HMAC signature exactly as its contact point makes it (grafana/alerting's
HMACRoundTripper: hex HMAC-SHA256 of `<unix seconds>:<body>`, no prefix)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.alerts.models import Alert
from bot.config import Policy
from tests.alert_payloads import ALERTS_POLICY, am_alert, am_body, grafana_body, post
from tests.conftest import Bot, make_bot

POLICY = {
    **ALERTS_POLICY,
    "sources": {
        "alertmanager": {"kind": "basic", "username": "alertmanager", "secret": "pa:ss w0rd"},
        "grafana": {
            "kind": "hmac",
            "secret": "grafana-key",
            "header": "X-Grafana-Alerting-Signature",
            "timestamp_header": "X-Grafana-Alerting-Signature-Timestamp",
        },
    },
}


@pytest.fixture
def abot(db_url, standin) -> Iterator[Bot]:
    yield from make_bot(db_url, standin, Policy(alerts=POLICY))


def stored(bot: Bot) -> int:
    with bot.rt.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Alert)) or 0)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    "headers",
    [
        basic("alertmanager", "pa:ss w0rd1"),
        basic("alertmanager2", "pa:ss w0rd"),
        basic("alertmanager", ""),
        {"Authorization": "Bearer pa:ss w0rd"},
        {"Authorization": "Basic not base64!"},
        {},
    ],
)
def test_alertmanager_basic_auth_refuses_anything_but_its_user_and_password(abot, headers):
    status, answer = post(abot.url, "alertmanager", am_body(am_alert()), headers)
    assert (status, answer) == (401, {"error": "unauthorized"}) and stored(abot) == 0


def test_alertmanager_basic_auth_admits_its_user_and_password(abot):
    status, answer = post(
        abot.url, "alertmanager", am_body(am_alert()), basic("alertmanager", "pa:ss w0rd")
    )
    assert status == 200 and answer["new"] == 1 and stored(abot) == 1


def _grafana_signed(raw: bytes, key: str, stamp: str) -> dict[str, str]:
    sig = hmac.new(key.encode(), stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {
        "X-Grafana-Alerting-Signature": sig,
        "X-Grafana-Alerting-Signature-Timestamp": stamp,
        "Content-Type": "application/json",
    }


def test_grafana_hmac_with_timestamp_as_grafana_signs_it(abot):
    raw = json.dumps(grafana_body(am_alert(service="search-api"))).encode()
    now = str(int(time.time()))
    status, _ = post(abot.url, "grafana", raw, _grafana_signed(raw, "grafana-key", now))
    assert status == 200 and stored(abot) == 1
    # Replayed ten minutes later, signed with another key, or with the body signed alone.
    old = str(int(time.time()) - 600)
    assert post(abot.url, "grafana", raw, _grafana_signed(raw, "grafana-key", old))[0] == 401
    assert post(abot.url, "grafana", raw, _grafana_signed(raw, "other-key", now))[0] == 401
    alone = hmac.new(b"grafana-key", raw, hashlib.sha256).hexdigest()
    headers = {"X-Grafana-Alerting-Signature": alone, "X-Grafana-Alerting-Signature-Timestamp": now}
    assert post(abot.url, "grafana", raw, headers)[0] == 401
    assert stored(abot) == 1
