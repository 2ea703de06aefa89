"""the cases' next deadline: the soonest pending deadline of any kind, for the worklists' order

Revision ID: e2b3c4d5f6a7
Revises: d1a2b3c4e5f6
Create Date: 2026-11-26 14:30:00

Filled in for the cases already on file from the deadlines their rows keep: the soonest `due_on` of the row's
`deadlines` list (the pending deadlines, domain/deadlines.py `Timer.to_dict`), NULL when the list is empty — as
domain/projection.py `columns` writes it from now on. Written out here rather than imported, so that the revision
keeps doing what it did when the rule that writes the column changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "e2b3c4d5f6a7"
down_revision: str | None = "d1a2b3c4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_deadline", sa.Date(), nullable=True))
    _fill_next_deadline()
    op.create_index("ix_cases_committee_next_deadline", "cases", ["committee_id", "next_deadline", "id"],
                    unique=False)


def _fill_next_deadline() -> None:
    """Every case row's soonest pending deadline, from its `deadlines`, a batch of rows at a time (before the index
    is built, so that the updates do not maintain it)."""
    connection = op.get_bind()
    after = ""
    while True:
        rows = connection.execute(
            sa.text("SELECT id, CAST(deadlines AS TEXT) FROM cases WHERE id > :after ORDER BY id LIMIT :limit"),
            {"after": after, "limit": BATCH},
        ).all()
        if not rows:
            return
        after = rows[-1][0]
        updates = [{"id": case_id, "day": day} for case_id, text in rows
                   if (day := soonest(text)) is not None]
        if updates:
            connection.execute(sa.text("UPDATE cases SET next_deadline = :day WHERE id = :id")
                               .bindparams(sa.bindparam("day", type_=sa.Date())), updates)


def soonest(text: str | None) -> date | None:
    """The soonest `due_on` of a deadlines list as stored (JSON text); None for an empty list or no list."""
    try:
        deadlines: Any = json.loads(text) if text else []
    except ValueError:
        return None
    if not isinstance(deadlines, list):
        return None
    days = []
    for deadline in deadlines:
        if isinstance(deadline, dict) and isinstance(deadline.get("due_on"), str):
            try:
                days.append(date.fromisoformat(deadline["due_on"]))
            except ValueError:
                continue
    return min(days, default=None)


def downgrade() -> None:
    op.drop_index("ix_cases_committee_next_deadline", table_name="cases")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("next_deadline")
