"""Accounts: the administrator's list and new accounts; a director's list of their committee's staff."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field, model_validator

from api.access import allow
from api.deps import ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.services import notifications, users
from api.services.auth import UserPublic
from domain.access import Caller
from domain.payloads import Strict
from models.schemas import ContactIn, ContactPublic

router = APIRouter(route_class=ReleasingRoute, prefix="/users", tags=["users"],
                   responses={**ERROR_RESPONSES, 409: {"model": ErrorBody, "description": "The username is taken "
                                                       "(`conflict`)"}})


Role = Literal["admin", "intake", "mediator", "director", "expert", "auditor"]


class UserCreate(Strict):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$", examples=["chen.tiaojie"])
    full_name: str = Field(min_length=1, max_length=100, examples=["陈调解员"])
    role: Role = Field(examples=["mediator"])
    password: str = Field(min_length=users.MIN_PASSWORD, max_length=200, description="at least 10 characters")
    committee_id: str | None = Field(default=None, min_length=1, max_length=64, examples=["huangpu"],
                                     description="staff and directors: their committee")
    city: str | None = Field(default=None, max_length=100, description="a city-level auditor's city")
    expert_id: str | None = Field(default=None, min_length=1, max_length=64,
                                  description="an expert account: the member of the pool it is")

    @model_validator(mode="after")
    def _belongs(self) -> UserCreate:
        if self.role in ("intake", "mediator", "director") and not self.committee_id:
            raise ValueError("staff and directors belong to a committee: give committee_id")
        if self.role == "expert" and not self.expert_id:
            raise ValueError("an expert account is a member of the pool: give the expert's expert_id")
        return self


@router.get("", summary="Accounts (admin: all; a director: their committee's)")
def list_users(
    session: SessionDep,
    caller: Annotated[Caller, allow("users.read")],
    role: Annotated[str | None, Query(max_length=16, examples=["mediator"])] = None,
    committee_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[UserPublic]:
    return users.list_users(session=session, caller=caller, role=role, committee_id=committee_id)


@router.post("", status_code=201, summary="Create an account (admin)")
def create_user(body: UserCreate, session: SessionDep, caller: Annotated[Caller, allow("users.manage")]) -> UserPublic:
    return users.create_user(session=session, username=body.username, full_name=body.full_name, role=body.role,
                             password=body.password, committee_id=body.committee_id, city=body.city,
                             expert_id=body.expert_id)


@router.patch("/{user_id}/contact", dependencies=[allow("users.manage")],
              summary="Change an account's e-mail, mobile or notification channels (admin); the mobile number comes "
              "back masked")
def set_contact(
    body: ContactIn,
    session: SessionDep,
    user_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
) -> ContactPublic:
    return notifications.set_user_contact(session=session, user_id=user_id, body=body)
