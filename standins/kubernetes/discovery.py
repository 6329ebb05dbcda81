"""Discovery documents of the Kubernetes API stand-in, in the legacy (non-aggregated) form.

kubectl 1.32 asks for aggregated discovery (``apidiscovery.k8s.io/v2``) but also accepts
``application/json``; answered with the legacy documents, it falls back to reading
``/api/v1`` and each ``/apis/<group>/<version>`` as a real server without aggregation would
make it."""

from __future__ import annotations

from standins.kubernetes.store import RESOURCES, Obj, Resource

# Short names and verbs as a v1.31 API server lists them.
SHORT = {
    "pods": ["po"],
    "events": ["ev"],
    "nodes": ["no"],
    "namespaces": ["ns"],
    "deployments": ["deploy"],
    "replicasets": ["rs"],
    "statefulsets": ["sts"],
    "daemonsets": ["ds"],
}
ALL = {"pods", "deployments", "replicasets", "statefulsets", "daemonsets"}  # `kubectl get all`
READ_WRITE = ["create", "delete", "get", "list", "patch", "update", "watch"]  # no deletecollection
SUBRESOURCES = {
    "pods": [("log", "Pod", ["get"]), ("status", "Pod", ["get", "patch", "update"])],
    "deployments": [
        ("scale", "Scale", ["get", "patch", "update"]),
        ("status", "Deployment", ["get", "patch", "update"]),
    ],
    "replicasets": [("status", "ReplicaSet", ["get", "patch", "update"])],
    "statefulsets": [("status", "StatefulSet", ["get", "patch", "update"])],
    "daemonsets": [("status", "DaemonSet", ["get", "patch", "update"])],
}


def api_versions(host: str) -> Obj:
    """GET /api."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    }


def _group_versions(metrics: bool) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for res in RESOURCES.values():
        if res.group:
            groups.setdefault(res.group, [])
            if res.version not in groups[res.group]:
                groups[res.group].append(res.version)
    groups["autoscaling"] = ["v1"]  # served for the Scale kind of deployments/scale
    if metrics:
        groups["metrics.k8s.io"] = ["v1beta1"]
    return groups


def api_groups(metrics: bool) -> Obj:
    """GET /apis."""
    groups = []
    for name, versions in _group_versions(metrics).items():
        vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        groups.append({"name": name, "versions": vs, "preferredVersion": vs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _entry(res: Resource) -> list[Obj]:
    entry: Obj = {
        "name": res.name,
        "singularName": res.kind.lower(),
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(READ_WRITE),
    }
    if res.name in SHORT:
        entry["shortNames"] = SHORT[res.name]
    if res.name in ALL:
        entry["categories"] = ["all"]
    out = [entry]
    for sub, kind, verbs in SUBRESOURCES.get(res.name, ()):
        sub_entry: Obj = {"name": f"{res.name}/{sub}", "singularName": "", "kind": kind}
        sub_entry |= {"namespaced": res.namespaced, "verbs": verbs}
        if kind == "Scale":
            sub_entry |= {"group": "autoscaling", "version": "v1"}
        out.append(sub_entry)
    return out


def resource_list(group_version: str, metrics: bool) -> Obj | None:
    """GET /api/v1 or /apis/<group>/<version>; None when the group version is not served."""
    if group_version == "metrics.k8s.io/v1beta1":
        if not metrics:
            return None
        resources = [
            {"name": n, "singularName": "", "namespaced": n == "pods", "kind": k, "verbs": v}
            for n, k, v in (
                ("nodes", "NodeMetrics", ["get", "list"]),
                ("pods", "PodMetrics", ["get", "list"]),
            )
        ]
    elif group_version == "autoscaling/v1":
        resources = []
    else:
        served = [r for r in RESOURCES.values() if r.api_version == group_version]
        if not served:
            return None
        resources = [e for r in served for e in _entry(r)]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
