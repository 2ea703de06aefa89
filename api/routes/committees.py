"""Committees known to this installation."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ActorDep, SessionDep
from api.errors import ERROR_RESPONSES
from models import repo
from models.schemas import CommitteePublic

router = APIRouter(prefix="/committees", tags=["committees"], responses=ERROR_RESPONSES)


@router.get("", summary="Committees")
def list_committees(session: SessionDep, actor: ActorDep) -> list[CommitteePublic]:
    return [CommitteePublic.model_validate(c) for c in repo.list_committees(session=session)]
