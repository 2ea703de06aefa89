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


class StaleVersion(Conflict):
    """rev 2: the action was decided on a version of the case that is no longer current (If-Match), or another
    action of the same kind was recorded meanwhile. The body names the current version."""

    code = "stale_version"

    def __init__(self, detail: str, *, current_version: int, **extra: Any) -> None:
        super().__init__(detail, current_version=current_version, **extra)


class PossibleDuplicate(Conflict):
    """rev 2: a registration matches earlier cases (same patient, institution and treatment); confirm it is a new
    dispute (confirm_new_dispute, with a reason) to register it anyway."""

    code = "possible_duplicate"


class DocumentPending(Conflict):
    """The document was named when its action was recorded and is being rendered and sealed: ask again shortly
    (Retry-After). `attempts` and `error` show a rendering being retried."""

    code = "document_pending"

    def __init__(self, detail: str, *, retry_after: int = 2, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.headers = {"Retry-After": str(retry_after)}


class DocumentFailed(Conflict):
    """The document could not be made (its reason is given); the action it belongs to stays recorded."""

    code = "document_failed"


class PayloadTooLarge(DomainError):
    """A file, or a case's files, past the size the installation allows."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    """A file whose bytes are not a kind the committee keeps (read from the bytes, never the name)."""

    status_code = 415
    code = "unsupported_media_type"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


class DatabaseBusy(Unavailable):
    """The database stayed locked or out of connections past its timeouts: nothing was changed, repeat later."""

    code = "database_busy"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class InvalidField(DomainError):
    """A payload that is well-formed but names something that does not exist (e.g. an unknown committee)."""

    status_code = 422
    code = "invalid_payload"

    def __init__(self, field: str, message: str, *, kind: str = "value_error") -> None:
        super().__init__(f"invalid request: {field}: {message}",
                         errors=[{"field": field, "message": message, "type": kind}])


class IdempotencyKeyReused(InvalidField):
    """rev 2: the Idempotency-Key of an earlier request came with another request."""

    code = "idempotency_key_reused"

    def __init__(self, message: str, **_: object) -> None:
        super().__init__("Idempotency-Key", message)


class InvalidCursor(InvalidField):
    """A list's `cursor` that no page of that list gave: altered, cut short, or of another list."""

    code = "invalid_cursor"

    def __init__(self, message: str) -> None:
        super().__init__("cursor", message)
