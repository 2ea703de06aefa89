"""What a committee reports upward: case statistics for a period (GET /statistics) and their exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.access import allow, case_scope
from api.deps import ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES
from api.services import statistics
from domain.access import Caller
from domain.statistics import MAX_YEARS
from models.schemas_statistics import StatisticsQuery, StatisticsReport

router = APIRouter(route_class=ReleasingRoute, prefix="/statistics", tags=["statistics"], responses=ERROR_RESPONSES)

DESCRIPTION = f"""
The figures a committee reports upward — monthly, quarterly, yearly — for the period from `from` to `to` (days in
Asia/Shanghai, both included; the current month by default; at most {MAX_YEARS} years), counted by the database from
the cases' records, in all (`total`) and per group (`group_by`: `month`, `committee`, `institution`,
`department`, `kind` of dispute, institution `level`, `harm`).

Each case counts in the period by the day of what is counted: an application by its registration, an acceptance
by its decision, an outcome by the day mediation ended (the agreement took effect, Reg 39; the case was rejected,
failed or terminated), an extension, appraisal, consultation or follow-up by the day it was recorded; `open_at_end`,
`pending_at_end` and `overdue_payments` are taken at the end of the period (by month: of each month), `open_at_start`
and `pending_at_start` at its start. How the period's agreements stood — performed, referred to court, still being
performed, paid — is also as of the period's end, so a past period's figures do not change when read again. Working
days are counted with the working-day calendar, the appraisals' time apart (Reg 38). Rates name what they divide.

Reach: a director or a committee's auditor counts their committee; a city's auditor the committees of their city;
an admin every committee. `committee_id` narrows to one committee (outside your reach: 403); `city` to a city's
committees within your reach. Every figure: docs/statistics.md.

Each group carries its `share` of the total (占比). With `compare=true` the report adds the same period a year
earlier (`same_period_last_year`, 上年同期) with the change to this one (同比: relative for counts and amounts, in
points of percentage for rates) and, for a period within one year, the year to date (`year_to_date`, 本年累计).
"""


@router.get("", summary="Case statistics for a period: applications, acceptances, outcomes, rates, working days, "
            "deadlines kept, activity and amounts, in all and by month, committee, institution, department, kind",
            description=DESCRIPTION)
def statistics_report(
    session: SessionDep,
    caller: Annotated[Caller, allow("statistics.read")],
    query: Annotated[StatisticsQuery, Query()],
) -> StatisticsReport:
    assert query.period_from is not None and query.period_to is not None  # filled in by the query's validator
    return statistics.report(session=session, scope=case_scope(session, caller), committee_id=query.committee_id,
                             city=query.city, period_from=query.period_from, period_to=query.period_to,
                             group_by=query.group_by, compare=query.compare)
