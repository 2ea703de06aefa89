"""document numbers reserved before a document is rendered (no lock held while it is laid out)

Revision ID: 9d4f1b27c6e3
Revises: 7c3e2a91d5b0
Create Date: 2026-11-25 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "9d4f1b27c6e3"
down_revision: str | None = "7c3e2a91d5b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_numbers",
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("source_seq", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "kind", "source_seq"),
    )


def downgrade() -> None:
    op.drop_table("document_numbers")
