"""Kubernetes diagnostics and remediations over the real wire, against the API stand-in through
the official client; runaway-query termination against real PostgreSQL."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select, text

from bot.config import ActionRule, KubernetesTarget, Policy, PostgresTarget, Targets
from bot.models import ActionRequest
from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import load_demo
from tests.conftest import PG_ADMIN, make_bot
from tests.helpers import events, incidents


@pytest.fixture
def k8s() -> Iterator[K8sStandIn]:
    k = K8sStandIn().start()
    load_demo(k)
    yield k
    k.stop()


def _policy(k: K8sStandIn, **kw) -> Policy:
    return Policy(
        targets=Targets(
            kubernetes=KubernetesTarget(host=k.url, namespaces=["shop", "ops"]),
            postgres={"main": PostgresTarget(dsn=PG_ADMIN)},
        ),
        rollout_poll_seconds=0.05,
        **kw,
    )


@pytest.fixture
def kbot(db_url, standin, k8s):
    for bot in make_bot(db_url, standin, _policy(k8s)):
        bot.cmd("declare P1 Checkout API returns 500s")
        bot.room = incidents(bot.rt)[0].channel_id
        bot.k8s = k8s
        yield bot


def requests(bot) -> list[ActionRequest]:
    with bot.rt.db.session() as s:
        return list(s.scalars(select(ActionRequest).order_by(ActionRequest.id)))


def thread_texts(bot, req: ActionRequest) -> list[str]:
    return [
        m["text"]
        for m in bot.slack.messages(bot.room)
        if m.get("thread_ts") == req.message_ts and m["ts"] != req.message_ts
    ]


def approve(bot, req: ActionRequest | None = None, user: str = "U0BOB") -> ActionRequest:
    req = req or requests(bot)[-1]
    bot.driver.press(bot.room, req.message_ts, "approve_action", user)
    bot.settle()
    return next(r for r in requests(bot) if r.id == req.id)


def run(bot, args: str) -> ActionRequest:
    r = bot.cmd(f"run {args}", channel=bot.room)
    assert "waiting for approval" in r.json["text"], r.json["text"]
    return approve(bot)


def test_pods_of_a_crashlooping_deployment(kbot) -> None:
    req = run(kbot, "pods deployment/checkout -n shop")
    assert req.state == "succeeded" and req.summary == "3 pod(s), 3 not ready"
    assert "CrashLoopBackOff" in thread_texts(kbot, req)[0]


def test_logs_of_the_previous_container_and_describe(kbot) -> None:
    pod = next(
        p["metadata"]["name"]
        for p in kbot.k8s.objects("Pod", "shop")
        if p["metadata"]["name"].startswith("checkout")
    )
    req = run(kbot, f"logs pod/{pod} -n shop --previous --tail 20")
    assert req.state == "succeeded"
    assert "panic" in thread_texts(kbot, req)[0].lower()
    req = run(kbot, f"describe pod/{pod} -n shop")
    out = thread_texts(kbot, req)[0]
    assert "Containers:" in out and "restarts 7" in out and "Events:" in out


def test_events_top_and_missing_metrics(kbot) -> None:
    req = run(kbot, "events -n shop --for deployment/checkout")
    assert req.state == "succeeded" and "ScalingReplicaSet" in thread_texts(kbot, req)[0]
    req = run(kbot, "top pods -n shop")
    assert req.state == "succeeded" and "checkout" in thread_texts(kbot, req)[0]
    kbot.k8s.metrics_enabled = False
    req = run(kbot, "top nodes")
    assert req.state == "failed" and "metrics-server" in req.summary


def test_rollout_history_offers_rollback_buttons(kbot) -> None:
    req = run(kbot, "rollout-history deployment/checkout -n shop")
    assert req.summary == "3 revision(s)"
    [result] = [
        m
        for m in kbot.slack.messages(kbot.room)
        if m.get("thread_ts") == req.message_ts and m["ts"] != req.message_ts
    ]
    assert "shop/checkout:1.42" in result["text"] and "(current)" in result["text"]
    ids = [
        e["action_id"] for b in result["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert ids == ["rollback_to:2", "rollback_to:1"]  # unique, or Slack says invalid_blocks
    kbot.driver.press(kbot.room, result["ts"], "rollback_to:2", "U0ALICE")
    kbot.settle()
    rb = requests(kbot)[-1]
    assert rb.action == "rollback" and rb.params["revision"] == 2


@pytest.mark.parametrize(
    "args,expect",
    [
        ("pods -n kube-system", "not allowed by the policy"),
        ("pods", "Say which namespace"),
        ("logs ../x -n shop", "Name the object as `pod/<name>`"),
        ("logs x..y -n shop", "not a valid pod name"),
        ("logs 'pod/a;rm -rf /' -n shop", "not a valid pod name"),
        ("logs pod/" + "a" * 300 + " -n shop", "not a valid pod name"),
        ("logs pod/x -n shop --tail 5000", "between 1 and 1000"),
        ("logs pod/x -n shop --since forever", "duration like"),
        ("pods -n shop -l 'app=$(whoami)'", "not a label selector"),
        ("rollout-status statefulset/postgres -n shop", "deployment/<name>"),
    ],
)
def test_bad_kubernetes_arguments_are_refused(kbot, args, expect) -> None:
    r = kbot.cmd(f"run {args}", channel=kbot.room)
    # Replies are mrkdwn-escaped (`<` is `&lt;`); compare what a person reads.
    assert expect in html.unescape(r.json["text"]) and requests(kbot) == []


def test_rbac_refusal_and_not_found_are_reported_plainly(kbot) -> None:
    kbot.k8s.forbid("list", "pods", "shop")
    req = run(kbot, "pods -n shop")
    assert req.state == "failed" and "RBAC refused" in req.summary and "403" in req.summary
    req = run(kbot, "describe pod/nope -n shop")
    assert req.state == "failed" and "Not found" in req.summary


def _image(k: K8sStandIn, name: str) -> str:
    return k.get("Deployment", "shop", name)["spec"]["template"]["spec"]["containers"][0]["image"]


def test_rollback_previews_both_revisions_and_undoes_like_kubectl(kbot) -> None:
    r = kbot.cmd("rollback deployment/checkout -n shop", channel=kbot.room)
    assert "Preparing" in r.json["text"]
    [req] = requests(kbot)
    preview = req.preview
    assert "current* revision 3: checkout=shop/checkout:1.42" in preview
    assert "target* revision 2: checkout=shop/checkout:1.41" in preview
    req = approve(kbot)
    assert req.state == "succeeded", req.summary
    assert "rolled back to revision 2" in req.summary and "successfully rolled out" in req.summary
    dep = kbot.k8s.get("Deployment", "shop", "checkout")
    assert _image(kbot.k8s, "checkout") == "shop/checkout:1.41"
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
    assert "pod-template-hash" not in dep["spec"]["template"]["metadata"]["labels"]
    progress = thread_texts(kbot, req)
    assert any("successfully rolled out" in t for t in progress)
    kinds = [e.kind for e in events(kbot.rt, req.incident_id)]
    assert kinds[-3:] == ["action_requested", "action_approved", "action_succeeded"]


def test_rollback_refuses_a_deployment_changed_since_the_preview(kbot) -> None:
    kbot.cmd("rollback deployment/checkout -n shop", channel=kbot.room)
    kbot.settle()
    kbot.k8s.deploy("shop", "checkout", "shop/checkout:1.43", change_cause="hotfix")
    req = approve(kbot)
    assert req.state == "failed" and "changed after the preview" in req.summary
    assert _image(kbot.k8s, "checkout") == "shop/checkout:1.43"


def test_rollback_to_a_revision_and_its_refusals(kbot) -> None:
    kbot.cmd("rollback deployment/checkout -n shop --to-revision 1", channel=kbot.room)
    kbot.settle()
    assert approve(kbot).state == "succeeded"
    assert _image(kbot.k8s, "checkout") == "shop/checkout:1.40"
    for args, expect in [
        ("--to-revision 9", "Unable to find revision 9"),
        ("--to-revision 4", "Nothing to roll back"),
    ]:
        kbot.cmd(f"rollback deployment/checkout -n shop {args}", channel=kbot.room)
        kbot.settle()
        assert any(expect in e["text"] for e in kbot.slack.ephemerals(user="U0ALICE"))
    kbot.k8s.deploy("shop", "fresh", "shop/fresh:1.0")
    kbot.cmd("rollback deployment/fresh -n shop", channel=kbot.room)
    kbot.settle()
    assert any("No rollout history found" in e["text"] for e in kbot.slack.ephemerals())
    kbot.k8s.patch("Deployment", "shop", "payments", {"spec": {"paused": True}})
    kbot.cmd("rollback deployment/payments -n shop", channel=kbot.room)
    kbot.settle()
    assert any("paused" in e["text"] for e in kbot.slack.ephemerals())
    assert len(requests(kbot)) == 1  # only the first one became a request


def test_restart_and_scale(kbot) -> None:
    before = len(kbot.k8s.objects("ReplicaSet", "shop"))
    kbot.cmd("restart deployment/payments -n shop", channel=kbot.room)
    req = approve(kbot)
    assert req.state == "succeeded", req.summary
    tmpl = kbot.k8s.get("Deployment", "shop", "payments")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in tmpl["metadata"]["annotations"]
    assert len(kbot.k8s.objects("ReplicaSet", "shop")) == before + 1
    kbot.cmd("scale deployment/payments 4 -n shop", channel=kbot.room)
    kbot.settle()
    assert "from 2 to 4 replicas" in requests(kbot)[-1].preview
    assert approve(kbot).state == "succeeded"
    assert kbot.k8s.get("Deployment", "shop", "payments")["spec"]["replicas"] == 4
    for args, expect in [
        ("scale deployment/payments 0 -n shop", "Scaling to 0 is not allowed"),
        ("scale deployment/payments 500 -n shop", "between 0 and 50"),
        ("scale deployment/payments -n shop", "Usage"),
    ]:
        assert expect in kbot.cmd(args, channel=kbot.room).json["text"]


def test_stuck_rollout_is_reported_as_failed(db_url, standin, k8s) -> None:
    for bot in make_bot(db_url, standin, _policy(k8s, rollout_watch_seconds=10)):
        bot.cmd("declare P1 Payments slow")
        bot.room = incidents(bot.rt)[0].channel_id
        k8s.stall_rollout("shop", "payments")
        bot.cmd("restart deployment/payments -n shop", channel=bot.room)
        req = requests(bot)[-1]
        timer = threading.Timer(0.5, lambda: k8s.advance(700))
        timer.start()
        req = approve(bot, req)
        timer.join()
        assert req.state == "failed" and "exceeded its progress deadline" in req.summary


def test_remediations_never_run_on_auto_and_two_approvers_for_p0(db_url, standin, k8s) -> None:
    rules = {"scale": ActionRule(mode="auto", min_approvals_by_severity={"P0": 2})}
    for bot in make_bot(db_url, standin, _policy(k8s, actions=rules)):
        bot.cmd("declare P0 Everything down")
        bot.room = incidents(bot.rt)[0].channel_id
        bot.cmd("scale deployment/payments 3 -n shop", channel=bot.room)
        bot.settle()
        req = requests(bot)[-1]
        assert req.state == "pending" and req.approvals_needed == 2
        assert approve(bot, req, "U0BOB").state == "pending"
        assert approve(bot, req, "U0CAROL").state == "succeeded"


def test_kill_queries_terminates_exactly_the_previewed_backends(kbot) -> None:
    eng = create_engine(PG_ADMIN, connect_args={"application_name": "victim"})
    errors: list[str] = []

    def long_query() -> None:
        try:
            with eng.connect() as c:
                c.execute(text("SELECT pg_sleep(30)"))
        except Exception as e:
            errors.append(str(e))

    t = threading.Thread(target=long_query)
    t.start()
    try:
        time.sleep(1.5)
        kbot.cmd("kill-queries main --older-than 1s", channel=kbot.room)
        kbot.settle()
        req = requests(kbot)[-1]
        assert "pg_sleep(30)" in req.preview and "warroom" not in req.preview
        req = approve(kbot)
        assert req.state == "succeeded" and "terminated 1 backend(s)" in req.summary
        t.join(timeout=10)
        assert not t.is_alive() and any("terminat" in e for e in errors)
    finally:
        t.join(timeout=35)
        eng.dispose()
