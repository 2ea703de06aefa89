"""Annotated dependency aliases used by the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Request
from sqlmodel import Session
from temporalio.client import Client

from api.auth import current_actor
from core.errors import Unavailable
from core.settings import Settings
from workflows.client import connect
from workflows.contracts import Actor


def _session(request: Request) -> Iterator[Session]:
    session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    finally:
        session.close()


async def temporal_of(app: FastAPI) -> Client:
    """The app's Temporal client, connected on first use."""
    state = app.state
    if state.temporal is None:
        try:
            state.temporal = await connect(state.settings)
        except Exception as err:  # noqa: BLE001 - any connection failure means the same to the client
            raise Unavailable(f"the workflow service at {state.settings.temporal_address} is unreachable") from err
    return state.temporal


async def _temporal(request: Request) -> Client:
    return await temporal_of(request.app)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(_session)]
TemporalDep = Annotated[Client, Depends(_temporal)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ActorDep = Annotated[Actor, Depends(current_actor)]
CaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["3f2c9a"])]
DocumentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
