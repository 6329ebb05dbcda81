"""Builds the runtime and the Slack app from settings: the one place parts are put together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.clock import Clock, SystemClock
from bot.config import Policy, Settings
from bot.db import Database
from bot.metrics import Metrics
from bot.migrate import upgrade
from bot.once import NoOnce, Once, RedisOnce
from bot.playbooks.library import Library
from bot.runtime import Runtime
from bot.slack.chat import SlackChat, make_client
from bot.targets import Targets


def build_runtime(
    settings: Settings, policy: Policy, clock: Clock | None = None, migrate: bool = False
) -> Runtime:
    db = Database(settings.resolved_database_url())
    if migrate:
        upgrade(db.url)
    once: Once = RedisOnce(settings.redis_url) if settings.redis_url else NoOnce()
    chat = SlackChat(make_client(settings.slack_bot_token, settings.slack_api_url))
    metrics = Metrics(open_incidents=lambda: open_counts(db))
    chat.observer = lambda method, outcome: metrics.slack_calls.labels(method, outcome).inc()
    return Runtime(
        settings=settings,
        policy=policy,
        db=db,
        chat=chat,
        clock=clock or SystemClock(),
        once=once,
        effects=ThreadPoolExecutor(settings.effect_workers, "effects"),
        setups=ThreadPoolExecutor(settings.setup_workers, "setup"),
        targets=Targets(policy),
        metrics=metrics,
        playbooks=Library.for_policy(policy.playbooks_dir, settings.warroom_config),
    )


def open_counts(db: Database) -> dict[str, int]:
    from sqlalchemy import func, select

    from bot.models import Incident

    with db.read() as s:
        rows = s.execute(
            select(Incident.severity, func.count())
            .where(Incident.status != "resolved")
            .group_by(Incident.severity)
        )
        return {sev: n for sev, n in rows}
