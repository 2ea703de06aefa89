"""What the case routes ask for: a pre-check against the projection, then an Update; or a read.

Every staff action may carry an Idempotency-Key (the same key returns the first answer and changes nothing; the
same key with another request is 422) and an If-Match with the case version it was decided on (a stale version is
409 with the current one). Both are settled by the case's workflow, under the lock that orders its actions; the
pre-check here only answers early what the workflow would answer anyway.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
)
from temporalio.common import WorkflowIDConflictPolicy

from api.deps import Database
from api.services import attachments
from api.services import sessions as sessions_service
from api.services.auth import actor_of_caller
from api.services.workflow_calls import timed_out, within
from core.errors import (
    Forbidden,
    IdempotencyKeyReused,
    InvalidField,
    NotFound,
    PossibleDuplicate,
    StaleVersion,
)
from domain import access, lifecycle
from domain.access import Caller, CaseScope
from domain.clock import MediationClock, end_of_day
from domain.payloads import CaseCreate
from domain.policy import ClockPolicy
from domain.time import SHANGHAI
from models import repo, repo_pool, repo_users
from models.schemas import (
    ActionOutcome,
    ActionWarning,
    AllowedEvents,
    CaseListFilters,
    CasePublic,
    CasesPublic,
    CaseSummary,
    DuplicatePublic,
    ExtensionPublic,
    MediationClockPublic,
    PausePublic,
    SessionPublic,
    TermBalancePublic,
    TransitionPublic,
)
from models.tables import Case, Transition
from workflows.contracts import (
    APPLY_EVENT,
    COMPLETE_ENTRY,
    DISPUTE_WORKFLOW,
    SNAPSHOT,
    ActionResult,
    CaseSnapshot,
    DisputeOutcome,
    OpenDispute,
    StaffAction,
    action_digest,
    workflow_id,
)

log = logging.getLogger("mediation.api")
# The events that assign the case's mediators: their accounts reach the case (case_mediators).
ASSIGNING = frozenset({"accept", "reassign_mediators"})
# The loaded year tables' digest, carried in each staff action (StaffAction.calendar); read again when a year is
# loaded, by this process as by the others.
STORED_CALENDAR = repo.StoredCalendarCache()
# The events that name a session: their answer carries its id.
SESSION_EVENTS = frozenset({"schedule_session", "reschedule_session", "cancel_session"})
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6c1f0d8e-53a4-4c57-9d0e-2b8f6f1f7a10")


def case_public(*, session: Session, case: Case, caller: Caller | None = None, today: date | None = None) -> CasePublic:
    facts = repo.guard_facts(session=session, case=case, today=today)
    return CasePublic.model_validate(
        {
            **case.model_dump(),
            "status_label": lifecycle.STATE_LABELS[case.status],
            "allowed_events": lifecycle.allowed_events(case.status, facts),
            "mediation_clock": _mediation_clock(session=session, case=case, today=today),
            "provisional": case.due_provisional,
            "balances": [
                TermBalancePublic(term=b.term, text=b.text, amount=b.amount, paid=b.paid, balance=b.balance,
                                  performed=b.performed)
                for b in facts["balances"]
            ],
            "possible_duplicates": duplicates(session=session, registration=case.registration, caller=caller,
                                              registered_before=case.registered_at),
        }
    )


def duplicates(
    *, session: Session, registration: dict[str, Any], caller: Caller | None, registered_before: datetime | None = None
) -> list[DuplicatePublic]:
    """Earlier cases of the same patient, institution and treatment; one the caller does not reach is named by
    its committee and number only (Reg 42)."""
    found = []
    for case in repo.possible_duplicates(session=session, registration=registration,
                                         registered_before=registered_before):
        committee = repo.find_committee(session=session, committee_id=case.committee_id)
        seen = caller is None or access.reaches(
            caller, committee_id=case.committee_id, committee_city=committee.city if committee else "",
            mediator_ids=repo.assigned_mediators(session=session, case_id=case.id))
        found.append(DuplicatePublic(
            id=case.id if seen else None, number=case.number, committee_id=case.committee_id, status=case.status,
            status_label=lifecycle.STATE_LABELS[case.status], registered_at=case.registered_at,
            patient_name=case.patient_name if seen else None,
            institution_name=case.institution_name if seen else None,
        ))
    return found


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


async def register(
    *,
    db: Database,
    client: Client,
    task_queue: str,
    body: CaseCreate,
    caller: Caller,
    idempotency_key: str | None,
    timeout: float,
    occurred_at: datetime | None = None,
) -> CasePublic:
    entered_at = history_time(caller, occurred_at)
    if caller.checks_reach and not caller.is_dev and body.committee_id != caller.committee_id:
        raise Forbidden(f"you register cases for your own committee ({caller.committee_id}), "
                        f"not for {body.committee_id!r}")
    registration = body.model_dump(mode="json")
    case_id = (
        uuid.uuid5(_IDEMPOTENCY_NAMESPACE, idempotency_key).hex if idempotency_key else uuid.uuid4().hex
    )

    def prepare(session: Session) -> CasePublic | OpenDispute:
        try:
            committee = repo.get_committee(session=session, committee_id=body.committee_id)
        except NotFound:
            raise InvalidField("committee_id", f"unknown committee {body.committee_id!r}") from None
        earlier = session.get(Case, case_id) if idempotency_key else None
        if earlier is not None:  # a repeat: the first answer, if it is the same registration
            if earlier.registration != registration:
                raise IdempotencyKeyReused("this Idempotency-Key registered another application; use a new key "
                                           "for a new registration")
            return case_public(session=session, case=earlier, caller=caller)
        _check_new_registration(session=session, body=body, registration=registration, caller=caller)
        return OpenDispute(
            case_id=case_id,
            registration=registration,
            actor=actor_of_caller(caller),
            policy=ClockPolicy.from_dict(committee.policy).to_dict(),
            calendar=repo.working_day_calendar(session=session).to_dict(),
            entered_at=entered_at,
        )

    try:
        async with asyncio.timeout(timeout):  # the whole registration, the database's waits included
            prepared = await db.run(prepare)
    except TimeoutError:
        raise timed_out(timeout, case_id) from None
    if isinstance(prepared, CasePublic):
        return prepared
    start = WithStartWorkflowOperation(
        DISPUTE_WORKFLOW,
        prepared,
        result_type=DisputeOutcome,
        id=workflow_id(case_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    await within(timeout, client.execute_update_with_start_workflow(
        SNAPSHOT, start_workflow_operation=start, result_type=CaseSnapshot, rpc_timeout=timedelta(seconds=timeout)
    ), case_id=case_id)
    return await db.run(lambda session: case_public(
        session=session, case=repo.get_case(session=session, case_id=case_id), caller=caller))


def _check_new_registration(*, session: Session, body: CaseCreate, registration: dict[str, Any],
                            caller: Caller) -> None:
    """The respondent's registry id names an institution of the pool; a re-filed dispute is caught (rev 2)."""
    linked = body.institution.pool_institution_id
    if linked is not None:
        _require_institution(session=session, institution_id=linked, field="institution.pool_institution_id")
    if body.confirm_new_dispute is not None:
        return
    matches = duplicates(session=session, registration=registration, caller=caller)
    if matches:
        numbers = "、".join(m.number for m in matches)
        raise PossibleDuplicate(
            f"possible duplicate: the same patient, institution and treatment were registered before ({numbers}); "
            "if this is a new dispute, register it with confirm_new_dispute and say why",
            matches=[m.model_dump(mode="json") for m in matches],
        )


def _require_institution(*, session: Session, institution_id: str, field: str) -> None:
    try:
        repo_pool.get_institution(session=session, institution_id=institution_id)
    except NotFound:
        raise InvalidField(field, f"unknown institution {institution_id!r}: not in the expert pool's registry "
                                  "(GET /pool/institutions)") from None


def parse_if_match(value: str | None) -> int | None:
    """If-Match carries the case version as its ETag: "12", W/"12" or 12; "*" matches any version."""
    if value is None or value.strip() in ("*", ""):
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 12:
        raise InvalidField("If-Match", f"give the case's version (its ETag, e.g. \"12\"), not {value!r}")
    return int(text)


EARLIEST_RECORDS = datetime(2004, 1, 1, tzinfo=SHANGHAI)  # the working-day calendar knows 2004 on


def history_time(caller: Caller, occurred_at: datetime | None) -> datetime | None:
    """X-Occurred-At, for a case entered from paper records after the fact: a moment in the past (a time without a
    zone is Asia/Shanghai), by staff."""
    if occurred_at is None:
        return None
    access.require(caller, "history.enter")
    at = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=SHANGHAI)
    if at > datetime.now(SHANGHAI):
        raise InvalidField("X-Occurred-At", "an act entered from records took place in the past, not in the future")
    if at < EARLIEST_RECORDS:
        raise InvalidField("X-Occurred-At", "records are entered from 2004 on (the working-day calendar's first year)")
    return at


async def complete_entry(*, client: Client, case_id: str, timeout: float) -> CaseSnapshot:
    """The case's records are all entered: its clocks run on real time from now on."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    return await within(timeout, handle.execute_update(
        COMPLETE_ENTRY, result_type=CaseSnapshot, rpc_timeout=timedelta(seconds=timeout)), case_id=case_id)


async def link_respondent(*, db: Database, institution_id: str, **action: Any) -> ActionOutcome:
    """Reg 37 (rev 2): the respondent is linked to the pool's registry by id; recusal never matches names."""
    await db.run(lambda session: _require_institution(session=session, institution_id=institution_id,
                                                      field="institution_id"))
    return await act(db=db, event="link_respondent", **action)


async def act(*, timeout: float, case_id: str, **action: Any) -> ActionOutcome:
    """A staff action, answered within `timeout` in all: waiting for the database included, not only the
    workflow (MEDIATION_ACTION_TIMEOUT_SECONDS). A session scheduled or moved then carries a warning for each
    mediator of it booked elsewhere within two hours (api/services/sessions.py)."""
    try:
        async with asyncio.timeout(timeout):
            answered = await _act(timeout=timeout, case_id=case_id, **action)
    except TimeoutError:
        raise timed_out(timeout, case_id) from None
    if answered.event in sessions_service.CLASH_CHECKED and answered.session_id:
        answered.warnings = await _clash_warnings(db=action["db"], case_id=case_id, session_id=answered.session_id,
                                                  caller=action["caller"])
    return answered


async def _clash_warnings(*, db: Database, case_id: str, session_id: str, caller: Caller) -> list[ActionWarning]:
    """The action is done whatever this finds: a database that cannot answer now is a warning, not an error."""
    try:
        return await db.run(lambda session: sessions_service.clash_warnings(
            session=session, case_id=case_id, session_id=session_id, caller=caller))
    except Exception:  # the action was applied: its answer must not become an error
        log.exception("double-booking check of session %s (case %s) failed", session_id, case_id)
        return [sessions_service.unavailable()]


async def _act(
    *,
    db: Database,
    client: Client,
    case_id: str,
    event: str,
    body: BaseModel,
    caller: Caller,
    timeout: float,
    request_id: str = "",
    idempotency_key: str | None = None,
    if_match: str | None = None,
    known: Case | None = None,
    occurred_at: datetime | None = None,
) -> ActionOutcome:
    """`known` is the case row the reach check read for this request: the pre-check uses it, not a second read.
    `occurred_at`: an act of a case entered from records, at its own time (the workflow checks its order)."""
    acted_at = history_time(caller, occurred_at)
    payload = body.model_dump(mode="json", exclude_none=True)
    digest = action_digest(event, payload)  # of what the client sent
    access.require_event(caller, event, payload)
    expected = parse_if_match(if_match)
    if event in ASSIGNING and caller.checks_reach and not caller.is_dev and not payload.get("mediator_ids"):
        raise InvalidField("mediator_ids", "name the mediators' accounts (usernames): only assigned mediators "
                                           "reach the case")

    def precheck(session: Session) -> tuple[int, str]:
        """Quick answers from the projection (the workflow's validator decides for good); the version seen and
        the stored calendar's digest (the workflow reads the year tables again only when it knows others)."""
        case = known if known is not None else repo.get_case(session=session, case_id=case_id)
        if payload.get("attachment_ids"):  # the files it names: this case's, standing, of a kind it takes (422)
            attachments.check_for_event(session=session, case_id=case.id, event=event,
                                        attachment_ids=payload["attachment_ids"])
        if event in ASSIGNING and payload.get("mediator_ids"):
            payload["mediators"] = _assigned_mediators(session=session, case=case, payload=payload)
        # a keyed request may be a repeat: only the workflow knows its first answer; an act entered from records
        # is checked by the workflow after the deadlines that passed before it have fired
        if not idempotency_key and acted_at is None:
            if expected is not None and expected != case.version:
                raise StaleVersion(f"the case is at version {case.version}, not {expected} (If-Match): read it "
                                   "again and decide on what it says now", current_version=case.version,
                                   state=case.status)
            lifecycle.next_status(case.status, event, {**payload, **repo.guard_facts(session=session, case=case)})
        return case.version, STORED_CALENDAR.current(session=session).digest

    seen, calendar = await db.run(precheck)
    log.info("%s on case %s asked by %s (%s)", event, case_id, caller.user_id, caller.role)
    action = StaffAction(event=event, payload=payload, actor=actor_of_caller(caller), request_id=request_id,
                         idempotency_key=idempotency_key or "", digest=digest, expected_version=expected,
                         seen_version=seen, occurred_at=acted_at, calendar=calendar)
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        result = await within(timeout, handle.execute_update(
            APPLY_EVENT, action, result_type=ActionResult, rpc_timeout=timedelta(seconds=timeout)
        ), case_id=case_id, version=seen)
    except NotFound:  # the case's workflow has ended since: a keyed repeat is answered from the record
        recorded = await db.run(lambda session: _recorded_answer(session=session, case_id=case_id,
                                                                 key=idempotency_key, digest=digest))
        if recorded is None:
            raise
        return recorded
    if payload.get("attachment_ids"):
        await attachments.link_to_event(db=db, case_id=case_id, attachment_ids=payload["attachment_ids"],
                                        event=event, seq=result.seq)
    return outcome(result)


def outcome(result: ActionResult) -> ActionOutcome:
    return ActionOutcome(
        case_id=result.case_id,
        event=result.event,
        from_status=result.from_status,
        status=result.status,
        status_label=lifecycle.STATE_LABELS[result.status],
        seq=result.seq,
        version=result.seq,
        at=result.at,
        allowed_events=result.allowed_events,
        document_ids=result.document_ids,
        session_id=result.session_id,
        panel_id=result.panel_id,
        repeated=result.repeated,
    )


def _recorded_answer(*, session: Session, case_id: str, key: str | None, digest: str) -> ActionOutcome | None:
    """A keyed action repeated after the case's workflow ended (it was the archiving, or came before it): the
    answer rebuilt from the recorded transition."""
    if not key:
        return None
    row = repo.transition_by_key(session=session, case_id=case_id, key=key)
    if row is None:
        return None
    if row.request_digest and row.request_digest != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used for another request; use a new key for a new "
                                   "request")
    return _outcome_of(session=session, row=row)


def _outcome_of(*, session: Session, row: Transition) -> ActionOutcome:
    return ActionOutcome(
        case_id=row.case_id, event=row.event, from_status=row.from_status, status=row.to_status,
        status_label=lifecycle.STATE_LABELS[row.to_status], seq=row.seq, version=row.seq, at=row.at,
        allowed_events=lifecycle.allowed_events(row.to_status),
        document_ids=[d.id for d in repo.list_documents(session=session, case_id=row.case_id)
                      if d.source_seq == row.seq],
        session_id=row.payload.get("session_id") if row.event in SESSION_EVENTS else None,
        panel_id=row.payload.get("panel_id") if row.event == "request_consultation" else None,
        repeated=True,
    )


def _assigned_mediators(*, session: Session, case: Case, payload: dict[str, Any]) -> list[str]:
    """The accounts named at acceptance (or at a reassignment) must be active mediators of the case's committee;
    the names printed are the ones given, or the accounts' names."""
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
    case = repo.get_case(session=session, case_id=case_id)
    return _as_seen_by(caller, case_public(session=session, case=case, caller=caller))


def search(
    *,
    session: Session,
    filters: CaseListFilters,
    limit: int,
    cursor: str | None,
    offset: int,
    count: bool,
    scope: CaseScope,
) -> CasesPublic:
    found = repo.search_cases(session=session, filters=filters, limit=limit, cursor=cursor, offset=offset,
                              count=count, scope=scope)
    items = [CaseSummary.model_validate({**row._mapping, "status_label": lifecycle.STATE_LABELS[row.status]})
             for row in found.rows]
    return CasesPublic(items=items, limit=limit, has_more=found.has_more, next_cursor=found.next_cursor,
                       estimated_total=found.estimated_total)


def history(*, session: Session, case_id: str, caller: Caller) -> list[TransitionPublic]:
    repo.get_case(session=session, case_id=case_id)
    return [_as_seen_by(caller, TransitionPublic.model_validate(t))
            for t in repo.list_transitions(session=session, case_id=case_id)]


def allowed(*, session: Session, case_id: str) -> AllowedEvents:
    case = repo.get_case(session=session, case_id=case_id)
    return AllowedEvents(
        status=case.status,
        status_label=lifecycle.STATE_LABELS[case.status],
        allowed_events=lifecycle.allowed_events(case.status, repo.guard_facts(session=session, case=case)),
    )


def sessions(*, session: Session, case_id: str, caller: Caller) -> list[SessionPublic]:
    repo.get_case(session=session, case_id=case_id)
    return [_as_seen_by(caller, SessionPublic.model_validate(s))
            for s in repo.list_sessions(session=session, case_id=case_id)]
