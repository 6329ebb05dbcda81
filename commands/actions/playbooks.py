"""The registry's word on playbook steps: which actions exist, and whether a step's arguments
parse with the action's own parser, placeholders filled with sample values (so a bad step
fails when the playbook loads, not at 3 a.m.).

This checks shape only. It parses against a neutral policy that allows whatever names the step
gives (namespaces, targets) up to the widest limits, so a policy stricter than a playbook (at
most 2 replicas, one namespace) never stops the playbook from loading: the checklist shows
such a step as not runnable, with the policy's reason (bot/playbooks/flows.why_not)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.config import KubernetesTarget, Policy, PostgresTarget, RedisTarget
from bot.errors import UserError
from bot.playbooks.library import fill
from commands.actions.args import TARGET_NAME
from commands.actions.registry import load

SAMPLES: dict[str, str] = {
    "namespace": "sample-namespace",
    "workload": "deployment/sample-app",
    "selector": "app=sample-app",
    "postgres": "sample-postgres",
    "redis": "sample-redis",
    "health": "sample-health",
}
WIDEST = {"scale_max_replicas": 1000, "log_tail_max": 10000}  # bot.config's upper bounds


class RegistryCheck:
    """A `bot.playbooks.library.StepCheck` backed by the action registry."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.registry = load()
        # Nothing of the policy counts but this: scaling to 0 stays an opt-in per namespace.
        self.to_zero = list((policy or Policy()).scale_to_zero_namespaces)

    def actions(self) -> Mapping[str, str]:
        return {n: a.usage.replace("`", "") for n, a in self.registry.items()}

    def __call__(self, action: str, args: str) -> None:
        filled = fill(args, SAMPLES)
        try:
            self.registry[action].parse(filled, neutral(filled, self.to_zero))
        except UserError as e:
            raise ValueError(str(e).replace("`", "'")) from None


def neutral(args: str, to_zero: Sequence[str] = ()) -> Policy:
    """A policy under which only the shape of `args` can fail: every name the arguments give is
    an allowed namespace and a known target of each kind, and the limits are the widest. Only
    scaling to 0 stays where the policy opted in (`to_zero`)."""
    words = {w for w in args.replace("=", " ").split() if TARGET_NAME.match(w)}
    names = sorted(words | {n for n in SAMPLES.values() if TARGET_NAME.match(n)})
    base = Policy()
    targets = base.targets.model_copy(
        update={
            "kubernetes": KubernetesTarget(namespaces=names),
            "postgres": {n: PostgresTarget(dsn="postgresql://sample") for n in names},
            "redis": {n: RedisTarget(url="redis://sample") for n in names},
            "http": {n: "http://sample.invalid/health" for n in names},
        }
    )
    return base.model_copy(
        update={"targets": targets, "scale_to_zero_namespaces": list(to_zero), **WIDEST}
    )


def registry_check(policy: Policy | None = None) -> RegistryCheck:
    return RegistryCheck(policy)
