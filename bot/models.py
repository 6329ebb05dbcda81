"""The tables: incidents, their timeline, and the guards that make side effects happen once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("day", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(60), default="")
    severity: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="investigating")
    impact: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    # Post-mortem fields (`/incident set <field> <text>` and the resolve form).
    root_cause: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    lessons: Mapped[str] = mapped_column(Text, default="", server_default="")
    team_id: Mapped[str] = mapped_column(String(32), default="")
    reporter_id: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[str | None] = mapped_column(String(32))
    comms_id: Mapped[str | None] = mapped_column(String(32))
    scribe_id: Mapped[str | None] = mapped_column(String(32))
    origin_channel_id: Mapped[str] = mapped_column(String(32), default="")
    source_link: Mapped[str] = mapped_column(Text, default="")
    # The catalog service it was declared for, and its type (a playbook's name); None: neither.
    service: Mapped[str | None] = mapped_column(String(40))
    type: Mapped[str | None] = mapped_column(String(40))
    # A private incident: a closed war room with a neutral name; details only to its members.
    private: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    postmortem_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Per-incident reminder cadence (`/incident remind`): None follows the severity's policy.
    update_minutes: Mapped[float | None] = mapped_column(Float)
    reminders_off: Mapped[bool] = mapped_column(default=False)

    # War-room setup: each step's result is kept so a retry resumes instead of repeating.
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    alert_ts: Mapped[str | None] = mapped_column(String(32))
    alert_pinned: Mapped[bool] = mapped_column(default=False)
    announce_ts: Mapped[str | None] = mapped_column(String(32))
    invited: Mapped[bool] = mapped_column(default=False)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    setup_error: Mapped[str | None] = mapped_column(Text)
    setup_claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    timeline: Mapped[list[TimelineEvent]] = relationship(
        back_populates="incident", order_by="TimelineEvent.id", lazy="raise_on_sql"
    )

    @property
    def number(self) -> str:
        return f"{self.day.isoformat()}-{self.seq:03d}"

    @property
    def is_resolved(self) -> bool:
        return self.status == "resolved"


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    # source_key de-duplicates captured Slack messages (a pin and a :pushpin: of the same one).
    __table_args__ = (UniqueConstraint("incident_id", "source_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_key: Mapped[str | None] = mapped_column(String(80))

    incident: Mapped[Incident] = relationship(back_populates="timeline")


class Timer(Base):
    """A durable due time. Whoever flips it pending -> firing first fires it; nobody else can."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    step: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))
    ref_id: Mapped[int | None] = mapped_column(Integer)  # e.g. the action request that expires


class ActionRequest(Base):
    """A diagnostic or remediation someone asked for; it runs once, after approval."""

    __tablename__ = "action_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target: Mapped[str] = mapped_column(String(200))  # what it runs against, for people
    preview: Mapped[str] = mapped_column(Text, default="")  # exactly what will run
    requester_id: Mapped[str] = mapped_column(String(32))
    # pending -> approved -> running -> succeeded|failed; or denied|expired
    state: Mapped[str] = mapped_column(String(12), default="pending")
    approvals_needed: Mapped[int] = mapped_column(Integer, default=1)
    approvers: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every transition


class AuditEntry(Base):
    """Who did what to which target, and how it ended: append-only."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("action_requests.id", ondelete="SET NULL"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")


class ActionItem(Base):
    """A follow-up with an owner and a due date; numbered per incident for `action done <n>`."""

    __tablename__ = "action_items"
    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(32))


class Postmortem(Base):
    """The compiled draft; compiling again replaces it and bumps the version."""

    __tablename__ = "postmortems"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[str] = mapped_column(Text)
    draft: Mapped[bool] = mapped_column(default=True)
    compiled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    compiled_by: Mapped[str | None] = mapped_column(String(32))
    file_id: Mapped[str | None] = mapped_column(String(32))


class DayCounter(Base):
    """The last incident number handed out per day (numbers are per-day sequences)."""

    __tablename__ = "day_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class DeclareGuard(Base):
    """One row per declaration fingerprint: a repeat inside the window finds the first incident."""

    __tablename__ = "declare_guards"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedEvent(Base):
    """Slack Events API deliveries already handled, by event_id (deliveries are at least once)."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SeenRequest(Base):
    """Signatures of signed Slack requests already served: Slack's scheme accepts a request for
    five minutes, so a replay within them is refused by its signature (Redis first, when set)."""

    __tablename__ = "seen_requests"

    signature: Mapped[str] = mapped_column(String(80), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# Tables of other packages, registered on the same metadata (migrations compare against it).
import bot.alerts.models  # noqa: E402
import bot.approvals.models  # noqa: E402
import bot.console.models  # noqa: E402
import bot.evidence.models  # noqa: E402
import bot.paging.models  # noqa: E402
import bot.playbooks.models  # noqa: E402
import bot.statuspage.models  # noqa: E402, F401
