"""Connections to what actions run against, built lazily from the policy's allow-listed targets."""

from __future__ import annotations

import threading
from typing import Any

from bot.config import Policy
from bot.errors import UserError


class TargetError(UserError):
    """A target that is not configured or not reachable, in plain words."""


class Targets:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy  # runners read limits such as rollout_watch_seconds from it
        self.config = policy.targets
        self._k8s: Any = None
        self._lock = threading.Lock()

    @property
    def namespaces(self) -> list[str]:
        return self.config.kubernetes.namespaces if self.config.kubernetes else []

    def kubernetes(self) -> Any:
        """The official client's ApiClient, configured once."""
        cfg = self.config.kubernetes
        if cfg is None:
            raise TargetError("Kubernetes is not configured (targets.kubernetes in the policy).")
        with self._lock:
            if self._k8s is None:
                from bot.targets.kubernetes import make_api_client

                self._k8s = make_api_client(cfg)
            return self._k8s

    def postgres_dsn(self, name: str) -> str:
        t = self.config.postgres.get(name)
        dsn = t.resolved() if t else ""
        if not dsn:
            raise TargetError(f"PostgreSQL target `{name}` has no DSN (check its dsn_env).")
        return dsn

    def redis_url(self, name: str) -> str:
        t = self.config.redis.get(name)
        url = t.resolved() if t else ""
        if not url:
            raise TargetError(f"Redis target `{name}` has no URL (check its url_env).")
        return url

    def http_url(self, name: str) -> str:
        return self.config.http[name]
