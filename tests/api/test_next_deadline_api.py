"""A case row's `next_deadline` (the soonest pending deadline, the worklists' order) is kept in step by every path that
writes the clocks, on SQLite and on PostgreSQL: the case's workflow after each action (its projection, through
models/repo.py), and the calendar's batch when a year is loaded (models/repo_clocks.py).
"""

from __future__ import annotations

from datetime import date

import httpx

from core.db import SessionFactory
from tests.api.test_calendar_batch import (  # noqa: F401 - fresh_2027 is a fixture
    MOVES,
    TABLES,
    Signals,
    batch,
    fresh_2027,
    in_mediation,
    put_case,
    row_of,
    store_2027,
)
from tests.factories import WITHDRAWAL, registration
from tests.http import case_of, ok
from tests.oracle import nth_working_day_after


async def soonest_shown(api: httpx.AsyncClient, case_id: str) -> date | None:
    """The soonest day among the deadlines GET /cases/{id} shows."""
    days = [date.fromisoformat(d["due_on"]) for d in (await case_of(api, case_id))["deadlines"]]
    return min(days, default=None)


async def test_the_workflow_writes_it_after_each_action(api: httpx.AsyncClient, sessions: SessionFactory):
    one_side = (await api.post("/cases", json=registration())).json()["id"]
    await ok(api, one_side, "request-consent", {"method": "letter"})
    waiting = row_of(sessions, one_side)
    assert waiting.next_deadline == await soonest_shown(api, one_side) is not None  # PML 17: the consent deadline

    joint = (await api.post("/cases", json=registration(application_type="joint", applicant_side=None))).json()["id"]
    assert row_of(sessions, joint).next_deadline is None  # registered: no clock runs
    await ok(api, joint, "submit-for-review")
    reviewed = row_of(sessions, joint)
    assert reviewed.next_deadline == await soonest_shown(api, joint)  # the review's reminder
    await ok(api, joint, "accept", {"mediators": ["陈调解员"]})
    accepted = row_of(sessions, joint)
    assert accepted.next_deadline == accepted.due_date == await soonest_shown(api, joint)  # Reg 38
    assert accepted.next_deadline > reviewed.next_deadline
    await ok(api, joint, "terminate", WITHDRAWAL)  # PML 23: no deadline is left
    assert row_of(sessions, joint).next_deadline is None


async def test_the_calendar_batch_moves_it_with_the_deadline(sessions: SessionFactory, fresh_2027):  # noqa: F811
    case_id = put_case(sessions, in_mediation(MOVES))  # Reg 38: 30 WD after MOVES reach January 2027
    provisional = row_of(sessions, case_id)
    assert provisional.next_deadline == provisional.due_date and provisional.due_provisional
    store_2027(sessions)
    await batch(sessions, Signals())
    exact = row_of(sessions, case_id)
    assert exact.next_deadline == exact.due_date == nth_working_day_after(MOVES, 30, TABLES)
    assert exact.next_deadline > provisional.next_deadline  # the year's two weekday holidays
