"""Status-page posts: each draft offered, who asked, who approved, and what was published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class StatusPost(Base):
    """One offer per incident and (kind, status): a repeat of a change offers nothing new.

    draft -> requested (approval needed) -> publishing -> published | failed."""

    __tablename__ = "status_posts"
    __table_args__ = (UniqueConstraint("incident_id", "status", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # open | update | resolve
    status: Mapped[str] = mapped_column(String(16))  # investigating … resolved
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    component_id: Mapped[str | None] = mapped_column(String(40))
    component_status: Mapped[str | None] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(12), default="draft")
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str | None] = mapped_column(String(32))
    approved_by: Mapped[str | None] = mapped_column(String(32))
    published_by: Mapped[str | None] = mapped_column(String(32))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(40))  # Statuspage's incident id
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
