"""sessions moved and cancelled: each session's status, its moves and its cancellation; the calendar's index

Revision ID: d1a2b3c4e5f6
Revises: c4f7a9d2e6b1
Create Date: 2026-11-26 14:00:00

A session already on file is `held` when its minutes are recorded, `scheduled` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d1a2b3c4e5f6"
down_revision: str | None = "c4f7a9d2e6b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mediation_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default="scheduled"))
        batch_op.add_column(sa.Column("moves", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("cancellation", sa.JSON(), nullable=True))
    op.execute("UPDATE mediation_sessions SET status = 'held' WHERE minutes IS NOT NULL")
    op.create_index("ix_mediation_sessions_scheduled", "mediation_sessions", ["scheduled_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mediation_sessions_scheduled", table_name="mediation_sessions")
    with op.batch_alter_table("mediation_sessions", schema=None) as batch_op:
        batch_op.drop_column("cancellation")
        batch_op.drop_column("moves")
        batch_op.drop_column("status")
