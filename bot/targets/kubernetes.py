"""Kubernetes through the official client only: never a kubectl binary, never a shell.

Functions return plain dicts/tuples; API errors become TargetError in plain words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.config import KubernetesTarget
from bot.targets import TargetError

T = TypeVar("T")
REQUEST_TIMEOUT = (3, 15)  # connect, read seconds
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Sent on every write, so managedFields show who changed what (kubectl says kubectl-rollout).
FIELD_MANAGER = "warroom"


def make_api_client(cfg: KubernetesTarget) -> Any:
    from kubernetes import client, config

    if cfg.host:
        c = client.Configuration()
        c.host = cfg.host
        c.verify_ssl = False
        return client.ApiClient(c)
    if cfg.kubeconfig or not _in_cluster():
        return config.new_client_from_config(
            config_file=cfg.kubeconfig or None, context=cfg.context or None
        )
    c = client.Configuration()
    config.load_incluster_config(client_configuration=c)
    return client.ApiClient(c)


def _in_cluster() -> bool:
    import os

    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


# RBAC's wording (k8s.io/apiserver authorization/authorizer: forbiddenMessage).
FORBIDDEN = re.compile(
    r'User "(?P<user>[^"]+)" cannot (?P<verb>\S+) resource "(?P<resource>[^"]+)" '
    r'in API group "(?P<group>[^"]*)" (?:in the namespace "(?P<ns>[^"]+)"|at the cluster scope)'
)


def forbidden(what: str, message: str) -> str:
    """What permission is missing, for whom and where, from a 403's Status message."""
    m = FORBIDDEN.search(message)
    if m is None:
        said = f": {message}" if message else ""
        return f"Kubernetes RBAC refused to {what} (403 Forbidden){said}."
    group = f"API group `{m['group']}`" if m["group"] else "the core API group"
    where = f"in namespace `{m['ns']}`" if m["ns"] else "at the cluster scope"
    return (
        f"Kubernetes RBAC refused to {what} (403 Forbidden): the bot's service account "
        f"`{m['user']}` lacks the permission to *{m['verb']}* `{m['resource']}` ({group}) "
        f"{where}. A cluster admin can grant it in Warroom's Role (the Helm chart grants it "
        "for the namespaces in `kubernetes.namespaces`)."
    )


def explain(what: str, status: int, reason: str = "", message: str = "") -> TargetError:
    """A refusal in plain words, with the API server's own message where it says more."""
    said = f": {message}" if message else ""
    words = {
        403: forbidden(what, message),
        404: f"Not found: {what} (404).",
        409: (
            f"Kubernetes refused to {what} with a conflict (409 Conflict){said}. The object "
            "changed between Warroom's read and its write; ask again to see a fresh preview."
        ),
        422: f"Kubernetes rejected the change to {what} (422 Invalid){said}.",
    }
    return TargetError(words.get(status, f"Kubernetes answered {status} {reason} to {what}{said}."))


def status_message(e: Any) -> str:
    """The API server's own words from a `kind: Status` error body, if it sent one."""
    import json

    try:
        body = json.loads(e.body or "{}")
    except (TypeError, ValueError):
        return ""
    return str(body.get("message") or "") if isinstance(body, dict) else ""


def call(what: str, fn: Callable[[], T]) -> T:
    """Run one API call; turn the client's exceptions into sentences."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return fn()
    except ApiException as e:
        raise explain(what, e.status, e.reason, status_message(e)) from None
    except HTTPError as e:
        raise TargetError(f"The Kubernetes API is unreachable ({e.__class__.__name__}).") from None


def core(api: Any) -> Any:
    from kubernetes import client

    return client.CoreV1Api(api)


def apps(api: Any) -> Any:
    from kubernetes import client

    return client.AppsV1Api(api)


def age(ts: datetime | None, now: datetime | None = None) -> str:
    if ts is None:
        return "—"
    secs = int(((now or datetime.now(UTC)) - ts).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{max(secs, 0)}s"


def deployment(api: Any, ns: str, name: str) -> Any:
    return call(
        f"read deployment {name} in {ns}",
        lambda: apps(api).read_namespaced_deployment(name, ns, _request_timeout=REQUEST_TIMEOUT),
    )


def selector_of(dep: Any) -> str:
    labels = (dep.spec.selector.match_labels or {}) if dep.spec.selector else {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pods(api: Any, ns: str, selector: str) -> list[dict[str, Any]]:
    res = call(
        f"list pods in {ns}",
        lambda: core(api).list_namespaced_pod(
            ns, label_selector=selector or None, _request_timeout=REQUEST_TIMEOUT
        ),
    )
    rows = []
    for p in res.items:
        statuses = p.status.container_statuses or []
        ready = sum(1 for c in statuses if c.ready)
        waiting = next(
            (
                c.state.waiting.reason
                for c in statuses
                if c.state and c.state.waiting and c.state.waiting.reason
            ),
            None,
        )
        rows.append(
            {
                "name": p.metadata.name,
                "ready": f"{ready}/{len(p.spec.containers)}",
                "status": waiting or p.status.phase,
                "restarts": sum(c.restart_count for c in statuses),
                "age": age(p.metadata.creation_timestamp),
                "node": p.spec.node_name,
            }
        )
    return rows


def events(
    api: Any, ns: str, kind: str | None = None, name: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    fields = []
    if name:
        fields.append(f"involvedObject.name={name}")
    if kind:
        fields.append(f"involvedObject.kind={kind}")
    res = call(
        f"list events in {ns}",
        lambda: core(api).list_namespaced_event(
            ns, field_selector=",".join(fields) or None, _request_timeout=REQUEST_TIMEOUT
        ),
    )

    def last(e: Any) -> datetime:
        return (
            e.last_timestamp
            or e.event_time
            or e.metadata.creation_timestamp
            or datetime.min.replace(tzinfo=UTC)
        )

    items = sorted(res.items, key=last, reverse=True)[:limit]
    return [
        {
            "last": age(last(e)),
            "type": e.type,
            "reason": e.reason,
            "object": f"{e.involved_object.kind}/{e.involved_object.name}",
            "count": e.count,
            "message": e.message,
        }
        for e in items
    ]


def describe_pod(api: Any, ns: str, name: str) -> str:
    p = call(
        f"read pod {name} in {ns}",
        lambda: core(api).read_namespaced_pod(name, ns, _request_timeout=REQUEST_TIMEOUT),
    )
    lines = [
        f"Name: {p.metadata.name}",
        f"Namespace: {ns}",
        f"Node: {p.spec.node_name}",
        f"Status: {p.status.phase}",
        f"Started: {p.status.start_time}",
        "Labels: " + ", ".join(f"{k}={v}" for k, v in (p.metadata.labels or {}).items()),
        "Conditions:",
    ]
    for c in p.status.conditions or []:
        lines.append(f"  {c.type}: {c.status}" + (f" ({c.reason})" if c.reason else ""))
    lines.append("Containers:")
    for c in p.status.container_statuses or []:
        state = c.state
        if state.running:
            st = f"Running since {state.running.started_at}"
        elif state.waiting:
            st = f"Waiting: {state.waiting.reason} {state.waiting.message or ''}".rstrip()
        elif state.terminated:
            st = f"Terminated: {state.terminated.reason} (exit {state.terminated.exit_code})"
        else:
            st = "unknown"
        lines.append(f"  {c.name}: image {c.image}, ready {c.ready}, restarts {c.restart_count}")
        lines.append(f"    state: {st}")
        last = c.last_state.terminated if c.last_state else None
        if last:
            lines.append(
                f"    last terminated: {last.reason} (exit {last.exit_code}) at {last.finished_at}"
            )
    lines.append("Events:")
    for e in events(api, ns, "Pod", name, limit=15):
        lines.append(f"  {e['last']:>4} {e['type']:<8} {e['reason']:<16} {e['message']}")
    return "\n".join(lines)


def logs(
    api: Any, ns: str, pod: str, tail: int, since: int | None, previous: bool, container: str | None
) -> str:
    return call(
        f"read logs of pod {pod} in {ns}",
        lambda: core(api).read_namespaced_pod_log(
            pod,
            ns,
            tail_lines=tail,
            since_seconds=since,
            previous=previous,
            container=container,
            _request_timeout=REQUEST_TIMEOUT,
        ),
    )


def top(api: Any, what: str, ns: str | None, selector: str | None) -> list[dict[str, Any]]:
    """metrics.k8s.io, v1beta1 then v1; a clear message when metrics-server is missing."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from kubernetes.utils import parse_quantity

    custom = client.CustomObjectsApi(api)
    for version in ("v1beta1", "v1"):
        try:
            if what == "nodes":
                res = custom.list_cluster_custom_object(
                    "metrics.k8s.io", version, "nodes", _request_timeout=REQUEST_TIMEOUT
                )
            else:
                res = custom.list_namespaced_custom_object(
                    "metrics.k8s.io",
                    version,
                    ns,
                    "pods",
                    label_selector=selector or None,
                    _request_timeout=REQUEST_TIMEOUT,
                )
            break
        except ApiException as e:
            if e.status == 404:
                continue
            raise explain(f"read {what} metrics", e.status, e.reason, status_message(e)) from None
    else:
        raise TargetError(
            "No metrics: metrics-server (metrics.k8s.io) is not installed in this cluster."
        )
    rows = []
    for item in res.get("items", []):
        usage = item.get("usage") or {}
        if what == "pods":
            cpu = sum(parse_quantity(c["usage"]["cpu"]) for c in item.get("containers", []))
            mem = sum(parse_quantity(c["usage"]["memory"]) for c in item.get("containers", []))
        else:
            cpu, mem = (
                parse_quantity(usage.get("cpu", "0")),
                parse_quantity(usage.get("memory", "0")),
            )
        rows.append(
            {
                "name": item["metadata"]["name"],
                "cpu": f"{int(cpu * 1000)}m",
                "memory": f"{int(mem / (1024 * 1024))}Mi",
            }
        )
    return sorted(rows, key=lambda r: int(r["cpu"][:-1]), reverse=True)


def replica_sets(api: Any, ns: str, dep: Any) -> list[Any]:
    """ReplicaSets controlled by the deployment (by owner UID, as kubectl does)."""
    res = call(
        f"list replicasets in {ns}",
        lambda: apps(api).list_namespaced_replica_set(
            ns, label_selector=selector_of(dep) or None, _request_timeout=REQUEST_TIMEOUT
        ),
    )
    return [
        rs
        for rs in res.items
        if any(
            o.controller and o.uid == dep.metadata.uid for o in rs.metadata.owner_references or []
        )
    ]


def parse_revision(obj: Any) -> int | None:
    """deploymentutil.Revision(): no annotation is revision 0; an unparsable one is None
    (kubectl skips that object)."""
    raw = (obj.metadata.annotations or {}).get(REVISION)
    if raw is None:
        return 0
    return int(raw) if re.fullmatch(r"[+-]?[0-9]{1,18}", raw) else None


def revision_of(obj: Any) -> int:
    return parse_revision(obj) or 0


def history(api: Any, ns: str, name: str) -> list[dict[str, Any]]:
    """kubectl rollout history: every controlled ReplicaSet with a readable revision."""
    dep = deployment(api, ns, name)
    sets = [rs for rs in replica_sets(api, ns, dep) if parse_revision(rs) is not None]
    rows = []
    for rs in sorted(sets, key=lambda r: (revision_of(r), r.metadata.name)):
        rows.append(
            {
                "revision": revision_of(rs),
                "replicaset": rs.metadata.name,
                "change_cause": (rs.metadata.annotations or {}).get(CHANGE_CAUSE, ""),
                "images": ", ".join(c.image for c in rs.spec.template.spec.containers),
                "created": age(rs.metadata.creation_timestamp),
                "current": revision_of(rs) == revision_of(dep),
            }
        )
    return rows


def rollout_status(dep: Any) -> tuple[str, bool, bool]:
    """kubectl's rollout_status.go for deployments: (message, done, failed)."""
    name, st, spec = dep.metadata.name, dep.status, dep.spec
    if (dep.metadata.generation or 0) > (st.observed_generation or 0):
        return "Waiting for deployment spec update to be observed...", False, False
    cond = next((c for c in st.conditions or [] if c.type == "Progressing"), None)
    if cond is not None and cond.reason == "ProgressDeadlineExceeded":
        return f'deployment "{name}" exceeded its progress deadline', False, True
    want = spec.replicas if spec.replicas is not None else 1
    updated, replicas = st.updated_replicas or 0, st.replicas or 0
    available = st.available_replicas or 0
    if updated < want:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {want} '
            "new replicas have been updated...",
            False,
            False,
        )
    if replicas > updated:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {replicas - updated} old '
            "replicas are pending termination...",
            False,
            False,
        )
    if available < updated:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
            "updated replicas are available...",
            False,
            False,
        )
    return f'deployment "{name}" successfully rolled out', True, False
