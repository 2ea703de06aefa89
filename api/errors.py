"""One error shape for every failure: {"detail": ..., "code": ...} plus fields that help the client."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from core.db import busy, is_contention
from core.errors import DomainError

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    detail: str
    code: str


class IllegalTransitionBody(ErrorBody):
    state: str
    event: str
    allowed_events: list[str]


class RuleViolatedBody(ErrorBody):
    state: str
    event: str
    rules: list[str] = []


class StaleVersionBody(ErrorBody):
    current_version: int


class DuplicateBody(ErrorBody):
    matches: list[dict[str, Any]]


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = Field(default=None, description="what is wrong, for a program (pydantic's error type: "
                             "missing, string_too_short, date_parsing...); the console words it in Chinese")


class ValidationBody(ErrorBody):
    errors: list[FieldError]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A body that is not JSON"},
    401: {"model": ErrorBody, "description": "Missing, expired or wrong credentials (`unauthorized`)"},
    403: {"model": ErrorBody, "description": "The caller's role may not do this (`forbidden`, with the roles that "
          "may)"},
    404: {"model": ErrorBody, "description": "Unknown case or document, or one outside the caller's committee"},
    409: {
        "model": IllegalTransitionBody | RuleViolatedBody | StaleVersionBody | DuplicateBody,
        "description": "Not allowed in the case's current state (`illegal_transition`, with the allowed "
        "events), allowed but the data breaks a legal rule (`rule_violated`, naming the rules), or decided on a "
        "version of the case that is no longer current (`stale_version`, with `current_version`: If-Match, or "
        "another action of the same kind recorded meanwhile), or a registration that matches earlier cases "
        "(`possible_duplicate`, with `matches`)",
    },
    413: {"model": ErrorBody, "description": "The body is larger than the API reads (`payload_too_large`)"},
    422: {"model": ValidationBody, "description": "Invalid payload; `errors` names the fields (`invalid_payload`), "
          "or the body is not valid JSON (`invalid_json`, with the position), or the Idempotency-Key was used for "
          "another request (`idempotency_key_reused`), or a list's `cursor` is not one of its pages' "
          "next_cursor (`invalid_cursor`)"},
    503: {"model": ErrorBody, "description": "The workflow service is unreachable or did not complete the action "
          "in time (`action_timed_out`: it may still apply; the body names the case version to check), or the "
          "database is busy (`database_busy`); `Retry-After` says when to repeat"},
}

class DocumentPendingBody(ErrorBody):
    """A document still being rendered and sealed (`document_pending`, with Retry-After), or one that could not be
    made (`document_failed`, with the reason)."""

    document_id: str
    status: str
    retry_after: int | None = None
    attempts: int | None = None
    error: str | None = None


# Documents: a document named by its action may still be being made (or have failed).
DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    409: {"model": IllegalTransitionBody | RuleViolatedBody | StaleVersionBody | DuplicateBody | DocumentPendingBody,
          "description": ERROR_RESPONSES[409]["description"] + "; for a document: still being rendered and sealed "
          "(`document_pending`, ask again after Retry-After) or it could not be made (`document_failed`)"},
}

# Panels and the experts' portal: a 409 there is a plain `conflict` (the invitation or the panel is not in a state
# for this), and the portal answers 403 to anyone who is not an expert of the pool.
PANEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {"model": ErrorBody, "description": "The caller's role may not do this: the experts' portal is for experts "
          "of the pool, the panels for the committee's staff (`forbidden`)"},
    409: {"model": IllegalTransitionBody | RuleViolatedBody | ErrorBody,
          "description": "The panel, seat or invitation is not in a state for this (`illegal_transition`, with the "
          "allowed events: domain/panel_lifecycle.py), a rule of the move is broken (`rule_violated`: a refusal "
          "without its reason, a second opinion), or the panel changed meanwhile (`conflict`)"},
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _methods_of(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at the request's path. Starlette's own 405 names only the methods of
    the first route that matches the path (GET /cases and POST /cases are two routes)."""
    return [
        method
        for method in ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in app.router.routes)
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        invalid_json = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if invalid_json is not None:  # not a field: the body as a whole
            where = invalid_json.get("loc", ("body", "?"))[-1]
            reason = (invalid_json.get("ctx") or {}).get("error", "")
            message = f"the body is not valid JSON ({reason} at position {where})" if reason else (
                f"the body is not valid JSON (at position {where})")
            return JSONResponse({"detail": message, "code": "invalid_json",
                                 "errors": [{"field": "body", "message": message, "type": "json_invalid"}]},
                                status_code=422)
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid"),
                   "type": e.get("type")} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(
            {"detail": f"invalid request: {detail}", "code": "invalid_payload", "errors": errors}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_methods_of(app, request))
        code = "payload_too_large" if exc.status_code == 413 else "http_error"
        return JSONResponse({"detail": str(exc.detail), "code": code}, status_code=exc.status_code,
                            headers=headers)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        """A database that stays locked or out of connections is busy, not broken: 503 with Retry-After."""
        if not is_contention(exc):
            return await _unexpected(request, exc)
        error = busy(exc)
        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # a bug: log it, say little
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error", "code": "internal_error"}, status_code=500)
