"""Request bodies are bounded before anything reads them (MEDIATION_MAX_BODY_BYTES; CSV files, the pool's and a
calendar year's, MEDIATION_MAX_UPLOAD_BYTES). A body declared larger is answered 413 at once, unread; one that
turns out larger while it streams stops at the limit, also 413. Nothing past the limit is ever held in memory."""

from __future__ import annotations

import html
import json

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

UPLOAD_TYPES = (b"text/csv",)
UPLOAD_PATHS = ("/import", "/csv")  # the routes that take a file: whatever content type the client declared
# An attachment's upload (POST /cases/{id}/attachments, multipart): its own limit, the file's
# (MEDIATION_ATTACHMENT_MAX_BYTES) and room for the form's other fields. The route streams it to disk.
ATTACHMENT_PATH = "/attachments"
FORM_OVERHEAD = 64 * 1024
CONSOLE = "/console/"  # a page of the console is refused with a page, in words, not the API's JSON


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes, the most this API reads "
                              "(MEDIATION_MAX_BODY_BYTES; CSV files: MEDIATION_MAX_UPLOAD_BYTES)")


def without_nul(scope: Scope) -> Scope:
    """The request without the NUL characters of its address and query. No database stores U+0000 in text
    (PostgreSQL refuses it), so no record, id or name holds one: a filter or id with it finds what it would find
    without it, never a server error. (A body with a NUL is refused with 422 naming the field: models.schemas.)"""
    scope = dict(scope)
    scope["query_string"] = scope.get("query_string", b"").replace(b"%00", b"")
    scope["path"] = str(scope.get("path", "")).replace("\x00", "")
    if scope.get("raw_path"):
        scope["raw_path"] = scope["raw_path"].replace(b"%00", b"")
    return scope


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes,
                       max_attachment=settings.attachment_max_bytes + FORM_OVERHEAD)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", ()) if key.lower() == name), None)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int, max_attachment: int | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.max_attachment = max_attachment if max_attachment is not None else max_upload

    def limit_of(self, scope: Scope) -> int:
        content_type = (_header(scope, b"content-type") or b"").lower()
        if scope.get("method") == "POST" and str(scope.get("path", "")).endswith(ATTACHMENT_PATH):
            return self.max_attachment
        upload = content_type.startswith(UPLOAD_TYPES) or str(scope.get("path", "")).endswith(UPLOAD_PATHS)
        return self.max_upload if upload else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in str(scope.get("path", "")):
            scope = without_nul(scope)
        limit = self.limit_of(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            if str(scope.get("path", "")).startswith(CONSOLE):
                await _refuse_page(send, limit, back=str(scope["path"]).removesuffix(ATTACHMENT_PATH))
            else:
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
    body = json.dumps({"detail": error.detail, "code": "payload_too_large"}).encode()
    await send({"type": "http.response.start", "status": error.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


async def _refuse_page(send: Send, limit: int, *, back: str) -> None:
    """A console form whose declared size is past the limit (a scan too large): a page that says so in Chinese,
    with the way back to the form. The file was never read."""
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>文件过大</title>'
        '<link rel="stylesheet" href="/console/static/console.css"></head><body><main id="main">'
        '<section class="refused" role="alert" id="refusal"><h1>操作未被接受</h1>'
        f'<p class="detail" id="refusal-words">文件过大，未保存（上限 {html.escape(_megabytes(limit))}）。'
        '请压缩或分成几个文件后再上传。</p>'
        f'<p class="api-words" lang="en">The file is larger than {limit} bytes, the most this installation takes: '
        'nothing was stored.</p><p class="code">HTTP 413 · payload_too_large</p>'
        f'<p><a href="{html.escape(back)}">返回</a></p></section></main></body></html>'
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": page, "more_body": False})
