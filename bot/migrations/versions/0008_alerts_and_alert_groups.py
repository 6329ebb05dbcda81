"""alerts and alert groups

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:35:00
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("claim_until", bot.db.UTCDateTime(), nullable=True),
        sa.Column("suggestion_channel", sa.String(length=32), nullable=True),
        sa.Column("suggestion_ts", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("all_resolved_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_alert_groups_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("route", "key", name=op.f("uq_alert_groups_route_key")),
    )
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_groups_incident_id"), ["incident_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("starts_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("generator_url", sa.Text(), nullable=False),
        sa.Column("source_group_key", sa.Text(), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("received_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alert_groups.id"],
            name=op.f("fk_alerts_group_id_alert_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_alerts_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "source",
            "fingerprint",
            "status",
            "starts_at",
            name=op.f("uq_alerts_source_fingerprint_status_starts_at"),
        ),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_group_id"), ["group_id"])
        batch_op.create_index(batch_op.f("ix_alerts_incident_id"), ["incident_id"])
        batch_op.create_index("ix_alerts_route_received", ["route", "received_at"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("alert_groups")
