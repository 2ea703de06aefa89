"""The clock projection (domain/projection.py): what a case row shows of its clocks and what it keeps to recompute
them when a calendar year is loaded, without the case's workflow (docs/clocks.md, "Loading a year").

Expected dates come from tests/oracle.py, which walks the days one by one and shares no code with domain/clock.py.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from api.services.calendar import plan_page
from domain.clock import ClockError, MediationClock, WorkingDayCalendar, YearTable, end_of_day
from domain.deadlines import CaseClocks, PaymentTerm, after_firing, timers
from domain.policy import ClockPolicy
from domain.projection import RECOMPUTE_KEYS, columns, earliest, next_timer_moved, pending, project, stored
from models.repo_clocks import ClockRow, json_text
from tests.oracle import midnight_after, nth_working_day_after

D = date
POLICY = ClockPolicy()
UNKNOWN_2027 = WorkingDayCalendar()  # 2027 not loaded: counted Monday to Friday without its statutory holidays
# An invented 2027 table (the State Council's is not assumed): two weekday holidays after New Year's Day.
TABLE = {"holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []}
LOADED_2027 = WorkingDayCalendar({2027: YearTable.from_dict({"year": 2027, **TABLE})})
# Only New Year's Day, which the provisional count already skips (rev 2): no date moves.
NEW_YEAR_ONLY = WorkingDayCalendar({2027: YearTable.from_dict({"year": 2027, "holidays": ["2027-01-01"], "workdays": []})})
ACCEPTED = D(2026, 11, 26)  # 30 WD later is in 2027


def in_mediation(accepted_on: date = ACCEPTED, **changes: Any) -> CaseClocks:
    return CaseClocks(status="in_mediation", entered_on=accepted_on,
                      mediation=MediationClock(POLICY.mediation_wd).start(accepted_on), **changes)


def projected(clocks: CaseClocks, calendar: WorkingDayCalendar = UNKNOWN_2027, *, fired: frozenset[str] = frozenset(),
              policy: ClockPolicy = POLICY, hold: bool = True, overdue: bool = False) -> dict[str, Any]:
    return project(clocks, fired=fired, calendar=calendar, policy=policy, hold_provisional=hold,
                   payment_overdue=overdue)


def kept(projection: dict[str, Any]) -> dict[str, Any]:
    """The row's `clock` column as the database gives it back (JSON)."""
    return json.loads(json.dumps(columns(projection)["clock"]))


class TestCaseClocksRecord:
    """The case's clocks are kept with its row, exactly as the workflow holds them."""

    def test_a_case_in_performance_round_trips_exactly(self) -> None:
        clock = (MediationClock(30).start(D(2026, 3, 2)).pause(D(2026, 3, 10), "医疗损害鉴定：某鉴定所")
                 .resume(D(2026, 4, 20)).extend(10, D(2026, 5, 6)))
        clocks = CaseClocks(
            status="performance", entered_on=D(2026, 5, 20), mediation=clock, effective_on=D(2026, 5, 20),
            payments=(PaymentTerm(0, "一次性支付", "86500.50", D(2026, 6, 30), None),
                      PaymentTerm(1, "十个工作日内支付", None, None, 10), PaymentTerm(2, "另行协商")),
            performed_on=D(2026, 6, 1), judicial_applied=True, followup_done=True,
            performed_terms=frozenset({2, 0}), calendar_reminded_on=D(2026, 5, 21), appraisal_reminded_on=D(2026, 4, 7),
        )
        record = json.loads(json.dumps(clocks.to_dict()))  # through the database
        assert CaseClocks.from_dict(record) == clocks
        assert record["performed_terms"] == [0, 2]
        assert record["mediation"] == clock.to_dict()

    def test_a_case_just_registered_round_trips(self) -> None:
        clocks = CaseClocks(status="registered", entered_on=D(2026, 11, 26), mediation=MediationClock(20))
        assert CaseClocks.from_dict(json.loads(json.dumps(clocks.to_dict()))) == clocks

    @pytest.mark.parametrize("broken", [
        {"entered_on": "2026-11-26"},  # no status
        {"status": "in_mediation", "entered_on": "26/11/2026", "mediation": {}},
        {"status": "in_mediation", "entered_on": "2026-11-26",
         "mediation": {"accepted_on": "2026-11-26", "pauses": [{"started_on": "2026-11-20", "reason": "鉴定"}]}},
        {"status": "performance", "entered_on": "2026-11-26", "mediation": {}, "payments": [{"text": "支付"}]},
    ], ids=["no-status", "bad-date", "pause-before-acceptance", "term-without-index"])
    def test_a_record_that_is_not_one_is_refused(self, broken: dict[str, Any]) -> None:
        with pytest.raises(ClockError):
            CaseClocks.from_dict(broken)


class TestProjection:
    def test_shows_the_pending_deadlines_earliest_first_without_the_fired_ones(self) -> None:  # Reg 38
        clocks = in_mediation()
        every = timers(clocks, calendar=UNKNOWN_2027, policy=POLICY)
        fired = frozenset({every[0].key})
        shown = projected(clocks, fired=fired)
        assert shown["deadlines"] == [t.to_dict() for t in every[1:]]
        assert shown["fired"] == [every[0].key]
        assert shown["next_timer"] == {"key": every[1].key, "at": every[1].at.isoformat()}
        assert earliest(clocks, fired=fired, calendar=UNKNOWN_2027, policy=POLICY, hold_provisional=True) == (
            every[1].key, every[1].at)

    def test_the_due_date_of_a_period_reaching_an_unknown_year_is_provisional(self) -> None:  # Reg 38, rev 2
        shown = projected(in_mediation())
        due = nth_working_day_after(ACCEPTED, 30)
        assert shown["due_date"] == due.isoformat() and shown["provisional"] is True
        assert shown["ledger"] == in_mediation().mediation.to_dict() and shown["paused"] is False
        assert shown["payment_overdue"] is False and shown["effective_on"] is None

    def test_keeps_what_recomputes_it(self) -> None:
        clocks = in_mediation()
        shown = projected(clocks, policy=ClockPolicy(mediation_wd=20), hold=False, overdue=True)
        assert shown["case_clocks"] == clocks.to_dict() and shown["hold_provisional"] is False
        assert shown["policy"] == ClockPolicy(mediation_wd=20).to_dict() and shown["payment_overdue"] is True
        assert json.loads(json.dumps(shown)) == shown  # JSON-safe, as an activity's payload and a JSON column

    def test_nothing_pending_has_no_next_timer(self) -> None:
        clocks = CaseClocks(status="failed", entered_on=D(2026, 11, 26), mediation=MediationClock())
        assert projected(clocks)["next_timer"] is None and projected(clocks)["deadlines"] == []
        assert earliest(clocks, fired=(), calendar=UNKNOWN_2027, policy=POLICY, hold_provisional=True) is None

    def test_the_row_keeps_the_ledger_and_what_recomputes_it(self) -> None:
        shown = projected(in_mediation())
        row = columns(shown)
        assert {k: row["clock"][k] for k in ("budget", "accepted_on", "pauses", "extensions")} == shown["ledger"]
        assert all(row["clock"][k] == shown[k] for k in RECOMPUTE_KEYS)
        assert MediationClock.from_dict(row["clock"]) == in_mediation().mediation  # readers of the ledger
        assert row["due_date"] == nth_working_day_after(ACCEPTED, 30) and row["due_provisional"] is True
        assert row["deadlines"] == shown["deadlines"]


class TestRecomputedFromTheRow:
    """Loading a year recomputes a case's projection from its row exactly as its workflow would."""

    def test_a_loaded_year_makes_the_due_date_exact_and_moves_it_past_the_new_holidays(self) -> None:  # Reg 38
        row = kept(projected(in_mediation()))
        again = stored(row, payment_overdue=False)
        assert again is not None
        now = again.project(LOADED_2027)
        tables = {2027: TABLE}
        due = nth_working_day_after(ACCEPTED, 30, tables)
        assert due == nth_working_day_after(ACCEPTED, 30) + timedelta(days=4)  # 4 and 5 January off: Mon, Tue
        assert now["due_date"] == due.isoformat() and now["provisional"] is False
        assert now == projected(in_mediation(), LOADED_2027)  # what the workflow computes with the new calendar
        expired = next(d for d in now["deadlines"] if d["kind"] == "deadline_expired")
        assert datetime.fromisoformat(expired["at"]) == midnight_after(due)  # Civil Code 203

    def test_a_case_keeps_the_policy_it_started_with(self) -> None:  # Reg 38, domain/policy.py
        shorter = ClockPolicy(mediation_wd=20)
        clocks = CaseClocks(status="in_mediation", entered_on=ACCEPTED, mediation=MediationClock(20).start(ACCEPTED))
        again = stored(kept(projected(clocks, policy=shorter)), payment_overdue=False)
        assert again is not None and again.policy == shorter
        assert again.project(LOADED_2027)["due_date"] == nth_working_day_after(ACCEPTED, 20, {2027: TABLE}).isoformat()

    def test_fired_timers_stay_fired(self) -> None:
        first = timers(in_mediation(), calendar=UNKNOWN_2027, policy=POLICY)[0]  # the 5-WD warning, fired
        again = stored(kept(projected(in_mediation(), fired=frozenset({first.key}))), payment_overdue=False)
        assert again is not None
        now = again.project(NEW_YEAR_ONLY)  # the due date does not move: the warning keeps its key
        assert now["fired"] == [first.key]
        assert [d["kind"] for d in now["deadlines"]] == ["deadline_warning", "deadline_expired"]
        assert now["next_timer"]["key"] == f"deadline_warning:1:{now['due_date']}"

    def test_a_row_written_before_rows_kept_their_clocks_is_left_to_its_workflow(self) -> None:
        ledger_only = in_mediation().mediation.to_dict()
        assert stored(ledger_only, payment_overdue=False) is None
        assert stored(None, payment_overdue=False) is None


class TestWhichWorkflowsAreWoken:
    """Only a workflow whose earliest pending timer moved must be told: the others wake when they meant to."""

    def test_a_moved_due_date_moves_the_next_warning(self) -> None:  # Reg 38
        before = projected(in_mediation())
        after = projected(in_mediation(), LOADED_2027)
        assert next_timer_moved(before["next_timer"], after)

    def test_an_exact_date_equal_to_the_provisional_one_moves_no_timer(self) -> None:  # rev 2
        before = projected(in_mediation())
        after = projected(in_mediation(), NEW_YEAR_ONLY)
        assert after["provisional"] is False and before["provisional"] is True
        assert after["due_date"] == before["due_date"]
        assert columns(after) != columns(before)  # the row changes (the dates are exact now) ...
        assert not next_timer_moved(before["next_timer"], after)  # ... and its workflow sleeps on

    def test_a_held_case_whose_exact_deadline_has_passed_is_woken_to_fail_at_once(self) -> None:  # Reg 38, rev 2
        # accepted 2026-11-20: the provisional due date (2027-01-04) arrived, the case was held, admins were asked
        clocks = in_mediation(D(2026, 11, 20))
        hold = next(t for t in timers(clocks, calendar=UNKNOWN_2027, policy=POLICY) if t.holds)
        assert hold.due_on == nth_working_day_after(D(2026, 11, 20), 30)
        fired = frozenset(t.key for t in timers(clocks, calendar=UNKNOWN_2027, policy=POLICY) if t.at <= hold.at)
        held = after_firing(clocks, hold)
        before = projected(held, fired=fired)
        assert before["next_timer"]["key"].startswith("calendar_needed:")
        again = stored(kept(before), payment_overdue=False)
        assert again is not None
        after = again.project(NEW_YEAR_ONLY)
        assert after["next_timer"] == {"key": f"deadline_expired:{hold.due_on}",
                                       "at": end_of_day(hold.due_on).isoformat()}  # raises the event now
        assert next_timer_moved(before["next_timer"], after)

    def test_the_same_instant_written_otherwise_is_not_a_move(self) -> None:
        after = projected(in_mediation())
        same = {"key": after["next_timer"]["key"],
                "at": datetime.fromisoformat(after["next_timer"]["at"]).astimezone().isoformat()}
        assert not next_timer_moved(same, after)
        assert next_timer_moved(None, after)


class TestPlanOfAPage:
    """A page of rows recomputed: which rows are rewritten, which workflows are told."""

    def row(self, case_id: str, clock: dict[str, Any] | None) -> ClockRow:
        """A row whose `clock` column holds `clock` (None: SQL NULL)."""
        row = ClockRow.as_written(case_id, {**columns(projected(in_mediation())), "clock": clock})
        return row if clock is not None else ClockRow(case_id, None, {**row.columns, "clock": None}, "[]")

    def stored_row(self, case_id: str, projection: dict[str, Any]) -> ClockRow:
        return ClockRow.as_written(case_id, columns(projection))

    def test_each_row_is_rewritten_woken_or_left_to_its_workflow(self) -> None:
        a = projected(in_mediation(D(2026, 11, 26)))
        b = projected(in_mediation(D(2026, 11, 20)))
        exact = projected(in_mediation(D(2026, 3, 2)))  # its period ends in 2026: nothing changes
        broken = {**kept(a), "case_clocks": {"status": "in_mediation"}}
        rows = [self.stored_row("a", a), self.stored_row("b", b), self.stored_row("exact", exact),
                self.row("older", in_mediation().mediation.to_dict()), self.row("broken", broken),
                self.row("never", None)]
        # New Year's Day only: the dates become exact (rows rewritten), none moves (no workflow told)
        plan = plan_page(rows, NEW_YEAR_ONLY)
        assert [case_id for case_id, _, _ in plan.rewrites] == ["a", "b"]
        assert plan.rewrites[0][2] == columns(projected(in_mediation(D(2026, 11, 26)), NEW_YEAR_ONLY))
        assert plan.moved == [] and plan.left == ["older", "broken", "never"]
        # two more holidays: both due dates move, and with them the next warnings
        plan = plan_page(rows, LOADED_2027)
        assert [case_id for case_id, _, _ in plan.rewrites] == ["a", "b"] and plan.moved == ["a", "b"]
        # a moved case not told keeps, in its row, the timer its workflow still sleeps until
        assert plan.untold_columns["b"]["clock"]["next_timer"] == b["next_timer"]
        assert plan.untold_columns["b"]["due_date"] == plan.rewrites[1][2]["due_date"]
        assert plan.untold({"b"}, {"a", "b"}) == [("b", json_text(plan.rewrites[1][2]["clock"]), plan.untold_columns["b"])]


def test_pending_is_what_the_workflow_sleeps_on() -> None:
    clocks = in_mediation()
    every = timers(clocks, calendar=LOADED_2027, policy=POLICY)
    left = pending(clocks, fired={every[0].key}, calendar=LOADED_2027, policy=POLICY, hold_provisional=True)
    assert left == every[1:]
