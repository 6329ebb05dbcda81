"""A fast shared first-claim check in Redis (`SET NX EX`); the database guard stays the real one."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Once(Protocol):
    def claim(self, key: str, ttl_seconds: int) -> bool: ...
    def first(self, key: str, ttl_seconds: int) -> bool | None: ...
    def ping(self) -> bool: ...


class NoOnce:
    """Without Redis every claim passes and the database decides."""

    def claim(self, key: str, ttl_seconds: int) -> bool:
        return True

    def first(self, key: str, ttl_seconds: int) -> bool | None:
        return None  # cannot tell: the caller asks the database

    def ping(self) -> bool:
        return True


class RedisOnce:
    def __init__(self, url: str, prefix: str = "warroom:once:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def claim(self, key: str, ttl_seconds: int) -> bool:
        try:
            return bool(self.client.set(self.prefix + key, b"1", nx=True, ex=max(ttl_seconds, 1)))
        except Exception as e:  # Redis down: fall back to the database guard, never block Slack
            log.warning(
                "redis claim failed, relying on the database guard: %s", e.__class__.__name__
            )
            return True

    def first(self, key: str, ttl_seconds: int) -> bool | None:
        """True the first time, False after; None when Redis cannot say (down)."""
        try:
            return bool(self.client.set(self.prefix + key, b"1", nx=True, ex=max(ttl_seconds, 1)))
        except Exception as e:
            log.warning("redis unreachable, asking the database: %s", e.__class__.__name__)
            return None

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:
            return False
