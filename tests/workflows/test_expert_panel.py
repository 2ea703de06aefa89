"""Expert consultation (Reg 33, 35, 37), run by ExpertPanelWorkflow as a child of the case's DisputeWorkflow on
Temporal's time-skipping test server, against a real database: the draw and its exclusions, replacements that
keep the panel's mix, the answer clock, an exhausted pool, the opinion and a conflict found after it."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from core.db import SessionFactory
from domain.clock import end_of_day
from domain.draw import draw as rerun
from domain.time import SHANGHAI
from models.tables import (
    Case,
    Document,
    Draw,
    Invitation,
    Notification,
    Panel,
)
from tests.factories import REGISTRATION, registration
from tests.oracle import nth_working_day_after
from tests.pools import City, add_expert, make_city
from workflows.contracts import (
    Actor,
    ExpertReply,
    OpenDispute,
    OpinionPart,
    StaffAction,
    panel_workflow_id,
    workflow_id,
)
from workflows.dispute import DisputeWorkflow
from workflows.panel import ExpertPanelWorkflow
from workflows.worker import RUNNER, build_worker

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
HISTORIES = Path(__file__).parent / "histories"
MEDIATOR = Actor(id="m1", name="陈调解员", role="mediator")


# ------------------------------------------------------------------ the harness ---------------------------
@dataclass
class Consultation:
    env: WorkflowEnvironment
    task_queue: str
    sessions: SessionFactory

    async def case_in_mediation(self, city: City, policy: dict[str, Any] | None = None,
                                linked_to: str | None = "respondent", patient_id: str | None = None) -> WorkflowHandle:
        """A case whose respondent is linked to the registry (Reg 37, rev 2): to `city.respondent` by default,
        to the institution of another attribute of `city`, or to none."""
        case_id = uuid.uuid4().hex
        institution = {**REGISTRATION["institution"]}
        if linked_to is not None:
            institution["pool_institution_id"] = getattr(city, linked_to)
        application = registration(committee_id=city.committee_id, application_type="joint", applicant_side=None,
                                   institution=institution)
        if patient_id is not None:
            application["patient"]["id_number"] = patient_id
        handle = await self.env.client.start_workflow(
            DisputeWorkflow.run,
            OpenDispute(case_id=case_id, actor=MEDIATOR, policy=policy or {}, registration=application),
            id=workflow_id(case_id),
            task_queue=self.task_queue,
        )
        await handle.execute_update(DisputeWorkflow.snapshot)
        await self.act(handle, "submit_for_review")
        await self.act(handle, "accept", mediators=["陈调解员"])
        return handle

    async def act(self, handle: WorkflowHandle, event: str, **payload: Any):
        return await handle.execute_update(DisputeWorkflow.apply_event, StaffAction(event, payload, MEDIATOR))

    async def request(self, handle: WorkflowHandle, specialties: list[str]) -> WorkflowHandle:
        result = await self.act(handle, "request_consultation", specialties=specialties,
                                question="医方诊疗行为有无过错、与损害后果的因果关系及责任程度")
        assert result.panel_id
        panel = self.env.client.get_workflow_handle(panel_workflow_id(result.panel_id))
        await self.eventually(lambda: self.panel(panel).status != "drawing" or len(self.invited(panel)) == len(
            specialties) or bool(self.panel(panel).unfilled_slots), "the first draws")
        return panel

    def panel(self, panel: WorkflowHandle) -> Panel:
        with self.sessions() as session:
            row = session.get(Panel, panel.id.removeprefix("panel-"))
            assert row is not None
            return row

    def rows(self, model: type, panel: WorkflowHandle) -> list[Any]:
        with self.sessions() as session:
            return list(session.exec(select(model).where(model.panel_id == panel.id.removeprefix("panel-"))).all())

    def invited(self, panel: WorkflowHandle) -> list[Invitation]:
        return sorted((i for i in self.rows(Invitation, panel) if i.status in ("invited", "accepted")),
                      key=lambda i: i.slot)

    def invitation(self, panel: WorkflowHandle, slot: int) -> Invitation:
        [current] = [i for i in self.invited(panel) if i.slot == slot]
        return current

    async def reply(self, panel: WorkflowHandle, invitation: Invitation, reply: str, reason: str = "") -> None:
        await panel.execute_update(ExpertPanelWorkflow.answer,
                                   ExpertReply(invitation.id, invitation.expert_id, reply, reason))

    async def opinion(self, panel: WorkflowHandle, invitation: Invitation, percent: int = 60) -> None:
        await panel.execute_update(ExpertPanelWorkflow.submit_opinion, OpinionPart(
            invitation.id, invitation.expert_id, fault="存在过错", causation="存在因果关系", liability_percent=percent,
            text=f"{invitation.expert_id}的意见"))

    def documents(self, handle: WorkflowHandle, kind: str) -> list[Document]:
        with self.sessions() as session:
            return sorted(session.exec(select(Document).where(Document.case_id == handle.id.removeprefix(
                "dispute-"), Document.kind == kind)).all(), key=lambda d: (d.source_seq, d.lang))

    def notifications(self, handle: WorkflowHandle, kind: str) -> list[Notification]:
        with self.sessions() as session:
            return list(session.exec(select(Notification).where(
                Notification.case_id == handle.id.removeprefix("dispute-"), Notification.kind == kind)).all())

    async def eventually(self, check: Callable[[], bool], what: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {seconds} s: {what}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def consult(sessions: SessionFactory) -> AsyncIterator[Consultation]:
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(TEST_SERVER))
    task_queue = f"panels-{uuid.uuid4().hex[:8]}"
    try:
        async with build_worker(env.client, task_queue=task_queue, session_factory=sessions):
            yield Consultation(env, task_queue, sessions)
    finally:
        await env.shutdown()


def two_obstetricians_and_a_lawyer(sessions: SessionFactory, city: City, *, obstetricians: int = 4) -> None:
    for n in range(obstetricians):
        add_expert(sessions, city, f"ob{n}", ["obstetrics", "gynecology"], worked_at=[(city.elsewhere, None, None)])
    for n in range(3):
        add_expert(sessions, city, f"law{n}", ["law"])


# ------------------------------------------------------------------ the draw (Reg 33, 35, 37) -------------
class TestTheDraw:
    async def test_a_panel_gets_its_mix_from_the_citys_pool_and_every_draw_can_be_rerun(self, consult, sessions):
        # Reg 33: two obstetricians and a lawyer; Reg 35: the committee's city's pool
        city = make_city(sessions)
        two_obstetricians_and_a_lawyer(sessions, city)
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics", "obstetrics", "law"])
        invited = consult.invited(panel)
        assert [i.specialty for i in invited] == ["obstetrics", "obstetrics", "law"]
        assert len({i.expert_id for i in invited}) == 3  # nobody twice on one panel
        for recorded in consult.rows(Draw, panel):
            assert recorded.result == rerun(recorded.snapshot, recorded.seed)  # reproducible from the record
            assert recorded.result in recorded.snapshot and len(recorded.seed) == 64

    async def test_experts_of_another_site_of_the_respondents_group_are_never_drawn(self, consult, sessions):
        # Reg 37: a conflict with one site of a group is a conflict with every site
        city = make_city(sessions)
        add_expert(sessions, city, "east", ["obstetrics"], worked_at=[(city.branch, date(2010, 1, 1), None)])
        add_expert(sessions, city, "free", ["obstetrics"], worked_at=[(city.elsewhere, None, None)])
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics"])
        [recorded] = consult.rows(Draw, panel)
        assert recorded.snapshot == [city.experts["free"].id]
        assert {e["expert_id"]: e["reason"] for e in recorded.exclusions} == {city.experts["east"].id: "affiliated"}
        assert set(recorded.facts["institution_ids"]) == {city.respondent, city.branch}

    async def test_recusal_follows_the_registry_link_never_the_name(self, consult, sessions):
        # Reg 37, rev 2: the respondent as registered is named like the registry's main site, but the case is
        # linked to the unrelated hospital: its staff are excluded, the main site's are not (no name match)
        city = make_city(sessions)
        add_expert(sessions, city, "main", ["obstetrics"], worked_at=[(city.respondent, date(2010, 1, 1), None)])
        add_expert(sessions, city, "other", ["obstetrics"], worked_at=[(city.elsewhere, date(2010, 1, 1), None)])
        case = await consult.case_in_mediation(city, linked_to="elsewhere")
        panel = await consult.request(case, ["obstetrics"])
        [recorded] = consult.rows(Draw, panel)
        assert recorded.snapshot == [city.experts["main"].id]
        assert {e["expert_id"]: e["reason"] for e in recorded.exclusions} == {city.experts["other"].id: "affiliated"}
        assert recorded.facts["institution_ids"] == [city.elsewhere] and recorded.facts["warnings"] == []

    async def test_no_consultation_until_the_respondent_is_linked(self, consult, sessions):  # Reg 37, rev 2
        city = make_city(sessions)
        case = await consult.case_in_mediation(city, linked_to=None)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await consult.act(case, "request_consultation", specialties=["law"], question="责任程度")
        assert refused.value.cause.type == "RuleViolated" and "respondent-institution" in refused.value.cause.message
        await consult.act(case, "link_respondent", institution_id=city.respondent)
        panel = await consult.request(case, ["law"])
        assert consult.panel(panel).institution_id == city.respondent

    async def test_an_affiliation_that_ended_two_years_ago_excludes_and_one_that_ended_four_years_ago_does_not(
        self, consult, sessions
    ):  # Reg 37, with the policy's lookback of 3 years
        city = make_city(sessions)
        today = date.today()
        add_expert(sessions, city, "recent", ["obstetrics"],
                   worked_at=[(city.respondent, date(2000, 1, 1), today.replace(year=today.year - 2))])
        add_expert(sessions, city, "long_ago", ["obstetrics"],
                   worked_at=[(city.respondent, date(2000, 1, 1), today.replace(year=today.year - 4))])
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics"])
        [recorded] = consult.rows(Draw, panel)
        assert recorded.snapshot == [city.experts["long_ago"].id]
        assert [e["reason"] for e in recorded.exclusions] == ["affiliated"]

    async def test_the_patient_and_a_relative_of_the_patient_are_excluded(self, consult, sessions):  # Reg 37
        city = make_city(sessions)
        add_expert(sessions, city, "patient", ["obstetrics"], name="王小明", id_number="310101198001011234")
        add_expert(sessions, city, "relative", ["obstetrics"],
                   relatives=[{"name": "王小明", "relation": "兄弟", "id_number": "310101198001011234"}])
        add_expert(sessions, city, "stranger", ["obstetrics"])
        case = await consult.case_in_mediation(city, patient_id="310101198001011234")
        panel = await consult.request(case, ["obstetrics"])
        [recorded] = consult.rows(Draw, panel)
        reasons = {e["expert_id"]: e["reason"] for e in recorded.exclusions}
        assert reasons == {city.experts["patient"].id: "party", city.experts["relative"].id: "relative_of_party"}
        assert recorded.result == city.experts["stranger"].id


# ------------------------------------------------------------------ replacements --------------------------
class TestReplacement:
    async def test_a_decline_draws_a_replacement_of_the_same_specialty(self, consult, sessions):
        # DOMAIN.md: every decline triggers a replacement draw that keeps the panel's mix
        city = make_city(sessions)
        two_obstetricians_and_a_lawyer(sessions, city)
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics", "obstetrics", "law"])
        first = consult.invitation(panel, 1)
        await consult.reply(panel, first, "decline", "近期出国参加学术会议")
        replacement = consult.invitation(panel, 1)
        assert replacement.specialty == "obstetrics" and replacement.expert_id != first.expert_id
        redraw = [d for d in consult.rows(Draw, panel) if d.slot == 1 and d.attempt == 2][0]
        assert {"expert_id": first.expert_id, "reason": "declined"} in [
            {k: e[k] for k in ("expert_id", "reason")} for e in redraw.exclusions]
        assert [i.status for i in consult.rows(Invitation, panel) if i.id == first.id] == ["declined"]

    async def test_silence_past_the_answer_clock_expires_the_invitation_and_draws_a_replacement(
        self, consult, sessions
    ):  # the answer clock: 2 working days by default, ending at 24:00 of the last day
        city = make_city(sessions)
        two_obstetricians_and_a_lawyer(sessions, city)
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["law"])
        silent = consult.invitation(panel, 0)
        invited_on = silent.invited_at.astimezone(SHANGHAI).date()
        assert silent.answer_due_at == end_of_day(nth_working_day_after(invited_on, 2))
        now = (await consult.env.get_current_time()).astimezone(SHANGHAI)
        await consult.env.sleep(silent.answer_due_at - now - timedelta(minutes=1))
        await asyncio.sleep(0.5)
        assert consult.invitation(panel, 0).id == silent.id  # not a minute early
        await consult.env.sleep(timedelta(minutes=2))
        await consult.eventually(lambda: consult.invitation(panel, 0).id != silent.id, "a replacement")
        assert [i.status for i in consult.rows(Invitation, panel) if i.id == silent.id] == ["expired"]
        assert consult.invitation(panel, 0).specialty == "law"

    async def test_an_exhausted_pool_tells_staff_and_does_not_block_the_case(self, consult, sessions):
        city = make_city(sessions)
        add_expert(sessions, city, "only", ["law"])
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["law", "forensic_medicine"])
        assert consult.panel(panel).unfilled_slots == [1]  # nobody in forensic medicine
        await consult.eventually(lambda: len(consult.notifications(case, "panel_slot_unfilled")) == 1, "staff told")
        # the case goes on, its clock running (Reg 33: consultation does not pause it)
        await consult.act(case, "schedule_session", scheduled_at="2026-12-01T09:30:00+08:00", place="第一调解室",
                          mediators=["陈调解员"])
        with sessions() as session:
            assert session.get(Case, case.id.removeprefix("dispute-")).clock_paused is False
        # the only lawyer declines: that slot has nobody left either
        await consult.reply(panel, consult.invitation(panel, 0), "decline", "工作冲突")
        assert consult.panel(panel).unfilled_slots == [0, 1]
        # the pool grows; staff draw again for the slot
        add_expert(sessions, city, "forensic", ["forensic_medicine"])
        from workflows.contracts import SlotRedraw

        await panel.execute_update(ExpertPanelWorkflow.redraw_slot, SlotRedraw(slot=1, actor=MEDIATOR))
        assert consult.invitation(panel, 1).expert_id == city.experts["forensic"].id
        assert consult.panel(panel).unfilled_slots == [0]


# ------------------------------------------------------------------ the opinion ---------------------------
class TestOpinion:
    async def test_the_panels_opinion_is_issued_as_a_document_of_the_case(self, consult, sessions):  # Reg 33
        city = make_city(sessions)
        two_obstetricians_and_a_lawyer(sessions, city)
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics", "law"])
        for slot in (0, 1):
            await consult.reply(panel, consult.invitation(panel, slot), "accept")
        assert consult.panel(panel).status == "complete"
        await consult.eventually(lambda: len(consult.notifications(case, "panel_complete")) == 1, "meeting prompt")
        for slot in (0, 1):
            await consult.opinion(panel, consult.invitation(panel, slot))
        await consult.eventually(lambda: len(consult.documents(case, "expert_opinion")) == 2, "the opinion")
        zh, en = sorted(consult.documents(case, "expert_opinion"), key=lambda d: d.lang != "zh")
        assert (zh.lang, en.lang, zh.version) == ("zh", "en", 1)
        assert "咨字" in zh.number

    async def test_a_conflict_found_after_the_opinion_voids_that_part_and_redraws(self, consult, sessions):
        # Reg 37; DOMAIN.md: the void opinion and the redraw stay in the trail
        city = make_city(sessions)
        two_obstetricians_and_a_lawyer(sessions, city)
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics", "law"])
        for slot in (0, 1):
            await consult.reply(panel, consult.invitation(panel, slot), "accept")
            await consult.opinion(panel, consult.invitation(panel, slot))
        await consult.eventually(lambda: len(consult.documents(case, "expert_opinion")) == 2, "version 1")
        late = consult.invitation(panel, 0)
        await consult.reply(panel, late, "conflict", "发现本人曾为该患者会诊")
        voided = [i for i in consult.rows(Invitation, panel) if i.id == late.id][0]
        assert voided.status == "voided" and voided.opinion is not None  # the part is kept, void
        replacement = consult.invitation(panel, 0)
        assert replacement.specialty == "obstetrics" and replacement.expert_id != late.expert_id
        await consult.reply(panel, replacement, "accept")
        await consult.opinion(panel, replacement, percent=40)
        await consult.eventually(lambda: len(consult.documents(case, "expert_opinion")) == 4, "version 2")
        docs = consult.documents(case, "expert_opinion")
        assert [(d.version, d.superseded) for d in docs] == [(1, True), (1, True), (2, False), (2, False)]
        # the expert in conflict is never drawn again for this case
        [redraw] = [d for d in consult.rows(Draw, panel) if (d.slot, d.attempt) == (0, 2)]
        assert late.expert_id not in redraw.snapshot
        assert {"expert_id": late.expert_id, "reason": "declared_conflict"} in [
            {k: e[k] for k in ("expert_id", "reason")} for e in redraw.exclusions]
        # both workflows replay deterministically; RECORD_HISTORY=<name> keeps them for later versions of the code
        for handle in (case, panel):
            history = await handle.fetch_history()
            replayer = Replayer(workflows=[DisputeWorkflow, ExpertPanelWorkflow], workflow_runner=RUNNER)
            await replayer.replay_workflow(history)
            if name := os.environ.get("RECORD_HISTORY"):
                kind = "case" if handle is case else "panel"
                (HISTORIES / f"{name}_{kind}.json").write_text(history.to_json())

    async def test_staff_cannot_record_an_opinion_the_panel_did_not_give(self, consult, sessions):
        city = make_city(sessions)
        case = await consult.case_in_mediation(city)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await consult.act(case, "record_expert_opinion", panel_id="made-up", version=1)
        assert refused.value.cause.type == "IllegalTransition"
        assert consult.documents(case, "expert_opinion") == []

    async def test_the_panel_closes_with_the_case_and_frees_its_experts(self, consult, sessions):
        city = make_city(sessions)
        two_obstetricians_and_a_lawyer(sessions, city)
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics", "law"])
        await consult.reply(panel, consult.invitation(panel, 0), "accept")
        await consult.act(case, "terminate", ground="party_withdrew")
        await consult.eventually(lambda: consult.panel(panel).status == "closed", "the panel closes")
        assert {i.status for i in consult.rows(Invitation, panel)} == {"cancelled"}


# ------------------------------------------------------------------ refusals (domain/panel_lifecycle.py) ---
class TestRefusals:
    async def test_what_the_panels_lifecycle_does_not_allow_is_refused_naming_the_state(self, consult, sessions):
        from workflows.contracts import MeetingPlan, SlotRedraw

        city = make_city(sessions)
        two_obstetricians_and_a_lawyer(sessions, city)
        case = await consult.case_in_mediation(city)
        panel = await consult.request(case, ["obstetrics", "law"])
        first, second = consult.invitation(panel, 0), consult.invitation(panel, 1)

        async def refused(update: Any, arg: Any) -> Any:
            with pytest.raises(WorkflowUpdateFailedError) as failure:
                await panel.execute_update(update, arg)
            return failure.value.cause

        # Reg 33: an opinion comes after the acceptance
        cause = await refused(ExpertPanelWorkflow.submit_opinion, OpinionPart(
            first.id, first.expert_id, fault="存在过错", causation="存在因果关系", liability_percent=50, text="意见"))
        assert cause.type == "IllegalTransition" and cause.details[0]["state"] == "invited"
        # an invitation is answered once
        await consult.reply(panel, first, "accept")
        cause = await refused(ExpertPanelWorkflow.answer, ExpertReply(first.id, first.expert_id, "decline", "出差"))
        assert cause.type == "IllegalTransition" and cause.details[0]["state"] == "accepted"
        assert "recuse" in cause.details[0]["allowed_events"]
        # a decline states its reason
        cause = await refused(ExpertPanelWorkflow.answer, ExpertReply(second.id, second.expert_id, "decline", " "))
        assert cause.type == "RuleViolated" and cause.details[0]["rules"] == ["reason_given"]
        # only a seat the pool could not fill is drawn again by staff
        cause = await refused(ExpertPanelWorkflow.redraw_slot, SlotRedraw(slot=0, actor=MEDIATOR))
        assert cause.type == "IllegalTransition" and cause.details[0]["state"] == "accepted"
        # the meeting waits for every acceptance
        plan = MeetingPlan(at=(await consult.env.get_current_time()) + timedelta(days=3), place="第二会议室",
                           actor=MEDIATOR)
        cause = await refused(ExpertPanelWorkflow.schedule_meeting, plan)
        assert cause.type == "IllegalTransition" and cause.details[0]["state"] == "drawing"
        # an opinion is given once
        await consult.opinion(panel, consult.invitation(panel, 0))
        cause = await refused(ExpertPanelWorkflow.submit_opinion, OpinionPart(
            first.id, first.expert_id, fault="无过错", causation="无因果关系", liability_percent=0, text="意见"))
        assert cause.type == "RuleViolated" and cause.details[0]["rules"] == ["not opinion_given"]
        assert [i.status for i in consult.rows(Invitation, panel) if i.id == first.id] == ["accepted"]
