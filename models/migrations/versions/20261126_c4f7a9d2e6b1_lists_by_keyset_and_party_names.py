"""lists by keyset: composite indexes for the case list's filters, the outbox and an expert's invitations; the
parties' names of every case in a table of their own, for the name search; a mediator's cases in the list's order

Revision ID: c4f7a9d2e6b1
Revises: b8e1f2a3c4d5
Create Date: 2026-11-26 12:00:00

Each index replaces the single-column one it starts with (which it serves as well). On PostgreSQL the indexes are
built with a plain CREATE INDEX, inside the migration's transaction: writes to the table wait for the build (about
a second per 100,000 cases). The names of the cases already registered are filled in from their registrations, and
each case's registration time is copied beside its names and its mediators (it never changes).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables
from domain.parties import party_names

revision: str = "c4f7a9d2e6b1"
down_revision: str | None = "b8e1f2a3c4d5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, new index, its columns, the single-column index it replaces and that one's column)
REPLACED = [
    ("cases", "ix_cases_registered", ["registered_at", "id"], "ix_cases_registered_at", "registered_at"),
    ("cases", "ix_cases_committee_registered", ["committee_id", "registered_at", "id"], "ix_cases_committee_id",
     "committee_id"),
    ("cases", "ix_cases_status_registered", ["status", "registered_at", "id"], "ix_cases_status", "status"),
    ("cases", "ix_cases_committee_due", ["committee_id", "due_date"], "ix_cases_due_date", "due_date"),
    ("case_mediators", "ix_case_mediators_user_registered", ["user_id", "registered_at", "case_id"],
     "ix_case_mediators_user_id", "user_id"),
    ("notifications", "ix_notifications_created", ["created_at", "id"], "ix_notifications_created_at",
     "created_at"),
    ("notifications", "ix_notifications_case_created", ["case_id", "created_at", "id"], "ix_notifications_case_id",
     "case_id"),
    ("invitations", "ix_invitations_expert_invited", ["expert_id", "invited_at", "id"], "ix_invitations_expert_id",
     "expert_id"),
]
ADDED = [("cases", "ix_cases_committee_status_registered", ["committee_id", "status", "registered_at", "id"])]
BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("case_mediators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registered_at", models.tables.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE case_mediators SET registered_at = "
               "(SELECT cases.registered_at FROM cases WHERE cases.id = case_mediators.case_id)")
    with op.batch_alter_table("case_mediators", schema=None) as batch_op:
        batch_op.alter_column("registered_at", existing_type=models.tables.UTCDateTime(timezone=True),
                              nullable=False)
    for table, name, columns, old, _ in REPLACED:
        op.create_index(name, table, columns, unique=False)
        op.drop_index(old, table_name=table)
    for table, name, columns in ADDED:
        op.create_index(name, table, columns, unique=False)
    op.create_table(
        "case_party_names",
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("registered_at", models.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id", "role", "name"),
    )
    _fill_party_names()
    op.create_index("ix_case_party_names_name", "case_party_names", ["name", "registered_at", "case_id"],
                    unique=False, postgresql_ops={"name": "text_pattern_ops"})


def _fill_party_names() -> None:
    """The names of every case registered so far, read from its registration, a batch of cases at a time."""
    connection = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("registration", sa.JSON),
                     sa.column("patient_name", sa.String), sa.column("institution_name", sa.String),
                     sa.column("registered_at", models.tables.UTCDateTime()))
    names = sa.table("case_party_names", sa.column("case_id", sa.String), sa.column("role", sa.String),
                     sa.column("name", sa.String), sa.column("registered_at", models.tables.UTCDateTime()))
    after = ""
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.registration, cases.c.patient_name, cases.c.institution_name,
                      cases.c.registered_at)
            .where(cases.c.id > after).order_by(cases.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        found = [{"case_id": row.id, "role": role, "name": name, "registered_at": row.registered_at}
                 for row in rows for role, name in _names(row)]
        if found:
            connection.execute(sa.insert(names), found)
        after = rows[-1].id


def _names(row: sa.Row) -> list[tuple[str, str]]:
    """The names of a registration; the case's own columns where an early registration lacks them."""
    registration = dict(row.registration or {})
    registration.setdefault("patient", {"name": row.patient_name})
    registration.setdefault("institution", {"name": row.institution_name})
    return party_names(registration)


def downgrade() -> None:
    op.drop_index("ix_case_party_names_name", table_name="case_party_names")
    op.drop_table("case_party_names")
    for table, name, _ in ADDED:
        op.drop_index(name, table_name=table)
    for table, name, _, old, column in REPLACED:
        op.create_index(old, table, [column], unique=False)
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("case_mediators", schema=None) as batch_op:
        batch_op.drop_column("registered_at")
