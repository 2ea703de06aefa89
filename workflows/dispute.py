"""DisputeWorkflow: one durable workflow per case (id `dispute-<case id>`).

Every staff action is the Update `apply_event`. Its validator asks the lifecycle whether the event is
legal now (a refused Update leaves no history); the handler re-checks under a lock, so that of two staff
acting at once exactly one succeeds, then writes the projection and renders documents in activities.
Deterministic: no I/O here, times from workflow.now(), ids from workflow.uuid4().
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.errors import DomainError
    from models import lifecycle
    from workflows.activities import DisputeActivities
    from workflows.contracts import (
        ActionResult,
        CaseSnapshot,
        DisputeOutcome,
        DocumentRef,
        OpenDispute,
        RegistrationRecord,
        RenderRequest,
        StaffAction,
        TransitionRecord,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=60)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))

# Which documents an event produces.
DOCUMENTS_OF_EVENT: dict[str, str] = {"draft_agreement": "agreement"}


@workflow.defn
class DisputeWorkflow:
    @workflow.init
    def __init__(self, inp: OpenDispute) -> None:
        self._case_id = inp.case_id
        self._status = "new"
        self._seq = 0
        self._ready = False
        self._lock = asyncio.Lock()
        self._application_type = inp.registration["application_type"]
        self._both_consented = bool(inp.registration.get("both_consented"))
        self._signed: dict[str, dict[str, Any]] = {}
        self._open_sessions: list[str] = []
        self._agreement: DocumentRef | None = None

    @workflow.run
    async def run(self, inp: OpenDispute) -> DisputeOutcome:
        await workflow.execute_activity_method(
            DisputeActivities.persist_registration,
            RegistrationRecord(case_id=inp.case_id, registration=inp.registration, actor=inp.actor, at=workflow.now()),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._status, self._seq, self._ready = "registered", 1, True
        await workflow.wait_condition(lambda: self._status == "archived" and workflow.all_handlers_finished())
        return DisputeOutcome(case_id=self._case_id, status=self._status, seq=self._seq)

    # ------------------------------------------------------------------ updates ---------------------
    @workflow.update
    async def apply_event(self, action: StaffAction) -> ActionResult:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            to_status = self._check(action, self._status)
            payload = self._enrich(action)
            from_status, seq, at = self._status, self._seq + 1, workflow.now()
            await workflow.execute_activity_method(
                DisputeActivities.persist_transition,
                TransitionRecord(
                    case_id=self._case_id,
                    seq=seq,
                    event=action.event,
                    from_status=from_status,
                    to_status=to_status,
                    actor=action.actor,
                    at=at,
                    payload=payload,
                    request_id=action.request_id,
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._seq, self._status = seq, to_status
            self._remember(action.event, payload)
            documents = await self._render(action.event, seq)
            return ActionResult(
                case_id=self._case_id,
                event=action.event,
                from_status=from_status,
                status=to_status,
                seq=seq,
                at=at,
                allowed_events=lifecycle.allowed_events(to_status),
                document_ids=[doc.id for doc in documents],
                session_id=payload.get("session_id") if action.event == "schedule_session" else None,
            )

    @apply_event.validator
    def _validate(self, action: StaffAction) -> None:
        # Before the registration is written the case is, for the law, already registered.
        self._check(action, self._status if self._ready else "registered")

    @workflow.update
    async def snapshot(self) -> CaseSnapshot:
        """Waits until the registration is written; used right after the workflow starts."""
        await workflow.wait_condition(lambda: self._ready)
        return self._snapshot()

    @workflow.query
    def current(self) -> CaseSnapshot:
        return self._snapshot()

    # ------------------------------------------------------------------ helpers ---------------------
    def _snapshot(self) -> CaseSnapshot:
        return CaseSnapshot(
            case_id=self._case_id,
            status=self._status,
            seq=self._seq,
            allowed_events=lifecycle.allowed_events(self._status) if self._status != "new" else [],
        )

    def _facts(self, action: StaffAction) -> dict[str, Any]:
        return {
            **action.payload,
            "application_type": self._application_type,
            "both_consented": self._both_consented,
            "signed": sorted(self._signed),
            "scheduled_sessions": list(self._open_sessions),
        }

    def _check(self, action: StaffAction, status: str) -> str:
        if action.event == "register":
            raise ApplicationError("a case is registered once", type="IllegalTransition", non_retryable=True)
        try:
            return lifecycle.next_status(status, action.event, self._facts(action))
        except DomainError as err:
            raise ApplicationError(err.detail, err.extra, type=type(err).__name__, non_retryable=True) from None

    def _enrich(self, action: StaffAction) -> dict[str, Any]:
        """Facts the workflow adds to what staff sent: generated ids, and what a signature refers to."""
        payload = dict(action.payload)
        if action.event == "schedule_session":
            payload["session_id"] = str(workflow.uuid4())
        elif action.event == "sign":
            payload["signed_at"] = payload.get("signed_at") or workflow.now().isoformat()
            if self._agreement is not None:
                payload["document_id"] = self._agreement.id
                payload["document_sha256"] = self._agreement.sha256
        return payload

    def _remember(self, event: str, payload: dict[str, Any]) -> None:
        if event == "sign":
            self._signed[payload["signer"]] = payload
        elif event in ("draft_agreement", "revise_agreement"):
            self._signed = {}
        elif event == "schedule_session":
            self._open_sessions.append(payload["session_id"])
        elif event == "record_minutes":
            self._open_sessions.remove(payload["session_id"])

    async def _render(self, event: str, seq: int) -> list[DocumentRef]:
        kind = DOCUMENTS_OF_EVENT.get(event)
        if kind is None:
            return []
        documents: list[DocumentRef] = await workflow.execute_activity_method(
            DisputeActivities.render_document,
            RenderRequest(case_id=self._case_id, kind=kind, source_seq=seq, at=workflow.now()),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        if kind == "agreement":
            self._agreement = next(doc for doc in documents if doc.lang == "zh")
        return documents
