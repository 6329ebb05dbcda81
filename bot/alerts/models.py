"""The tables of alerts in: each delivered alert once, and the groups routes put them in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class AlertGroup(Base):
    """Alerts one route groups together (by its grouping labels); at most one open incident each.

    state: "" (nothing pending), "declaring" (a declaration is under way, until claim_until),
    "suggested" (a Declare/Ignore message waits), "ignored", "declared"."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("route", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))  # sha256 of the grouping labels' values
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(12), default="")
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suggestion_channel: Mapped[str | None] = mapped_column(String(32))
    suggestion_ts: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    all_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # war room told
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """One alert as delivered. A re-delivery (repeat_interval, retries) of the same fingerprint,
    status and start is the same row: the unique constraint is the guard, not memory."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("source", "fingerprint", "status", "starts_at"),
        Index("ix_alerts_route_received", "route", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # firing | resolved
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    generator_url: Mapped[str] = mapped_column(Text, default="")
    source_group_key: Mapped[str] = mapped_column(Text, default="")  # the sender's groupKey
    route: Mapped[str | None] = mapped_column(String(40))  # None: no route matched
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_groups.id", ondelete="SET NULL"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
