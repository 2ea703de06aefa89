"""documents issued off the action's path: each one pending, issued or failed

Revision ID: b8e1f2a3c4d5
Revises: 9d4f1b27c6e3
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision: str = "b8e1f2a3c4d5"
down_revision: str | None = "9d4f1b27c6e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_jobs",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("source_seq", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("requested_at", models.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", models.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("case_snapshot", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_document_jobs_case_id"), "document_jobs", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_document_jobs_case_id"), table_name="document_jobs")
    op.drop_table("document_jobs")
