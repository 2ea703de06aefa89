"""A case row's `next_deadline`: the soonest day among its pending deadlines, whatever their kind (the worklists'
order). domain/projection.py `columns` writes it with the other clock columns, so every path that writes them keeps
it in step: the workflow's projection (models/repo.py), the calendar's batch (api/services/calendar.py
`plan_page`, models/repo_clocks.py), and, for the rows already on file, the migration that adds it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.services.calendar import plan_page
from domain.clock import MediationClock, WorkingDayCalendar, YearTable
from domain.deadlines import CaseClocks, PaymentTerm
from domain.policy import ClockPolicy
from domain.projection import columns, next_deadline, project
from models.migrations import config, upgrade
from models.repo_clocks import ClockRow
from tests.oracle import is_working_day, nth_working_day_after
from tests.unit.test_migrations import empty  # noqa: F401 - a fixture

D = date
POLICY = ClockPolicy()
UNKNOWN_2027 = WorkingDayCalendar()
TABLE = {"holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []}  # invented: two weekdays off
LOADED_2027 = WorkingDayCalendar({2027: YearTable.from_dict({"year": 2027, **TABLE})})
REVISION = "e2b3c4d5f6a7"


def projected(clocks: CaseClocks, calendar: WorkingDayCalendar = UNKNOWN_2027, *,
              fired: frozenset[str] = frozenset()) -> dict[str, Any]:
    return project(clocks, fired=fired, calendar=calendar, policy=POLICY, hold_provisional=True,
                   payment_overdue=False)


def in_mediation(accepted_on: date) -> CaseClocks:
    return CaseClocks(status="in_mediation", entered_on=accepted_on,
                      mediation=MediationClock(POLICY.mediation_wd).start(accepted_on))


class TestTheProjection:
    def test_it_is_the_soonest_pending_deadline(self):  # Reg 38
        accepted = D(2026, 3, 2)
        row = columns(projected(in_mediation(accepted)))
        due = nth_working_day_after(accepted, 30)
        # the warnings name the due date too: the soonest day is the mediation deadline's
        assert row["next_deadline"] == due == min(date.fromisoformat(d["due_on"]) for d in row["deadlines"])

    def test_the_soonest_of_any_kind(self):  # PML 31, PML 33
        effective = D(2026, 5, 20)
        clocks = CaseClocks(status="performance", entered_on=effective, mediation=MediationClock(30).start(D(2026, 3, 2)),
                            effective_on=effective, payments=(PaymentTerm(0, "一次性支付", "1000.00", D(2026, 8, 31)),
                                                              PaymentTerm(1, "致歉", None, D(2026, 6, 10))))
        # PML 33: 30 days after the agreement took effect; a last day off (2026-06-19 is the Dragon Boat Festival)
        # moves to the next working day (Civil Code 203)
        last_day = effective + timedelta(days=30)
        while not is_working_day(last_day):
            last_day += timedelta(days=1)
        row = columns(projected(clocks))
        assert row["next_deadline"] == D(2026, 6, 10) < last_day  # the second term's deadline comes first
        paid_first = columns(projected(CaseClocks(**{**clocks.__dict__, "performed_terms": frozenset({1})})))
        assert paid_first["next_deadline"] == last_day

    def test_none_without_a_pending_deadline(self):
        closed = CaseClocks(status="failed", entered_on=D(2026, 5, 20), mediation=MediationClock(30).start(D(2026, 3, 2)))
        assert columns(projected(closed))["next_deadline"] is None
        assert next_deadline([]) is None

    def test_a_deadline_fired_is_no_longer_the_next(self):
        entered = D(2026, 11, 16)
        review = CaseClocks(status="under_review", entered_on=entered, mediation=MediationClock())
        assert columns(projected(review))["next_deadline"] == nth_working_day_after(entered, 3)
        fired = frozenset({f"review_reminder:{entered}"})
        assert columns(projected(review, fired=fired))["next_deadline"] == nth_working_day_after(entered, 5)

    def test_a_projection_without_it_written_before_still_gives_it(self):
        """The projection the workflow compares with the one it wrote last does not hold it: running cases write
        what they wrote, and the row's column is derived where the columns are made."""
        projection = projected(in_mediation(D(2026, 3, 2)))
        assert "next_deadline" not in projection
        assert columns(projection)["next_deadline"] is not None


class TestTheCalendarBatch:  # docs/clocks.md "Loading a year"
    def test_a_loaded_year_moves_it_with_the_deadline(self):  # Reg 38
        accepted = D(2026, 11, 26)  # 30 WD later crosses 4 and 5 January 2027
        written = columns(projected(in_mediation(accepted)))
        plan = plan_page([ClockRow.as_written("k1", written)], LOADED_2027)
        [(_, _, new)] = plan.rewrites
        tables = {2027: TABLE}
        assert new["next_deadline"] == nth_working_day_after(accepted, 30, tables) > written["next_deadline"]
        assert new["next_deadline"] == new["due_date"]

    def test_a_row_whose_next_deadline_is_missing_is_rewritten(self):
        """A row written before the column existed and not filled in (or filled in wrong) is put right by the next
        batch even when none of its deadlines moved."""
        written = columns(projected(in_mediation(D(2026, 3, 2))))
        stale = ClockRow.as_written("k1", {**written, "next_deadline": None})
        assert not stale.holds(written)
        [(_, _, new)] = plan_page([stale], UNKNOWN_2027).rewrites
        assert new["next_deadline"] == written["next_deadline"]
        assert plan_page([ClockRow.as_written("k1", written)], UNKNOWN_2027).rewrites == []


def test_the_migration_fills_it_in_for_the_cases_on_file(empty: Engine):  # noqa: F811
    before = ScriptDirectory.from_config(config()).get_revision(REVISION).down_revision
    upgrade(empty, str(before))
    rows = {
        "soonest": [{"kind": "deadline_warning", "due_on": "2026-12-30"}, {"kind": "judicial_reminder",
                                                                         "due_on": "2026-12-18"}],
        "none": [],
        "odd": [{"kind": "x"}, "not a deadline", {"kind": "y", "due_on": "2026-13-45"},
                {"kind": "z", "due_on": "2027-01-08"}],
    }
    with empty.begin() as connection:
        connection.execute(text("INSERT INTO committees (id, name, short_name, city, case_number_pattern, "
                                "number_patterns, policy) VALUES ('c1', '某委员会', '某', '上海市', 'x', '{}', '{}')"))
        for case_id, deadlines in rows.items():
            connection.execute(text(
                "INSERT INTO cases (id, number, committee_id, status, application_type, patient_name, "
                "institution_name, facts, claim_amount, requests, registration, mediators, signatures, search_text, "
                "due_provisional, clock_paused, deadlines, payment_overdue, version, agreement_version, "
                "registered_at, updated_at, consents, payments, institution_key) VALUES (:id, :id, 'c1', "
                "'in_mediation', 'joint', '王芳', '某医院', '事实', 100, '请求', '{}', '[]', '{}', '', "
                "false, false, :deadlines, false, 3, 0, '2026-11-20 01:00:00+00:00', '2026-11-20 01:00:00+00:00', "
                "'[]', '[]', '')"), {"id": case_id, "deadlines": json.dumps(deadlines)})
    upgrade(empty)
    with empty.connect() as connection:
        found = dict(connection.execute(text("SELECT id, next_deadline FROM cases")).all())
    assert {k: (str(v) if v is not None else None) for k, v in found.items()} == {
        "soonest": "2026-12-18", "none": None, "odd": "2027-01-08"}
