"""Every timer of a case (shared/DOMAIN.md, "Time: the clocks"), checked against domain/deadlines.py.

`timers(case, calendar=..., policy=...)` is a pure function, so each test builds the case's clocks by hand and
reads the timers back. Expected dates are counted independently of domain/clock.py: by walking the days with
`chinese_calendar.is_workday` for 2004–2026, and for 2027, which chinesecalendar 1.11 does not know, Monday to
Friday without the statutory holidays as tests/oracle.py derives them (rev 2), or minus a given table. Counting follows the Civil Code: the start day does not count
(art 201), a period ends at 24:00 of its last day (art 203).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
import pytest

from domain.clock import MediationClock, WorkingDayCalendar, YearTable, end_of_day
from domain.deadlines import (
    SYSTEM_EVENTS,
    TIMER_LABELS,
    CaseClocks,
    PaymentTerm,
    Timer,
    after_firing,
    start_of_day,
    timers,
)
from domain.policy import ClockPolicy
from tests.oracle import statutory_holidays

D = date
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the real zone, independent of the fixed offset domain/clock.py uses
CAL = WorkingDayCalendar()
POLICY = ClockPolicy()

# An invented 2027 schedule (the State Council's is not published yet): Friday 2027-01-01 off (New Year).
TABLE_2027 = YearTable(year=2027, holidays=frozenset({D(2027, 1, 1)}), names=((D(2027, 1, 1), "元旦"),))
CAL_2027 = CAL.with_table(TABLE_2027)


# --- independent counting -----------------------------------------------------------------------------------


def official_working_day(d: date) -> bool:
    """The State Council's calendar as chinesecalendar knows it (2004–2026), make-up days included."""
    return bool(chinese_calendar.is_workday(d))


def weekday_or_table_2027(d: date) -> bool:
    """2026 from chinesecalendar; 2027 Monday to Friday minus the holidays of TABLE_2027."""
    if d.year <= 2026:
        return official_working_day(d)
    return d.weekday() < 5 and d not in TABLE_2027.holidays


def provisional_2027(d: date) -> bool:
    """2026 from chinesecalendar; 2027 Monday to Friday without its statutory holidays (the provisional rule)."""
    return official_working_day(d) if d.year <= 2026 else d.weekday() < 5 and d not in statutory_holidays(2027)


def nth_working_day_after(
    start: date, n: int, working: Callable[[date], bool] = official_working_day
) -> date:
    """Civil Code 201: the start day does not count; the n-th working day after it."""
    d = start
    while n:
        d += timedelta(days=1)
        if working(d):
            n -= 1
    return d


def working_days_in(after: date, up_to: date) -> int:
    """The working days in (after, up_to]."""
    days, d = 0, after
    while d < up_to:
        d += timedelta(days=1)
        days += official_working_day(d)
    return days


def midnight(d: date) -> datetime:
    """00:00 Asia/Shanghai at the start of day `d` (24:00 of the day before)."""
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


# --- building cases -----------------------------------------------------------------------------------------


def case(status: str, entered_on: date = D(2026, 3, 2), **clocks: object) -> CaseClocks:
    clocks.setdefault("mediation", MediationClock())
    return CaseClocks(status=status, entered_on=entered_on, **clocks)  # type: ignore[arg-type]


def timers_of(
    clocks: CaseClocks, calendar: WorkingDayCalendar = CAL, policy: ClockPolicy = POLICY
) -> list[Timer]:
    """domain.deadlines.timers, by default on the official calendar and the default policy."""
    return timers(clocks, calendar=calendar, policy=policy)


def running(accepted_on: date) -> MediationClock:
    return MediationClock().start(accepted_on)


def of_kind(ts: list[Timer], kind: str) -> list[Timer]:
    return [t for t in ts if t.kind == kind]


def only(ts: list[Timer], kind: str) -> Timer:
    [timer] = of_kind(ts, kind)
    return timer


def warning(ts: list[Timer], wd_before: int) -> Timer:
    prefix = f"deadline_warning:{wd_before}:"
    [timer] = [t for t in ts if t.kind == "deadline_warning" and t.key.startswith(prefix)]
    return timer


# --- the clocks ---------------------------------------------------------------------------------------------


class TestConsentClock:
    """Local practice: the other side answers within 5 WD of the request; silence is refusal (PML 17)."""

    def test_expires_at_24_00_of_the_fifth_working_day_after_the_request(self) -> None:
        # PML 17; Civil Code 201: requested Monday 2026-03-02 (does not count) → 3, 4, 5, 6, 9 March
        ts = timers_of(case("awaiting_consent", entered_on=D(2026, 3, 2)))
        assert [t.kind for t in ts] == ["consent_expired"]
        [expired] = ts
        assert expired.due_on == D(2026, 3, 9) == nth_working_day_after(D(2026, 3, 2), 5)
        assert expired.at == midnight(D(2026, 3, 10))  # Civil Code 203: 24:00 of 2026-03-09
        assert expired.provisional is False
        assert expired.recipient_role == "staff"
        assert "第十七条" in expired.message

    def test_expiry_is_a_lifecycle_event_not_a_notification(self) -> None:
        # PML 17: the case moves on its own (not accepted), so the timer raises an event
        [expired] = timers_of(case("awaiting_consent"))
        assert expired.kind in SYSTEM_EVENTS

    def test_national_day_does_not_count_and_a_make_up_saturday_does(self) -> None:
        # Civil Code 201/203: requested Monday 2026-09-28 → 29, 30 Sept; 1–7 Oct off; 9 Oct; Saturday 10 Oct
        # is a make-up working day and the fifth
        [expired] = timers_of(case("awaiting_consent", entered_on=D(2026, 9, 28)))
        assert expired.due_on == D(2026, 10, 10) == nth_working_day_after(D(2026, 9, 28), 5)
        assert expired.at == end_of_day(D(2026, 10, 10))

    def test_a_committee_with_a_three_working_day_rule(self) -> None:
        # local practice differs: consent_wd=3 → 3, 4, 5 March
        policy = ClockPolicy(consent_wd=3)
        [expired] = timers_of(case("awaiting_consent", entered_on=D(2026, 3, 2)), policy=policy)
        assert expired.due_on == D(2026, 3, 5) == nth_working_day_after(D(2026, 3, 2), 3)
        assert expired.at == midnight(D(2026, 3, 6))

    def test_the_key_names_the_request_day(self) -> None:
        [expired] = timers_of(case("awaiting_consent", entered_on=D(2026, 3, 2)))
        assert expired.key == "consent_expired:2026-03-02"


class TestReviewClock:
    """Chongqing rule: the director is reminded after 3 WD of review, then escalated; never an acceptance."""

    def test_reminds_the_director_at_the_end_of_the_third_working_day(self) -> None:
        # entered review Monday 2026-03-02 → 3, 4, 5 March
        ts = timers_of(case("under_review", entered_on=D(2026, 3, 2)))
        reminder = only(ts, "review_reminder")
        assert reminder.due_on == D(2026, 3, 5) == nth_working_day_after(D(2026, 3, 2), 3)
        assert reminder.at == midnight(D(2026, 3, 6))
        assert reminder.recipient_role == "director"

    def test_escalates_to_the_admin_two_working_days_after_the_reminder(self) -> None:
        # reminder on Thursday 5 March → Friday 6, Monday 9 March
        ts = timers_of(case("under_review", entered_on=D(2026, 3, 2)))
        escalation = only(ts, "review_escalation")
        assert escalation.due_on == D(2026, 3, 9) == nth_working_day_after(D(2026, 3, 5), 2)
        assert escalation.at == midnight(D(2026, 3, 10))
        assert escalation.recipient_role == "admin"

    def test_review_across_the_spring_festival(self) -> None:
        # entered review Thursday 2026-02-12 → 13 Feb, Saturday 14 Feb (make-up), then 15–23 Feb off → 24 Feb
        ts = timers_of(case("under_review", entered_on=D(2026, 2, 12)))
        reminder = only(ts, "review_reminder")
        assert reminder.due_on == D(2026, 2, 24) == nth_working_day_after(D(2026, 2, 12), 3)
        assert only(ts, "review_escalation").due_on == nth_working_day_after(D(2026, 2, 24), 2)

    def test_never_accepts_a_case_on_its_own(self) -> None:
        # Chongqing rule: a reminder and an escalation, both notifications; acceptance is the director's act
        ts = timers_of(case("under_review"))
        assert [t.kind for t in ts] == ["review_reminder", "review_escalation"]
        assert not any(t.kind in SYSTEM_EVENTS for t in ts)


class TestMediationClock:
    """Reg 38: 30 WD from acceptance, appraisal excluded, extendable by agreement; warned 5 and 1 WD ahead."""

    def test_worked_example_accepted_before_the_spring_festival(self) -> None:
        # Reg 38 (DOMAIN.md): accepted 2026-01-20 → due 2026-03-09; Spring Festival excluded, make-up
        # Saturdays 2026-02-14 and 2026-02-28 counted
        ts = timers_of(case("in_mediation", mediation=running(D(2026, 1, 20))))
        expired = only(ts, "deadline_expired")
        assert expired.due_on == D(2026, 3, 9) == nth_working_day_after(D(2026, 1, 20), 30)
        assert expired.at == midnight(D(2026, 3, 10))
        assert expired.kind in SYSTEM_EVENTS  # the case is deemed failed
        assert expired.recipient_role == "mediator"
        assert expired.provisional is False

    def test_worked_example_accepted_before_national_day(self) -> None:
        # Reg 38 (DOMAIN.md): accepted 2026-09-15 → due 2026-11-02; National Day excluded, make-up days
        # 2026-09-20 and 2026-10-10 counted
        ts = timers_of(case("in_mediation", mediation=running(D(2026, 9, 15))))
        expired = only(ts, "deadline_expired")
        assert expired.due_on == D(2026, 11, 2) == nth_working_day_after(D(2026, 9, 15), 30)
        assert expired.at == end_of_day(D(2026, 11, 2))

    def test_warns_the_mediator_five_and_one_working_day_before_the_deadline(self) -> None:
        # Reg 38: due 2026-03-09; 5 WD remain at the end of Monday 2 March, 1 WD at the end of Friday 6 March
        ts = timers_of(case("in_mediation", mediation=running(D(2026, 1, 20))))
        assert [t.kind for t in ts] == ["deadline_warning", "deadline_warning", "deadline_expired"]
        five, one = warning(ts, 5), warning(ts, 1)
        assert D(2026, 3, 2) == nth_working_day_after(D(2026, 1, 20), 25)
        assert five.at == midnight(D(2026, 3, 3))
        assert D(2026, 3, 6) == nth_working_day_after(D(2026, 1, 20), 29)
        assert one.at == midnight(D(2026, 3, 7))
        assert five.due_on == one.due_on == D(2026, 3, 9)  # a warning names the deadline it warns of
        assert {five.recipient_role, one.recipient_role} == {"mediator"}
        assert "还剩5个工作日" in five.message and "还剩1个工作日" in one.message

    def test_warnings_around_national_day(self) -> None:
        # Reg 38: due 2026-11-02; 5 WD before is Monday 26 Oct, 1 WD before is Friday 30 Oct
        ts = timers_of(case("in_mediation", mediation=running(D(2026, 9, 15))))
        assert warning(ts, 5).at == end_of_day(D(2026, 10, 26)) == midnight(D(2026, 10, 27))
        assert warning(ts, 1).at == end_of_day(D(2026, 10, 30)) == midnight(D(2026, 10, 31))

    def test_the_clock_keeps_running_while_the_agreement_is_signed(self) -> None:
        # Reg 38: only an agreement that took effect stops the clock; signing is still inside the 30 WD
        clock = running(D(2026, 1, 20))
        in_mediation = timers_of(case("in_mediation", mediation=clock))
        signing = timers_of(case("signing", entered_on=D(2026, 3, 4), mediation=clock))
        assert of_kind(signing, "deadline_warning") == of_kind(in_mediation, "deadline_warning")
        assert only(signing, "deadline_expired").due_on == only(in_mediation, "deadline_expired").due_on == D(
            2026, 3, 9)

    def test_while_signatures_are_collected_the_case_fails_one_working_day_later(self) -> None:
        # Reg 38, 39 (rev 2): due Monday 2026-03-09; in signing the case waits signing_grace_wd (1) more working
        # day, for signatures made by the due date and recorded the next morning. The key is the same occasion.
        clock = running(D(2026, 1, 20))
        in_mediation = only(timers_of(case("in_mediation", mediation=clock)), "deadline_expired")
        signing = only(timers_of(case("signing", entered_on=D(2026, 3, 4), mediation=clock)), "deadline_expired")
        assert in_mediation.at == end_of_day(D(2026, 3, 9))
        assert signing.at == end_of_day(D(2026, 3, 10)) and signing.due_on == D(2026, 3, 9)
        assert signing.key == in_mediation.key
        # a grace over a weekend: due Friday 2026-03-06 → waits until the end of Monday 2026-03-09
        friday = running(D(2026, 1, 19))
        assert only(timers_of(case("signing", mediation=friday)), "deadline_expired").at == end_of_day(D(2026, 3, 9))
        no_grace = ClockPolicy(signing_grace_wd=0)
        assert only(timers_of(case("signing", mediation=clock), policy=no_grace), "deadline_expired").at == (
            in_mediation.at)

    def test_a_case_in_appraisal_has_no_mediation_timer_only_a_reminder_of_the_open_appraisal(self) -> None:
        # Reg 38: appraisal time does not count, so no mediation deadline can fall while it lasts; rev 2: every
        # 20 WD the mediator is asked to record the appraisal's status
        clock = running(D(2026, 1, 20)).pause(D(2026, 2, 2), "医疗损害鉴定")
        [reminder] = timers_of(case("appraisal", entered_on=D(2026, 2, 2), mediation=clock))
        assert reminder.kind == "appraisal_reminder" and reminder.recipient_role == "mediator"
        assert reminder.due_on == nth_working_day_after(D(2026, 2, 2), 20)
        assert "abandon_appraisal" in reminder.message and "finish_appraisal" in reminder.message

    def test_a_paused_clock_arms_no_mediation_timer_whatever_the_status(self) -> None:
        # Reg 38: a paused clock has no due date
        clock = running(D(2026, 1, 20)).pause(D(2026, 2, 2), "医疗损害鉴定")
        assert timers_of(case("in_mediation", mediation=clock)) == []

    def test_after_the_appraisal_the_deadline_moves_by_the_paused_working_days(self) -> None:
        # Reg 38: accepted Monday 2026-03-02; the appraisal starts 2026-03-10 (that day still counts) and ends
        # 2026-04-10 (that day does not count), so the working days in (10 March, 10 April] are not consumed
        clock = running(D(2026, 3, 2)).pause(D(2026, 3, 10), "医疗损害鉴定").resume(D(2026, 4, 10))
        ts = timers_of(case("in_mediation", entered_on=D(2026, 4, 10), mediation=clock))
        undisturbed = nth_working_day_after(D(2026, 3, 2), 30)
        paused = working_days_in(D(2026, 3, 10), D(2026, 4, 10))
        expected = nth_working_day_after(undisturbed, paused)
        assert only(ts, "deadline_expired").due_on == expected == D(2026, 5, 18)
        # consumed before: 3, 4, 5, 6, 9, 10 March = 6 WD; 24 WD remain after 10 April
        consumed = working_days_in(D(2026, 3, 2), D(2026, 3, 10))
        assert consumed == 6
        assert expected == nth_working_day_after(D(2026, 4, 10), 30 - consumed)
        assert warning(ts, 1).at == end_of_day(nth_working_day_after(D(2026, 4, 10), 23))

    def test_an_agreed_extension_moves_the_deadline(self) -> None:
        # Reg 38: due 2026-03-09, extended by 10 WD on 2026-03-02 → the 10th WD after 9 March
        clock = running(D(2026, 1, 20)).extend(10, D(2026, 3, 2))
        ts = timers_of(case("in_mediation", mediation=clock))
        expired = only(ts, "deadline_expired")
        assert expired.due_on == D(2026, 3, 23) == nth_working_day_after(D(2026, 3, 9), 10)
        assert warning(ts, 5).at == end_of_day(D(2026, 3, 16))
        assert warning(ts, 1).at == end_of_day(D(2026, 3, 20))

    def test_a_moved_deadline_gives_new_timer_keys(self) -> None:
        # A timer re-armed for a new due date is a new occasion: the old keys (perhaps fired) never match it
        before = timers_of(case("in_mediation", mediation=running(D(2026, 1, 20))))
        clock = running(D(2026, 1, 20)).extend(10, D(2026, 3, 2))
        after = timers_of(case("in_mediation", mediation=clock))
        assert {t.key for t in before} == {
            "deadline_warning:5:2026-03-09", "deadline_warning:1:2026-03-09", "deadline_expired:2026-03-09",
        }
        assert {t.key for t in after} == {
            "deadline_warning:5:2026-03-23", "deadline_warning:1:2026-03-23", "deadline_expired:2026-03-23",
        }

    def test_an_unchanged_deadline_keeps_its_timer_keys(self) -> None:
        # recomputing after a change that does not move the deadline (a pause of zero working days, over a
        # weekend) keeps every key, so nothing fires twice
        plain = timers_of(case("in_mediation", mediation=running(D(2026, 3, 2))))
        clock = running(D(2026, 3, 2)).pause(D(2026, 3, 7), "医疗损害鉴定").resume(D(2026, 3, 8))
        recomputed = timers_of(case("in_mediation", mediation=clock))
        assert [t.key for t in recomputed] == [t.key for t in plain]

    def test_a_warning_day_that_passed_before_the_appraisal_is_not_armed_again(self) -> None:
        # Reg 38: accepted 2026-03-02; by the end of 2026-04-09, 27 WD are consumed (the 5-WD warning of
        # 2026-04-07 has fired) and the appraisal starts; it ends 2026-05-20 with 3 WD left (21, 22, 25 May).
        # The 5-WD mark is behind the case: a warning "还剩5个工作日" must not be armed for 2026-04-07 again.
        paused_on = nth_working_day_after(D(2026, 3, 2), 27)
        clock = running(D(2026, 3, 2)).pause(paused_on, "医疗损害鉴定").resume(D(2026, 5, 20))
        ts = timers_of(case("in_mediation", entered_on=D(2026, 5, 20), mediation=clock))
        assert only(ts, "deadline_expired").due_on == D(2026, 5, 25)
        assert [t.key for t in of_kind(ts, "deadline_warning")] == ["deadline_warning:1:2026-05-25"]
        assert all(t.at > end_of_day(D(2026, 5, 20)) for t in ts)  # nothing armed in the past

    def test_a_clock_never_started_arms_nothing(self) -> None:
        assert timers_of(case("in_mediation", mediation=MediationClock())) == []


class TestPaymentClock:
    """The agreement's terms: remind on the due day, flag it overdue at its end, prompt 5 WD later."""

    EFFECTIVE = D(2026, 3, 2)  # Monday; the agreement took effect (Reg 39)

    def performance(self, *terms: PaymentTerm) -> list[Timer]:
        clocks = case("performance", entered_on=self.EFFECTIVE, effective_on=self.EFFECTIVE, payments=terms)
        return timers_of(clocks)

    def test_a_term_of_ten_working_days_from_effect(self) -> None:
        # agreement: "协议生效之日起10个工作日内" → 3–6, 9–13, 16 March
        ts = self.performance(PaymentTerm(0, "赔偿款", amount="80000.00", working_days=10))
        due_day = nth_working_day_after(self.EFFECTIVE, 10)
        assert due_day == D(2026, 3, 16)
        due, overdue = only(ts, "payment_due"), only(ts, "payment_overdue")
        assert due.at == midnight(D(2026, 3, 16))  # 00:00 of the last day
        assert overdue.at == midnight(D(2026, 3, 17))  # 24:00 of the last day
        assert due.due_on == overdue.due_on == D(2026, 3, 16)

    def test_the_prompt_to_record_performance_comes_five_working_days_after_the_due_day(self) -> None:
        # PML 32: after a missed deadline, staff record performance or tell the parties they may sue
        ts = self.performance(PaymentTerm(0, "赔偿款", working_days=10))
        prompt = only(ts, "payment_prompt")
        assert prompt.at == end_of_day(nth_working_day_after(D(2026, 3, 16), 5)) == midnight(D(2026, 3, 24))
        assert prompt.due_on == D(2026, 3, 16)  # it names the missed deadline
        assert "第三十二条" in prompt.message

    def test_a_term_with_a_date_is_due_that_date(self) -> None:
        # agreement: "于2026年4月15日前支付"; the prompt 5 WD later is 16, 17, 20, 21, 22 April
        ts = self.performance(PaymentTerm(0, "鉴定费", deadline=D(2026, 4, 15)))
        assert only(ts, "payment_due").at == start_of_day(D(2026, 4, 15)) == midnight(D(2026, 4, 15))
        assert only(ts, "payment_overdue").at == end_of_day(D(2026, 4, 15))
        assert only(ts, "payment_prompt").at == end_of_day(D(2026, 4, 22)) == end_of_day(
            nth_working_day_after(D(2026, 4, 15), 5)
        )

    def test_a_term_without_a_deadline_has_no_payment_timer(self) -> None:
        # a deadline only in words ("尽快") gives no timer; the judicial window still runs (PML 33)
        ts = self.performance(PaymentTerm(0, "赔礼道歉"))
        assert {t.kind for t in ts} == {"judicial_reminder", "judicial_window_closed"}

    def test_each_term_has_its_own_timers(self) -> None:
        ts = self.performance(
            PaymentTerm(0, "赔偿款", amount="50000.00", working_days=10),
            PaymentTerm(1, "赔礼道歉"),
            PaymentTerm(2, "余款", amount="30000.00", deadline=D(2026, 4, 15)),
        )
        assert sorted(t.key for t in of_kind(ts, "payment_due")) == [
            "payment_due:0:2026-03-16", "payment_due:2:2026-04-15",
        ]
        first, third = of_kind(ts, "payment_overdue")
        assert "协议第1项（赔偿款，人民币50000.00元）" in first.message
        assert "协议第3项（余款，人民币30000.00元）" in third.message

    def test_a_term_read_from_the_agreement(self) -> None:
        term = PaymentTerm.from_term(0, {"text": "赔偿款", "amount": 80000, "deadline_working_days": 10})
        assert only(self.performance(term), "payment_due").due_on == D(2026, 3, 16)

    def test_payment_timers_run_only_during_performance(self) -> None:
        # once performance is confirmed (settled) nothing is owed any more
        term = PaymentTerm(0, "赔偿款", working_days=10)
        clocks = case("settled", effective_on=self.EFFECTIVE, payments=(term,), performed_on=D(2026, 3, 10))
        kinds = {t.kind for t in timers_of(clocks)}
        assert kinds.isdisjoint({"payment_due", "payment_overdue", "payment_prompt"})


class TestJudicialConfirmationWindow:
    """PML 33, CPL 205: the parties may apply within 30 calendar days of the agreement's effect."""

    def window(self, effective_on: date, status: str = "performance", **clocks: object) -> list[Timer]:
        ts = timers_of(case(status, effective_on=effective_on, **clocks))
        return of_kind(ts, "judicial_reminder") + of_kind(ts, "judicial_window_closed")

    def test_closes_at_24_00_of_the_thirtieth_calendar_day(self) -> None:
        # PML 33; Civil Code 201: effective Monday 2026-03-02 (does not count) → Wednesday 2026-04-01,
        # a working day
        last = D(2026, 3, 2) + timedelta(days=30)
        assert last == D(2026, 4, 1) and official_working_day(last)
        _reminder, closed = self.window(D(2026, 3, 2))
        assert closed.kind == "judicial_window_closed"
        assert closed.at == midnight(D(2026, 4, 2))
        assert closed.due_on == D(2026, 4, 1)

    def test_reminds_the_mediator_five_days_before_the_last_day(self) -> None:
        reminder, _closed = self.window(D(2026, 3, 2))
        assert reminder.kind == "judicial_reminder"
        assert reminder.at == midnight(D(2026, 3, 27))  # 1 April − 5 days, at the start of the day
        assert reminder.due_on == D(2026, 4, 1)
        assert reminder.recipient_role == "mediator"
        assert "第三十三条" in reminder.message

    def test_a_last_day_on_a_weekend_moves_to_the_next_working_day(self) -> None:
        # Civil Code 203: effective 2026-03-12 → Saturday 2026-04-11 → Monday 2026-04-13
        last = D(2026, 3, 12) + timedelta(days=30)
        assert last == D(2026, 4, 11) and not official_working_day(last)
        reminder, closed = self.window(D(2026, 3, 12))
        assert closed.due_on == D(2026, 4, 13) and official_working_day(D(2026, 4, 13))
        assert closed.at == end_of_day(D(2026, 4, 13))
        assert reminder.at == midnight(D(2026, 4, 8))  # five days before the moved last day

    def test_a_last_day_in_national_day_moves_past_the_holiday(self) -> None:
        # Civil Code 203: effective 2026-09-01 → 2026-10-01, National Day (1–7 Oct) → Thursday 2026-10-08
        last = D(2026, 9, 1) + timedelta(days=30)
        assert last == D(2026, 10, 1) and chinese_calendar.is_holiday(last)
        _reminder, closed = self.window(D(2026, 9, 1))
        assert closed.due_on == D(2026, 10, 8)
        assert all(not official_working_day(D(2026, 10, day)) for day in range(1, 8))
        assert closed.at == midnight(D(2026, 10, 9))

    def test_a_last_day_on_a_make_up_saturday_stays(self) -> None:
        # Civil Code 203 moves only a day of rest; Saturday 2026-10-10 is a make-up working day
        last = D(2026, 9, 10) + timedelta(days=30)
        assert last == D(2026, 10, 10) and last.weekday() == 5 and official_working_day(last)
        _reminder, closed = self.window(D(2026, 9, 10))
        assert closed.due_on == D(2026, 10, 10)

    def test_the_window_also_runs_once_the_case_is_settled(self) -> None:
        # PML 33: the window runs from the agreement's effect, whether or not it has been performed yet
        settled = self.window(D(2026, 3, 2), status="settled", performed_on=D(2026, 3, 10))
        assert [t.due_on for t in settled] == [D(2026, 4, 1), D(2026, 4, 1)]

    @pytest.mark.parametrize("status", ["performance", "settled"])
    def test_no_timer_once_the_parties_applied(self, status: str) -> None:
        # PML 33: the parties applied for judicial confirmation; nothing more to remind
        applied = self.window(D(2026, 3, 2), status, judicial_applied=True, performed_on=D(2026, 3, 10))
        assert applied == []

    def test_the_key_names_the_last_day(self) -> None:
        reminder, closed = self.window(D(2026, 3, 12))
        assert reminder.key == "judicial_reminder:2026-04-13"
        assert closed.key == "judicial_window_closed:2026-04-13"


class TestFollowUpVisit:
    """Local people's-mediation rules: a follow-up visit 30 (calendar) days after performance."""

    def test_is_due_at_the_start_of_the_thirtieth_day_after_performance(self) -> None:
        # performed 2026-05-10 → 2026-06-09, calendar days (weekends and holidays are not skipped)
        clocks = case(
            "settled", effective_on=D(2026, 5, 1), performed_on=D(2026, 5, 10), judicial_applied=True
        )
        [followup] = timers_of(clocks)
        assert followup.kind == "followup_due"
        assert followup.at == midnight(D(2026, 6, 9))
        assert followup.due_on == D(2026, 6, 9)
        assert followup.recipient_role == "mediator"

    def test_a_day_of_rest_is_not_skipped(self) -> None:
        # performed 2026-09-01 → 2026-10-01, National Day: the visit is a task, not a period to extend
        clocks = case(
            "settled", effective_on=D(2026, 8, 1), performed_on=D(2026, 9, 1), judicial_applied=True
        )
        assert only(timers_of(clocks), "followup_due").due_on == D(2026, 10, 1)

    def test_no_visit_due_once_it_was_recorded(self) -> None:
        clocks = case("settled", effective_on=D(2026, 5, 1), performed_on=D(2026, 5, 10), followup_done=True)
        assert of_kind(timers_of(clocks), "followup_due") == []

    def test_no_visit_when_the_agreement_was_not_performed(self) -> None:
        # PML 32: nonperformance is recorded, the parties are told to sue; there is nothing to visit
        clocks = case("settled", effective_on=D(2026, 5, 1), performed_on=None)
        assert of_kind(timers_of(clocks), "followup_due") == []

    def test_no_visit_before_the_case_is_settled(self) -> None:
        clocks = case("performance", effective_on=D(2026, 5, 1), performed_on=D(2026, 5, 10))
        assert of_kind(timers_of(clocks), "followup_due") == []


class TestProvisionalDeadlines:
    """A deadline through a year the calendar does not know: counted Monday to Friday without the statutory
    holidays (rev 2), marked provisional."""

    ACCEPTED = D(2026, 12, 1)  # 30 WD later is in January 2027

    def mediation(self, calendar: WorkingDayCalendar) -> list[Timer]:
        return timers_of(case("in_mediation", mediation=running(self.ACCEPTED)), calendar)

    def test_a_mediation_deadline_in_2027_is_provisional_and_skips_new_years_day(self) -> None:
        # Reg 38, rev 2: 22 WD in December 2026, then 8 in January 2027, New Year's Day (a Friday) skipped by
        # statute → Wednesday 2027-01-13, never New Year's Day itself
        assert 2027 not in WorkingDayCalendar().known_years()
        ts = self.mediation(CAL)
        expired = only(ts, "deadline_expired")
        assert expired.due_on == D(2027, 1, 13) == nth_working_day_after(self.ACCEPTED, 30, provisional_2027)
        assert all(t.provisional for t in ts)

    def test_a_loaded_2027_table_makes_it_final(self) -> None:
        ts = self.mediation(CAL_2027)
        expired = only(ts, "deadline_expired")
        assert expired.due_on == D(2027, 1, 13)
        assert expired.due_on == nth_working_day_after(self.ACCEPTED, 30, weekday_or_table_2027)
        assert not any(t.provisional for t in ts)
        assert expired.key != only(self.mediation(CAL), "deadline_expired").key  # a new occasion

    @pytest.mark.parametrize("accepted", [D(2026, 11, 20), D(2026, 11, 21), D(2026, 11, 22)])
    def test_no_case_is_given_new_years_day_as_its_due_date(self, accepted: date) -> None:
        # rev 2, the defect as found: accepted 2026-11-20..22 got 2027-01-01 itself as its due date
        expired = only(timers_of(case("in_mediation", mediation=running(accepted))), "deadline_expired")
        assert expired.due_on == D(2027, 1, 4) == nth_working_day_after(accepted, 30, provisional_2027)

    def test_a_warning_in_2026_is_provisional_when_the_deadline_it_names_is(self) -> None:
        # Reg 38: accepted 2026-11-20 → 30th working day Monday 2027-01-04 (New Year's Day off by statute); the
        # 5-WD warning falls on 2026-12-25, a known day, but the deadline it announces is provisional
        accepted = D(2026, 11, 20)
        ts = timers_of(case("in_mediation", mediation=running(accepted)))
        five = warning(ts, 5)
        assert five.at == end_of_day(D(2026, 12, 25)) == end_of_day(nth_working_day_after(accepted, 25))
        assert (five.due_on, five.provisional) == (D(2027, 1, 4), True)
        assert "2027-01-04（暂定）" in five.message  # rev 2: （暂定） beside any provisional date
        final = warning(timers_of(case("in_mediation", mediation=running(accepted)), CAL_2027), 5)
        assert (final.due_on, final.provisional) == (D(2027, 1, 4), False)
        # the same occasion: a warning sent while the date was provisional is not sent again once it is exact
        assert final.at == five.at and final.key == five.key and "（暂定）" not in final.message

    def test_a_consent_period_reaching_2027(self) -> None:
        # requested Monday 2026-12-28 → 29, 30, 31 Dec, then (New Year's Day off) 4, 5 Jan 2027
        [provisional] = timers_of(case("awaiting_consent", entered_on=D(2026, 12, 28)))
        assert (provisional.due_on, provisional.provisional) == (D(2027, 1, 5), True)
        [final] = timers_of(case("awaiting_consent", entered_on=D(2026, 12, 28)), CAL_2027)
        assert (final.due_on, final.provisional) == (D(2027, 1, 5), False)

    def test_a_judicial_window_closing_in_2027(self) -> None:
        # PML 33: effective 2026-12-02 → the 30th day is New Year's Day 2027, a holiday by statute, so the
        # window closes on Monday 2027-01-04 (Civil Code 203), provisionally; the table confirms it
        clocks = case("performance", effective_on=D(2026, 12, 2))
        provisional = only(timers_of(clocks), "judicial_window_closed")
        assert (provisional.due_on, provisional.provisional) == (D(2027, 1, 4), True)
        final = only(timers_of(clocks, CAL_2027), "judicial_window_closed")
        assert (final.due_on, final.provisional) == (D(2027, 1, 4), False)

    def test_a_payment_term_counted_into_2027(self) -> None:
        # "协议生效之日起10个工作日内", effective 2026-12-24 → 25, 28, 29, 30, 31 Dec, 4, 5, 6, 7, 8 Jan 2027
        term = PaymentTerm(0, "赔偿款", working_days=10)
        clocks = case("performance", effective_on=D(2026, 12, 24), payments=(term,))
        due = only(timers_of(clocks), "payment_due")
        assert (due.due_on, due.provisional) == (D(2027, 1, 8), True)
        due = only(timers_of(clocks, CAL_2027), "payment_due")
        assert (due.due_on, due.provisional) == (D(2027, 1, 8), False)


class TestAProvisionalDeadlineNeverFailsACase:
    """rev 2 (DOMAIN.md "Unknown years"): at a provisional deadline the case stays, the director and the admins
    are asked for the calendar every working day; the loaded year makes the deadline exact."""

    ACCEPTED = D(2026, 11, 26)  # the defect as found: failed at 24:00 of a provisional 2027-01-07

    def test_the_provisional_deadline_holds_the_case_and_asks_director_and_admins_for_the_calendar(self) -> None:
        # Reg 38
        expired = only(timers_of(case("in_mediation", mediation=running(self.ACCEPTED))), "deadline_expired")
        assert expired.due_on == nth_working_day_after(self.ACCEPTED, 30, provisional_2027) == D(2027, 1, 8)
        assert expired.holds and not expired.raises_event
        assert (expired.recipient_role, expired.also_to) == ("director", ("admin",))
        assert "2027年工作日历尚未载入" in expired.message and "不产生法律后果" in expired.message

    def test_the_reminder_repeats_every_working_day_until_the_year_is_loaded(self) -> None:
        held = case("in_mediation", mediation=running(self.ACCEPTED))
        expired = only(timers_of(held), "deadline_expired")
        held = after_firing(held, expired)
        reminders = []
        for _ in range(3):
            [reminder] = of_kind(timers_of(held), "calendar_needed")
            reminders.append(reminder)
            held = after_firing(held, reminder)
        # Friday 01-08 held; Monday 01-11, Tuesday 01-12, Wednesday 01-13 asked again, at 24:00 of each
        assert [r.day for r in reminders] == [D(2027, 1, 11), D(2027, 1, 12), D(2027, 1, 13)]
        assert [r.at for r in reminders] == [end_of_day(r.day) for r in reminders if r.day]
        assert all(r.due_on == D(2027, 1, 8) and not r.raises_event and r.also_to == ("admin",) for r in reminders)
        assert len({r.key for r in reminders}) == 3

    def test_once_the_year_is_loaded_the_exact_deadline_raises_the_event(self) -> None:
        held = after_firing(case("in_mediation", mediation=running(self.ACCEPTED)),
                            only(timers_of(case("in_mediation", mediation=running(self.ACCEPTED))), "deadline_expired"))
        ts = timers_of(held, CAL_2027)
        exact = only(ts, "deadline_expired")
        assert exact.raises_event and not exact.provisional and exact.due_on == D(2027, 1, 8)
        assert of_kind(ts, "calendar_needed") == []
        assert exact.key == "deadline_expired:2027-01-08"  # not the provisional occasion, which has fired

    def test_an_exact_deadline_whose_day_of_grace_is_unknown_is_never_called_provisional(self) -> None:
        # Reg 38, 39 (rev 2): due 2026-12-31, exact; in signing the case waits one working day more, in 2027,
        # which is unknown: the case is held, but the message does not call the legal deadline provisional
        clock = running(D(2026, 11, 19))
        held = only(timers_of(case("signing", entered_on=D(2026, 12, 20), mediation=clock)), "deadline_expired")
        assert held.due_on == D(2026, 12, 31) and held.holds and held.provisional  # its firing day is unknown
        assert "已于2026-12-31届满" in held.message and "2026-12-31（暂定）" not in held.message
        assert "补录签署" in held.message and "（2027-01-04，暂定）" in held.message
        [again] = of_kind(timers_of(after_firing(case("signing", entered_on=D(2026, 12, 20), mediation=clock), held)),
                          "calendar_needed")
        assert "（暂定）" not in again.message.split("补录")[0] and again.provisional
        before = only(timers(case("signing", entered_on=D(2026, 12, 20), mediation=clock), calendar=CAL,
                             policy=POLICY, grace_wording=False), "deadline_expired")
        assert "2026-12-31（暂定）" in before.message  # as cases started before "grace-wording" word it
        exact = only(timers_of(case("signing", entered_on=D(2026, 12, 20), mediation=clock), CAL_2027),
                     "deadline_expired")
        assert exact.raises_event and exact.at == end_of_day(D(2027, 1, 4))

    def test_a_provisional_consent_deadline_holds_too(self) -> None:  # PML 17
        [expired] = timers_of(case("awaiting_consent", entered_on=D(2026, 12, 28)))
        assert expired.kind == "consent_expired" and expired.holds

    def test_the_first_rule_book_raised_the_event_on_a_provisional_date(self) -> None:
        # cases started before rev 2 replay as they ran
        [expired] = timers(case("awaiting_consent", entered_on=D(2026, 12, 28)), calendar=CAL, policy=POLICY,
                           hold_provisional=False)
        assert expired.raises_event and expired.provisional


class TestAnOpenAppraisal:
    # rev 2: an appraisal that never reports must not keep a case open unnoticed
    def test_the_mediator_is_reminded_every_twenty_working_days(self) -> None:
        clock = running(D(2026, 1, 20)).pause(D(2026, 2, 2), "医疗损害鉴定：上海市某司法鉴定中心")
        open_appraisal = case("appraisal", entered_on=D(2026, 2, 2), mediation=clock)
        days = []
        for _ in range(3):
            [reminder] = timers_of(open_appraisal)
            days.append(reminder.day)
            open_appraisal = after_firing(open_appraisal, reminder)
        first = nth_working_day_after(D(2026, 2, 2), 20)
        assert days == [first, nth_working_day_after(first, 20), nth_working_day_after(first, 40)]
        assert days[0] == D(2026, 3, 6)  # Spring Festival 2026 skipped, its make-up Saturdays counted

    def test_the_interval_is_a_policy(self) -> None:
        clock = running(D(2026, 3, 2)).pause(D(2026, 3, 10), "医疗损害鉴定")
        [reminder] = timers_of(case("appraisal", mediation=clock), policy=ClockPolicy(appraisal_reminder_wd=5))
        assert reminder.day == nth_working_day_after(D(2026, 3, 10), 5)

    def test_a_second_appraisal_counts_from_its_own_start(self) -> None:
        clock = (running(D(2026, 3, 2)).pause(D(2026, 3, 10), "第一次鉴定").resume(D(2026, 4, 20))
                 .pause(D(2026, 5, 6), "第二次鉴定"))
        reminded = case("appraisal", mediation=clock, appraisal_reminded_on=D(2026, 4, 8))  # of the first
        [reminder] = timers_of(reminded)
        assert reminder.day == nth_working_day_after(D(2026, 5, 6), 20)


class TestTermsPerformedInFull:
    def test_a_term_paid_in_full_is_not_chased(self) -> None:  # PML 31, rev 2
        terms = (PaymentTerm(0, "赔偿款", working_days=10), PaymentTerm(1, "护理费", working_days=20))
        clocks = case("performance", effective_on=D(2026, 3, 2), payments=terms, performed_terms=frozenset({0}))
        chased = {t.key.split(":")[1] for t in timers_of(clocks) if t.kind.startswith("payment")}
        assert chased == {"1"}

    def test_a_deadline_within_2026_is_never_provisional(self) -> None:
        ts = timers_of(case("in_mediation", mediation=running(D(2026, 9, 15))))
        assert not any(t.provisional for t in ts)


class TestTimerToDict:
    def test_gives_the_label_and_iso_times_and_dates(self) -> None:
        [expired] = timers_of(case("awaiting_consent", entered_on=D(2026, 3, 2)))
        assert expired.to_dict() == {
            "kind": "consent_expired",
            "label": "对方同意期限",
            "at": "2026-03-10T00:00:00+08:00",
            "due_on": "2026-03-09",
            "provisional": False,
            "recipient_role": "staff",
            "message": expired.message,
        }

    def test_is_json_safe_and_reads_back_the_same_instant(self) -> None:
        [expired] = timers_of(case("awaiting_consent", entered_on=D(2026, 3, 2)))
        data = json.loads(json.dumps(expired.to_dict(), ensure_ascii=False))
        assert datetime.fromisoformat(data["at"]) == expired.at
        assert date.fromisoformat(data["due_on"]) == expired.due_on

    def test_a_provisional_timer_says_so(self) -> None:
        [expired] = timers_of(case("awaiting_consent", entered_on=D(2026, 12, 28)))
        assert expired.to_dict()["provisional"] is True

    def test_every_kind_of_timer_has_a_label(self) -> None:
        term = PaymentTerm(0, "赔偿款", working_days=10)
        held = case("in_mediation", mediation=running(D(2026, 12, 1)), calendar_reminded_on=D(2027, 1, 13))
        cases = [
            case("awaiting_consent"),
            case("under_review"),
            case("in_mediation", mediation=running(D(2026, 1, 20))),
            case("appraisal", mediation=running(D(2026, 1, 20)).pause(D(2026, 2, 2), "鉴定")),
            held,
            case("performance", effective_on=D(2026, 3, 2), payments=(term,)),
            case("settled", effective_on=D(2026, 3, 2), performed_on=D(2026, 3, 10)),
        ]
        seen = {t.to_dict()["kind"]: t.to_dict()["label"] for c in cases for t in timers_of(c)}
        assert seen == TIMER_LABELS


class TestTimerOrder:
    def test_timers_come_earliest_first(self) -> None:
        # performance: a payment due 16 March (prompt 23 March) and the judicial window closing 1 April
        clocks = case(
            "performance", effective_on=D(2026, 3, 2), payments=(PaymentTerm(0, "赔偿款", working_days=10),)
        )
        ts = timers_of(clocks)
        assert [t.kind for t in ts] == [
            "payment_due", "payment_overdue", "payment_prompt", "judicial_reminder", "judicial_window_closed",
        ]
        assert [t.at for t in ts] == sorted(t.at for t in ts)


class TestStatesWithoutTimers:
    # Every clock's ledger is set, so only the status can explain the silence.
    FULL = {
        "mediation": MediationClock().start(D(2026, 1, 20)),
        "effective_on": D(2026, 3, 2),
        "payments": (PaymentTerm(0, "赔偿款", working_days=10),),
        "performed_on": D(2026, 3, 10),
    }

    @pytest.mark.parametrize("status", ["rejected", "failed", "terminated", "archived"])
    def test_a_closed_case_has_no_timers(self, status: str) -> None:
        assert timers_of(case(status, **self.FULL)) == []

    def test_a_registered_case_has_no_timer_yet(self) -> None:
        # the consent clock starts with request_consent, the review clock on entering under_review
        assert timers_of(case("registered")) == []
