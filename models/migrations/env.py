"""Alembic's entry: run with the connection `models.migrations.upgrade` hands over, or, from the `alembic`
command line, with MEDIATION_DATABASE_URL (the product's settings)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from models.migrations import metadata

target_metadata = metadata()


def run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    from core.settings import get_settings

    engine = create_engine(get_settings().effective_database_url)
    with engine.begin() as connection:
        run(connection)
    engine.dispose()
