"""Recording the audit trail (domain/audit.py): every request that may change something, whatever its answer
(a refused attempt is evidence too), and every read by an auditor or an expert (shared/DOMAIN.md, "Every
access by an auditor or expert is logged").

A pure ASGI middleware. It hashes the request body as the route reads it, never holding it (the payload's digest;
what the route leaves unread is hashed as it is drained at the end, up to the upload limit of api/limits.py), gives
every request an id (the client's X-Request-ID, or a new one that the route also sees
and the response carries back), and appends one entry in a transaction of its own once the route has answered.

Who acted is what the route resolved: `api.auth.current_actor` leaves the actor it returns in the request's
state (`ACTOR_STATE`). No parsing rule is repeated here. A request that never resolved an actor
(unknown path, no credentials) is recorded as "anonymous".

When the entry cannot be written:
- an action (POST, PUT, PATCH, DELETE) has already happened: its answer goes out unchanged and the failure is
  logged at CRITICAL with the whole entry, so that the trail can be completed from the log (fail open: a 500
  would tell the client that an accepted case was not accepted, and invite a retry);
- a logged read has not left the server yet: it is held back until its entry is written, and answered 503
  `audit_unavailable` if that fails (fail closed: no unrecorded reading of personal information).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import ACTOR_STATE
from core.db import SessionFactory
from models import repo_audit

log = logging.getLogger(__name__)

READS_LOGGED_FOR = frozenset({"auditor", "expert"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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

    def fields(self) -> dict[str, Any]:
        actor = self.actor()
        target_type, target_id = _target(self.scope)
        if target_id is None and self.wants_created_id():
            target_type, target_id = _created_type(self.scope), _created_id(self.created_body)
            if target_id is None:
                target_type = None
        return {
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


def _write(sessions: SessionFactory, fields: dict[str, Any]) -> None:
    with sessions() as session:
        committee_id = repo_audit.committee_of(
            session=session, target_type=fields["target_type"], target_id=fields["target_id"]
        )
    repo_audit.record(sessions=sessions, committee_id=committee_id, **fields)


async def _append(scope: Scope, exchange: _Exchange) -> bool:
    """Append the exchange's entry; False (and a CRITICAL log line carrying the entry) if it could not be."""
    fields = exchange.fields()
    try:
        sessions: SessionFactory = scope["app"].state.session_factory
        await run_in_threadpool(_write, sessions, fields)
        return True
    except Exception:  # whatever failed, the entry is lost and someone must know
        log.critical("AUDIT ENTRY NOT WRITTEN: %s", json.dumps(fields, default=str, ensure_ascii=False),
                     exc_info=True)
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
        scope.setdefault("state", {})  # request.state, where the actor dependency leaves the actor
        exchange = _Exchange(scope, request_id)
        receive = self._hashing(receive, exchange)
        held: list[Message] = []  # a logged read's answer, until its entry is written
        holding = False

        async def send_recorded(message: Message) -> None:
            nonlocal holding
            if message["type"] == "http.response.start":
                exchange.status_code = int(message["status"])
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
                holding = exchange.is_logged_read()
            elif (message["type"] == "http.response.body" and exchange.wants_created_id()
                  and len(exchange.created_body) < _CREATED_BODY_LIMIT):
                exchange.created_body += message.get("body", b"")
            if not holding:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                holding = False
                if await _append(scope, exchange):
                    for kept in held:
                        await send(kept)
                else:
                    await self._refuse_unrecorded(send, request_id)

        try:
            await self.app(scope, receive, send_recorded)
        except Exception:
            if exchange.status_code is None or holding:
                exchange.status_code = 500  # nothing went out: the error handler outside answers 500
            if exchange.is_recorded():
                await self._drain(receive, exchange)
                await _append(scope, exchange)
            raise
        if exchange.is_recorded() and not exchange.is_logged_read():
            await self._drain(receive, exchange)
            await _append(scope, exchange)  # after the answer went out: fail open, loudly

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
