"""Kubernetes remediations exactly as kubectl does them: rollout undo, restart, scale.

Follows k8s.io/kubectl pkg/polymorphichelpers rollback.go (DeploymentRollbacker),
objectrestarter.go and pkg/scale. A preview is computed first; applying it re-checks that
the spec did not change since (metadata.generation, not resourceVersion: status writes
move that). Every write names its field manager, `warroom`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.targets import TargetError
from bot.targets import kubernetes as k8s

HASH_LABEL = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# rollback.go annotationsToSkip: kept from the deployment, never copied from the ReplicaSet
SKIP_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}


@dataclass
class Revision:
    number: int
    images: list[str]
    change_cause: str
    rolled_out: datetime | None


def _rev(rs: Any) -> Revision:
    return Revision(
        k8s.revision_of(rs),
        [f"{c.name}={c.image}" for c in rs.spec.template.spec.containers],
        (rs.metadata.annotations or {}).get(k8s.CHANGE_CAUSE, ""),
        rs.metadata.creation_timestamp,
    )


def _template_dict(api: Any, template: Any) -> dict[str, Any]:
    return api.sanitize_for_serialization(template)


def _without_hash(t: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(t)
    labels = (t.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return t


def pick_revision(dep: Any, sets: list[Any], to_revision: int) -> Any:
    """deploymentRevision(): the asked revision, or the second newest when 0. A ReplicaSet
    without the annotation is revision 0 (deploymentutil.Revision); an unreadable one is
    skipped, as kubectl skips it."""
    latest, latest_rev, previous, previous_rev = None, -1, None, -1
    for rs in sets:
        v = k8s.parse_revision(rs)
        if v is None:
            continue
        if to_revision == 0:
            if latest_rev < v:
                previous, previous_rev, latest, latest_rev = latest, latest_rev, rs, v
            elif previous_rev < v:
                previous, previous_rev = rs, v
        elif to_revision == v:
            return rs
    if to_revision > 0:
        raise TargetError(
            f"Unable to find revision {to_revision} in the rollout history of "
            f"deployment {dep.metadata.name}."
        )
    if previous is None:
        raise TargetError(
            f'No rollout history found for deployment "{dep.metadata.name}": '
            "there is no previous revision to roll back to."
        )
    return previous


@dataclass
class RollbackPlan:
    current: Revision
    target: Revision
    replicaset: str  # exactly the ReplicaSet the preview shows; the rollback applies this one
    generation: int  # the spec the approver saw; status writes do not move it
    skip: bool  # the current template already matches the target revision


def plan_rollback(api: Any, ns: str, name: str, to_revision: int) -> RollbackPlan:
    dep = k8s.deployment(api, ns, name)
    if dep.spec.paused:
        raise TargetError(
            f"Deployment {name} is paused: you cannot roll back a paused deployment. "
            "Resume it first (kubectl rollout resume), then ask again."
        )
    sets = k8s.replica_sets(api, ns, dep)
    target = pick_revision(dep, sets, to_revision)
    current = next((rs for rs in sets if k8s.revision_of(rs) == k8s.revision_of(dep)), None)
    same = _without_hash(_template_dict(api, target.spec.template)) == _without_hash(
        _template_dict(api, dep.spec.template)
    )
    cur = (
        _rev(current)
        if current is not None
        else Revision(
            k8s.revision_of(dep),
            [f"{c.name}={c.image}" for c in dep.spec.template.spec.containers],
            (dep.metadata.annotations or {}).get(k8s.CHANGE_CAUSE, ""),
            None,
        )
    )
    return RollbackPlan(cur, _rev(target), target.metadata.name, dep.metadata.generation or 0, same)


def rollback(api: Any, ns: str, name: str, replicaset: str, generation: int) -> str:
    """Restore the template of `replicaset`, as planned at `generation` of the deployment.

    The guard is the spec the approver saw (metadata.generation), not resourceVersion: the
    deployment controller rewrites status all the time (crash-looping pods), which bumps
    resourceVersion without any change of intent."""
    dep = k8s.deployment(api, ns, name)
    if (dep.metadata.generation or 0) != generation:
        raise TargetError(_changed(name))
    if dep.spec.paused:
        raise TargetError(f"Deployment {name} was paused after the preview; resume it first.")
    target = next(
        (rs for rs in k8s.replica_sets(api, ns, dep) if rs.metadata.name == replicaset), None
    )
    if target is None:
        raise TargetError(
            f"ReplicaSet {replicaset} of deployment {name} is gone since the preview "
            "(revisionHistoryLimit cleans old ones up). Nothing was done; ask again."
        )
    revision = k8s.revision_of(target)
    template = _template_dict(api, target.spec.template)
    if _without_hash(template) == _without_hash(_template_dict(api, dep.spec.template)):
        return f"skipped rollback (current template already matches revision {revision})"
    (template.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    annotations = {
        k: v for k, v in (dep.metadata.annotations or {}).items() if k in SKIP_ANNOTATIONS
    }
    annotations.update(
        {k: v for k, v in (target.metadata.annotations or {}).items() if k not in SKIP_ANNOTATIONS}
    )
    # kubectl's two ops, behind a `test` that the spec is still the one previewed.
    patch = [
        {"op": "test", "path": "/metadata/generation", "value": generation},
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    _patch(api, ns, name, patch, f"roll back deployment {name} in {ns}")
    return f"rolled back to revision {revision} (ReplicaSet {replicaset})"


def _changed(name: str) -> str:
    return (
        f"Deployment {name} changed after the preview was approved (someone deployed or "
        "edited it). Nothing was done; ask again to see a fresh preview."
    )


# NewGenericServerResponse(422) for a JSON patch that fails to apply (our `test` op) keeps
# only this text: no causes, unlike a validation error.
PATCH_NOT_APPLIED = "the server rejected our request due to an error in our request"


def _patch(api: Any, ns: str, name: str, body: Any, what: str) -> Any:
    from kubernetes.client.exceptions import ApiException

    try:
        return k8s.apps(api).patch_namespaced_deployment(
            name,
            ns,
            body,
            field_manager=k8s.FIELD_MANAGER,
            _content_type="application/json-patch+json",
            _request_timeout=k8s.REQUEST_TIMEOUT,
        )
    except ApiException as e:
        message = k8s.status_message(e)
        if e.status == 422 and message == PATCH_NOT_APPLIED:
            raise TargetError(_changed(name)) from None
        raise k8s.explain(what, e.status, e.reason, message) from None


KINDS = {
    "deployment": ("deployment", "patch_namespaced_deployment", "read_namespaced_deployment"),
    "statefulset": (
        "stateful set",
        "patch_namespaced_stateful_set",
        "read_namespaced_stateful_set",
    ),
    "daemonset": ("daemon set", "patch_namespaced_daemon_set", "read_namespaced_daemon_set"),
}


def check_restartable(api: Any, kind: str, ns: str, name: str) -> Any:
    """objectrestarter.go refuses a paused deployment: say so before anyone approves."""
    obj = read_workload(api, kind, ns, name)
    if kind == "deployment" and obj.spec.paused:
        raise TargetError(
            f"Deployment {name} is paused: can't restart a paused deployment. "
            "Resume it first (kubectl rollout resume), then ask again."
        )
    return obj


def restart(api: Any, kind: str, ns: str, name: str, now: datetime | None = None) -> str:
    """objectrestarter.go: stamp the template so the controller rolls every pod."""
    label, patch_fn, _read_fn = KINDS[kind]
    apps = k8s.apps(api)
    check_restartable(api, kind, ns, name)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    k8s.call(
        f"restart {label} {name} in {ns}",
        lambda: getattr(apps, patch_fn)(
            name, ns, body, field_manager=k8s.FIELD_MANAGER, _request_timeout=k8s.REQUEST_TIMEOUT
        ),
    )
    return f"{label} {name} restarted (restartedAt {stamp})"


def read_scale(api: Any, ns: str, name: str) -> int:
    s = k8s.call(
        f"read the scale of deployment {name} in {ns}",
        lambda: k8s.apps(api).read_namespaced_deployment_scale(
            name, ns, _request_timeout=k8s.REQUEST_TIMEOUT
        ),
    )
    return s.spec.replicas or 0


def scale(api: Any, ns: str, name: str, replicas: int, expected: int | None) -> str:
    """pkg/scale: through the scale subresource, refusing if it changed since the preview."""
    current = read_scale(api, ns, name)
    if expected is not None and current != expected:
        raise TargetError(
            f"Deployment {name} now has {current} replicas, not the {expected} "
            "shown in the preview. Nothing was done; ask again."
        )
    k8s.call(
        f"scale deployment {name} in {ns}",
        lambda: k8s.apps(api).patch_namespaced_deployment_scale(
            name,
            ns,
            {"spec": {"replicas": replicas}},
            field_manager=k8s.FIELD_MANAGER,
            _request_timeout=k8s.REQUEST_TIMEOUT,
        ),
    )
    return f"deployment {name} scaled from {current} to {replicas} replicas"


def watch(
    api: Any,
    ns: str,
    name: str,
    on_progress: Any,
    timeout_s: float,
    interval_s: float,
    sleep: Any = None,
) -> tuple[str, bool]:
    """rollout status --watch: report each new message until done, failed or timed out."""
    import time

    sleep = sleep or time.sleep
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        message, done, failed = k8s.rollout_status(k8s.deployment(api, ns, name))
        if message != last:
            on_progress(message)
            last = message
        if done or failed:
            return message, done
        if time.monotonic() >= deadline:
            return f"timed out waiting for the condition after {timeout_s:g} s: {message}", False
        sleep(interval_s)


# What an interrupted change left behind ------------------------------------------------------
# Each returns (applied: True / False / None for "cannot tell", what Kubernetes shows).
def rollback_outcome(
    api: Any, ns: str, name: str, replicaset: str, generation: int
) -> tuple[bool | None, str]:
    """The rollback's patch tests the generation it was approved at, so it applied exactly when
    the generation moved on and the template is the ReplicaSet's."""
    dep = k8s.deployment(api, ns, name)
    gen = dep.metadata.generation or 0
    if gen == generation:
        return False, f"Kubernetes shows deployment {name} unchanged (generation still {gen})"
    target = next(
        (rs for rs in k8s.replica_sets(api, ns, dep) if rs.metadata.name == replicaset), None
    )
    now = _without_hash(_template_dict(api, dep.spec.template))
    if target is not None and _without_hash(_template_dict(api, target.spec.template)) == now:
        rollout = k8s.rollout_status(dep)[0]
        return True, (
            f"Kubernetes shows it applied (generation {generation} → {gen}, the template of "
            f"revision {k8s.revision_of(target)}); the rollout now: {rollout}"
        )
    return None, (
        f"Kubernetes shows deployment {name} changed since the approval (generation "
        f"{generation} → {gen}), but not to the template of ReplicaSet {replicaset}"
    )


def restart_outcome(api: Any, kind: str, ns: str, name: str, since: datetime) -> tuple[bool, str]:
    """A restart stamps the template with the time: one at or after the run began is ours
    (or a restart as good as ours)."""
    obj = read_workload(api, kind, ns, name)
    meta = obj.spec.template.metadata
    stamp = ((meta.annotations if meta else None) or {}).get(RESTARTED_AT, "")
    began = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    label = KINDS[kind][0]
    if stamp and stamp >= began:
        return True, (
            f"Kubernetes shows it applied ({label} {name} restartedAt {stamp}, generation "
            f"{obj.metadata.generation})"
        )
    shown = f"restartedAt {stamp}" if stamp else "never restarted"
    return False, f"Kubernetes shows no restart of {label} {name} since {began} ({shown})"


def scale_outcome(
    api: Any, ns: str, name: str, replicas: int, expected: int | None
) -> tuple[bool | None, str]:
    current = read_scale(api, ns, name)
    if current == replicas:
        return True, f"Kubernetes shows it applied (replicas {expected} → {current})"
    if current == expected:
        return False, f"Kubernetes shows deployment {name} still at {current} replicas"
    return None, (
        f"Kubernetes shows {current} replicas, neither the {expected} before nor the "
        f"{replicas} approved"
    )


def read_workload(api: Any, kind: str, ns: str, name: str) -> Any:
    label, _patch_fn, read_fn = KINDS[kind]
    apps = k8s.apps(api)
    return k8s.call(
        f"read {label} {name} in {ns}",
        lambda: getattr(apps, read_fn)(name, ns, _request_timeout=k8s.REQUEST_TIMEOUT),
    )
