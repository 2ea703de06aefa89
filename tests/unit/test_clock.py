"""The working-day calendar and the mediation clock (shared/DOMAIN.md, "Time: the clocks"), checked against
domain/clock.py. Expected dates were counted by hand on the 2026 official calendar; comments show the count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.clock import (
    CalendarTableError,
    ClockError,
    CountAnswer,
    DateAnswer,
    DayAnswer,
    MediationClock,
    Segment,
    WorkingDayCalendar,
    YearTable,
    day_ended,
    end_of_day,
    legal_date,
    parse_year_table,
)
from domain.holidays import statutory_holidays
from domain.time import SHANGHAI
from tests.oracle import statutory_holidays as oracle_holidays

D = date
CAL = WorkingDayCalendar()

# An invented 2027 schedule (the State Council's is not published yet): New Year's Day off, Spring Festival
# off from Monday 2027-02-08 to Friday 2027-02-12, and Saturday 2027-02-20 a make-up working day.
TABLE_2027_CSV = """date,kind,name
2027-01-01,holiday,元旦
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-12,holiday,春节
2027-02-20,workday,春节调休
"""
TABLE_2027 = parse_year_table(TABLE_2027_CSV, fmt="csv")
CAL_2027 = CAL.with_table(TABLE_2027)


def due(start: date, n: int = 30, calendar: WorkingDayCalendar = CAL) -> date:
    return calendar.add_working_days(start, n).date


class TestCivilCode201Counting:
    def test_the_start_day_does_not_count(self) -> None:
        # Civil Code 201: one working day from Monday 2026-03-02 is Tuesday 2026-03-03
        assert CAL.add_working_days(D(2026, 3, 2), 1) == DateAnswer(D(2026, 3, 3), provisional=False)

    def test_counting_from_a_friday_skips_the_weekend(self) -> None:
        # Civil Code 201
        assert due(D(2026, 3, 6), 1) == D(2026, 3, 9)

    def test_working_days_after_counts_the_end_day_but_not_the_start_day(self) -> None:
        # Civil Code 201: (Mon 03-02, Fri 03-06] holds Tue, Wed, Thu, Fri
        assert CAL.working_days_after(D(2026, 3, 2), D(2026, 3, 6)) == CountAnswer(4, provisional=False)
        assert CAL.working_days_after(D(2026, 3, 2), D(2026, 3, 2)).days == 0
        assert CAL.working_days_after(D(2026, 3, 6), D(2026, 3, 2)).days == 0

    def test_zero_working_days_after_a_day_is_that_day(self) -> None:
        assert CAL.add_working_days(D(2026, 3, 7), 0) == DateAnswer(D(2026, 3, 7), provisional=False)

    def test_a_negative_count_is_refused(self) -> None:
        with pytest.raises(ValueError):
            CAL.add_working_days(D(2026, 3, 2), -1)

    def test_the_period_ends_at_24_00_shanghai(self) -> None:
        # Civil Code 203: the last day ends at 24:00
        end = end_of_day(D(2026, 3, 9))
        assert end == datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI)
        assert end.utcoffset() == timedelta(hours=8)
        assert end == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
        assert end == datetime(2026, 3, 10, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        assert end.isoformat() == "2026-03-10T00:00:00+08:00"

    def test_a_period_that_ran_out_is_dated_on_its_last_day(self) -> None:
        # Civil Code 203, Reg 38 (rev 2): 24:00 of the last day is that day, though written as the next day's 00:00
        assert day_ended(end_of_day(D(2026, 3, 9))) == D(2026, 3, 9)
        assert day_ended(end_of_day(D(2026, 12, 31))) == D(2026, 12, 31)  # not a day of the next year
        assert day_ended(datetime(2026, 3, 9, 16, 0, 1, tzinfo=UTC)) == D(2026, 3, 10)  # any other instant: its day

    def test_an_instant_falls_on_its_shanghai_day(self) -> None:
        assert legal_date(datetime(2026, 1, 19, 16, 30, tzinfo=UTC)) == D(2026, 1, 20)
        with pytest.raises(ValueError):
            legal_date(datetime(2026, 1, 19, 16, 30))

    def test_a_datetime_is_not_taken_for_a_date(self) -> None:
        # its calendar day would depend on a time zone nobody chose
        with pytest.raises(TypeError):
            CAL.is_working_day(datetime(2026, 3, 2, 12, 0))


class TestWorkedExamples:
    def test_accepted_2026_01_20_is_due_2026_03_09(self) -> None:
        # Reg 38, DOMAIN.md: Spring Festival excluded, make-up days 2026-02-14 and 2026-02-28 counted
        assert CAL.add_working_days(D(2026, 1, 20), 30) == DateAnswer(D(2026, 3, 9), provisional=False)
        clock = MediationClock().start(D(2026, 1, 20))
        assert clock.due_date(CAL) == DateAnswer(D(2026, 3, 9), provisional=False)
        assert clock.deadline(CAL) == datetime(2026, 3, 10, tzinfo=SHANGHAI)  # Civil Code 203

    def test_accepted_2026_09_15_is_due_2026_11_02(self) -> None:
        # Reg 38, DOMAIN.md: National Day excluded, make-up days 2026-09-20 and 2026-10-10 counted
        assert CAL.add_working_days(D(2026, 9, 15), 30) == DateAnswer(D(2026, 11, 2), provisional=False)
        assert MediationClock().start(D(2026, 9, 15)).due_date(CAL) == DateAnswer(D(2026, 11, 2), False)


class TestOfficialCalendar:
    def test_spring_festival_days_are_not_working_days(self) -> None:
        for day in range(15, 24):  # 2026-02-15 .. 2026-02-23
            assert CAL.is_working_day(D(2026, 2, day)) == DayAnswer(working=False, provisional=False)
        # the working day after Saturday 2026-02-14 is Tuesday 2026-02-24
        assert due(D(2026, 2, 14), 1) == D(2026, 2, 24)

    def test_a_make_up_saturday_counts_as_a_working_day(self) -> None:
        # 调休: Saturday 2026-02-14 is worked, so it is the working day after Friday 2026-02-13
        assert D(2026, 2, 14).weekday() == 5
        assert CAL.is_working_day(D(2026, 2, 14)).working
        assert due(D(2026, 2, 13), 1) == D(2026, 2, 14)

    def test_national_day_make_up_days_count(self) -> None:
        # 调休: Sunday 2026-09-20 and Saturday 2026-10-10
        assert due(D(2026, 9, 18), 1) == D(2026, 9, 20)
        assert due(D(2026, 10, 9), 1) == D(2026, 10, 10)

    def test_national_day_is_skipped(self) -> None:
        # 2026-10-01 .. 2026-10-07 are off: the working day after 2026-09-30 is Thursday 2026-10-08
        assert due(D(2026, 9, 30), 1) == D(2026, 10, 8)

    def test_a_deadline_that_would_fall_on_a_holiday_moves_to_the_next_working_day(self) -> None:
        # Civil Code 203, Reg 38. Accepted Thursday 2026-08-20: counting Monday to Friday only, the 30th WD
        # would be 2026-10-01, National Day. On the official calendar 2026-09-20 is gained and 2026-09-25
        # lost, so 29 WD are used by 2026-09-30, and the 30th is the first working day after the holiday.
        weekdays_only = WorkingDayCalendar({2026: YearTable(2026)})  # an empty 2026 table: Mon–Fri
        assert due(D(2026, 8, 20), calendar=weekdays_only) == D(2026, 10, 1)
        assert CAL.working_days_after(D(2026, 8, 20), D(2026, 9, 30)).days == 29
        assert due(D(2026, 8, 20)) == D(2026, 10, 8)

    def test_the_first_layer_is_chinesecalendar_for_every_day_it_knows(self) -> None:
        day = D(2004, 1, 1)
        while day <= D(2026, 12, 31):
            assert CAL.is_working_day(day) == DayAnswer(chinese_calendar.is_workday(day), False), day
            day += timedelta(days=1)

    def test_working_days_in_a_known_year(self) -> None:
        # the year's working days, as the package lists them
        expected = len(chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31)))
        assert CAL.working_days_after(D(2025, 12, 31), D(2026, 12, 31)) == CountAnswer(expected, False)


class TestUnknownYear:
    def test_2027_is_counted_monday_to_friday_without_its_statutory_holidays_and_provisional(self) -> None:
        # rev 2, 《全国年节及纪念日放假办法》 art 2: New Year's Day (a Friday in 2027) is off even before the
        # State Council publishes 2027; an ordinary Friday works and a Saturday does not.
        assert CAL.is_working_day(D(2027, 1, 1)) == DayAnswer(working=False, provisional=True)
        assert CAL.is_working_day(D(2027, 1, 8)) == DayAnswer(working=True, provisional=True)
        assert CAL.is_working_day(D(2027, 1, 2)) == DayAnswer(working=False, provisional=True)  # a Saturday
        assert CAL.layer(2027) == "provisional"
        assert CAL.provisional_years_in(D(2026, 12, 1), D(2028, 1, 31)) == [2027, 2028]

    @pytest.mark.parametrize("year", [2025, 2026])
    def test_every_statutory_holiday_is_a_day_off_in_the_years_the_official_calendar_knows(self, year: int) -> None:
        # 《全国年节及纪念日放假办法》 art 2 (2024 revision, in force 2025): what the rule derives for an unknown year
        # is, for every year it has been in force and published, a day off of the State Council's schedule
        days = statutory_holidays(year)
        assert len(days) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3 (Mid-Autumn may share a day with National Day)
        for day, name in days:
            assert chinese_calendar.is_holiday(day) and not chinese_calendar.is_workday(day), (day, name)

    def test_the_statutory_holidays_of_2027_come_from_the_lunar_calendar(self) -> None:
        # Spring Festival 2027: Eve 02-05, days 1–3 02-06..08; Qingming 04-05; Dragon Boat 06-09; Mid-Autumn 09-15
        assert {d for d, _ in statutory_holidays(2027)} == oracle_holidays(2027) == {
            D(2027, 1, 1), D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8), D(2027, 4, 5),
            D(2027, 5, 1), D(2027, 5, 2), D(2027, 6, 9), D(2027, 9, 15), D(2027, 10, 1), D(2027, 10, 2),
            D(2027, 10, 3)}
        assert CAL.name_of(D(2027, 2, 6)) == "春节" and CAL.name_of(D(2027, 2, 9)) is None

    @pytest.mark.parametrize("year", range(2027, 2060))
    def test_the_rule_agrees_with_an_independent_derivation(self, year: int) -> None:
        assert {d for d, _ in statutory_holidays(year)} == oracle_holidays(year)

    def test_a_case_accepted_in_december_2026_that_reaches_2027_is_provisional(self) -> None:
        # Reg 38, DOMAIN.md rev 2. Accepted 2026-12-15: 12 WD in (12-15, 12-31], then 18 in 2027, New Year's
        # Day skipped: 01-04..08 (5), 01-11..15 (10), 01-18..22 (15), 01-25..27 (18).
        clock = MediationClock().start(D(2026, 12, 15))
        assert CAL.working_days_after(D(2026, 12, 15), D(2026, 12, 31)) == CountAnswer(12, False)
        assert clock.due_date(CAL) == DateAnswer(D(2027, 1, 27), provisional=True)

    def test_loading_the_2027_table_makes_the_same_deadline_final_and_exact(self) -> None:
        # Reg 38. The table has New Year's Day off too: the same day, now exact.
        clock = MediationClock().start(D(2026, 12, 15))
        assert clock.due_date(CAL_2027) == DateAnswer(D(2027, 1, 27), provisional=False)
        assert CAL_2027.layer(2027) == "table"
        assert CAL_2027.provisional_years_in(D(2026, 12, 1), D(2027, 12, 31)) == []

    def test_the_table_is_what_makes_a_2027_make_up_saturday_a_working_day(self) -> None:
        # 调休 in the loaded table: Saturday 2027-02-20
        assert CAL.add_working_days(D(2027, 2, 19), 1) == DateAnswer(D(2027, 2, 22), provisional=True)
        assert CAL_2027.add_working_days(D(2027, 2, 19), 1) == DateAnswer(D(2027, 2, 20), provisional=False)
        # Spring Festival 2027: provisionally Eve (02-05) and days 1–3 (02-06..08) only; the table adds 02-09..12
        assert due(D(2027, 2, 4), 1, CAL) == D(2027, 2, 9)
        assert due(D(2027, 2, 5), 1, CAL_2027) == D(2027, 2, 15)

    def test_a_period_entirely_in_a_known_year_is_not_provisional(self) -> None:
        assert not CAL.add_working_days(D(2026, 11, 2), 10).provisional
        assert not CAL.working_days_after(D(2026, 11, 2), D(2026, 12, 31)).provisional

    def test_a_loaded_table_overrides_chinesecalendar_for_its_year(self) -> None:
        # e.g. a correction published after the package was released: Monday 2026-03-09 made a holiday
        corrected = CAL.with_table(YearTable(2026, holidays=frozenset({D(2026, 3, 9)})))
        assert corrected.layer(2026) == "table"
        assert due(D(2026, 3, 6), 1, corrected) == D(2026, 3, 10)
        # the whole year is the table's: the package's Spring Festival is gone from it
        assert corrected.is_working_day(D(2026, 2, 16)) == DayAnswer(working=True, provisional=False)

    def test_the_calendar_is_immutable(self) -> None:
        assert CAL.layer(2027) == "provisional"  # CAL_2027 was made from CAL
        assert CAL.known_years() == tuple(range(2004, 2027))
        assert CAL_2027.known_years() == tuple(range(2004, 2028))
        with pytest.raises(ValueError):
            WorkingDayCalendar({2028: TABLE_2027})

    def test_the_calendar_travels_as_json(self) -> None:
        data = json.loads(json.dumps(CAL_2027.to_dict()))
        assert WorkingDayCalendar.from_dict(data) == CAL_2027


class TestYearTableFiles:
    def test_a_csv_table_is_read(self) -> None:
        assert TABLE_2027.year == 2027
        assert D(2027, 1, 1) in TABLE_2027.holidays and len(TABLE_2027.holidays) == 6
        assert TABLE_2027.workdays == frozenset({D(2027, 2, 20)})
        assert TABLE_2027.name_of(D(2027, 2, 20)) == "春节调休"

    def test_the_name_column_is_optional(self) -> None:
        table = parse_year_table("\ufeffdate,kind\n2027-01-01,holiday\n\n", fmt="csv")  # BOM, blank line
        assert table == YearTable(2027, holidays=frozenset({D(2027, 1, 1)}))

    def test_a_json_table_is_read(self) -> None:
        text = '{"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-02-20"]}'
        table = parse_year_table(text, fmt="json")
        assert table == YearTable(2027, frozenset({D(2027, 1, 1)}), frozenset({D(2027, 2, 20)}))

    def test_to_json_reads_back_the_same_table(self) -> None:
        assert parse_year_table(TABLE_2027.to_json(), fmt="json") == TABLE_2027
        assert json.loads(TABLE_2027.to_json())["names"]["2027-01-01"] == "元旦"

    def test_csv_problems_name_the_line_the_field_and_the_reason(self) -> None:
        text = (
            "date,kind,name\n"  # line 1
            "2027-01-01,holiday,元旦\n"  # 2
            "2027-13-01,holiday\n"  # 3: no such month
            "2027-02-20,workday\n"  # 4
            "2027-02-20,holiday\n"  # 5: both
            "2027-01-01,holiday\n"  # 6: duplicate
            "2028-01-01,holiday\n"  # 7: another year
            "2027-03-01,vacation\n"  # 8: unknown kind
            "2027/03/02,holiday\n"  # 9: not ISO
            "2027-03-03\n"  # 10: too few columns
        )
        with pytest.raises(CalendarTableError) as caught:
            parse_year_table(text, fmt="csv")
        found = {(p.line, p.field): p.reason for p in caught.value.problems}
        assert set(found) == {
            (3, "date"),
            (5, "kind"),
            (6, "date"),
            (7, "date"),
            (8, "kind"),
            (9, "date"),
            (10, None),
        }
        assert "YYYY-MM-DD" in found[(3, "date")]
        assert "both workday (line 4) and holiday" in found[(5, "kind")]
        assert "duplicate of line 2" in found[(6, "date")]
        assert "mixed years" in found[(7, "date")]
        assert "vacation" in found[(8, "kind")]
        assert "line 9, field 'date'" in str(caught.value)
        assert isinstance(caught.value, ValueError)

    @pytest.mark.parametrize("text", ["", "  \n", "date,kind\n"])
    def test_an_empty_file_is_refused(self, text: str) -> None:
        with pytest.raises(CalendarTableError, match=r"empty|no dates"):
            parse_year_table(text, fmt="csv")

    def test_a_wrong_header_is_refused(self) -> None:
        with pytest.raises(CalendarTableError) as caught:
            parse_year_table("day,type\n2027-01-01,holiday\n", fmt="csv")
        assert [(p.line, p.field) for p in caught.value.problems] == [(1, "header")]

    def test_a_file_for_another_year_than_expected_is_refused(self) -> None:
        with pytest.raises(CalendarTableError, match="outside the year 2028"):
            parse_year_table(TABLE_2027_CSV, fmt="csv", year=2028)
        with pytest.raises(CalendarTableError, match="expected 2028"):
            parse_year_table(TABLE_2027.to_json(), fmt="json", year=2028)

    def test_json_problems_name_the_field_and_the_reason(self) -> None:
        text = json.dumps(
            {
                "year": 2027,
                "holidays": ["2027-01-01", "2026-12-31", "2027-01-01", "1 Jan"],
                "workdays": ["2027-01-01"],
                "note": "?",
            }
        )
        with pytest.raises(CalendarTableError) as caught:
            parse_year_table(text, fmt="json")
        found = {p.field: p.reason for p in caught.value.problems}
        assert "outside the year 2027" in found["holidays[1]"]
        assert "duplicate of holidays[0]" in found["holidays[2]"]
        assert "YYYY-MM-DD" in found["holidays[3]"]
        assert "both a holiday and a workday" in found["workdays[0]"]
        assert found["note"] == "unknown key"

    @pytest.mark.parametrize(
        ("text", "field"),
        [
            ('{"year": "2027", "holidays": [], "workdays": []}', "year"),
            ('{"year": 2027, "holidays": []}', "workdays"),
            ("[2027]", None),
            ("", None),
        ],
    )
    def test_malformed_json_is_refused(self, text: str, field: str | None) -> None:
        with pytest.raises(CalendarTableError) as caught:
            parse_year_table(text, fmt="json")
        assert field in [p.field for p in caught.value.problems]

    def test_a_json_syntax_error_names_its_line(self) -> None:
        with pytest.raises(CalendarTableError) as caught:
            parse_year_table('{\n"year": 2027,\n"holidays": [,]\n}', fmt="json")
        assert caught.value.problems[0].line == 3

    def test_a_table_cannot_be_built_inconsistent(self) -> None:
        with pytest.raises(CalendarTableError, match="outside the year"):
            YearTable(2027, holidays=frozenset({D(2026, 12, 31)}))
        with pytest.raises(CalendarTableError, match="both a holiday and a workday"):
            YearTable(2027, frozenset({D(2027, 1, 1)}), frozenset({D(2027, 1, 1)}))


MONDAY_2026_03_02 = D(2026, 3, 2)


def accepted(on: date = MONDAY_2026_03_02) -> MediationClock:
    return MediationClock().start(on)


class TestMediationClockCountingRule:
    """Reg 38 with Civil Code 201: acceptance day not counted; appraisal start day counted; appraisal end day
    not counted (the clock restarts and its start day does not count)."""

    def test_the_acceptance_day_does_not_count(self) -> None:
        # Reg 38, Civil Code 201: accepted Monday 2026-03-02
        clock = accepted()
        assert clock.used(CAL, D(2026, 3, 2)) == CountAnswer(0, False)
        assert clock.used(CAL, D(2026, 3, 3)) == CountAnswer(1, False)
        assert clock.remaining(CAL, D(2026, 3, 3)) == CountAnswer(29, False)

    def test_the_day_the_appraisal_starts_counts(self) -> None:
        # Reg 38: (03-02, 03-04] = Tuesday and Wednesday, the day of the pause included
        clock = accepted().pause(D(2026, 3, 4), "医疗损害鉴定")
        assert clock.used(CAL, D(2026, 3, 4)).days == 2
        assert clock.used(CAL, D(2026, 3, 31)).days == 2  # paused: nothing more is consumed

    def test_the_day_the_appraisal_ends_does_not_count(self) -> None:
        # Reg 38, Civil Code 201: resumed Tuesday 03-10, the clock runs again from Wednesday 03-11
        clock = accepted().pause(D(2026, 3, 4), "医疗损害鉴定").resume(D(2026, 3, 10))
        assert clock.used(CAL, D(2026, 3, 10)).days == 2
        assert clock.used(CAL, D(2026, 3, 11)).days == 3
        assert clock.segments == (Segment(D(2026, 3, 2), D(2026, 3, 4)),)
        assert clock.running_since == D(2026, 3, 10)

    def test_an_appraisal_that_starts_and_ends_the_same_day_costs_nothing(self) -> None:
        # Reg 38: (03-02, 03-04] + (03-04, 03-05] = 3, as if never paused
        clock = accepted().pause(D(2026, 3, 4), "鉴定").resume(D(2026, 3, 4))
        assert clock.used(CAL, D(2026, 3, 5)) == accepted().used(CAL, D(2026, 3, 5))
        assert clock.due_date(CAL) == accepted().due_date(CAL)


class TestMediationClock:
    def test_paused_twice_and_extended_once_gives_the_exact_due_date(self) -> None:
        # Reg 38. Accepted Monday 2026-03-02.
        #  running (03-02, 03-13]: 03-03..06 (4) + 03-09..13 (5) = 9 WD, the appraisal day 03-13 included
        #  appraisal 1 from 03-13 to 04-08 (Qingming 04-04..06 falls inside it)
        #  running (04-08, 04-17]: 04-09, 04-10 (2) + 04-13..17 (5) = 7 WD; used 16
        #  appraisal 2 from 04-17 to 06-01
        #  extension of 15 WD agreed 06-05: budget 45, so 29 WD after 06-01:
        #  06-02..05 (4), 06-08..12 (9), 06-15..18 (13; 06-19 端午 is off), 06-22..26 (18), 06-29..07-03 (23),
        #  07-06..10 (28), 07-13 (29) -> due Monday 2026-07-13, deadline 2026-07-14 00:00 +08:00
        clock = (
            accepted(D(2026, 3, 2))
            .pause(D(2026, 3, 13), "医疗损害鉴定")
            .resume(D(2026, 4, 8))
            .pause(D(2026, 4, 17), "补充鉴定")
            .resume(D(2026, 6, 1))
        )
        assert clock.used(CAL, D(2026, 6, 1)) == CountAnswer(16, False)
        # without the extension: 14 WD after 06-01 -> 06-22
        assert clock.due_date(CAL) == DateAnswer(D(2026, 6, 22), False)
        extended = clock.extend(15, D(2026, 6, 5))
        assert extended.total_budget == 45
        assert extended.due_date(CAL) == DateAnswer(D(2026, 7, 13), provisional=False)
        assert extended.deadline(CAL) == datetime(2026, 7, 14, 0, 0, tzinfo=SHANGHAI)
        assert extended.remaining(CAL, D(2026, 7, 13)).days == 0
        assert extended.remaining(CAL, D(2026, 7, 10)).days == 1

    def test_an_extension_agreed_after_a_pause_adds_working_days_to_the_resumed_clock(self) -> None:
        # Reg 38: accepted 2026-01-20, appraisal 02-02..02-27. Used (01-20, 02-02] = 9 WD (01-21..23: 3,
        # 01-26..30: 8, 02-02: 9). Resumed 02-27: 21 WD left after Friday 02-27: 02-28 (a make-up Saturday,
        # 1), 03-02..06 (6), 03-09..13 (11), 03-16..20 (16), 03-23..27 (21) -> 03-27. Extended by 10 WD on
        # 03-10: 03-30..04-03 (26), 04-07..10 (30; Qingming 04-06 off), 04-13 (31) -> 04-13.
        clock = accepted(D(2026, 1, 20)).pause(D(2026, 2, 2), "医疗损害鉴定").resume(D(2026, 2, 27))
        assert clock.used(CAL, D(2026, 2, 27)).days == 9
        assert clock.due_date(CAL) == DateAnswer(D(2026, 3, 27), False)
        assert clock.extend(10, D(2026, 3, 10)).due_date(CAL) == DateAnswer(D(2026, 4, 13), False)

    def test_used_and_remaining_while_running(self) -> None:
        # Reg 38: accepted 2026-09-15; by 2026-09-30: 09-16..18 (3), 09-20 make-up (4), 09-21..24 (8),
        # 09-28..30 (11); National Day consumes nothing
        clock = accepted(D(2026, 9, 15))
        assert clock.used(CAL, D(2026, 9, 30)) == CountAnswer(11, False)
        assert clock.used(CAL, D(2026, 10, 7)) == CountAnswer(11, False)
        assert clock.remaining(CAL, D(2026, 10, 7)) == CountAnswer(19, False)
        assert clock.remaining(CAL, D(2026, 12, 31)) == CountAnswer(0, False)  # past due: never negative
        assert clock.used(CAL, D(2026, 9, 1)).days == 0  # before acceptance

    def test_used_and_remaining_stand_still_while_paused(self) -> None:
        # Reg 38: the appraisal time does not count
        clock = accepted(D(2026, 9, 15)).pause(D(2026, 9, 30), "医疗损害鉴定")
        assert clock.paused
        for today in (D(2026, 9, 30), D(2026, 10, 20), D(2027, 3, 1)):
            assert clock.used(CAL, today) == CountAnswer(11, False)
            assert clock.remaining(CAL, today) == CountAnswer(19, False)

    def test_a_paused_clock_has_no_due_date(self) -> None:
        # Reg 38: the due date is unknown until the appraisal ends
        clock = accepted(D(2026, 9, 15)).pause(D(2026, 9, 30), "医疗损害鉴定")
        assert clock.due_date(CAL) is None
        assert clock.deadline(CAL) is None
        # if it ended on Monday 2026-10-12: 19 WD after it -> 10-13..16 (4), 10-19..23 (9), 10-26..30 (14),
        # 11-02..06 (19) -> 11-06
        assert clock.due_date_if_resumed(CAL, D(2026, 10, 12)) == DateAnswer(D(2026, 11, 6), False)
        assert clock.resume(D(2026, 10, 12)).due_date(CAL) == DateAnswer(D(2026, 11, 6), False)

    def test_a_budget_spent_before_a_pause_keeps_its_past_due_date(self) -> None:
        # Reg 38: a pause cannot revive an expired clock. 5 WD from 03-02 end on 03-09.
        clock = MediationClock(budget=5).start(D(2026, 3, 2)).pause(D(2026, 3, 20), "鉴定")
        assert clock.due_date(CAL) == DateAnswer(D(2026, 3, 9), False)

    def test_a_clock_not_started_has_nothing_to_count(self) -> None:
        clock = MediationClock()
        assert not clock.started and not clock.paused
        assert clock.due_date(CAL) is None
        assert clock.used(CAL, D(2026, 3, 2)) == CountAnswer(0, False)

    def test_warnings_fall_5_and_1_working_days_before_the_due_date(self) -> None:
        # DOMAIN.md: due Monday 2026-03-09. At the end of Monday 03-02, 5 WD remain (03-03..06, 03-09); at
        # the end of Friday 03-06, 1 remains. 6 WD before is the make-up Saturday 02-28.
        clock = accepted(D(2026, 1, 20))
        assert clock.warning_date(CAL, 5) == DateAnswer(D(2026, 3, 2), False)
        assert clock.warning_date(CAL, 1) == DateAnswer(D(2026, 3, 6), False)
        assert clock.warning_date(CAL, 6) == DateAnswer(D(2026, 2, 28), False)
        assert clock.remaining(CAL, D(2026, 3, 2)).days == 5
        assert clock.warning_date(CAL, 30) is None

    def test_a_provisional_year_makes_the_clock_provisional_until_its_table_is_loaded(self) -> None:
        # Reg 38: accepted 2026-12-15, paused on Friday 2027-01-08: used 12 + 5 (Mon–Fri, New Year's Day off by
        # statute) = 17, provisional; with the table, the same 17, final.
        clock = accepted(D(2026, 12, 15)).pause(D(2027, 1, 8), "鉴定")
        assert clock.used(CAL, D(2027, 1, 8)) == CountAnswer(17, provisional=True)
        assert clock.used(CAL_2027, D(2027, 1, 8)) == CountAnswer(17, provisional=False)
        assert clock.used(CAL, D(2026, 12, 31)) == CountAnswer(12, provisional=False)

    @pytest.mark.parametrize(
        ("make", "match"),
        [
            (lambda: accepted().start(D(2026, 3, 3)), "already started"),
            (lambda: accepted().pause(D(2026, 3, 4), "鉴定").pause(D(2026, 3, 5), "鉴定"), "paused"),
            (lambda: accepted().resume(D(2026, 3, 4)), "running"),
            (lambda: accepted().extend(0, D(2026, 3, 4)), "at least 1"),
            (lambda: accepted().extend(-5, D(2026, 3, 4)), "at least 1"),
            (lambda: MediationClock().pause(D(2026, 3, 4), "鉴定"), "not started"),
            (lambda: MediationClock().resume(D(2026, 3, 4)), "not started"),
            (lambda: MediationClock().extend(10, D(2026, 3, 4)), "not started"),
            (lambda: accepted().pause(D(2026, 3, 1), "鉴定"), "started on 2026-03-02"),
            (lambda: accepted().pause(D(2026, 3, 4), "鉴定").resume(D(2026, 3, 3)), "pause started"),
            (lambda: accepted().pause(D(2026, 3, 4), " "), "reason"),
            (lambda: accepted().extend(5, D(2026, 3, 1)), "cannot precede"),
            (lambda: MediationClock(budget=0), "budget"),
        ],
    )
    def test_illegal_sequences_raise(self, make: Callable[[], object], match: str) -> None:
        with pytest.raises(ClockError, match=match):
            make()

    def test_a_clock_error_is_a_value_error(self) -> None:
        assert issubclass(ClockError, ValueError)

    def test_events_return_new_clocks(self) -> None:
        clock = accepted()
        clock.pause(D(2026, 3, 4), "鉴定")
        assert not clock.paused


class TestMediationClockStorage:
    @pytest.mark.parametrize(
        "clock",
        [
            MediationClock(),
            MediationClock(budget=20).start(D(2026, 1, 20)),
            accepted().pause(D(2026, 3, 13), "医疗损害鉴定"),
            accepted()
            .pause(D(2026, 3, 13), "医疗损害鉴定")
            .resume(D(2026, 4, 8))
            .extend(15, D(2026, 4, 10))
            .pause(D(2026, 4, 17), "补充鉴定")
            .resume(D(2026, 6, 1)),
        ],
    )
    def test_to_dict_and_from_dict_round_trip_through_json(self, clock: MediationClock) -> None:
        data = json.loads(json.dumps(clock.to_dict(), ensure_ascii=False))
        assert MediationClock.from_dict(data) == clock
        assert MediationClock.from_dict(data).due_date(CAL) == clock.due_date(CAL)

    def test_the_stored_form_is_the_ledger(self) -> None:
        clock = accepted().pause(D(2026, 3, 13), "医疗损害鉴定").extend(5, D(2026, 3, 13))
        assert clock.to_dict() == {
            "budget": 30,
            "accepted_on": "2026-03-02",
            "pauses": [{"started_on": "2026-03-13", "ended_on": None, "reason": "医疗损害鉴定"}],
            "extensions": [{"days": 5, "agreed_on": "2026-03-13"}],
        }

    @pytest.mark.parametrize(
        "data",
        [
            {  # two open pauses
                "accepted_on": "2026-03-02",
                "pauses": [
                    {"started_on": "2026-03-04", "ended_on": None, "reason": "a"},
                    {"started_on": "2026-03-05", "ended_on": None, "reason": "b"},
                ],
            },
            {  # a pause before acceptance
                "accepted_on": "2026-03-02",
                "pauses": [{"started_on": "2026-03-01", "ended_on": "2026-03-03", "reason": "a"}],
            },
            {"budget": 30, "accepted_on": "20260302"},
            {"budget": 30, "accepted_on": None, "extensions": [{"days": 5, "agreed_on": "2026-03-02"}]},
            {"budget": 30, "accepted_on": "2026-03-02", "pauses": [{"reason": "a"}]},
        ],
    )
    def test_a_corrupt_record_is_refused(self, data: dict[str, Any]) -> None:
        with pytest.raises(ClockError):
            MediationClock.from_dict(data)


# --- properties ---------------------------------------------------------------------------------------------

days_2025_2027 = st.dates(min_value=D(2025, 6, 1), max_value=D(2027, 12, 31))
calendars = st.sampled_from([CAL, CAL_2027])


class TestProperties:
    @settings(derandomize=True, max_examples=300, deadline=None)
    @given(start=days_2025_2027, n=st.integers(min_value=0, max_value=200), calendar=calendars)
    def test_counting_undoes_adding(self, start: date, n: int, calendar: WorkingDayCalendar) -> None:
        # Civil Code 201: the n-th working day after start has exactly n working days in (start, it]
        end = calendar.add_working_days(start, n)
        count = calendar.working_days_after(start, end.date)
        assert count.days == n
        if n:
            assert calendar.is_working_day(end.date).working
            assert count.provisional == end.provisional
            assert end.provisional == bool(calendar.provisional_years_in(start, end.date))

    @settings(derandomize=True, max_examples=200, deadline=None)
    @given(start=days_2025_2027, n=st.integers(min_value=0, max_value=100), calendar=calendars)
    def test_adding_is_monotonic_and_agrees_with_walking_day_by_day(
        self, start: date, n: int, calendar: WorkingDayCalendar
    ) -> None:
        assert calendar.add_working_days(start, n + 1).date > calendar.add_working_days(start, n).date
        day, left = start, n
        while left:
            day += timedelta(days=1)
            left -= calendar.is_working_day(day).working
        assert calendar.add_working_days(start, n).date == day

    @settings(derandomize=True, max_examples=150, deadline=None)
    @given(
        accepted_on=st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 12, 31)),
        gaps=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 60)), max_size=3),
        extension=st.integers(0, 20),
        calendar=calendars,
    )
    def test_the_budget_is_spent_exactly_on_the_due_date(
        self, accepted_on: date, gaps: list[tuple[int, int]], extension: int, calendar: WorkingDayCalendar
    ) -> None:
        # Reg 38: run a few WD, pause for a while, resume... the due date is the day the budget is used up
        clock = MediationClock().start(accepted_on)
        for run, pause in gaps:
            assert clock.running_since is not None
            paused_on = calendar.add_working_days(clock.running_since, run).date
            clock = clock.pause(paused_on, "鉴定").resume(paused_on + timedelta(days=pause))
        if extension:
            clock = clock.extend(extension, accepted_on)
        due_day = clock.due_date(calendar)
        assert due_day is not None
        assert clock.used(calendar, due_day.date).days == clock.total_budget
        assert clock.used(calendar, due_day.date - timedelta(days=1)).days == clock.total_budget - 1
        assert calendar.is_working_day(due_day.date).working


class TestTheIndexedYear:
    def test_the_indexed_answer_is_the_day_by_day_count(self) -> None:
        # After a year table is loaded, every open case's deadline is recomputed (DOMAIN.md volumes) from an index
        # of the working days, not by walking the days; it gives the walk's answer (bench.recompute times it).
        calendar = CAL.with_table(TABLE_2027)
        for start in (D(2025, 1, 1) + timedelta(days=(i * 37) % 1000) for i in range(1_000)):
            day, counted = start, 0
            while counted < 30:
                day += timedelta(days=1)
                counted += calendar.is_working_day(day).working
            assert calendar.add_working_days(start, 30).date == day, start
