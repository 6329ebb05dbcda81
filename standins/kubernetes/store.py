"""In-memory object store of the Kubernetes API stand-in: resources, versions, Status errors."""

from __future__ import annotations

import copy
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from standins.kubernetes import fields

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    name: str  # plural as in URLs and RBAC rules
    group: str  # "" for the core group
    version: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:  # "deployments.apps", as the API server names resources in errors
        return f"{self.name}.{self.group}" if self.group else self.name


RESOURCES: dict[tuple[str, str], Resource] = {
    (r.api_version, r.name): r
    for r in (
        Resource("pods", "", "v1", "Pod"),
        Resource("events", "", "v1", "Event"),
        Resource("nodes", "", "v1", "Node", namespaced=False),
        Resource("namespaces", "", "v1", "Namespace", namespaced=False),
        Resource("deployments", "apps", "v1", "Deployment"),
        Resource("replicasets", "apps", "v1", "ReplicaSet"),
        Resource("statefulsets", "apps", "v1", "StatefulSet"),
        Resource("daemonsets", "apps", "v1", "DaemonSet"),
    )
}
BY_KIND = {r.kind: r for r in RESOURCES.values()}
# The workload kinds whose metadata.generation follows spec changes.
GENERATION_KINDS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"})
POD, EVENT, NODE, NAMESPACE = (BY_KIND[k] for k in ("Pod", "Event", "Node", "Namespace"))
DEPLOYMENT, REPLICASET, STATEFULSET, DAEMONSET = (
    BY_KIND[k] for k in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
)


class ApiError(Exception):
    """An API failure carried to the client as a ``kind: Status`` body."""

    def __init__(self, code: int, reason: str, message: str, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> Obj:
        body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
        body.update(message=self.message, reason=self.reason)
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body

    @staticmethod
    def _details(res: Resource, name: str | None) -> Obj:
        d: Obj = {"name": name} if name else {}
        if res.group:
            d["group"] = res.group
        d["kind"] = res.name
        return d

    @classmethod
    def not_found(cls, res: Resource, name: str) -> ApiError:
        msg = f'{res.qualified} "{name}" not found'
        return cls(404, "NotFound", msg, cls._details(res, name))

    @classmethod
    def no_route(cls) -> ApiError:  # unknown path or an API group that is not served
        return cls(404, "NotFound", "the server could not find the requested resource", {})

    @classmethod
    def already_exists(cls, res: Resource, name: str) -> ApiError:
        msg = f'{res.qualified} "{name}" already exists'
        return cls(409, "AlreadyExists", msg, cls._details(res, name))

    @classmethod
    def conflict(cls, res: Resource, name: str, why: str = "") -> ApiError:
        why = why or (
            "the object has been modified; please apply your changes to the latest version "
            "and try again"
        )
        msg = f'Operation cannot be fulfilled on {res.qualified} "{name}": {why}'
        return cls(409, "Conflict", msg, cls._details(res, name))

    @classmethod
    def invalid(cls, res: Resource, name: str, causes: list[tuple[str, str]]) -> ApiError:
        """``causes`` are (field, "Invalid value: ...: why") pairs, as field.ErrorList prints."""
        parts = [f"{f}: {m}" for f, m in causes]
        joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        kind = f"{res.kind}.{res.group}" if res.group else res.kind
        details: Obj = {"name": name}
        if res.group:
            details["group"] = res.group
        details["kind"] = res.kind
        details["causes"] = [
            {"reason": "FieldValueRequired" if m.startswith("Required") else "FieldValueInvalid"}
            | {"message": m, "field": f}
            for f, m in causes
        ]
        return cls(422, "Invalid", f'{kind} "{name}" is invalid: {joined}', details)

    @classmethod
    def patch_failed(cls) -> ApiError:
        # What the API server says when a JSON patch fails to apply, a failed ``test`` included:
        # NewGenericServerResponse(422) keeps only this generic message and reason Invalid.
        return cls(
            422, "Invalid", "the server rejected our request due to an error in our request", {}
        )

    @classmethod
    def invalid_options(cls, field: str, why: str) -> ApiError:
        """A bad query option (fieldManager, ...): Invalid with no object named."""
        details: Obj = {"causes": [{"reason": "FieldValueInvalid", "message": why, "field": field}]}
        return cls(422, "Invalid", f"{field}: {why}", details)

    @classmethod
    def gone(cls, message: str) -> ApiError:
        return cls(410, "Expired", message, {})

    @classmethod
    def unsupported_media(cls, accepted: tuple[str, ...]) -> ApiError:
        msg = "the body of the request was in an unknown format - accepted media types include: "
        return cls(415, "UnsupportedMediaType", msg + ", ".join(accepted), {})

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def forbidden(
        cls, res: Resource, sub: str, verb: str, user: str, ns: str | None, name: str | None
    ) -> ApiError:
        target = f'{res.qualified} "{name}"' if name else res.qualified
        resource = f"{res.name}/{sub}" if sub else res.name
        scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
        msg = (
            f'{target} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
            f'in API group "{res.group}" {scope}'
        )
        return cls(403, "Forbidden", msg, cls._details(res, name))


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: str | None) -> float:
    if not s:
        return 0.0
    return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()


class Store:
    """Objects by resource and (namespace, name); every method expects ``lock`` to be held."""

    def __init__(self, seed: int = 7) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(seed)  # deterministic uids and pod names across runs
        self.offset = 0.0  # seconds added to the wall clock; advance() moves simulated time
        self._rv = 0
        self._objects: dict[Resource, dict[tuple[str, str], Obj]] = {
            r: {} for r in BY_KIND.values()
        }
        # Who is writing: an API request names its field manager; controllers write as the
        # kube-controller-manager (status) and the kubelet (pod status).
        self.manager = "stand-in-control"
        self.subresource = ""  # "scale" while a write comes through deployments/x/scale
        # Watch events since the oldest kept resourceVersion: (rv, type, resource, object).
        self.changes: deque[tuple[int, str, Resource, Obj]] = deque(maxlen=20_000)
        self.changed = threading.Condition(self.lock)

    def _emit(self, kind: str, res: Resource, obj: Obj) -> None:
        self.changes.append((self._rv, kind, res, copy.deepcopy(obj)))
        self.changed.notify_all()

    def oldest_change(self) -> int:
        """The oldest resourceVersion a watch can start after (older ones answer 410 Gone)."""
        return self.changes[0][0] - 1 if self.changes else self._rv

    # ------------------------------------------------------------------ time and identity
    def now(self) -> float:
        return time.time() + self.offset

    def stamp(self) -> str:
        return rfc3339(self.now())

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def _bump(self, obj: Obj) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)

    # ---------------------------------------------------------------------------- access
    def find(self, res: Resource, ns: str | None, name: str) -> Obj | None:
        return self._objects[res].get((ns or "", name))

    def get(self, res: Resource, ns: str | None, name: str) -> Obj:
        obj = self.find(res, ns, name)
        if obj is None:
            raise ApiError.not_found(res, name)
        return obj

    def items(self, res: Resource, ns: str | None = None) -> list[Obj]:
        table = self._objects[res]
        keys = sorted(k for k in table if ns is None or k[0] == ns)
        return [table[k] for k in keys]

    def owned(self, res: Resource, owner: Obj) -> list[Obj]:
        """Objects whose controller ownerReference points at ``owner`` (same namespace)."""
        uid, ns = owner["metadata"]["uid"], owner["metadata"].get("namespace")
        return [
            o
            for o in self.items(res, ns)
            if any(
                r.get("uid") == uid and r.get("controller")
                for r in o["metadata"].get("ownerReferences", ())
            )
        ]

    # ---------------------------------------------------------------------------- writes
    def create(self, res: Resource, obj: Obj) -> Obj:
        meta = obj.setdefault("metadata", {})
        ns = meta.get("namespace", "") if res.namespaced else ""
        key = (ns, meta["name"])
        if key in self._objects[res]:
            raise ApiError.already_exists(res, meta["name"])
        if not res.namespaced:
            meta.pop("namespace", None)
        meta["uid"] = self.uid()
        meta["creationTimestamp"] = self.stamp()
        if res.kind in GENERATION_KINDS:
            meta["generation"] = 1
        meta.pop("deletionTimestamp", None)
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if res.kind in GENERATION_KINDS:
            fields.record(obj, None, self.manager, "Update", "", self.stamp())
        self._bump(obj)
        self._objects[res][key] = obj
        self._emit("ADDED", res, obj)
        return obj

    def put(self, res: Resource, obj: Obj, old: Obj) -> Obj:
        """Store ``obj`` in place of ``old``: keeps identity, bumps versions as the server does."""
        meta, old_meta = obj.setdefault("metadata", {}), old["metadata"]
        for key in ("name", "namespace", "uid", "creationTimestamp"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if res.kind in GENERATION_KINDS:
            spec_changed = obj.get("spec") != old.get("spec")
            meta["generation"] = old_meta.get("generation", 1) + (1 if spec_changed else 0)
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if res.kind in GENERATION_KINDS:
            fields.record(obj, old, self.manager, "Update", self.subresource, self.stamp())
        self._bump(obj)
        ns = meta.get("namespace", "") if res.namespaced else ""
        self._objects[res][(ns, meta["name"])] = obj
        self._emit("MODIFIED", res, obj)
        return obj

    def touch(
        self,
        obj: Obj,
        spec_changed: bool = False,
        before: Obj | None = None,
        subresource: str = "status",
    ) -> None:
        """Record an in-place change made by a controller (``before``: the object as it was,
        for managedFields; the kube-controller-manager writes status and revision annotations)."""
        if spec_changed and obj.get("kind") in GENERATION_KINDS:
            obj["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
        if before is not None and obj.get("kind") in GENERATION_KINDS:
            manager = "kube-controller-manager"
            fields.record(obj, before, manager, "Update", subresource, self.stamp())
        self._bump(obj)
        self._emit("MODIFIED", BY_KIND[obj["kind"]], obj)

    def delete(self, res: Resource, ns: str | None, name: str) -> Obj:
        obj = self._objects[res].pop((ns or "", name), None)
        if obj is None:
            raise ApiError.not_found(res, name)
        self._bump(obj)
        self._emit("DELETED", res, obj)
        return obj
