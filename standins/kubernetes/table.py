"""Table output (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``) of the Kubernetes API
stand-in: the columns of the real server's printers for pods, deployments, ReplicaSets,
namespaces and nodes; other kinds get the default Name / Created At table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from standins.kubernetes.select import selector_string
from standins.kubernetes.store import Obj, parse_time

Column = tuple[str, str, int]  # name, type, priority (1: only with -o wide)


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes, hours = s // 60, s // 3600
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // (24 * 365), (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // (24 * 365)}y"


def _age(obj: Obj, now: float) -> str:
    return human_duration(now - parse_time(obj["metadata"].get("creationTimestamp")))


def _pod(p: Obj, now: float) -> list[Any]:
    st, spec = p.get("status") or {}, p.get("spec") or {}
    statuses = st.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    reason = st.get("reason") or st.get("phase") or "Unknown"
    for c in statuses:
        state = c.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    restarts = sum(c.get("restartCount", 0) for c in statuses)
    last = max(
        (
            parse_time(c["lastState"]["terminated"].get("finishedAt"))
            for c in statuses
            if (c.get("lastState") or {}).get("terminated")
        ),
        default=0.0,
    )
    shown = f"{restarts} ({human_duration(now - last)} ago)" if restarts and last else restarts
    gates = spec.get("readinessGates") or []
    return [
        p["metadata"]["name"],
        f"{ready}/{len(spec.get('containers') or [])}",
        reason,
        shown,
        _age(p, now),
        st.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        f"0/{len(gates)}" if gates else "<none>",
    ]


def _containers(obj: Obj) -> list[str]:
    containers = obj["spec"].get("template", {}).get("spec", {}).get("containers") or []
    return [",".join(c["name"] for c in containers), ",".join(c["image"] for c in containers)]


def _deployment(d: Obj, now: float) -> list[Any]:
    st = d.get("status") or {}
    return [
        d["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{d['spec'].get('replicas', 0)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        _age(d, now),
        *_containers(d),
        selector_string(d["spec"].get("selector")),
    ]


def _replicaset(rs: Obj, now: float) -> list[Any]:
    st = rs.get("status") or {}
    return [
        rs["metadata"]["name"],
        rs["spec"].get("replicas", 0),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        _age(rs, now),
        *_containers(rs),
        selector_string(rs["spec"].get("selector")),
    ]


def _namespace(n: Obj, now: float) -> list[Any]:
    return [n["metadata"]["name"], (n.get("status") or {}).get("phase", ""), _age(n, now)]


def _node(n: Obj, now: float) -> list[Any]:
    conds = (n.get("status") or {}).get("conditions") or []
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conds)
    version = (n.get("status") or {}).get("nodeInfo", {}).get("kubeletVersion", "")
    status = "Ready" if ready else "NotReady"
    return [n["metadata"]["name"], status, "<none>", _age(n, now), version]


def _default(obj: Obj, now: float) -> list[Any]:
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp")]


WIDE = [("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]
PRINTERS: dict[str, tuple[list[Column], Callable[[Obj, float], list[Any]]]] = {
    "Pod": (
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        _pod,
    ),
    "Deployment": (
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            *WIDE,
        ],
        _deployment,
    ),
    "ReplicaSet": (
        [
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            *WIDE,
        ],
        _replicaset,
    ),
    "Namespace": (
        [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)],
        _namespace,
    ),
    "Node": (
        [
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
        ],
        _node,
    ),
}
DEFAULT: tuple[list[Column], Callable[[Obj, float], list[Any]]] = (
    [("Name", "string", 0), ("Created At", "date", 0)],
    _default,
)


def wants_table(accept: str) -> bool:
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if {"as=Table", "g=meta.k8s.io", "v=v1"} <= params:
            return True
    return False


def _partial(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1"} | {
        "metadata": obj["metadata"]
    }


def to_table(kind: str, objects: list[Obj], rv: str, now: float, include: str) -> Obj:
    """``include`` is the includeObject option: None, Metadata (the default) or Object."""
    columns, printer = PRINTERS.get(kind, DEFAULT)
    rows = []
    for obj in objects:
        row: Obj = {"cells": printer(obj, now)}
        if include != "None":
            row["object"] = {"kind": kind, **obj} if include == "Object" else _partial(obj)
        rows.append(row)
    definitions = [
        {"name": n, "type": t, "format": "name" if n == "Name" else "", "description": n}
        | {"priority": p}
        for n, t, p in columns
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": definitions,
        "rows": rows,
    }
