"""Annotated dependency aliases used by the routes.

Two ways to the database, one per kind of route, so that no database call ever runs on the event loop:
- a sync route (`def`) takes `SessionDep`; FastAPI runs the route, and so its calls, in the thread pool, and
  `ReleasingRoute` commits and closes the session as the route returns, in that same thread;
- an async route (`async def`, one that awaits the workflow service) takes `DatabaseDep` and runs each unit of work
  with `await db.run(work)`, in the thread pool, with a session of its own that is closed — its connection back in
  the pool — before the route awaits anything else.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.auth import current_actor
from core.db import SessionFactory, busy, is_contention, unit_of_work
from core.errors import Unavailable
from core.settings import Settings
from models.paging import MAX_CURSOR_LENGTH
from workflows.client import connect
from workflows.contracts import Actor

T = TypeVar("T")


class ReleasingRoute(APIRoute):
    """Every router's route class. A sync route's sessions give their connection back as the route returns, in
    the route's own thread. Otherwise the connection stays checked out until the dependency's teardown, after
    FastAPI has validated the answer — in another thread of the pool: under load every thread waits for a
    connection that answers waiting for a thread hold, and the API stops answering (the defect as found)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _releasing(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _releasing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def call(*args: Any, **kwargs: Any) -> Any:
        sessions = [value for value in kwargs.values() if isinstance(value, Session)]
        try:
            result = endpoint(*args, **kwargs)
            for session in sessions:
                session.commit()
            return result
        except Exception as error:
            if is_contention(error):
                raise busy(error) from error
            raise
        finally:
            for session in sessions:
                session.close()

    return call


def _session(request: Request) -> Iterator[Session]:
    session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except Exception as error:
        if is_contention(error):
            raise busy(error) from error
        raise
    finally:
        session.close()


class Database:
    """The database for async routes: each unit of work in the thread pool, in a transaction of its own, tried
    again while the database is busy (core.db.unit_of_work)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def run(self, work: Callable[[Session], T]) -> T:
        return await run_in_threadpool(unit_of_work, self.sessions, work)


def _database(request: Request) -> Database:
    return Database(request.app.state.session_factory)


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
DatabaseDep = Annotated[Database, Depends(_database)]
TemporalDep = Annotated[Client, Depends(_temporal)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ActorDep = Annotated[Actor, Depends(current_actor)]
# Every list is read a page at a time by keyset (models/paging.py): `cursor` is the previous page's next_cursor.
Cursor = Annotated[str | None, Query(
    max_length=MAX_CURSOR_LENGTH, description="the next_cursor of the previous page, unchanged (with the same "
    "filters); none for the first page. Anything else answers 422 invalid_cursor")]
Count = Annotated[Literal["estimate"] | None, Query(
    description="estimate: the page carries estimated_total, an estimate of the items that match (exact on "
    "SQLite); no page counts exactly")]
# Kept for clients written before cursors: rows skipped after the cursor (or from the first row). Reading and
# discarding them costs the database what they cost, so the bound is low: page further with next_cursor.
MAX_OFFSET = 10_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, deprecated=True, description="deprecated: follow next_cursor "
                              "instead. Rows to skip, at most 10,000")]
# A case entered from paper records after the fact (历史案件补录): the moment the act took place (ISO 8601; a time
# without a zone is Asia/Shanghai). Only on a case being entered from records (api/services/cases.py). Declared
# as a date-time, not nullable: a header is absent or has a value (the text "null" is no time), default None.
OccurredAt = Annotated[datetime, Header(
    description="for a case entered from paper records after the fact (历史案件补录): when this act took place, "
    "ISO 8601 (e.g. 2025-03-04T10:00:00+08:00); acts are entered in the order they took place, in the past")]
CaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["3f2c9a"])]
DocumentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
