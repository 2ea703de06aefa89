"""the cases' next deadline: the soonest pending deadline of any kind, for the worklists' order

Revision ID: e2b3c4d5f6a7
Revises: d1a2b3c4e5f6
Create Date: 2026-11-26 14:30:00

Filled in for the cases already on file from the deadlines their rows keep.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2b3c4d5f6a7"
down_revision: str | None = "d1a2b3c4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_deadline", sa.Date(), nullable=True))
    op.create_index("ix_cases_committee_next_deadline", "cases", ["committee_id", "next_deadline", "id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_committee_next_deadline", table_name="cases")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("next_deadline")
