"""The registry's word on playbook steps: which actions exist, and whether a step's arguments
parse with the action's own parser, placeholders filled with sample values (so a bad step
fails when the playbook loads, not at 3 a.m.)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import KubernetesTarget, Policy, PostgresTarget, RedisTarget
from bot.errors import UserError
from bot.playbooks.library import fill
from commands.actions.registry import load

SAMPLES: dict[str, str] = {
    "namespace": "sample-namespace",
    "workload": "deployment/sample-app",
    "selector": "app=sample-app",
    "postgres": "sample-postgres",
    "redis": "sample-redis",
    "health": "sample-health",
}


class RegistryCheck:
    """A `bot.playbooks.library.StepCheck` backed by the action registry."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.registry = load()
        self.policy = _with_samples(policy or Policy())

    def actions(self) -> Mapping[str, str]:
        return {n: a.usage.replace("`", "") for n, a in self.registry.items()}

    def __call__(self, action: str, args: str) -> None:
        try:
            self.registry[action].parse(fill(args, SAMPLES), self.policy)
        except UserError as e:
            raise ValueError(str(e).replace("`", "'")) from None


def _with_samples(policy: Policy) -> Policy:
    """The policy's own targets plus one sample of each kind, for the placeholders."""
    t = policy.targets
    k8s = t.kubernetes or KubernetesTarget()
    namespaces = [*k8s.namespaces, SAMPLES["namespace"]]
    targets = t.model_copy(
        update={
            "kubernetes": k8s.model_copy(update={"namespaces": namespaces}),
            "postgres": {**t.postgres, SAMPLES["postgres"]: PostgresTarget(dsn="postgresql://s")},
            "redis": {**t.redis, SAMPLES["redis"]: RedisTarget(url="redis://s")},
            "http": {**t.http, SAMPLES["health"]: "http://sample.invalid/health"},
        }
    )
    return policy.model_copy(update={"targets": targets})


def registry_check(policy: Policy | None = None) -> RegistryCheck:
    return RegistryCheck(policy)
