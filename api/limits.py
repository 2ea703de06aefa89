"""Request bodies are bounded before anything reads them (MEDIATION_MAX_BODY_BYTES; CSV files, the pool's and a
calendar year's, MEDIATION_MAX_UPLOAD_BYTES). A body declared larger is answered 413 at once, unread; one that
turns out larger while it streams stops at the limit, also 413. Nothing past the limit is ever held in memory."""

from __future__ import annotations

import json

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

UPLOAD_TYPES = (b"text/csv",)
UPLOAD_PATHS = ("/import", "/csv")  # the routes that take a file: whatever content type the client declared


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes, the most this API reads "
                              "(MEDIATION_MAX_BODY_BYTES; CSV files: MEDIATION_MAX_UPLOAD_BYTES)")


class NulInRequest(HTTPException):
    def __init__(self) -> None:
        super().__init__(422, "the address or its query contains the NUL character (%00), which no field may hold")


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", ()) if key.lower() == name), None)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    def limit_of(self, scope: Scope) -> int:
        content_type = (_header(scope, b"content-type") or b"").lower()
        upload = content_type.startswith(UPLOAD_TYPES) or str(scope.get("path", "")).endswith(UPLOAD_PATHS)
        return self.max_upload if upload else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in str(scope.get("path", "")):
            await _refuse(send, NulInRequest())  # no database stores a NUL character in text (PostgreSQL refuses)
            return
        limit = self.limit_of(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            await _refuse(send, BodyTooLarge(limit))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)  # FastAPI lets an HTTPException through: answered 413
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, error: HTTPException) -> None:
    answer = {"detail": error.detail, "code": "payload_too_large"}
    if error.status_code == 422:  # as every 422: the field (here the query) and what is wrong with it
        answer = {"detail": error.detail, "code": "invalid_payload",
                  "errors": [{"field": "query", "message": error.detail}]}
    body = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": error.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body, "more_body": False})
