"""Who is acting. A request authenticates with a bearer token (POST /auth/token, the OAuth2 password flow) or
an API key (X-API-Key, for service accounts). In dev mode only (the embedded stack and the tests), a request
without credentials may name its actor with the X-Actor-* headers — its role's permissions apply, committees do
not — or, naming no role, acts in dev mode's own role; outside dev mode it is 401."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Request

from api.services.auth import actor_of_caller, caller_of, user_of_request
from core.errors import InvalidField, Unauthorized
from domain.access import DEV, Caller
from models.users import ROLES
from workflows.contracts import Actor

ACTOR_STATE = "actor"  # request.state.actor: who acted, for the audit trail (api/audit.py)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def current_caller(
    request: Request,
    x_actor_id: Annotated[str | None, Header(max_length=100, description="dev mode: acting user's id")] = None,
    x_actor_name: Annotated[str | None, Header(
        max_length=200, description="dev mode: the name, in UTF-8, percent-encoded, or as RFC 8187 UTF-8''…")] = None,
    x_actor_role: Annotated[str | None, Header(max_length=32, description="dev mode: the role")] = None,
) -> Caller:
    """`Authorization: Bearer <token>` and `X-API-Key` are read from the request itself, described once in the
    API's description rather than on every operation."""
    caller = _resolve(request, x_actor_id, x_actor_name, x_actor_role)
    setattr(request.state, ACTOR_STATE, actor_of_caller(caller))
    return caller


def current_actor(caller: Annotated[Caller, Depends(current_caller)]) -> Actor:
    """The actor recorded in the case's history: who the caller is."""
    return actor_of_caller(caller)


def header_text(name: str, value: str) -> str:
    """A header's text. HTTP carries bytes, which Starlette hands over as Latin-1: they are read back as UTF-8
    (陈调解员 sent as is), as RFC 8187 (UTF-8''%E9%99%88...) or percent-encoded; anything else is refused, never
    stored as mojibake."""
    raw = value.encode("latin-1", errors="replace")
    try:
        if raw[:7].lower() == b"utf-8''":
            text = unquote(raw[7:].decode("ascii"), errors="strict")
        else:
            text = unquote(raw.decode("utf-8"), errors="strict")
    except UnicodeError:
        raise InvalidField(name, "not UTF-8 text: send it in UTF-8, percent-encoded, or as UTF-8''<percent-encoded> "
                                 "(RFC 8187)") from None
    return text.strip()


def _resolve(request: Request, x_actor_id: str | None, x_actor_name: str | None, x_actor_role: str | None) -> Caller:
    state = request.app.state
    bearer, api_key = _bearer(request), request.headers.get("x-api-key") or None
    if bearer or api_key:
        with state.session_factory() as session:
            user = user_of_request(session=session, settings=state.settings, bearer=bearer, api_key=api_key)
        assert user is not None
        return caller_of(user)
    if not state.settings.dev_mode:
        raise Unauthorized("log in first (POST /auth/token) and send the token as 'Authorization: Bearer …', "
                           "or send an API key as X-API-Key")
    if x_actor_role is not None and x_actor_role not in ROLES:
        raise Unauthorized(f"unknown role {x_actor_role!r} in X-Actor-Role; one of: {', '.join(ROLES)}")
    role = x_actor_role or DEV
    actor_id = x_actor_id or ("staff" if role == DEV else role)
    return Caller(
        user_id=actor_id,
        name=(header_text("X-Actor-Name", x_actor_name) if x_actor_name else "") or "调解委员会工作人员",
        role=role,
        expert_id=actor_id if role == "expert" else None,
        checks_reach=False,  # a header names a role, not a committee: log in for the committees' walls
    )
