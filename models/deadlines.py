"""Every deadline a case lives by, as timers: a pure function of the case's clocks, the calendar and the policy.

The workflow sleeps until the earliest timer it has not fired yet and recomputes the list whenever anything
changes (an event, a pause, an extension, a calendar year loaded), so a timer always follows the date it is
derived from. A timer's key names its occasion (the date it belongs to), so a timer re-armed by an extension is
a new one and a fired one never fires twice.

| Clock | Runs while | Timers |
|---|---|---|
| Consent | awaiting_consent | `consent_expired` at 24:00 of the consent_wd-th WD (PML 17: silence is refusal) |
| Acceptance review | under_review | `review_reminder` to the director, then `review_escalation`; never an acceptance |
| Mediation (Reg 38) | in_mediation, signing, clock running | `deadline_warning` at each warn_before_wd, `deadline_expired` |
| Payment (agreement) | performance | per term: `payment_due` on its day, `payment_overdue` at its end, `payment_prompt` later |
| Judicial confirmation (PML 33) | performance, settled, not applied | `judicial_reminder`, `judicial_window_closed` |
| Follow-up visit | settled after performance, no visit yet | `followup_due` |
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from models.clock import SHANGHAI, DateAnswer, MediationClock, WorkingDayCalendar, end_of_day
from models.policy import ClockPolicy

# The timers that raise a lifecycle event; every other timer writes a notification to the outbox.
SYSTEM_EVENTS = frozenset({"consent_expired", "deadline_expired"})

TIMER_LABELS: dict[str, str] = {
    "consent_expired": "对方同意期限",
    "review_reminder": "受理审查提醒",
    "review_escalation": "受理审查督办",
    "deadline_warning": "调解期限预警",
    "deadline_expired": "调解期限届满",
    "payment_due": "履行期限",
    "payment_overdue": "逾期未履行",
    "payment_prompt": "履行情况登记提示",
    "judicial_reminder": "司法确认申请提醒",
    "judicial_window_closed": "司法确认申请期限届满",
    "followup_due": "回访",
}
# Notifications of the expert panels (workflows/panel.py), in the same outbox.
PANEL_NOTICE_LABELS: dict[str, str] = {
    "expert_invitation": "专家咨询邀请",
    "panel_slot_unfilled": "专家库无可抽取专家",
    "panel_complete": "专家组组成完毕",
    "expert_meeting": "专家咨询会议",
}
NOTIFICATION_LABELS: dict[str, str] = {**TIMER_LABELS, **PANEL_NOTICE_LABELS}


@dataclass(frozen=True)
class Timer:
    at: datetime  # aware, Asia/Shanghai
    key: str  # unique per occasion
    kind: str  # a lifecycle event (SYSTEM_EVENTS) or a notification kind (TIMER_LABELS)
    recipient_role: str
    message: str
    due_on: date  # the day the deadline names
    provisional: bool = False  # counted Monday to Friday through a year the calendar does not know

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": TIMER_LABELS[self.kind],
            "at": self.at.isoformat(),
            "due_on": self.due_on.isoformat(),
            "provisional": self.provisional,
            "recipient_role": self.recipient_role,
            "message": self.message,
        }


@dataclass(frozen=True)
class PaymentTerm:
    """A term of the agreement with a deadline of performance: a date, or N working days from the day the
    agreement took effect (e.g. "协议生效之日起10个工作日内"). A term with only a deadline in words has no timer."""

    index: int
    text: str
    amount: str | None = None
    deadline: date | None = None
    working_days: int | None = None

    def due(self, calendar: WorkingDayCalendar, effective_on: date) -> DateAnswer | None:
        if self.deadline is not None:
            return DateAnswer(self.deadline, False)
        if self.working_days is not None:
            return calendar.add_working_days(effective_on, self.working_days)
        return None

    @classmethod
    def from_term(cls, index: int, term: Mapping[str, Any]) -> PaymentTerm:
        deadline = term.get("deadline")
        return cls(
            index=index,
            text=str(term.get("text", "")),
            amount=str(term["amount"]) if term.get("amount") is not None else None,
            deadline=date.fromisoformat(deadline) if deadline else None,
            working_days=term.get("deadline_working_days"),
        )


@dataclass(frozen=True)
class CaseClocks:
    """What the clocks of a case run from; the workflow keeps it, this module only reads it."""

    status: str
    entered_on: date  # the day the case entered its current status
    mediation: MediationClock
    effective_on: date | None = None  # the agreement took effect (Reg 39: the last of the four signatures)
    payments: tuple[PaymentTerm, ...] = ()
    performed_on: date | None = None  # the day performance was confirmed as paid
    judicial_applied: bool = False  # the parties applied for judicial confirmation (PML 33)
    followup_done: bool = False


def start_of_day(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=SHANGHAI)


def judicial_window_last_day(calendar: WorkingDayCalendar, effective_on: date, days: int) -> DateAnswer:
    """PML 33: within 30 (calendar) days of the agreement's effect. The effective day does not count (Civil Code
    201); a last day that is a holiday or a weekend moves to the next working day (Civil Code 203)."""
    last, provisional = effective_on + timedelta(days=days), False
    while True:
        answer = calendar.is_working_day(last)
        provisional = provisional or answer.provisional
        if answer.working:
            return DateAnswer(last, provisional)
        last += timedelta(days=1)


def timers(case: CaseClocks, *, calendar: WorkingDayCalendar, policy: ClockPolicy) -> list[Timer]:
    """Every timer of the case now, earliest first."""
    return sorted(_timers(case, calendar, policy), key=lambda t: (t.at, t.key))


def _timers(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    status = case.status
    if status == "awaiting_consent":
        yield from _consent(case, calendar, policy)
    elif status == "under_review":
        yield from _review(case, calendar, policy)
    elif status in ("in_mediation", "signing"):
        yield from _mediation(case.mediation, calendar, policy)
    if status == "performance":
        yield from _payments(case, calendar, policy)
    if status in ("performance", "settled"):
        yield from _judicial(case, calendar, policy)
    if status == "settled":
        yield from _followup(case, policy)


def _consent(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    due = calendar.add_working_days(case.entered_on, policy.consent_wd)
    yield Timer(
        end_of_day(due.date), f"consent_expired:{case.entered_on}", "consent_expired", "staff",
        f"对方当事人逾期未表示同意调解（期限{due.date}），视为不同意，不予受理（《人民调解法》第十七条）",
        due.date, due.provisional,
    )


def _review(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    reminder = calendar.add_working_days(case.entered_on, policy.review_reminder_wd)
    yield Timer(
        end_of_day(reminder.date), f"review_reminder:{case.entered_on}", "review_reminder", "director",
        f"受理审查已满{policy.review_reminder_wd}个工作日，请主任作出受理或不予受理决定", reminder.date,
        reminder.provisional,
    )
    escalation = calendar.add_working_days(reminder.date, policy.review_escalation_wd)
    yield Timer(
        end_of_day(escalation.date), f"review_escalation:{case.entered_on}", "review_escalation", "admin",
        f"受理审查已逾期（提醒后又{policy.review_escalation_wd}个工作日仍未决定），请督办", escalation.date,
        reminder.provisional or escalation.provisional,
    )


def _mediation(clock: MediationClock, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    if not clock.started or clock.paused:  # Reg 38: appraisal time does not count
        return
    due = clock.due_date(calendar)
    if due is None:
        return
    restarted = clock.running_since
    for before in policy.warn_before_wd:
        warning = clock.warning_date(calendar, before)
        # A warning day before the clock last (re)started was passed before an appraisal: not armed again.
        if warning is not None and warning.date < due.date and (restarted is None or warning.date >= restarted):
            yield Timer(
                end_of_day(warning.date), f"deadline_warning:{before}:{due.date}", "deadline_warning", "mediator",
                f"调解期限还剩{before}个工作日，将于{due.date}届满（《医疗纠纷预防和处理条例》第三十八条）", due.date,
                warning.provisional or due.provisional,
            )
    yield Timer(
        end_of_day(due.date), f"deadline_expired:{due.date}", "deadline_expired", "mediator",
        f"调解期限已于{due.date}届满，未达成生效的调解协议，视为调解不成（《医疗纠纷预防和处理条例》第三十八条）",
        due.date, due.provisional,
    )


def _payments(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    if case.effective_on is None:
        return
    for term in case.payments:
        due = term.due(calendar, case.effective_on)
        if due is None:
            continue
        what = f"协议第{term.index + 1}项（{term.text}" + (f"，人民币{term.amount}元" if term.amount else "") + "）"
        occasion = f"{term.index}:{due.date}"
        yield Timer(
            start_of_day(due.date), f"payment_due:{occasion}", "payment_due", "mediator",
            f"{what}今日履行期限届满，请督促履行（《人民调解法》第三十一条）", due.date, due.provisional,
        )
        yield Timer(
            end_of_day(due.date), f"payment_overdue:{occasion}", "payment_overdue", "mediator",
            f"{what}已逾履行期限（{due.date}），请核实履行情况", due.date, due.provisional,
        )
        prompt = calendar.add_working_days(due.date, policy.payment_prompt_wd)
        yield Timer(
            end_of_day(prompt.date), f"payment_prompt:{occasion}", "payment_prompt", "mediator",
            f"{what}逾期已{policy.payment_prompt_wd}个工作日，请登记履行情况：已履行（confirm_performance）"
            "或未履行、告知当事人向人民法院起诉（record_nonperformance，《人民调解法》第三十二条）",
            due.date, due.provisional or prompt.provisional,
        )


def _judicial(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    if case.effective_on is None or case.judicial_applied:
        return
    last = judicial_window_last_day(calendar, case.effective_on, policy.judicial_confirmation_days)
    remind_on = last.date - timedelta(days=policy.judicial_reminder_days)
    if remind_on > case.effective_on:
        yield Timer(
            start_of_day(remind_on), f"judicial_reminder:{last.date}", "judicial_reminder", "mediator",
            f"司法确认申请期限将于{last.date}届满，如当事人需要，请告知其共同向人民法院申请司法确认"
            "（《人民调解法》第三十三条）", last.date, last.provisional,
        )
    yield Timer(
        end_of_day(last.date), f"judicial_window_closed:{last.date}", "judicial_window_closed", "mediator",
        f"司法确认申请期限已于{last.date}届满，当事人未申请；调解协议仍具有法律约束力（《人民调解法》第三十一条）",
        last.date, last.provisional,
    )


def _followup(case: CaseClocks, policy: ClockPolicy) -> Iterator[Timer]:
    if case.performed_on is None or case.followup_done:
        return
    due = case.performed_on + timedelta(days=policy.followup_days)
    yield Timer(
        start_of_day(due), f"followup_due:{due}", "followup_due", "mediator",
        f"协议履行已满{policy.followup_days}日，请进行回访并登记回访记录", due,
    )
