"""Deployment controller of the Kubernetes API stand-in: ReplicaSets, revisions, rollout status."""

from __future__ import annotations

import copy
import math

from standins.kubernetes import objects as objs
from standins.kubernetes.pods import PodController
from standins.kubernetes.store import (
    DAEMONSET,
    DEPLOYMENT,
    POD,
    REPLICASET,
    STATEFULSET,
    Obj,
    parse_time,
)

HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED, MAX = "deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas"
TERMINAL = ("NewReplicaSetAvailable", "ProgressDeadlineExceeded", "DeploymentPaused")
CRASH_PERIOD = 10.0  # seconds of stand-in time between two restarts of a crash-looping container


def revision(obj: Obj) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(objs.REVISION, "0"))
    except ValueError:
        return 0


def _without_hash(template: Obj) -> Obj:
    t = copy.deepcopy(template)
    labels = t.get("metadata", {}).get("labels") or {}
    labels.pop(objs.HASH_LABEL, None)
    return t


def _int_or_percent(value: object, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = total * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)  # type: ignore[call-overload]


def _set_condition(
    status: Obj, kind: str, ok: str, reason: str, msg: str, now: str, force: bool = False
) -> None:
    conds = status.setdefault("conditions", [])
    cur = next((c for c in conds if c["type"] == kind), None)
    if (
        cur
        and (cur["status"], cur.get("reason"), cur.get("message")) == (ok, reason, msg)
        and not force
    ):
        return  # unchanged conditions keep their times (SetDeploymentCondition)
    cond = {"type": kind, "status": ok, "lastUpdateTime": now}
    cond["lastTransitionTime"] = cur["lastTransitionTime"] if cur and cur["status"] == ok else now
    cond.update(reason=reason, message=msg)
    conds[:] = [c for c in conds if c["type"] != kind] + [cond]
    conds.sort(key=lambda c: c["type"] != "Available")


class Controller(PodController):
    """All controllers; deployments roll ReplicaSets like the kube-controller-manager does."""

    # --------------------------------------------------------------------- deployments
    def sync_deployment(self, d: Obj) -> None:
        s, ns, name = self.store, d["metadata"]["namespace"], d["metadata"]["name"]
        spec = d["spec"]
        rss = s.owned(REPLICASET, d)
        template = _without_hash(spec["template"])
        new_rs = next((rs for rs in rss if _without_hash(rs["spec"]["template"]) == template), None)
        top = max((revision(rs) for rs in rss), default=0)
        created = False
        if spec.get("paused"):
            if new_rs and not any(rs["spec"].get("replicas") for rs in rss if rs is not new_rs):
                self._scale(d, new_rs, spec["replicas"])
            self._status(d, new_rs, rss)
            return
        if new_rs is None:
            new_rs, created = self._create_rs(d, template, top + 1), True
            rss.append(new_rs)
        elif revision(new_rs) < top:
            self._annotate_rs(d, new_rs, top + 1)
        else:
            self._annotate_rs(d, new_rs, revision(new_rs))
        ann = d["metadata"].setdefault("annotations", {})
        if ann.get(objs.REVISION) != str(revision(new_rs)):
            before = copy.deepcopy(d)
            ann[objs.REVISION] = str(revision(new_rs))
            s.touch(d, before=before, subresource="")
        rs_key = (ns, new_rs["metadata"]["name"])
        if (ns, name) in self.stalled and new_rs["spec"].get("replicas", 0) < spec["replicas"]:
            self.bad[rs_key] = name
        self._rollout(d, new_rs, [rs for rs in rss if rs is not new_rs])
        for rs in rss:
            self.sync_replicaset(rs)
        self._cleanup(d, rss, new_rs)
        self._status(d, new_rs, rss, created)

    def _create_rs(self, d: Obj, template: Obj, rev: int) -> Obj:
        s, meta = self.store, d["metadata"]
        collisions = d.get("status", {}).get("collisionCount", 0)
        h = objs.template_hash(template, collisions)
        tmpl = copy.deepcopy(template)
        tmpl.setdefault("metadata", {}).setdefault("labels", {})[objs.HASH_LABEL] = h
        selector = copy.deepcopy(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[objs.HASH_LABEL] = h
        rs = {
            "metadata": {
                "name": f"{meta['name']}-{h}",
                "namespace": meta["namespace"],
                "labels": dict(tmpl["metadata"]["labels"]),
                "ownerReferences": [objs.owner_ref(d)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": tmpl,
            },
        }
        rs = s.create(REPLICASET, rs)
        self._annotate_rs(d, rs, rev)
        return rs

    def _annotate_rs(self, d: Obj, rs: Obj, rev: int) -> None:
        """SetNewReplicaSetAnnotations: copy deployment annotations, set revision and history."""
        ann = rs["metadata"].setdefault("annotations", {})
        before, was = dict(ann), copy.deepcopy(rs)
        for k, v in (d["metadata"].get("annotations") or {}).items():
            if k not in objs.SKIP_ANNOTATIONS:
                ann[k] = v
        old = ann.get(objs.REVISION)
        if old and int(old) < rev:
            ann[HISTORY] = ",".join(filter(None, [*ann.get(HISTORY, "").split(","), old]))
        ann[objs.REVISION] = str(rev)
        ann[DESIRED] = str(d["spec"]["replicas"])
        ann[MAX] = str(d["spec"]["replicas"] + self._surge(d)[0])
        if ann != before:
            self.store.touch(rs, before=was, subresource="")

    def _surge(self, d: Obj) -> tuple[int, int]:
        want, rolling = (
            d["spec"]["replicas"],
            (d["spec"].get("strategy") or {}).get("rollingUpdate") or {},
        )
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return 0, 0  # MaxUnavailable is 0 for Recreate: Available needs every replica
        surge = _int_or_percent(rolling.get("maxSurge", "25%"), want, True)
        unavailable = _int_or_percent(rolling.get("maxUnavailable", "25%"), want, False)
        return surge, (1 if surge == 0 and unavailable == 0 else unavailable)

    def _scale(self, d: Obj, rs: Obj, to: int) -> None:
        was = rs["spec"].get("replicas", 0)
        if was == to:
            return
        rs["spec"]["replicas"] = to
        rs["metadata"].setdefault("annotations", {})[DESIRED] = str(d["spec"]["replicas"])
        self.store.touch(rs, spec_changed=True)
        how = "up" if to > was else "down"
        msg = f"Scaled {how} replica set {rs['metadata']['name']} from {was} to {to}"
        self.emit(d, "ScalingReplicaSet", msg)
        self.sync_replicaset(rs)

    def _rollout(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> None:
        want = d["spec"]["replicas"]
        olds = sorted(olds, key=revision)
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            for rs in olds:
                self._scale(d, rs, 0)
            self._scale(d, new_rs, want)
            return
        surge, unavailable = self._surge(d)
        # Crash-looping pods pass their first readiness check, so only a stall holds a rollout.
        new_ready = (
            self.mode_for(d["metadata"]["namespace"], new_rs["metadata"]["name"]) != "unready"
        )
        for _ in range(2 * want + 4):
            n, old_total = new_rs["spec"]["replicas"], sum(rs["spec"]["replicas"] for rs in olds)
            if n != want:
                up = min(want - n, max(0, want + surge - n - old_total)) if n < want else want - n
                self._scale(d, new_rs, n + up)
            n = new_rs["spec"]["replicas"]
            room = n + old_total - (want - unavailable) - (0 if new_ready else n)
            for rs in olds:
                down = min(rs["spec"]["replicas"], max(room, 0))
                room -= down
                self._scale(d, rs, rs["spec"]["replicas"] - down)
            if (n, old_total) == (
                new_rs["spec"]["replicas"],
                sum(rs["spec"]["replicas"] for rs in olds),
            ):
                break

    def _cleanup(self, d: Obj, rss: list[Obj], new_rs: Obj) -> None:
        idle = sorted(
            (rs for rs in rss if rs is not new_rs and not rs["spec"]["replicas"]), key=revision
        )
        for rs in idle[: max(0, len(idle) - d["spec"].get("revisionHistoryLimit", 10))]:
            self.store.delete(REPLICASET, rs["metadata"]["namespace"], rs["metadata"]["name"])
            rss.remove(rs)

    def _status(self, d: Obj, new_rs: Obj | None, rss: list[Obj], created: bool = False) -> None:
        """calculateStatus + syncRolloutStatus: counts, Available and Progressing."""
        spec, old, now = d["spec"], d.get("status") or {}, self.store.stamp()
        want, sts = spec["replicas"], [rs.get("status") or {} for rs in rss]
        available = sum(x.get("availableReplicas", 0) for x in sts)
        status = {
            "observedGeneration": d["metadata"]["generation"],
            "replicas": sum(x.get("replicas", 0) for x in sts),
            "updatedReplicas": (new_rs or {}).get("status", {}).get("replicas", 0),
            "readyReplicas": sum(x.get("readyReplicas", 0) for x in sts),
            "availableReplicas": available,
            "unavailableReplicas": max(0, sum(rs["spec"]["replicas"] for rs in rss) - available),
        }
        status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
        status["conditions"] = copy.deepcopy(old.get("conditions") or [])
        if old.get("collisionCount"):
            status["collisionCount"] = old["collisionCount"]
        if available >= want - self._surge(d)[1]:
            msg = "Deployment has minimum availability."
            _set_condition(status, "Available", "True", "MinimumReplicasAvailable", msg, now)
        else:
            msg = "Deployment does not have minimum availability."
            _set_condition(status, "Available", "False", "MinimumReplicasUnavailable", msg, now)
        rs = new_rs["metadata"]["name"] if new_rs else ""

        def progressing(ok: str, reason: str, msg: str, force: bool = False) -> None:
            _set_condition(status, "Progressing", ok, reason, msg, now, force)

        def g(key: str, src: Obj = status) -> int:
            return src.get(key, 0)

        if spec.get("paused"):
            progressing("Unknown", "DeploymentPaused", "Deployment is paused")
        elif created:
            progressing("True", "NewReplicaSetCreated", f'Created new replica set "{rs}"')
        old_left, new_left = (
            g("replicas", old) - g("updatedReplicas", old),
            g("replicas") - g("updatedReplicas"),
        )
        if spec.get("paused"):
            pass
        elif g("updatedReplicas") == g("replicas") == g("availableReplicas") == want:
            progressing(
                "True", "NewReplicaSetAvailable", f'ReplicaSet "{rs}" has successfully progressed.'
            )
        elif (
            g("updatedReplicas") > g("updatedReplicas", old)
            or new_left < old_left
            or g("readyReplicas") > g("readyReplicas", old)
            or g("availableReplicas") > g("availableReplicas", old)
        ):  # progress moves lastUpdateTime, which the deadline counts from
            progressing("True", "ReplicaSetUpdated", f'ReplicaSet "{rs}" is progressing.', True)
        else:
            self._check_deadline(d, status)
        self._set_status(d, status)

    def _check_deadline(self, d: Obj, status: Obj) -> bool:
        """DeploymentTimedOut: no progress for progressDeadlineSeconds since lastUpdateTime."""
        cond = next((c for c in status.get("conditions", ()) if c["type"] == "Progressing"), None)
        deadline = d["spec"].get("progressDeadlineSeconds")
        if (
            not cond
            or deadline is None
            or cond.get("reason") in TERMINAL
            or d["spec"].get("paused")
        ):
            return False
        if parse_time(cond["lastUpdateTime"]) + deadline >= self.store.now():
            return False
        rs = cond["message"].split('"')[1] if '"' in cond["message"] else ""
        msg = f'ReplicaSet "{rs}" has timed out progressing.'
        _set_condition(
            status, "Progressing", "False", "ProgressDeadlineExceeded", msg, self.store.stamp()
        )
        return True

    def crash_cycle(self, ns: str, owner: str) -> None:
        """One restart of every crash-looping container of ``owner``: the kubelet bumps
        restartCount, and while the container runs it is briefly ready, so the ReplicaSet and
        Deployment status are written twice (up, then down again). Their resourceVersion moves;
        their spec and generation do not, as on a real cluster."""
        s = self.store
        rs = s.find(REPLICASET, ns, owner)
        top = rs or s.find(STATEFULSET, ns, owner) or s.find(DAEMONSET, ns, owner)
        if top is None:
            return
        pods = s.owned(POD, top)
        for p in pods:
            before = copy.deepcopy(p)
            for c in (p.get("status") or {}).get("containerStatuses") or ():
                c["restartCount"] = c.get("restartCount", 0) + 1
            s.touch(p, before=before)
        d = next(
            (
                s.find(DEPLOYMENT, ns, r["name"])
                for r in (rs or {}).get("metadata", {}).get("ownerReferences", ())
                if r.get("kind") == "Deployment"
            ),
            None,
        )
        for up in (True, False):
            for obj in (top, d):
                if obj is None or not pods:
                    continue
                status = copy.deepcopy(obj.get("status") or {})
                key = "readyReplicas" if "readyReplicas" in status or rs else "numberReady"
                status[key] = status.get(key, 0) + (len(pods) if up else -len(pods))
                status = {k: v for k, v in status.items() if v or k != key}
                self._set_status(obj, status)

    def tick(self) -> None:
        """Time-driven transitions: rollouts that stop progressing pass their deadline, and
        crash-looping containers restart every CRASH_PERIOD seconds."""
        now = self.store.now()
        for key in list(self.crashing):
            due = self.next_crash.setdefault(key, now + CRASH_PERIOD)
            if now >= due:
                self.next_crash[key] = now + CRASH_PERIOD
                self.crash_cycle(*key)
        for d in self.store.items(DEPLOYMENT):
            conds = (d.get("status") or {}).get("conditions") or ()
            if all(c["type"] != "Progressing" or c.get("reason") in TERMINAL for c in conds):
                continue  # cheap exit: this runs before every request
            status = copy.deepcopy(d["status"])
            if self._check_deadline(d, status):
                self._set_status(d, status)

    # --------------------------------------------------------------------------- entry
    def sync(self, obj: Obj) -> None:
        kind = obj.get("kind")
        if kind == "Deployment":
            self.sync_deployment(obj)
        elif kind == "StatefulSet":
            self.sync_statefulset(obj)
        elif kind == "DaemonSet":
            self.sync_daemonset(obj)
        elif kind == "ReplicaSet":
            self.sync_replicaset(obj)

    def reconcile(self) -> None:
        s = self.store
        for res in (DEPLOYMENT, STATEFULSET, DAEMONSET):
            for obj in s.items(res):
                self.sync(obj)
        self.tick()
