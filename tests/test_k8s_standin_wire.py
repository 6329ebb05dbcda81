"""The Kubernetes stand-in's wire as kubectl sees it: discovery, Table, watches, managedFields,
and status writes that move resourceVersion but not generation."""

from __future__ import annotations

import http.client
import json
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest

from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import load_demo

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"


@pytest.fixture
def k() -> Iterator[K8sStandIn]:
    with K8sStandIn() as cluster:
        load_demo(cluster)
        yield cluster


def call(
    k: K8sStandIn, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", k.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, data, {k.replace("_", "-"): v for k, v in headers.items()})
    resp = conn.getresponse()
    out = json.loads(resp.read() or b"{}")
    conn.close()
    return resp.status, out


def watch(k: K8sStandIn, query: str) -> list[dict]:
    """Read a watch to its end (timeoutSeconds in ``query`` ends it)."""
    conn = http.client.HTTPConnection("127.0.0.1", k.port, timeout=10)
    conn.request("GET", f"{DEPLOYMENTS}?watch=1&{query}")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    conn.close()
    return events


def test_discovery_documents(k) -> None:
    assert call(k, "GET", "/api")[1]["versions"] == ["v1"]
    groups = {g["name"]: g for g in call(k, "GET", "/apis")[1]["groups"]}
    assert groups["apps"]["preferredVersion"]["groupVersion"] == "apps/v1"
    core = {r["name"]: r for r in call(k, "GET", "/api/v1")[1]["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and "watch" in core["pods"]["verbs"]
    assert core["pods/log"]["verbs"] == ["get"] and core["nodes"]["namespaced"] is False
    apps = {r["name"]: r for r in call(k, "GET", "/apis/apps/v1")[1]["resources"]}
    assert apps["deployments"]["shortNames"] == ["deploy"]
    assert apps["deployments/scale"]["group"] == "autoscaling"
    code, body = call(k, "GET", "/apis/batch/v1")
    assert (code, body["kind"], body["reason"]) == (404, "Status", "NotFound")
    k.metrics_enabled = False
    assert "metrics.k8s.io" not in {g["name"] for g in call(k, "GET", "/apis")[1]["groups"]}


def test_table_output_of_deployments_and_pods(k) -> None:
    code, table = call(k, "GET", DEPLOYMENTS, Accept=TABLE)
    assert code == 200 and table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0]
    assert names == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    rows = {r["cells"][0]: r for r in table["rows"]}
    assert rows["checkout"]["cells"][1:4] == ["0/3", 3, 0]
    assert rows["checkout"]["object"]["kind"] == "PartialObjectMetadata"
    _, pods = call(k, "GET", "/api/v1/namespaces/shop/pods?includeObject=None", Accept=TABLE)
    assert [c["name"] for c in pods["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert all("object" not in r for r in pods["rows"])
    _, one = call(k, "GET", f"{DEPLOYMENTS}/payments", Accept=TABLE)
    assert [r["cells"][0] for r in one["rows"]] == ["payments"]
    assert call(k, "GET", DEPLOYMENTS)[1]["kind"] == "DeploymentList"  # plain JSON otherwise


def test_watch_from_a_resource_version_with_a_field_selector(k) -> None:
    rv = call(k, "GET", DEPLOYMENTS)[1]["metadata"]["resourceVersion"]
    k.deploy("shop", "payments", "shop/payments:2.8.0")
    k.deploy("shop", "checkout", "shop/checkout:1.43")
    events = watch(
        k, f"resourceVersion={rv}&fieldSelector=metadata.name%3Dpayments&timeoutSeconds=1"
    )
    assert events and {e["type"] for e in events} == {"MODIFIED"}
    assert {e["object"]["metadata"]["name"] for e in events} == {"payments"}
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(rv)
    last = events[-1]["object"]
    [container] = last["spec"]["template"]["spec"]["containers"]
    assert last["kind"] == "Deployment" and container["image"] == "shop/payments:2.8.0"
    initial = watch(k, "timeoutSeconds=0")
    assert sorted(e["object"]["metadata"]["name"] for e in initial) == ["checkout", "payments"]
    assert {e["type"] for e in initial} == {"ADDED"}


def test_watch_from_a_compacted_resource_version_is_410_gone(k) -> None:
    with k.lock:
        k.store.changes = deque(list(k.store.changes)[-3:], maxlen=3)
    [event] = watch(k, "resourceVersion=1&timeoutSeconds=1")
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith("too old resource version: 1 (")


def test_status_writes_move_resource_version_not_generation(k) -> None:
    d = k.get("Deployment", "shop", "checkout")["metadata"]
    call(k, "GET", DEPLOYMENTS)  # the first request starts the crash-loop clock
    k.advance(11)
    after = k.get("Deployment", "shop", "checkout")
    assert int(after["metadata"]["resourceVersion"]) > int(d["resourceVersion"])
    assert after["metadata"]["generation"] == d["generation"]
    entries = {(e["manager"], e.get("subresource", "")) for e in after["metadata"]["managedFields"]}
    assert ("kube-controller-manager", "status") in entries
    code, _ = call(
        k,
        "PATCH",
        f"{DEPLOYMENTS}/checkout?fieldManager=incident-bot",
        {"spec": {"replicas": 4}},
        Content_Type="application/merge-patch+json",
    )
    bumped = k.get("Deployment", "shop", "checkout")["metadata"]
    assert code == 200 and bumped["generation"] == d["generation"] + 1
    [mine] = [e for e in bumped["managedFields"] if e["manager"] == "incident-bot"]
    assert mine["operation"] == "Update" and mine["fieldsV1"] == {"f:spec": {"f:replicas": {}}}


def test_field_manager_defaults_to_the_user_agent_and_is_validated(k) -> None:
    patch = {"metadata": {"labels": {"team": "payments"}}}
    ctype = "application/merge-patch+json"
    call(k, "PATCH", f"{DEPLOYMENTS}/payments", patch, Content_Type=ctype, User_Agent="curl/8.5")
    entries = k.get("Deployment", "shop", "payments")["metadata"]["managedFields"]
    assert any(e["manager"] == "curl" for e in entries)
    code, body = call(
        k, "PATCH", f"{DEPLOYMENTS}/payments?fieldManager={'x' * 129}", patch, Content_Type=ctype
    )
    assert (code, body["kind"], body["reason"]) == (422, "Status", "Invalid")
