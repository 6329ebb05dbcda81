"""The page outbox: one row per thing to tell an on-call product, sent after the commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class Page(Base):
    """trigger / acknowledge / resolve for one incident and target. The unique (dedup_key,
    action, step) makes each step a single row however often it is asked for; the dedup key
    makes the product merge a repeat at its end too."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("dedup_key", "action", "step"),
        Index("ix_pages_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(String(40))  # service or team in the policy
    provider: Mapped[str] = mapped_column(String(16))
    dedup_key: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(12))  # trigger | acknowledge | resolve
    step: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(8), default="error")
    actor_id: Mapped[str | None] = mapped_column(String(32))
    # pending -> sending -> sent | failed | skipped
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    said: Mapped[bool] = mapped_column(default=False)  # a lasting failure was told once
