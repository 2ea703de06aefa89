"""Open cases with a provisional deadline (a year the calendar does not know), a page at a time: what admins firm
up by loading a year (api/services/calendar.py loads it)."""

from __future__ import annotations

from sqlmodel import Session

from api.services.calendar import unknown_years_reached
from api.services.cases import summary
from models import repo
from models.schemas import DeadlinePublic, ProvisionalCase, ProvisionalCasesPublic


def listing(*, session: Session, limit: int, cursor: str | None = None, offset: int = 0,
            count: bool = False) -> ProvisionalCasesPublic:
    """Earliest due date first, with the unknown years every open case reaches."""
    found = repo.provisional_page(session=session, limit=limit, cursor=cursor, offset=offset, count=count)
    items = [
        ProvisionalCase(
            **summary(case).model_dump(),
            deadlines=[DeadlinePublic.model_validate(d) for d in case.deadlines if d.get("provisional")],
        )
        for case in found.rows
    ]
    calendar = repo.working_day_calendar(session=session)
    return ProvisionalCasesPublic(
        unknown_years=unknown_years_reached(session=session, calendar=calendar), items=items, limit=limit,
        has_more=found.has_more, next_cursor=found.next_cursor, estimated_total=found.estimated_total,
    )
