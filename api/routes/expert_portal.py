"""The experts' portal: an expert of the pool (role expert) sees their invitations — the specialty needed and
an anonymised summary until they accept, the case material after — and answers them. Anything not theirs is
not found (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.access import allow
from api.deps import (
    ActorDep,
    Count,
    Cursor,
    DatabaseDep,
    Offset,
    ReleasingRoute,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.errors import PANEL_RESPONSES
from api.services import panels
from domain.panel_lifecycle import InvitationStatus
from models.schemas_panels import ConflictIn, DeclineIn, MyInvitation, MyInvitations, OpinionIn, Strict

router = APIRouter(route_class=ReleasingRoute, prefix="/me/invitations", tags=["experts' portal"], responses=PANEL_RESPONSES,
                   dependencies=[allow("portal")])

InvitationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class AcceptIn(Strict):
    pass


@router.get("", summary="My invitations, newest first")
def mine(
    session: SessionDep,
    actor: ActorDep,
    status: InvitationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    count: Count = None,
    offset: Offset = 0,
) -> MyInvitations:
    return panels.my_invitations(session=session, actor=actor, status=status, limit=limit, cursor=cursor,
                                 offset=offset, count=count == "estimate")


@router.get("/{invitation_id}", summary="One of my invitations")
def one(invitation_id: InvitationId, session: SessionDep, actor: ActorDep) -> MyInvitation:
    return panels.my_invitation(session=session, actor=actor, invitation_id=invitation_id)


@router.post("/{invitation_id}/accept", summary="Accept: the case's material becomes visible")
async def accept(
    invitation_id: InvitationId, body: AcceptIn, db: DatabaseDep, client: TemporalDep, actor: ActorDep,
    settings: SettingsDep,
) -> MyInvitation:
    return await panels.reply(db=db, client=client, actor=actor, invitation_id=invitation_id,
                              answer="accept", reason="", timeout=settings.action_timeout_seconds)


@router.post("/{invitation_id}/decline", summary="Decline with a reason: a replacement is drawn")
async def decline(
    invitation_id: InvitationId, body: DeclineIn, db: DatabaseDep, client: TemporalDep, actor: ActorDep,
    settings: SettingsDep,
) -> MyInvitation:
    return await panels.reply(db=db, client=client, actor=actor, invitation_id=invitation_id,
                              answer="decline", reason=body.reason, timeout=settings.action_timeout_seconds)


@router.post("/{invitation_id}/conflict",
             summary="Declare a conflict with the case (Reg 37): you leave the panel; after your opinion it is void")
async def conflict(
    invitation_id: InvitationId, body: ConflictIn, db: DatabaseDep, client: TemporalDep, actor: ActorDep,
    settings: SettingsDep,
) -> MyInvitation:
    return await panels.reply(db=db, client=client, actor=actor, invitation_id=invitation_id,
                              answer="conflict", reason=body.reason, timeout=settings.action_timeout_seconds)


@router.post("/{invitation_id}/opinion", summary="Give your part of the panel's opinion (专家咨询意见书)")
async def opinion(
    invitation_id: InvitationId, body: OpinionIn, db: DatabaseDep, client: TemporalDep, actor: ActorDep,
    settings: SettingsDep,
) -> MyInvitation:
    return await panels.submit_opinion(db=db, client=client, actor=actor, invitation_id=invitation_id,
                                       body=body, timeout=settings.action_timeout_seconds)
