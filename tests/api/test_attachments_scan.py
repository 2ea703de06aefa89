"""Uploads scanned for malware before they are stored (MEDIATION_CLAMAV_ADDRESS: clamd's INSTREAM), on the real
stack with a stand-in clamd on this machine (ClamAV cannot be installed here): the EICAR test file is refused and
nothing of it is kept, a clean file is stored, and a scanner that cannot be reached refuses the upload (503)."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from core.settings import Settings
from tests.api.test_attachments import INTAKE, MEDIATOR, new_case, upload
from tests.fake_clamd import EICAR, FakeClamd


@pytest.fixture
def clamd() -> Iterator[FakeClamd]:
    with FakeClamd() as server:
        yield server


async def scanned_api(temporal_env, database_url: str, worker: str, seal_paths: tuple[Path, Path], tmp_path: Path,
                      address: str) -> Any:
    settings = Settings(database_url=database_url, task_queue=worker, seal_key_path=seal_paths[0],
                        seal_cert_path=seal_paths[1], data_dir=tmp_path, clamav_address=address,
                        clamav_timeout_seconds=5)
    return create_app(settings, temporal=temporal_env.client)


@pytest.fixture
async def api(temporal_env, database_url, worker, seal_paths, tmp_path, clamd) -> AsyncIterator[httpx.AsyncClient]:
    app = await scanned_api(temporal_env, database_url, worker, seal_paths, tmp_path, clamd.address)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            yield client


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "attachments"
    return [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts]


class TestScanning:
    async def test_the_eicar_test_file_is_refused_and_nothing_of_it_is_kept(self, api, clamd, tmp_path):
        case_id = await new_case(api)
        infected = b"%PDF-1.7\n" + EICAR + b"\n%%EOF\n"
        refused = await upload(api, case_id, infected, name="病历.pdf", status=422)
        assert refused["code"] == "malware_found" and refused["signature"] == "Eicar-Test-Signature"
        assert clamd.scanned == [infected]  # scanned whole, before it was stored
        assert stored_files(tmp_path) == []
        listed = (await api.get(f"/cases/{case_id}/attachments", headers=INTAKE)).json()
        assert listed["items"] == []

    async def test_a_clean_file_is_scanned_then_stored(self, api, clamd, tmp_path):
        case_id = await new_case(api)
        data = b"%PDF-1.7\n" + os.urandom(100_000)
        made = await upload(api, case_id, data)
        assert clamd.scanned == [data] and len(stored_files(tmp_path)) == 1
        assert (await api.get(f"/attachments/{made['id']}/content", headers=MEDIATOR)).content == data


async def test_a_scanner_that_cannot_be_reached_refuses_the_upload(temporal_env, database_url, worker, seal_paths,
                                                                   tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = await scanned_api(temporal_env, database_url, worker, seal_paths, tmp_path, f"127.0.0.1:{port}")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as api:
            case_id = await new_case(api)
            refused = await upload(api, case_id, b"%PDF-1.7\n" + os.urandom(1000), status=503)
            assert refused["code"] == "scan_unavailable" and "not stored" in refused["detail"]
    assert stored_files(tmp_path) == []
