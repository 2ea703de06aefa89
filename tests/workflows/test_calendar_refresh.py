"""Reg 38: a loaded calendar year reaches every open case. Loading a year tells only the workflows whose next timer
moved (api/services/calendar.py); a case's workflow that was not told learns the stored year at its next action, so
that what it writes then is counted on the loaded year, never on the provisional count the year replaced."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from core.db import SessionFactory, transaction
from domain.clock import MediationClock, YearTable, calendar_digest
from domain.projection import RECOMPUTE_KEYS
from domain.time import SHANGHAI
from models import repo
from models.tables import CalendarYear, Case
from tests.factories import registration
from tests.histories import local_activities
from workflows.contracts import Actor, OpenDispute, StaffAction, workflow_id
from workflows.dispute import DisputeWorkflow

STAFF = Actor(id="u1", name="陈调解员", role="mediator")
# An invented 2027 table (the State Council's is not assumed).
TABLE = YearTable.from_dict({"year": 2027, "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []})


@pytest.fixture
def stored_2027(sessions: SessionFactory) -> Iterator[None]:
    """2027 is stored (loaded by an admin) while the test runs, and unknown again after it."""
    with transaction(sessions) as session:
        repo.save_calendar_year(session=session, table=TABLE, at=datetime.now(SHANGHAI), by="测试")
    try:
        yield
    finally:
        with transaction(sessions) as session:
            row = session.get(CalendarYear, 2027)
            if row is not None:
                session.delete(row)


def act(event: str, calendar: str = "", **payload) -> StaffAction:
    return StaffAction(event=event, payload=payload, actor=STAFF, calendar=calendar)


def stored_digest(sessions: SessionFactory) -> str:
    """What the API reads before an action and carries in it (api/services/cases.py)."""
    with sessions() as session:
        return repo.StoredCalendarCache().current(session=session).digest


NONE_LOADED = calendar_digest({"tables": []})


@pytest.mark.parametrize("carried", ["nothing", "the stored tables' digest", "the digest read before the load"])
async def test_a_workflow_that_was_not_told_counts_on_the_stored_year_at_its_next_action(
    client, worker, sessions, stored_2027, carried
):
    # a staff action carries the digest of the tables the API read. The stored tables': not the one the workflow
    # knows, so it reads them. Read before the year was loaded: the one the workflow knows, so it reads nothing
    # before the act, and the act's write, which checks it again, refuses and hands it the stored tables.
    seen = {"nothing": "", "the stored tables' digest": stored_digest(sessions),
            "the digest read before the load": NONE_LOADED}[carried]
    case_id = uuid.uuid4().hex
    handle = await client.start_workflow(  # started knowing no loaded year, as a case registered before the load
        DisputeWorkflow.run,
        OpenDispute(case_id=case_id, registration=registration(application_type="joint", applicant_side=None),
                    actor=STAFF, calendar={}),
        id=workflow_id(case_id), task_queue=worker,
    )
    await handle.execute_update(DisputeWorkflow.apply_event, act("submit_for_review", seen))
    await handle.execute_update(DisputeWorkflow.apply_event, act("accept", seen, mediators=["陈调解员"]))
    with sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.clock
        stored = repo.working_day_calendar(session=session)  # 2027 loaded
    exact = MediationClock.from_dict(case.clock).due_date(stored)
    assert exact is not None and not exact.provisional and exact.date.year == 2027  # Reg 38: 30 WD into 2027
    assert case.due_date == exact.date and case.due_provisional is False  # not the Monday-to-Friday count
    # and the row keeps what recomputes it, so the next loaded year is applied to it in the batch
    assert set(RECOMPUTE_KEYS) <= set(case.clock)


async def test_an_action_that_carries_the_calendar_the_workflow_knows_reads_no_year_tables(client, worker, sessions):
    case_id = uuid.uuid4().hex
    with sessions() as session:  # the workflow starts knowing the stored tables, as a case registered now does
        known = repo.StoredCalendarCache().current(session=session)
    handle = await client.start_workflow(
        DisputeWorkflow.run,
        OpenDispute(case_id=case_id, registration=registration(application_type="joint", applicant_side=None),
                    actor=STAFF, calendar=known.tables),
        id=workflow_id(case_id), task_queue=worker,
    )
    await handle.execute_update(DisputeWorkflow.apply_event, act("submit_for_review", known.digest))
    assert await local_activities(handle) == ["persist_transition"]  # the act's one write, no calendar read
    await handle.execute_update(DisputeWorkflow.apply_event, act("accept", "", mediators=["陈调解员"]))
    assert await local_activities(handle) == ["persist_transition", "calendar_if_changed", "persist_transition"]
