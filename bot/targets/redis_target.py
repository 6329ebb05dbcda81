"""Redis diagnostics: PING latency, an INFO summary, SLOWLOG."""

from __future__ import annotations

import time
from typing import Any

import redis

from bot.targets import TargetError


def _client(url: str, timeout_s: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)


def _guard(fn: Any) -> Any:
    try:
        return fn()
    except redis.AuthenticationError:
        raise TargetError("Redis refused our credentials.") from None
    except (redis.ConnectionError, redis.TimeoutError) as e:
        raise TargetError(f"Redis is unreachable ({e.__class__.__name__}).") from None


def ping(url: str, samples: int, timeout_s: float) -> list[float]:
    client = _client(url, timeout_s)

    def run() -> list[float]:
        out = []
        for _ in range(samples):
            t0 = time.perf_counter()
            client.ping()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    try:
        return _guard(run)
    finally:
        client.close()


INFO_KEYS = {
    "server": ["redis_version", "uptime_in_seconds"],
    "memory": [
        "used_memory_human",
        "maxmemory_human",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
    ],
    "clients": ["connected_clients", "blocked_clients"],
    "stats": [
        "instantaneous_ops_per_sec",
        "evicted_keys",
        "expired_keys",
        "keyspace_hits",
        "keyspace_misses",
        "rejected_connections",
    ],
    "replication": ["role", "connected_slaves"],
}


def info(url: str, timeout_s: float) -> dict[str, dict[str, Any]]:
    client = _client(url, timeout_s)
    try:
        raw = _guard(lambda: client.info("everything"))
    finally:
        client.close()
    return {sec: {k: raw.get(k, "—") for k in keys} for sec, keys in INFO_KEYS.items()}


def slowlog(url: str, count: int, timeout_s: float) -> list[dict[str, Any]]:
    client = _client(url, timeout_s)
    try:
        return _guard(lambda: client.slowlog_get(count))
    finally:
        client.close()
