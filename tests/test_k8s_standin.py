"""The Kubernetes API stand-in, exercised through the official ``kubernetes`` client over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from kubernetes.client import (
    AppsV1Api,
    CoreV1Api,
    CustomObjectsApi,
    V1Scale,
    V1ScaleSpec,
    VersionApi,
)
from kubernetes.client.exceptions import ApiException

from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import CHECKOUT_IMAGES, load_demo

NS = "shop"
HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


@pytest.fixture
def cluster() -> Iterator[K8sStandIn]:
    with K8sStandIn() as k:
        load_demo(k)
        yield k


@pytest.fixture
def kube(cluster: K8sStandIn) -> Iterator[SimpleNamespace]:
    client = cluster.client()
    yield SimpleNamespace(
        core=CoreV1Api(client), apps=AppsV1Api(client), custom=CustomObjectsApi(client)
    )
    client.close()


def _status(exc: pytest.ExceptionInfo[ApiException]) -> dict:
    body = json.loads(exc.value.body)
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["code"] == exc.value.status
    return body


def _rs_by_revision(kube: SimpleNamespace, app: str) -> dict[str, object]:
    items = kube.apps.list_namespaced_replica_set(NS, label_selector=f"app={app}").items
    return {rs.metadata.annotations[REVISION]: rs for rs in items}


def _image_patch(name: str, image: str) -> dict:
    return {"spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}}


# ------------------------------------------------------------------------ deserialization
def test_every_kind_deserializes_with_the_real_client(cluster: K8sStandIn, kube) -> None:
    cluster.deploy("kube-system", "node-exporter", "prom/node-exporter:v1.8.2", kind="DaemonSet")
    pods = kube.core.list_namespaced_pod(NS).items
    crashing = [p for p in pods if p.metadata.name.startswith("checkout-")]
    assert len(pods) == 6 and len(crashing) == 3
    status = kube.core.read_namespaced_pod(crashing[0].metadata.name, NS).status
    cs = status.container_statuses[0]
    assert (status.phase, cs.ready, cs.restart_count) == ("Running", False, 7)
    assert cs.state.waiting.reason == "CrashLoopBackOff"
    assert cs.last_state.terminated.exit_code == 2
    assert cs.image == CHECKOUT_IMAGES[2] and cs.image_id.startswith("docker.io/shop/checkout@")
    assert {p.metadata.namespace for p in kube.core.list_pod_for_all_namespaces().items} == {
        NS,
        "kube-system",
    }
    events = kube.core.list_namespaced_event(NS).items
    assert {"ScalingReplicaSet", "Scheduled", "Pulled", "Started", "BackOff"} <= {
        e.reason for e in events
    }
    assert all(e.involved_object.uid and e.last_timestamp and e.count for e in events)
    assert kube.core.list_event_for_all_namespaces().items
    nodes = kube.core.list_node().items
    assert [n.metadata.name for n in nodes] == ["node-a", "node-b"]
    assert nodes[0].status.node_info.kubelet_version == "v1.31.4"
    assert nodes[0].status.daemon_endpoints.kubelet_endpoint.port == 10250
    assert NS in {n.metadata.name for n in kube.core.list_namespace().items}
    assert kube.core.read_namespace(NS).status.phase == "Active"

    d = kube.apps.read_namespaced_deployment("checkout", NS)
    assert d.metadata.annotations[REVISION] == "3" and d.metadata.generation == 3
    assert d.status.observed_generation == 3 and d.status.available_replicas is None
    conditions = {c.type: (c.status, c.reason) for c in d.status.conditions}
    assert conditions == {
        "Available": ("False", "MinimumReplicasUnavailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    assert sorted(_rs_by_revision(kube, "checkout")) == ["1", "2", "3"]
    sts = kube.apps.read_namespaced_stateful_set("postgres", NS)
    assert sts.status.ready_replicas == 1 and sts.status.current_revision.startswith("postgres-")
    ds = kube.apps.list_namespaced_daemon_set("kube-system").items[0]
    assert (ds.status.desired_number_scheduled, ds.status.number_ready) == (2, 2)
    assert kube.apps.list_daemon_set_for_all_namespaces().items
    assert kube.apps.read_namespaced_deployment_scale("payments", NS).spec.replicas == 2
    log = kube.core.read_namespaced_pod_log(crashing[0].metadata.name, NS)
    assert "panic: runtime error" in log
    assert VersionApi(kube.core.api_client).get_code().git_version == "v1.31.4"


# ----------------------------------------------------------------------------- selectors
@pytest.mark.parametrize(
    ("selector", "apps"),
    [
        ("app=checkout", {"checkout"}),
        ("app==payments", {"payments"}),
        ("app!=checkout", {"payments", "postgres"}),
        ("app in (payments, postgres)", {"payments", "postgres"}),
        ("app notin (checkout,payments)", {"postgres"}),
        (HASH, {"checkout", "payments"}),
        (f"!{HASH}", {"postgres"}),
        (f"app in (checkout,postgres),!{HASH}", {"postgres"}),
        ("app=nothing", set()),
    ],
)
def test_label_selectors(kube, selector: str, apps: set[str]) -> None:
    pods = kube.core.list_namespaced_pod(NS, label_selector=selector).items
    assert {p.metadata.labels["app"] for p in pods} == apps


def test_field_selectors(kube) -> None:
    core = kube.core
    assert len(core.list_namespaced_pod(NS, field_selector="status.phase=Running").items) == 6
    one = core.list_namespaced_pod(NS, field_selector="metadata.name=postgres-0").items
    assert [p.metadata.name for p in one] == ["postgres-0"]
    on_a = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-a").items
    assert on_a and all(p.spec.node_name == "node-a" for p in on_a)
    selector = "involvedObject.kind=Deployment,involvedObject.name=checkout"
    events = core.list_namespaced_event(NS, field_selector=selector).items
    assert events and {e.reason for e in events} == {"ScalingReplicaSet"}
    messages = [e.message for e in events]
    assert any(m.startswith("Scaled down replica set checkout-") for m in messages)
    assert "Scaled up replica set checkout-" in messages[0] and messages[0].endswith("from 0 to 3")
    warnings = core.list_event_for_all_namespaces(field_selector="type=Warning").items
    assert warnings and {e.reason for e in warnings} == {"BackOff"}
    assert all(e.count == 7 for e in warnings)
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod(NS, label_selector="app in (a")
    assert exc.value.status == 400


# -------------------------------------------------------------------------------- errors
def test_not_found_forbidden_conflict_invalid(cluster: K8sStandIn, kube) -> None:
    with pytest.raises(ApiException) as exc:
        kube.apps.read_namespaced_deployment("nope", NS)
    body = _status(exc)
    assert (exc.value.status, body["reason"]) == (404, "NotFound")
    assert body["message"] == 'deployments.apps "nope" not found'

    cluster.forbid("patch", "deployments", namespace=NS)
    with pytest.raises(ApiException) as exc:
        kube.apps.patch_namespaced_deployment("payments", NS, {"spec": {"replicas": 3}})
    body = _status(exc)
    assert (exc.value.status, body["reason"]) == (403, "Forbidden")
    assert 'cannot patch resource "deployments" in API group "apps"' in body["message"]
    assert kube.apps.read_namespaced_deployment("payments", NS).spec.replicas == 2
    cluster.forbid("get", "pods/log")
    with pytest.raises(ApiException) as exc:
        kube.core.read_namespaced_pod_log("postgres-0", NS)
    assert exc.value.status == 403 and '"pods/log"' in _status(exc)["message"]
    cluster.allow_all()
    kube.apps.patch_namespaced_deployment("payments", NS, {"spec": {"replicas": 3}})

    d = kube.apps.read_namespaced_deployment("payments", NS)
    d.metadata.resource_version = "1"  # stale: optimistic concurrency must refuse it
    with pytest.raises(ApiException) as exc:
        kube.apps.replace_namespaced_deployment("payments", NS, d)
    assert (exc.value.status, _status(exc)["reason"]) == (409, "Conflict")
    stale = [{"op": "replace", "path": "/metadata/resourceVersion", "value": "1"}]
    with pytest.raises(ApiException) as exc:
        kube.apps.patch_namespaced_deployment("payments", NS, stale)
    assert (exc.value.status, _status(exc)["reason"]) == (409, "Conflict")
    d.metadata.resource_version = None
    with pytest.raises(ApiException) as exc:
        kube.apps.create_namespaced_deployment(NS, d)
    assert (exc.value.status, _status(exc)["reason"]) == (409, "AlreadyExists")

    with pytest.raises(ApiException) as exc:
        kube.apps.patch_namespaced_deployment("payments", NS, {"spec": {"replicas": -1}})
    body = _status(exc)
    assert (exc.value.status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "spec.replicas"
    assert body["message"].startswith('Deployment.apps "payments" is invalid: spec.replicas')


def test_json_patch_with_failing_test_op_is_refused(kube) -> None:
    before = kube.apps.read_namespaced_deployment("payments", NS)
    guarded = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
        {"op": "replace", "path": "/spec/replicas", "value": 5},
    ]
    with pytest.raises(ApiException) as exc:
        kube.apps.patch_namespaced_deployment("payments", NS, guarded)
    body = _status(exc)
    assert (exc.value.status, body["reason"]) == (422, "Invalid")
    assert body["message"] == "the server rejected our request due to an error in our request"
    after = kube.apps.read_namespaced_deployment("payments", NS)
    assert after.spec.replicas == 2
    assert after.metadata.resource_version == before.metadata.resource_version
    guarded[0]["value"] = before.metadata.resource_version
    assert kube.apps.patch_namespaced_deployment("payments", NS, guarded).spec.replicas == 5


# ------------------------------------------------------------------- deployment rollouts
def test_strategic_merge_of_image_rolls_a_new_replicaset(kube) -> None:
    d = kube.apps.patch_namespaced_deployment(
        "payments", NS, _image_patch("payments", "shop/payments:2.7.4")
    )
    assert d.metadata.generation == 2 and d.status.observed_generation == 2
    assert d.metadata.annotations[REVISION] == "2"
    container = d.spec.template.spec.containers[0]
    assert container.image == "shop/payments:2.7.4" and container.env[0].name == "DATABASE_URL"
    rss = _rs_by_revision(kube, "payments")
    new, old = rss["2"], rss["1"]
    assert new.metadata.name == f"payments-{new.metadata.labels[HASH]}"
    assert new.metadata.owner_references[0].uid == d.metadata.uid
    assert new.metadata.owner_references[0].controller is True
    assert (new.spec.replicas, old.spec.replicas) == (2, 0)
    assert new.spec.selector.match_labels == {"app": "payments", HASH: new.metadata.labels[HASH]}
    pods = kube.core.list_namespaced_pod(NS, label_selector="app=payments").items
    assert {p.spec.containers[0].image for p in pods} == {"shop/payments:2.7.4"}
    assert all(p.status.container_statuses[0].ready for p in pods)
    assert (d.status.updated_replicas, d.status.available_replicas) == (2, 2)
    assert {c.reason for c in d.status.conditions} == {
        "MinimumReplicasAvailable",
        "NewReplicaSetAvailable",
    }


def test_merge_patch_replaces_lists_where_strategic_merge_merges_them(kube) -> None:
    body = _image_patch("payments", "shop/payments:2.7.5")
    merge = "application/merge-patch+json"
    d = kube.apps.patch_namespaced_deployment("payments", NS, body, _content_type=merge)
    container = d.spec.template.spec.containers[0]
    assert container.image == "shop/payments:2.7.5" and container.env is None  # RFC 7386
    assert d.metadata.annotations[REVISION] == "2"
    labels = {"metadata": {"labels": {"tier": "backend", "app": None}}}
    d = kube.apps.patch_namespaced_deployment("payments", NS, labels, _content_type=merge)
    assert d.metadata.labels == {"tier": "backend"}


def test_rollout_undo_reuses_the_old_replicaset_and_bumps_its_revision(kube) -> None:
    """What ``kubectl rollout undo`` sends (rollback.go): the previous revision's template."""
    deployment = kube.apps.read_namespaced_deployment("checkout", NS)
    previous = _rs_by_revision(kube, "checkout")["2"]
    template = kube.apps.api_client.sanitize_for_serialization(previous.spec.template)
    template["metadata"]["labels"].pop(HASH)
    skip = {
        REVISION,
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
    }
    annotations = {k: v for k, v in previous.metadata.annotations.items() if k not in skip}
    annotations[REVISION] = deployment.metadata.annotations[REVISION]
    undo = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    d = kube.apps.patch_namespaced_deployment("checkout", NS, undo)
    assert d.metadata.annotations[REVISION] == "4"
    assert d.metadata.annotations[CHANGE_CAUSE].startswith("ci: deploy checkout 1.41")
    rss = _rs_by_revision(kube, "checkout")
    assert sorted(rss) == ["1", "3", "4"]  # no new ReplicaSet: revision 2 became 4
    reused = rss["4"]
    assert reused.metadata.name == previous.metadata.name
    assert reused.metadata.annotations["deployment.kubernetes.io/revision-history"] == "2"
    assert (reused.spec.replicas, rss["3"].spec.replicas) == (3, 0)
    pods = kube.core.list_namespaced_pod(NS, label_selector="app=checkout").items
    assert {p.spec.containers[0].image for p in pods} == {CHECKOUT_IMAGES[1]}
    assert all(p.status.container_statuses[0].ready for p in pods)
    d = kube.apps.read_namespaced_deployment("checkout", NS)
    assert d.status.available_replicas == 3
    assert {c.type: c.status for c in d.status.conditions} == {
        "Available": "True",
        "Progressing": "True",
    }


def test_restart_annotation_is_a_template_change(kube) -> None:
    before = {
        p.metadata.name
        for p in kube.core.list_namespaced_pod(NS, label_selector="app=payments").items
    }
    restart = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
                }
            }
        }
    }
    d = kube.apps.patch_namespaced_deployment("payments", NS, restart)
    assert d.metadata.annotations[REVISION] == "2"
    pods = kube.core.list_namespaced_pod(NS, label_selector="app=payments").items
    assert len(pods) == 2 and not before & {p.metadata.name for p in pods}
    assert all("kubectl.kubernetes.io/restartedAt" in p.metadata.annotations for p in pods)


def test_deleting_a_pod_gets_it_replaced(kube) -> None:
    victim = kube.core.list_namespaced_pod(NS, label_selector="app=payments").items[0]
    kube.core.delete_namespaced_pod(victim.metadata.name, NS)
    pods = kube.core.list_namespaced_pod(NS, label_selector="app=payments").items
    assert len(pods) == 2 and victim.metadata.name not in {p.metadata.name for p in pods}
    with pytest.raises(ApiException) as exc:
        kube.core.read_namespaced_pod(victim.metadata.name, NS)
    assert exc.value.status == 404


def test_scale_subresource(kube) -> None:
    scale = kube.apps.read_namespaced_deployment_scale("payments", NS)
    assert (scale.spec.replicas, scale.status.replicas) == (2, 2)
    assert scale.status.selector == "app=payments"
    scaled = kube.apps.patch_namespaced_deployment_scale(
        "payments", NS, {"spec": {"replicas": 4}}, _content_type="application/merge-patch+json"
    )
    assert scaled.spec.replicas == 4 and scaled.status.replicas == 4
    assert len(kube.core.list_namespaced_pod(NS, label_selector="app=payments").items) == 4
    stale = V1Scale(metadata=scaled.metadata, spec=V1ScaleSpec(replicas=1))
    stale.metadata.resource_version = "1"
    with pytest.raises(ApiException) as exc:
        kube.apps.replace_namespaced_deployment_scale("payments", NS, stale)
    assert exc.value.status == 409
    stale.metadata.resource_version = None
    assert kube.apps.replace_namespaced_deployment_scale("payments", NS, stale).spec.replicas == 1
    with pytest.raises(ApiException) as exc:
        kube.apps.patch_namespaced_deployment_scale("payments", NS, {"spec": {"replicas": -2}})
    assert exc.value.status == 422
    assert _status(exc)["message"].startswith('Scale.autoscaling "payments" is invalid')
    d = kube.apps.read_namespaced_deployment("payments", NS)
    assert (d.spec.replicas, d.status.replicas, d.metadata.generation) == (1, 1, 3)


def test_stalled_rollout_reaches_progress_deadline(cluster: K8sStandIn, kube) -> None:
    cluster.stall_rollout(NS, "payments")
    kube.apps.patch_namespaced_deployment(
        "payments", NS, _image_patch("payments", "shop/payments:2.8.0")
    )
    d = kube.apps.read_namespaced_deployment("payments", NS)
    progressing = next(c for c in d.status.conditions if c.type == "Progressing")
    assert (progressing.status, progressing.reason) == ("True", "NewReplicaSetCreated")
    # maxSurge 25% of 2 rounds up to 1, maxUnavailable rounds down to 0: one new, unready pod
    assert (d.status.replicas, d.status.updated_replicas, d.status.available_replicas) == (3, 1, 2)
    rss = _rs_by_revision(kube, "payments")
    assert (rss["2"].spec.replicas, rss["1"].spec.replicas) == (1, 2)
    cluster.advance(601)
    d = kube.apps.read_namespaced_deployment("payments", NS)
    progressing = next(c for c in d.status.conditions if c.type == "Progressing")
    assert (progressing.status, progressing.reason) == ("False", "ProgressDeadlineExceeded")
    assert (
        progressing.message == f'ReplicaSet "{rss["2"].metadata.name}" has timed out progressing.'
    )
    cluster.stall_rollout(NS, "payments", stalled=False)
    d = kube.apps.read_namespaced_deployment("payments", NS)
    assert (d.status.updated_replicas, d.status.available_replicas, d.status.replicas) == (2, 2, 2)


def test_paused_deployment_does_not_roll(kube) -> None:
    kube.apps.patch_namespaced_deployment("payments", NS, {"spec": {"paused": True}})
    d = kube.apps.patch_namespaced_deployment(
        "payments", NS, _image_patch("payments", "shop/payments:9")
    )
    assert sorted(_rs_by_revision(kube, "payments")) == ["1"]
    progressing = next(c for c in d.status.conditions if c.type == "Progressing")
    assert (progressing.status, progressing.reason) == ("Unknown", "DeploymentPaused")
    kube.apps.patch_namespaced_deployment("payments", NS, {"spec": {"paused": False}})
    assert sorted(_rs_by_revision(kube, "payments")) == ["1", "2"]


def test_statefulset_patch_bumps_generation_and_replaces_pods(kube) -> None:
    sts = kube.apps.patch_namespaced_stateful_set(
        "postgres", NS, _image_patch("postgres", "postgres:16.6")
    )
    assert sts.metadata.generation == 2 and sts.status.observed_generation == 2
    pod = kube.core.read_namespaced_pod("postgres-0", NS)
    assert pod.spec.containers[0].image == "postgres:16.6"
    assert pod.metadata.labels["controller-revision-hash"] == sts.status.update_revision


# ------------------------------------------------------------------------ metrics, logs
def test_metrics_toggle(cluster: K8sStandIn, kube) -> None:
    pods = kube.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", NS, "pods")
    assert pods["kind"] == "PodMetricsList" and len(pods["items"]) == 6
    usage = {i["metadata"]["name"]: i["containers"][0]["usage"] for i in pods["items"]}
    assert usage["postgres-0"] == {"cpu": "640m", "memory": "880Mi"}
    assert all(u["cpu"].endswith(("n", "m")) for u in usage.values())
    nodes = kube.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-a", "node-b"]
    assert all(n["usage"]["memory"].endswith("Ki") for n in nodes["items"])
    cluster.forbid("list", "pods.metrics.k8s.io", namespace=NS)
    with pytest.raises(ApiException) as exc:
        kube.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", NS, "pods")
    assert exc.value.status == 403 and 'API group "metrics.k8s.io"' in _status(exc)["message"]
    assert kube.core.list_namespaced_pod(NS).items  # core pods stay allowed
    cluster.allow_all()
    cluster.metrics_enabled = False
    for call in (
        lambda: kube.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", NS, "pods"),
        lambda: kube.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes"),
    ):
        with pytest.raises(ApiException) as exc:
            call()
        body = _status(exc)
        assert (exc.value.status, body["reason"]) == (404, "NotFound")
        assert body["message"] == "the server could not find the requested resource"


def test_logs_tail_since_previous(cluster: K8sStandIn, kube) -> None:
    core = kube.core
    now = cluster.store.now()
    lines = [
        (now - 300, "old one"),
        (now - 200, "old two"),
        (now - 30, "recent"),
        (now - 1, "last"),
    ]
    cluster.set_logs(NS, "postgres-0", lines)
    assert core.read_namespaced_pod_log("postgres-0", NS, tail_lines=2) == "recent\nlast\n"
    assert core.read_namespaced_pod_log("postgres-0", NS, since_seconds=60) == "recent\nlast\n"
    assert core.read_namespaced_pod_log("postgres-0", NS, container="postgres").count("\n") == 4
    stamped = core.read_namespaced_pod_log("postgres-0", NS, tail_lines=1, timestamps=True)
    assert stamped.endswith("Z last\n") and stamped[:4].isdigit()
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log("postgres-0", NS, previous=True)
    assert exc.value.status == 400 and "previous terminated container" in _status(exc)["message"]
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log("postgres-0", NS, container="sidecar")
    assert exc.value.status == 400
    crashing = core.list_namespaced_pod(NS, label_selector="app=checkout").items[0].metadata.name
    previous = core.read_namespaced_pod_log(crashing, NS, previous=True, tail_lines=3)
    assert previous.splitlines()[-1].startswith("\t/src/api/cart.go")
    cluster.set_logs(NS, crashing, ["before the crash"], previous=True)
    assert core.read_namespaced_pod_log(crashing, NS, previous=True) == "before the crash\n"


# ------------------------------------------------------------------------------- threads
def test_concurrent_clients_are_served_consistently(cluster: K8sStandIn) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        client = cluster.client()
        try:
            apps, core = AppsV1Api(client), CoreV1Api(client)
            for _ in range(5):
                apps.patch_namespaced_deployment_scale(
                    "payments", NS, {"spec": {"replicas": 1 + i % 3}}
                )
                assert core.list_namespaced_pod(NS, label_selector="app=payments").items
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    d = cluster.get("Deployment", NS, "payments")
    pods = [p for p in cluster.objects("Pod", NS) if p["metadata"]["labels"]["app"] == "payments"]
    assert len(pods) == d["spec"]["replicas"] == d["status"]["replicas"]
    assert len(cluster.requests) >= 60
