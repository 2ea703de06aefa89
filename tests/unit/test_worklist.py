"""The worklist's rules (domain/worklist.py): what is a task for whom, its due day and the working days left, how
urgent it is, and what it says (docs/worklist.md). Pure: cases are rows as their workflow writes them
(domain/projection.py), read with the real working-day calendar.

Expected working days come from tests/oracle.py, which walks the days one by one and shares no code with
domain/clock.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain import events
from domain.clock import MediationClock, WorkingDayCalendar
from domain.deadlines import CaseClocks, PaymentTerm
from domain.policy import ClockPolicy
from domain.projection import columns, project
from domain.worklist import (
    KINDS,
    Seat,
    Window,
    WorkCase,
    horizon,
    kinds_for,
    statuses_to_read,
    tasks_of_case,
    when_of,
    working_days_left,
    worklist,
)
from tests.oracle import is_working_day, nth_working_day_after

D = date
CALENDAR = WorkingDayCalendar()  # chinesecalendar's years; 2027 unknown: provisional
POLICY = ClockPolicy()
TODAY = D(2026, 11, 25)  # a Wednesday
EVERY_KIND = frozenset(KINDS)


def window(today: date = TODAY, within: int = 5) -> Window:
    return Window(today=today, horizon=horizon(CALENDAR, today, within).date, calendar=CALENDAR)


def mediation(accepted_on: date, budget: int = 30) -> MediationClock:
    return MediationClock(budget).start(accepted_on)


def case(clocks: CaseClocks, *, fired: frozenset[str] = frozenset(), keeps_clocks: bool = True,
         payment_overdue: bool = False, signatures: dict[str, Any] | None = None,
         patient: dict[str, Any] | None = None, representatives: list[dict[str, Any]] | None = None,
         case_id: str = "c1") -> WorkCase:
    """A case as the worklist reads its row, the row as the case's workflow writes it."""
    row = columns(project(clocks, fired=fired, calendar=CALENDAR, policy=POLICY, hold_provisional=True,
                          payment_overdue=payment_overdue))
    patient = patient or {"name": "王小明"}
    return WorkCase.of_record(
        id=case_id, number=f"〔2026〕沪黄医调字第{case_id}号", committee_id="huangpu", status=clocks.status,
        patient=patient, representatives=representatives or [], patient_name=patient["name"],
        institution_name="上海市某区人民医院", signatures=signatures or {}, deadlines=row["deadlines"],
        clock=row["clock"] if keeps_clocks else clocks.mediation.to_dict(), payment_overdue=payment_overdue,
        calendar=CALENDAR,
    )


def kinds(tasks: list[Any]) -> list[str]:
    return [t.kind for t in tasks]


# ------------------------------------------------------------------ whose tasks ----------------------------------
class TestWhoseTasks:
    def test_each_role_has_the_tasks_of_its_work(self):  # DOMAIN.md "Who uses the product"
        assert kinds_for("intake") == {"consent"}
        assert kinds_for("director") == {"review", "seal", "panel_seat"}
        assert kinds_for("mediator") == {"signatures", "mediation_deadline", "appraisal", "payment",
                                         "judicial_confirmation", "followup", "panel_seat"}
        assert kinds_for("auditor") == kinds_for("admin") == frozenset()
        assert kinds_for("dev", everything=True) == EVERY_KIND

    def test_the_cases_a_worklist_reads(self):
        always, near = statuses_to_read(kinds_for("mediator"))
        # signatures are a task whatever their day; a follow-up outlives the timer that announced it
        assert always == {"signing", "settled"}
        assert near == {"in_mediation", "appraisal", "performance"}
        assert statuses_to_read(kinds_for("director")) == ({"under_review", "signing"}, frozenset())
        assert statuses_to_read(kinds_for("intake")) == ({"awaiting_consent"}, frozenset())

    def test_every_action_is_an_action_of_the_api(self):
        staff_actions = {spec.name for spec in events.STAFF_ACTIONS}
        for kind in KINDS.values():
            assert kind.event is None or kind.event in staff_actions, kind.name
            assert set(kind.alternatives) <= staff_actions, kind.name
            # whoever the task is for may take its action (domain/events.py roles)
            if kind.event is not None and kind.name != "seal":
                assert kind.roles <= set(events.EVENT_ROLES[kind.event]), kind.name
        assert events.roles_for("sign", {"signer": "committee_seal"}) == tuple(KINDS["seal"].roles)  # Reg 39

    def test_a_task_not_of_the_callers_kinds_is_not_listed(self):
        waiting = case(CaseClocks(status="awaiting_consent", entered_on=TODAY, mediation=MediationClock()))
        assert kinds(tasks_of_case(waiting, kinds_for("intake"), window())) == ["consent"]
        assert tasks_of_case(waiting, kinds_for("mediator"), window()) == []
        assert tasks_of_case(waiting, kinds_for("director"), window()) == []


# ------------------------------------------------------------------ days ------------------------------------------
class TestDays:
    def test_working_days_left_count_the_due_day_not_today(self):  # Civil Code 201
        due = nth_working_day_after(TODAY, 3)
        assert working_days_left(CALENDAR, TODAY, due) == 3
        assert working_days_left(CALENDAR, TODAY, TODAY) == 0

    def test_across_national_day_only_working_days_count(self):
        # National Day's days off are skipped (the oracle walks the days; the make-up day 2026-10-10 is after)
        start, due = D(2026, 9, 30), D(2026, 10, 9)
        expected = sum(is_working_day(start + timedelta(days=n)) for n in range(1, (due - start).days + 1))
        assert working_days_left(CALENDAR, start, due) == expected == 2

    def test_overdue_is_negative_and_at_least_one_day(self):
        assert working_days_left(CALENDAR, TODAY, D(2026, 11, 24)) == -1
        # due on Saturday 2026-11-21, read on Sunday: no working day since, but it ended at 24:00 on Saturday
        assert working_days_left(CALENDAR, D(2026, 11, 22), D(2026, 11, 21)) == -1
        assert working_days_left(CALENDAR, TODAY, D(2026, 11, 18)) == -5

    def test_the_groups(self):
        assert when_of(TODAY, D(2026, 11, 24)) == "overdue"
        assert when_of(TODAY, TODAY) == "due_today"
        assert when_of(TODAY, D(2026, 11, 29)) == "this_week"  # Sunday
        assert when_of(TODAY, D(2026, 11, 30)) == "later"  # next Monday
        assert when_of(TODAY, None) == "undated"
        assert when_of(TODAY, None, overdue=True) == "overdue"

    def test_the_window_ends_n_working_days_after_today(self):
        assert horizon(CALENDAR, TODAY, 5).date == nth_working_day_after(TODAY, 5)
        assert horizon(CALENDAR, TODAY, 0).date == TODAY


# ------------------------------------------------------------------ the tasks -------------------------------------
class TestMediationDeadline:  # Reg 38
    def test_a_deadline_within_the_window_is_a_task_of_the_mediator(self):
        clocks = CaseClocks(status="in_mediation", entered_on=TODAY, mediation=mediation(TODAY, budget=5))
        [task] = tasks_of_case(case(clocks), kinds_for("mediator"), window(within=5))
        due = nth_working_day_after(TODAY, 5)
        assert (task.kind, task.due_on, task.working_days_left, task.overdue) == ("mediation_deadline", due, 5, False)
        assert "第三十八条" in task.label and "Reg 38" in task.label_en
        assert task.action.path == "/cases/c1/draft-agreement"
        assert [a.path for a in task.alternatives] == ["/cases/c1/extend-deadline", "/cases/c1/declare-failed"]

    def test_a_deadline_beyond_the_window_is_not_yet_a_task(self):
        clocks = CaseClocks(status="in_mediation", entered_on=TODAY, mediation=mediation(TODAY, budget=6))
        assert tasks_of_case(case(clocks), kinds_for("mediator"), window(within=5)) == []
        assert kinds(tasks_of_case(case(clocks), kinds_for("mediator"), window(within=6))) == ["mediation_deadline"]

    def test_a_paused_clock_has_no_deadline(self):  # Reg 38: appraisal time does not count
        clock = mediation(D(2026, 10, 20)).pause(D(2026, 11, 2), "医疗损害鉴定")
        paused = CaseClocks(status="appraisal", entered_on=D(2026, 11, 2), mediation=clock)
        assert "mediation_deadline" not in kinds(tasks_of_case(case(paused), kinds_for("mediator"), window()))

    def test_a_provisional_deadline_passed_holds_the_case_and_says_so(self):  # Reg 38, rev 2
        accepted = D(2027, 1, 4)  # 2027 is not known to the calendar: provisional
        clocks = CaseClocks(status="in_mediation", entered_on=accepted, mediation=mediation(accepted, budget=5))
        today = D(2027, 3, 1)
        [task] = tasks_of_case(case(clocks), kinds_for("mediator"), window(today))
        assert task.provisional and task.overdue and task.when == "overdue"
        assert "（暂定）" in task.label and "案件维持现状" in task.label
        assert "(provisional)" in task.label_en and "holds the case" in task.label_en


class TestSignatures:  # Reg 39
    def signing(self, **kwargs: Any) -> WorkCase:
        accepted = D(2026, 11, 2)
        return case(CaseClocks(status="signing", entered_on=D(2026, 11, 20), mediation=mediation(accepted)), **kwargs)

    def test_the_mediator_collects_the_missing_signatures_by_the_mediation_deadline(self):
        [task] = tasks_of_case(self.signing(signatures={"patient": {"signed_by": "王小明"}}), kinds_for("mediator"),
                               window())
        assert task.kind == "signatures" and task.due_on == nth_working_day_after(D(2026, 11, 2), 30)
        assert task.label.startswith("协议签署：待医方、调解员签署")
        assert task.label_en.startswith("Signatures to collect: institution, mediator")
        assert task.action.path == "/cases/c1/sign"

    def test_each_heir_signs_by_name_when_the_patient_has_died(self):  # Civil Code 173
        heirs = [{"name": "王大明", "relation": "患者之子", "role": "relative"},
                 {"name": "王二明", "relation": "患者之女", "role": "relative"}]
        signed = {"patient": {"signed_by": "王大明", "heirs_signed": ["王大明"]}, "institution": {}, "mediator": {}}
        work = self.signing(patient={"name": "王老先生", "deceased": True}, representatives=heirs, signatures=signed)
        assert work.patient_side == ("王大明", "王二明")
        [task] = tasks_of_case(work, kinds_for("mediator"), window())
        assert "待继承人王二明签署" in task.label and "heir 王二明" in task.label_en

    def test_the_seal_is_the_directors_task(self):
        signed = {"patient": {}, "institution": {}, "mediator": {}}
        [task] = tasks_of_case(self.signing(signatures=signed), kinds_for("director"), window())
        assert task.kind == "seal" and "当事人及调解员均已签署" in task.label
        assert task.action.path == "/cases/c1/sign" and task.action.event == "sign"
        assert tasks_of_case(self.signing(signatures={**signed, "committee_seal": {}}), kinds_for("director"),
                             window()) == []
        assert tasks_of_case(self.signing(signatures=signed), kinds_for("mediator"), window()) == []


class TestConsentAndReview:
    def test_intake_chases_consent_by_its_deadline(self):  # PML 17, Reg 31¶1
        waiting = case(CaseClocks(status="awaiting_consent", entered_on=TODAY, mediation=MediationClock()))
        [task] = tasks_of_case(waiting, kinds_for("intake"), window(within=0))  # a task whatever its day
        assert task.due_on == nth_working_day_after(TODAY, POLICY.consent_wd) and task.working_days_left == 5
        assert "《人民调解法》第十七条" in task.label and "PML 17" in task.label_en
        assert task.action.path == "/cases/c1/record-consent"
        assert [a.path for a in task.alternatives] == ["/cases/c1/record-refusal"]

    def test_a_review_past_its_escalation_is_overdue_and_says_so(self):
        entered = D(2026, 11, 16)  # reminder 3 WD later (19th), escalation 2 WD after it (23rd)
        review = case(CaseClocks(status="under_review", entered_on=entered, mediation=MediationClock()),
                      fired=frozenset({f"review_reminder:{entered}", f"review_escalation:{entered}"}))
        [task] = tasks_of_case(review, kinds_for("director"), window())
        assert task.due_on == nth_working_day_after(entered, 3) and task.overdue
        assert "已报督办" in task.label and "escalated" in task.label_en
        assert task.action.path == "/cases/c1/accept"
        assert [a.path for a in task.alternatives] == ["/cases/c1/reject"]


class TestPerformance:  # PML 31
    EFFECTIVE = D(2026, 11, 2)
    TERMS = (PaymentTerm(0, "医方一次性支付医疗费等各项损失", "86500.50", D(2026, 11, 20)),
             PaymentTerm(1, "医方出具书面致歉信", None, D(2026, 12, 31)))

    def performing(self, **changes: Any) -> CaseClocks:
        return CaseClocks(**{"status": "performance", "entered_on": self.EFFECTIVE, "mediation": mediation(D(2026, 9, 1)),
                             "effective_on": self.EFFECTIVE, "payments": self.TERMS, **changes})

    def test_an_overdue_term_stays_a_task_after_its_timers_fired(self):
        fired = frozenset(f"{kind}:0:2026-11-20" for kind in ("payment_due", "payment_overdue", "payment_prompt"))
        work = case(self.performing(), fired=fired, payment_overdue=True)
        pending = project(self.performing(), fired=fired, calendar=CALENDAR, policy=POLICY, hold_provisional=True,
                          payment_overdue=True)["deadlines"]
        assert all(d["due_on"] != "2026-11-20" for d in pending)  # the row no longer shows it among its deadlines
        tasks = [t for t in tasks_of_case(work, kinds_for("mediator"), window()) if t.kind == "payment"]
        [overdue] = tasks  # the second term is due beyond the window
        assert overdue.overdue and overdue.due_on == D(2026, 11, 20) and overdue.working_days_left < 0
        assert overdue.label.startswith("协议第1项（医方一次性支付医疗费等各项损失）已逾履行期限")
        assert overdue.action.path == "/cases/c1/record-payment"
        assert {a.event for a in overdue.alternatives} == {"confirm_performance", "record_nonperformance"}

    def test_a_term_performed_in_full_is_not_chased(self):
        work = case(self.performing(performed_terms=frozenset({0})))
        assert [t for t in tasks_of_case(work, kinds_for("mediator"), window()) if t.kind == "payment"] == []

    def test_a_term_due_within_the_window_is_listed_before_it_is_overdue(self):
        terms = (PaymentTerm(0, "一次性支付", "1000.00", nth_working_day_after(TODAY, 2)),)
        work = case(self.performing(payments=terms))
        [task] = [t for t in tasks_of_case(work, kinds_for("mediator"), window()) if t.kind == "payment"]
        assert not task.overdue and task.working_days_left == 2 and "请督促履行" in task.label

    def test_a_row_that_keeps_no_clocks_still_shows_an_overdue_payment(self):
        fired = frozenset(f"{kind}:0:2026-11-20" for kind in ("payment_due", "payment_overdue", "payment_prompt"))
        work = case(self.performing(payments=self.TERMS[:1]), fired=fired, payment_overdue=True, keeps_clocks=False)
        [task] = [t for t in tasks_of_case(work, kinds_for("mediator"), window()) if t.kind == "payment"]
        assert task.overdue and task.due_on is None and task.when == "overdue"

    def test_the_judicial_confirmation_window_is_a_task_until_it_closes(self):  # PML 33
        near = case(self.performing(effective_on=TODAY - timedelta(days=28)))
        [task] = [t for t in tasks_of_case(near, kinds_for("mediator"), window()) if t.kind == "judicial_confirmation"]
        assert task.due_on is not None and task.due_on >= TODAY and "第三十三条" in task.label
        closed = case(self.performing(effective_on=TODAY - timedelta(days=40)))
        assert "judicial_confirmation" not in kinds(tasks_of_case(closed, kinds_for("mediator"), window()))


class TestFollowupAndAppraisal:
    def test_a_followup_is_due_30_days_after_performance_until_recorded(self):
        performed = TODAY - timedelta(days=40)
        settled = CaseClocks(status="settled", entered_on=performed, mediation=mediation(D(2026, 8, 3)),
                             effective_on=performed - timedelta(days=5), performed_on=performed, judicial_applied=True)
        due = performed + timedelta(days=POLICY.followup_days)
        work = case(settled, fired=frozenset({f"followup_due:{due}"}))  # its timer fired: still a task
        [task] = tasks_of_case(work, kinds_for("mediator"), window())
        assert (task.kind, task.due_on, task.overdue) == ("followup", due, True)
        assert task.action.path == "/cases/c1/record-followup"
        done = case(CaseClocks(**{**settled.__dict__, "followup_done": True}))
        assert tasks_of_case(done, kinds_for("mediator"), window()) == []

    def test_an_open_appraisal_asks_for_its_status(self):  # Reg 38 (rev 2)
        paused_on = D(2026, 10, 28)
        clock = mediation(D(2026, 10, 20)).pause(paused_on, "医疗损害鉴定")
        appraisal = case(CaseClocks(status="appraisal", entered_on=paused_on, mediation=clock))
        due = nth_working_day_after(paused_on, POLICY.appraisal_reminder_wd)
        found = tasks_of_case(appraisal, kinds_for("mediator"), window(within=10))
        assert [(t.kind, t.due_on) for t in found] == [("appraisal", due)]
        assert found[0].action.path == "/cases/c1/finish-appraisal"


class TestUrgency:
    def test_overdue_first_then_by_day_then_by_weight_undated_last(self):
        in_window = CaseClocks(status="in_mediation", entered_on=TODAY, mediation=mediation(TODAY, budget=2))
        signing = CaseClocks(status="signing", entered_on=D(2026, 11, 20), mediation=mediation(TODAY, budget=2))
        review = CaseClocks(status="under_review", entered_on=D(2026, 11, 16), mediation=MediationClock())
        cases = [case(in_window, case_id="a"), case(signing, case_id="b"), case(review, case_id="c")]
        seat = Seat(panel_id="a-p3", slot=0, specialty="law", case=cases[0])
        tasks = worklist(cases, [seat], EVERY_KIND, window())
        assert [(t.kind, t.case.id) for t in tasks] == [
            ("review", "c"),  # overdue
            ("mediation_deadline", "a"), ("signatures", "b"), ("seal", "b"),  # the same day: what fails first
            ("panel_seat", "a"),  # no day
        ]
        assert tasks[-1].action.path == "/panels/a-p3/slots/0/redraw" and "（法学）" in tasks[-1].label
        assert [t.sort_key for t in tasks] == sorted(t.sort_key for t in tasks)
        assert len({t.key for t in tasks}) == len(tasks)

    def test_a_seat_of_a_closed_case_is_not_a_task(self):
        closed = case(CaseClocks(status="failed", entered_on=TODAY, mediation=mediation(D(2026, 9, 1))))
        assert worklist([], [Seat("x-p1", 0, "law", closed)], EVERY_KIND, window()) == []


@pytest.mark.parametrize("within", [0, 5, 30, 60])
def test_every_task_of_a_window_is_overdue_or_within_it_or_a_task_whatever_its_day(within):
    clocks = [
        CaseClocks(status="in_mediation", entered_on=TODAY, mediation=mediation(TODAY, budget=n)) for n in (1, 5, 20)
    ] + [CaseClocks(status="awaiting_consent", entered_on=TODAY, mediation=MediationClock())]
    w = window(within=within)
    for task in worklist([case(c, case_id=str(i)) for i, c in enumerate(clocks)], [], EVERY_KIND, w):
        assert KINDS[task.kind].always or (task.due_on is not None and task.due_on <= w.horizon)
