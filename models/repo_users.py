"""Data access for accounts: users, API keys and login attempts. Keyword-only; the caller commits once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from core.errors import Conflict, NotFound
from models.users import ApiKey, LoginAttempt, User


def get_user(*, session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} not found")
    return user


def find_user(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def find_expert_account(*, session: Session, expert_id: str) -> User | None:
    return session.exec(select(User).where(User.expert_id == expert_id, User.role == "expert")).first()


def list_users(*, session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.username))).all()


def create_user(
    *, session: Session, username: str, full_name: str, role: str, password_hash: str,
    committee_id: str | None = None, city: str | None = None, expert_id: str | None = None,
) -> User:
    if find_user(session=session, username=username) is not None:
        raise Conflict(f"the username {username!r} is taken")
    user = User(id=uuid.uuid4().hex, username=username, full_name=full_name, role=role,
                password_hash=password_hash, committee_id=committee_id, city=city, expert_id=expert_id)
    session.add(user)
    session.flush()
    return user


def set_password(*, session: Session, username: str, password_hash: str) -> User:
    """A new password; every token issued before stops working (the token version goes up)."""
    user = find_user(session=session, username=username)
    if user is None:
        raise NotFound(f"user {username!r} not found")
    user.password_hash = password_hash
    user.token_version += 1
    session.add(user)
    session.flush()
    return user


def record_attempt(*, session: Session, username: str, client: str, ok: bool, at: datetime) -> None:
    session.add(LoginAttempt(username=username, client=client, ok=ok, at=at))
    session.flush()


def recent_failures(*, session: Session, username: str, client: str, since: datetime) -> tuple[int, int]:
    """Failed logins since `since`: for this username (from anywhere), and from this client (any username)."""
    failed = select(func.count()).select_from(LoginAttempt).where(
        col(LoginAttempt.ok).is_(False), col(LoginAttempt.at) >= since)
    by_user = session.exec(failed.where(LoginAttempt.username == username)).one()
    by_client = session.exec(failed.where(LoginAttempt.client == client)).one() if client else 0
    return int(by_user), int(by_client)


def oldest_failure(*, session: Session, username: str, client: str, since: datetime) -> datetime | None:
    return session.exec(
        select(func.min(LoginAttempt.at)).where(
            col(LoginAttempt.ok).is_(False), col(LoginAttempt.at) >= since,
            or_(LoginAttempt.username == username, LoginAttempt.client == client),
        )
    ).one()


def add_api_key(*, session: Session, user_id: str, name: str, digest: str, prefix: str) -> ApiKey:
    key = ApiKey(id=uuid.uuid4().hex, user_id=user_id, name=name, digest=digest, prefix=prefix)
    session.add(key)
    session.flush()
    return key


def find_api_key(*, session: Session, digest: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.digest == digest)).first()


def revoke_api_key(*, session: Session, key_id: str, at: datetime) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"API key {key_id!r} not found")
    key.revoked_at = key.revoked_at or at
    session.add(key)
    session.flush()
    return key
