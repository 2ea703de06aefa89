"""The working-day calendar: answers for staff, year tables loaded by admins, and the cases told about them.

Loading a year stores its table, then recomputes every open case's deadlines in one batch, a page of cases at a
time, from the clocks each case row keeps (domain/projection.py): the rows whose deadlines changed are rewritten in
one statement a page, and only the workflows whose earliest pending timer moved are told (the signal
`calendar_loaded`), so that they sleep until the new one; the others wake when they meant to and refresh their
calendar then. A row written before rows kept their clocks, or changed by its workflow while the batch ran, is
left to its workflow, which is told and recomputes itself as before. New cases read the stored tables when they
are registered. Loading the same table again changes no row and retries only the cases that could not be told: a
moved case that was not told keeps, in its row, the timer its workflow still sleeps until.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Database
from api.services.cases import summary
from core.errors import DomainError, NotFound
from domain import projection
from domain.clock import (
    PACKAGE_YEARS,
    CalendarTableError,
    WorkingDayCalendar,
    YearTable,
    end_of_day,
    parse_year_table,
)
from domain.time import SHANGHAI
from models import repo, repo_clocks
from models.repo_clocks import ClockRow
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
    """What loading a year did to the open cases (see `load`)."""

    open_cases: int = 0
    recomputed: int = 0
    rewritten: int = 0
    woken: int = 0
    left_to_workflows: int = 0
    signalled: int = 0
    not_running: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: Counter[str] = field(default_factory=Counter)  # where the batch spent its time


class Teller:
    """Signals `calendar_loaded` (the loaded table) to case workflows, SIGNAL_CONCURRENCY at a time."""

    def __init__(self, client: Client, table: YearTable, result: Fanout) -> None:
        self._client, self._year, self._payload, self._result = client, table.year, table.to_dict(), result
        self._limit = asyncio.Semaphore(SIGNAL_CONCURRENCY)

    async def tell(self, case_ids: list[str]) -> set[str]:
        """Tells each case; returns the ids that could not be told (also in the result's `failed`)."""
        failed: set[str] = set()

        async def one(case_id: str) -> None:
            async with self._limit:
                try:
                    await self._client.get_workflow_handle(workflow_id(case_id)).signal(
                        CALENDAR_LOADED, self._payload, rpc_timeout=timedelta(seconds=10)
                    )
                    self._result.signalled += 1
                except RPCError as err:
                    if err.status == RPCStatusCode.NOT_FOUND:
                        self._result.not_running += 1
                    else:
                        log.warning("case %s was not told of the calendar year %s: %s", case_id, self._year, err)
                        self._result.failed.append(case_id)
                        failed.add(case_id)

        await asyncio.gather(*(one(case_id) for case_id in case_ids))
        return failed


@dataclass
class PagePlan:
    """One page of open cases recomputed: the rows to rewrite (id, clock text as read, new columns), the cases
    whose next timer moved, the cases left to their workflow, and each moved case's columns with the next timer
    its workflow still sleeps until (written back if it cannot be told, so that loading again retries it)."""

    rewrites: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    untold_columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    def untold(self, failed: set[str], written: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
        """The rows of moved cases that could not be told, back to the next timer their workflow sleeps until."""
        return [(case_id, repo_clocks.json_text(columns["clock"]), self.untold_columns[case_id])
                for case_id, _, columns in self.rewrites if case_id in failed and case_id in written
                and case_id in self.untold_columns]


def plan_page(rows: list[ClockRow], calendar: WorkingDayCalendar) -> PagePlan:
    """Each row's projection with `calendar`, from what the row keeps (domain/projection.py). Pure."""
    plan = PagePlan()
    for row in rows:
        try:
            kept = projection.stored(row.columns["clock"], payment_overdue=row.columns["payment_overdue"])
            if kept is None or row.clock_text is None:  # written before the row kept its clocks
                plan.left.append(row.case_id)
                continue
            now = kept.project(calendar)
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            log.warning("case %s: its clocks could not be recomputed from its row (%r); its workflow is told",
                        row.case_id, err)
            plan.left.append(row.case_id)
            continue
        columns = projection.columns(now)
        if not row.holds(columns):
            plan.rewrites.append((row.case_id, row.clock_text, columns))
        if projection.next_timer_moved(kept.next_timer, now):
            plan.moved.append(row.case_id)
            plan.untold_columns[row.case_id] = {**columns, "clock": {**columns["clock"], "next_timer": kept.next_timer}}
    return plan


async def recompute_open_cases(*, db: Database, tell: Callable[[list[str]], Awaitable[set[str]]],
                               result: Fanout, page: int = 1000) -> Fanout:
    """Every open case's deadlines recomputed with the stored calendar, a page of `page` cases at a time: the rows
    whose projection changed are rewritten in one statement, and only the workflows whose next timer moved are
    told (`tell`), with those whose row keeps no clocks or changed while the page was recomputed. A page's
    workflows are told while the next page is recomputed."""
    calendar: WorkingDayCalendar | None = None
    telling: list[asyncio.Task[None]] = []
    next_page: asyncio.Future[tuple[WorkingDayCalendar, list[ClockRow]]] | None = None

    async def tell_page(case_ids: list[str], plan: PagePlan, written: set[str]) -> None:
        failed = await tell(case_ids)
        if untold := plan.untold(failed, written):
            await db.run(lambda session: repo_clocks.rewrite_clocks(session=session, rows=untold))

    def read(after: str) -> Awaitable[tuple[WorkingDayCalendar, list[ClockRow]]]:
        return db.run(lambda session: (repo.working_day_calendar(session=session),
                                       repo_clocks.open_case_clocks(session=session, after=after, limit=page)))

    try:
        started = time.perf_counter()
        stored_calendar, rows = await read("")
        result.seconds["read"] += time.perf_counter() - started
        while rows:
            # the next page is read while this one is recomputed and written
            next_page = asyncio.ensure_future(read(rows[-1].case_id))
            if stored_calendar != calendar:  # read with each page, so that a year loaded meanwhile is followed; the
                calendar = stored_calendar  # same calendar keeps its instance, whose year indexes are built once
            started = time.perf_counter()
            plan = await run_in_threadpool(plan_page, rows, calendar)
            result.seconds["compute"] += time.perf_counter() - started
            started = time.perf_counter()
            written = await db.run(lambda session, plan=plan: repo_clocks.rewrite_clocks(session=session,
                                                                                         rows=plan.rewrites))
            result.seconds["write"] += time.perf_counter() - started
            changed = {case_id for case_id, _, _ in plan.rewrites if case_id not in written}  # by its workflow
            left = plan.left + sorted(changed)
            moved = [case_id for case_id in plan.moved if case_id not in changed]
            result.open_cases += len(rows)
            result.recomputed += len(rows) - len(left)
            result.rewritten += len(written)
            result.woken += len(moved)
            result.left_to_workflows += len(left)
            telling.append(asyncio.create_task(tell_page(moved + left, plan, written)))
            started = time.perf_counter()
            stored_calendar, rows = await next_page
            result.seconds["read_waited"] += time.perf_counter() - started
    finally:  # every page's workflows told (or the error known) before the batch answers
        if next_page is not None and not next_page.done():
            next_page.cancel()
        started = time.perf_counter()
        await asyncio.gather(*telling, return_exceptions=True)
        result.seconds["tell_after_last_page"] += time.perf_counter() - started
    for task in telling:
        task.result()  # an error telling a page is the batch's error
    return result


async def load(*, db: Database, client: Client, table: YearTable, actor: Actor,
               result: Fanout | None = None) -> CalendarLoadReport:
    """Store the table, then recompute every open case (`recompute_open_cases`); `result` is filled as it goes
    (the benchmark reads where the time went from it)."""
    def store(session: Session) -> tuple[bool, CalendarYear]:
        was_loaded = any(row.year == table.year for row in repo.calendar_years(session=session))
        return was_loaded, repo.save_calendar_year(session=session, table=table, at=datetime.now(SHANGHAI),
                                                   by=actor.name)

    # stored (committed) before any case is recomputed or told: a case registered from now on reads it
    was_loaded, row = await db.run(store)
    log.info("calendar year %s loaded by %s: %d holidays, %d make-up workdays", table.year, actor.name,
             len(table.holidays), len(table.workdays))
    result = result if result is not None else Fanout()
    await recompute_open_cases(db=db, tell=Teller(client, table, result).tell, result=result)
    log.info("calendar year %s: %d open cases, %d recomputed in one batch (%d rewritten, %d woken), %d left to "
             "their workflows; %d told, %d not running, %d not told (seconds: %s)", table.year,
             result.open_cases, result.recomputed, result.rewritten, result.woken, result.left_to_workflows,
             result.signalled, result.not_running, len(result.failed),
             {k: round(v, 2) for k, v in result.seconds.items()})
    calendar = await db.run(lambda session: repo.working_day_calendar(session=session))
    recounted = await db.run(lambda session: repo.recount_mediation_times(session=session, year=table.year,
                                                                          calendar=calendar))
    if recounted:
        log.info("calendar year %s: the working days of %d closed cases counted again", table.year, recounted)
    return CalendarLoadReport(
        year=year_public(calendar, table.year, row),
        replaced=was_loaded,
        open_cases=result.open_cases,
        recomputed=result.recomputed,
        rewritten=result.rewritten,
        woken=result.woken,
        left_to_workflows=result.left_to_workflows,
        closed_recounted=recounted,
        signalled=result.signalled,
        not_running=result.not_running,
        failed=result.failed,
    )
