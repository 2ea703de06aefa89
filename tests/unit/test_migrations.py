"""The schema's migrations (models/migrations): an empty SQLite and an empty PostgreSQL database upgrade to the
head revision, and the models and the migrations agree (autogenerate finds nothing to change)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.db import make_engine
from models.migrations import HERE, SchemaOutOfDate, config, current, differences, metadata, upgrade

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
HEAD = ScriptDirectory.from_config(config()).get_current_head()


@pytest.fixture(params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database beside the test one."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    server = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()


LISTS_REVISION = "c4f7a9d2e6b1"
# Lists by keyset (c4f7a9d2e6b1): the composite indexes of the lists' filters, and the single-column ones they replace.
KEYSET_INDEXES = {
    "ix_cases_registered": ("cases", ["registered_at", "id"]),
    "ix_cases_committee_registered": ("cases", ["committee_id", "registered_at", "id"]),
    "ix_cases_committee_status_registered": ("cases", ["committee_id", "status", "registered_at", "id"]),
    "ix_cases_status_registered": ("cases", ["status", "registered_at", "id"]),
    "ix_cases_committee_due": ("cases", ["committee_id", "due_date"]),
    "ix_case_mediators_user_registered": ("case_mediators", ["user_id", "registered_at", "case_id"]),
    "ix_case_party_names_name": ("case_party_names", ["name", "registered_at", "case_id"]),
    "ix_notifications_created": ("notifications", ["created_at", "id"]),
    "ix_notifications_case_created": ("notifications", ["case_id", "created_at", "id"]),
    "ix_invitations_expert_invited": ("invitations", ["expert_id", "invited_at", "id"]),
}
SINGLE_COLUMN_INDEXES = [
    ("cases", "ix_cases_registered_at", "registered_at"), ("cases", "ix_cases_committee_id", "committee_id"),
    ("cases", "ix_cases_status", "status"), ("cases", "ix_cases_due_date", "due_date"),
    ("notifications", "ix_notifications_created_at", "created_at"),
    ("notifications", "ix_notifications_case_id", "case_id"), ("invitations", "ix_invitations_expert_id", "expert_id"),
]

# The statistics (f3c4d5e6a7b8): what the reports group by, how each case's mediation ended, the ranges they read.
STATISTICS_COLUMNS = (
    "department", "dispute_kind", "institution_level", "harm", "ended_on", "result", "termination_ground",
    "rejection_reasons", "performance_result", "duration_wd", "appraisal_wd", "deadline_kept", "agreed_amount",
    "agreed_institution", "agreed_insurer", "agreed_other", "paid_amount", "judicial_applied_on")
STATISTICS_INDEXES = (
    ("cases", "ix_cases_committee_accepted"), ("cases", "ix_cases_accepted"), ("cases", "ix_cases_committee_ended"),
    ("cases", "ix_cases_ended"), ("cases", "ix_cases_committee_judicial"), ("transitions", "ix_transitions_event_at"),
    ("invitations", "ix_invitations_opinion_at"))


def test_an_empty_database_upgrades_to_head_and_agrees_with_the_models(empty: Engine):
    assert current(empty) is None
    upgrade(empty)
    assert current(empty) == HEAD
    with empty.connect() as connection:
        assert differences(connection) == []
    tables = set(inspect(empty).get_table_names())
    assert set(metadata().tables) <= tables and "alembic_version" in tables


def test_a_migrated_database_has_the_lists_indexes(empty: Engine):
    upgrade(empty)
    found = {}
    for table in {table for table, _ in KEYSET_INDEXES.values()}:
        found.update({ix["name"]: (table, ix["column_names"]) for ix in inspect(empty).get_indexes(table)})
    assert {name: found.get(name) for name in KEYSET_INDEXES} == KEYSET_INDEXES
    assert not {name for _, name, _ in SINGLE_COLUMN_INDEXES} & set(found)
    if empty.dialect.name == "postgresql":  # a name's beginning is a range of the index under any collation
        with empty.connect() as connection:
            definition = connection.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_case_party_names_name'")).scalar_one()
            assert "text_pattern_ops" in definition
            connection.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(connection.execute(text(
                "EXPLAIN SELECT case_id FROM case_party_names WHERE name LIKE '王%'")).scalars())
            assert "ix_case_party_names_name" in plan and "Index Cond" in plan, plan


def test_the_lists_revision_fills_the_names_and_times_of_the_cases_there_were(empty: Engine):
    before = ScriptDirectory.from_config(config()).get_revision(LISTS_REVISION).down_revision
    upgrade(empty, str(before))
    registration = {"patient": {"name": "王 芳"}, "institution": {"name": "某医院"},
                    "patient_representatives": [{"name": "王大明", "role": "agent"}]}
    with empty.begin() as connection:
        connection.execute(text("INSERT INTO committees (id, name, short_name, city, case_number_pattern, "
                                "number_patterns, policy) VALUES ('c1', '某委员会', '某', '上海市', 'x', '{}', '{}')"))
        connection.execute(text(
            "INSERT INTO cases (id, number, committee_id, status, application_type, patient_name, "
            "institution_name, facts, claim_amount, requests, registration, mediators, signatures, search_text, "
            "due_provisional, clock_paused, deadlines, payment_overdue, version, agreement_version, "
            "registered_at, updated_at, consents, payments, institution_key) VALUES ('k1', 'N1', 'c1', "
            "'in_mediation', 'one_side', '王 芳', '某医院', '事实', 100, '请求', :registration, '[]', '{}', '', "
            "false, false, '[]', false, 3, 0, '2026-11-20 01:00:00+00:00', '2026-11-20 01:00:00+00:00', '[]', '[]', "
            "'')"), {"registration": json.dumps(registration, ensure_ascii=False)})
        connection.execute(text("INSERT INTO case_mediators (case_id, user_id) VALUES ('k1', 'med-1')"))
    upgrade(empty)
    with empty.connect() as connection:
        names = connection.execute(text("SELECT role, name, registered_at FROM case_party_names")).all()
        mediators = connection.execute(text("SELECT user_id, registered_at FROM case_mediators")).all()
    assert sorted((role, name) for role, name, _ in names) == [
        ("institution", "某医院"), ("patient", "王芳"), ("representative", "王大明")]
    times = {str(at)[:19] for *_, at in names} | {str(at)[:19] for _, at in mediators}
    assert times == {"2026-11-20 01:00:00"} and [m for m, _ in mediators] == ["med-1"]


def test_upgrading_again_changes_nothing(empty: Engine):
    upgrade(empty)
    upgrade(empty)
    assert current(empty) == HEAD


def test_a_database_made_before_migrations_is_adopted_when_it_matches(empty: Engine):
    SQLModel.metadata.create_all(empty, tables=list(metadata().tables.values()))
    upgrade(empty)
    assert current(empty) == HEAD


def test_one_made_before_the_accounts_and_case_files_is_upgraded_keeping_its_cases(empty: Engine):
    """The tables as the product made them before migrations (the first revision's schema), with a case in it:
    adopted at the first revision, then upgraded; the case is still there."""
    SQLModel.metadata.create_all(empty, tables=list(metadata().tables.values()))
    with empty.begin() as connection:
        connection.execute(text("DROP TABLE case_mediators"))
        connection.execute(text("DROP TABLE document_numbers"))
        connection.execute(text("DROP TABLE document_jobs"))
        connection.execute(text("DROP TABLE case_party_names"))
        for table, index, column in SINGLE_COLUMN_INDEXES:  # lists by keyset: composite indexes instead
            connection.execute(text(f"CREATE INDEX {index} ON {table} ({column})"))
        for index, (table, _) in KEYSET_INDEXES.items():
            if table not in ("case_mediators", "case_party_names"):  # dropped with their tables above
                connection.execute(text(f"DROP INDEX {index}"))
        connection.execute(text("ALTER TABLE documents DROP COLUMN manifest"))
        for index in ("ix_mediation_sessions_scheduled", "ix_cases_committee_next_deadline"):  # the console's
            connection.execute(text(f"DROP INDEX {index}"))
        for column in ("status", "moves", "cancellation"):  # sessions moved and cancelled
            connection.execute(text(f"ALTER TABLE mediation_sessions DROP COLUMN {column}"))
        connection.execute(text("ALTER TABLE cases DROP COLUMN next_deadline"))
        for _table, index in STATISTICS_INDEXES:  # the statistics (f3c4d5e6a7b8)
            connection.execute(text(f"DROP INDEX {index}"))
        for column in STATISTICS_COLUMNS:
            connection.execute(text(f"ALTER TABLE cases DROP COLUMN {column}"))
        for index in ("ix_cases_patient_id_key", "ix_cases_patient_nb_key", "ix_transitions_case_idempotency_key"):
            connection.execute(text(f"DROP INDEX {index}"))
        for column in ("consents", "payments", "respondent_institution_id", "patient_id_key", "patient_nb_key",
                       "institution_key"):
            connection.execute(text(f"ALTER TABLE cases DROP COLUMN {column}"))
        connection.execute(text("ALTER TABLE cases ADD COLUMN both_consented BOOLEAN NOT NULL DEFAULT false"))
        connection.execute(text("ALTER TABLE transitions DROP COLUMN idempotency_key"))
        connection.execute(text("ALTER TABLE transitions DROP COLUMN request_digest"))
        connection.execute(text("INSERT INTO committees (id, name, short_name, city, case_number_pattern, "
                                "number_patterns, policy) VALUES ('c1', '某委员会', '某', '上海市', 'x', '{}', '{}')"))
        connection.execute(text(
            "INSERT INTO cases (id, number, committee_id, status, application_type, both_consented, patient_name, "
            "institution_name, facts, claim_amount, requests, registration, mediators, signatures, search_text, "
            "due_provisional, clock_paused, deadlines, payment_overdue, version, agreement_version, "
            "registered_at, updated_at) VALUES ('k1', 'N1', 'c1', 'registered', 'committee_initiated', true, "
            "'王小明', '某医院', '事实', 100, '请求', '{}', '[]', '{}', '', false, false, '[]', false, 1, 0, "
            "'2026-11-20 01:00:00', '2026-11-20 01:00:00')"))
    upgrade(empty)
    assert current(empty) == HEAD
    with empty.connect() as connection:
        assert differences(connection) == []
        assert connection.execute(text("SELECT number FROM cases WHERE id = 'k1'")).scalar() == "N1"
        # rev 2: the old bare flag becomes one consent per side, marked as not recorded in detail
        consents = connection.execute(text("SELECT consents FROM cases WHERE id = 'k1'")).scalar()
        consents = json.loads(consents) if isinstance(consents, str) else consents  # SQLite: text; PostgreSQL: JSON
        assert sorted((c["side"], c["method"]) for c in consents) == [("institution", "unrecorded"),
                                                                      ("patient", "unrecorded")]
        # lists by keyset: the parties' names of the cases there were, from their columns where the registration
        # lacks them
        names = connection.execute(text("SELECT role, name FROM case_party_names WHERE case_id = 'k1'")).all()
        assert sorted(map(tuple, names)) == [("institution", "某医院"), ("patient", "王小明")]


def test_one_that_differs_otherwise_is_refused_and_left_as_it_was(empty: Engine):
    SQLModel.metadata.create_all(empty, tables=list(metadata().tables.values()))
    with empty.begin() as connection:
        connection.execute(text("ALTER TABLE committees DROP COLUMN policy"))
    with pytest.raises(SchemaOutOfDate, match="made before migrations"):
        upgrade(empty)
    assert current(empty) is None


def test_every_revision_has_a_downgrade_and_one_head():
    scripts = ScriptDirectory.from_config(config())
    assert len(scripts.get_heads()) == 1
    for revision in scripts.walk_revisions():
        assert callable(revision.module.downgrade), revision.revision
    assert (HERE / "versions").is_dir()
