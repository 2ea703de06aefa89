"""Who is acting: logins (OAuth2 password flow) with rate limiting, token refresh, API keys, and the actor a
request carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlmodel import Session

from core.errors import NotFound, TooManyRequests, Unauthorized
from core.security import (
    InvalidToken,
    api_key_digest,
    dummy_verify,
    issue_token,
    new_api_key,
    read_token,
    verify_password,
)
from core.settings import Settings
from domain.access import Caller
from models import repo_users
from models.users import User
from workflows.contracts import Actor


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")
    refresh_token: str
    refresh_expires_in: int = Field(description="seconds")


class UserPublic(BaseModel):
    id: str
    username: str
    full_name: str
    role: str
    committee_id: str | None
    city: str | None
    expert_id: str | None


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    prefix: str
    key: str = Field(description="shown once: store it now")
    username: str


def caller_of(user: User) -> Caller:
    """An expert acts as their member of the pool; everyone else as their username."""
    actor_id = user.expert_id if user.role == "expert" and user.expert_id else user.username
    return Caller(user_id=actor_id, name=user.full_name, role=user.role, committee_id=user.committee_id,
                  city=user.city, expert_id=user.expert_id)


def actor_of_caller(caller: Caller) -> Actor:
    return Actor(id=caller.user_id, name=caller.name, role=caller.role)


def _pair(user: User, settings: Settings, now: datetime) -> TokenPair:
    secret = settings.effective_secret_key
    access, _ = issue_token(subject=user.id, kind="access", version=user.token_version,
                            ttl=timedelta(minutes=settings.access_token_minutes), secret=secret, now=now)
    refresh, _ = issue_token(subject=user.id, kind="refresh", version=user.token_version,
                             ttl=timedelta(days=settings.refresh_token_days), secret=secret, now=now)
    return TokenPair(access_token=access, expires_in=settings.access_token_minutes * 60, refresh_token=refresh,
                     refresh_expires_in=settings.refresh_token_days * 86400)


def login(*, session: Session, settings: Settings, username: str, password: str, client: str) -> TokenPair:
    """Failed attempts are counted per username and per client address: past the limit, 429 until the window
    has passed, whether the password is right or not."""
    now = datetime.now(UTC)
    since = now - timedelta(minutes=settings.login_window_minutes)
    by_user, by_client = repo_users.recent_failures(session=session, username=username, client=client, since=since)
    if by_user >= settings.login_attempts or by_client >= settings.login_attempts * 4:
        oldest = repo_users.oldest_failure(session=session, username=username, client=client, since=since) or now
        retry = max(1, int((oldest + timedelta(minutes=settings.login_window_minutes) - now).total_seconds()))
        raise TooManyRequests(f"too many failed logins: try again in {retry} s", retry_after=retry)
    user = repo_users.find_user(session=session, username=username)
    if user is None:
        dummy_verify()
        ok = False
    else:
        ok = user.active and verify_password(password, user.password_hash)
    repo_users.record_attempt(session=session, username=username, client=client, ok=ok, at=now)
    session.commit()  # the attempt counts even though the request fails
    if not ok or user is None:
        raise Unauthorized("wrong username or password")
    return _pair(user, settings, now)


def _user_of_token(session: Session, settings: Settings, token: str, kind: str) -> User:
    try:
        claims = read_token(token, secret=settings.effective_secret_key, kind=kind)
    except InvalidToken as err:
        raise Unauthorized(str(err)) from None
    user = session.get(User, claims.subject)
    if user is None or not user.active or user.token_version != claims.version:
        raise Unauthorized("the token is no longer valid: log in again")
    return user


def refresh(*, session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    user = _user_of_token(session, settings, refresh_token, "refresh")
    return _pair(user, settings, datetime.now(UTC))


def user_of_request(
    *, session: Session, settings: Settings, bearer: str | None, api_key: str | None
) -> User | None:
    """The user a request authenticates as, or None when it carries no credentials."""
    if bearer:
        return _user_of_token(session, settings, bearer, "access")
    if api_key:
        key = repo_users.find_api_key(session=session, digest=api_key_digest(api_key))
        if key is None or key.revoked_at is not None:
            raise Unauthorized("unknown or revoked API key")
        user = session.get(User, key.user_id)
        if user is None or not user.active:
            raise Unauthorized("the API key's account is disabled")
        return user
    return None


def me(*, session: Session, actor: Actor) -> UserPublic:
    if actor.role == "expert":
        user = repo_users.find_expert_account(session=session, expert_id=actor.id)
    else:
        user = repo_users.find_user(session=session, username=actor.id)
    if user is None:  # an expert's actor id is their pool id; a dev-mode actor has no account
        raise NotFound("no account behind this actor (dev-mode headers)")
    return UserPublic.model_validate(user, from_attributes=True)


def create_api_key(*, session: Session, actor: Actor, username: str, name: str) -> ApiKeyCreated:
    user = repo_users.find_user(session=session, username=username)
    if user is None:
        raise NotFound(f"user {username!r} not found")
    key, digest = new_api_key()
    row = repo_users.add_api_key(session=session, user_id=user.id, name=name, digest=digest, prefix=key[:12])
    return ApiKeyCreated(id=row.id, name=row.name, prefix=row.prefix, key=key, username=user.username)


def revoke_api_key(*, session: Session, actor: Actor, key_id: str) -> None:
    repo_users.revoke_api_key(session=session, key_id=key_id, at=datetime.now(UTC))
