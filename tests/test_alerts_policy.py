"""The alerts policy says what is wrong at start; the door's checks are pure and constant-time."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import ValidationError

from bot.alerts.auth import admitted
from bot.alerts.policy import SourceAuth
from bot.alerts.sources.alertmanager import Alertmanager
from bot.alerts.sources.base import BadPayload
from bot.config import Policy


def _route(**kw):
    return {"alerts": {"routes": [{"name": "r", **kw}]}}


def test_a_route_naming_a_service_missing_from_the_catalog_is_refused_with_the_known_names():
    with pytest.raises(ValidationError, match="no service 'checkuot' \\(known: checkout\\)"):
        Policy(services={"checkout": {}}, **_route(service="checkuot"))
    assert Policy(services={"checkout": {}}, **_route(service="checkout")).alerts.routes


@pytest.mark.parametrize(
    "bad,reason",
    [
        (_route(match_re={"service": "("}), "not a regular expression"),
        (_route(action="page"), "action"),
        (_route(severity="P7"), "severity"),
        ({"alerts": {"routes": [{"name": "a"}, {"name": "a"}]}}, "unique"),
        ({"alerts": {"sources": {"alertmanager": {"kind": "bearer"}}}}, "secret_env"),
        ({"alerts": {"sources": {"nagios": {"kind": "bearer", "secret": "x"}}}}, "nagios"),
    ],
)
def test_bad_alert_policies_fail_at_start(bad, reason):
    with pytest.raises(ValidationError, match=reason):
        Policy(**bad)


def test_routes_match_equality_and_whole_regex_first_match_wins():
    p = Policy(
        alerts={
            "routes": [
                {"name": "a", "match": {"env": "prod"}, "match_re": {"service": "check.*"}},
                {"name": "b", "match_re": {"service": "check"}},
            ]
        }
    ).alerts
    assert p.route_for("alertmanager", {"env": "prod", "service": "checkout"}).name == "a"
    assert p.route_for("alertmanager", {"env": "dev", "service": "checkout"}) is None
    assert p.route_for("alertmanager", {"service": "check"}).name == "b"


def test_secret_from_environment_and_hmac_with_timestamp(monkeypatch):
    monkeypatch.setenv("GRAFANA_WEBHOOK_KEY", "k3y")
    auth = SourceAuth(
        kind="hmac", secret_env="GRAFANA_WEBHOOK_KEY", header="X-Sig", timestamp_header="X-Ts"
    )
    body = b'{"a":1}'
    sig = hmac.new(b"k3y", b"1000:" + body, hashlib.sha256).hexdigest()
    assert admitted(auth, {"x-sig": sig, "x-ts": "1000"}, body, now=1100)
    assert not admitted(auth, {"x-sig": sig, "x-ts": "1000"}, body, now=2000)  # stale
    assert not admitted(auth, {"x-sig": sig, "x-ts": "1000"}, body + b" ", now=1100)
    assert not admitted(auth, {"x-sig": sig}, body, now=1100)
    monkeypatch.delenv("GRAFANA_WEBHOOK_KEY")
    assert not admitted(auth, {"x-sig": sig, "x-ts": "1000"}, body, now=1100)  # no key: no entry


def test_alertmanager_nanosecond_times_and_zero_end_are_read():
    doc = {
        "version": "4",
        "groupKey": "g",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "A"},
                "startsAt": "2018-08-03T09:52:26.739266876+02:00",
                "endsAt": "0001-01-01T00:00:00Z",
            }
        ],
    }
    [a] = Alertmanager().parse(doc, 10).alerts
    assert a.starts_at.isoformat() == "2018-08-03T07:52:26.739266+00:00" and a.ends_at is None
    assert len(a.fingerprint) == 16  # none given: one from the labels
    with pytest.raises(BadPayload, match="at most 0"):
        Alertmanager().parse(doc, 0)


def test_basic_auth_needs_a_username_and_only_basic_takes_one():
    with pytest.raises(ValidationError, match="username"):
        SourceAuth(kind="basic", secret="x")
    with pytest.raises(ValidationError, match="username"):
        SourceAuth(kind="bearer", secret="x", username="am")
