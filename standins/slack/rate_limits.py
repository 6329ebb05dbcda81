"""Slack's Web API rate limits, stood in: per-method tiers and chat.postMessage's per-channel pace.

Slack evaluates limits per method and workspace over one-minute windows (Tier 1: 1+, Tier 2: 20+,
Tier 3: 50+, Tier 4: 100+ a minute); ``chat.postMessage`` allows about one message a second per
channel with short bursts. Over the limit the call answers HTTP 429 with ``Retry-After`` in whole
seconds. ``scale`` runs the clock faster (scale 20: a "minute" lasts 3 s) so a test can drain a
burst quickly; ``Retry-After`` stays an integer of at least 1, as Slack sends it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

# From each method's "Rate limits" fact in Slack's reference; auth.test and chat.getPermalink
# are "special" and generous, counted here as Tier 4.
METHOD_TIERS = {
    "apps.connections.open": 1,
    "auth.test": 4,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.archive": 2,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.rename": 2,
    "conversations.replies": 3,
    "conversations.setPurpose": 2,
    "conversations.setTopic": 2,
    "files.completeUploadExternal": 4,
    "files.getUploadURLExternal": 4,
    "pins.add": 2,
    "pins.list": 2,
    "pins.remove": 2,
    "reactions.add": 3,
    "reactions.get": 3,
    "usergroups.users.list": 2,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
}
POST_PER_SECOND = 1.0  # chat.postMessage, per channel
POST_BURST = 3  # messages a quiet channel takes at once before the pace applies


class RateLimits:
    """Sliding one-minute windows per method, and a token bucket per channel for posting."""

    def __init__(self, scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale = scale
        self.clock = clock
        self.limited = 0  # calls answered 429 so far
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def check(self, method: str, channel: str | None = None) -> int | None:
        """Count one call; None if allowed, else the ``Retry-After`` seconds to answer."""
        with self._lock:
            now = self.clock()
            if method == "chat.postMessage":
                wait = self._post(str(channel or ""), now)
            else:
                wait = self._tier(method, now)
            if wait is None:
                return None
            self.limited += 1
            return max(1, math.ceil(wait))

    def _tier(self, method: str, now: float) -> float | None:
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return None
        window = 60.0 / self.scale
        calls = self._windows.setdefault(method, deque())
        while calls and calls[0] <= now - window:
            calls.popleft()
        if len(calls) >= TIER_PER_MINUTE[tier]:
            return calls[0] + window - now
        calls.append(now)
        return None

    def _post(self, channel: str, now: float) -> float | None:
        rate = POST_PER_SECOND * self.scale
        tokens, at = self._buckets.get(channel, (float(POST_BURST), now))
        tokens = min(float(POST_BURST), tokens + (now - at) * rate)
        if tokens < 1.0:
            self._buckets[channel] = (tokens, now)
            return (1.0 - tokens) / rate
        self._buckets[channel] = (tokens - 1.0, now)
        return None
