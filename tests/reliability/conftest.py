"""A cluster of separate processes per backend (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), shared by
a module's tests and stopped at its end whatever happens."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.reliability.cluster import ACTION_TIMEOUT, Cluster, Desk

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _fresh_postgres_database() -> tuple[str, str]:  # also the e2e stack's, on PostgreSQL
    """A new, empty PostgreSQL database beside the test one: (its URL, its name)."""
    server = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"reliability_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return os.environ["TEST_DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}", name


def _drop_postgres_database(name: str) -> None:
    server = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder: Path = tmp_path_factory.mktemp(f"cluster-{request.param}")
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'mediation.db'}"
    else:
        url, name = _fresh_postgres_database()
    # a module may run its cluster with another action timeout (the load: the product's default, 30 s)
    timeout = getattr(request.module, "ACTION_TIMEOUT", ACTION_TIMEOUT)
    running = Cluster(folder=folder, database_url=url, backend=request.param, action_timeout=timeout)
    try:
        running.prepare()
        running.start()
        yield running
    except BaseException:
        print(running.logs())
        raise
    finally:
        running.stop()
        for process in running.processes.values():
            process.kill()
        if name is not None:
            _drop_postgres_database(name)


@pytest.fixture
async def desk(cluster: Cluster) -> AsyncIterator[Desk]:
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(base_url=cluster.base, limits=limits) as http:
        yield Desk(http)
