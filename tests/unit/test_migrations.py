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


def test_an_empty_database_upgrades_to_head_and_agrees_with_the_models(empty: Engine):
    assert current(empty) is None
    upgrade(empty)
    assert current(empty) == HEAD
    with empty.connect() as connection:
        assert differences(connection) == []
    tables = set(inspect(empty).get_table_names())
    assert set(metadata().tables) <= tables and "alembic_version" in tables


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
        connection.execute(text("ALTER TABLE documents DROP COLUMN manifest"))
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
