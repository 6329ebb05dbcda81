"""Checklist tables: each incident's playbook steps and their state, and its pinned message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class ChecklistStep(Base):
    """One step of a playbook on one incident; keyed by playbook and step id, so switching the
    incident's type adds steps and never loses what was done."""

    __tablename__ = "checklist_steps"
    __table_args__ = (UniqueConstraint("incident_id", "playbook", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    playbook: Mapped[str] = mapped_column(String(40))
    step_id: Mapped[str] = mapped_column(String(40))
    phase: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    action: Mapped[str | None] = mapped_column(String(40))
    args: Mapped[str] = mapped_column(
        Text, default=""
    )  # placeholders filled where the service could
    code: Mapped[str | None] = mapped_column(Text)  # a runbook line shown, never run
    due_hours: Mapped[float | None] = mapped_column(Float)
    # open | done | run | skipped
    status: Mapped[str] = mapped_column(String(8), default="open")
    by_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(Integer)  # the approval request a Run opened
    action_item_id: Mapped[int | None] = mapped_column(Integer)  # post-incident: its action item
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Checklist(Base):
    """The incident's checklist message (posted and pinned once) and how it is being viewed."""

    __tablename__ = "checklists"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    message_ts: Mapped[str | None] = mapped_column(String(32))
    pinned: Mapped[bool] = mapped_column(default=False)
    # Whoever set this first posts; a claim whose process died lapses and is taken over.
    post_claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suggested: Mapped[str | None] = mapped_column(String(40))  # the type a button suggested
    suggest_ts: Mapped[str | None] = mapped_column(String(32))
    focus: Mapped[str | None] = mapped_column(String(16))  # a phase opened with *Show*
    pages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # phase -> page shown
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every change
