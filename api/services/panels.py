"""What the panel routes ask for: reads of the panels, draws and objections from the database; staff and
experts' acts as Updates of the panel's workflow (ExpertPanelWorkflow), which decides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Database
from api.services.workflow_calls import within, workflow_error
from core.errors import Conflict, DomainError, Forbidden, InvalidField, NotFound
from domain.anonymise import age_on, anonymise, masked_name, patient_side_names
from domain.clock import legal_date
from domain.draw import ALGORITHM, draw
from domain.panel_lifecycle import ENDED_INVITATIONS, INVITATION, PANEL, InvitationStatus, seat_of_invitation
from domain.specialties import SPECIALTIES, label
from models import repo, repo_panels
from models.schemas_panels import (
    CaseMaterialForExpert,
    CaseSummaryForExpert,
    DrawPublic,
    DrawVerification,
    ExpertFigures,
    InvitationPublic,
    MeetingIn,
    MyInvitation,
    MyInvitations,
    ObjectionDecisionIn,
    ObjectionIn,
    ObjectionPublic,
    OpinionIn,
    PanelPublic,
    SlotPublic,
    SpecialtyFigures,
)
from models.tables import Expert, Invitation, Objection, Panel
from workflows.contracts import (
    Actor,
    ExpertReply,
    MeetingPlan,
    OpinionPart,
    Recusal,
    SlotRedraw,
    panel_workflow_id,
)


# ---------------------------------------------------------------- talking to the panel's workflow ----------
def _panel_error(err: Exception, panel_id: str) -> DomainError:
    if isinstance(err, WorkflowUpdateFailedError) and isinstance(err.cause, ApplicationError):
        if err.cause.type == "PanelConflict":
            return Conflict(err.cause.message)
        if err.cause.type == "PanelNotFound":
            return NotFound(err.cause.message)
    if isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
        return Conflict(f"panel {panel_id} is closed: the case has left mediation")
    return workflow_error(err)


async def _update(client: Client, panel: Panel, update: Any, arg: Any, timeout: float) -> None:
    handle = client.get_workflow_handle(panel_workflow_id(panel.id))
    await within(timeout, handle.execute_update(update, arg, rpc_timeout=timedelta(seconds=timeout)),
                 case_id=panel.case_id, translate=lambda err: _panel_error(err, panel.id))


# ---------------------------------------------------------------- staff: reads -----------------------------
def _experts(session: Session, invitations: list[Invitation]) -> dict[str, Expert]:
    return repo_panels.experts_by_id(session=session, expert_ids={i.expert_id for i in invitations})


def _invitation_public(invitation: Invitation, experts: dict[str, Expert]) -> InvitationPublic:
    expert = experts.get(invitation.expert_id)
    return InvitationPublic.model_validate({
        **invitation.model_dump(),
        "specialty_label": label(invitation.specialty),
        "expert_name": expert.name if expert else "",
        "expert_title": expert.title if expert else "",
    })


def panel_public(*, session: Session, panel: Panel) -> PanelPublic:
    invitations = list(repo_panels.invitations_of_panel(session=session, panel_id=panel.id))
    draws = list(repo_panels.draws_of_panel(session=session, panel_id=panel.id))
    experts = _experts(session, invitations)
    slots: list[SlotPublic] = []
    for slot, specialty in enumerate(panel.specialties):
        current = next((i for i in reversed(invitations)
                        if i.slot == slot and i.status not in ENDED_INVITATIONS), None)
        status = seat_of_invitation(current.status if current else None, unfilled=slot in panel.unfilled_slots,
                                    opinion_given=current is not None and current.opinion is not None)
        expert = experts.get(current.expert_id) if current else None
        slots.append(SlotPublic(
            slot=slot, specialty=specialty, specialty_label=label(specialty), status=status,
            expert_id=current.expert_id if current else None, expert_name=expert.name if expert else None,
            invitation_id=current.id if current else None, attempts=sum(1 for d in draws if d.slot == slot),
        ))
    warnings = sorted({w for d in draws for w in d.facts.get("warnings", [])})
    return PanelPublic.model_validate({
        **panel.model_dump(),
        "slots": slots,
        "invitations": [_invitation_public(i, experts) for i in invitations],
        "objections": [ObjectionPublic.model_validate(o)
                       for o in repo_panels.objections_of_panel(session=session, panel_id=panel.id)],
        "draw_ids": [d.id for d in draws],
        "warnings": warnings,
    })


def list_panels(*, session: Session, case_id: str) -> list[PanelPublic]:
    repo.get_case(session=session, case_id=case_id)
    return [panel_public(session=session, panel=p) for p in repo_panels.list_panels(session=session, case_id=case_id)]


def get_panel(*, session: Session, panel_id: str) -> PanelPublic:
    return panel_public(session=session, panel=repo_panels.get_panel(session=session, panel_id=panel_id))


def get_draw(*, session: Session, draw_id: str) -> DrawPublic:
    return DrawPublic.model_validate(repo_panels.get_draw(session=session, draw_id=draw_id))


def verify_draw(*, session: Session, draw_id: str) -> DrawVerification:
    """Re-runs a recorded draw from its seed and snapshot (domain/draw.py) and says whether it matches."""
    recorded = repo_panels.get_draw(session=session, draw_id=draw_id)
    rerun = draw(recorded.snapshot, recorded.seed) if recorded.algorithm == ALGORITHM else None
    return DrawVerification(
        draw_id=recorded.id, algorithm=recorded.algorithm, recorded_result=recorded.result, rerun_result=rerun,
        matches=recorded.algorithm == ALGORITHM and rerun == recorded.result,
        eligible=len(recorded.snapshot), excluded=len(recorded.exclusions),
    )


# ---------------------------------------------------------------- staff: acts ------------------------------
async def redraw_slot(
    *, db: Database, client: Client, panel_id: str, slot: int, actor: Actor, timeout: float
) -> PanelPublic:
    def find(session: Session) -> Panel:
        panel = repo_panels.get_panel(session=session, panel_id=panel_id)
        if not 0 <= slot < len(panel.specialties):
            raise NotFound(f"panel {panel_id} has no slot {slot}")
        return panel

    panel = await db.run(find)
    await _update(client, panel, "redraw_slot", SlotRedraw(slot=slot, actor=actor), timeout)
    return await db.run(lambda session: get_panel(session=session, panel_id=panel_id))


async def schedule_meeting(
    *, db: Database, client: Client, panel_id: str, body: MeetingIn, actor: Actor, timeout: float
) -> PanelPublic:
    panel = await db.run(lambda session: repo_panels.get_panel(session=session, panel_id=panel_id))
    plan = MeetingPlan(at=body.at, place=body.place, actor=actor, material=list(body.material))
    await _update(client, panel, "schedule_meeting", plan, timeout)
    return await db.run(lambda session: get_panel(session=session, panel_id=panel_id))


def _on_panel(session: Session, panel: Panel, invitation_id: str) -> Invitation:
    try:
        invitation = repo_panels.get_invitation(session=session, invitation_id=invitation_id)
    except NotFound:
        invitation = None
    if invitation is None or invitation.panel_id != panel.id:
        raise NotFound(f"invitation {invitation_id!r} is not on panel {panel.id}")
    return invitation


def add_objection(*, session: Session, panel_id: str, body: ObjectionIn, actor: Actor) -> ObjectionPublic:
    """Reg 37: a party asks, orally or in writing, that an expert of the panel be recused: the invitation must still
    allow a recusal (IllegalTransition once the expert left the panel), on a panel still open."""
    panel = repo_panels.get_panel(session=session, panel_id=panel_id)
    invitation = _on_panel(session, panel, body.invitation_id)
    INVITATION.next(invitation.status, "recuse", opinion_given=invitation.opinion is not None, reason=body.reason)
    if panel.status in PANEL.final:
        raise Conflict("the panel is closed: the case has left mediation")
    objection = repo_panels.add_objection(session=session, objection=Objection(
        id=uuid.uuid4().hex, panel_id=panel.id, invitation_id=invitation.id, case_id=panel.case_id,
        expert_id=invitation.expert_id, raised_by=body.raised_by, form=body.form, reason=body.reason,
        recorded_by=actor.name, recorded_at=datetime.now(UTC),
    ))
    return ObjectionPublic.model_validate(objection)


def list_objections(*, session: Session, panel_id: str) -> list[ObjectionPublic]:
    repo_panels.get_panel(session=session, panel_id=panel_id)
    return [ObjectionPublic.model_validate(o) for o in repo_panels.objections_of_panel(session=session,
                                                                                        panel_id=panel_id)]


async def decide_objection(
    *, db: Database, client: Client, panel_id: str, objection_id: str, body: ObjectionDecisionIn, actor: Actor,
    timeout: float,
) -> ObjectionPublic:
    """Staff decide; an upheld objection recuses the expert and the panel draws a replacement."""

    def find(session: Session) -> tuple[Panel, Objection]:
        panel = repo_panels.get_panel(session=session, panel_id=panel_id)
        objection = repo_panels.get_objection(session=session, objection_id=objection_id)
        if objection.panel_id != panel.id:
            raise NotFound(f"objection {objection_id!r} is not on panel {panel.id}")
        if objection.decision is not None:
            raise Conflict(f"the objection was already decided ({objection.decision})")
        return panel, objection

    panel, objection = await db.run(find)
    if body.decision == "upheld":
        recusal = Recusal(invitation_id=objection.invitation_id, objection_id=objection.id,
                          reason=f"当事人申请回避，经决定予以支持：{objection.reason}", actor=actor)
        await _update(client, panel, "recuse", recusal, timeout)
    return await db.run(lambda session: ObjectionPublic.model_validate(repo_panels.decide_objection(
        session=session, objection_id=objection_id, decision=body.decision, by=actor.name, reason=body.reason,
        at=datetime.now(UTC))))


# ---------------------------------------------------------------- the experts' portal ----------------------
def _expert(session: Session, actor: Actor) -> Expert:
    if actor.role != "expert":
        raise Forbidden("the experts' portal is for members of the expert pool (role expert)")
    expert = session.get(Expert, actor.id)
    if expert is None:
        raise Forbidden(f"{actor.id!r} is not a member of the expert pool")
    return expert


def _mine(session: Session, expert: Expert, invitation_id: str) -> Invitation:
    """An expert sees only their own invitations: anyone else's is not found (404), never forbidden."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.expert_id != expert.id:
        raise NotFound(f"invitation {invitation_id!r} not found")
    return invitation


def _my_invitation(session: Session, invitation: Invitation) -> MyInvitation:
    case = repo.get_case(session=session, case_id=invitation.case_id)
    panel = repo_panels.get_panel(session=session, panel_id=invitation.panel_id)
    reg = case.registration
    names = patient_side_names(reg)
    patient = reg.get("patient", {})
    registered_on = legal_date(case.registered_at)
    summary = CaseSummaryForExpert(
        institution=reg.get("institution", {}).get("name", ""),
        patient=masked_name(patient.get("name", "")),
        gender=patient.get("gender"),
        age=age_on(patient.get("birth_date"), registered_on),
        treatment_episode=anonymise(reg.get("treatment_episode") or "", names),
        facts=anonymise(reg.get("facts", ""), names),
    )
    accepted = invitation.status == InvitationStatus.ACCEPTED  # identity is shown on acceptance
    material = None
    if accepted:
        documents = [
            {"id": d.id, "kind": d.kind, "title": d.title, "number": d.number, "lang": d.lang}
            for d in repo.list_documents(session=session, case_id=case.id)
            if d.kind in ("acceptance_notice", "expert_opinion") and not d.superseded
        ]
        material = CaseMaterialForExpert(  # names now shown; identity and phone numbers never needed
            **{**summary.model_dump(), "treatment_episode": anonymise(reg.get("treatment_episode") or "", []),
               "facts": anonymise(reg.get("facts", ""), [])},
            patient_name=patient.get("name", ""), requests=anonymise(reg.get("requests", ""), []),
            documents=documents,
        )
    return MyInvitation(
        id=invitation.id, panel_id=invitation.panel_id, specialty=invitation.specialty,
        specialty_label=label(invitation.specialty), status=invitation.status, invited_at=invitation.invited_at,
        answer_due_at=invitation.answer_due_at, answered_at=invitation.answered_at,
        # the mediator's question as typed may name the patient or give numbers: anonymised like the facts, and
        # identity and phone numbers masked after accepting too (the expert needs the medicine, not the numbers)
        question=anonymise(panel.question, [] if accepted else names),
        summary=summary, material=material, case_number=case.number if accepted else None,
        meeting=panel.meeting if accepted else None, opinion=invitation.opinion,
    )


def my_invitations(
    *, session: Session, actor: Actor, status: str | None, limit: int, cursor: str | None = None, offset: int = 0,
    count: bool = False,
) -> MyInvitations:
    expert = _expert(session, actor)
    found = repo_panels.invitations_of_expert(session=session, expert_id=expert.id, status=status, limit=limit,
                                              cursor=cursor, offset=offset, count=count)
    return MyInvitations(items=[_my_invitation(session, i) for i in found.rows], limit=limit,
                         has_more=found.has_more, next_cursor=found.next_cursor,
                         estimated_total=found.estimated_total)


def my_invitation(*, session: Session, actor: Actor, invitation_id: str) -> MyInvitation:
    return _my_invitation(session, _mine(session, _expert(session, actor), invitation_id))


def _my_panel(session: Session, actor: Actor, invitation_id: str) -> tuple[Expert, Invitation, Panel]:
    expert = _expert(session, actor)
    invitation = _mine(session, expert, invitation_id)
    return expert, invitation, repo_panels.get_panel(session=session, panel_id=invitation.panel_id)


async def reply(
    *, db: Database, client: Client, actor: Actor, invitation_id: str, answer: str, reason: str, timeout: float
) -> MyInvitation:
    expert, invitation, panel = await db.run(lambda session: _my_panel(session, actor, invitation_id))
    await _update(client, panel, "answer",
                  ExpertReply(invitation_id=invitation.id, expert_id=expert.id, reply=answer, reason=reason), timeout)
    return await db.run(lambda session: my_invitation(session=session, actor=actor, invitation_id=invitation_id))


async def submit_opinion(
    *, db: Database, client: Client, actor: Actor, invitation_id: str, body: OpinionIn, timeout: float
) -> MyInvitation:
    expert, invitation, panel = await db.run(lambda session: _my_panel(session, actor, invitation_id))
    part = OpinionPart(invitation_id=invitation.id, expert_id=expert.id, fault=body.fault, causation=body.causation,
                       liability_percent=body.liability_percent, text=body.text)
    await _update(client, panel, "submit_opinion", part, timeout)
    return await db.run(lambda session: my_invitation(session=session, actor=actor, invitation_id=invitation_id))


# ---------------------------------------------------------------- figures ----------------------------------
def expert_figures(*, session: Session, city: str | None, specialty: str | None) -> list[ExpertFigures]:
    if specialty is not None and specialty not in SPECIALTIES:
        raise InvalidField("specialty", f"unknown specialty {specialty!r}; see GET /pool/specialties")
    return [ExpertFigures(**row) for row in repo_panels.expert_figures(session=session, city=city, specialty=specialty)]


def specialty_figures(*, session: Session, city: str | None) -> list[SpecialtyFigures]:
    return [SpecialtyFigures(**row, specialty_label=SPECIALTIES.get(row["specialty"], row["specialty"]))
            for row in repo_panels.specialty_figures(session=session, city=city)]
