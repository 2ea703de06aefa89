"""Mediation sessions across cases: the calendar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.access import allow, case_scope
from api.deps import Count, Cursor, ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES
from api.services import sessions
from domain.access import Caller
from models.schemas import SessionListFilters, SessionsPublic

router = APIRouter(route_class=ReleasingRoute, tags=["sessions"], responses=ERROR_RESPONSES)


@router.get("/sessions", summary="The calendar of mediation sessions across the cases you reach, earliest first "
            "(default: this week, Monday to Sunday, Asia/Shanghai), a page at a time (follow next_cursor)")
def calendar(
    session: SessionDep,
    caller: Annotated[Caller, allow("sessions.read")],
    filters: Annotated[SessionListFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
    count: Count = None,
) -> SessionsPublic:
    return sessions.calendar(session=session, filters=filters, limit=limit, cursor=cursor,
                             count=count == "estimate", scope=case_scope(session, caller))
