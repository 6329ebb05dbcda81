"""Kubernetes diagnostics: pods, describe, logs, events, top, rollout history and status."""

from __future__ import annotations

from typing import Any

from bot.config import Policy
from bot.errors import UserError
from bot.targets import Targets
from bot.targets import kubernetes as k8s
from commands.actions.args import (
    Parsed,
    bounded_int,
    dns_label,
    dns_subdomain,
    duration_seconds,
    kind_name,
    selector,
    split,
)
from commands.actions.registry import Action, Output, Plan, register
from commands.actions.table import table


def namespace(a: Parsed, policy: Policy) -> str:
    allowed = policy.targets.kubernetes.namespaces if policy.targets.kubernetes else []
    if not allowed:
        raise UserError(
            "Kubernetes is not configured with any allowed namespace "
            "(targets.kubernetes.namespaces in the policy)."
        )
    given = a.options.get("n") or a.options.get("namespace")
    if not given:
        if len(allowed) == 1:
            return allowed[0]
        raise UserError(f"Say which namespace with `-n`: one of {', '.join(allowed)}.")
    ns = dns_label(str(given), "namespace")
    if ns not in allowed:
        raise UserError(
            f"Namespace `{ns}` is not allowed by the policy (allowed: {', '.join(allowed)})."
        )
    return ns


NS = {"n": True, "namespace": True}


def _one(a: Parsed, usage: str) -> str:
    if len(a.positional) != 1:
        raise UserError(f"Usage: {usage}")
    return a.positional[0]


# pods ------------------------------------------------------------------------------------
PODS = "`/incident run pods [deployment/<name> | -l <selector>] [-n <namespace>]`"


def parse_pods(text: str, policy: Policy) -> Plan:
    a = split(text, PODS, {**NS, "l": True, "selector": True})
    ns = namespace(a, policy)
    sel = a.options.get("l") or a.options.get("selector")
    if a.positional and sel:
        raise UserError(f"Give a deployment or a selector, not both. Usage: {PODS}")
    params: dict[str, Any] = {"namespace": ns, "selector": selector(str(sel)) if sel else ""}
    what = f"pods in `{ns}`" + (f" with `{sel}`" if sel else "")
    if a.positional:
        _, name = kind_name(_one(a, PODS), ("deployment",), PODS)
        params["deployment"] = name
        what = f"pods of deployment `{name}` in `{ns}`"
    return Plan(params, f"kubernetes `{ns}`", f"list {what}")


def run_pods(t: Targets, p: dict[str, Any]) -> Output:
    api = t.kubernetes()
    sel = p["selector"]
    if p.get("deployment"):
        sel = k8s.selector_of(k8s.deployment(api, p["namespace"], p["deployment"]))
    rows = k8s.pods(api, p["namespace"], sel)
    bad = [
        r
        for r in rows
        if r["status"] != "Running" or r["ready"].split("/")[0] != r["ready"].split("/")[1]
    ]
    summary = f"{len(rows)} pod(s), {len(bad)} not ready" if rows else "no pods match"
    return Output(
        True,
        summary,
        table(rows, ["name", "ready", "status", "restarts", "age", "node"]),
        "pods.txt",
    )


# describe --------------------------------------------------------------------------------
DESCRIBE = "`/incident run describe pod/<name> [-n <namespace>]`"


def parse_describe(text: str, policy: Policy) -> Plan:
    a = split(text, DESCRIBE, NS)
    ns = namespace(a, policy)
    _, name = kind_name(_one(a, DESCRIBE), ("pod",), DESCRIBE)
    return Plan(
        {"namespace": ns, "pod": name},
        f"kubernetes `{ns}`",
        f"describe pod `{name}` in `{ns}` (conditions, containers, events)",
    )


def run_describe(t: Targets, p: dict[str, Any]) -> Output:
    text = k8s.describe_pod(t.kubernetes(), p["namespace"], p["pod"])
    return Output(True, f"pod {p['pod']} described", text, f"describe-{p['pod']}.txt")


# logs ------------------------------------------------------------------------------------
LOGS = (
    "`/incident run logs pod/<name>|deployment/<name> [-n <ns>] [--tail N] [--since 10m] "
    "[--previous] [-c <container>]`"
)


def parse_logs(text: str, policy: Policy) -> Plan:
    a = split(
        text,
        LOGS,
        {
            **NS,
            "tail": True,
            "since": True,
            "previous": False,
            "p": False,
            "c": True,
            "container": True,
        },
    )
    ns = namespace(a, policy)
    target = _one(a, LOGS)
    kind, name = (
        kind_name(target, ("pod", "deployment"), LOGS)
        if "/" in target
        else ("pod", dns_subdomain(target, "pod name"))
    )
    tail = bounded_int(a.options.get("tail", 100), "--tail", 1, policy.log_tail_max)
    since = a.options.get("since")
    container = a.options.get("c") or a.options.get("container")
    params = {
        "namespace": ns,
        "pod": name if kind == "pod" else None,
        "deployment": name if kind == "deployment" else None,  # one of its pods, as kubectl
        "tail": tail,
        "since": duration_seconds(since, "--since", 86400) if since else None,
        "previous": bool(a.options.get("previous") or a.options.get("p")),
        "container": dns_label(str(container), "container name") if container else None,
    }
    bits = (
        [f"last {tail} lines"]
        + ([f"since {since}"] if since else [])
        + (["of the previous container"] if params["previous"] else [])
        + ([f"container `{container}`"] if container else [])
    )
    what = f"pod `{name}`" if kind == "pod" else f"one pod of deployment `{name}`"
    return Plan(params, f"kubernetes `{ns}`", f"logs of {what} in `{ns}`: {', '.join(bits)}")


def _most_active_pod(api: Any, ns: str, deployment: str) -> str | None:
    """The pod `kubectl logs deployment/x` reads: scheduled, running, ready, fewest restarts."""
    rows = k8s.pods(api, ns, k8s.selector_of(k8s.deployment(api, ns, deployment)))

    def activity(r: dict[str, Any]) -> tuple[bool, bool, bool, int]:
        ready, total = r["ready"].split("/")
        return (bool(r["node"]), r["status"] == "Running", ready == total, -r["restarts"])

    return max(rows, key=activity)["name"] if rows else None


def run_logs(t: Targets, p: dict[str, Any]) -> Output:
    if p.get("deployment"):
        pod = _most_active_pod(t.kubernetes(), p["namespace"], p["deployment"])
        if pod is None:
            return Output(False, f"deployment {p['deployment']} has no pods to read logs from")
        p = {**p, "pod": pod}
    text = k8s.logs(
        t.kubernetes(),
        p["namespace"],
        p["pod"],
        p["tail"],
        p["since"],
        p["previous"],
        p["container"],
    )
    n = len(text.splitlines())
    return Output(True, f"{n} log line(s) from {p['pod']}", text, f"logs-{p['pod']}.txt")


# events ----------------------------------------------------------------------------------
EVENTS = "`/incident run events [-n <namespace>] [--for pod/<name> | deployment/<name>]`"


def parse_events(text: str, policy: Policy) -> Plan:
    a = split(text, EVENTS, {**NS, "for": True})
    if a.positional:
        raise UserError(f"Usage: {EVENTS}")
    ns = namespace(a, policy)
    params: dict[str, Any] = {"namespace": ns, "kind": None, "name": None}
    what = f"events in `{ns}`"
    if a.options.get("for"):
        kind, name = kind_name(
            str(a.options["for"]), ("pod", "deployment", "statefulset", "daemonset"), EVENTS
        )
        params.update(kind=kind.capitalize() if kind != "statefulset" else "StatefulSet", name=name)
        what += f" for {kind} `{name}`"
    return Plan(params, f"kubernetes `{ns}`", f"list {what}, newest first")


def run_events(t: Targets, p: dict[str, Any]) -> Output:
    kind = {"Daemonset": "DaemonSet"}.get(p["kind"], p["kind"]) if p["kind"] else None
    rows = k8s.events(t.kubernetes(), p["namespace"], kind, p["name"])
    warnings = sum(1 for r in rows if r["type"] == "Warning")
    return Output(
        True,
        f"{len(rows)} event(s), {warnings} warning(s)",
        table(rows, ["last", "type", "reason", "object", "count", "message"], 80),
        "events.txt",
    )


# top -------------------------------------------------------------------------------------
TOP = "`/incident run top pods [-n <namespace>] [-l <selector>]` or `/incident run top nodes`"


def parse_top(text: str, policy: Policy) -> Plan:
    a = split(text, TOP, {**NS, "l": True, "selector": True})
    what = _one(a, TOP)
    if what not in ("pods", "nodes"):
        raise UserError(f"Usage: {TOP}")
    if what == "nodes":
        return Plan(
            {"what": "nodes", "namespace": None, "selector": None},
            "kubernetes cluster",
            "CPU and memory of the nodes (metrics.k8s.io)",
        )
    ns = namespace(a, policy)
    sel = a.options.get("l") or a.options.get("selector")
    return Plan(
        {"what": "pods", "namespace": ns, "selector": selector(str(sel)) if sel else None},
        f"kubernetes `{ns}`",
        f"CPU and memory of pods in `{ns}` (metrics.k8s.io)",
    )


def run_top(t: Targets, p: dict[str, Any]) -> Output:
    rows = k8s.top(t.kubernetes(), p["what"], p["namespace"], p["selector"])
    return Output(
        True,
        f"{len(rows)} {p['what']}",
        table(rows, ["name", "cpu", "memory"]),
        f"top-{p['what']}.txt",
    )


# rollout history / status ------------------------------------------------------------------
HISTORY = "`/incident run rollout-history deployment/<name> [-n <namespace>]`"
STATUS = "`/incident run rollout-status deployment/<name> [-n <namespace>]`"


def _parse_deploy(usage: str, verb: str):
    def parse(text: str, policy: Policy) -> Plan:
        a = split(text, usage, NS)
        ns = namespace(a, policy)
        _, name = kind_name(_one(a, usage), ("deployment",), usage)
        return Plan(
            {"namespace": ns, "deployment": name},
            f"kubernetes `{ns}`",
            f"{verb} of deployment `{name}` in `{ns}`",
        )

    return parse


def run_history(t: Targets, p: dict[str, Any]) -> Output:
    rows = k8s.history(t.kubernetes(), p["namespace"], p["deployment"])
    # One button per revision, each with its own action_id (Slack refuses a message whose
    # action_ids repeat). Revision 0 is a ReplicaSet without the revision annotation: the
    # number cannot name it (`--to-revision 0` means "the previous one"), so it gets no button.
    seen: set[int] = set()
    buttons = []
    for r in reversed(rows):
        rev = r["revision"]
        if r["current"] or rev == 0 or rev in seen:
            continue
        seen.add(rev)
        buttons.append(
            (
                f"Roll back to {rev}",
                f"rollback_to:{rev}",
                f"{p['namespace']}/{p['deployment']}/{rev}",
            )
        )
    unannotated = [r["replicaset"] for r in rows if r["revision"] == 0 and not r["current"]]
    notes = ""
    if unannotated:
        notes = (
            f"\nRevision 0: ReplicaSet {', '.join(unannotated)} has no revision annotation. "
            "A number cannot name it; `/incident rollback` without --to-revision reaches it "
            "only when it is the previous revision, and its preview names the ReplicaSet."
        )
    for r in rows:
        r["revision"] = f"{r['revision']}{' (current)' if r['current'] else ''}"
    return Output(
        True,
        f"{len(rows)} revision(s)" if rows else "no rollout history found",
        table(rows, ["revision", "images", "change_cause", "created"], 70) + notes,
        f"history-{p['deployment']}.txt",
        buttons=tuple(buttons[:10]),
    )


def run_status(t: Targets, p: dict[str, Any]) -> Output:
    """kubectl rollout status: watch until complete, failed or the policy's watch time."""
    from bot.targets import k8s_rollout as rollout

    api, ns, name = t.kubernetes(), p["namespace"], p["deployment"]
    message, done, failed = k8s.rollout_status(k8s.deployment(api, ns, name))
    if done or failed:
        return Output(not failed, message, "")
    policy = t.policy

    def follow(progress: Any) -> tuple[str, bool]:
        return rollout.watch(
            api, ns, name, progress, policy.rollout_watch_seconds, policy.rollout_poll_seconds
        )

    return Output(True, message, "", follow=follow)


for _action in (
    Action(
        "pods",
        "diagnostic",
        PODS,
        "pods with phase, readiness, restarts, age, node",
        parse_pods,
        run_pods,
    ),
    Action(
        "describe",
        "diagnostic",
        DESCRIBE,
        "a pod's conditions, container states and events",
        parse_describe,
        run_describe,
    ),
    Action(
        "logs",
        "diagnostic",
        LOGS,
        "a pod's logs (tail, since, previous container)",
        parse_logs,
        run_logs,
    ),
    Action(
        "events",
        "diagnostic",
        EVENTS,
        "events in a namespace, newest first",
        parse_events,
        run_events,
    ),
    Action("top", "diagnostic", TOP, "CPU and memory from metrics-server", parse_top, run_top),
    Action(
        "rollout-history",
        "diagnostic",
        HISTORY,
        "revisions with images and change-cause",
        _parse_deploy(HISTORY, "rollout history"),
        run_history,
    ),
    Action(
        "rollout-status",
        "diagnostic",
        STATUS,
        "whether the deployment's rollout is done",
        _parse_deploy(STATUS, "rollout status"),
        run_status,
    ),
):
    register(_action)
