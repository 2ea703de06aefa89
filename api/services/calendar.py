"""The working-day calendar: answers for staff, year tables loaded by admins, and the cases told about them.

Loading a year stores its table, then tells every open case's workflow (the signal `calendar_loaded`), which
recomputes its deadlines and moves its timers. New cases read the stored tables when they are registered.
Telling the cases is idempotent: loading the same table again only retries the cases that were not told.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Database
from api.services.cases import summary
from core.errors import DomainError, NotFound
from models import repo
from models.clock import (
    PACKAGE_YEARS,
    SHANGHAI,
    CalendarTableError,
    WorkingDayCalendar,
    YearTable,
    end_of_day,
    parse_year_table,
)
from models.schemas import (
    CalendarLoadReport,
    CalendarYearPublic,
    DeadlinePublic,
    ProvisionalCase,
    ProvisionalCasesPublic,
    WorkingDayPublic,
    WorkingDaysLaterPublic,
    YearTableIn,
)
from models.tables import CalendarYear
from workflows.contracts import CALENDAR_LOADED, Actor, workflow_id

log = logging.getLogger("mediation.calendar")

FIRST_YEAR, LAST_YEAR = 1990, 2199  # the years the API answers for (models/schemas.py EARLIEST..LATEST)
SIGNAL_CONCURRENCY = 64


class InvalidTable(DomainError):
    """A year table was refused: every problem is listed, with where it is."""

    status_code = 422
    code = "invalid_payload"

    def __init__(self, error: CalendarTableError) -> None:
        errors = [{"field": p.field or (f"line {p.line}" if p.line else "body"), "message": str(p)}
                  for p in error.problems]
        super().__init__("invalid year table: " + "; ".join(e["message"] for e in errors), errors=errors)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(f"the calendar answers for {FIRST_YEAR}–{LAST_YEAR}, not {year}")


def year_public(calendar: WorkingDayCalendar, year: int, row: CalendarYear | None = None) -> CalendarYearPublic:
    table = calendar.tables.get(year)
    layer = calendar.layer(year)
    return CalendarYearPublic(
        year=year,
        layer=layer,
        provisional=layer == "provisional",
        loaded_at=row.loaded_at if row else None,
        loaded_by=row.loaded_by if row else None,
        holidays=sorted(table.holidays) if table else [],
        workdays=sorted(table.workdays) if table else [],
    )


# ------------------------------------------------------------------ answers for staff ----------------
def day(*, session: Session, on: date) -> WorkingDayPublic:
    _check_year(on.year)
    calendar = repo.working_day_calendar(session=session)
    answer = calendar.is_working_day(on)
    return WorkingDayPublic(
        day=on, working=answer.working, provisional=answer.provisional, layer=calendar.layer(on.year),
        name=calendar.name_of(on),
    )


def working_days_later(*, session: Session, start: date, working_days: int) -> WorkingDaysLaterPublic:
    _check_year(start.year)
    calendar = repo.working_day_calendar(session=session)
    answer = calendar.add_working_days(start, working_days)
    _check_year(answer.date.year)
    return WorkingDaysLaterPublic(
        start=start,
        working_days=working_days,
        last_day=answer.date,
        ends_at=end_of_day(answer.date),
        provisional=answer.provisional,
        unknown_years=calendar.provisional_years_in(start, answer.date),
    )


def years(*, session: Session) -> list[CalendarYearPublic]:
    """The years the package knows, every loaded year, and the unknown years open cases already reach."""
    calendar = repo.working_day_calendar(session=session)
    rows = {row.year: row for row in repo.calendar_years(session=session)}
    wanted = set(PACKAGE_YEARS) | set(rows) | set(unknown_years_reached(session=session, calendar=calendar))
    return [year_public(calendar, y, rows.get(y)) for y in sorted(wanted)]


def year(*, session: Session, year: int) -> CalendarYearPublic:
    _check_year(year)
    calendar = repo.working_day_calendar(session=session)
    return year_public(calendar, year, next((r for r in repo.calendar_years(session=session) if r.year == year), None))


def unknown_years_reached(*, session: Session, calendar: WorkingDayCalendar) -> list[int]:
    rows, _ = repo.provisional_cases(session=session, limit=10_000)
    reached = {int(d["due_on"][:4]) for case in rows for d in case.deadlines if d.get("provisional")}
    return sorted(y for y in reached if calendar.layer(y) == "provisional")


def provisional(*, session: Session, limit: int, offset: int) -> ProvisionalCasesPublic:
    """Open cases with a provisional deadline: what admins must firm up by loading a year."""
    calendar = repo.working_day_calendar(session=session)
    rows, total = repo.provisional_cases(session=session, limit=limit, offset=offset)
    items = [
        ProvisionalCase(
            **summary(case).model_dump(),
            deadlines=[DeadlinePublic.model_validate(d) for d in case.deadlines if d.get("provisional")],
        )
        for case in rows
    ]
    return ProvisionalCasesPublic(
        unknown_years=unknown_years_reached(session=session, calendar=calendar),
        items=items, total=total, limit=limit, offset=offset,
    )


# ------------------------------------------------------------------ loading a year ---------------------
def table_from_json(year: int, body: YearTableIn) -> YearTable:
    _check_year(year)
    try:
        return YearTable.from_dict({"year": year, **body.model_dump(mode="json")}, year=year)
    except CalendarTableError as err:
        raise InvalidTable(err) from None


def table_from_csv(year: int, text: str) -> YearTable:
    _check_year(year)
    try:
        return parse_year_table(text, fmt="csv", year=year)
    except CalendarTableError as err:
        raise InvalidTable(err) from None


@dataclass
class Fanout:
    open_cases: int = 0
    signalled: int = 0
    not_running: int = 0
    failed: list[str] = field(default_factory=list)


async def tell_open_cases(*, db: Database, client: Client, table: YearTable, page: int = 1000) -> Fanout:
    """Signal every open case's workflow that `table` was loaded; each recomputes its own deadlines."""
    result = Fanout()
    limit = asyncio.Semaphore(SIGNAL_CONCURRENCY)
    payload = table.to_dict()

    async def tell(case_id: str) -> None:
        async with limit:
            try:
                await client.get_workflow_handle(workflow_id(case_id)).signal(
                    CALENDAR_LOADED, payload, rpc_timeout=timedelta(seconds=10)
                )
                result.signalled += 1
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    result.not_running += 1
                else:
                    log.warning("case %s was not told of the calendar year %s: %s", case_id, table.year, err)
                    result.failed.append(case_id)

    after = ""
    while ids := await db.run(lambda session: repo.open_case_ids(session=session, after=after, limit=page)):
        result.open_cases += len(ids)
        await asyncio.gather(*(tell(case_id) for case_id in ids))
        after = ids[-1]
    return result


async def load(*, db: Database, client: Client, table: YearTable, actor: Actor) -> CalendarLoadReport:
    def store(session: Session) -> tuple[bool, CalendarYear]:
        was_loaded = any(row.year == table.year for row in repo.calendar_years(session=session))
        return was_loaded, repo.save_calendar_year(session=session, table=table, at=datetime.now(SHANGHAI),
                                                   by=actor.name)

    # stored (committed) before any case is told: a case registered from now on reads it
    was_loaded, row = await db.run(store)
    log.info("calendar year %s loaded by %s: %d holidays, %d make-up workdays", table.year, actor.name,
             len(table.holidays), len(table.workdays))
    told = await tell_open_cases(db=db, client=client, table=table)
    calendar = await db.run(lambda session: repo.working_day_calendar(session=session))
    return CalendarLoadReport(
        year=year_public(calendar, table.year, row),
        replaced=was_loaded,
        open_cases=told.open_cases,
        signalled=told.signalled,
        not_running=told.not_running,
        failed=told.failed,
    )
