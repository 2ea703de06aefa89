"""Committees known to this installation, and their clock policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.access import allow
from api.deps import ActorDep, ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES
from models import repo
from models.schemas import ClockPolicyIn, CommitteePublic

router = APIRouter(route_class=ReleasingRoute, prefix="/committees", tags=["committees"], responses=ERROR_RESPONSES)


@router.get("", dependencies=[allow("committees.read")], summary="Committees")
def list_committees(session: SessionDep, actor: ActorDep) -> list[CommitteePublic]:
    return [CommitteePublic.model_validate(c) for c in repo.list_committees(session=session)]


@router.put("/{committee_id}/policy", dependencies=[allow("committees.policy")],
            summary="Set a committee's clock lengths (admin); new cases follow them")
def set_policy(
    committee_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["huangpu"])],
    body: ClockPolicyIn, session: SessionDep, actor: ActorDep) -> CommitteePublic:
    return CommitteePublic.model_validate(repo.set_policy(session=session, committee_id=committee_id,
                                                         policy=body.model_dump()))
