"""Logs and metrics.k8s.io of the Kubernetes API stand-in: container logs, pod and node usage."""

from __future__ import annotations

from typing import Any

from standins.kubernetes import objects as objs
from standins.kubernetes.cluster import K8sCluster
from standins.kubernetes.select import labels_match, parse_labels
from standins.kubernetes.store import NODE, POD, ApiError, Obj, Resource, rfc3339

POD_METRICS = Resource("pods", "metrics.k8s.io", "v1beta1", "PodMetrics")
NODE_METRICS = Resource("nodes", "metrics.k8s.io", "v1beta1", "NodeMetrics", namespaced=False)
_UNITS = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
          "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}  # fmt: skip


def quantity(q: str) -> float:
    """A resource quantity ("250m", "512Mi", "1.5") as a plain number."""
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * _UNITS[suffix]
    return float(q)


class K8sTelemetry(K8sCluster):
    """Container logs and resource usage, with setters for tests and the demo."""

    def set_logs(
        self,
        ns: str,
        pod: str,
        lines: list[Any],
        container: str | None = None,
        previous: bool = False,
    ) -> None:
        """Replace a container's log (``previous``: the last terminated one). ``lines`` are str,
        stamped 1 s apart ending now, or (epoch seconds, text); container defaults to the first."""
        with self.lock:
            p = self.store.get(POD, ns, pod)
            container = container or p["spec"]["containers"][0]["name"]
            self._logs[(ns, pod, container, previous)] = self._stamped(lines)

    def set_pod_metrics(
        self, ns: str, pod: str, cpu: str, memory: str, container: str | None = None
    ) -> None:
        """Fix a container's usage as quantities, e.g. ``cpu="950m", memory="1900Mi"``."""
        with self.lock:
            p = self.store.get(POD, ns, pod)
            container = container or p["spec"]["containers"][0]["name"]
            self._usage[("pod", ns, pod, container)] = {"cpu": cpu, "memory": memory}

    def set_node_metrics(self, node: str, cpu: str, memory: str) -> None:
        """Fix a node's usage; by default it is a base load plus its pods' usage."""
        with self.lock:
            self._usage[("node", node)] = {"cpu": cpu, "memory": memory}

    # ------------------------------------------------------------------------- logs
    def pod_log(self, ns: str, name: str, q: dict[str, str]) -> str:
        """pods/{name}/log: container, previous, tailLines, sinceSeconds, timestamps, limitBytes."""
        pod = self.store.get(POD, ns, name)
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = q.get("container") or (names[0] if len(names) == 1 else None)
        if container is None:
            raise ApiError.bad_request(
                f"a container name must be specified for pod {name}, "
                f"choose one of: [{' '.join(names)}]"
            )
        if container not in names:
            raise ApiError.bad_request(f"container {container} is not valid for pod {name}")
        previous = q.get("previous") in ("true", "1", "True")
        status = next(s for s in pod["status"]["containerStatuses"] if s["name"] == container)
        lines = self._logs.get((ns, name, container, previous))
        if lines is None:
            mode = objs.pod_mode(pod)
            if mode == "pending":
                why = "is waiting to start: ContainerCreating"
                raise ApiError.bad_request(f'container "{container}" in pod "{name}" {why}')
            if previous and not status["restartCount"]:
                why = f'previous terminated container "{container}" in pod "{name}" not found'
                raise ApiError.bad_request(why)
            owner = (pod["metadata"].get("ownerReferences") or [{}])[0].get("name", "")
            crash = self.controller.crashing.get((ns, owner)) or {}
            if mode == "crash" and crash.get("logs"):
                lines = self._stamped(crash["logs"])
            else:
                started = pod["status"].get("startTime") or pod["metadata"]["creationTimestamp"]
                lines = objs.default_logs(pod, container, mode, previous, self.store.now(), started)
        now = self.store.now()
        if q.get("sinceSeconds"):
            lines = [x for x in lines if x[0] >= now - int(q["sinceSeconds"])]
        if q.get("tailLines") is not None:
            tail = int(q["tailLines"])
            lines = lines[-tail:] if tail > 0 else []
        stamp = q.get("timestamps") in ("true", "1", "True")
        text = "".join(
            (f"{rfc3339(t)[:-1]}.{int(t % 1 * 1e9):09d}Z " if stamp else "") + f"{line}\n"
            for t, line in lines
        )
        return text[: int(q["limitBytes"])] if q.get("limitBytes") else text

    def _stamped(self, lines: list[Any]) -> list[tuple[float, str]]:
        now, n = self.store.now(), len(lines)
        return [
            x if isinstance(x, tuple) else (now - (n - 1 - i), str(x)) for i, x in enumerate(lines)
        ]

    # ---------------------------------------------------------------------- metrics
    def _pod_usage(self, pod: Obj) -> list[tuple[str, dict[str, str]]]:
        """Usage: set values, else stable pseudo-random ones (metrics-server units)."""

        meta, out = pod["metadata"], []
        for c in pod["spec"]["containers"]:
            custom = self._usage.get(("pod", meta["namespace"], meta["name"], c["name"]))
            seed = int(objs.sha(f"{meta['name']}/{c['name']}")[:8], 16)
            crash = objs.pod_mode(pod) == "crash"
            cpu = (1 + seed % 3) * 10**6 if crash else (8 + seed % 220) * 10**6 + seed % 997_000
            mem = (18 + seed % 10) * 1024 if crash else (64 + seed % 320) * 1024 + seed % 1000
            out.append((c["name"], custom or {"cpu": f"{cpu}n", "memory": f"{mem}Ki"}))
        return out

    def _node_usage(self, node: str) -> dict[str, str]:
        if usage := self._usage.get(("node", node)):
            return usage
        pods = [p for p in self.store.items(POD) if p["spec"].get("nodeName") == node]
        usages = [u for p in pods for _, u in self._pod_usage(p)]
        cpu = 0.18 + sum(quantity(u["cpu"]) for u in usages)  # system daemons' base load
        mem = 1.1 * 2**30 + sum(quantity(u["memory"]) for u in usages)
        return {"cpu": f"{int(cpu * 1e9)}n", "memory": f"{int(mem / 1024)}Ki"}

    def metrics(self, kind: str, ns: str | None, name: str | None, labels: str | None) -> Obj:
        """metrics.k8s.io/v1beta1 pods or nodes: a list, or one item when ``name`` is given."""
        if not self.metrics_enabled:
            raise ApiError.no_route()
        now, reqs = rfc3339(self.store.now()), parse_labels(labels)
        res, items = (POD_METRICS, []) if kind == "pods" else (NODE_METRICS, [])
        for obj in self.store.items(POD if kind == "pods" else NODE, ns):
            meta = obj["metadata"]
            if (name and meta["name"] != name) or not labels_match(reqs, meta.get("labels")):
                continue
            item_meta = {
                "name": meta["name"],
                "creationTimestamp": now,
                "labels": meta.get("labels", {}),
            }
            if kind != "pods":
                items.append({"metadata": item_meta, "timestamp": now, "window": "20.03s"})
                items[-1]["usage"] = self._node_usage(meta["name"])
            elif obj["status"].get("phase") == "Running":
                item_meta["namespace"] = meta["namespace"]
                containers = [{"name": n, "usage": u} for n, u in self._pod_usage(obj)]
                items.append({"metadata": item_meta, "timestamp": now, "window": "15.014s"})
                items[-1]["containers"] = containers
        if name and not items:
            raise ApiError.not_found(res, name)
        if name:
            return {"kind": res.kind, "apiVersion": res.api_version, **items[0]}
        return {
            "kind": f"{res.kind}List",
            "apiVersion": res.api_version,
            "metadata": {},
            "items": items,
        }
