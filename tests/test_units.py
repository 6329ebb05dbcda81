"""Unit tests: severity parsing, channel naming, the state machine, mentions, policy loading."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot import messages
from bot.config import ConfigError, Policy, load_policy, load_settings
from bot.errors import UserError
from bot.incident.naming import MAX_CHANNEL, channel_name, slugify
from bot.incident.states import InvalidTransition, UnknownStatus, check_transition, parse_status
from bot.models import Incident
from bot.severity import UnknownSeverity, looks_like_severity, normalize
from commands.base import parse_user


@pytest.mark.parametrize(
    "given,code", [("P0", "P0"), ("p1", "P1"), ("SEV1", "P0"), ("sev4", "P3"), ("SEV-2", "P1")]
)
def test_severity_aliases_map_to_codes(given: str, code: str) -> None:
    assert normalize(given) == code


@pytest.mark.parametrize("given", ["P7", "SEV0", "SEV5", "P"])
def test_unknown_severity_names_the_allowed_ones(given: str) -> None:
    with pytest.raises(UnknownSeverity, match="P0 \\(critical\\)"):
        normalize(given)


def test_severity_shape_detects_typos_but_not_words() -> None:
    assert looks_like_severity("P7") and looks_like_severity("sev9")
    assert not looks_like_severity("Checkout")


def test_slug_folds_accents_and_drops_emoji() -> None:
    assert slugify("Checkout API returns 500s!") == "checkout-api-returns-500s"
    assert slugify("Café façade down 🔥") == "cafe-facade-down"
    assert slugify("支付服务故障") == ""
    assert slugify("🔥🔥🔥") == ""


def test_slug_cuts_at_a_word_boundary() -> None:
    s = slugify("database connection pool exhausted on the primary cluster in eu-west-1")
    assert len(s) <= 40 and not s.endswith("-") and s.startswith("database-connection-pool")


def test_channel_name_follows_slack_rules() -> None:
    d = date(2026, 11, 22)
    assert channel_name("incident", d, 1, "checkout-api") == "incident-2026-11-22-001-checkout-api"
    assert channel_name("incident", d, 7, "") == "incident-2026-11-22-007"
    assert channel_name("incident", d, 1, "x", suffix=2) == "incident-2026-11-22-001-x-2"
    long = channel_name("incident", d, 1, "a" * 200, suffix=3)
    assert len(long) <= MAX_CHANNEL and long.endswith("-3")


@pytest.mark.parametrize(
    "cur,new",
    [("investigating", "identified"), ("monitoring", "investigating"), ("identified", "resolved")],
)
def test_allowed_transitions(cur: str, new: str) -> None:
    check_transition(cur, new)


def test_same_status_is_refused_with_reason() -> None:
    with pytest.raises(InvalidTransition, match="already"):
        check_transition("identified", "identified")


def test_resolved_only_moves_by_reopen() -> None:
    with pytest.raises(InvalidTransition, match="reopen"):
        check_transition("resolved", "investigating")


def test_unknown_status_lists_the_statuses() -> None:
    with pytest.raises(UnknownStatus, match="investigating, identified"):
        parse_status("fixed")


def test_mentions_parse_escaped_and_refuse_plain_names() -> None:
    assert parse_user("<@U0BOB|bob>", "u") == "U0BOB"
    assert parse_user("<@W0ENT>", "u") == "W0ENT"
    for bad in ("@bob", "bob", "<@>", "<#C123|general>"):
        with pytest.raises(UserError, match="not a user mention"):
            parse_user(bad, "u")


def test_default_policy_matches_runbooks() -> None:
    p = Policy()
    assert p.level("P0").respond == timedelta(minutes=15)
    assert p.level("P0").resolve == timedelta(hours=2)
    assert p.level("P1").resolve == timedelta(hours=8)
    assert p.level("P2").respond == timedelta(hours=4)
    assert p.level("P3").resolve == timedelta(weeks=1)
    assert p.level("P1").update_every == timedelta(minutes=30)
    assert p.level("P2").update_every == timedelta(hours=1)
    assert p.level("P3").update_every is None


def test_bad_policy_fails_with_one_line_naming_the_key(tmp_path) -> None:
    f = tmp_path / "policy.yaml"
    f.write_text(
        "severities:\n  P0: {label: X, respond_minutes: -5, resolve_minutes: 1}\n"
        "  P1: {label: X, respond_minutes: 1, resolve_minutes: 1}\n"
        "  P2: {label: X, respond_minutes: 1, resolve_minutes: 1}\n"
        "  P3: {label: X, respond_minutes: 1, resolve_minutes: 1}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_policy(str(f))
    msg = str(e.value)
    assert "\n" not in msg and "severities.P0.respond_minutes" in msg and "greater than 0" in msg


def test_policy_refuses_unknown_keys_and_timezones(tmp_path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("timezone: Mars/Olympus\n")
    with pytest.raises(ConfigError, match="timezone: unknown timezone 'Mars/Olympus'"):
        load_policy(str(f))
    f.write_text("annoucement_channel: ops\n")
    with pytest.raises(ConfigError, match="annoucement_channel: Extra inputs"):
        load_policy(str(f))


def test_bad_environment_value_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    with pytest.raises(ConfigError, match="DATABASE_URL: use sqlite"):
        load_settings()
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("PORT", "99999")
    with pytest.raises(ConfigError, match="PORT"):
        load_settings()


def test_alert_template_has_the_runbook_fields() -> None:
    p = Policy()
    inc = Incident(
        id=1,
        day=date(2026, 11, 22),
        seq=1,
        title="Checkout down",
        slug="checkout-down",
        severity="P1",
        status="investigating",
        impact="Payments fail",
        reporter_id="U0ALICE",
        declared_at=datetime(2026, 11, 22, 14, 0, tzinfo=UTC),
        channel_id="C9",
        lead_id=None,
    )
    text, blocks = messages.alert(inc, p.level("P1"), p.tz, None)
    flat = str(blocks)
    for field in ("Severity", "Title", "Impact", "Status", "Lead", "War room"):
        assert f"*{field}*" in flat
    assert "take_lead" in flat and "INCIDENT ALERT" in text
    inc.lead_id = "U0BOB"
    _, blocks = messages.alert(inc, p.level("P1"), p.tz, None)
    assert "take_lead" not in str(blocks) and "<@U0BOB>" in str(blocks)


def test_section_text_is_cut_to_slack_limit() -> None:
    b = messages.section("x" * 5000)
    assert len(b["text"]["text"]) == 3000
