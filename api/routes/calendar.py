"""The working-day calendar (工作日): answers for staff, and the year tables admins load."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request

from api.access import allow
from api.deps import ActorDep, Count, Cursor, DatabaseDep, Offset, ReleasingRoute, SessionDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.services import calendar
from api.services.provisional import listing as provisional_listing
from core.errors import InvalidField
from models.schemas import (
    CalendarLoadReport,
    CalendarYearPublic,
    ProvisionalCasesPublic,
    WorkingDayPublic,
    WorkingDaysLaterPublic,
    YearTableIn,
)

router = APIRouter(route_class=ReleasingRoute, prefix="/calendar", tags=["calendar"], responses=ERROR_RESPONSES)

Year = Annotated[int, Path(ge=calendar.FIRST_YEAR, le=calendar.LAST_YEAR, examples=[2027])]
TABLE_2027_EXAMPLE = {
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09",
                 "2027-02-10", "2027-02-11"],
    "workdays": ["2027-02-20"],
    "names": {"2027-01-01": "元旦", "2027-02-06": "春节", "2027-02-20": "春节调休"},
}
CSV_EXAMPLE = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,holiday,春节\n2027-02-20,workday,春节调休\n"
MAX_CSV_BYTES = 64 * 1024


@router.get("/days/{day}", dependencies=[allow("calendar.read")], summary="Is this day a working day? (工作日)")
def day(day: date, session: SessionDep, actor: ActorDep) -> WorkingDayPublic:
    return calendar.day(session=session, on=day)


@router.get("/working-days-later", dependencies=[allow("calendar.read")],
            summary="The day N working days after a date, as a period of N WD counts it")
def working_days_later(
    session: SessionDep,
    actor: ActorDep,
    start: Annotated[date, Query(examples=["2026-12-15"], description="the day the period starts (it does not count)")],
    working_days: Annotated[int, Query(ge=0, le=3650, examples=[30])],
) -> WorkingDaysLaterPublic:
    return calendar.working_days_later(session=session, start=start, working_days=working_days)


@router.get("/years", dependencies=[allow("calendar.read")],
            summary="Known, loaded and still unknown calendar years")
def years(session: SessionDep, actor: ActorDep) -> list[CalendarYearPublic]:
    return calendar.years(session=session)


@router.get("/years/{year}", dependencies=[allow("calendar.read")],
            summary="One calendar year: who answers for it, and its loaded table")
def year(year: Year, session: SessionDep, actor: ActorDep) -> CalendarYearPublic:
    return calendar.year(session=session, year=year)


@router.put("/years/{year}", dependencies=[allow("calendar.load")],
            summary="Load a year's holidays and make-up workdays (admin); open cases recompute")
async def load_json(
    year: Year,
    body: Annotated[YearTableIn, Body(openapi_examples={"2027": {"value": TABLE_2027_EXAMPLE}})],
    db: DatabaseDep,
    client: TemporalDep,
    actor: ActorDep,
) -> CalendarLoadReport:
    return await calendar.load(db=db, client=client, table=calendar.table_from_json(year, body), actor=actor)


@router.put(
    "/years/{year}/csv", dependencies=[allow("calendar.load")],
    summary="Load a year from CSV: date,kind[,name] with kind holiday or workday (admin)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
        }
    },
)
async def load_csv(
    year: Year, request: Request, db: DatabaseDep, client: TemporalDep, actor: ActorDep
) -> CalendarLoadReport:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidField("body", f"a year table is at most {MAX_CSV_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidField("body", "the CSV must be UTF-8") from None
    table = calendar.table_from_csv(year, text)
    return await calendar.load(db=db, client=client, table=table, actor=actor)


@router.get("/provisional", dependencies=[allow("calendar.provisional")],
            summary="Open cases with a provisional deadline, and the unknown years they reach (admin)")
def provisional(
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    count: Count = None,
    offset: Offset = 0,
) -> ProvisionalCasesPublic:
    return provisional_listing(session=session, limit=limit, cursor=cursor, offset=offset,
                               count=count == "estimate")
