"""Logging in (the OAuth2 password flow), refreshing tokens, API keys for service accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from pydantic import Field

from api.access import allow
from api.deps import ActorDep, ReleasingRoute, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.services import auth
from api.services.auth import ApiKeyCreated, TokenPair, UserPublic
from domain.payloads import Strict

AUTH_RESPONSES = {
    **ERROR_RESPONSES,
    401: {"model": ErrorBody, "description": "Wrong or missing credentials (`unauthorized`)"},
    403: {"model": ErrorBody, "description": "Not allowed for this role"},
    429: {"model": ErrorBody, "description": "Too many failed logins: wait `retry_after` seconds"},
}
router = APIRouter(route_class=ReleasingRoute, prefix="/auth", tags=["auth"], responses=AUTH_RESPONSES)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=4000)


class ApiKeyIn(Strict):
    username: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100, examples=["nightly export"])


@router.post("/token", summary="Log in with username and password (OAuth2 password flow)")
def token(
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPair:
    client = request.client.host if request.client else ""
    return auth.login(session=session, settings=settings, username=username, password=password, client=client)


@router.post("/refresh", summary="A new token pair from a refresh token")
def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    return auth.refresh(session=session, settings=settings, refresh_token=body.refresh_token)


@router.get("/me", dependencies=[allow("me")], summary="The account behind the credentials")
def me(session: SessionDep, actor: ActorDep) -> UserPublic:
    return auth.me(session=session, actor=actor)


@router.post("/api-keys", dependencies=[allow("api_keys.manage")],
             status_code=201, summary="A new API key for a service account (admin; shown once)")
def create_key(body: ApiKeyIn, session: SessionDep, actor: ActorDep) -> ApiKeyCreated:
    return auth.create_api_key(session=session, actor=actor, username=body.username, name=body.name)


@router.delete("/api-keys/{key_id}", dependencies=[allow("api_keys.manage")],
               status_code=204, summary="Revoke an API key (admin)")
def revoke_key(
    key_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")], session: SessionDep,
    actor: ActorDep,
) -> Response:
    auth.revoke_api_key(session=session, actor=actor, key_id=key_id)
    return Response(status_code=204)
