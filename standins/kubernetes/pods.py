"""Pod-level controllers of the Kubernetes API stand-in: pods, events, ReplicaSets, sets."""

from __future__ import annotations

import copy

from standins.kubernetes import objects as objs
from standins.kubernetes.store import EVENT, NODE, POD, Obj, Store, parse_time

NO_NODE = "stand-in-node"  # where pods run while the cluster has no Node objects
COMPONENTS = {
    "Deployment": "deployment-controller",
    "ReplicaSet": "replicaset-controller",
    "StatefulSet": "statefulset-controller",
    "DaemonSet": "daemonset-controller",
}
REVISION_HASH = "controller-revision-hash"
TOLERATIONS = [
    {"key": f"node.kubernetes.io/{t}", "operator": "Exists", "effect": "NoExecute"}
    | {"tolerationSeconds": 300}
    for t in ("not-ready", "unreachable")
]


def _compact(status: Obj, keep: tuple[str, ...]) -> Obj:
    """Drop zero counts the way Go's omitempty does, except fields the API always sends."""
    return {k: v for k, v in status.items() if v or k in keep}


class PodController:
    """Pods, events, ReplicaSets and sets; synchronous, call with the store lock held."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stalled: set[tuple[str, str]] = set()  # deployments whose rollouts never get ready
        self.bad: dict[tuple[str, str], str] = {}  # (ns, ReplicaSet) -> deployment: pods unready
        self.crashing: dict[tuple[str, str], Obj] = {}  # (ns, owner) -> crash settings
        self._events: dict[tuple[str, str, str], Obj] = {}  # (uid, reason, message) -> event
        self.next_crash: dict[tuple[str, str], float] = {}  # (ns, owner) -> next restart time
        self._serial = 0

    # -------------------------------------------------------------------------- events
    def emit(
        self,
        obj: Obj,
        reason: str,
        message: str,
        kind: str = "Normal",
        component: str = "",
        host: str = "",
    ) -> None:
        """Record an event; a repeat of the same reason and message on one object counts up."""
        s, meta = self.store, obj["metadata"]
        key = (meta["uid"], reason, message)
        ev = self._events.get(key)
        if ev is not None and s.find(EVENT, ev["metadata"]["namespace"], ev["metadata"]["name"]):
            ev["count"] += 1
            ev["lastTimestamp"] = s.stamp()
            s.touch(ev)
            return
        component = component or COMPONENTS.get(obj["kind"], "kubelet")
        ev = objs.event(obj, reason, message, kind, component, host)
        self._serial += 1
        ev["metadata"]["name"] = f"{meta['name']}.{int(s.now() * 1e9) + self._serial:x}"
        ev["firstTimestamp"] = ev["lastTimestamp"] = s.stamp()
        self._events[key] = s.create(EVENT, ev)

    # ---------------------------------------------------------------------------- pods
    def mode_for(self, ns: str, owner: str) -> str:
        if (ns, owner) in self.crashing:
            return "crash"
        return "unready" if (ns, owner) in self.bad else "ready"

    def _schedule(self, want: str | None) -> tuple[str, tuple[str, str]]:
        """Least-loaded Ready node (or ``want``), with host and pod IPs."""
        s = self.store
        nodes = [
            n
            for n in s.items(NODE)
            if n["metadata"]["name"] == want
            or (
                not want
                and any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in n["status"]["conditions"]
                )
            )
        ]
        self._serial += 1
        octet = 2 + self._serial % 250
        if not nodes:
            return want or NO_NODE, ("10.0.0.10", f"10.244.0.{octet}")
        load = {n["metadata"]["name"]: 0 for n in nodes}
        for p in s.items(POD):
            if p["spec"].get("nodeName") in load:
                load[p["spec"]["nodeName"]] += 1
        node = min(nodes, key=lambda n: (load[n["metadata"]["name"]], n["metadata"]["name"]))
        prefix = node["spec"]["podCIDR"].rsplit(".", 1)[0]  # "10.244.1.0/24" -> "10.244.1"
        return node["metadata"]["name"], (
            node["status"]["addresses"][0]["address"],
            f"{prefix}.{octet}",
        )

    def new_pod(
        self,
        owner: Obj,
        name: str,
        template: Obj,
        mode: str,
        labels: dict[str, str],
        node: str | None = None,
    ) -> Obj:
        s, ns = self.store, owner["metadata"]["namespace"]
        tmeta = template.get("metadata") or {}
        meta: Obj = {"name": name, "namespace": ns, "labels": {**tmeta.get("labels", {}), **labels}}
        if owner["kind"] == "StatefulSet":
            meta["labels"]["statefulset.kubernetes.io/pod-name"] = name
            meta["labels"]["apps.kubernetes.io/pod-index"] = name.rsplit("-", 1)[1]
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        meta["ownerReferences"] = [objs.owner_ref(owner)]
        spec = copy.deepcopy(template["spec"])
        objs.default_pod_spec(spec)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.update(enableServiceLinks=True, priority=0, preemptionPolicy="PreemptLowerPriority")
        spec.setdefault("tolerations", copy.deepcopy(TOLERATIONS))
        spec["nodeName"], ips = self._schedule(node)
        pod = s.create(POD, {"metadata": meta, "spec": spec})
        self.set_mode(pod, mode, ips=ips, fresh=True)
        where = spec["nodeName"]
        msg = f"Successfully assigned {ns}/{name} to {where}"
        self.emit(pod, "Scheduled", msg, component="default-scheduler")
        for c in spec["containers"]:
            msg = f'Container image "{c["image"]}" already present on machine'
            self.emit(pod, "Pulled", msg, host=where)
            self.emit(pod, "Created", f"Created container: {c['name']}", host=where)
            self.emit(pod, "Started", f"Started container {c['name']}", host=where)
        return pod

    def set_mode(
        self, pod: Obj, mode: str, ips: tuple[str, str] | None = None, fresh: bool = False
    ) -> None:
        """Give a pod the status of one mode: ready, unready, crash or pending."""
        s, meta = self.store, pod["metadata"]
        st = pod.get("status") or {}
        ips = ips or (st.get("hostIP", "10.0.0.10"), st.get("podIP", "10.244.0.2"))
        owner = (meta.get("ownerReferences") or [{}])[0].get("name", "")
        crash = self.crashing.get((meta["namespace"], owner), {})
        restarts = crash.get("restarts", 5) if mode == "crash" else 0
        before = copy.deepcopy(pod)
        pod["status"] = objs.pod_status(pod, mode, restarts, crash, s.now(), ips)
        s.touch(pod, before=before)  # the kubelet's status write, new pods too: watches see it
        node, ref = pod["spec"].get("nodeName", ""), f"{meta['name']}_{meta['namespace']}"
        for c in pod["spec"]["containers"]:
            if mode == "unready":
                msg = "Readiness probe failed: HTTP probe failed with statuscode: 503"
                self.emit(pod, "Unhealthy", msg, "Warning", host=node)
            elif mode == "crash":
                msg = (
                    f"Back-off restarting failed container {c['name']} in pod {ref}({meta['uid']})"
                )
                for _ in range(max(restarts, 1)):
                    self.emit(pod, "BackOff", msg, "Warning", host=node)

    def _delete_pod(self, owner: Obj, pod: Obj) -> None:
        self.store.delete(POD, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.emit(owner, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")

    def _sync_pods(
        self, owner: Obj, want: list[str] | int, template: Obj, labels: dict[str, str]
    ) -> list[Obj]:
        """Make the owner's pods match ``want``: a count, or exact names for StatefulSets."""
        s, ns, name = self.store, owner["metadata"]["namespace"], owner["metadata"]["name"]
        mode, pods = self.mode_for(ns, name), s.owned(POD, owner)
        for p in pods:
            if objs.pod_mode(p) != mode:
                self.set_mode(p, mode)
        if isinstance(want, int):
            # ReplicaSets delete unready pods first, then the newest (controller.ActivePods).
            ranked = sorted(
                pods,
                key=lambda p: (
                    objs.pod_mode(p) == "ready",
                    -parse_time(p["metadata"]["creationTimestamp"]),
                ),
            )
            doomed = ranked[: max(0, len(pods) - want)]
            names = [f"{name}-{s.suffix()}" for _ in range(want - len(pods) + len(doomed))]
        else:
            doomed = [p for p in pods if p["metadata"]["name"] not in want]
            have = {p["metadata"]["name"] for p in pods}
            names = [n for n in want if n not in have]
        for p in doomed:
            self._delete_pod(owner, p)
            pods.remove(p)
        for pod_name in names:
            pods.append(self.new_pod(owner, pod_name, template, mode, labels))
            created = f"Created pod: {pod_name}"
            if owner["kind"] == "StatefulSet":
                created = f"create Pod {pod_name} in StatefulSet {name} successful"
            self.emit(owner, "SuccessfulCreate", created)
        return pods

    def _set_status(self, obj: Obj, status: Obj) -> None:
        if obj.get("status") != status:
            before = {**obj, "status": obj.get("status")}
            obj["status"] = status
            self.store.touch(obj, before=before)

    def sync_replicaset(self, rs: Obj) -> None:
        labels = {objs.HASH_LABEL: rs["metadata"]["labels"].get(objs.HASH_LABEL, "")}
        pods = self._sync_pods(rs, rs["spec"].get("replicas", 0), rs["spec"]["template"], labels)
        ready = sum(objs.pod_mode(p) == "ready" for p in pods)
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready}
        status |= {"availableReplicas": ready, "observedGeneration": rs["metadata"]["generation"]}
        self._set_status(rs, _compact(status, ("replicas",)))

    # ------------------------------------------------------------- stateful/daemon sets
    def sync_statefulset(self, sts: Obj) -> None:
        name, template = sts["metadata"]["name"], sts["spec"]["template"]
        rev = f"{name}-{objs.template_hash(template)}"
        for p in self.store.owned(POD, sts):  # a template change replaces every pod
            if p["metadata"]["labels"].get(REVISION_HASH) != rev:
                self._delete_pod(sts, p)
        want = [f"{name}-{i}" for i in range(sts["spec"].get("replicas", 1))]
        pods = self._sync_pods(sts, want, template, {REVISION_HASH: rev})
        ready = sum(objs.pod_mode(p) == "ready" for p in pods)
        status = {"observedGeneration": sts["metadata"]["generation"], "replicas": len(pods)}
        status |= {
            "readyReplicas": ready,
            "currentReplicas": len(pods),
            "updatedReplicas": len(pods),
        }
        status |= {"availableReplicas": ready, "currentRevision": rev, "updateRevision": rev}
        self._set_status(sts, _compact(status | {"collisionCount": 0}, ("replicas",)))

    def sync_daemonset(self, ds: Obj) -> None:
        s, ns, name = self.store, ds["metadata"]["namespace"], ds["metadata"]["name"]
        nodes = [n["metadata"]["name"] for n in s.items(NODE)] or [NO_NODE]
        rev, mode = objs.template_hash(ds["spec"]["template"]), self.mode_for(ns, name)
        by_node: dict[str, Obj] = {}
        for p in s.owned(POD, ds):
            node = p["spec"].get("nodeName", "")
            if (
                p["metadata"]["labels"].get(REVISION_HASH) != rev
                or node not in nodes
                or node in by_node
            ):
                self._delete_pod(ds, p)
                continue
            by_node[node] = p
            if objs.pod_mode(p) != mode:
                self.set_mode(p, mode)
        for node in nodes:
            if node not in by_node:
                pod_name = f"{name}-{s.suffix()}"
                labels = {REVISION_HASH: rev}
                by_node[node] = self.new_pod(
                    ds, pod_name, ds["spec"]["template"], mode, labels, node
                )
                self.emit(ds, "SuccessfulCreate", f"Created pod: {pod_name}")
        ready = sum(objs.pod_mode(p) == "ready" for p in by_node.values())
        status = {"currentNumberScheduled": len(by_node), "desiredNumberScheduled": len(nodes)}
        status |= {"numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready}
        status |= {
            "observedGeneration": ds["metadata"]["generation"],
            "numberUnavailable": len(nodes) - ready,
        }
        status["updatedNumberScheduled"] = len(by_node)
        self._set_status(
            ds,
            _compact(
                status,
                (
                    "currentNumberScheduled",
                    "desiredNumberScheduled",
                    "numberMisscheduled",
                    "numberReady",
                ),
            ),
        )
