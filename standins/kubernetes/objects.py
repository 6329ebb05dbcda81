"""Schema-complete object builders of the Kubernetes API stand-in: pods, nodes, events, logs."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from standins.kubernetes.store import Obj, Resource, parse_time, rfc3339

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Deployment annotations the controller never copies to ReplicaSets (deployment_util.go).
SKIP_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # rand.SafeEncodeString: no vowels, no look-alikes


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def template_hash(template: Obj, collisions: int = 0) -> str:
    """A pod-template-hash in the style of ComputeHash: fnv32a, safe-encoded."""
    data = json.dumps(template, sort_keys=True) + (str(collisions) if collisions else "")
    h = 0x811C9DC5
    for byte in data.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(SAFE_ALPHABET[ord(d) % len(SAFE_ALPHABET)] for d in str(h))


def owner_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


# ------------------------------------------------------------------------------ defaults
def default_container(c: Obj) -> None:
    image = c.get("image", "")
    pull = "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else None
    c.setdefault("imagePullPolicy", pull or "IfNotPresent")
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    for port in c.get("ports") or ():
        port.setdefault("protocol", "TCP")


def default_pod_spec(spec: Obj) -> None:
    for c in spec.get("containers") or ():
        default_container(c)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def prune_nulls(value: Any) -> Any:
    """Typed decoding drops nulls (Go zero values), e.g. a template's creationTimestamp: null."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value


def apply_defaults(res: Resource, obj: Obj) -> None:
    """Defaulting as the API server does on every write, so templates compare like real ones."""
    obj["metadata"] = prune_nulls(obj.get("metadata") or {})
    obj["spec"] = prune_nulls(obj.get("spec") or {})
    spec = obj["spec"]
    if res.kind == "Pod":
        default_pod_spec(spec)
        return
    if res.kind not in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        return
    default_pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))
    spec["template"].setdefault("metadata", {})
    if res.kind != "DaemonSet":
        spec.setdefault("replicas", 1)
    if res.kind == "Deployment":
        spec.setdefault("strategy", {"type": "RollingUpdate"})
        if spec["strategy"].get("type") == "RollingUpdate":
            rolling = spec["strategy"].setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    elif res.kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault(
            "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
        )
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
    elif res.kind == "DaemonSet":
        spec.setdefault(
            "updateStrategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        )
        spec.setdefault("revisionHistoryLimit", 10)


# ---------------------------------------------------------------------------------- pods
def workload(kind: str, ns: str, name: str, image: str, replicas: int = 1, **extra: Any) -> Obj:
    """A minimal Deployment/StatefulSet/DaemonSet manifest with one container named ``name``."""
    labels = {"app": name}
    container: Obj = {"name": name, "image": image}
    for key in ("env", "ports", "resources", "args", "readinessProbe"):
        if key in extra:
            container[key] = extra[key]
    spec: Obj = {
        "selector": {"matchLabels": dict(labels)},
        "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}},
    }
    if kind != "DaemonSet":
        spec["replicas"] = replicas
    if kind == "StatefulSet":
        spec["serviceName"] = name
    meta: Obj = {"name": name, "namespace": ns, "labels": dict(labels)}
    if extra.get("annotations"):
        meta["annotations"] = dict(extra["annotations"])
    return {"metadata": meta, "spec": spec}


def container_status(c: Obj, pod: Obj, mode: str, restarts: int, crash: Obj, now: float) -> Obj:
    """Status of one container. mode: ready, unready (probe failing), crash, pending."""
    image = c.get("image", "")
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    repo = repo if "/" in repo else f"library/{repo}"
    uid = pod["metadata"].get("uid", pod["metadata"]["name"])
    started = rfc3339(now)
    status: Obj = {
        "name": c["name"],
        "image": image,
        "imageID": f"docker.io/{repo}@sha256:{sha(image)}" if mode != "pending" else "",
        "ready": mode == "ready",
        "restartCount": restarts,
        "started": mode in ("ready", "unready"),
    }
    if mode == "pending":
        status["state"] = {"waiting": {"reason": "ContainerCreating"}}
        status["lastState"] = {}
        return status
    cname = c["name"]
    status["containerID"] = "containerd://" + sha(f"{uid}/{cname}/{restarts}")
    if mode == "crash":
        pod_ref = f"{pod['metadata']['name']}_{pod['metadata'].get('namespace')}({uid})"
        status["state"] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 5m0s restarting failed container={c['name']} pod={pod_ref}",
            }
        }
        status["lastState"] = {
            "terminated": {
                "exitCode": crash.get("exit_code", 1),
                "reason": crash.get("reason", "Error"),
                "startedAt": rfc3339(now - 12),
                "finishedAt": rfc3339(now - 3),
                "containerID": "containerd://" + sha(f"{uid}/{cname}/{restarts - 1}"),
            }
        }
    else:
        status["state"] = {"running": {"startedAt": started}}
        status["lastState"] = {}
    return status


def _cond(kind: str, ok: bool, at: str, reason: str = "", message: str = "") -> Obj:
    cond: Obj = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None}
    cond["lastTransitionTime"] = at
    if reason:
        cond.update(reason=reason, message=message)
    return cond


def pod_status(
    pod: Obj, mode: str, restarts: int, crash: Obj, now: float, ips: tuple[str, str]
) -> Obj:
    containers = pod["spec"]["containers"]
    at = rfc3339(now)
    start = (pod.get("status") or {}).get("startTime") or at  # a new mode keeps the start
    statuses = [container_status(c, pod, mode, restarts, crash, now) for c in containers]
    unready = [s["name"] for s in statuses if not s["ready"]]
    why = f"containers with unready status: [{' '.join(unready)}]"
    ready = not unready
    requests = any((c.get("resources") or {}).get("requests") for c in containers)
    status: Obj = {
        "phase": "Pending" if mode == "pending" else "Running",
        "conditions": [
            _cond("PodReadyToStartContainers", mode != "pending", at),
            _cond("Initialized", True, at),
            _cond("Ready", ready, at, "" if ready else "ContainersNotReady", "" if ready else why),
            _cond(
                "ContainersReady",
                ready,
                at,
                "" if ready else "ContainersNotReady",
                "" if ready else why,
            ),
            _cond("PodScheduled", True, at),
        ],
        "hostIP": ips[0],
        "hostIPs": [{"ip": ips[0]}],
        "startTime": start,
        "containerStatuses": statuses,
        "qosClass": "Burstable" if requests else "BestEffort",
    }
    if mode != "pending":
        status["podIP"], status["podIPs"] = ips[1], [{"ip": ips[1]}]
    return status


def pod_mode(pod: Obj) -> str:
    statuses = pod.get("status", {}).get("containerStatuses") or [{}]
    s = statuses[0]
    if "waiting" in (s.get("state") or {}):
        return "crash" if s["state"]["waiting"].get("reason") == "CrashLoopBackOff" else "pending"
    return "ready" if all(x.get("ready") for x in statuses) else "unready"


# --------------------------------------------------------------------- nodes, namespaces
def node(name: str, index: int, cpu: str, memory: str, ready: bool, zone: str, now: float) -> Obj:
    at = rfc3339(now)

    def cond(kind: str, status: bool, reason: str, message: str) -> Obj:
        return {
            "type": kind,
            "status": "True" if status else "False",
            "lastHeartbeatTime": at,
            "lastTransitionTime": at,
            "reason": reason,
            "message": message,
        }

    resources = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "101430960Ki"}
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "m6i.xlarge",
                "topology.kubernetes.io/zone": zone,
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
        "status": {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "conditions": [
                cond(
                    "MemoryPressure",
                    False,
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                cond(
                    "DiskPressure",
                    False,
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                ),
                cond(
                    "PIDPressure",
                    False,
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                ),
                cond(
                    "Ready",
                    ready,
                    "KubeletReady" if ready else "KubeletNotReady",
                    "kubelet is posting ready status" if ready else "container runtime is down",
                ),
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.{index}.10"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": sha(f"machine/{name}")[:32],
                "systemUUID": sha(f"system/{name}")[:32],
                "bootID": sha(f"boot/{name}")[:32],
                "kernelVersion": "6.1.0-28-cloud-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": "v1.31.4",
                "kubeProxyVersion": "v1.31.4",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def namespace(name: str) -> Obj:
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def event(involved: Obj, reason: str, message: str, kind: str, component: str, host: str) -> Obj:
    meta = involved["metadata"]
    source: Obj = {"component": component}
    if host:
        source["host"] = host
    return {
        "metadata": {"namespace": meta.get("namespace") or "default"},
        "involvedObject": {
            "kind": involved["kind"],
            "namespace": meta.get("namespace"),
            "name": meta["name"],
            "uid": meta["uid"],
            "apiVersion": involved["apiVersion"],
            "resourceVersion": meta.get("resourceVersion"),
        },
        "reason": reason,
        "message": message,
        "source": source,
        "count": 1,
        "type": kind,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }


def default_logs(
    pod: Obj, container: str, mode: str, previous: bool, now: float, started: str
) -> list[tuple[float, str]]:
    """A few realistic lines from the container's start; a crashing one ends in its panic."""
    image = next((c["image"] for c in pod["spec"]["containers"] if c["name"] == container), "")
    version = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    lines = [
        f'level=info msg="starting {container}" version={version}',
        'level=info msg="config loaded" source=/etc/app/config.yaml',
        'level=info msg="connected to database" pool=10',
        'level=info msg="http server listening" addr=:8080',
    ]
    if mode == "crash" or previous:
        lines += [
            'level=warn msg="upstream latency high" upstream=payments p99_ms=2300',
            'level=error msg="unhandled error" err="nil pointer dereference" handler=/api/cart',
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8f2c1a]",
        ]
        start = now - 12
    else:
        start = min(parse_time(started), now - len(lines))
    out = [(start + i * 0.5, line) for i, line in enumerate(lines)]
    if mode == "unready":
        probe = 'level=warn msg="readiness check failed" dependency=cache err="connection refused"'
        out.append((now - 1, probe))
    elif mode == "ready":
        out.append((now - 1, 'level=info msg="GET /healthz" status=200 duration_ms=1'))
    return out
