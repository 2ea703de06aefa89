"""Recording the audit trail (domain/audit.py): every request that may change something, whatever its answer
(a refused attempt is evidence too), and every read by an auditor or an expert (shared/DOMAIN.md, "Every
access by an auditor or expert is logged").

A pure ASGI middleware. It hashes the request body as the route reads it, never holding it (the payload's digest;
what the route leaves unread is hashed as it is drained at the end, up to the upload limit of api/limits.py), gives
every request an id (the client's X-Request-ID, or a new one that the route also sees
and the response carries back), and holds a recorded request's answer back until its entry is committed: an
answered request always has its entry, and a crash loses only entries of requests that got no answer.

One writer per API process (`AuditWriter`, started and stopped by the lifespan) appends the entries: each request
hands its entry over and awaits the commit; the writer appends whatever has queued meanwhile in one transaction
(group commit: under load many requests share one), in the order handed over, under the chain's lock
(models/repo_audit.py), so that the writers of several API processes keep one chain. It is flushed when the
lifespan ends; an entry handed over when no writer runs is appended in a transaction of its own.

When the entry cannot be written (the batch's transaction failed: nothing of it is stored):
- an action (POST, PUT, PATCH, DELETE) has already happened: its answer goes out unchanged and the failure is
  logged at CRITICAL with the whole entry, so that the trail can be completed from the log (fail open: a 500
  would tell the client that an accepted case was not accepted, and invite a retry);
- a logged read is not served: it is answered 503 `audit_unavailable` (fail closed: no unrecorded reading of
  personal information).
A batch that fails for another reason than the database (busy, locked, unreachable) is tried again an entry at a
time, so that one entry the database refuses costs no other its place in the trail.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import FastAPI
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import ACTOR_STATE
from core.db import SessionFactory
from models import repo_audit

log = logging.getLogger(__name__)

READS_LOGGED_FOR = frozenset({"auditor", "expert"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONSOLE_PREFIX = "/console/"
ANONYMOUS = "anonymous"
_CREATED_BODY_LIMIT = 64 * 1024
DRAIN_CAP = 16 * 1024 * 1024 + 1  # the largest body the API reads (MEDIATION_MAX_UPLOAD_BYTES, default)
DRAIN_SECONDS = 2.0
_CONVERTOR = re.compile(r"\{(\w+):[^}]+\}")


def install(app: FastAPI) -> None:
    app.add_middleware(AuditMiddleware)


# ---------------------------------------------------------------- what was done to what ---------------------
def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _action(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    template = _CONVERTOR.sub(r"{\1}", path) if path else scope.get("path", "")
    return f"{scope['method']} {template}"


def _target(scope: Scope) -> tuple[str | None, str | None]:
    """The first path parameter, named by its parameter (case_id, document_id, panel_id, invitation_id...)."""
    first = next(iter((scope.get("path_params") or {}).items()), None)
    return (first[0], str(first[1])) if first is not None else (None, None)


def _created_type(scope: Scope) -> str | None:
    """A POST without path parameters that answers 201 created something: /cases makes a case_id."""
    route = getattr(scope.get("route"), "path", "") or ""
    segment = route.rstrip("/").rsplit("/", 1)[-1]
    return f"{segment.removesuffix('s')}_id" if segment and "{" not in segment else None


def _created_id(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    created = value.get("id") if isinstance(value, dict) else None
    return str(created) if isinstance(created, (str, int)) else None


class _Exchange:
    """What one request and its answer tell the trail."""

    def __init__(self, scope: Scope, request_id: str) -> None:
        self.scope = scope
        self.at = datetime.now(UTC)
        self.request_id = request_id
        self.body_hash = hashlib.sha256()
        self.body_read = False  # the last chunk of the body went through
        self.status_code: int | None = None
        self.created_body = b""

    @property
    def payload_sha256(self) -> str:
        return self.body_hash.hexdigest()

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    def actor(self) -> Any:
        return (self.scope.get("state") or {}).get(ACTOR_STATE)

    def is_logged_read(self) -> bool:
        actor = self.actor()
        return self.method in SAFE_METHODS and actor is not None and actor.role in READS_LOGGED_FOR

    def is_recorded(self) -> bool:
        return self.method not in SAFE_METHODS or self.is_logged_read()

    def wants_created_id(self) -> bool:
        return self.method == "POST" and not self.scope.get("path_params") and self.status_code == 201

    def case_committee(self, target_type: str | None) -> str | None:
        """The committee of the case the path names, from the row the reach check read for this request (its
        document, panel or draw too): the case is read once per request (api/access.py)."""
        case = (self.scope.get("state") or {}).get("case")
        return case.committee_id if case is not None and target_type in _CASE_PATH_PARAMS else None

    def fields(self) -> dict[str, Any]:
        actor = self.actor()
        target_type, target_id = _target(self.scope)
        if target_id is None and self.wants_created_id():
            target_type, target_id = _created_type(self.scope), _created_id(self.created_body)
            if target_id is None:
                target_type = None
        known = self.case_committee(target_type)
        return {
            **({"committee_id": known} if known is not None else {}),
            "at": self.at,
            "actor_id": actor.id if actor is not None else ANONYMOUS,
            "actor_name": actor.name if actor is not None else "",
            "actor_role": actor.role if actor is not None else ANONYMOUS,
            "action": _action(self.scope),
            "target_type": target_type,
            "target_id": target_id,
            "request_id": self.request_id,
            "status_code": self.status_code,
            "payload_sha256": self.payload_sha256,
        }


# ---------------------------------------------------------------- the writer --------------------------------
Entry = dict[str, Any]
# The path parameters whose case the reach check reads (api/access.py): an entry about one knows its committee.
_CASE_PATH_PARAMS = frozenset({"case_id", "document_id", "panel_id", "draw_id"})
_DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)  # busy, locked, unreachable: no entry would do


def write_batch(sessions: SessionFactory, entries: Sequence[Entry]) -> None:
    """Append `entries` in one transaction, each with its committee (known from the request's case, else read
    before the chain is locked)."""
    unknown = [(entry["target_type"], entry["target_id"]) for entry in entries if "committee_id" not in entry]
    committees: dict[tuple[str | None, str | None], str | None] = {}
    if unknown:
        with sessions() as session:
            committees = repo_audit.committees_of(session=session, targets=unknown)
    repo_audit.record_batch(sessions=sessions, entries=[
        entry if "committee_id" in entry else
        {**entry, "committee_id": committees[(entry["target_type"], entry["target_id"])]} for entry in entries])


def _write(sessions: SessionFactory, entries: Sequence[Entry]) -> list[bool]:
    """Whether each entry was written: the batch whole, or (when an entry, not the database, failed it) each entry
    in a transaction of its own."""
    try:
        write_batch(sessions, entries)
        return [True] * len(entries)
    except _DATABASE_DOWN:
        log.exception("audit batch of %d entries not written", len(entries))
        return [False] * len(entries)
    except Exception:
        if len(entries) == 1:
            log.exception("audit entry not written")
            return [False]
        log.exception("audit batch of %d entries refused; writing them one at a time", len(entries))
    return [_write(sessions, [entry])[0] for entry in entries]


def _lost(entry: Entry) -> None:
    log.critical("AUDIT ENTRY NOT WRITTEN: %s", json.dumps(entry, default=str, ensure_ascii=False))


class AuditWriter:
    """The one writer of an API process: `append` hands an entry over and returns once it is committed (True), or
    once its batch failed (False). Entries are written in the order handed over, whatever has queued while the
    previous batch was committed going into the next one (at most `max_batch`)."""

    def __init__(self, sessions: SessionFactory, *, max_batch: int = 500) -> None:
        self.sessions = sessions
        self.max_batch = max(1, max_batch)
        self._queue: deque[tuple[Entry, asyncio.Future[bool]]] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = anyio.CapacityLimiter(1)  # its own thread: never behind the requests' database calls

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="audit-writer")

    @property
    def running(self) -> bool:
        return (self._task is not None and not self._task.done() and not self._closing
                and asyncio.get_running_loop() is self._loop)

    async def append(self, entry: Entry) -> bool:
        if not self.running:  # before start, after close, or called from another event loop: on its own
            return (await anyio.to_thread.run_sync(_write, self.sessions, [entry]))[0]
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, done))
        self._wake.set()
        # A request cancelled meanwhile (its client went away) leaves its entry in the queue: it is written.
        return await asyncio.shield(done)

    async def close(self) -> None:
        """Write everything handed over, then stop; later entries are written each on its own."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                    try:
                        written = await anyio.to_thread.run_sync(_write, self.sessions, [e for e, _ in batch],
                                                                 limiter=self._thread)
                    except BaseException:
                        for _, done in batch:
                            if not done.done():
                                done.set_result(False)
                        raise
                    for (_, done), ok in zip(batch, written, strict=True):
                        if not done.done():
                            done.set_result(ok)
                if self._closing:
                    return
        finally:  # cancelled (not closed): what is still queued is not written, and each request says so
            while self._queue:
                _, done = self._queue.popleft()
                if not done.done():
                    done.set_result(False)


def start_writer(app: FastAPI, sessions: SessionFactory, *, max_batch: int) -> AuditWriter:
    app.state.audit_writer = writer = AuditWriter(sessions, max_batch=max_batch)
    writer.start()
    return writer


async def _append(scope: Scope, exchange: _Exchange) -> bool:
    """Append the exchange's entry and wait for its commit; False (and a CRITICAL log line carrying the entry) if
    it could not be written."""
    entry = exchange.fields()
    try:
        state = scope["app"].state
        # An app run without its lifespan's writer: a writer never started appends the entry on its own.
        writer: AuditWriter = getattr(state, "audit_writer", None) or AuditWriter(state.session_factory)
        if await writer.append(entry):
            return True
    except Exception:  # whatever failed, the entry is lost and someone must know
        log.exception("audit entry not handed over")
    _lost(entry)
    return False


# ---------------------------------------------------------------- the middleware ----------------------------
class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id")
        if not request_id:
            request_id = uuid.uuid4().hex
            # The route sees it too (a lifecycle transition stores it), so the two records meet.
            scope["headers"] = [*scope.get("headers", ()), (b"x-request-id", request_id.encode("ascii"))]
        if (scope.get("path", "") + "/").startswith(CONSOLE_PREFIX):
            # The console's own pages: what they read and do is recorded by the API requests they make, under the
            # user's own name and this request's id.
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # request.state, where the actor dependency leaves the actor
        exchange = _Exchange(scope, request_id)
        receive = self._hashing(receive, exchange)
        held: list[Message] = []  # a recorded request's answer, until its entry is committed
        holding = False
        recorded = False  # its entry handed over: written, or logged as lost
        refused = False  # a logged read whose entry could not be written: answered 503, its body dropped

        async def record() -> bool:
            nonlocal recorded
            recorded = True
            await self._drain(receive, exchange)
            return await _append(scope, exchange)

        async def send_recorded(message: Message) -> None:
            nonlocal holding, refused
            if refused:
                return
            if message["type"] == "http.response.start":
                exchange.status_code = int(message["status"])
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
                holding = exchange.is_recorded()
                if holding and exchange.is_logged_read():
                    # A read's entry needs nothing of the answer's body (its status is known now): it is written
                    # before the answer starts, and the body streams (an attachment of 64 MiB is never held).
                    holding = False
                    if not await record():
                        refused = True
                        await self._refuse_unrecorded(send, request_id)
                        return
            elif (message["type"] == "http.response.body" and exchange.wants_created_id()
                  and len(exchange.created_body) < _CREATED_BODY_LIMIT):
                exchange.created_body += message.get("body", b"")
            if not holding:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                holding = False
                if await record() or not exchange.is_logged_read():  # an action answers all the same
                    for kept in held:
                        await send(kept)
                else:
                    await self._refuse_unrecorded(send, request_id)

        try:
            await self.app(scope, receive, send_recorded)
        except Exception:
            if exchange.status_code is None or holding:
                exchange.status_code = 500  # nothing went out: the error handler outside answers 500
            if exchange.is_recorded() and not recorded:
                await record()
            raise
        if exchange.is_recorded() and not recorded:  # the route returned without a whole answer: the server's
            if exchange.status_code is None or holding:  # is a 500
                exchange.status_code = 500
            await record()

    @staticmethod
    def _hashing(receive: Receive, exchange: _Exchange) -> Receive:
        """The body's digest, chunk by chunk as the route reads it: nothing is held in memory here."""

        async def hashed() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not exchange.body_read:
                exchange.body_hash.update(message.get("body", b""))
                exchange.body_read = not message.get("more_body", False)
            elif message["type"] != "http.request":
                exchange.body_read = True  # the client went away
            return message

        return hashed

    @staticmethod
    async def _drain(receive: Receive, exchange: _Exchange) -> None:
        """What the route left unread (a refusal before the body, a 413): hashed as it is drained, never past the
        largest body the API reads (the limit middleware inside has answered 413 by then)."""
        if exchange.status_code == 413:  # refused for its size: not read, not hashed (the trail says 413)
            return
        seen = 0
        while not exchange.body_read and seen <= DRAIN_CAP:
            try:
                message = await asyncio.wait_for(receive(), timeout=DRAIN_SECONDS)
            except (TimeoutError, Exception):  # noqa: BLE001 - a client gone or slow: the digest covers what came
                return
            seen += len(message.get("body", b""))

    @staticmethod
    async def _refuse_unrecorded(send: Send, request_id: str) -> None:
        body = json.dumps({"detail": "the audit trail is unavailable: a read that must be recorded was not "
                                     "served", "code": "audit_unavailable"}).encode()
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"x-request-id", request_id.encode("latin-1"))]})
        await send({"type": "http.response.body", "body": body, "more_body": False})
