"""rev 2 outcomes: consents per side, the respondent's registry id, duplicate keys, payments, idempotency keys

Revision ID: 7c3e2a91d5b0
Revises: 5b1d9e0c7a42
Create Date: 2026-11-25 12:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7c3e2a91d5b0"
down_revision: str | None = "5b1d9e0c7a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A committee-initiated case registered with the old bare flag: both consents were given, nobody wrote how.
_UNRECORDED = {"consented_by": "（修订前登记，未记录）", "method": "unrecorded", "consented_at": None, "seq": 1}


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consents", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("payments", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("respondent_institution_id", sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column("patient_id_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("patient_nb_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("institution_key", sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_cases_patient_id_key"), ["patient_id_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_patient_nb_key"), ["patient_nb_key"], unique=False)
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("both_consented", sa.Boolean),
                     sa.column("consents", sa.JSON))
    connection = op.get_bind()
    for (case_id,) in connection.execute(sa.select(cases.c.id).where(cases.c.both_consented.is_(True))).all():
        consents = [{"side": side, **_UNRECORDED} for side in ("patient", "institution")]
        connection.execute(sa.update(cases).where(cases.c.id == case_id).values(consents=consents))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("both_consented")
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("request_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index("ix_transitions_case_idempotency_key", ["case_id", "idempotency_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_transitions_case_idempotency_key")
        batch_op.drop_column("request_digest")
        batch_op.drop_column("idempotency_key")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("both_consented", sa.Boolean(), nullable=False, server_default=sa.false()))
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("both_consented", sa.Boolean),
                     sa.column("consents", sa.JSON))
    connection = op.get_bind()
    for case_id, consents in connection.execute(sa.select(cases.c.id, cases.c.consents)).all():
        sides = {c["side"] for c in (json.loads(consents) if isinstance(consents, str) else consents or [])}
        if {"patient", "institution"} <= sides:
            connection.execute(sa.update(cases).where(cases.c.id == case_id).values(both_consented=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_patient_nb_key"))
        batch_op.drop_index(batch_op.f("ix_cases_patient_id_key"))
        for column in ("institution_key", "patient_nb_key", "patient_id_key", "respondent_institution_id",
                       "payments", "consents"):
            batch_op.drop_column(column)
