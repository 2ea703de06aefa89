"""The audit trail's writer (api/audit.py): one per API process. A recorded request hands its entry over and is
answered only once the entry is committed, so an answered request always has its entry (a crash loses nothing
already answered); the writer appends whatever has queued meanwhile in one transaction (group commit), in the
order handed over, under the chain's lock, so that the writers of several processes keep one chain. A batch that
fails stores nothing of itself, and each of its requests is answered as when each entry was written alone: an
action unchanged (its entry in a CRITICAL log line), a logged read 503 `audit_unavailable`.

Each test finds its own entries by the request ids it sent (the database is shared by the test session).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, event, func, or_, select, text
from sqlalchemy.engine import Engine

from api.audit import AuditWriter
from api.main import create_app
from core.db import SessionFactory
from core.settings import Settings
from domain.audit import payload_digest
from models import repo_audit
from models.tables import AuditEntry
from tests.api.test_audit_api import AUDITOR, STAFF, audit_log  # noqa: F401 - audit_log is a fixture

ROOT = Path(__file__).resolve().parents[2]
READ = ("GET", "/committees", AUDITOR)  # a read by an auditor: recorded, and held back until it is
ACTION = ("PUT", "/calendar/years/2031", STAFF)  # refused to intake staff (403): an action, recorded all the same


@asynccontextmanager
async def serving(database_url: str, **settings: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An API process (its lifespan: engine, writer) without Temporal: the routes used here need none."""
    app = create_app(Settings(database_url=database_url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield app, http


@dataclass
class Answer:
    request_id: str
    status: int
    text: str
    sent: float
    answered: float
    stored_when_answered: bool  # its entry was in the database the moment the answer arrived


async def call(http: httpx.AsyncClient, sessions: SessionFactory, request: tuple[str, str, dict[str, str]]
               ) -> Answer:
    method, path, headers = request
    request_id = f"writer-{uuid.uuid4().hex}"
    sent = time.monotonic()
    response = await http.request(method, path, headers={**headers, "X-Request-ID": request_id})
    answered = time.monotonic()
    # Looked up at once, from the event loop itself: nothing of the API runs until the lookup is done.
    return Answer(request_id, response.status_code, response.text, sent, answered,
                  bool(ids_of(sessions, [request_id])))


def ids_of(sessions: SessionFactory, request_ids: list[str]) -> dict[str, list[int]]:
    """The ids of the entries holding each request id (more than one would be a duplicate)."""
    with sessions() as session:
        rows = session.execute(select(AuditEntry.request_id, AuditEntry.id)
                               .where(AuditEntry.request_id.in_(request_ids)).order_by(AuditEntry.id)).all()
    found: dict[str, list[int]] = {}
    for request_id, entry_id in rows:
        found.setdefault(request_id, []).append(entry_id)
    return found


def chain_is_whole(sessions: SessionFactory) -> None:
    with sessions() as session:
        report = repo_audit.verify(session=session)
        forks = session.execute(select(AuditEntry.prev_hash).group_by(AuditEntry.prev_hash)
                                .having(func.count() > 1)).all()
    assert report.ok, report.first_broken
    assert forks == []


class AuditTransactions:
    """Counts the committed transactions of an engine that inserted audit entries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def _inserted(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES"):
            connection.info["audit_insert"] = True

    def _committed(self, connection: Any) -> None:
        if connection.info.pop("audit_insert", False):
            self.count += 1

    def _rolled_back(self, connection: Any) -> None:
        connection.info.pop("audit_insert", None)

    def __enter__(self) -> Self:
        event.listen(self.engine, "after_cursor_execute", self._inserted)
        event.listen(self.engine, "commit", self._committed)
        event.listen(self.engine, "rollback", self._rolled_back)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "after_cursor_execute", self._inserted)
        event.remove(self.engine, "commit", self._committed)
        event.remove(self.engine, "rollback", self._rolled_back)


def entry(request_id: str) -> dict[str, Any]:
    """An entry as the middleware hands it over."""
    return {"at": datetime.now(UTC), "actor_id": "t-01", "actor_name": "", "actor_role": "intake",
            "action": "TEST writer", "target_type": None, "target_id": None, "request_id": request_id,
            "status_code": 200, "payload_sha256": payload_digest(b"")}


# ---------------------------------------------------------------- group commit ------------------------------
class TestConcurrentRequestsShareTransactions:
    async def test_forty_requests_fewer_transactions_each_entry_once_and_the_chain_whole(
            self, database_url: str, sessions: SessionFactory):
        async with serving(database_url) as (app, http):
            with AuditTransactions(app.state.engine) as transactions:
                answers = await asyncio.gather(*(call(http, sessions, (READ, ACTION)[n % 2]) for n in range(40)))
        assert [a.status for a in answers] == [200, 403] * 20
        stored = ids_of(sessions, [a.request_id for a in answers])
        assert sorted(len(ids) for ids in stored.values()) == [1] * 40  # each entry once
        assert transactions.count < 40, "the entries of waiting requests share a transaction"
        chain_is_whole(sessions)

    async def test_a_batch_keeps_the_order_entries_were_handed_over(self, sessions: SessionFactory, engine: Engine):
        writer = AuditWriter(sessions)
        writer.start()
        request_ids = [f"order-{uuid.uuid4().hex[:8]}-{n:02d}" for n in range(25)]
        with AuditTransactions(engine) as transactions:
            written = await asyncio.gather(*(writer.append(entry(r)) for r in request_ids))
            await writer.close()
        assert written == [True] * 25
        assert transactions.count < 25
        stored = ids_of(sessions, request_ids)
        assert [stored[r][0] for r in request_ids] == sorted(i for ids in stored.values() for i in ids)
        chain_is_whole(sessions)

    async def test_a_batch_is_at_most_max_batch_entries(self, sessions: SessionFactory, engine: Engine):
        writer = AuditWriter(sessions, max_batch=4)
        writer.start()
        with AuditTransactions(engine) as transactions:
            written = await asyncio.gather(*(writer.append(entry(f"max-{uuid.uuid4().hex}")) for _ in range(12)))
            await writer.close()
        assert written == [True] * 12
        assert transactions.count >= 3


# ---------------------------------------------------------------- answered, therefore recorded -------------
SERVER = """
import sys, uvicorn
from api.main import create_app
from core.settings import Settings
uvicorn.run(create_app(Settings(database_url=sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""


@pytest.fixture(scope="module")
def http_api(database_url: str, engine: Engine) -> Iterator[str]:
    """The API in a process of its own behind a real socket (uvicorn), so that a client holds an answer the
    moment it is sent (an in-process transport hands it over only once the whole request has run)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", SERVER, database_url, str(port)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the API did not start"
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


class TestAnAnsweredRequestHasItsEntry:  # a crash loses nothing already answered
    async def test_an_answered_request_already_has_its_entry(self, http_api: str, sessions: SessionFactory):
        async with httpx.AsyncClient(base_url=http_api) as http:
            answers = await asyncio.gather(*(call(http, sessions, (READ, ACTION)[n % 2]) for n in range(30)))
        assert [a.request_id for a in answers if not a.stored_when_answered] == []  # actions too, not only reads

    async def test_a_request_sent_after_an_answer_comes_after_it_in_the_chain(
            self, http_api: str, sessions: SessionFactory):
        async with httpx.AsyncClient(base_url=http_api) as http:
            one_after_another: list[Answer] = []

            async def desk() -> None:
                for n in range(12):
                    one_after_another.append(await call(http, sessions, (READ, ACTION)[n % 2]))

            crowd = await asyncio.gather(desk(), *(call(http, sessions, (READ, ACTION)[n % 2]) for n in range(30)))
        answers = one_after_another + [a for a in crowd if a is not None]
        stored = ids_of(sessions, [a.request_id for a in answers])
        desk_ids = [stored[a.request_id][0] for a in one_after_another]
        assert desk_ids == sorted(desk_ids) and len(set(desk_ids)) == len(desk_ids)
        out_of_order = [(a.request_id, b.request_id) for a, b in itertools.permutations(answers, 2)
                        if a.answered < b.sent and stored[a.request_id][0] > stored[b.request_id][0]]
        assert out_of_order == []


# ---------------------------------------------------------------- a batch that fails ------------------------
@contextmanager
def chain_locked_elsewhere(database_url: str) -> Iterator[None]:
    """The chain's lock held by another connection: SQLite's write lock, or PostgreSQL's advisory lock of the
    chain (a backup, a long migration, a stuck transaction)."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.split("///", 1)[1], timeout=10, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(CAST(:key AS bigint))"), {"key": repo_audit.PG_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(CAST(:key AS bigint))"),
                                   {"key": repo_audit.PG_LOCK_KEY})
    finally:
        engine.dispose()


def impatient(database_url: str) -> dict[str, Any]:
    """Settings under which the writer gives up on a held lock after 0.3 s (SQLite's busy timeout; PostgreSQL's
    lock_timeout, which an operator may set)."""
    if database_url.startswith("sqlite"):
        return {"database_url": database_url, "db_busy_timeout_seconds": 0.3}
    return {"database_url": f"{database_url}?options=-c%20lock_timeout%3D300"}


@pytest.mark.usefixtures("audit_log")  # CRITICAL lines of api.audit, in caplog
class TestAFailingBatch:
    async def test_its_requests_are_answered_as_before_and_nothing_of_it_is_stored_or_repeated(
            self, database_url: str, sessions: SessionFactory, caplog: pytest.LogCaptureFixture):
        settings = impatient(database_url)
        async with serving(**settings) as (app, http):
            with AuditTransactions(app.state.engine) as transactions, chain_locked_elsewhere(database_url):
                during = await asyncio.gather(*(call(http, sessions, (READ, ACTION)[n % 2]) for n in range(12)))
            after = await asyncio.gather(*(call(http, sessions, (READ, ACTION)[n % 2]) for n in range(6)))

        reads, actions = during[0::2], during[1::2]
        assert {(a.status, json.loads(a.text)["code"]) for a in reads} == {(503, "audit_unavailable")}
        assert all("huangpu" not in a.text for a in reads)  # nothing read left the server unrecorded
        assert {a.status for a in actions} == {403}  # an action's answer is what it was: fail open
        for answer in during:
            assert answer.request_id in caplog.text  # ... and its entry is in the CRITICAL log line
        assert "AUDIT ENTRY NOT WRITTEN" in caplog.text

        stored = ids_of(sessions, [a.request_id for a in during + after])
        assert [a.request_id for a in during if a.request_id in stored] == []  # no half batch
        assert [a.status for a in after] == [200, 403] * 3
        assert sorted(len(stored.get(a.request_id, [])) for a in after) == [1] * 6  # written once, not repeated
        assert transactions.count == 0  # while the lock was held elsewhere, no audit insert was committed
        chain_is_whole(sessions)

    async def test_one_entry_the_database_refuses_costs_no_other_its_place(
            self, sessions: SessionFactory, engine: Engine):
        poison = f"poison-{uuid.uuid4().hex}"

        def refuse(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES") and poison in str(parameters):
                raise ValueError("a value the database refuses")

        request_ids = [f"batch-{uuid.uuid4().hex[:8]}-{n:02d}" for n in range(9)]
        request_ids.insert(4, poison)
        writer = AuditWriter(sessions)
        writer.start()
        event.listen(engine, "before_cursor_execute", refuse)
        try:
            written = await asyncio.gather(*(writer.append(entry(r)) for r in request_ids))
        finally:
            event.remove(engine, "before_cursor_execute", refuse)
            await writer.close()
        assert written == [r != poison for r in request_ids]
        stored = ids_of(sessions, request_ids)
        assert poison not in stored
        others = [r for r in request_ids if r != poison]
        assert [len(stored[r]) for r in others] == [1] * 9
        assert [stored[r][0] for r in others] == sorted(stored[r][0] for r in others)  # still in order
        chain_is_whole(sessions)


class TestWhatTheDatabaseCannotHold:
    async def test_a_nul_in_the_path_is_recorded_as_a_replacement_character(
            self, database_url: str, sessions: SessionFactory):
        request_id = f"nul-{uuid.uuid4().hex}"
        async with serving(database_url) as (_, http):
            response = await http.get("/cases/c%00x", headers={**AUDITOR, "X-Request-ID": request_id})
        assert response.status_code == 404  # served: its entry was written
        with sessions() as session:
            stored = session.execute(select(AuditEntry.action).where(AuditEntry.request_id == request_id)).all()
        assert stored == [("GET /cases/c\ufffdx",)]  # PostgreSQL cannot store a NUL: the entry is kept all the same
        chain_is_whole(sessions)


# ---------------------------------------------------------------- several processes -------------------------
PROCESS = """
import asyncio, json, sys, time
from pathlib import Path
from sqlalchemy import event
from api.audit import AuditWriter
from core.db import make_engine, session_factory
from tests.api.test_audit_writer import entry

url, marker, folder, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
engine = make_engine(url)
commits = []
event.listen(engine, "commit", lambda connection: commits.append(1))

async def main():
    writer = AuditWriter(session_factory(engine))
    writer.start()
    (folder / f"{marker}.ready").touch()
    while not (folder / "go").exists():
        await asyncio.sleep(0.005)
    written = []
    for wave in range(count // 20):
        written += await asyncio.gather(*(writer.append(entry(f"{marker}-{wave * 20 + n:04d}")) for n in range(20)))
    await writer.close()
    print(json.dumps({"written": written, "commits": len(commits)}))

asyncio.run(main())
"""


class TestSeveralApiProcesses:
    def test_the_writers_of_two_processes_keep_one_chain(self, database_url: str, sessions: SessionFactory,
                                                         tmp_path: Path):
        count = 200
        markers = [f"proc{n}-{uuid.uuid4().hex[:6]}" for n in range(2)]
        processes = [subprocess.Popen([sys.executable, "-c", PROCESS, database_url, marker, str(tmp_path),
                                       str(count)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE) for marker in markers]
        try:
            deadline = time.monotonic() + 120
            while not all((tmp_path / f"{m}.ready").exists() for m in markers):
                assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
                assert time.monotonic() < deadline, "the processes did not start"
                time.sleep(0.05)
            (tmp_path / "go").touch()  # both at once
            outputs = [p.communicate(timeout=120) for p in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        for process, (out, err) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, err.decode()
            report = json.loads(out.decode().strip().splitlines()[-1])
            assert report["written"] == [True] * count
            assert report["commits"] < count  # batches, not an entry a transaction

        with sessions() as session:
            rows = session.execute(select(AuditEntry.request_id).where(
                or_(*(AuditEntry.request_id.startswith(f"{m}-") for m in markers))).order_by(AuditEntry.id)
            ).scalars().all()
        for marker in markers:
            mine = [r for r in rows if r.startswith(marker)]
            assert mine == [f"{marker}-{n:04d}" for n in range(count)]  # each once, in the order handed over
        chain_is_whole(sessions)


# ---------------------------------------------------------------- shutting down ------------------------------
class TestShutdown:
    async def test_closing_writes_everything_handed_over_and_later_entries_go_alone(self, sessions: SessionFactory):
        writer = AuditWriter(sessions)
        writer.start()
        request_ids = [f"close-{uuid.uuid4().hex}" for _ in range(30)]
        handed = [asyncio.ensure_future(writer.append(entry(r))) for r in request_ids]
        await asyncio.sleep(0)  # handed over, none written yet
        await writer.close()
        assert set(ids_of(sessions, request_ids)) == set(request_ids)  # written before close returned
        assert await asyncio.gather(*handed) == [True] * 30
        late = f"late-{uuid.uuid4().hex}"
        assert await writer.append(entry(late)) is True  # after close: in a transaction of its own
        assert set(ids_of(sessions, [*request_ids, late])) == {*request_ids, late}

    async def test_the_lifespan_stops_the_writer_after_its_last_batch(self, database_url: str):
        async with serving(database_url) as (app, http):
            writer: AuditWriter = app.state.audit_writer
            assert writer.running
            assert (await http.get("/committees", headers=AUDITOR)).status_code == 200
        assert writer._task is not None and writer._task.done() and writer._task.exception() is None
