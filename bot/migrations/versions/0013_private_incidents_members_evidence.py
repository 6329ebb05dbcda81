"""private incidents, war-room members and evidence exports

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:05:00
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "war_room_members",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("since", bot.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "user_id", name=op.f("pk_war_room_members")),
    )
    op.create_table(
        "evidence_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("file_name", sa.String(length=120), nullable=False),
        sa.Column("archive", sa.LargeBinary(), nullable=False),
        sa.Column("archive_sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_evidence_exports_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_exports")),
        sa.UniqueConstraint("incident_id", "seq", name=op.f("uq_evidence_exports_incident_id_seq")),
    )
    with op.batch_alter_table("evidence_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_exports_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_exports_incident_id"))
    op.drop_table("evidence_exports")
    op.drop_table("war_room_members")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("private")
