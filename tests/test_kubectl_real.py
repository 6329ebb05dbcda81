"""The real kubectl against the Kubernetes stand-in: it must read it (discovery, Table, watch)
and Warroom's rollback, restart and scale must leave exactly the state kubectl leaves."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import CHANGE_CAUSES, load_demo
from tests import test_kubernetes_actions as base
from tests.test_k8s_remediation_guards import _legacy
from tests.test_kubernetes_actions import approve

k8s, kbot = base.k8s, base.kbot  # Warroom's side: the demo cluster, driven through Slack
REVISION = "deployment.kubernetes.io/revision"
RESTARTED = "kubectl.kubernetes.io/restartedAt"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster: {{server: "{url}"}}
users:
- name: nobody
  user: {{}}
contexts:
- name: standin
  context: {{cluster: standin, user: nobody, namespace: shop}}
current-context: standin
"""
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cluster() -> Iterator[K8sStandIn]:
    """kubectl's side: a second demo cluster, the same as Warroom's (same seed, same history)."""
    with K8sStandIn() as k:
        load_demo(k)
        yield k


@pytest.fixture
def kubectl(cluster: K8sStandIn, tmp_path: Path) -> Kubectl:
    binary = shutil.which("kubectl")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is missing: .ci/run installs Debian's kubernetes-client")
        pytest.skip("kubectl is not installed (apt-get install kubernetes-client)")
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG.format(url=cluster.url))

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [binary, "--kubeconfig", str(config), "--cache-dir", str(tmp_path / "cache")]
        cmd += ["--request-timeout", "5s", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert (done.returncode == 0) == ok, (cmd, done.stdout, done.stderr)
        return done

    return run


def _rows(out: str) -> list[dict[str, str]]:
    """kubectl's printed table as dicts (columns split on their header's positions)."""
    header, *lines = out.splitlines()
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[i - 1] == " ")]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    names = [header[a:b].strip() for a, b in bounds]
    cells = list(zip(names, bounds, strict=True))
    return [{n: line[a:b].strip() for n, (a, b) in cells} for line in lines]


def _template(t: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(t)
    meta = t.setdefault("metadata", {})
    (meta.get("labels") or {}).pop("pod-template-hash", None)
    if RESTARTED in (meta.get("annotations") or {}):
        meta["annotations"][RESTARTED] = "<time>"  # each side stamps its own clock
    return t


def state(k: K8sStandIn, name: str) -> dict[str, Any]:
    """What a rollout leaves: template, annotations, replicas and every ReplicaSet's revision,
    size and template (names, uids and times aside)."""
    d = k.get("Deployment", "shop", name)
    owned = [
        rs
        for rs in k.objects("ReplicaSet", "shop")
        if rs["metadata"]["ownerReferences"][0]["uid"] == d["metadata"]["uid"]
    ]
    sets = sorted(
        (
            (rs["metadata"].get("annotations") or {}).get(REVISION, ""),
            rs["spec"]["replicas"],
            repr(_template(rs["spec"]["template"])),
        )
        for rs in owned
    )
    return {
        "template": _template(d["spec"]["template"]),
        "annotations": d["metadata"].get("annotations"),
        "replicas": d["spec"]["replicas"],
        "generation": d["metadata"]["generation"],
        "replicasets": sets,
    }


def _warroom(bot, command: str) -> None:
    bot.cmd(command, channel=bot.room)
    bot.settle()
    req = approve(bot)
    assert req.state == "succeeded", req.summary


def test_kubectl_gets_pods_deployments_and_replicasets_as_tables(cluster, kubectl) -> None:
    pods = _rows(kubectl("get", "pods").stdout)
    assert {p["NAME"] for p in pods} == {
        p["metadata"]["name"] for p in cluster.objects("Pod", "shop")
    }
    checkout = [p for p in pods if p["NAME"].startswith("checkout-")]
    assert len(checkout) == 3
    assert all(p["STATUS"] == "CrashLoopBackOff" and p["READY"] == "0/1" for p in checkout)
    assert all(p["RESTARTS"].startswith("7 (") for p in checkout)
    deploys = {d["NAME"]: d for d in _rows(kubectl("get", "deployments").stdout)}
    assert deploys["checkout"] | {"AGE": ""} == {
        "NAME": "checkout",
        "READY": "0/3",
        "UP-TO-DATE": "3",
        "AVAILABLE": "0",
        "AGE": "",
    }
    assert deploys["payments"]["READY"] == "2/2" and deploys["checkout"]["AGE"] == "3d"
    wide = _rows(kubectl("get", "rs", "-o", "wide", "-l", "app=checkout").stdout)
    assert [(r["DESIRED"], r["IMAGES"]) for r in wide] == [
        ("0", "shop/checkout:1.40"),
        ("0", "shop/checkout:1.41"),
        ("3", "shop/checkout:1.42"),
    ]
    missing = kubectl("get", "deployment", "nope", ok=False)
    assert 'Error from server (NotFound): deployments.apps "nope" not found' in missing.stderr


def test_kubectl_rollout_history(kubectl) -> None:
    out = kubectl("rollout", "history", "deployment/checkout").stdout
    rows = [line.split(None, 1) for line in out.splitlines()[2:] if line.strip()]
    assert rows == [[str(i + 1), cause] for i, cause in enumerate(CHANGE_CAUSES)]


@pytest.mark.parametrize("revision", [None, 1])
def test_warroom_rollback_leaves_what_kubectl_rollout_undo_leaves(
    kbot, cluster, kubectl, revision
) -> None:
    assert state(kbot.k8s, "checkout") == state(cluster, "checkout")
    flag = [] if revision is None else ["--to-revision", str(revision)]
    out = kubectl("rollout", "undo", "deployment/checkout", *flag).stdout
    assert out.strip() == "deployment.apps/checkout rolled back"
    _warroom(kbot, "rollback deployment/checkout -n shop " + " ".join(flag))
    assert state(kbot.k8s, "checkout") == state(cluster, "checkout")


def test_warroom_rollback_to_revision_zero_matches_kubectl(kbot, cluster, kubectl) -> None:
    _legacy(cluster)
    _legacy(kbot.k8s)
    kubectl("rollout", "undo", "deployment/legacy")
    _warroom(kbot, "rollback deployment/legacy -n shop")
    after = state(kbot.k8s, "legacy")
    assert after == state(cluster, "legacy")
    assert after["template"]["spec"]["containers"][0]["image"] == "shop/legacy:1.0"


def test_warroom_restart_leaves_what_kubectl_rollout_restart_leaves(kbot, cluster, kubectl) -> None:
    out = kubectl("rollout", "restart", "deployment/payments").stdout
    assert out.strip() == "deployment.apps/payments restarted"
    _warroom(kbot, "restart deployment/payments -n shop")
    assert state(kbot.k8s, "payments") == state(cluster, "payments")
    managers = {
        e["manager"]
        for e in cluster.get("Deployment", "shop", "payments")["metadata"]["managedFields"]
    }
    assert "kubectl-rollout" in managers  # kubectl names itself; Warroom says `warroom`


def test_warroom_scale_leaves_what_kubectl_scale_leaves(kbot, cluster, kubectl) -> None:
    out = kubectl("scale", "deployment/payments", "--replicas", "4").stdout
    assert out.strip() == "deployment.apps/payments scaled"
    _warroom(kbot, "scale deployment/payments 4 -n shop")
    assert state(kbot.k8s, "payments") == state(cluster, "payments")
    assert cluster.get("Deployment", "shop", "payments")["spec"]["replicas"] == 4


def test_kubectl_rollout_status_watches_the_standin(cluster, kubectl) -> None:
    done = kubectl("rollout", "status", "deployment/payments", "--timeout", "5s")
    assert done.stdout.strip() == 'deployment "payments" successfully rolled out'
    cluster.stall_rollout("shop", "payments")
    cluster.deploy("shop", "payments", "shop/payments:2.8.0")
    waiting = kubectl("rollout", "status", "deployment/payments", "--timeout", "1s", ok=False)
    said = 'Waiting for deployment "payments" rollout to finish: 1 out of 2 new replicas have '
    assert waiting.stdout.splitlines()[-1] == said + "been updated..."
    assert waiting.stderr.strip() == "error: timed out waiting for the condition"
    assert _warroom_status(cluster) == (said + "been updated...", False, False)
    cluster.advance(700)
    failed = kubectl("rollout", "status", "deployment/payments", "--timeout", "5s", ok=False)
    expired = 'deployment "payments" exceeded its progress deadline'
    assert failed.stderr.strip() == f"error: {expired}"
    assert _warroom_status(cluster) == (expired, False, True)


def _warroom_status(k: K8sStandIn) -> tuple[str, bool, bool]:
    from bot.targets import kubernetes as k8s

    api = k.client()
    try:
        return k8s.rollout_status(k8s.deployment(api, "shop", "payments"))
    finally:
        api.close()
