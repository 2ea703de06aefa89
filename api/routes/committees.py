"""Committees known to this installation: added, read and changed by admins (their names, city and numbering),
and their clock policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from api.access import allow
from api.deps import ActorDep, ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.services import committees
from models import repo
from models.schemas import ClockPolicyIn, CommitteePublic
from models.schemas_committees import CommitteeCreate, CommitteeDetail, CommitteeUpdate

router = APIRouter(route_class=ReleasingRoute, prefix="/committees", tags=["committees"], responses=ERROR_RESPONSES)

CommitteeId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["huangpu"])]
TAKEN: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody, "description": "The id is taken (`conflict`)"}}
COMMITTEE_EXAMPLE = {
    "id": "jingan",
    "name": "上海市静安区医疗纠纷人民调解委员会",
    "short_name": "沪静",
    "city": "上海市",
    "case_number_pattern": "〔{year}〕{short}医调字第{seq}号",
    "number_patterns": {"agreement": "〔{year}〕{short}医调协字第{seq:03d}号"},
}


@router.get("", dependencies=[allow("committees.read")], summary="Committees")
def list_committees(session: SessionDep, actor: ActorDep) -> list[CommitteePublic]:
    return [CommitteePublic.model_validate(c) for c in repo.list_committees(session=session)]


@router.post("", dependencies=[allow("committees.manage")], status_code=201, responses=TAKEN,
             summary="Add a committee (admin): its names, city and numbering")
def create_committee(
    body: Annotated[CommitteeCreate, Body(openapi_examples={"静安区医调委": {"value": COMMITTEE_EXAMPLE}})],
    session: SessionDep, actor: ActorDep,
) -> CommitteeDetail:
    return committees.create(session=session, body=body)


@router.get("/{committee_id}", dependencies=[allow("committees.read")],
            summary="A committee, with its numbering and clock policy")
def get_committee(committee_id: CommitteeId, session: SessionDep, actor: ActorDep) -> CommitteeDetail:
    return committees.get(session=session, committee_id=committee_id)


@router.patch("/{committee_id}", dependencies=[allow("committees.manage")],
              summary="Change a committee's names, city or numbering (admin; only the fields given, never the id)")
def update_committee(
    committee_id: CommitteeId, body: CommitteeUpdate, session: SessionDep, actor: ActorDep,
) -> CommitteeDetail:
    return committees.update(session=session, committee_id=committee_id, body=body)


@router.put("/{committee_id}/policy", dependencies=[allow("committees.policy")],
            summary="Set a committee's clock lengths (admin); new cases follow them")
def set_policy(committee_id: CommitteeId, body: ClockPolicyIn, session: SessionDep, actor: ActorDep) -> CommitteePublic:
    return CommitteePublic.model_validate(repo.set_policy(session=session, committee_id=committee_id,
                                                         policy=body.model_dump()))
