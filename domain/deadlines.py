"""Every deadline a case lives by, as timers: a pure function of the case's clocks, the calendar and the policy.

The workflow sleeps until the earliest timer it has not fired yet and recomputes the list whenever anything
changes (an event, a pause, an extension, a calendar year loaded), so a timer always follows the date it is
derived from. A timer's key names its occasion (the date it belongs to), so a timer re-armed by an extension is
a new one and a fired one never fires twice.

| Clock | Runs while | Timers |
|---|---|---|
| Consent | awaiting_consent | `consent_expired` at 24:00 of the consent_wd-th WD (PML 17: silence is refusal) |
| Acceptance review | under_review | `review_reminder` to the director, then `review_escalation`; never an acceptance |
| Mediation (Reg 38) | in_mediation, signing, clock running | `deadline_warning` at each warn_before_wd, `deadline_expired` (in signing, signing_grace_wd later) |
| Appraisal (Reg 38) | appraisal | `appraisal_reminder` every appraisal_reminder_wd, until it is finished or abandoned |
| Payment (agreement) | performance | per term: `payment_due` on its day, `payment_overdue` at its end, `payment_prompt` later |
| Judicial confirmation (PML 33) | performance, settled, not applied | `judicial_reminder`, `judicial_window_closed` |
| Follow-up visit | settled after performance, no visit yet | `followup_due` |

A provisional deadline never fails a case (rev 2). A system event whose date was counted through a year the
calendar does not know fires as a *hold*: the case stays as it is, the director and the admins are told that the
year's calendar must be loaded (`calendar_needed`), and the reminder repeats every working day. Loading the year
makes the date exact; an exact date already passed then raises the event at once, dated at that deadline.
Repeating reminders remember the day they last fired in `CaseClocks` (`after_firing`), so that the list stays a
pure function of the clocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.clock import ClockError, DateAnswer, MediationClock, WorkingDayCalendar, end_of_day
from domain.policy import ClockPolicy
from domain.time import SHANGHAI

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
    "calendar_needed": "工作日历待载入",
    "appraisal_reminder": "鉴定进展登记提醒",
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
    provisional: bool = False  # counted through a year the calendar does not know (domain/clock.py)
    also_to: tuple[str, ...] = ()  # further roles told (a hold: the admins, who load calendar years)
    day: date | None = None  # a repeating reminder: the day at whose end it fires (see after_firing)
    holds: bool = False  # a system event's provisional date: it holds the case instead of raising the event

    @property
    def raises_event(self) -> bool:
        """A lifecycle event is raised only on an exact date: a provisional one holds the case (rev 2)."""
        return self.kind in SYSTEM_EVENTS and not self.holds

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for the case row (domain/projection.py); `from_dict` reads it back exactly."""
        return {"index": self.index, "text": self.text, "amount": self.amount, "deadline": _iso(self.deadline),
                "working_days": self.working_days}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaymentTerm:
        return cls(index=int(data["index"]), text=str(data["text"]), amount=data.get("amount"),
                   deadline=_date(data.get("deadline")), working_days=data.get("working_days"))

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
    performed_terms: frozenset[int] = frozenset()  # indexes of terms performed in full (record_payment)
    calendar_reminded_on: date | None = None  # a held deadline: the last day admins were asked for the calendar
    appraisal_reminded_on: date | None = None  # the last reminder about the open appraisal

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (ISO dates), kept with the case row so that a loaded calendar year can recompute the case's
        deadlines without its workflow (domain/projection.py); `from_dict` reads it back exactly."""
        return {
            "status": self.status,
            "entered_on": self.entered_on.isoformat(),
            "mediation": self.mediation.to_dict(),
            "effective_on": _iso(self.effective_on),
            "payments": [term.to_dict() for term in self.payments],
            "performed_on": _iso(self.performed_on),
            "judicial_applied": self.judicial_applied,
            "followup_done": self.followup_done,
            "performed_terms": sorted(self.performed_terms),
            "calendar_reminded_on": _iso(self.calendar_reminded_on),
            "appraisal_reminded_on": _iso(self.appraisal_reminded_on),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseClocks:
        """The inverse of `to_dict`. A record that is not one raises `ClockError` (the mediation clock's ledger
        is checked again, domain/clock.py)."""
        try:
            return cls(
                status=str(data["status"]),
                entered_on=_day(data["entered_on"]),
                mediation=MediationClock.from_dict(data["mediation"]),
                effective_on=_date(data.get("effective_on")),
                payments=tuple(PaymentTerm.from_dict(term) for term in data.get("payments", [])),
                performed_on=_date(data.get("performed_on")),
                judicial_applied=bool(data.get("judicial_applied", False)),
                followup_done=bool(data.get("followup_done", False)),
                performed_terms=frozenset(int(i) for i in data.get("performed_terms", [])),
                calendar_reminded_on=_date(data.get("calendar_reminded_on")),
                appraisal_reminded_on=_date(data.get("appraisal_reminded_on")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, ClockError):
                raise
            raise ClockError(f"not a record of a case's clocks: {exc!r}") from None


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _day(text: Any) -> date:
    if not isinstance(text, str):
        raise ClockError(f"not an ISO date: {text!r}")
    return date.fromisoformat(text)


def _date(text: Any) -> date | None:
    return None if text is None else _day(text)


def after_firing(case: CaseClocks, timer: Timer) -> CaseClocks:
    """The clocks once `timer` has fired: a repeating reminder remembers its day, so the next one follows it."""
    if timer.holds or timer.kind == "calendar_needed":
        return replace(case, calendar_reminded_on=timer.day or timer.due_on)
    if timer.kind == "appraisal_reminder":
        return replace(case, appraisal_reminded_on=timer.day)
    return case


def _shown(answer: DateAnswer) -> str:
    """A date as staff read it in a message: a provisional one says so (rev 2: "（暂定）" beside it)."""
    return f"{answer.date}（暂定）" if answer.provisional else str(answer.date)


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


def timers(
    case: CaseClocks, *, calendar: WorkingDayCalendar, policy: ClockPolicy, hold_provisional: bool = True,
    grace_wording: bool = True,
) -> list[Timer]:
    """Every timer of the case now, earliest first. `hold_provisional=False` is the first rule book's: a
    provisional deadline raised its event like an exact one (cases started before rev 2 replay that way).
    `grace_wording=False` words a case held only for its day of grace as cases started before "grace-wording"
    did (their workflows compare the deadlines they wrote last, the words included)."""
    return sorted(_timers(case, calendar, policy, hold_provisional, grace_wording), key=lambda t: (t.at, t.key))


def _timers(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy, hold: bool,
            grace_wording: bool = True) -> Iterator[Timer]:
    status = case.status
    if status == "awaiting_consent":
        yield from _consent(case, calendar, policy, hold)
    elif status == "under_review":
        yield from _review(case, calendar, policy)
    elif status in ("in_mediation", "signing"):
        yield from _mediation(case, calendar, policy, hold, grace_wording)
    elif status == "appraisal":
        yield from _appraisal(case, calendar, policy)
    if status == "performance":
        yield from _payments(case, calendar, policy)
    if status in ("performance", "settled"):
        yield from _judicial(case, calendar, policy)
    if status == "settled":
        yield from _followup(case, policy)


def _system_deadline(
    case: CaseClocks, calendar: WorkingDayCalendar, hold: bool, *, kind: str, key: str, due: DateAnswer,
    last_day: DateAnswer, recipient: str, message: str, what: str, grace_wording: bool = True,
) -> Iterator[Timer]:
    """A deadline that raises `kind` at 24:00 of `last_day` when it is exact, and otherwise holds the case and
    asks for the calendar, every working day until the year is loaded (rev 2)."""
    provisional = due.provisional or last_day.provisional
    if not provisional or not hold:
        yield Timer(end_of_day(last_day.date), key, kind, recipient, message, due.date, provisional, day=last_day.date)
        return
    years = "、".join(str(y) for y in calendar.provisional_years_in(case.entered_on, last_day.date))
    ask = (f"请管理员载入{years}年工作日历（国务院公布节假日安排后），载入后期限即成确定；确定期限已过的，案件随即按该期限处理")
    if due.provisional or not grace_wording:
        held_because = f"{what}于{due.date}（暂定）届满，但{years}年工作日历尚未载入：暂定期限届满不产生法律后果"
        still = f"{what}于{due.date}（暂定）届满，{years}年工作日历仍未载入"
    else:  # the deadline itself is exact; only the working day allowed after it for recording signatures is not
        held_because = (f"{what}已于{due.date}届满；其后补录签署的期限（{last_day.date}，暂定）所在的{years}年"
                        f"工作日历尚未载入，补录期限无法确定")
        still = f"{what}已于{due.date}届满，补录签署期限所在的{years}年工作日历仍未载入"
    yield Timer(
        end_of_day(last_day.date), f"{key}:provisional", kind, "director", f"{held_because}，案件维持现状。{ask}",
        due.date, True, also_to=("admin",), day=last_day.date, holds=True,
    )
    held = case.calendar_reminded_on
    if held is not None and held >= last_day.date:
        again = calendar.add_working_days(held, 1)
        yield Timer(
            end_of_day(again.date), f"calendar_needed:{kind}:{again.date}", "calendar_needed", "director",
            f"{still}，案件维持现状。{ask}", due.date, True, also_to=("admin",), day=again.date,
        )


def consent_due(case: CaseClocks, *, calendar: WorkingDayCalendar, policy: ClockPolicy) -> DateAnswer:
    """The last day for the other side's answer: consent_wd working days after consent was asked for."""
    return calendar.add_working_days(case.entered_on, policy.consent_wd)


def _consent(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy, hold: bool) -> Iterator[Timer]:
    due = consent_due(case, calendar=calendar, policy=policy)
    yield from _system_deadline(
        case, calendar, hold, kind="consent_expired", key=f"consent_expired:{case.entered_on}", due=due, last_day=due,
        recipient="staff", what="对方当事人表示是否同意调解的期限（《人民调解法》第十七条）",
        message=f"对方当事人逾期未表示同意调解（期限{due.date}），视为不同意，不予受理（《人民调解法》第十七条）",
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


def _mediation(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy, hold: bool,
               grace_wording: bool = True) -> Iterator[Timer]:
    clock = case.mediation
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
            shown = DateAnswer(due.date, warning.provisional or due.provisional)
            yield Timer(
                end_of_day(warning.date), f"deadline_warning:{before}:{due.date}", "deadline_warning", "mediator",
                f"调解期限还剩{before}个工作日，将于{_shown(shown)}届满（《医疗纠纷预防和处理条例》第三十八条）", due.date,
                shown.provisional,
            )
    # Reg 38, 39 (rev 2): while signatures are collected the case waits `signing_grace_wd` more working days, for
    # signatures made by the due date and recorded after it.
    last_day = calendar.add_working_days(due.date, policy.signing_grace_wd) if case.status == "signing" else due
    yield from _system_deadline(
        case, calendar, hold, kind="deadline_expired", key=f"deadline_expired:{due.date}", due=due, last_day=last_day,
        recipient="mediator", what="调解期限（《医疗纠纷预防和处理条例》第三十八条）", grace_wording=grace_wording,
        message=f"调解期限已于{due.date}届满，未达成生效的调解协议，视为调解不成（《医疗纠纷预防和处理条例》第三十八条）",
    )


def _appraisal(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    """Reg 38 (rev 2): an appraisal that never reports must not keep a case open unnoticed."""
    if not case.mediation.paused:
        return
    pause = case.mediation.pauses[-1]
    last = case.appraisal_reminded_on
    since = last if last is not None and last >= pause.started_on else pause.started_on
    again = calendar.add_working_days(since, policy.appraisal_reminder_wd)
    yield Timer(
        end_of_day(again.date), f"appraisal_reminder:{pause.started_on}:{again.date}", "appraisal_reminder",
        "mediator",
        f"{pause.reason}自{pause.started_on}起尚未登记结果（调解期限暂停中），请登记鉴定进展：已出具鉴定意见的登记鉴定结果"
        "（finish_appraisal）；鉴定机构不予受理或退回、鉴定费未预交、双方撤回鉴定申请的登记鉴定终止（abandon_appraisal），"
        "调解期限随即恢复计算", again.date, again.provisional, day=again.date,
    )


def _payments(case: CaseClocks, calendar: WorkingDayCalendar, policy: ClockPolicy) -> Iterator[Timer]:
    if case.effective_on is None:
        return
    for term in case.payments:
        if term.index in case.performed_terms:  # performed in full: nothing to chase
            continue
        due = term.due(calendar, case.effective_on)
        if due is None:
            continue
        what = f"协议第{term.index + 1}项（{term.text}" + (f"，人民币{term.amount}元" if term.amount else "") + "）"
        occasion = f"{term.index}:{due.date}"
        yield Timer(
            start_of_day(due.date), f"payment_due:{occasion}", "payment_due", "mediator",
            f"{what}今日（{_shown(due)}）履行期限届满，请督促履行（《人民调解法》第三十一条）", due.date, due.provisional,
        )
        yield Timer(
            end_of_day(due.date), f"payment_overdue:{occasion}", "payment_overdue", "mediator",
            f"{what}已逾履行期限（{_shown(due)}），请核实履行情况", due.date, due.provisional,
        )
        prompt = calendar.add_working_days(due.date, policy.payment_prompt_wd)
        yield Timer(
            end_of_day(prompt.date), f"payment_prompt:{occasion}", "payment_prompt", "mediator",
            f"{what}逾期已{policy.payment_prompt_wd}个工作日，请登记履行情况：已履行的登记履行（record_payment），"
            "全部履行后确认履行完毕（confirm_performance）；未履行的告知当事人向人民法院起诉（record_nonperformance，"
            "《人民调解法》第三十二条）",
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
            f"司法确认申请期限将于{_shown(last)}届满，如当事人需要，请告知其共同向人民法院申请司法确认"
            "（《人民调解法》第三十三条）", last.date, last.provisional,
        )
    yield Timer(
        end_of_day(last.date), f"judicial_window_closed:{last.date}", "judicial_window_closed", "mediator",
        f"司法确认申请期限已于{_shown(last)}届满，当事人未申请；调解协议仍具有法律约束力（《人民调解法》第三十一条）",
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
