"""Rollback, restart, scale and rollout-status through the command path, held to kubectl 1.32:
revision 0, exact targets, a guard on what the approver saw, field managers, watching."""

from __future__ import annotations

import html
import threading

from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.store import REPLICASET
from tests import test_kubernetes_actions as base
from tests.conftest import make_bot
from tests.helpers import incidents
from tests.test_kubernetes_actions import _image, _policy, approve, requests, run, thread_texts

k8s, kbot = base.k8s, base.kbot  # the same fixtures: the demo cluster and a bot in a war room

REVISION = "deployment.kubernetes.io/revision"


def _legacy(k: K8sStandIn, images: tuple[str, ...] = ("1.0", "2.0")) -> str:
    """A deployment whose first ReplicaSet lost its revision annotation (made before the
    deployment controller annotated them, or edited by hand); returns that ReplicaSet's name."""
    for tag in images:
        k.deploy("shop", "legacy", f"shop/legacy:{tag}")
    [old] = [
        rs
        for rs in k.objects("ReplicaSet", "shop")
        if rs["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/legacy:1.0"
    ]
    name = old["metadata"]["name"]
    k.patch("ReplicaSet", "shop", name, {"metadata": {"annotations": {REVISION: None}}})
    assert REVISION not in k.get("ReplicaSet", "shop", name)["metadata"]["annotations"]
    return name


def _ephemerals(bot) -> str:
    return "\n".join(html.unescape(e["text"]) for e in bot.slack.ephemerals())


def test_a_replicaset_without_a_revision_is_revision_zero_and_rolled_back_to(kbot) -> None:
    rs = _legacy(kbot.k8s)
    kbot.cmd("rollback deployment/legacy -n shop", channel=kbot.room)
    kbot.settle()
    assert "No rollout history" not in _ephemerals(kbot)
    [req] = requests(kbot)
    assert "target* revision 0: legacy=shop/legacy:1.0" in req.preview
    assert f"ReplicaSet `{rs}`" in req.preview and req.params["replicaset"] == rs
    req = approve(kbot)
    assert req.state == "succeeded", req.summary
    assert _image(kbot.k8s, "legacy") == "shop/legacy:1.0"
    # The controller adopts it as the newest revision, as it does after kubectl's undo.
    assert kbot.k8s.get("ReplicaSet", "shop", rs)["metadata"]["annotations"][REVISION] == "3"


def test_history_gives_revision_zero_no_button_and_each_button_its_own_id(kbot) -> None:
    rs = _legacy(kbot.k8s, ("1.0", "2.0", "3.0"))
    req = run(kbot, "rollout-history deployment/legacy -n shop")
    assert req.state == "succeeded" and req.summary == "3 revision(s)"
    [result] = [
        m
        for m in kbot.slack.messages(kbot.room)
        if m.get("thread_ts") == req.message_ts and m["ts"] != req.message_ts
    ]
    ids = [
        e["action_id"]
        for b in result.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert ids == ["rollback_to:2"]  # revision 3 is current; revision 0 cannot be named
    assert f"Revision 0: ReplicaSet {rs}" in result["text"]


def test_an_approved_rollback_survives_status_writes_of_a_crashlooping_deployment(kbot) -> None:
    kbot.cmd("rollback deployment/checkout -n shop", channel=kbot.room)
    kbot.settle()
    before = kbot.k8s.get("Deployment", "shop", "checkout")["metadata"]
    for _ in range(2):  # crash-looping containers restart; the controller rewrites status
        kbot.k8s.advance(11)
    after = kbot.k8s.get("Deployment", "shop", "checkout")["metadata"]
    assert int(after["resourceVersion"]) > int(before["resourceVersion"])
    assert after["generation"] == before["generation"]
    req = approve(kbot)
    assert req.state == "succeeded", req.summary
    assert _image(kbot.k8s, "checkout") == "shop/checkout:1.41"


def test_a_rejected_rollback_says_what_the_api_server_said(kbot) -> None:
    kbot.cmd("rollback deployment/checkout -n shop --to-revision 2", channel=kbot.room)
    kbot.settle()
    with kbot.k8s.lock:  # a ReplicaSet whose template the API server no longer accepts
        rs = next(
            r
            for r in kbot.k8s.store.items(REPLICASET, "shop")
            if r["metadata"]["annotations"].get(REVISION) == "2"
        )
        rs["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    req = approve(kbot)
    assert req.state == "failed"
    assert "changed after the preview" not in req.summary
    assert "422 Invalid" in req.summary and "containers[0].image: Required value" in req.summary


def test_restarting_a_paused_deployment_is_refused_when_asked(kbot) -> None:
    kbot.k8s.patch("Deployment", "shop", "payments", {"spec": {"paused": True}})
    kbot.cmd("restart deployment/payments -n shop", channel=kbot.room)
    kbot.settle()
    assert "paused" in _ephemerals(kbot)
    assert requests(kbot) == []  # nobody is asked to approve what cannot run


def test_every_write_names_warroom_as_its_field_manager(kbot) -> None:
    kbot.cmd("restart deployment/payments -n shop", channel=kbot.room)
    kbot.settle()
    assert approve(kbot).state == "succeeded"
    kbot.cmd("scale deployment/payments 3 -n shop", channel=kbot.room)
    kbot.settle()
    assert approve(kbot).state == "succeeded"
    kbot.cmd("rollback deployment/checkout -n shop", channel=kbot.room)
    kbot.settle()
    assert approve(kbot).state == "succeeded"
    patches = [r for r in kbot.k8s.requests if r.method == "PATCH"]
    assert len(patches) == 3 and all(r.query.get("fieldManager") == "warroom" for r in patches)
    entries = kbot.k8s.get("Deployment", "shop", "payments")["metadata"]["managedFields"]
    mine = {(e["manager"], e["operation"], e.get("subresource", "")) for e in entries}
    assert {("warroom", "Update", ""), ("warroom", "Update", "scale")} <= mine
    restart = next(e for e in entries if e["manager"] == "warroom" and "subresource" not in e)
    annotations = restart["fieldsV1"]["f:spec"]["f:template"]["f:metadata"]["f:annotations"]
    assert "f:kubectl.kubernetes.io/restartedAt" in annotations and restart["time"]
    checkout = kbot.k8s.get("Deployment", "shop", "checkout")["metadata"]["managedFields"]
    assert any(e["manager"] == "warroom" for e in checkout)


def test_rollout_status_watches_until_the_rollout_is_done(kbot) -> None:
    kbot.k8s.stall_rollout("shop", "payments")
    kbot.k8s.deploy("shop", "payments", "shop/payments:2.8.0")
    kbot.cmd("run rollout-status deployment/payments -n shop", channel=kbot.room)
    timer = threading.Timer(0.5, lambda: kbot.k8s.stall_rollout("shop", "payments", False))
    timer.start()
    req = approve(kbot)
    timer.join()
    assert req.state == "succeeded", req.summary
    assert req.summary.startswith('Waiting for deployment "payments" rollout to finish')
    assert req.summary.endswith('deployment "payments" successfully rolled out')
    assert any("successfully rolled out" in t for t in thread_texts(kbot, req))


def test_rollout_status_reports_a_passed_deadline_and_a_timeout(db_url, standin, k8s) -> None:
    for bot in make_bot(db_url, standin, _policy(k8s, rollout_watch_seconds=1)):
        bot.cmd("declare P1 Payments slow")
        bot.room = incidents(bot.rt)[0].channel_id
        k8s.stall_rollout("shop", "payments")
        k8s.deploy("shop", "payments", "shop/payments:2.8.0")
        req = run(bot, "rollout-status deployment/payments -n shop")
        assert req.state == "failed" and "timed out waiting for the condition" in req.summary
        k8s.advance(700)
        req = run(bot, "rollout-status deployment/payments -n shop")
        assert req.state == "failed"
        assert req.summary == 'deployment "payments" exceeded its progress deadline'
