"""REST semantics of the Kubernetes API stand-in: verbs, validation, RBAC denials, scale."""

from __future__ import annotations

import copy
import json
from typing import Any

from standins.kubernetes import objects as objs
from standins.kubernetes.controller import Controller
from standins.kubernetes.patch import PATCH_TYPES, apply_patch
from standins.kubernetes.select import (
    fields_match,
    labels_match,
    parse_fields,
    parse_labels,
    selector_requirements,
    selector_string,
)
from standins.kubernetes.store import (
    BY_KIND,
    DAEMONSET,
    DEPLOYMENT,
    NAMESPACE,
    NODE,
    POD,
    REPLICASET,
    STATEFULSET,
    ApiError,
    Obj,
    Resource,
    Store,
)

# A PolicyRule: verbs, resources, API groups, and the namespace of its RoleBinding (None: all).
Grant = tuple[frozenset[str], frozenset[str], frozenset[str], str | None]
WORKLOADS = (DEPLOYMENT, REPLICASET, STATEFULSET, DAEMONSET)
SCALE = Resource("deployments", "autoscaling", "v1", "Scale")  # names Scale in Invalid errors


def _go_map(labels: dict[str, str] | None) -> str:
    inner = ", ".join(f'"{k}":"{v}"' for k, v in sorted((labels or {}).items()))
    return f"map[string]string{{{inner}}}"


def _bad_replicas(replicas: Any) -> list[tuple[str, str]]:
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 0:
        return []
    why = f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0"
    return [("spec.replicas", why)]


def _object(body: Any) -> Obj:
    if not isinstance(body, dict):
        raise ApiError.bad_request("the body of the request is not a JSON object")
    return body


class K8sCluster:
    """Cluster state behind the HTTP layer; public helpers lock, REST verbs expect the lock."""

    def __init__(self, seed: int = 7) -> None:
        self.store = Store(seed)
        self.lock = self.store.lock
        self.controller = Controller(self.store)
        self.metrics_enabled = True  # off: metrics.k8s.io answers 404 like an unserved API group
        self.user = "system:serviceaccount:warroom:warroom"  # the chart's
        self._rules: list[tuple[str, str, str | None]] = []
        # The service account's Role rules: None grants everything (a cluster-admin binding).
        self._grants: list[Grant] | None = None
        self._conflicts: list[list[Any]] = []  # [verb, resource, namespace, times left]
        self._logs: dict[tuple[str, str, str, bool], list[tuple[float, str]]] = {}
        self._usage: dict[tuple[str, ...], dict[str, str]] = {}
        with self.lock:
            for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
                self.store.create(NAMESPACE, objs.namespace(ns))

    # ------------------------------------------------------------------------- RBAC
    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Answer 403 to ``verb`` ("get", "list", "patch", "update", "create", "delete" or "*")
        on ``resource`` ("deployments", "deployments/scale", "pods/log", "pods.metrics.k8s.io"
        or "*"), in ``namespace`` or in all of them."""
        with self.lock:
            self._rules.append((verb, resource, namespace))

    def allow_all(self) -> None:
        """Drop every ``forbid`` rule, every ``grant`` (back to allow-all) and every conflict."""
        with self.lock:
            self._rules.clear()
            self._grants = None
            self._conflicts.clear()

    def grant(
        self,
        verbs: list[str],
        resources: list[str],
        api_groups: list[str] | None = None,
        namespace: str | None = None,
    ) -> None:
        """Bind the service account to one more PolicyRule, as a Role (``namespace``) or a
        ClusterRole (None) grants it. Once any rule is granted, everything not granted is
        403 Forbidden, as RBAC answers. ``resources`` name subresources as RBAC does
        (``deployments/scale``, ``pods/log``); ``"*"`` matches any verb, resource or group."""
        groups = frozenset(api_groups if api_groups is not None else ["", "apps"])
        with self.lock:
            if self._grants is None:
                self._grants = []
            self._grants.append((frozenset(verbs), frozenset(resources), groups, namespace))

    def conflict(
        self, verb: str, resource: str, namespace: str | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` ``verb`` requests on ``resource`` (``deployments``,
        ``deployments/scale``, …) with 409 Conflict, as the API server does when the object
        changed between its read and its write (``the object has been modified``)."""
        with self.lock:
            self._conflicts.append([verb, resource, namespace, times])

    def authorize(
        self, verb: str, res: Resource, sub: str, ns: str | None, name: str | None
    ) -> None:
        key = f"{res.name}/{sub}" if sub else res.name
        keys = {"*", f"{res.qualified}/{sub}" if sub else res.qualified}
        if res.group in ("", "apps"):  # "pods" names core pods, not metrics.k8s.io's
            keys.add(key)
        for v, r, n in self._rules:
            if v in ("*", verb) and r in keys and n in (None, ns):
                raise ApiError.forbidden(res, sub, verb, self.user, ns, name)
        if self._grants is not None and not any(
            (verb in verbs or "*" in verbs)
            and (key in resources or "*" in resources)
            and (res.group in groups or "*" in groups)
            and n in (None, ns)
            for verbs, resources, groups, n in self._grants
        ):
            raise ApiError.forbidden(res, sub, verb, self.user, ns, name)

    def collide(self, verb: str, res: Resource, sub: str, ns: str | None, name: str | None) -> None:
        """An injected 409 Conflict for this write, if one is armed (see ``conflict``)."""
        key = f"{res.name}/{sub}" if sub else res.name
        for c in self._conflicts:
            if c[3] > 0 and c[0] in ("*", verb) and c[1] in ("*", key) and c[2] in (None, ns):
                c[3] -= 1
                raise ApiError.conflict(res, name or "")

    # ------------------------------------------------------------------------ reads
    def list_objects(
        self, res: Resource, ns: str | None, labels: str | None = None, fields: str | None = None
    ) -> Obj:
        reqs, terms = parse_labels(labels), parse_fields(fields)
        items = [
            {k: v for k, v in o.items() if k not in ("kind", "apiVersion")}  # as list items are
            for o in self.store.items(res, ns)
            if labels_match(reqs, o["metadata"].get("labels")) and fields_match(terms, o)
        ]
        meta = {"resourceVersion": self.store.resource_version}
        return {"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": meta} | {
            "items": items
        }

    def get_object(self, res: Resource, ns: str | None, name: str) -> Obj:
        return self.store.get(res, ns, name)

    # ----------------------------------------------------------------------- writes
    def _validate(self, res: Resource, obj: Obj, old: Obj | None = None) -> None:
        spec, causes = obj.get("spec") or {}, []
        pod_spec, prefix = spec, "spec"
        if res in WORKLOADS:
            causes += _bad_replicas(spec.get("replicas", 0))
            selector = spec.get("selector")
            labels = spec.get("template", {}).get("metadata", {}).get("labels")
            if not selector:
                causes.append(("spec.selector", "Required value"))
            elif old is not None and selector != old["spec"].get("selector"):
                why = "Invalid value: v1.LabelSelector: field is immutable"
                causes.append(("spec.selector", why))
            elif not labels_match(selector_requirements(selector), labels):
                why = (
                    f"Invalid value: {_go_map(labels)}: `selector` does not match template `labels`"
                )
                causes.append(("spec.template.metadata.labels", why))
            pod_spec, prefix = spec.get("template", {}).get("spec") or {}, "spec.template.spec"
        if res in (*WORKLOADS, POD):
            containers = pod_spec.get("containers") or []
            if not containers:
                causes.append((f"{prefix}.containers", "Required value"))
            for i, c in enumerate(containers):
                causes += [
                    (f"{prefix}.containers[{i}].{key}", "Required value")
                    for key in ("name", "image")
                    if not c.get(key)
                ]
        if causes:
            raise ApiError.invalid(res, obj["metadata"]["name"], causes)

    def create_object(self, res: Resource, ns: str | None, body: Any, dry_run: bool = False) -> Obj:
        meta = _object(body).setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + self.store.suffix()
        if not meta.get("name"):
            why = "Required value: name or generateName is required"
            raise ApiError.invalid(res, "", [("metadata.name", why)])
        if res.namespaced:
            if meta.get("namespace", ns) != ns:
                raise ApiError.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = ns
            self.store.get(NAMESPACE, None, ns or "")  # 404 namespaces "x" not found
        meta.pop("resourceVersion", None)
        if res in WORKLOADS:
            body.pop("status", None)
        objs.apply_defaults(res, body)
        self._validate(res, body)
        if dry_run:
            return body
        obj = self.store.create(res, body)
        if res is POD and not obj.get("status"):  # a bare pod starts at once: no kubelet here
            self.controller.set_mode(obj, "ready", fresh=True)
        self._after_write(res, obj)
        return obj

    def _store_update(self, res: Resource, old: Obj, new: Obj, dry_run: bool) -> Obj:
        meta, name = new.setdefault("metadata", {}), old["metadata"]["name"]
        if meta.get("name", name) != name:
            raise ApiError.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        rv, uid = meta.get("resourceVersion"), old["metadata"]["uid"]
        if rv and rv != old["metadata"]["resourceVersion"]:  # optimistic concurrency
            raise ApiError.conflict(res, name)
        if meta.get("uid") and meta["uid"] != uid:
            why = f"Precondition failed: UID in precondition: {meta['uid']}, "
            why += f"UID in object meta: {uid}"
            raise ApiError.conflict(res, name, why)
        if res in WORKLOADS:  # status belongs to the status subresource
            new["status"] = copy.deepcopy(old.get("status") or {})
        objs.apply_defaults(res, new)
        self._validate(res, new, old)
        if dry_run:
            return new
        obj = self.store.put(res, new, old)
        self._after_write(res, obj)
        return obj

    def replace_object(
        self, res: Resource, ns: str | None, name: str, body: Any, dry_run: bool = False
    ) -> Obj:
        return self._store_update(res, self.store.get(res, ns, name), _object(body), dry_run)

    def patch_object(
        self, res: Resource, ns: str | None, name: str, ctype: str, body: bytes, dry: bool = False
    ) -> Obj:
        if ctype not in PATCH_TYPES:
            raise ApiError.unsupported_media(PATCH_TYPES)
        old = self.store.get(res, ns, name)
        return self._store_update(res, old, apply_patch(ctype, old, body), dry)

    def delete_object(self, res: Resource, ns: str | None, name: str) -> Obj:
        obj = self.store.delete(res, ns, name)
        for child in (REPLICASET, POD) if res in WORKLOADS else ():
            for o in self.store.owned(child, obj):  # the garbage collector's cascade
                self.delete_object(child, o["metadata"]["namespace"], o["metadata"]["name"])
        self._after_write(res, obj, deleted=True)
        return obj

    def _after_write(self, res: Resource, obj: Obj, deleted: bool = False) -> None:
        """Run controllers synchronously, from the object up: pod -> ReplicaSet -> Deployment."""
        if res is NODE:
            for ds in self.store.items(DAEMONSET):
                self.controller.sync(ds)
            return
        if deleted and res is not POD:
            return
        while True:
            if not deleted:
                self.controller.sync(obj)
            refs = obj["metadata"].get("ownerReferences", ())
            ref = next((r for r in refs if r.get("controller")), None)
            owner_res = BY_KIND.get(ref["kind"]) if ref else None
            if ref is None or owner_res is None:
                return
            owner = self.store.find(owner_res, obj["metadata"]["namespace"], ref["name"])
            if owner is None:
                return
            res, obj, deleted = owner_res, owner, False

    # ------------------------------------------------------------------------ scale
    def get_scale(self, ns: str, name: str) -> Obj:
        d = self.store.get(DEPLOYMENT, ns, name)
        keys = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        status = {"replicas": (d.get("status") or {}).get("replicas", 0)}
        status["selector"] = selector_string(d["spec"]["selector"])
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: d["metadata"][k] for k in keys},
            "spec": {"replicas": d["spec"]["replicas"]},
            "status": status,
        }

    def update_scale(
        self, ns: str, name: str, ctype: str | None, body: bytes, dry_run: bool = False
    ) -> Obj:
        """PATCH (``ctype`` set) or PUT (``ctype`` None) of deployments/{name}/scale."""
        scale = self.get_scale(ns, name)
        if ctype is None:
            new = _object(json.loads(body or b"null"))
        elif ctype in PATCH_TYPES:
            new = apply_patch(ctype, scale, body)
        else:
            raise ApiError.unsupported_media(PATCH_TYPES)
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != scale["metadata"]["resourceVersion"]:
            raise ApiError.conflict(DEPLOYMENT, name)
        replicas = (new.get("spec") or {}).get("replicas", 0)
        if causes := _bad_replicas(replicas):
            raise ApiError.invalid(SCALE, name, causes)
        if dry_run:
            scale["spec"]["replicas"] = replicas
            return scale
        d = self.store.get(DEPLOYMENT, ns, name)
        updated = copy.deepcopy(d)
        updated["spec"]["replicas"] = replicas
        self.store.subresource = "scale"
        try:
            self._store_update(DEPLOYMENT, d, updated, False)
        finally:
            self.store.subresource = ""
        return self.get_scale(ns, name)
