"""Prometheus metrics for one runtime: its own registry, so several bots in one process (tests,
the sandbox) never collide."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class _OpenIncidents(Collector):
    """Read at scrape time from the database, so every replica reports the same truth."""

    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self.count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        g = GaugeMetricFamily(
            "warroom_open_incidents", "Incidents not yet resolved", labels=["severity"]
        )
        try:
            counts = self.count()
        except Exception:  # a scrape must not fail because the database blinked
            counts = {}
        for sev in ("P0", "P1", "P2", "P3"):
            g.add_metric([sev], counts.get(sev, 0))
        yield g


class Metrics:
    def __init__(self, open_incidents: Callable[[], dict[str, int]] | None = None) -> None:
        r = self.registry = CollectorRegistry()
        self.commands = Counter(
            "warroom_commands_total", "Slash commands handled", ["command", "outcome"], registry=r
        )
        self.ack_seconds = Histogram(
            "warroom_ack_seconds",
            "Time from receiving a Slack request to acknowledging it",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3),
            registry=r,
        )
        self.slack_calls = Counter(
            "warroom_slack_calls_total", "Slack Web API calls", ["method", "outcome"], registry=r
        )
        self.timers = Counter(
            "warroom_timers_fired_total",
            "Timers fired (reminders, escalations)",
            ["kind", "outcome"],
            registry=r,
        )
        self.timer_lateness = Histogram(
            "warroom_timer_lateness_seconds",
            "How late a timer fired after its due time",
            buckets=(0.1, 0.5, 1, 2, 5, 30, 60, 300, 3600),
            registry=r,
        )
        self.approvals = Counter(
            "warroom_approvals_total", "Approval decisions", ["outcome"], registry=r
        )
        self.actions = Counter(
            "warroom_actions_total", "Actions run", ["action", "outcome"], registry=r
        )
        self.refused = Counter(
            "warroom_requests_refused_total",
            "Requests refused at the door (bad or stale signature, malformed, replayed)",
            ["reason"],
            registry=r,
        )
        if open_incidents is not None:
            r.register(_OpenIncidents(open_incidents))

    def render(self) -> bytes:
        return generate_latest(self.registry)
