"""Accounts: users with a role (and the committee, city or expert they act for), API keys for service accounts,
and login attempts (for rate limiting). Passwords are stored as Argon2 hashes only (core/security.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from models.tables import UTCDateTime, utcnow

ROLES: dict[str, str] = {
    "admin": "系统管理员",
    "intake": "登记受理人员",
    "mediator": "人民调解员",
    "director": "调委会主任",
    "expert": "咨询专家",
    "auditor": "审计人员",
}
Role = Literal["admin", "intake", "mediator", "director", "expert", "auditor"]


def _ts(**kw: object) -> object:
    return Field(sa_column=Column(UTCDateTime(), **kw))


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=100, unique=True, index=True)
    full_name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    committee_id: str | None = Field(default=None, max_length=64)  # staff, directors, committee-level auditors
    city: str | None = Field(default=None, max_length=100)  # city-level auditors and admins
    expert_id: str | None = Field(default=None, max_length=64)  # the pool member an expert account is
    password_hash: str = Field(max_length=300)
    active: bool = True
    token_version: int = 0  # raised on a password reset: every earlier token stops working
    created_at: datetime = _ts(nullable=False, default=utcnow)  # type: ignore[assignment]
    # How notifications reach the person (docs/notifications.md): the channels chosen, where the contact is known.
    contact_email: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    contact_mobile: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    notify_by: list[str] = Field(default_factory=lambda: ["email", "sms"], sa_column=Column(
        JSON, nullable=False, server_default=text("'[\"email\", \"sms\"]'")))


class ApiKey(SQLModel, table=True):
    """A key for a service account (an integration, a scheduled export): acts as its user."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=64)
    name: str = Field(max_length=100)
    digest: str = Field(max_length=64, unique=True, index=True)  # SHA-256 of the key
    prefix: str = Field(max_length=16)  # the first characters, to recognise it in a list
    created_at: datetime = _ts(nullable=False, default=utcnow)  # type: ignore[assignment]
    revoked_at: datetime | None = _ts(nullable=True)  # type: ignore[assignment]


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, index=True)
    client: str = Field(default="", max_length=64, index=True)
    ok: bool
    at: datetime = _ts(nullable=False)  # type: ignore[assignment]
