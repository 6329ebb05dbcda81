"""Kubernetes remediations behind approval: rollback, restart, scale; each followed to the end."""

from __future__ import annotations

from typing import Any

from bot.config import Policy
from bot.errors import UserError
from bot.messages import when
from bot.models import ActionRequest
from bot.targets import Targets
from bot.targets import k8s_rollout as rollout
from commands.actions.args import bounded_int, kind_name, split
from commands.actions.kubernetes import NS, namespace
from commands.actions.registry import Action, Output, Plan, Verdict, register

ROLLBACK = "`/incident rollback deployment/<name> [-n <namespace>] [--to-revision N]`"
RESTART = "`/incident restart deployment|statefulset|daemonset/<name> [-n <namespace>]`"
SCALE = "`/incident scale deployment/<name> <replicas> [-n <namespace>]`"


def _follow(t: Targets, p: dict[str, Any], policy: Policy):
    if p["kind"] != "deployment":
        return None
    return lambda progress: rollout.watch(
        t.kubernetes(),
        p["namespace"],
        p["name"],
        progress,
        policy.rollout_watch_seconds,
        policy.rollout_poll_seconds,
    )


# rollback -------------------------------------------------------------------------------
def parse_rollback(text: str, policy: Policy) -> Plan:
    a = split(text, ROLLBACK, {**NS, "to-revision": True})
    if len(a.positional) != 1:
        raise UserError(f"Usage: {ROLLBACK}")
    ns = namespace(a, policy)
    _, name = kind_name(a.positional[0], ("deployment",), ROLLBACK)
    rev = bounded_int(a.options.get("to-revision", 0), "--to-revision", 0, 10**9)
    return Plan(
        {"namespace": ns, "kind": "deployment", "name": name, "to_revision": rev},
        f"kubernetes `{ns}`/deployment `{name}`",
        "",
    )


def _rev_line(r: rollout.Revision, tz: Any) -> str:
    cause = f" — {r.change_cause}" if r.change_cause else ""
    return (
        f"revision {r.number}: {', '.join(r.images)}{cause} "
        f"(rolled out {when(r.rolled_out, tz) if r.rolled_out else 'unknown'})"
    )


def prepare_rollback(t: Targets, plan: Plan, policy: Policy) -> Plan:
    p = plan.params
    rp = rollout.plan_rollback(t.kubernetes(), p["namespace"], p["name"], p["to_revision"])
    if rp.skip:
        raise UserError(
            f"Nothing to roll back: deployment {p['name']} already runs the template "
            f"of revision {rp.target.number}."
        )
    params = {
        **p,
        "revision": rp.target.number,
        "replicaset": rp.replicaset,
        "generation": rp.generation,
    }
    preview = (
        f"roll back deployment `{p['name']}` in `{p['namespace']}`\n"
        f"• *current* {_rev_line(rp.current, policy.tz)}\n"
        f"• *target* {_rev_line(rp.target, policy.tz)}, ReplicaSet `{rp.replicaset}`"
    )
    return Plan(params, plan.target, preview)


def run_rollback(t: Targets, p: dict[str, Any], policy: Policy) -> Output:
    if "replicaset" not in p:  # requested before this version: its preview pinned no ReplicaSet
        return Output(False, "This request predates exact rollbacks; ask again.", "")
    text = rollout.rollback(
        t.kubernetes(), p["namespace"], p["name"], p["replicaset"], p["generation"]
    )
    follow = None if text.startswith("skipped") else _follow(t, p, policy)
    return Output(True, text, "", follow=follow)


# restart --------------------------------------------------------------------------------
def parse_restart(text: str, policy: Policy) -> Plan:
    a = split(text, RESTART, NS)
    if len(a.positional) != 1:
        raise UserError(f"Usage: {RESTART}")
    ns = namespace(a, policy)
    kind, name = kind_name(a.positional[0], ("deployment", "statefulset", "daemonset"), RESTART)
    return Plan(
        {"namespace": ns, "kind": kind, "name": name},
        f"kubernetes `{ns}`/{kind} `{name}`",
        f"restart every pod of {kind} `{name}` in `{ns}` (rolling, like `kubectl rollout restart`)",
    )


def prepare_restart(t: Targets, plan: Plan, policy: Policy) -> Plan:
    p = plan.params
    rollout.check_restartable(t.kubernetes(), p["kind"], p["namespace"], p["name"])
    return plan


def run_restart(t: Targets, p: dict[str, Any], policy: Policy) -> Output:
    text = rollout.restart(t.kubernetes(), p["kind"], p["namespace"], p["name"])
    return Output(True, text, "", follow=_follow(t, p, policy))


# scale ----------------------------------------------------------------------------------
def parse_scale(text: str, policy: Policy) -> Plan:
    a = split(text, SCALE, {**NS, "replicas": True})
    pos = a.positional
    if a.options.get("replicas") is not None:
        pos = [*pos, str(a.options["replicas"])]
    if len(pos) != 2:
        raise UserError(f"Usage: {SCALE}")
    ns = namespace(a, policy)
    _, name = kind_name(pos[0], ("deployment",), SCALE)
    replicas = bounded_int(pos[1], "replicas", 0, policy.scale_max_replicas)
    if replicas == 0 and ns not in policy.scale_to_zero_namespaces:
        raise UserError(
            f"Scaling to 0 is not allowed in `{ns}` by the policy (scale_to_zero_namespaces)."
        )
    return Plan(
        {"namespace": ns, "kind": "deployment", "name": name, "replicas": replicas},
        f"kubernetes `{ns}`/deployment `{name}`",
        "",
    )


def prepare_scale(t: Targets, plan: Plan, policy: Policy) -> Plan:
    p = plan.params
    current = rollout.read_scale(t.kubernetes(), p["namespace"], p["name"])
    if current == p["replicas"]:
        raise UserError(f"Deployment {p['name']} already has {current} replicas.")
    return Plan(
        {**p, "expected": current},
        plan.target,
        f"scale deployment `{p['name']}` in `{p['namespace']}` from {current} to "
        f"{p['replicas']} replicas",
    )


def run_scale(t: Targets, p: dict[str, Any], policy: Policy) -> Output:
    text = rollout.scale(t.kubernetes(), p["namespace"], p["name"], p["replicas"], p["expected"])
    return Output(True, text, "", follow=_follow(t, p, policy))


# after an interrupted run -----------------------------------------------------------------
def check_rollback(t: Targets, req: ActionRequest) -> Verdict:
    p = req.params
    return Verdict(
        *rollout.rollback_outcome(
            t.kubernetes(), p["namespace"], p["name"], p["replicaset"], p["generation"]
        )
    )


def check_restart(t: Targets, req: ActionRequest) -> Verdict:
    p = req.params
    assert req.started_at is not None
    return Verdict(
        *rollout.restart_outcome(
            t.kubernetes(), p["kind"], p["namespace"], p["name"], req.started_at
        )
    )


def check_scale(t: Targets, req: ActionRequest) -> Verdict:
    p = req.params
    return Verdict(
        *rollout.scale_outcome(
            t.kubernetes(), p["namespace"], p["name"], p["replicas"], p.get("expected")
        )
    )


def again_rollback(p: dict[str, Any]) -> str:
    return f"deployment/{p['name']} -n {p['namespace']} --to-revision {p['revision']}"


def again_restart(p: dict[str, Any]) -> str:
    return f"{p['kind']}/{p['name']} -n {p['namespace']}"


def again_scale(p: dict[str, Any]) -> str:
    return f"deployment/{p['name']} {p['replicas']} -n {p['namespace']}"


def _bind(policy_runner):
    # Runners receive the policy in force through the Targets they are given.
    return lambda t, p: policy_runner(t, p, t.policy)


register(
    Action(
        "rollback",
        "remediation",
        ROLLBACK,
        "roll a deployment back like `kubectl rollout undo` (previous or given revision)",
        parse_rollback,
        _bind(run_rollback),
        prepare_rollback,
        check_rollback,
        again_rollback,
    )
)
register(
    Action(
        "restart",
        "remediation",
        RESTART,
        "rolling restart like `kubectl rollout restart`",
        parse_restart,
        _bind(run_restart),
        prepare_restart,
        check_restart,
        again_restart,
    )
)
register(
    Action(
        "scale",
        "remediation",
        SCALE,
        "set a deployment's replicas (scale subresource)",
        parse_scale,
        _bind(run_scale),
        prepare_scale,
        check_scale,
        again_scale,
    )
)
