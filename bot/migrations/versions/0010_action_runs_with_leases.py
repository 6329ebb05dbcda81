"""action runs with leases

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:40:00
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An approved action's run, leased by the process running it: a run whose process died is
    # found when its lease lapses and settled once (checked, never blindly applied again).
    op.create_table(
        "action_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("started_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("lease_until", bot.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["action_requests.id"],
            name=op.f("fk_action_runs_request_id_action_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_runs")),
        sa.UniqueConstraint(
            "request_id", "attempt", name=op.f("uq_action_runs_request_id_attempt")
        ),
    )
    with op.batch_alter_table("action_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_runs_request_id"), ["request_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_action_runs_lease_until"), ["lease_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_runs_lease_until"))
        batch_op.drop_index(batch_op.f("ix_action_runs_request_id"))
    op.drop_table("action_runs")
