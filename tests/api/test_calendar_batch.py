"""Loading a calendar year recomputes every open case's deadlines in one batch from the clocks its row keeps
(docs/clocks.md, "Loading a year"), on SQLite and on PostgreSQL: the rows whose deadlines changed are rewritten,
and only the workflows whose earliest pending timer moved are told; a row that keeps no clocks is left to its
workflow, as before.

The cases here are rows written as their workflow writes them (domain/projection.py `project`), most without a
workflow: what is checked is the batch, with a recording stand-in for the signal, and once through the API. Expected
dates come from tests/oracle.py, which shares no code with domain/clock.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import Session

from api.deps import Database
from api.services.calendar import Fanout, recompute_open_cases
from core.db import SessionFactory, transaction
from domain.clock import MediationClock, WorkingDayCalendar, YearTable
from domain.deadlines import CaseClocks
from domain.payloads import CaseCreate
from domain.policy import ClockPolicy
from domain.projection import columns, project
from domain.time import SHANGHAI
from models import repo
from models.repo_clocks import ClockRow, open_case_clocks, rewrite_clocks
from models.tables import CalendarYear, Case
from tests.factories import registration
from tests.oracle import midnight_after, nth_working_day_after

ADMIN = {"X-Actor-Id": "a1", "X-Actor-Name": quote("钱管理员"), "X-Actor-Role": "admin"}
# An invented 2027 table (the State Council's is not assumed): Monday 4 and Tuesday 5 January off.
TABLE: dict[str, Any] = {"holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []}
TABLES = {2027: TABLE}
LOADED = WorkingDayCalendar({2027: YearTable.from_dict({"year": 2027, **TABLE})})
UNKNOWN = WorkingDayCalendar()
POLICY = ClockPolicy()
MOVES = date(2026, 11, 26)  # 30 WD later crosses 4 and 5 January 2027: its dates move
STAYS = date(2026, 3, 2)  # 30 WD later is in April 2026: nothing moves
LATE = date(2027, 6, 15)  # 30 WD later is in July 2027, past no holiday: exact once 2027 is loaded, not moved


@pytest.fixture
def fresh_2027(sessions: SessionFactory) -> Iterator[None]:
    """2027 is unknown to the calendar when the test starts, and again when it ends."""
    def delete() -> None:
        with transaction(sessions) as session:
            row = session.get(CalendarYear, 2027)
            if row is not None:
                session.delete(row)

    delete()
    try:
        yield
    finally:
        delete()


def in_mediation(accepted_on: date) -> CaseClocks:
    return CaseClocks(status="in_mediation", entered_on=accepted_on,
                      mediation=MediationClock(POLICY.mediation_wd).start(accepted_on))


def written(clocks: CaseClocks, calendar: WorkingDayCalendar = UNKNOWN) -> dict[str, Any]:
    return project(clocks, fired=(), calendar=calendar, policy=POLICY, hold_provisional=True, payment_overdue=False)


def put_case(sessions: SessionFactory, clocks: CaseClocks, *, keeps_clocks: bool = True,
             status: str | None = None) -> str:
    """A case row as its workflow writes it; `keeps_clocks=False`: as rows were written before they kept them."""
    case_id = f"batch-{uuid.uuid4().hex[:12]}"
    body = CaseCreate.model_validate(registration(application_type="joint", applicant_side=None))
    with transaction(sessions) as session:
        repo.create_case(session=session, case_id=case_id, registration=body.model_dump(mode="json"),
                         at=datetime.now(SHANGHAI), actor={"id": "t", "name": "测试", "role": "staff"})
        case = session.get(Case, case_id)
        assert case is not None
        row = columns(written(clocks))
        if not keeps_clocks:
            row["clock"] = clocks.mediation.to_dict()
        for name, value in row.items():
            setattr(case, name, value)
        case.status = status or clocks.status
        session.add(case)
    return case_id


def row_of(sessions: SessionFactory, case_id: str) -> Case:
    with Session(sessions().get_bind()) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def store_2027(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        repo.save_calendar_year(session=session, table=YearTable.from_dict({"year": 2027, **TABLE}),
                                at=datetime.now(SHANGHAI), by="测试")


class Signals:
    """Stands in for the `calendar_loaded` signal: records whom it tells, and fails for the ids in `failing`."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.told: list[str] = []
        self.failing = failing or set()

    async def __call__(self, case_ids: list[str]) -> set[str]:
        self.told += case_ids
        return {case_id for case_id in case_ids if case_id in self.failing}


async def batch(sessions: SessionFactory, signals: Signals) -> Fanout:
    return await recompute_open_cases(db=Database(sessions), tell=signals, result=Fanout(), page=7)


class TestTheBatch:
    async def test_moved_deadlines_are_rewritten_and_only_their_workflows_told(self, sessions, fresh_2027):  # Reg 38
        moves, stays, late = (put_case(sessions, in_mediation(day)) for day in (MOVES, STAYS, LATE))
        store_2027(sessions)
        signals = Signals()
        result = await batch(sessions, signals)

        moved = row_of(sessions, moves)
        due = nth_working_day_after(MOVES, 30, TABLES)
        assert due > nth_working_day_after(MOVES, 30)  # the two weekday holidays moved it
        assert moved.due_date == due and moved.due_provisional is False
        assert moved.deadlines == written(in_mediation(MOVES), LOADED)["deadlines"]
        expired = next(d for d in moved.deadlines if d["kind"] == "deadline_expired")
        assert datetime.fromisoformat(expired["at"]) == midnight_after(due)  # Civil Code 203
        assert moved.clock == columns(written(in_mediation(MOVES), LOADED))["clock"]
        assert MediationClock.from_dict(moved.clock) == in_mediation(MOVES).mediation
        # exact now, and not moved: rewritten, its workflow sleeps on (its next warning is at the same instant)
        exact = row_of(sessions, late)
        assert exact.due_date == nth_working_day_after(LATE, 30, TABLES) and exact.due_provisional is False
        assert row_of(sessions, stays).deadlines == written(in_mediation(STAYS))["deadlines"]  # unchanged
        assert moves in signals.told and late not in signals.told and stays not in signals.told
        assert result.recomputed + result.left_to_workflows == result.open_cases >= 3
        assert result.rewritten >= 2 and result.woken >= 1

    async def test_a_row_that_keeps_no_clocks_is_left_to_its_workflow(self, sessions, fresh_2027):
        older = put_case(sessions, in_mediation(MOVES), keeps_clocks=False)
        before = row_of(sessions, older)
        store_2027(sessions)
        signals = Signals()
        result = await batch(sessions, signals)
        assert older in signals.told and result.left_to_workflows >= 1
        after = row_of(sessions, older)  # its workflow recomputes it
        assert (after.clock, after.deadlines, after.due_date) == (before.clock, before.deadlines, before.due_date)

    async def test_an_archived_case_is_not_recomputed(self, sessions, fresh_2027):  # PML 27: its file is bound
        archived = put_case(sessions, in_mediation(MOVES), status="archived")
        store_2027(sessions)
        signals = Signals()
        await batch(sessions, signals)
        assert archived not in signals.told
        assert row_of(sessions, archived).due_provisional is True

    async def test_a_moved_case_whose_workflow_was_not_told_is_told_when_the_year_is_loaded_again(
        self, sessions, fresh_2027
    ):
        moves = put_case(sessions, in_mediation(MOVES))
        store_2027(sessions)
        await batch(sessions, Signals(failing={moves}))
        row = row_of(sessions, moves)
        assert row.due_date == nth_working_day_after(MOVES, 30, TABLES)  # staff read the exact date at once
        assert row.clock["next_timer"] == written(in_mediation(MOVES))["next_timer"]  # what its workflow awaits

        again = Signals()
        await batch(sessions, again)  # the same table loaded again
        assert moves in again.told
        assert row_of(sessions, moves).clock == columns(written(in_mediation(MOVES), LOADED))["clock"]
        third = Signals()
        await batch(sessions, third)
        assert moves not in third.told


class TestRewritingRows:
    def test_a_row_its_workflow_wrote_meanwhile_is_not_overwritten(self, sessions, fresh_2027):
        mine, theirs = put_case(sessions, in_mediation(MOVES)), put_case(sessions, in_mediation(MOVES))
        with transaction(sessions) as session:
            rows = {r.case_id: r for r in open_case_clocks(session=session, limit=100_000)
                    if r.case_id in (mine, theirs)}
        extended = CaseClocks(status="in_mediation", entered_on=MOVES,
                              mediation=in_mediation(MOVES).mediation.extend(10, date(2026, 12, 1)))
        with transaction(sessions) as session:  # the workflow records an extension (Reg 38)
            case = session.get(Case, theirs)
            assert case is not None
            for name, value in columns(written(extended)).items():
                setattr(case, name, value)
            session.add(case)
        new = columns(written(in_mediation(MOVES), LOADED))
        with transaction(sessions) as session:
            done = rewrite_clocks(session=session, rows=[(mine, rows[mine].clock_text, new),
                                                         (theirs, rows[theirs].clock_text, new)])
        assert done == {mine}
        assert row_of(sessions, theirs).clock["case_clocks"] == extended.to_dict()
        ours = row_of(sessions, mine)
        assert (ours.clock, ours.due_date, ours.deadlines, ours.due_provisional) == (
            new["clock"], new["due_date"], new["deadlines"], False)

    def test_the_rows_read_back_as_they_were_written(self, sessions):
        case_id = put_case(sessions, in_mediation(MOVES))
        with transaction(sessions) as session:
            [row] = [r for r in open_case_clocks(session=session, limit=100_000) if r.case_id == case_id]
        expected = columns(written(in_mediation(MOVES)))
        assert row == ClockRow.as_written(case_id, expected) and row.holds(expected)
        assert not row.holds(columns(written(in_mediation(MOVES), LOADED)))


class TestThroughTheApi:
    async def test_loading_a_year_reports_what_the_batch_did(self, api: httpx.AsyncClient, sessions, fresh_2027):
        moves, late = put_case(sessions, in_mediation(MOVES)), put_case(sessions, in_mediation(LATE))
        response = await api.put("/calendar/years/2027", json=TABLE, headers=ADMIN)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["failed"] == []
        assert report["recomputed"] + report["left_to_workflows"] == report["open_cases"]
        assert report["signalled"] + report["not_running"] == report["woken"] + report["left_to_workflows"]
        assert report["recomputed"] >= 2 and report["rewritten"] >= 2 and report["woken"] >= 1
        assert report["not_running"] >= 1  # the moved case here has no workflow
        for case_id, accepted in ((moves, MOVES), (late, LATE)):
            case = (await api.get(f"/cases/{case_id}")).json()
            due = nth_working_day_after(accepted, 30, TABLES)
            assert case["provisional"] is False and case["mediation_clock"]["due_date"] == due.isoformat()
            assert all(d["provisional"] is False for d in case["deadlines"])
