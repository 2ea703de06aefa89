"""attachments: files the parties bring, stored by their SHA-256, who gave them, withdrawn never deleted

Revision ID: a8b9c0d1e2f3
Revises: f3c4d5e6a7b8
Create Date: 2026-11-26 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision: str = "a8b9c0d1e2f3"
down_revision: str | None = "f3c4d5e6a7b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("party", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("store", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uploaded_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("uploaded_at", models.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", models.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachments_case_uploaded", "attachments", ["case_id", "uploaded_at", "id"], unique=False)
    op.create_index("ix_attachments_sha256", "attachments", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attachments_sha256", table_name="attachments")
    op.drop_index("ix_attachments_case_uploaded", table_name="attachments")
    op.drop_table("attachments")
