"""Talking to the workflow service from a request: one deadline for the whole call, and Temporal's errors as the
product's.

`within(timeout, call)` bounds sending an Update *and* waiting for its outcome (the SDK's `rpc_timeout` bounds only
each poll, and polls again after it: a request could hang for minutes). Past the deadline the answer is 503 with
`Retry-After` and what to check: the action may still apply when the worker or the server comes back, and the
case's version (If-Match, rev 2) tells whether it did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import (
    DomainError,
    IdempotencyKeyReused,
    IllegalTransition,
    NotFound,
    RuleViolated,
    StaleVersion,
    Unavailable,
)

T = TypeVar("T")
RETRY_AFTER_SECONDS = 5


class ActionTimedOut(Unavailable):
    """The workflow service did not answer within the action's timeout. Nothing is known to have changed; the
    action may still apply when the worker comes back."""

    code = "action_timed_out"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, retry_after=RETRY_AFTER_SECONDS, **extra)
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def timed_out(timeout: float, case_id: str, version: int | None = None) -> ActionTimedOut:
    seen = (f" The case was at version {version} when you asked: if GET /cases/{case_id} shows a later version, "
            "the action was applied; otherwise repeat it (with the same Idempotency-Key, it applies once)."
            if version is not None else f" Check GET /cases/{case_id}/history before repeating it.")
    return ActionTimedOut(
        f"the workflow service did not complete the action within {timeout:g} s; it may still apply when the "
        f"worker or the server comes back.{seen}", case_id=case_id, case_version=version)


def workflow_error(err: Exception) -> DomainError:
    """Translate what Temporal says into the product's errors."""
    if isinstance(err, WorkflowUpdateFailedError) and isinstance(err.cause, ApplicationError):
        cause = err.cause
        extra: dict[str, Any] = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        if cause.type == "StaleVersion":
            return StaleVersion(cause.message, **extra)
        if cause.type == "IdempotencyKeyReused":
            return IdempotencyKeyReused(cause.message, **extra)
        if cause.type == "IllegalTransition":
            return IllegalTransition(
                cause.message,
                state=extra.get("state", ""),
                event=extra.get("event", ""),
                allowed=list(extra.get("allowed_events", [])),
            )
        if cause.type == "RuleViolated":
            return RuleViolated(cause.message, **extra)
        return Unavailable(f"the action could not be completed: {cause.message}")
    if isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
        return NotFound("the case's workflow is not running")
    return Unavailable(f"the workflow service did not complete the action: {err}")


async def within(
    timeout: float, call: Awaitable[T], *, case_id: str, version: int | None = None,
    translate: Callable[[Exception], DomainError] = workflow_error,
) -> T:
    """`call` (an Update, a start, a signal) bounded by `timeout` seconds in all; Temporal's errors translated."""
    try:
        async with asyncio.timeout(timeout):
            return await call
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise timed_out(timeout, case_id, version) from None
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise translate(err) from err
