"""Runs of approved actions: who runs one and until when its lease holds, so a run whose process
died is found, and settled once, by whichever process looks next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class ActionRun(Base):
    """One attempt at an approved request: a `run` of the action, or a `check` of what an
    interrupted run did. The (request, attempt) pair is unique: two processes that find the same
    interrupted run cannot both take it over."""

    __tablename__ = "action_runs"
    __table_args__ = (UniqueConstraint("request_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("action_requests.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(8), default="run")  # run | check
    worker: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # succeeded|failed|interrupted
