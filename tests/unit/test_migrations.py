"""The schema's migrations (models/migrations): an empty SQLite and an empty PostgreSQL database upgrade to the
head revision, and the models and the migrations agree (autogenerate finds nothing to change)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.db import make_engine
from models.migrations import HERE, SchemaOutOfDate, config, current, differences, metadata, upgrade
from tests.statistics_oracle import mediation_days, working_days_between

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


STATISTICS_REVISION = "f3c4d5e6a7b8"


def test_the_statistics_revision_fills_in_how_the_cases_there_were_ended(empty: Engine):
    """docs/statistics.md: the cases on file are `unknown` for the facts nobody recorded, and how their mediation
    ended is read from their rows and transitions; working days from their clock's ledger (Reg 38)."""
    before = ScriptDirectory.from_config(config()).get_revision(STATISTICS_REVISION).down_revision
    upgrade(empty, str(before))
    insurer, institution = "某财产保险股份有限公司上海分公司", "上海市某区人民医院"
    registration = {"patient": {"name": "王芳"}, "institution": {"name": institution}, "insurer": {"name": insurer}}
    agreement = {"terms": [{"amount": "60000.00", "payer": insurer}, {"amount": "26500.50", "payer": institution},
                           {"amount": None, "payer": institution, "text": "书面致歉"}]}
    clock = {"budget": 30, "accepted_on": "2026-03-03", "extensions": [{"days": 10, "agreed_on": "2026-03-25"}],
             "pauses": [{"started_on": "2026-03-10", "ended_on": "2026-03-20", "reason": "医疗损害鉴定"}]}
    cases = {  # id: (status, agreement, clock, effective_on, payments)
        "settled": ("archived", agreement, clock, "2026-04-08", [{"amount": "60000.00"}, {"amount": "26500.50"}]),
        "rejected": ("rejected", None, None, None, []),
        "expired": ("failed", None, {"budget": 30, "accepted_on": "2026-03-06", "pauses": [], "extensions": []},
                    None, []),
        "court": ("terminated", None, None, None, []),
        "open": ("in_mediation", None, {"budget": 30, "accepted_on": "2026-03-06", "pauses": [], "extensions": []},
                 None, []),
    }
    transitions = [  # case, seq, event, to_status, at (UTC), payload
        ("settled", 2, "sign", "signing", "2026-04-07 02:00:00+00:00", {"signer": "patient"}),
        ("settled", 3, "sign", "performance", "2026-04-08 02:00:00+00:00", {"signer": "committee_seal"}),
        ("settled", 4, "record_judicial_confirmation", "performance", "2026-04-09 02:00:00+00:00",
         {"applied": True, "applied_on": "2026-04-09"}),
        ("settled", 5, "confirm_performance", "settled", "2026-04-20 02:00:00+00:00", {}),
        ("rejected", 2, "reject", "rejected", "2026-03-12 02:00:00+00:00", {"reasons": [2, 7]}),
        ("expired", 2, "deadline_expired", "failed", "2026-04-17 16:00:03+00:00", {"due_date": "2026-04-17"}),
        ("court", 2, "terminate", "terminated", "2026-03-31 15:30:00+00:00", {"ground": "court_accepted"}),
    ]
    with empty.begin() as connection:
        connection.execute(text("INSERT INTO committees (id, name, short_name, city, case_number_pattern, "
                                "number_patterns, policy) VALUES ('c1', '某委员会', '某', '上海市', 'x', '{}', '{}')"))
        for case_id, (status, agreed, ledger, effective, payments) in cases.items():
            connection.execute(text(
                "INSERT INTO cases (id, number, committee_id, status, application_type, patient_name, "
                "institution_name, facts, claim_amount, requests, registration, mediators, signatures, search_text, "
                "due_provisional, clock_paused, deadlines, payment_overdue, version, agreement_version, "
                "registered_at, updated_at, consents, payments, institution_key, agreement, clock, effective_on) "
                "VALUES (:id, :id, 'c1', :status, 'joint', '王芳', :institution, '事实', 100, '请求', :registration, "
                "'[]', '{}', '', false, false, '[]', false, 3, 0, '2026-03-02 01:00:00+00:00', "
                "'2026-03-02 01:00:00+00:00', '[]', :payments, '', :agreement, :clock, :effective)"),
                {"id": case_id, "status": status, "institution": institution, "effective": effective,
                 "registration": json.dumps(registration, ensure_ascii=False),
                 "payments": json.dumps(payments), "agreement": json.dumps(agreed, ensure_ascii=False) if agreed
                 else None, "clock": json.dumps(ledger) if ledger else None})
        for case_id, seq, event, to_status, at, payload in transitions:
            connection.execute(text(
                "INSERT INTO transitions (case_id, seq, event, from_status, to_status, actor_id, actor_name, "
                "actor_role, at, payload, request_id) VALUES (:case_id, :seq, :event, 'x', :to_status, 't', '测试', "
                "'staff', :at, :payload, '')"),
                {"case_id": case_id, "seq": seq, "event": event, "to_status": to_status, "at": at,
                 "payload": json.dumps(payload)})
    upgrade(empty)
    with empty.connect() as connection:
        rows = {row.id: row for row in connection.execute(text(
            "SELECT id, department, dispute_kind, institution_level, harm, ended_on, result, termination_ground, "
            "rejection_reasons, performance_result, duration_wd, appraisal_wd, deadline_kept, agreed_amount, "
            "agreed_institution, agreed_insurer, agreed_other, paid_amount, judicial_applied_on FROM cases"))}

    def day(value: object) -> str | None:
        return None if value is None else str(value)[:10]

    assert {(r.department, r.dispute_kind, r.institution_level, r.harm) for r in rows.values()} == {("unknown",) * 4}
    settled = rows["settled"]
    assert (settled.result, day(settled.ended_on), settled.performance_result, day(settled.judicial_applied_on)) == (
        "settled", "2026-04-08", "performed", "2026-04-09")
    march3, april8, march10, march20 = (date(2026, 3, 3), date(2026, 4, 8), date(2026, 3, 10), date(2026, 3, 20))
    assert (settled.duration_wd, settled.appraisal_wd, bool(settled.deadline_kept)) == (
        mediation_days(march3, april8, [(march10, march20)]), working_days_between(march10, march20), True)
    assert [Decimal(str(v)) for v in (settled.agreed_amount, settled.agreed_institution, settled.agreed_insurer,
                                      settled.agreed_other, settled.paid_amount)] == [
        Decimal("86500.50"), Decimal("26500.50"), Decimal("60000.00"), Decimal("0.00"), Decimal("86500.50")]
    rejected = rows["rejected"]
    assert (rejected.result, day(rejected.ended_on), rejected.rejection_reasons, rejected.duration_wd) == (
        "rejected", "2026-03-12", 0b1000010, None)
    expired = rows["expired"]  # Reg 38: ended on its due date, though written at 00:00:03 the next day
    assert (expired.result, day(expired.ended_on), expired.duration_wd, bool(expired.deadline_kept)) == (
        "failed_deadline", "2026-04-17", working_days_between(date(2026, 3, 6), date(2026, 4, 17)), False)
    court = rows["court"]  # 23:30 on 31 March in Asia/Shanghai
    assert (court.result, day(court.ended_on), court.termination_ground) == ("terminated", "2026-03-31",
                                                                            "court_accepted")
    assert (rows["open"].result, rows["open"].ended_on, Decimal(str(rows["open"].paid_amount))) == (
        None, None, Decimal(0))


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
        connection.execute(text("DROP TABLE attachments"))  # a8b9c0d1e2f3
        connection.execute(text("DROP TABLE deliveries"))  # b9c0d1e2f3a4, with the accounts' contacts
        for column in ("contact_email", "contact_mobile", "notify_by"):
            connection.execute(text(f"ALTER TABLE users DROP COLUMN {column}"))
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
