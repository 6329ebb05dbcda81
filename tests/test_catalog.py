"""Declaring for a catalog service over the real wire: the prefix, --service, the form's select,
inference from a message; its owners invited and escalated to; its service on the alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.clock import FrozenClock
from bot.config import KubernetesTarget, Policy, PostgresTarget, RedisTarget, Targets
from bot.timers.runner import TimerRunner
from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import load_demo
from tests.conftest import make_bot
from tests.helpers import events, incidents

SERVICES = {
    "checkout": {
        "title": "Checkout API",
        "namespace": "shop",
        "workloads": ["deployment/checkout"],
        "postgres": "shop-db",
        "redis": ["shop-cache"],
        "health": ["checkout"],
        "owners": ["U0DAN", "S0SRE"],
        "playbooks": ["outage"],
        "aliases": ["co"],
    },
    "payments": {
        "namespace": "shop",
        "workloads": ["deployment/payments"],
        "aliases": ["pay"],
        "keywords": ["card payments"],
    },
    "storefront": {"namespace": "shop", "workloads": ["deployment/checkout", "deploy/payments"]},
}


def policy_for(k8s_url: str = "http://127.0.0.1:9") -> Policy:
    return Policy(
        targets=Targets(
            kubernetes=KubernetesTarget(host=k8s_url, namespaces=["shop"]),
            postgres={"shop-db": PostgresTarget(dsn="postgresql://nobody@127.0.0.1:1/shop")},
            redis={"shop-cache": RedisTarget(url="redis://127.0.0.1:1/0")},
            http={"checkout": "http://127.0.0.1:1/healthz"},
        ),
        services=SERVICES,
    )


@pytest.fixture
def cbot(db_url, standin) -> Iterator:
    standin.add_usergroup("S0SRE", ["U0CAROL"])
    yield from make_bot(db_url, standin, policy_for())


def _alert(bot, inc) -> str:
    """The alert's fields as one text: `*Service*\ncheckout` and so on."""
    alert = next(m for m in bot.slack.messages(inc.channel_id) if m.get("ts") == inc.alert_ts)
    return "\n".join(f["text"] for b in alert["blocks"] for f in b.get("fields", []))


def test_prefix_binds_the_service_invites_its_owners_and_the_alert_shows_it(cbot) -> None:
    r = cbot.cmd("declare P1 checkout: Checkout API returns 500s")
    assert "for service `checkout`" in r.json["text"]
    [inc] = incidents(cbot.rt)
    assert (inc.service, inc.type, inc.title) == ("checkout", None, "Checkout API returns 500s")
    members = set(cbot.slack.channel(inc.channel_id)["members"])
    assert {"U0ALICE", "U0DAN", "U0CAROL"} <= members  # reporter, owner, owner group's member
    assert "U0BOB" not in members
    assert "*Service*\ncheckout" in _alert(cbot, inc)
    [announce] = [m for m in cbot.slack.messages("C0INCIDENTS") if m.get("bot_id")]
    assert "Service: checkout" in str(announce["blocks"])
    ready = next(e for e in events(cbot.rt, inc.id) if e.kind == "war_room_ready")
    assert "<@U0DAN>" in ready.text and "<@U0CAROL>" in ready.text
    declared = next(e for e in events(cbot.rt, inc.id) if e.kind == "declared")
    assert declared.data["service"] == "checkout"


def test_an_incident_without_a_service_invites_no_owner(cbot) -> None:
    cbot.cmd("declare P1 Search is slow")
    [inc] = incidents(cbot.rt)
    assert inc.service is None
    assert "U0DAN" not in cbot.slack.channel(inc.channel_id)["members"]
    assert "*Service*\n—" in _alert(cbot, inc)


@pytest.mark.parametrize(
    "text,service,kind,title",
    [
        ("declare P2 Cart totals wrong --service pay --type data", "payments", "data", None),
        ("declare --service=checkout --type=outage P1 Checkout down", "checkout", "outage", None),
        ("declare P1 CO: Checkout down", "checkout", None, "Checkout down"),
        ("declare P1 co: Checkout down --service checkout", "checkout", None, "Checkout down"),
        ("declare P1 DB: slow queries", None, None, "DB: slow queries"),
        ("declare P1 database: slow queries", None, None, "database: slow queries"),
        ("declare P1 -- checkuot: is a typo we keep", None, None, "checkuot: is a typo we keep"),
        ("declare P1 Deploy --types flag breaks", None, None, "Deploy --types flag breaks"),
    ],
)
def test_service_and_type_from_the_command(cbot, text, service, kind, title) -> None:
    r = cbot.cmd(text)
    assert "Declared" in r.json["text"], r.json["text"]
    [inc] = incidents(cbot.rt)
    assert (inc.service, inc.type) == (service, kind)
    if title:
        assert inc.title == title


@pytest.mark.parametrize(
    "text,expect",
    [
        ("declare P1 --service billing Invoices late", "`billing` is not a service"),
        ("declare P1 checkuot: Checkout down", "did you mean `checkout`"),
        ("declare P1 Checkout down --type outag", "`outag` is not an incident type"),
        ("declare P1 pay: Cards declined --service checkout", "give one"),
        ("declare P1 --sevice checkout Checkout down", "is not an option of declare"),
        ("declare P1 Checkout down --service", "needs a value"),
        ("declare P1 --service <b>&x Checkout down", "`&lt;b&gt;&amp;x` is not a service"),
    ],
)
def test_bad_service_or_type_is_refused_with_the_known_ones(cbot, text, expect) -> None:
    r = cbot.cmd(text)
    assert expect in r.json["text"], r.json["text"]
    if "service" in expect or "did you mean" in expect:
        assert "Known services: `checkout`, `payments`, `storefront`." in r.json["text"]
    if "incident type" in expect:
        assert "`outage`" in r.json["text"] and "`security`" in r.json["text"]
    assert incidents(cbot.rt) == []
    assert cbot.slack.calls_to("conversations.create") == []


def test_a_service_named_without_a_catalog_says_there_is_none(db_url, standin) -> None:
    for bot in make_bot(db_url, standin):
        r = bot.cmd("declare P1 --service checkout Checkout down")
        assert "no service catalog" in r.json["text"]
        bot.cmd("declare P1 checkout: Checkout down")  # no catalog: the colon is the title's
        [inc] = incidents(bot.rt)
        assert (inc.title, inc.service) == ("checkout: Checkout down", None)


def _select(view: dict, block_id: str) -> dict | None:
    return next((b["element"] for b in view["blocks"] if b.get("block_id") == block_id), None)


def test_a_service_prefix_with_no_title_opens_the_form_with_it_chosen(cbot) -> None:
    cbot.cmd("declare P0 checkout:")
    [view] = list(cbot.slack.views.values())
    assert _select(view, "service")["initial_option"]["value"] == "checkout"
    assert _select(view, "severity")["initial_option"]["value"] == "P0"
    assert incidents(cbot.rt) == []


def test_the_form_selects_a_service_and_a_type(cbot) -> None:
    cbot.cmd("declare P1 --service checkout")
    [view] = list(cbot.slack.views.values())
    service = _select(view, "service")
    assert [o["value"] for o in service["options"]] == ["checkout", "payments", "storefront"]
    assert service["initial_option"]["value"] == "checkout"
    assert "outage" in [o["value"] for o in _select(view, "type")["options"]]
    r = cbot.driver.submit_view(
        "U0BOB",
        view,
        {
            "title": {"title": "Payments time out"},
            "severity": {"severity": {"selected_option": {"value": "P1"}}},
            "impact": {"impact": ""},
            "service": {"service": {"selected_option": {"value": "payments"}}},
            "type": {"type": {"selected_option": {"value": "performance"}}},
        },
    )
    assert r.status == 200
    cbot.settle()
    [inc] = incidents(cbot.rt)
    assert (inc.service, inc.type, inc.reporter_id) == ("payments", "performance", "U0BOB")


@pytest.mark.parametrize(
    "message,inferred",
    [
        ("Card payments are failing since 10:02", "payments"),
        ("deployment/checkout crash-loops again", "checkout"),
        ("checkout and payments both return 502", None),  # two services: no guess
        ("checkouts are slow today", None),  # whole words only
        ("Search is slow", None),
    ],
)
def test_declare_from_a_message_preselects_the_one_service_it_names(
    cbot, message, inferred
) -> None:
    ts = cbot.slack.user_post("C0GENERAL", "U0CAROL", message)
    cbot.driver.message_shortcut("declare_from_message", "U0CAROL", "C0GENERAL", ts)
    cbot.settle()
    [view] = list(cbot.slack.views.values())
    chosen = _select(view, "service").get("initial_option")
    assert (chosen or {}).get("value") == inferred
    assert incidents(cbot.rt) == []  # the form declares; the shortcut only fills it in


def test_escalation_calls_the_services_owners(db_url, standin) -> None:
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    standin.add_usergroup("S0SRE", ["U0CAROL"])
    for bot in make_bot(db_url, standin, policy_for(), clock=clock):
        bot.cmd("declare P1 checkout: Checkout API returns 500s")
        [inc] = incidents(bot.rt)
        clock.advance(hours=1)  # P1's response time passes with no lead
        TimerRunner(bot.rt).tick()
        bot.settle()
        [esc] = [m["text"] for m in bot.slack.messages(inc.channel_id) if "Escalation" in m["text"]]
        assert "<@U0DAN>" in esc and "<!subteam^S0SRE>" in esc


# /incident run in a service's war room ------------------------------------------------------


@pytest.fixture
def k8s() -> Iterator[K8sStandIn]:
    k = K8sStandIn().start()
    load_demo(k)
    yield k
    k.stop()


@pytest.fixture
def kbot(db_url, standin, k8s) -> Iterator:
    for bot in make_bot(db_url, standin, policy_for(k8s.url)):
        bot.cmd("declare P1 checkout: Checkout API returns 500s")
        bot.room = incidents(bot.rt)[0].channel_id
        bot.k8s = k8s
        yield bot


def _requests(bot):
    from sqlalchemy import select

    from bot.models import ActionRequest

    with bot.rt.db.read() as s:
        return list(s.scalars(select(ActionRequest).order_by(ActionRequest.id)))


def test_run_pods_with_no_target_means_the_services_deployment(kbot) -> None:
    # S0SRE is unknown to this workspace: its owners are skipped, the war room still opens.
    assert "U0DAN" in kbot.slack.channel(kbot.room)["members"]
    r = kbot.cmd("run pods", channel=kbot.room)
    text = r.json["text"]
    assert "waiting for approval" in text
    assert "Defaults from service `checkout`: `deployment/checkout -n shop`" in text
    [req] = _requests(kbot)
    assert req.params["deployment"] == "checkout" and req.params["namespace"] == "shop"
    kbot.driver.press(kbot.room, req.message_ts, "approve_action", "U0BOB")
    kbot.settle()
    [req] = _requests(kbot)
    assert req.state == "succeeded" and req.summary == "3 pod(s), 3 not ready"


def test_what_was_typed_wins_over_the_services_defaults(kbot) -> None:
    r = kbot.cmd("run pods deployment/payments", channel=kbot.room)
    assert "waiting for approval" in r.json["text"]
    assert "Defaults from service `checkout`: `-n shop`" in r.json["text"]
    [req] = _requests(kbot)
    assert req.params["deployment"] == "payments"


@pytest.mark.parametrize(
    "command,param,value",
    [
        ("run pg-locks --limit 5", "target", "shop-db"),
        ("run redis-info", "target", "shop-cache"),
        ("run health --samples 2", "target", "checkout"),
        ("run rollout-history", "deployment", "checkout"),
        ("run events", "name", "checkout"),
    ],
)
def test_targets_left_out_come_from_the_service(kbot, command, param, value) -> None:
    r = kbot.cmd(command, channel=kbot.room)
    assert "Defaults from service `checkout`" in r.json["text"], r.json["text"]
    [req] = _requests(kbot)
    assert req.params[param] == value


def test_restart_with_no_target_previews_the_services_deployment(kbot) -> None:
    r = kbot.cmd("restart", channel=kbot.room)
    assert "Preparing the `restart` preview" in r.json["text"]
    assert "`deployment/checkout -n shop`" in r.json["text"]
    [req] = _requests(kbot)
    assert (req.params["kind"], req.params["name"]) == ("deployment", "checkout")


def test_an_incident_without_a_service_gets_no_defaults(db_url, standin, k8s) -> None:
    for bot in make_bot(db_url, standin, policy_for(k8s.url)):
        bot.cmd("declare P1 Search is slow")
        room = incidents(bot.rt)[0].channel_id
        r = bot.cmd("run pods", channel=room)
        assert "Defaults" not in r.json["text"]
        [req] = _requests(bot)
        assert "deployment" not in req.params  # the whole namespace, as before
        r = bot.cmd("run pg-locks", channel=room)
        assert "Usage" in r.json["text"]


def test_logs_with_no_target_read_the_services_deployment(kbot) -> None:
    r = kbot.cmd("run logs --tail 5", channel=kbot.room)
    assert "Defaults from service `checkout`: `deployment/checkout -n shop`" in r.json["text"]
    [req] = _requests(kbot)
    assert req.params["deployment"] == "checkout" and req.params["namespace"] == "shop"
    pod = next(
        p["metadata"]["name"]
        for p in kbot.k8s.objects("Pod", "shop")
        if "checkout" in p["metadata"]["name"]
    )
    r = kbot.cmd(f"run logs pod/{pod}", channel=kbot.room)
    assert "Defaults from service `checkout`: `-n shop`" in r.json["text"]
    assert _requests(kbot)[1].params["pod"] == pod


def test_a_service_with_two_deployments_asks_which(db_url, standin, k8s) -> None:
    for bot in make_bot(db_url, standin, policy_for(k8s.url)):
        bot.cmd("declare P1 storefront: Shop is down")
        room = incidents(bot.rt)[0].channel_id
        r = bot.cmd("restart", channel=room)
        assert (
            "Service `storefront` has several deployments (`checkout`, `payments`)"
            in (r.json["text"])
        )
        assert "/incident restart deployment/&lt;name&gt;" in r.json["text"]
        assert _requests(bot) == []


def test_the_sandbox_catalog_has_checkout_in_shop_with_its_database_and_cache() -> None:
    import io

    from standins.sandbox.terminal import play

    out = io.StringIO()
    lines = [
        "/incident declare P1 checkout: Checkout API returns 500s",
        "/go #incident-*-001-*",
        "/incident run pods",
        "/incident run pg-locks",
        "/incident run redis-info",
    ]
    play(lines, out)
    transcript = out.getvalue()
    assert "Service: checkout" in transcript
    assert "Defaults from service `checkout`: `deployment/checkout -n shop`" in transcript
    assert "Defaults from service `checkout`: `shop-db`" in transcript
    assert "Defaults from service `checkout`: `shop-cache`" in transcript
    assert "Traceback" not in transcript
