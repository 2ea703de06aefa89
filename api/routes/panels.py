"""Consultation panels (Reg 33): what staff see and do once a mediator asked for one
(POST /cases/{id}/request-consultation), the draw records anyone can re-run (Reg 37), and the pool's figures."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query

from api.access import allow
from api.deps import ActorDep, CaseId, DatabaseDep, ReleasingRoute, SessionDep, SettingsDep, TemporalDep
from api.errors import PANEL_RESPONSES
from api.services import panels
from domain.specialties import SPECIALTIES
from models.schemas_panels import (
    DrawPublic,
    DrawVerification,
    ExpertFigures,
    MeetingIn,
    ObjectionDecisionIn,
    ObjectionIn,
    ObjectionPublic,
    PanelPublic,
    SlotRedrawIn,
    SpecialtyFigures,
)

router = APIRouter(route_class=ReleasingRoute, tags=["panels"], responses=PANEL_RESPONSES)

PanelId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
RowId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
City = Annotated[str | None, Query(max_length=100)]
SpecialtyCode = Literal[tuple(SPECIALTIES)]  # type: ignore[valid-type]


@router.get("/cases/{case_id}/panels", dependencies=[allow("panels.read")], summary="A case's expert panels")
def of_case(case_id: CaseId, session: SessionDep, actor: ActorDep) -> list[PanelPublic]:
    return panels.list_panels(session=session, case_id=case_id)


@router.get("/panels/{panel_id}", dependencies=[allow("panels.read")],
            summary="A panel: its slots, invitations, objections and draws")
def one(panel_id: PanelId, session: SessionDep, actor: ActorDep) -> PanelPublic:
    return panels.get_panel(session=session, panel_id=panel_id)


@router.post("/panels/{panel_id}/slots/{slot}/redraw", dependencies=[allow("panels.manage")],
             summary="Draw again for a slot the pool could not fill (after the pool grew)")
async def redraw(
    panel_id: PanelId,
    slot: Annotated[int, Path(ge=0, le=6)],
    body: Annotated[SlotRedrawIn, Body()],
    db: DatabaseDep,
    client: TemporalDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> PanelPublic:
    return await panels.redraw_slot(db=db, client=client, panel_id=panel_id, slot=slot, actor=actor,
                                    timeout=settings.action_timeout_seconds)


@router.post("/panels/{panel_id}/meeting", dependencies=[allow("panels.manage")],
             summary="Schedule the panel's meeting (every expert accepted)")
async def meeting(
    panel_id: PanelId, body: MeetingIn, db: DatabaseDep, client: TemporalDep, actor: ActorDep,
    settings: SettingsDep,
) -> PanelPublic:
    return await panels.schedule_meeting(db=db, client=client, panel_id=panel_id, body=body, actor=actor,
                                         timeout=settings.action_timeout_seconds)


@router.get("/panels/{panel_id}/objections", dependencies=[allow("panels.read")],
            summary="Parties' objections to the panel's experts (回避申请)")
def objections(panel_id: PanelId, session: SessionDep, actor: ActorDep) -> list[ObjectionPublic]:
    return panels.list_objections(session=session, panel_id=panel_id)


@router.post("/panels/{panel_id}/objections", dependencies=[allow("panels.object")], status_code=201,
             summary="Record a party's objection to an expert, oral or written (回避申请, Reg 37)")
def object_to(panel_id: PanelId, body: ObjectionIn, session: SessionDep, actor: ActorDep) -> ObjectionPublic:
    return panels.add_objection(session=session, panel_id=panel_id, body=body, actor=actor)


@router.post("/panels/{panel_id}/objections/{objection_id}/decision", dependencies=[allow("panels.decide")],
             summary="Decide an objection; an upheld one recuses the expert and draws a replacement")
async def decide(
    panel_id: PanelId, objection_id: RowId, body: ObjectionDecisionIn, db: DatabaseDep, client: TemporalDep,
    actor: ActorDep, settings: SettingsDep,
) -> ObjectionPublic:
    return await panels.decide_objection(db=db, client=client, panel_id=panel_id,
                                         objection_id=objection_id, body=body, actor=actor,
                                         timeout=settings.action_timeout_seconds)


@router.get("/draws/{draw_id}", dependencies=[allow("panels.read")],
            summary="A draw's record: seed, snapshot of the eligible, every exclusion, result")
def draw_record(draw_id: RowId, session: SessionDep, actor: ActorDep) -> DrawPublic:
    return panels.get_draw(session=session, draw_id=draw_id)


@router.get("/draws/{draw_id}/verify", dependencies=[allow("panels.read")],
            summary="Re-run a recorded draw from its seed and snapshot")
def verify(draw_id: RowId, session: SessionDep, actor: ActorDep) -> DrawVerification:
    return panels.verify_draw(session=session, draw_id=draw_id)


@router.get("/pool/figures/experts", dependencies=[allow("pool.figures")],
            summary="Per expert: invitations, acceptance rate, answer time, load")
def expert_figures(
    session: SessionDep, actor: ActorDep, city: City = None,
    specialty: SpecialtyCode | None = None,
) -> list[ExpertFigures]:
    return panels.expert_figures(session=session, city=city, specialty=specialty)


@router.get("/pool/figures/specialties", dependencies=[allow("pool.figures")],
            summary="Per specialty: the pool, invitations, acceptance, load")
def specialty_figures(session: SessionDep, actor: ActorDep, city: City = None) -> list[SpecialtyFigures]:
    return panels.specialty_figures(session=session, city=city)
