"""mediators assigned by account (case_mediators) and the case file's manifest

Revision ID: 5b1d9e0c7a42
Revises: 34ee15aa1f48
Create Date: 2026-11-24 12:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5b1d9e0c7a42"
down_revision: str | None = "34ee15aa1f48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_mediators",
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id", "user_id"),
    )
    with op.batch_alter_table("case_mediators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_mediators_user_id"), ["user_id"], unique=False)
    # Cases accepted before have no mediator account assigned: only new acceptances name accounts.
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manifest", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("manifest")
    with op.batch_alter_table("case_mediators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_mediators_user_id"))
    op.drop_table("case_mediators")
