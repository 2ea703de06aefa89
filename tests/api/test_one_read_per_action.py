"""The API's own cost: a staff action reads the case row once — the reach check and the pre-check share it (the
workflow's validator decides for good on its own state)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.settings import Settings
from tests.factories import registration
from tests.http import ok

CASE_BY_ID = re.compile(r"FROM cases\s+WHERE cases\.id = ", re.IGNORECASE)


@pytest.fixture
async def counted(
    temporal_env: WorkflowEnvironment, database_url: str, worker: str, seal_paths: tuple[Path, Path]
) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """The API with every statement of its own engine recorded (the worker's are its own engine's)."""
    settings = Settings(database_url=database_url, task_queue=worker, seal_key_path=seal_paths[0],
                        seal_cert_path=seal_paths[1], document_wait_seconds=90)
    app = create_app(settings, temporal=temporal_env.client)
    statements: list[str] = []
    async with app.router.lifespan_context(app):
        event.listen(app.state.engine, "before_cursor_execute",
                     lambda conn, cursor, sql, params, context, many: statements.append(sql))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, statements


async def test_a_staff_action_reads_its_case_once(counted):
    api, statements = counted
    case = await api.post("/cases", json=registration(application_type="joint", applicant_side=None))
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    for action, body in (("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})):
        statements.clear()
        await ok(api, case_id, action, body)
        reads = [sql for sql in statements if CASE_BY_ID.search(sql)]
        assert len(reads) == 1, (action, reads)
