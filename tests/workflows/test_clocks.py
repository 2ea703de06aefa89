"""The legal clocks, run by DisputeWorkflow on Temporal's time-skipping test server: every timer of
shared/DOMAIN.md ("Time: the clocks") fires when the law says, moves when a pause, an extension or a newly
loaded calendar year moves it, and does what it must (a system event, or a notification in the outbox).

Expected dates come from an oracle written here, independent of domain/clock.py: it walks the days one by one
(chinesecalendar for the years it knows, a loaded table, or Monday to Friday without the statutory holidays).

The test server starts at today's date, so every mediation period reaches 2027, which chinesecalendar does not
know. Most cases here are opened with a 2027 table loaded (their dates are exact); the tests of unknown years open
them without it (rev 2: a provisional deadline never fails a case).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from domain.clock import end_of_day
from domain.time import SHANGHAI
from models.tables import Case, Document, Notification, Transition
from tests import oracle
from tests.factories import APPRAISAL, SIGNATURES, agreement, registration
from workflows.contracts import Actor, NotificationRecord, OpenDispute, StaffAction, workflow_id
from workflows.dispute import DisputeWorkflow
from workflows.worker import build_worker

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
STAFF = Actor(id="u1", name="陈调解员", role="mediator")
ONE_MINUTE = timedelta(minutes=1)

# A table for 2027 used by the tests (the State Council's schedule for 2027 is not assumed here): New Year's Day
# and two days after it off, one make-up Saturday.
TABLE_2027 = {"year": 2027, "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": ["2027-01-09"]}
KNOWN = {2027: TABLE_2027}
WITH_2027 = {"tables": [TABLE_2027]}


def is_working_day(d: date) -> bool:
    return oracle.is_working_day(d, KNOWN)


def nth_working_day_after(start: date, n: int) -> date:
    return oracle.nth_working_day_after(start, n, KNOWN)


def mediation_due(accepted: date, pauses: list[tuple[date, date]], budget: int) -> date:
    return oracle.mediation_due(accepted, pauses, budget, KNOWN)


# ------------------------------------------------------------------ the harness --------------------------
class RecordingChannel:
    """A delivery channel (SMS and e-mail cannot run here): records what it delivers, can fail on demand."""

    name = "recording"

    def __init__(self) -> None:
        self.delivered: list[NotificationRecord] = []
        self.failures_left = 0

    def deliver(self, record: NotificationRecord) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("the SMS gateway did not answer")
        self.delivered.append(record)


@dataclass
class Clocks:
    env: WorkflowEnvironment
    task_queue: str
    sessions: SessionFactory
    channel: RecordingChannel

    async def open(self, calendar: dict[str, Any] | None = None, policy: dict[str, Any] | None = None,
                   **changes: Any) -> WorkflowHandle:
        """A case registered now; with the 2027 table loaded unless another calendar is given ({}: none)."""
        case_id = uuid.uuid4().hex
        handle = await self.env.client.start_workflow(
            DisputeWorkflow.run,
            OpenDispute(case_id=case_id, registration=registration(**changes), actor=STAFF,
                        policy=policy or {}, calendar=WITH_2027 if calendar is None else calendar),
            id=workflow_id(case_id),
            task_queue=self.task_queue,
        )
        await handle.execute_update(DisputeWorkflow.snapshot)
        return handle

    async def act(self, handle: WorkflowHandle, event: str, **payload: Any):
        return await handle.execute_update(DisputeWorkflow.apply_event, StaffAction(event, payload, STAFF))

    async def accepted(self, **open_args: Any) -> WorkflowHandle:
        handle = await self.open(application_type="joint", applicant_side=None, **open_args)
        await self.act(handle, "submit_for_review")
        await self.act(handle, "accept", mediators=["陈调解员"])
        return handle

    async def effective(self, terms: list[dict[str, Any]] | None = None) -> WorkflowHandle:
        """A case whose agreement took effect today (Reg 39: the fourth signature)."""
        handle = await self.accepted()
        await self.act(handle, "draft_agreement", **agreement(**({"terms": terms} if terms else {})))
        for signature in SIGNATURES:
            await self.act(handle, "sign", **signature)
        return handle

    async def now(self) -> datetime:
        return (await self.env.get_current_time()).astimezone(SHANGHAI)

    async def today(self) -> date:
        return (await self.now()).date()

    async def sleep(self, delta: timedelta) -> None:
        await self.env.sleep(delta)

    async def sleep_until(self, instant: datetime) -> None:
        delta = instant - await self.now()
        assert delta > timedelta(0), f"{instant} is already past"
        await self.env.sleep(delta)

    def case(self, handle: WorkflowHandle) -> Case:
        with self.sessions() as session:
            case = session.get(Case, case_id(handle))
            assert case is not None
            return case

    def rows(self, model: type, handle: WorkflowHandle) -> list[Any]:
        with self.sessions() as session:
            return list(session.exec(select(model).where(model.case_id == case_id(handle))).all())

    def notifications(self, handle: WorkflowHandle, kind: str) -> list[Notification]:
        return sorted((n for n in self.rows(Notification, handle) if n.kind == kind), key=lambda n: n.created_at)

    async def eventually(self, check: Callable[[], bool], what: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {seconds} s: {what}")
            await asyncio.sleep(0.1)

    async def stays(self, check: Callable[[], bool], what: str, seconds: float = 1.5) -> None:
        """Holds for a while (real time): the workflow had time to act on anything due."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert check(), what
            await asyncio.sleep(0.1)


def case_id(handle: WorkflowHandle) -> str:
    return handle.id.removeprefix("dispute-")


def deadline_of(case: Case, kind: str) -> dict[str, Any]:
    found = [d for d in case.deadlines if d["kind"] == kind]
    assert len(found) == 1, (kind, case.deadlines)
    return found[0]


@pytest.fixture
async def clocks(sessions: SessionFactory) -> AsyncIterator[Clocks]:
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(TEST_SERVER))
    task_queue = f"clocks-{uuid.uuid4().hex[:8]}"
    channel = RecordingChannel()
    try:
        async with build_worker(env.client, task_queue=task_queue, session_factory=sessions, channel=channel):
            yield Clocks(env, task_queue, sessions, channel)
    finally:
        await env.shutdown()


# ------------------------------------------------------------------ the mediation clock (Reg 38) ----------
class TestMediationClock:
    async def test_paused_twice_and_extended_once_it_expires_exactly_at_the_end_of_the_derived_due_date(
        self, clocks: Clocks
    ):  # Reg 38: appraisal time excluded, extension by agreement, deemed failed at expiry
        handle = await clocks.accepted()
        accepted = await clocks.today()
        await clocks.sleep(timedelta(days=3))
        first = await clocks.today()
        await clocks.act(handle, "start_appraisal", institution="上海市某司法鉴定中心", commissioned_by="both_parties")
        await clocks.sleep(timedelta(days=10))
        first_end = await clocks.today()
        await clocks.act(handle, "finish_appraisal", medical_damage=True, fault=True, causation=True,
                         liability_degree="main")
        await clocks.sleep(timedelta(days=2))
        second = await clocks.today()
        await clocks.act(handle, "start_appraisal", institution="某医学会", commissioned_by="committee",
                         patient_consent=True, institution_consent=True)
        assert clocks.case(handle).clock_paused and clocks.case(handle).due_date is None  # no due date while paused
        await clocks.sleep(timedelta(days=7))
        second_end = await clocks.today()
        await clocks.act(handle, "finish_appraisal", medical_damage=True, fault=False, causation=False,
                         liability_degree="none")
        await clocks.sleep(timedelta(days=1))
        await clocks.act(handle, "extend_deadline", extra_days=5, patient_consent=True, institution_consent=True,
                         approved_by="赵主任")

        due = mediation_due(accepted, [(first, first_end), (second, second_end)], budget=30 + 5)
        case = clocks.case(handle)
        assert case.due_date == due
        assert deadline_of(case, "deadline_expired")["at"] == end_of_day(due).isoformat()
        assert len(case.clock["pauses"]) == 2 and case.clock["extensions"] == [
            {"days": 5, "agreed_on": (second_end + timedelta(days=1)).isoformat()}]

        await clocks.sleep_until(end_of_day(due) - ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "in_mediation", "not a minute before the end")
        await clocks.sleep(2 * ONE_MINUTE)
        await clocks.eventually(lambda: clocks.case(handle).status == "failed", "deemed failed at expiry")

        expired = [t for t in clocks.rows(Transition, handle) if t.event == "deadline_expired"]
        assert len(expired) == 1 and expired[0].actor_role == "system"
        at = expired[0].at.astimezone(SHANGHAI)
        assert end_of_day(due) <= at < end_of_day(due) + timedelta(seconds=1)  # at 24:00 of the due date
        assert expired[0].payload["due_date"] == due.isoformat()
        kinds = {(d.kind, d.lang) for d in clocks.rows(Document, handle)}
        assert ("failure_notice", "zh") in kinds and ("failure_notice", "en") in kinds  # 调解不成告知书
        assert [n.due_on for n in clocks.notifications(handle, "deadline_expired")] == [due]

    async def test_warnings_five_and_one_working_day_before_the_due_date(self, clocks: Clocks):  # Reg 38
        handle = await clocks.accepted()
        due = mediation_due(await clocks.today(), [], budget=30)
        pending = [d for d in clocks.case(handle).deadlines if d["kind"] == "deadline_warning"]
        assert [d["due_on"] for d in pending] == [due.isoformat()] * 2
        await clocks.sleep_until(end_of_day(due) - ONE_MINUTE)
        await clocks.eventually(lambda: len(clocks.notifications(handle, "deadline_warning")) == 2, "two warnings")
        warnings = clocks.notifications(handle, "deadline_warning")
        assert [w.recipient_role for w in warnings] == ["mediator", "mediator"]
        assert warnings[0].recipients == ["陈调解员"]
        assert "还剩5个工作日" in warnings[0].message and "还剩1个工作日" in warnings[1].message
        # each fires at 24:00 of the working day after which exactly 5 (then 1) working days remain
        for warning, left in zip(warnings, (5, 1), strict=True):
            day = warning.created_at.astimezone(SHANGHAI).date() - timedelta(days=1)
            assert is_working_day(day) and nth_working_day_after(day, left) == due
        assert clocks.case(handle).status == "in_mediation"

    async def test_an_agreement_signed_by_one_party_at_expiry_ends_in_failed(self, clocks: Clocks):
        # Reg 38, Reg 39: only the four signatures make it effective; at expiry (and the working day of grace for
        # signatures made by then, rev 2) it is deemed failed
        handle = await clocks.accepted()
        due = mediation_due(await clocks.today(), [], budget=30)
        await clocks.act(handle, "draft_agreement", **agreement())
        await clocks.act(handle, "sign", **SIGNATURES[0])
        assert clocks.case(handle).status == "signing"
        await clocks.sleep_until(end_of_day(nth_working_day_after(due, 1)) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.case(handle).status == "failed", "failed at expiry")
        assert [t.from_status for t in clocks.rows(Transition, handle) if t.event == "deadline_expired"] == ["signing"]

    async def test_an_effective_agreement_stops_the_clock(self, clocks: Clocks):  # Reg 38, 39
        handle = await clocks.effective()
        due = mediation_due(await clocks.today(), [], budget=30)
        await clocks.sleep_until(end_of_day(due) + ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "performance", "no expiry after the agreement")


# ------------------------------------------------------------------ the other clocks ---------------------
class TestConsentClock:
    async def test_silence_past_the_consent_deadline_rejects_with_reason_one(self, clocks: Clocks):  # PML 17
        handle = await clocks.open()
        await clocks.act(handle, "request_consent", method="letter")
        due = nth_working_day_after(await clocks.today(), 5)
        assert deadline_of(clocks.case(handle), "consent_expired")["due_on"] == due.isoformat()
        await clocks.sleep_until(end_of_day(due) - ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "awaiting_consent", "not before 24:00")
        await clocks.sleep(2 * ONE_MINUTE)
        await clocks.eventually(lambda: clocks.case(handle).status == "rejected", "rejected")
        case = clocks.case(handle)
        assert case.outcome["event"] == "consent_expired" and case.outcome["reasons"] == [1]
        assert {d.kind for d in clocks.rows(Document, handle)} == {"rejection_notice"}  # 不予受理通知书

    async def test_consent_in_time_stops_the_clock(self, clocks: Clocks):
        handle = await clocks.open()
        await clocks.act(handle, "request_consent")
        await clocks.sleep(timedelta(days=1))
        await clocks.act(handle, "record_consent", consented_by="李院长", method="written")
        await clocks.sleep(timedelta(days=14))
        await clocks.stays(lambda: clocks.case(handle).status == "under_review", "consent given: no expiry")


class TestAcceptanceReview:
    async def test_the_director_is_reminded_then_escalated_and_nothing_is_accepted(self, clocks: Clocks):
        handle = await clocks.open(application_type="joint", applicant_side=None)
        await clocks.act(handle, "submit_for_review")
        entered = await clocks.today()
        reminder = nth_working_day_after(entered, 3)
        escalation = nth_working_day_after(reminder, 2)
        await clocks.sleep_until(end_of_day(escalation) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.notifications(handle, "review_escalation"), "escalated")
        [remind] = clocks.notifications(handle, "review_reminder")
        [escalate] = clocks.notifications(handle, "review_escalation")
        assert (remind.recipient_role, remind.due_on) == ("director", reminder)
        assert (escalate.recipient_role, escalate.due_on) == ("admin", escalation)
        await clocks.sleep(timedelta(days=30))
        await clocks.stays(lambda: clocks.case(handle).status == "under_review", "never an automatic acceptance")


class TestAfterTheAgreement:
    async def test_the_judicial_confirmation_window_is_thirty_calendar_days(self, clocks: Clocks):  # PML 33
        handle = await clocks.effective()
        effective = await clocks.today()
        last = effective + timedelta(days=30)
        while not is_working_day(last):  # Civil Code 203: a last day off moves to the next working day
            last += timedelta(days=1)
        case = clocks.case(handle)
        assert case.effective_on == effective
        assert deadline_of(case, "judicial_window_closed")["due_on"] == last.isoformat()
        await clocks.sleep_until(end_of_day(last) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.notifications(handle, "judicial_window_closed"), "window closed")
        [reminder] = clocks.notifications(handle, "judicial_reminder")
        assert reminder.created_at.astimezone(SHANGHAI).date() == last - timedelta(days=5)
        assert clocks.case(handle).status == "performance"  # the agreement still binds (PML 31)

    async def test_an_application_for_judicial_confirmation_closes_the_window(self, clocks: Clocks):  # PML 33
        handle = await clocks.effective()
        await clocks.sleep(timedelta(days=3))
        await clocks.act(handle, "record_judicial_confirmation", applied=True, applied_on=(await clocks.today()).isoformat(),
                         court="上海市黄浦区人民法院", result="pending")
        assert not [d for d in clocks.case(handle).deadlines if d["kind"].startswith("judicial")]
        await clocks.sleep(timedelta(days=40))
        await clocks.stays(lambda: not clocks.notifications(handle, "judicial_window_closed"), "no reminder")

    async def test_payment_due_then_overdue_then_a_prompt_to_record_performance(self, clocks: Clocks):
        terms = [{**agreement()["terms"][0], "deadline": None, "deadline_working_days": 10}]
        handle = await clocks.effective(terms=terms)
        due = nth_working_day_after(await clocks.today(), 10)
        assert deadline_of(clocks.case(handle), "payment_due")["due_on"] == due.isoformat()
        await clocks.sleep_until(datetime.combine(due, datetime.min.time(), SHANGHAI) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.notifications(handle, "payment_due"), "reminded on the due date")
        assert not clocks.case(handle).payment_overdue
        await clocks.sleep_until(end_of_day(due) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.case(handle).payment_overdue, "overdue at the end of the due date")
        prompt = nth_working_day_after(due, 5)
        await clocks.sleep_until(end_of_day(prompt) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.notifications(handle, "payment_prompt"), "prompted")
        assert "record_nonperformance" in clocks.notifications(handle, "payment_prompt")[0].message
        await clocks.act(handle, "record_nonperformance", reason="医方逾期未付款", referred_to_court=True)  # PML 32
        case = clocks.case(handle)
        assert case.status == "settled" and not case.payment_overdue

    async def test_a_follow_up_visit_thirty_days_after_performance(self, clocks: Clocks):
        handle = await clocks.effective()
        paid = await clocks.now()
        await clocks.act(handle, "record_payment", term=1, amount="86500.50", paid_on=paid.date().isoformat(),
                         payer="上海市某区人民医院", proof="银行转账回单")
        await clocks.act(handle, "confirm_performance")
        visit_due = paid.date() + timedelta(days=30)
        assert deadline_of(clocks.case(handle), "followup_due")["due_on"] == visit_due.isoformat()
        await clocks.sleep_until(datetime.combine(visit_due, datetime.min.time(), SHANGHAI) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.notifications(handle, "followup_due"), "follow-up task")
        await clocks.act(handle, "record_followup", visitor="陈调解员", visited_at=(await clocks.now()).isoformat(),
                         method="phone", visited="王大明（患者之兄）", performance="performed", satisfaction="satisfied")
        # 回访记录: issued apart from the action, in both languages
        await clocks.eventually(lambda: {("followup_record", "zh"), ("followup_record", "en")}
                                <= {(d.kind, d.lang) for d in clocks.rows(Document, handle)}, "the follow-up record")
        assert not [d for d in clocks.case(handle).deadlines if d["kind"] == "followup_due"]


# ------------------------------------------------------------------ the calendar -------------------------
def provisional_due(accepted: date, budget: int = 30) -> date:
    """Reg 38 through an unknown 2027: Monday to Friday without the statutory holidays (tests/oracle.py)."""
    return oracle.mediation_due(accepted, [], budget)


class TestAProvisionalDeadlineNeverFailsACase:
    """rev 2 (DOMAIN.md "Unknown years"): the defect as found: a case accepted on 2026-11-26 failed at 24:00 of
    a provisional 2027-01-07."""

    async def accepted_in_late_2026(self, clocks: Clocks, **open_args: Any) -> tuple[WorkflowHandle, date]:
        if oracle.package_knows(2027):
            pytest.skip("needs a mediation period that reaches a year the calendar does not know")
        today = await clocks.today()
        if today < date(2026, 11, 26):  # the day of the defect as found
            await clocks.sleep_until(datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI))
        handle = await clocks.accepted(calendar={}, **open_args)
        return handle, await clocks.today()

    async def test_at_the_provisional_due_date_the_case_stays_and_the_calendar_is_asked_for_every_working_day(
        self, clocks: Clocks, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
    ):  # Reg 38
        # a logging configuration loaded by another test (dictConfig disables the loggers it does not name)
        monkeypatch.setattr(logging.getLogger("mediation.calendar"), "disabled", False)
        caplog.set_level(logging.WARNING, logger="mediation.calendar")
        handle, accepted = await self.accepted_in_late_2026(clocks)
        due = provisional_due(accepted)
        assert due.year == 2027 and due != date(2027, 1, 1)  # never New Year's Day itself
        case = clocks.case(handle)
        assert (case.due_date, case.due_provisional) == (due, True)
        warned = [r for r in caplog.records if case_id(handle) in r.getMessage()]
        assert len(warned) == 1 and "2027" in warned[0].getMessage()  # the admins are told, once

        await clocks.sleep_until(end_of_day(due) + ONE_MINUTE)
        await clocks.eventually(lambda: len(clocks.notifications(handle, "calendar_needed")) == 2, "asked")
        await clocks.stays(lambda: clocks.case(handle).status == "in_mediation", "no failure on a provisional date")
        asked = clocks.notifications(handle, "calendar_needed")
        assert {n.recipient_role for n in asked} == {"director", "admin"}
        assert all(n.due_on == due and "2027年工作日历尚未载入" in n.message for n in asked)
        assert not [t for t in clocks.rows(Transition, handle) if t.event == "deadline_expired"]
        assert not clocks.notifications(handle, "deadline_expired")

        next_day = oracle.nth_working_day_after(due, 1)  # and again at the end of every working day
        await clocks.sleep_until(end_of_day(next_day) + ONE_MINUTE)
        await clocks.eventually(lambda: len(clocks.notifications(handle, "calendar_needed")) == 4, "asked again")
        assert clocks.case(handle).status == "in_mediation"

    async def test_once_the_year_is_loaded_the_case_fails_dated_at_the_exact_deadline(self, clocks: Clocks):
        # Reg 38: the loaded table makes the deadline exact; it has passed, so the case fails now, as of it
        handle, accepted = await self.accepted_in_late_2026(clocks)
        due = provisional_due(accepted)
        table = {"year": 2027, "holidays": [], "workdays": ["2027-01-09"]}  # a make-up Saturday: one day earlier
        exact = oracle.mediation_due(accepted, [], 30, {2027: table})
        assert exact < due
        await clocks.sleep_until(end_of_day(oracle.nth_working_day_after(due, 1)) + ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "in_mediation", "held")

        await handle.signal(DisputeWorkflow.calendar_loaded, table)
        await clocks.eventually(lambda: clocks.case(handle).status == "failed", "fails once the year is known")
        [expired] = [t for t in clocks.rows(Transition, handle) if t.event == "deadline_expired"]
        assert expired.payload["due_date"] == exact.isoformat() and expired.payload["provisional"] is False
        assert expired.payload["deemed_at"] == end_of_day(exact).isoformat()
        case = clocks.case(handle)
        assert case.closed_at == end_of_day(exact)  # dated at the exact deadline, not the day it was found
        await clocks.eventually(lambda: "failure_notice" in {d.kind for d in clocks.rows(Document, handle)},
                                "the 调解不成告知书 issued")
        await clocks.eventually(lambda: clocks.notifications(handle, "deadline_expired"), "the mediator told")
        assert [n.due_on for n in clocks.notifications(handle, "deadline_expired")] == [exact]

    async def test_while_held_the_provisional_due_date_bounds_signatures_and_extensions(self, clocks: Clocks):
        # Reg 38, 39 (rev 2): held as it is: an act dated after the provisional due date waits for the calendar
        # (recorded now, it could be after the exact deadline and keep an agreement that the law makes too late)
        handle, accepted = await self.accepted_in_late_2026(clocks)
        due = provisional_due(accepted)
        await clocks.act(handle, "draft_agreement", **agreement())
        for signature in SIGNATURES[:2]:
            await clocks.act(handle, "sign", **signature)
        await clocks.sleep_until(end_of_day(oracle.nth_working_day_after(due, 1)) + ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "signing", "held")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await clocks.act(handle, "sign", **SIGNATURES[2])  # dated now, after the provisional due date
        assert refused.value.cause.type == "RuleViolated"
        assert f"ended on {due}" in refused.value.cause.message and "provisional" in refused.value.cause.message
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await clocks.act(handle, "extend_deadline", extra_days=5, patient_consent=True, institution_consent=True,
                             approved_by="赵主任")
        assert "can no longer be extended" in refused.value.cause.message
        on_due = datetime(due.year, due.month, due.day, 16, 0, tzinfo=SHANGHAI).isoformat()
        assert (await clocks.act(handle, "sign", **{**SIGNATURES[2], "signed_at": on_due})).status == "signing"
        assert clocks.case(handle).status == "signing"

    async def test_a_table_that_moves_the_deadline_later_keeps_the_case_until_then(self, clocks: Clocks):
        handle, accepted = await self.accepted_in_late_2026(clocks)
        firm_due = mediation_due(accepted, [], budget=30)  # TABLE_2027 adds two holidays, one make-up day
        assert firm_due > provisional_due(accepted)
        await handle.signal(DisputeWorkflow.calendar_loaded, TABLE_2027)
        await clocks.eventually(lambda: clocks.case(handle).due_date == firm_due, "recomputed with the table")
        case = clocks.case(handle)
        assert not case.due_provisional
        assert deadline_of(case, "deadline_expired")["at"] == end_of_day(firm_due).isoformat()
        await clocks.sleep_until(end_of_day(provisional_due(accepted)) + ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "in_mediation", "the old date is void")
        await clocks.sleep_until(end_of_day(firm_due) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.case(handle).status == "failed", "fails at the firm deadline")

    async def test_a_provisional_consent_deadline_does_not_reject_the_application(self, clocks: Clocks):
        # PML 17, rev 2: silence counts only once the consent deadline has passed, on an exact date
        handle = await clocks.open(calendar={}, policy={"consent_wd": 40})
        await clocks.act(handle, "request_consent", method="letter")
        due = oracle.nth_working_day_after(await clocks.today(), 40)
        assert due.year >= 2027 and deadline_of(clocks.case(handle), "consent_expired")["provisional"]
        await clocks.sleep_until(end_of_day(due) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.notifications(handle, "calendar_needed"), "asked for the calendar")
        await clocks.stays(lambda: clocks.case(handle).status == "awaiting_consent", "not rejected")


class TestSignaturesRecordedAfterTheFact:
    """Reg 38, 39 (rev 2): the deadline arrives while signatures are collected; the case waits one working day
    (policy signing_grace_wd), for signatures dated on or before the due date."""

    async def signing_at_the_due_date(self, clocks: Clocks) -> tuple[WorkflowHandle, date]:
        handle = await clocks.accepted()
        due = mediation_due(await clocks.today(), [], budget=30)
        await clocks.act(handle, "draft_agreement", **agreement())
        for signature in SIGNATURES[:3]:
            await clocks.act(handle, "sign", **signature)
        await clocks.sleep_until(end_of_day(due) + ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "signing", "waits one more working day")
        return handle, due

    async def test_the_seal_applied_on_the_due_date_and_recorded_the_next_morning_makes_it_effective(
        self, clocks: Clocks
    ):
        handle, due = await self.signing_at_the_due_date(clocks)
        seal = {**SIGNATURES[3], "signed_at": datetime(due.year, due.month, due.day, 17, 30, tzinfo=SHANGHAI)
                .isoformat()}
        result = await clocks.act(handle, "sign", **seal)
        assert result.status == "performance"
        assert clocks.case(handle).effective_on == due  # the date of the fourth act, not of its recording
        grace_end = nth_working_day_after(due, 1)
        await clocks.sleep_until(end_of_day(grace_end) + ONE_MINUTE)
        await clocks.stays(lambda: clocks.case(handle).status == "performance", "effective: no expiry")

    async def test_a_signature_dated_after_the_due_date_is_refused_and_the_case_fails_after_the_grace_day(
        self, clocks: Clocks
    ):
        handle, due = await self.signing_at_the_due_date(clocks)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await clocks.act(handle, "sign", **SIGNATURES[3])  # dated now, the day after the due date
        assert refused.value.cause.type == "RuleViolated" and "dated on or before" in refused.value.cause.message
        with pytest.raises(WorkflowUpdateFailedError):  # a period that ran out is not extended either
            await clocks.act(handle, "extend_deadline", extra_days=5, patient_consent=True, institution_consent=True,
                             approved_by="赵主任")
        grace_end = nth_working_day_after(due, 1)
        await clocks.sleep_until(end_of_day(grace_end) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.case(handle).status == "failed", "failed after the grace day")
        [expired] = [t for t in clocks.rows(Transition, handle) if t.event == "deadline_expired"]
        assert expired.from_status == "signing" and expired.payload["due_date"] == due.isoformat()

    async def test_an_extension_agreed_while_signing_moves_the_deadline(self, clocks: Clocks):  # Reg 38, rev 2
        handle = await clocks.accepted()
        accepted = await clocks.today()
        await clocks.act(handle, "draft_agreement", **agreement())
        await clocks.act(handle, "extend_deadline", extra_days=10, patient_consent=True, institution_consent=True,
                         approved_by="赵主任")
        case = clocks.case(handle)
        assert case.status == "signing" and case.due_date == mediation_due(accepted, [], budget=40)


class TestAnAppraisalThatNeverReports:
    async def test_the_mediator_is_reminded_every_twenty_working_days_and_abandoning_it_resumes_the_clock(
        self, clocks: Clocks
    ):  # Reg 38, rev 2
        handle = await clocks.accepted()
        accepted = await clocks.today()
        await clocks.act(handle, "start_appraisal", **APPRAISAL)
        started = await clocks.today()
        first = nth_working_day_after(started, 20)
        await clocks.sleep_until(end_of_day(first) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.notifications(handle, "appraisal_reminder"), "reminded")
        [reminder] = clocks.notifications(handle, "appraisal_reminder")
        assert reminder.recipient_role == "mediator" and reminder.recipients == ["陈调解员"]
        assert clocks.case(handle).status == "appraisal"
        await clocks.act(handle, "abandon_appraisal", reason="fee_not_advanced", reason_text="患方未预交鉴定费")
        resumed = await clocks.today()
        case = clocks.case(handle)
        assert case.status == "in_mediation" and not case.clock_paused
        assert case.clock["pauses"][-1]["ended_on"] == resumed.isoformat()
        assert case.due_date == mediation_due(accepted, [(started, resumed)], budget=30)


class TestTheOutbox:
    async def test_a_notification_is_kept_and_delivered_once_even_when_the_channel_fails_first(self, clocks: Clocks):
        handle = await clocks.open(application_type="joint", applicant_side=None)
        await clocks.act(handle, "submit_for_review")
        clocks.channel.failures_left = 2  # the gateway fails twice; the activity retries
        reminder = nth_working_day_after(await clocks.today(), 3)
        await clocks.sleep_until(end_of_day(reminder) + ONE_MINUTE)
        await clocks.eventually(lambda: clocks.channel.delivered, "delivered after the retries")
        await clocks.stays(lambda: len(clocks.channel.delivered) == 1, "delivered once")
        [kept] = clocks.notifications(handle, "review_reminder")
        assert kept.channel == "recording" and kept.delivered_at is not None
        assert clocks.channel.delivered[0].id == kept.id
