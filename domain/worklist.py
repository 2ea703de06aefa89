"""The worklist's rules: what is a task for whom, the day it is due, how urgent it is, what it says. Pure.

A task is something a member of the committee's staff must do on a case, with the day the law or the committee's
policy gives for it (shared/DOMAIN.md, "Time: the clocks"). The worklist (GET /worklist, api/services/worklist.py)
reads the case rows within the caller's reach and asks `tasks_of_case` which of their deadlines are the caller's
tasks; nothing here reads a database or a workflow.

| Kind | Whose | A task when | Due day |
|---|---|---|---|
| `review` | director | the case is under acceptance review | the review's reminder day (3 WD, policy) |
| `consent` | intake | the other side's consent was asked for (Reg 31¶1) | the consent deadline (PML 17) |
| `signatures` | mediator | the agreement is drafted and a party or the mediator has not signed (Reg 39) | the mediation deadline |
| `seal` | director | the agreement is drafted and the committee seal is missing (Reg 39) | the mediation deadline |
| `mediation_deadline` | mediator | the Reg 38 period runs out within the window | its last day |
| `appraisal` | mediator | an open appraisal's status is due to be recorded within the window (Reg 38, rev 2) | the reminder day |
| `payment` | mediator | a term of the agreement falls due within the window, or is overdue (PML 31) | the term's deadline |
| `judicial_confirmation` | mediator | the PML 33 window closes within the window | its last day |
| `followup` | mediator | the follow-up visit is due within the window, or overdue | 30 days after performance |
| `panel_seat` | mediator, director | a seat of an expert panel could not be filled (Reg 33, 35) | none |

The first four and `panel_seat` are tasks whatever their day; the others only once their day is within the window
(`within` working days from today) or past. Urgency: overdue first (an overdue task whose day is unknown first of
all), then by due day, then by the weight of what happens on it (a case that fails or is rejected first), and the
tasks without a day last.

A provisional day (a year the calendar does not know, rev 2) is shown as such; a provisional deadline that has
passed holds the case rather than failing it, and the task says so.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from domain.clock import DateAnswer, WorkingDayCalendar
from domain.deadlines import CaseClocks, timers
from domain.lifecycle import REQUIRED_SIGNERS
from domain.parties import heirs_of
from domain.policy import ClockPolicy
from domain.specialties import SPECIALTIES

When = Literal["overdue", "due_today", "this_week", "later", "undated"]
WHENS: tuple[str, ...] = ("overdue", "due_today", "this_week", "later", "undated")
DEFAULT_WITHIN = 5  # working days: the rule book's first warning before the mediation deadline
MAX_WITHIN = 60


@dataclass(frozen=True)
class TaskKind:
    name: str
    roles: frozenset[str]  # whose task it is
    event: str | None  # the action that does it (domain/events.py); None: not an event of the case
    alternatives: tuple[str, ...]  # other actions that settle it
    always: bool  # a task whatever its day (else only once its day is within the window or past)
    weight: int  # among tasks due the same day, the lower first: what happens on the day matters most
    statuses: frozenset[str]  # the case's states in which it can be a task
    label: str  # 中文
    label_en: str
    # the task outlives the timer that announced it (a follow-up is due from the morning its timer fires until it
    # is recorded): the cases in these states are read whatever their next deadline
    sticky: bool = False


_MEDIATOR = frozenset({"mediator"})
_DIRECTOR = frozenset({"director"})
KINDS: dict[str, TaskKind] = {k.name: k for k in (
    # Reg 38: the case fails when the period runs out without an effective agreement
    TaskKind("mediation_deadline", _MEDIATOR, "draft_agreement", ("extend_deadline", "declare_failed"), False, 0,
             frozenset({"in_mediation"}), "调解期限", "Mediation period"),
    # Reg 39: the four acts make the agreement effective; the period runs on while they are collected
    TaskKind("signatures", _MEDIATOR, "sign", ("revise_agreement",), True, 1, frozenset({"signing"}),
             "协议签署", "Signatures"),
    TaskKind("seal", _DIRECTOR, "sign", (), True, 2, frozenset({"signing"}), "加盖调解委员会印章",
             "Committee seal"),
    # PML 17: silence past the consent deadline is a refusal
    TaskKind("consent", frozenset({"intake"}), "record_consent", ("record_refusal",), True, 3,
             frozenset({"awaiting_consent"}), "征求对方意见", "Consent"),
    TaskKind("review", _DIRECTOR, "accept", ("reject",), True, 4, frozenset({"under_review"}), "受理审查",
             "Acceptance review"),
    TaskKind("payment", _MEDIATOR, "record_payment", ("confirm_performance", "record_nonperformance"), False, 5,
             frozenset({"performance"}), "协议履行", "Performance"),
    TaskKind("judicial_confirmation", _MEDIATOR, "record_judicial_confirmation", (), False, 6,
             frozenset({"performance", "settled"}), "司法确认", "Judicial confirmation"),
    TaskKind("appraisal", _MEDIATOR, "finish_appraisal", ("abandon_appraisal",), False, 7, frozenset({"appraisal"}),
             "鉴定进展", "Appraisal"),
    TaskKind("followup", _MEDIATOR, "record_followup", (), False, 8, frozenset({"settled"}), "回访", "Follow-up",
             sticky=True),
    TaskKind("panel_seat", frozenset({"mediator", "director"}), None, (), True, 9,
             frozenset({"in_mediation", "appraisal", "signing"}), "专家咨询", "Expert panel"),
)}
CASE_KINDS = tuple(k for k in KINDS if k != "panel_seat")  # the kinds read from the case row itself
SIGNER_LABELS = {"patient": ("患方", "patient side"), "institution": ("医方", "institution"),
                 "mediator": ("调解员", "mediator"), "committee_seal": ("调解委员会印章", "committee seal")}


def kinds_for(role: str, *, everything: bool = False) -> frozenset[str]:
    """The kinds of task that are a role's (`everything`: dev mode's caller, who stands in for every role)."""
    return frozenset(k.name for k in KINDS.values() if everything or role in k.roles)


def statuses_to_read(kinds: Collection[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Which cases in reach a worklist of these kinds reads: those in the first states whatever their dates (each
    may hold a task now), and those in the second only when their next deadline is within the window or a payment
    of theirs is overdue (the others hold none of these tasks). The panels' seats are read apart."""
    wanted = [KINDS[k] for k in kinds if k in CASE_KINDS]
    always = frozenset(s for k in wanted if k.always or k.sticky for s in k.statuses)
    near = frozenset(s for k in wanted if not k.always for s in k.statuses)
    return always, near - always


# ------------------------------------------------------------------ the days -------------------------------
def horizon(calendar: WorkingDayCalendar, today: date, within: int) -> DateAnswer:
    """The last day of the window: `within` working days after today (0: today itself)."""
    return calendar.add_working_days(today, within)


def working_days_left(calendar: WorkingDayCalendar, today: date, due: date) -> int:
    """Working days from today to the due day (the due day counts, today does not: Civil Code 201); 0 when due
    today; negative when overdue: the working days since it passed, at least one (a deadline ends at 24:00 of its
    day, so the day after it is overdue even when that is a day off)."""
    if due >= today:
        return calendar.working_days_after(today, due).days
    return -max(1, calendar.working_days_after(due, today).days)


def when_of(today: date, due: date | None, *, overdue: bool = False) -> str:
    """The task's group: overdue, due today, due later this week (to Sunday, Asia/Shanghai), later, or undated."""
    if overdue or (due is not None and due < today):
        return "overdue"
    if due is None:
        return "undated"
    if due == today:
        return "due_today"
    return "this_week" if due <= today + timedelta(days=6 - today.weekday()) else "later"


# ------------------------------------------------------------------ what the rules read -----------------------
@dataclass(frozen=True)
class Due:
    """A deadline of the case as the worklist reads it: its timer's kind (domain/deadlines.py), its day, whether
    that day is provisional, and for an agreement's term its index."""

    kind: str
    due_on: date
    provisional: bool
    term: int | None = None


@dataclass(frozen=True)
class WorkCase:
    """What the worklist reads of a case row."""

    id: str
    number: str
    committee_id: str
    status: str
    patient_side: tuple[str, ...]  # the patient, or each heir when the patient has died (Civil Code 173)
    institution: str
    heirs: tuple[str, ...] = ()
    signed: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # signer -> the act (Reg 39)
    deadlines: tuple[Due, ...] = ()  # every deadline of the case now, fired or not (or the pending ones)
    complete: bool = True  # `deadlines` holds the fired ones too (the row keeps its clocks)
    terms: Mapping[int, str] = field(default_factory=dict)  # the agreement's terms with a deadline: index -> text
    payment_overdue: bool = False  # a term's deadline passed unpaid (the payment_overdue timer fired)

    @classmethod
    def of_record(
        cls, *, id: str, number: str, committee_id: str, status: str, patient: Mapping[str, Any] | None,
        representatives: Iterable[Mapping[str, Any]] | None, patient_name: str, institution_name: str,
        signatures: Mapping[str, Mapping[str, Any]] | None, deadlines: Iterable[Mapping[str, Any]] | None,
        clock: Mapping[str, Any] | None, payment_overdue: bool, calendar: WorkingDayCalendar,
    ) -> WorkCase:
        """A case from its row: its deadlines recomputed from the clocks the row keeps when it keeps them (so that
        a deadline already fired — a payment overdue, a follow-up due — stays a task until it is done), else the
        pending ones the row shows."""
        heirs = tuple(h.get("name", "") for h in heirs_of({"patient": dict(patient or {}),
                                                           "patient_representatives": list(representatives or [])}))
        every = _every_deadline(clock, calendar)
        terms: dict[int, str] = {}
        if every is not None:
            dues, clocks = every
            terms = {t.index: t.text for t in clocks.payments}
        else:
            dues = tuple(_due_of_row(d) for d in deadlines or () if d.get("due_on"))
        return cls(id=id, number=number, committee_id=committee_id, status=status,
                   patient_side=heirs or (patient_name,), institution=institution_name, heirs=heirs,
                   signed=dict(signatures or {}), deadlines=dues, complete=every is not None, terms=terms,
                   payment_overdue=payment_overdue)

    def first(self, *kinds: str) -> Due | None:
        return next((d for d in sorted(self.deadlines, key=lambda d: d.due_on) if d.kind in kinds), None)

    def missing_signers(self) -> list[str]:
        """Reg 39: who has not signed yet, the committee seal apart; each heir by name when the patient has died."""
        missing = []
        for signer in REQUIRED_SIGNERS:
            if signer == "committee_seal":
                continue
            if signer == "patient" and self.heirs:
                done = set(self.signed.get("patient", {}).get("heirs_signed", []))
                missing += [f"heir:{h}" for h in self.heirs if h not in done]
            elif signer not in self.signed:
                missing.append(signer)
        return missing


def _every_deadline(clock: Mapping[str, Any] | None, calendar: WorkingDayCalendar
                    ) -> tuple[tuple[Due, ...], CaseClocks] | None:
    """Every timer of the case now, fired or not, from the clocks its row keeps (domain/projection.py); None when
    the row keeps none (written before it kept them) or they cannot be read."""
    keys = ("case_clocks", "policy", "hold_provisional")
    if not clock or any(k not in clock for k in keys):
        return None
    try:
        clocks = CaseClocks.from_dict(clock["case_clocks"])
        policy = ClockPolicy.from_dict(clock["policy"])
        every = timers(clocks, calendar=calendar, policy=policy, hold_provisional=bool(clock["hold_provisional"]))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return tuple(Due(t.kind, t.due_on, t.provisional, _term_of(t.key)) for t in every), clocks


def _term_of(key: str) -> int | None:
    """The term index a payment timer's key names (`payment_overdue:<index>:<day>`)."""
    kind, _, rest = key.partition(":")
    if not kind.startswith("payment_"):
        return None
    index, _, _ = rest.partition(":")
    return int(index) if index.isdigit() else None


def _due_of_row(deadline: Mapping[str, Any]) -> Due:
    return Due(str(deadline.get("kind", "")), date.fromisoformat(deadline["due_on"]),
               bool(deadline.get("provisional")))


# ------------------------------------------------------------------ the tasks ---------------------------------
@dataclass(frozen=True)
class Action:
    method: str
    path: str
    event: str | None = None


@dataclass(frozen=True)
class Task:
    key: str  # unique and stable: the kind, the case (or panel) and the occasion
    kind: str
    case: WorkCase
    due_on: date | None
    provisional: bool
    overdue: bool
    working_days_left: int | None
    when: str
    label: str
    label_en: str
    action: Action
    alternatives: tuple[Action, ...] = ()

    @property
    def sort_key(self) -> tuple[int, str, int, str]:
        """Urgency: overdue first (one whose day is unknown first of all), then the due day, then the weight of
        the kind, then the key; tasks without a day last."""
        if self.due_on is None:
            return (0 if self.overdue else 2, "", KINDS[self.kind].weight, self.key)
        return (1, self.due_on.isoformat(), KINDS[self.kind].weight, self.key)


def case_action(event: str, case_id: str) -> Action:
    """The staff action's endpoint: POST /cases/{id}/<event> (api/routes/actions.py)."""
    return Action("POST", f"/cases/{case_id}/{event.replace('_', '-')}", event)


@dataclass(frozen=True)
class Window:
    """What the rules need besides the case: today, the window's last day and the calendar."""

    today: date
    horizon: date
    calendar: WorkingDayCalendar

    def task(self, kind: str, case: WorkCase, due: Due | None, occasion: str, label: str, label_en: str, *,
             overdue: bool = False, action: Action | None = None) -> Task:
        spec = KINDS[kind]
        day = due.due_on if due else None
        overdue = overdue or (day is not None and day < self.today)
        return Task(
            key=f"{kind}:{case.id}" + (f":{occasion}" if occasion else ""),
            kind=kind, case=case, due_on=day, provisional=bool(due and due.provisional), overdue=overdue,
            working_days_left=working_days_left(self.calendar, self.today, day) if day else None,
            when=when_of(self.today, day, overdue=overdue), label=label, label_en=label_en,
            action=action or case_action(spec.event or "", case.id),
            alternatives=tuple(case_action(e, case.id) for e in spec.alternatives),
        )

    def near(self, due: Due | None) -> bool:
        """Within the window, or past."""
        return due is not None and due.due_on <= self.horizon


def shown(due: Due) -> str:
    """A day as staff read it: a provisional one says so (rev 2: "（暂定）" beside it)."""
    return f"{due.due_on}（暂定）" if due.provisional else str(due.due_on)


def shown_en(due: Due) -> str:
    return f"{due.due_on} (provisional)" if due.provisional else str(due.due_on)


def _held(window: Window, due: Due | None) -> bool:
    """Rev 2: a provisional deadline that has passed holds the case until its year's calendar is loaded."""
    return due is not None and due.provisional and due.due_on < window.today


HOLD_NOTE = "；暂定期限届满不产生法律后果，案件维持现状，待载入工作日历"
HOLD_NOTE_EN = "; a provisional deadline that passed holds the case until the year's calendar is loaded"


def tasks_of_case(case: WorkCase, kinds: Collection[str], window: Window) -> list[Task]:
    """The tasks of one case among `kinds` (those of the caller's role)."""
    found: list[Task] = []
    status = case.status
    wanted = {k for k in kinds if k in CASE_KINDS and status in KINDS[k].statuses}
    if "review" in wanted:
        due = case.first("review_reminder", "review_escalation")
        escalation = case.first("review_escalation")
        escalated = escalation is not None and escalation.due_on < window.today
        found.append(window.task(
            "review", case, due, "",
            "受理审查：请作出受理或不予受理决定" + ("（已逾期，已报督办）" if escalated else ""),
            "Acceptance review: accept or reject the case" + (" (overdue, escalated)" if escalated else "")))
    if "consent" in wanted:
        due = case.first("consent_expired")
        held = _held(window, due)
        found.append(window.task(
            "consent", case, due, "",
            "征求对方意见：催告对方当事人表示是否同意调解" + (f"（期限{shown(due)}，逾期视为不同意，《人民调解法》第十七条）"
                                                if due else "") + (HOLD_NOTE if held else ""),
            "Consent: chase the other side's answer" + (f" (by {shown_en(due)}; silence after it is a refusal, "
                                                       "PML 17)" if due else "") + (HOLD_NOTE_EN if held else "")))
    mediation = case.first("deadline_expired") if status in ("in_mediation", "signing") else None
    if "signatures" in wanted and (missing := case.missing_signers()):
        names = [(f"继承人{m[5:]}", f"heir {m[5:]}") if m.startswith("heir:") else SIGNER_LABELS[m] for m in missing]
        found.append(window.task(
            "signatures", case, mediation, "",
            f"协议签署：待{'、'.join(n for n, _ in names)}签署" + (f"（调解期限{shown(mediation)}）" if mediation else ""),
            f"Signatures to collect: {', '.join(e for _, e in names)}"
            + (f" (mediation period ends {shown_en(mediation)})" if mediation else "")))
    if "seal" in wanted and "committee_seal" not in case.signed:
        others = not case.missing_signers()
        found.append(window.task(
            "seal", case, mediation, "",
            "协议签署：待加盖调解委员会印章" + ("（当事人及调解员均已签署）" if others else "")
            + (f"（调解期限{shown(mediation)}）" if mediation else ""),
            "Apply the committee seal to the agreement" + (" (the parties and the mediator have signed)" if others
                                                           else "")
            + (f" (mediation period ends {shown_en(mediation)})" if mediation else ""),
            action=Action("POST", f"/cases/{case.id}/sign", "sign")))
    if "mediation_deadline" in wanted and window.near(mediation):
        assert mediation is not None
        held = _held(window, mediation)
        found.append(window.task(
            "mediation_deadline", case, mediation, str(mediation.due_on),
            f"调解期限{shown(mediation)}届满（《医疗纠纷预防和处理条例》第三十八条）" + (HOLD_NOTE if held else ""),
            f"Mediation period ends {shown_en(mediation)} (Reg 38)" + (HOLD_NOTE_EN if held else "")))
    if "appraisal" in wanted and window.near(due := case.first("appraisal_reminder")):
        found.append(window.task(
            "appraisal", case, due, "",
            "鉴定中：请登记鉴定进展（已出具鉴定意见的登记鉴定结果；不能出具的登记鉴定终止，调解期限随即恢复计算）",
            "Appraisal under way: record its status (finished, or abandoned: the mediation period then runs again)"))
    if "payment" in wanted:
        found += _payments(case, window)
    if "judicial_confirmation" in wanted:
        due = case.first("judicial_window_closed")
        if due is not None and window.today <= due.due_on <= window.horizon:  # once closed, nothing is left to do
            found.append(window.task(
                "judicial_confirmation", case, due, str(due.due_on),
                f"司法确认申请期限{shown(due)}届满：如当事人需要，告知其共同向人民法院申请司法确认（《人民调解法》第三十三条）",
                f"The judicial confirmation window closes {shown_en(due)}: tell the parties, if they want it "
                "(PML 33)"))
    if "followup" in wanted and window.near(due := case.first("followup_due")):
        found.append(window.task("followup", case, due, "", "回访：协议已履行，请进行回访并登记回访记录",
                                 "Follow-up visit: visit the parties and record it"))
    return found


def _payments(case: WorkCase, window: Window) -> list[Task]:
    """PML 31: each term of the agreement whose deadline is within the window or past, not performed in full. The
    payment_overdue timer names the term's deadline; it stays among a case's deadlines until the term is paid."""
    found = []
    terms: dict[tuple[int | None, date], Due] = {}
    for due in case.deadlines:
        if due.kind in ("payment_due", "payment_overdue", "payment_prompt"):
            terms.setdefault((due.term, due.due_on), due)
    for (index, day), due in sorted(terms.items(), key=lambda item: (item[0][1], item[0][0] or 0)):
        if not window.near(due):
            continue
        what = f"协议第{index + 1}项" if index is not None else "协议约定的履行"
        what_en = f"Term {index + 1} of the agreement" if index is not None else "A term of the agreement"
        text = f"（{case.terms[index]}）" if index is not None and case.terms.get(index) else ""
        late = day < window.today
        found.append(window.task(
            "payment", case, due, f"{index if index is not None else ''}:{day}",
            f"{what}{text}" + (f"已逾履行期限（{shown(due)}），请核实履行情况" if late else f"履行期限{shown(due)}，请督促履行"),
            what_en + (f" is overdue since {shown_en(due)}: check its performance" if late
                       else f" is due {shown_en(due)}: supervise its performance")))
    if case.payment_overdue and not any(t.overdue for t in found):
        # the row keeps no clocks and its overdue term's timers have all fired: overdue, day unknown here
        found.append(window.task("payment", case, None, "overdue", "协议已逾履行期限，请核实履行情况",
                                 "A term of the agreement is overdue: check its performance", overdue=True))
    return found


@dataclass(frozen=True)
class Seat:
    """An expert panel's seat the pool could not fill (Reg 33, 35): staff draw again once the pool has grown."""

    panel_id: str
    slot: int  # 0-based, as POST /panels/{id}/slots/{slot}/redraw names it
    specialty: str
    case: WorkCase


def seat_task(seat: Seat, window: Window) -> Task:
    name = SPECIALTIES.get(seat.specialty, seat.specialty)
    return window.task(
        "panel_seat", seat.case, None, f"{seat.panel_id}:{seat.slot}",
        f"专家咨询：第{seat.slot + 1}席（{name}）专家库无可抽取专家，请在专家库补充后重新抽取（《医疗纠纷预防和处理条例》第三十三条）",
        f"Expert panel: seat {seat.slot + 1} ({seat.specialty}) could not be filled from the pool; draw again once "
        "it has grown (Reg 33)",
        action=Action("POST", f"/panels/{seat.panel_id}/slots/{seat.slot}/redraw"))


def worklist(cases: Iterable[WorkCase], seats: Iterable[Seat], kinds: Collection[str], window: Window) -> list[Task]:
    """Every task of these cases and seats among `kinds`, most urgent first (`Task.sort_key`)."""
    found = [t for case in cases for t in tasks_of_case(case, kinds, window)]
    if "panel_seat" in kinds:
        found += [seat_task(seat, window) for seat in seats
                  if seat.case.status in KINDS["panel_seat"].statuses]
    return sorted(found, key=lambda t: t.sort_key)
