"""incident service and type

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The catalog service an incident was declared for, and its type (the playbook's name).
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("type", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("type")
        batch_op.drop_column("service")
