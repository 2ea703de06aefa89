"""Errors that carry their HTTP status. One handler in api/errors.py renders them as {"detail", "code"}."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code, **self.extra}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Unauthorized(DomainError):
    """No valid credentials: log in (OAuth2 password flow) or send an API key."""

    status_code = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class IllegalTransition(DomainError):
    """The event is not allowed in the case's current state."""

    status_code = 409
    code = "illegal_transition"

    def __init__(self, detail: str, *, state: str, event: str, allowed: list[str]) -> None:
        super().__init__(detail, state=state, event=event, allowed_events=allowed)
        self.state = state
        self.event = event
        self.allowed = allowed


class RuleViolated(DomainError):
    """The event is allowed in this state but the data breaks a legal rule (a guard)."""

    status_code = 409
    code = "rule_violated"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


class InvalidField(DomainError):
    """A payload that is well-formed but names something that does not exist (e.g. an unknown committee)."""

    status_code = 422
    code = "invalid_payload"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"invalid request: {field}: {message}", errors=[{"field": field, "message": message}])
