"""delivery: each notification's deliveries by channel and recipient, their status; contact preferences

Revision ID: b9c0d1e2f3a4
Revises: a8b9c0d1e2f3
Create Date: 2026-11-26 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision: str = "b9c0d1e2f3a4"
down_revision: str | None = "a8b9c0d1e2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("notification_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("recipient_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("recipient_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recipient_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("queued_at", models.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", models.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", models.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id", "recipient_type", "recipient_id", "channel",
                            name="uq_delivery_target"),
    )
    op.create_index(op.f("ix_deliveries_notification_id"), "deliveries", ["notification_id"], unique=False)
    op.create_index("ix_deliveries_status_notification", "deliveries", ["status", "notification_id"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("contact_mobile", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("notify_by", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[\"email\", \"sms\"]'")))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notify_by")
        batch.drop_column("contact_mobile")
        batch.drop_column("contact_email")
    op.drop_index("ix_deliveries_status_notification", table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_notification_id"), table_name="deliveries")
    op.drop_table("deliveries")
