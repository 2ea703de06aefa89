"""Passwords, tokens and API keys. Passwords are hashed with Argon2 (pwdlib); access and refresh tokens are
short-lived JWTs signed with the installation's secret (HS256, PyJWT); API keys are random secrets stored as
their SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash

_HASHER = PasswordHash.recommended()  # Argon2id
ALGORITHM = "HS256"
API_KEY_PREFIX = "mdk_"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return _HASHER.verify(password, hashed)
    except Exception:  # noqa: BLE001 - a malformed hash is a failed login, not a crash
        return False


def dummy_verify() -> None:
    """Spend the time of a verification when the user does not exist (no user enumeration by timing)."""
    _HASHER.verify("x", _DUMMY)


_DUMMY = _HASHER.hash("not-a-password")


@dataclass(frozen=True)
class TokenClaims:
    subject: str  # the user's id
    kind: str  # access | refresh
    version: int  # the user's token version: raising it revokes every token issued before
    expires_at: datetime


class InvalidToken(Exception):
    pass


def issue_token(*, subject: str, kind: str, version: int, ttl: timedelta, secret: str,
                now: datetime | None = None) -> tuple[str, datetime]:
    issued = now or datetime.now(UTC)
    expires = issued + ttl
    claims: dict[str, Any] = {"sub": subject, "typ": kind, "ver": version, "iat": issued, "exp": expires,
                              "jti": secrets.token_hex(8)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def read_token(token: str, *, secret: str, kind: str) -> TokenClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "typ"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired: log in again or refresh it") from None
    except jwt.PyJWTError:
        raise InvalidToken("the token is not valid") from None
    if claims.get("typ") != kind:
        raise InvalidToken(f"a {claims.get('typ')} token cannot be used as a {kind} token")
    return TokenClaims(subject=str(claims["sub"]), kind=kind, version=int(claims.get("ver", 0)),
                       expires_at=datetime.fromtimestamp(claims["exp"], UTC))


def new_api_key() -> tuple[str, str]:
    """A new API key and the SHA-256 under which it is stored (the key itself is shown once)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, api_key_digest(key)


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
