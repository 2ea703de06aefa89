"""The database schema's history (Alembic). `upgrade(engine)` brings any database to the head revision; every
process that opens the database calls it (through `models.repo.create_schema`), so `make run`, the worker, the
API and the tests all migrate on start. Two processes starting at once on PostgreSQL take turns (an advisory
lock). A database made before migrations existed is adopted: stamped at the first revision (its schema), then
upgraded; one that differs from it otherwise is refused with a clear message and left as it was.

A new change to the models: `alembic revision --autogenerate -m "what changed"` (alembic.ini at the top level
reads MEDIATION_DATABASE_URL), then read the script it wrote before committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

HERE = Path(__file__).resolve().parent
PG_LOCK_KEY = 7_061_527_001  # "migrating": one process at a time
FIRST_REVISION = "34ee15aa1f48"  # the tables as the product made them before migrations existed
# What the revisions after the first add: a database made before migrations may lack exactly these.
SINCE_FIRST_REVISION = {
    ("add_table", "case_mediators"),
    ("add_index", "case_mediators", "ix_case_mediators_user_id"),
    ("add_column", "documents", "manifest"),
    # rev 2 of the rule book (7c3e2a91d5b0)
    *(("add_column", "cases", column) for column in (
        "consents", "payments", "respondent_institution_id", "patient_id_key", "patient_nb_key", "institution_key")),
    ("add_index", "cases", "ix_cases_patient_id_key"),
    ("add_index", "cases", "ix_cases_patient_nb_key"),
    ("remove_column", "cases", "both_consented"),
    ("add_column", "transitions", "idempotency_key"),
    ("add_column", "transitions", "request_digest"),
    ("add_index", "transitions", "ix_transitions_case_idempotency_key"),
    ("add_table", "document_numbers"),  # 9d4f1b27c6e3
    ("add_table", "document_jobs"),  # b8e1f2a3c4d5
    ("add_index", "document_jobs", "ix_document_jobs_case_id"),
    # lists by keyset (c4f7a9d2e6b1): composite indexes in place of single-column ones, the parties' names
    *(("add_index", table, name) for table, name in (
        ("cases", "ix_cases_registered"), ("cases", "ix_cases_committee_registered"),
        ("cases", "ix_cases_committee_status_registered"), ("cases", "ix_cases_status_registered"),
        ("cases", "ix_cases_committee_due"), ("case_mediators", "ix_case_mediators_user_registered"),
        ("notifications", "ix_notifications_created"), ("notifications", "ix_notifications_case_created"),
        ("invitations", "ix_invitations_expert_invited"), ("case_party_names", "ix_case_party_names_name"))),
    *(("remove_index", table, name) for table, name in (
        ("cases", "ix_cases_registered_at"), ("cases", "ix_cases_committee_id"), ("cases", "ix_cases_status"),
        ("cases", "ix_cases_due_date"), ("notifications", "ix_notifications_created_at"),
        ("notifications", "ix_notifications_case_id"), ("invitations", "ix_invitations_expert_id"))),
    ("add_table", "case_party_names"),
    # sessions moved and cancelled (d1a2b3c4e5f6)
    *(("add_column", "mediation_sessions", column) for column in ("status", "moves", "cancellation")),
    ("add_index", "mediation_sessions", "ix_mediation_sessions_scheduled"),
    # the cases' next deadline (e2b3c4d5f6a7)
    ("add_column", "cases", "next_deadline"),
    ("add_index", "cases", "ix_cases_committee_next_deadline"),
    # the statistics (f3c4d5e6a7b8): what the reports group by, how mediation ended, the ranges the report reads
    *(("add_column", "cases", column) for column in (
        "department", "dispute_kind", "institution_level", "harm", "ended_on", "result", "termination_ground",
        "rejection_reasons", "performance_result", "duration_wd", "appraisal_wd", "deadline_kept", "agreed_amount",
        "agreed_institution", "agreed_insurer", "agreed_other", "paid_amount", "judicial_applied_on")),
    *(("add_index", table, name) for table, name in (
        ("cases", "ix_cases_committee_accepted"), ("cases", "ix_cases_accepted"), ("cases", "ix_cases_committee_ended"),
        ("cases", "ix_cases_ended"), ("cases", "ix_cases_committee_judicial"),
        ("transitions", "ix_transitions_event_at"), ("invitations", "ix_invitations_opinion_at"))),
    # attachments (a8b9c0d1e2f3)
    ("add_table", "attachments"),
    ("add_index", "attachments", "ix_attachments_case_uploaded"),
    ("add_index", "attachments", "ix_attachments_sha256"),
    # deliveries of the notifications, the accounts' contacts (b9c0d1e2f3a4)
    ("add_table", "deliveries"),
    ("add_index", "deliveries", "ix_deliveries_notification_id"),
    ("add_index", "deliveries", "ix_deliveries_status_notification"),
    *(("add_column", "users", column) for column in ("contact_email", "contact_mobile", "notify_by")),
}


class SchemaOutOfDate(RuntimeError):
    """A database made before migrations whose tables differ from the models: it cannot be adopted safely."""


def metadata() -> Any:
    import models.tables  # noqa: F401 - every table of the product, the accounts too
    import models.users  # noqa: F401

    return SQLModel.metadata


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def differences(connection: Connection) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty: they agree)."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata())


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": PG_LOCK_KEY})
        tables = set(inspect(connection).get_table_names())
        cfg = config(connection)
        if "cases" in tables and "alembic_version" not in tables:
            _adopt(engine, connection, cfg)
        command.upgrade(cfg, revision)


def _what(diff: Any) -> tuple[str, ...]:
    """A difference autogenerate found, as (operation, table[, column or index])."""
    if isinstance(diff, tuple) and diff and diff[0] == "add_table":
        return ("add_table", diff[1].name)
    if isinstance(diff, tuple) and diff and diff[0] in ("add_index", "remove_index"):
        return (diff[0], diff[1].table.name, diff[1].name)
    if isinstance(diff, tuple) and diff and diff[0] in ("add_column", "remove_column"):
        return (diff[0], diff[2], diff[3].name)
    return ("other", repr(diff))


def _adopt(engine: Engine, connection: Connection, cfg: Config) -> None:
    """A database the product made before migrations: at the schema of the first revision (which is that schema),
    or already at head (made by a later build before this one). Stamped where it is, then upgraded."""
    found = {_what(diff) for diff in differences(connection)}
    if not found:
        command.stamp(cfg, "head")
        return
    if found <= SINCE_FIRST_REVISION:
        command.stamp(cfg, FIRST_REVISION)
        command.upgrade(cfg, "head")
        return
    raise SchemaOutOfDate(
        f"the database at {engine.url.render_as_string(hide_password=True)} was made before migrations and "
        f"differs from every revision of the schema ({sorted(found - SINCE_FIRST_REVISION)[:3]}...): nothing "
        "was changed; bring it to the first revision's schema by hand, then start again"
    )


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
