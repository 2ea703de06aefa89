"""The database schema's history (Alembic). `upgrade(engine)` brings any database to the head revision; every
process that opens the database calls it (through `models.repo.create_schema`), so `make run`, the worker, the
API and the tests all migrate on start. Two processes starting at once on PostgreSQL take turns (an advisory
lock). A database made before migrations existed is adopted when its tables already match the models, and
refused with a clear message otherwise.

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
            found = differences(connection)
            if found:
                raise SchemaOutOfDate(
                    f"the database at {engine.url.render_as_string(hide_password=True)} was made before migrations "
                    f"and differs from the models ({len(found)} differences, e.g. {found[0]!r}): start from an "
                    "empty database (make clean for the embedded one) or bring it up to date by hand"
                )
            command.stamp(cfg, "head")  # made by create_all from these very models: adopt it as it is
            return
        command.upgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
