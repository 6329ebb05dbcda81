"""Python-side controls of the Kubernetes API stand-in: seed objects, inject faults, move time."""

from __future__ import annotations

import copy
import json
from typing import Any

from standins.kubernetes import objects as objs
from standins.kubernetes.patch import STRATEGIC_PATCH
from standins.kubernetes.store import (
    BY_KIND,
    DEPLOYMENT,
    NAMESPACE,
    NODE,
    REPLICASET,
    ApiError,
    Obj,
    Resource,
)
from standins.kubernetes.telemetry import K8sTelemetry


class K8sControl(K8sTelemetry):
    """Helpers that bypass HTTP and RBAC; each takes the lock and returns copies."""

    @staticmethod
    def _res(kind: str) -> Resource:
        res = BY_KIND.get(kind) or next(
            (r for r in BY_KIND.values() if r.name == kind.lower()), None
        )
        if res is None:
            raise KeyError(f"unknown kind {kind!r}")
        return res

    def get(self, kind: str, ns: str | None, name: str) -> Obj:
        with self.lock:
            return copy.deepcopy(self.store.get(self._res(kind), ns, name))

    def objects(self, kind: str, ns: str | None = None) -> list[Obj]:
        with self.lock:
            return copy.deepcopy(self.store.items(self._res(kind), ns))

    def add_namespace(self, name: str) -> None:
        with self.lock:
            if self.store.find(NAMESPACE, None, name) is None:
                self.store.create(NAMESPACE, objs.namespace(name))

    def add_node(
        self,
        name: str,
        cpu: str = "4",
        memory: str = "16Gi",
        ready: bool = True,
        zone: str = "eu-west-1a",
    ) -> Obj:
        with self.lock:
            node = objs.node(
                name, len(self.store.items(NODE)) + 1, cpu, memory, ready, zone, self.store.now()
            )
            return copy.deepcopy(self.create_object(NODE, None, node))

    def create(self, obj: Obj) -> Obj:
        """Create any supported object as a POST would; its namespace is created if missing."""
        res = self._res(obj["kind"])
        ns = obj.get("metadata", {}).get("namespace", "default") if res.namespaced else None
        if ns:
            self.add_namespace(ns)
        with self.lock:
            return copy.deepcopy(self.create_object(res, ns, copy.deepcopy(obj)))

    def deploy(
        self,
        ns: str,
        name: str,
        image: str,
        replicas: int = 1,
        change_cause: str | None = None,
        kind: str = "Deployment",
        **extra: Any,
    ) -> Obj:
        """Create a one-container workload, or roll its image (and change-cause) if it exists."""
        res = self._res(kind)
        with self.lock:
            exists = self.store.find(res, ns, name) is not None
        if not exists:
            if change_cause:
                extra.setdefault("annotations", {})[objs.CHANGE_CAUSE] = change_cause
            manifest = objs.workload(res.kind, ns, name, image, replicas, **extra)
            return self.create({"kind": res.kind, **manifest})
        patch: Obj = {
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}
        }
        if change_cause:
            patch["metadata"] = {"annotations": {objs.CHANGE_CAUSE: change_cause}}
        return self.patch(kind, ns, name, patch)

    def patch(
        self, kind: str, ns: str | None, name: str, body: Any, patch_type: str = STRATEGIC_PATCH
    ) -> Obj:
        with self.lock:
            return copy.deepcopy(
                self.patch_object(self._res(kind), ns, name, patch_type, json.dumps(body).encode())
            )

    def _owner(self, ns: str, name: str) -> tuple[str, Obj]:
        """The pods' direct owner for a workload name: a deployment's current ReplicaSet."""
        for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
            obj = self.store.find(BY_KIND[kind], ns, name)
            if obj is not None and kind == "Deployment":
                self.controller.sync(obj)
                current = obj["metadata"]["annotations"].get(objs.REVISION)
                for rs in self.store.owned(REPLICASET, obj):
                    if rs["metadata"]["annotations"].get(objs.REVISION) == current:
                        return rs["metadata"]["name"], obj
            if obj is not None:
                return name, obj
        raise ApiError.not_found(DEPLOYMENT, name)

    def crashloop(
        self,
        ns: str,
        name: str,
        restarts: int = 5,
        exit_code: int = 1,
        reason: str = "Error",
        logs: list[Any] | None = None,
    ) -> None:
        """Pods of the workload's current template crash-loop (a later template is healthy);
        ``logs`` become their current and previous log."""
        with self.lock:
            owner, top = self._owner(ns, name)
            spec = {"restarts": restarts, "exit_code": exit_code, "reason": reason, "logs": logs}
            self.controller.crashing[(ns, owner)] = spec
            self._after_write(self._res(top["kind"]), top)

    def stall_rollout(self, ns: str, name: str, stalled: bool = True) -> None:
        """While stalled, pods of a deployment's new ReplicaSet never become ready, so the
        rollout stops and passes ``progressDeadlineSeconds`` (see ``advance``)."""
        with self.lock:
            d = self.store.get(DEPLOYMENT, ns, name)
            if stalled:
                self.controller.stalled.add((ns, name))
            else:
                self.controller.stalled.discard((ns, name))
                for key, dep in list(self.controller.bad.items()):
                    if key[0] == ns and dep == name:
                        del self.controller.bad[key]
            self.controller.sync(d)

    def heal(self, ns: str, name: str) -> None:
        """Undo ``crashloop`` and ``stall_rollout`` for a workload."""
        with self.lock:
            d = self.store.find(DEPLOYMENT, ns, name)
            rss = self.store.owned(REPLICASET, d) if d else []
            for owner in [name, *(r["metadata"]["name"] for r in rss)]:
                self.controller.crashing.pop((ns, owner), None)
            if d is not None:
                self.stall_rollout(ns, name, stalled=False)
            else:
                self.controller.reconcile()

    def add_event(
        self,
        ns: str,
        kind: str,
        name: str,
        reason: str,
        message: str,
        type: str = "Warning",
        component: str = "",
    ) -> None:
        with self.lock:
            res = self._res(kind)
            obj = self.store.get(res, ns if res.namespaced else None, name)
            self.controller.emit(obj, reason, message, type, component)

    def reconcile(self) -> None:
        """Run every controller once (writes already reconcile synchronously)."""
        with self.lock:
            self.controller.reconcile()

    def advance(self, seconds: float) -> None:
        """Move the stand-in's clock forward (progress deadlines, log ages, event times)."""
        with self.lock:
            self.store.offset += seconds
            self.controller.tick()
