"""Accounts as staff see them: an administrator lists and creates accounts; a director lists the accounts of their
own committee (to choose the mediators of a case)."""

from __future__ import annotations

from sqlmodel import Session

from api.services.auth import UserPublic
from core.errors import InvalidField
from core.security import hash_password
from domain.access import Caller
from models import repo, repo_users
from models.users import ROLES

MIN_PASSWORD = 10


def list_users(*, session: Session, caller: Caller, role: str | None, committee_id: str | None) -> list[UserPublic]:
    if caller.role == "director" and caller.checks_reach:  # their own committee's accounts only
        committee_id = caller.committee_id
    found = [user for user in repo_users.list_users(session=session) if user.active
             and (role is None or user.role == role) and (committee_id is None or user.committee_id == committee_id)]
    return [UserPublic.model_validate(user, from_attributes=True) for user in found]


def create_user(*, session: Session, username: str, full_name: str, role: str, password: str,
                committee_id: str | None, city: str | None, expert_id: str | None) -> UserPublic:
    if role not in ROLES:
        raise InvalidField("role", f"one of: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise InvalidField("password", f"a password has at least {MIN_PASSWORD} characters")
    if role in ("intake", "mediator", "director") and not committee_id:
        raise InvalidField("committee_id", "staff and directors belong to a committee")
    if committee_id is not None:
        repo.get_committee(session=session, committee_id=committee_id)  # 404 for an unknown committee
    if role == "expert" and not expert_id:
        raise InvalidField("expert_id", "an expert account is a member of the pool: give the expert's id")
    user = repo_users.create_user(session=session, username=username, full_name=full_name, role=role,
                                  password_hash=hash_password(password), committee_id=committee_id, city=city,
                                  expert_id=expert_id)
    return UserPublic.model_validate(user, from_attributes=True)
