"""What the case routes ask for: a pre-check against the projection, then an Update; or a read."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.services.auth import actor_of_caller
from core.errors import (
    DomainError,
    Forbidden,
    IllegalTransition,
    InvalidField,
    NotFound,
    RuleViolated,
    Unavailable,
)
from models import access, lifecycle, repo, repo_users
from models.access import Caller, CaseScope
from models.clock import SHANGHAI, MediationClock, end_of_day
from models.policy import ClockPolicy
from models.schemas import (
    ActionOutcome,
    AllowedEvents,
    CaseCreate,
    CasePublic,
    CasesPublic,
    CaseSummary,
    ExtensionPublic,
    MediationClockPublic,
    PausePublic,
    SessionPublic,
    TransitionPublic,
)
from models.tables import Case
from workflows.contracts import OpenDispute, StaffAction, workflow_id
from workflows.dispute import DisputeWorkflow

log = logging.getLogger("mediation.api")
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6c1f0d8e-53a4-4c57-9d0e-2b8f6f1f7a10")


def case_public(*, session: Session, case: Case, today: date | None = None) -> CasePublic:
    return CasePublic.model_validate(
        {
            **case.model_dump(),
            "status_label": lifecycle.STATE_LABELS[case.status],
            "allowed_events": lifecycle.allowed_events(case.status),
            "mediation_clock": _mediation_clock(session=session, case=case, today=today),
            "provisional": case.due_provisional,
        }
    )


def _mediation_clock(*, session: Session, case: Case, today: date | None) -> MediationClockPublic | None:
    """Reg 38: the clock as of today, derived from the ledger the workflow wrote and the working-day calendar."""
    if not case.clock or not case.clock.get("accepted_on"):
        return None
    clock = MediationClock.from_dict(case.clock)
    calendar = repo.working_day_calendar(session=session)
    # The clock stops when the agreement takes effect (Reg 39) or the case closes otherwise.
    if case.effective_on is not None:
        until = case.effective_on
    elif case.closed_at is not None:
        until = case.closed_at.astimezone(SHANGHAI).date()
    else:
        until = today or datetime.now(SHANGHAI).date()
    used, remaining = clock.used(calendar, until), clock.remaining(calendar, until)
    due = clock.due_date(calendar)
    return MediationClockPublic(
        started=clock.started,
        accepted_on=clock.accepted_on,
        budget_wd=clock.budget,
        total_wd=clock.total_budget,
        used_wd=used.days,
        remaining_wd=remaining.days,
        due_date=due.date if due else None,
        deadline_at=end_of_day(due.date) if due else None,
        paused=clock.paused,
        provisional=bool(due and due.provisional) or used.provisional,
        pauses=[PausePublic(started_on=p.started_on, ended_on=p.ended_on, reason=p.reason) for p in clock.pauses],
        extensions=[ExtensionPublic(days=e.days, agreed_on=e.agreed_on) for e in clock.extensions],
    )


def summary(case: Case) -> CaseSummary:
    return CaseSummary.model_validate({**case.model_dump(), "status_label": lifecycle.STATE_LABELS[case.status]})


def workflow_error(err: Exception) -> DomainError:
    """Translate what Temporal says into the product's errors."""
    if isinstance(err, WorkflowUpdateFailedError) and isinstance(err.cause, ApplicationError):
        cause = err.cause
        extra: dict[str, Any] = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
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


def timed_out(timeout: float, case_id: str) -> Unavailable:
    return Unavailable(
        f"the workflow worker did not answer within {timeout:g} s; the action may still be applied when it "
        f"comes back: check GET /cases/{case_id}/history before repeating it"
    )


async def register(
    *,
    session: Session,
    client: Client,
    task_queue: str,
    body: CaseCreate,
    caller: Caller,
    idempotency_key: str | None,
    timeout: float,
) -> CasePublic:
    if caller.checks_reach and not caller.is_dev and body.committee_id != caller.committee_id:
        raise Forbidden(f"you register cases for your own committee ({caller.committee_id}), "
                        f"not for {body.committee_id!r}")
    try:
        committee = repo.get_committee(session=session, committee_id=body.committee_id)
    except NotFound:
        raise InvalidField("committee_id", f"unknown committee {body.committee_id!r}") from None
    case_id = (
        uuid.uuid5(_IDEMPOTENCY_NAMESPACE, idempotency_key).hex if idempotency_key else uuid.uuid4().hex
    )
    opening = OpenDispute(
        case_id=case_id,
        registration=body.model_dump(mode="json"),
        actor=actor_of_caller(caller),
        policy=ClockPolicy.from_dict(committee.policy).to_dict(),
        calendar=repo.working_day_calendar(session=session).to_dict(),
    )
    start = WithStartWorkflowOperation(
        DisputeWorkflow.run,
        opening,
        id=workflow_id(case_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        await client.execute_update_with_start_workflow(
            DisputeWorkflow.snapshot, start_workflow_operation=start, rpc_timeout=timedelta(seconds=timeout)
        )
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise workflow_error(err) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise timed_out(timeout, case_id) from None
    session.expire_all()
    return case_public(session=session, case=repo.get_case(session=session, case_id=case_id))


async def act(
    *,
    session: Session,
    client: Client,
    case_id: str,
    event: str,
    body: BaseModel,
    caller: Caller,
    timeout: float,
    request_id: str = "",
) -> ActionOutcome:
    case = repo.get_case(session=session, case_id=case_id)
    payload = body.model_dump(mode="json", exclude_none=True)
    access.require_event(caller, event, payload)
    if event == "accept" and caller.checks_reach and not caller.is_dev and not payload.get("mediator_ids"):
        raise InvalidField("mediator_ids", "name the mediators' accounts (usernames): only assigned mediators "
                                           "reach the case")
    if event == "accept" and payload.get("mediator_ids"):
        payload["mediators"] = _assigned_mediators(session=session, case=case, payload=payload)
    # Quick answer from the projection; the workflow's validator decides for good.
    lifecycle.next_status(case.status, event, {**payload, **repo.guard_facts(session=session, case=case)})
    log.info("%s on case %s asked by %s (%s)", event, case_id, caller.user_id, caller.role)
    handle = client.get_workflow_handle(workflow_id(case_id))
    action = StaffAction(event=event, payload=payload, actor=actor_of_caller(caller), request_id=request_id)
    try:
        result = await handle.execute_update(
            DisputeWorkflow.apply_event, action, rpc_timeout=timedelta(seconds=timeout)
        )
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise workflow_error(err) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise timed_out(timeout, case_id) from None
    return ActionOutcome(
        case_id=result.case_id,
        event=result.event,
        from_status=result.from_status,
        status=result.status,
        status_label=lifecycle.STATE_LABELS[result.status],
        seq=result.seq,
        at=result.at,
        allowed_events=result.allowed_events,
        document_ids=result.document_ids,
        session_id=result.session_id,
        panel_id=result.panel_id,
    )


def _assigned_mediators(*, session: Session, case: Case, payload: dict[str, Any]) -> list[str]:
    """The accounts named at acceptance must be active mediators of the case's committee; the names printed
    are the ones given, or the accounts' names."""
    names = []
    for username in payload["mediator_ids"]:
        user = repo_users.find_user(session=session, username=username)
        if user is None or not user.active or user.role != "mediator" or user.committee_id != case.committee_id:
            raise InvalidField("mediator_ids", f"unknown mediator account {username!r}: not an active mediator "
                                               f"of committee {case.committee_id!r}")
        names.append(user.full_name)
    return payload.get("mediators") or names


def _as_seen_by(caller: Caller, row: BaseModel) -> Any:
    """`row` as the caller may see it: personal numbers masked unless they are the committee's staff."""
    if access.sees_personal_information(caller):
        return row
    return type(row).model_validate(access.mask_personal(row.model_dump(mode="json")))


def get(*, session: Session, case_id: str, caller: Caller) -> CasePublic:
    return _as_seen_by(caller, case_public(session=session, case=repo.get_case(session=session, case_id=case_id)))


def search(
    *,
    session: Session,
    status: str | None,
    committee_id: str | None,
    registered_from: date | None,
    registered_to: date | None,
    q: str | None,
    limit: int,
    offset: int,
    scope: CaseScope,
) -> CasesPublic:
    rows, total = repo.search_cases(
        scope=scope,
        session=session,
        status=status,
        committee_id=committee_id,
        registered_from=registered_from,
        registered_to=registered_to,
        q=q,
        limit=limit,
        offset=offset,
    )
    return CasesPublic(items=[summary(c) for c in rows], total=total, limit=limit, offset=offset)


def history(*, session: Session, case_id: str, caller: Caller) -> list[TransitionPublic]:
    repo.get_case(session=session, case_id=case_id)
    return [_as_seen_by(caller, TransitionPublic.model_validate(t))
            for t in repo.list_transitions(session=session, case_id=case_id)]


def allowed(*, session: Session, case_id: str) -> AllowedEvents:
    case = repo.get_case(session=session, case_id=case_id)
    return AllowedEvents(
        status=case.status,
        status_label=lifecycle.STATE_LABELS[case.status],
        allowed_events=lifecycle.allowed_events(case.status),
    )


def sessions(*, session: Session, case_id: str, caller: Caller) -> list[SessionPublic]:
    repo.get_case(session=session, case_id=case_id)
    return [_as_seen_by(caller, SessionPublic.model_validate(s))
            for s in repo.list_sessions(session=session, case_id=case_id)]
