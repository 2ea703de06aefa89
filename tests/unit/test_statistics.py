"""The statistics' rules (domain/statistics.py, docs/statistics.md): the period and its months, rates, the median and
the 90th percentile, who pays a term, the reasons of a rejection, and what a case's row keeps of how its mediation
ended — the working days, the appraisals' time apart and the deadline kept (Reg 38). Pure.

Expected figures come from tests/statistics_oracle.py (working days walked one by one, Python's `statistics`).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.clock import MediationClock, WorkingDayCalendar
from domain.statistics import (
    FAILED_DEADLINE,
    SETTLED,
    TERMINATED,
    agreed_amounts,
    cents_to_yuan,
    change,
    check_period,
    days_text,
    decimal_median,
    default_period,
    ended_on,
    median,
    mediation_time,
    months,
    payer_kind,
    percent_text,
    percentile,
    points,
    rate,
    reason_mask,
    rejection_reasons,
    same_period_a_year_earlier,
    working_days,
    year_to_date,
)
from domain.time import SHANGHAI
from tests.statistics_oracle import median as oracle_median
from tests.statistics_oracle import mediation_days, money_median, p90, working_days_between
from tests.statistics_oracle import share as oracle_share

D = date
CALENDAR = WorkingDayCalendar()
INSTITUTION = "上海市某区人民医院"
INSURER = "某财产保险股份有限公司上海分公司"
REGISTRATION = {"institution": {"name": INSTITUTION}, "insurer": {"name": INSURER}}


class TestThePeriod:
    def test_months_are_cut_to_the_period_and_labelled_in_chinese(self):
        found = months(D(2026, 1, 15), D(2026, 3, 10))
        assert [(m.key, m.label, m.first, m.last) for m in found] == [
            ("2026-01", "2026年1月", D(2026, 1, 15), D(2026, 1, 31)),
            ("2026-02", "2026年2月", D(2026, 2, 1), D(2026, 2, 28)),
            ("2026-03", "2026年3月", D(2026, 3, 1), D(2026, 3, 10)),
        ]

    def test_a_year_has_twelve_months_across_a_leap_february(self):
        found = months(D(2028, 1, 1), D(2028, 12, 31))
        assert len(found) == 12 and found[1].last == D(2028, 2, 29)
        assert [m.key for m in months(D(2026, 12, 31), D(2027, 1, 1))] == ["2026-12", "2027-01"]

    def test_the_current_month_by_default(self):
        assert default_period(D(2026, 2, 14), None, None) == (D(2026, 2, 1), D(2026, 2, 28))
        assert default_period(D(2026, 2, 14), None, D(2025, 11, 20)) == (D(2025, 11, 1), D(2025, 11, 20))
        assert default_period(D(2026, 2, 14), D(2025, 7, 1), None) == (D(2025, 7, 1), D(2026, 2, 28))

    def test_a_period_ending_before_it_starts_or_longer_than_three_years_is_refused(self):
        assert check_period(D(2026, 3, 1), D(2026, 2, 28)) is not None
        assert check_period(D(2026, 3, 1), D(2026, 3, 1)) is None
        assert check_period(D(2024, 1, 1), D(2026, 12, 31)) is None  # three calendar years
        assert "3 years" in (check_period(D(2024, 1, 1), D(2027, 1, 1)) or "")
        assert check_period(D(1, 1, 1), D(1, 1, 2)) is not None  # the days a case can name: 1900 to 2199
        assert check_period(D(9999, 12, 30), D(9999, 12, 31)) is not None


class TestOtherPeriods:
    def test_the_same_period_a_year_earlier_keeps_whole_months_whole(self):
        assert same_period_a_year_earlier(D(2026, 3, 1), D(2026, 3, 31)) == (D(2025, 3, 1), D(2025, 3, 31))
        assert same_period_a_year_earlier(D(2025, 2, 1), D(2025, 2, 28)) == (D(2024, 2, 1), D(2024, 2, 29))
        assert same_period_a_year_earlier(D(2024, 2, 1), D(2024, 2, 29)) == (D(2023, 2, 1), D(2023, 2, 28))
        assert same_period_a_year_earlier(D(2026, 1, 10), D(2026, 4, 20)) == (D(2025, 1, 10), D(2025, 4, 20))

    def test_the_year_to_date_is_of_one_year(self):
        assert year_to_date(D(2026, 4, 1), D(2026, 4, 30)) == (D(2026, 1, 1), D(2026, 4, 30))
        assert year_to_date(D(2025, 12, 1), D(2026, 1, 31)) is None

    def test_the_change_is_relative_and_rates_change_in_points(self):
        assert change(9, 8) == 0.125 and change(6, 8) == -0.25 and change(3, 0) is None
        assert change(Decimal("110.00"), Decimal("100.00")) == 0.1
        assert points(0.833, 0.812) == pytest.approx(0.021) and points(0.5, None) is None


class TestArithmetic:
    def test_rates_divide_what_they_name_and_nothing_by_nothing(self):
        assert rate(83, 100) == 0.83 and rate(2, 3) == 0.667
        assert rate(0, 0) is None

    @pytest.mark.parametrize(("numerator", "denominator", "share", "printed"), [
        (15, 19, 0.789, "78.9%"),  # 78.947…%: once from the exact fraction, not 0.7895 → 79.0%
        (4, 21, 0.19, "19.0%"),  # 19.047…%
        (1, 16, 0.063, "6.3%"),  # 6.25% exactly: half up, not to even
        (1, 3, 0.333, "33.3%"),
        (2, 2, 1.0, "100.0%"),
    ])
    def test_a_rate_is_rounded_once_half_up_to_one_decimal_percent(self, numerator, denominator, share, printed):
        assert rate(numerator, denominator) == share == oracle_share(numerator, denominator)
        assert percent_text(rate(numerator, denominator)) == printed

    @pytest.mark.parametrize(("value", "given", "printed"), [
        (12.25, 12.3, "12.3"), (6.25, 6.3, "6.3"), (12.35, 12.4, "12.4"), (18.5, 18.5, "18.5"),
        (12.249999999999998, 12.3, "12.3"),  # a double's noise (percentile_cont) is not a digit
        (7.0, 7.0, "7.0"),
    ])
    def test_working_days_are_rounded_half_up_to_one_decimal(self, value, given, printed):
        assert working_days(value) == given and days_text(working_days(value)) == printed

    @pytest.mark.parametrize("seed", range(20))
    def test_the_median_and_the_90th_percentile_interpolate_like_percentile_cont(self, seed: int):
        rng = random.Random(seed)
        values = [rng.randint(0, 90) for _ in range(rng.randint(1, 40))]
        assert median(values) == pytest.approx(oracle_median(values))
        assert percentile(values, 0.9) == pytest.approx(p90(values))

    def test_no_values_have_no_median(self):
        assert median([]) is None and percentile([], 0.9) is None and decimal_median([]) is None

    def test_the_median_amount_is_exact_to_the_fen(self):
        amounts = [Decimal("100.01"), Decimal("100.00"), Decimal("5.00"), Decimal("90000.50")]
        assert decimal_median(amounts) == money_median(amounts) == Decimal("100.01")  # 100.005, half up
        assert cents_to_yuan(10000.5) == Decimal("100.01") and cents_to_yuan(None) is None


class TestWhoPays:
    """An insurer pays instead of the hospital (医疗责任保险): a term's payer is the insurer when it names the
    registration's insurer."""

    def test_the_insurer_the_institution_and_another_payer(self):
        assert payer_kind(INSURER, institution=INSTITUTION, insurer=INSURER) == "insurer"
        assert payer_kind(" 某财产保险股份有限公司上海分公司 ", institution=INSTITUTION, insurer=INSURER) == "insurer"
        assert payer_kind(INSTITUTION, institution=INSTITUTION, insurer=INSURER) == "institution"
        assert payer_kind("医方", institution=INSTITUTION, insurer=INSURER) == "institution"
        assert payer_kind(None, institution=INSTITUTION, insurer=INSURER) == "institution"
        assert payer_kind("某医疗集团总部", institution=INSTITUTION, insurer=INSURER) == "other"
        assert payer_kind(INSURER, institution=INSTITUTION, insurer=None) == "other"  # no insurer registered

    def test_the_monetary_terms_are_summed_by_payer(self):  # PML 29
        terms = [{"amount": "60000.00", "payer": INSURER}, {"amount": "26500.50", "payer": INSTITUTION},
                 {"amount": None, "payer": INSTITUTION, "text": "医方书面致歉"}, {"amount": "1000.00", "payer": "张某"}]
        assert agreed_amounts(terms, REGISTRATION) == {
            "insurer": Decimal("60000.00"), "institution": Decimal("26500.50"), "other": Decimal("1000.00"),
            "total": Decimal("87500.50")}
        assert agreed_amounts([{"amount": None, "text": "医方书面致歉"}], REGISTRATION) is None


class TestRejections:
    def test_reasons_are_bits_and_a_refusal_or_silence_is_reason_1(self):  # PML 17; MOJ 2002 Rules art 22
        assert reason_mask([2, 7]) == 0b1000010 and reason_mask([1]) == 1 and reason_mask([9]) == 0
        assert rejection_reasons("reject", {"reasons": [6, 8]}) == [6, 8]
        assert rejection_reasons("record_refusal", {"method": "written"}) == [1]
        assert rejection_reasons("consent_expired", {"reasons": [1]}) == [1]


class TestHowMediationEnded:
    """Reg 38: the working days from acceptance to the end, an appraisal's time apart, within 30 WD and the agreed
    extensions."""

    def test_the_day_a_deadline_ran_out_is_its_own_day(self):  # Reg 38, PML 17
        late = datetime(2026, 4, 18, 0, 0, 3, tzinfo=SHANGHAI)
        assert ended_on("deadline_expired", {"due_date": "2026-04-17"}, late) == D(2026, 4, 17)
        assert ended_on("consent_expired", {"due_date": "2026-03-23"}, late) == D(2026, 3, 23)
        assert ended_on("terminate", {"ground": "party_withdrew"}, datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI)) \
            == D(2026, 3, 31)

    def test_an_appraisal_is_set_apart_and_the_extension_counted(self):
        accepted, paused, resumed, ended = D(2026, 3, 3), D(2026, 3, 10), D(2026, 3, 20), D(2026, 4, 8)
        clock = MediationClock(30).start(accepted).pause(paused, "医疗损害鉴定").resume(resumed).extend(10, D(2026, 3, 25))
        timed = mediation_time(clock.to_dict(), ended=ended, calendar=CALENDAR, result=SETTLED)
        assert timed is not None
        assert timed.duration_wd == mediation_days(accepted, ended, [(paused, resumed)])
        assert timed.appraisal_wd == working_days_between(paused, resumed)
        assert timed.deadline_kept is True

    def test_terminated_during_an_appraisal_counts_it_to_the_end(self):  # Reg 31¶4
        accepted, paused, ended = D(2026, 9, 15), D(2026, 9, 25), D(2026, 10, 20)  # across National Day
        clock = MediationClock(30).start(accepted).pause(paused, "医疗损害鉴定")
        timed = mediation_time(clock.to_dict(), ended=ended, calendar=CALENDAR, result=TERMINATED)
        assert timed is not None
        assert timed.duration_wd == working_days_between(accepted, paused)
        assert timed.appraisal_wd == working_days_between(paused, ended)

    def test_a_case_that_ran_out_kept_no_deadline(self):  # Reg 38
        accepted = D(2026, 1, 20)
        due = D(2026, 3, 9)  # DOMAIN.md's worked example: Spring Festival excluded, the make-up days counted
        assert working_days_between(accepted, due) == 30
        clock = MediationClock(30).start(accepted)
        timed = mediation_time(clock.to_dict(), ended=due, calendar=CALENDAR, result=FAILED_DEADLINE)
        assert timed is not None and (timed.duration_wd, timed.appraisal_wd, timed.deadline_kept) == (30, None, False)
        declared = mediation_time(clock.to_dict(), ended=due - timedelta(days=7), calendar=CALENDAR, result=SETTLED)
        assert declared is not None and declared.deadline_kept is True

    def test_a_case_never_accepted_is_not_measured(self):
        assert mediation_time(None, ended=D(2026, 3, 1), calendar=CALENDAR, result="rejected") is None
        assert mediation_time(MediationClock(30).to_dict(), ended=D(2026, 3, 1), calendar=CALENDAR,
                              result=TERMINATED) is None
