"""One typed endpoint per staff action: POST /cases/{id}/<event>. Each is a lifecycle event (an Update).

Every action takes two headers (rev 2): `Idempotency-Key` (repeat it safely: the same key returns the first
answer and changes nothing) and `If-Match` (the case version it was decided on, the ETag of GET /cases/{id}: a
stale one answers 409 with the current version). The answer carries the new version as its ETag.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from temporalio.client import Client

from api.access import allow, known_case
from api.deps import CaseId, Database, DatabaseDep, OccurredAt, ReleasingRoute, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.services import cases
from domain.access import Caller
from domain.events import EVENTS, STAFF_ACTIONS, EventSpec
from domain.payloads import LinkRespondent
from models.schemas import ActionOutcome

router = APIRouter(route_class=ReleasingRoute, prefix="/cases", tags=["actions"], responses=ERROR_RESPONSES)



IdempotencyKey = Annotated[str | None, Header(
    min_length=1, max_length=200, description="repeat this action safely: the same key returns the first answer and "
    "changes nothing; the same key with another request is 422")]
IfMatch = Annotated[str, Header(  # a string, never null: "" (the default) is no If-Match
    max_length=40, pattern=r'^(|\*|(W/)?"?[0-9]{1,12}"?)$',
    description="the case version this action was decided on (the ETag of GET /cases/{id}, e.g. \"12\"): a stale "
    "version answers 409 with the current one")]
RequestId = Annotated[str | None, Header(max_length=100)]


@dataclass
class ActionCall:
    """What every action endpoint passes on: the database, the workflow service, its timeout and the request's
    headers. The answer carries the case's new version as its ETag."""

    db: Database
    client: Client
    timeout: float
    request: Request
    response: Response
    request_id: str
    idempotency_key: str | None
    if_match: str
    occurred_at: datetime | None

    async def answer(self, service: Callable[..., Awaitable[ActionOutcome]], **action: Any) -> ActionOutcome:
        outcome = await service(
            db=self.db, client=self.client, timeout=self.timeout, request_id=self.request_id,
            idempotency_key=self.idempotency_key, if_match=self.if_match, occurred_at=self.occurred_at,
            known=known_case(self.request, action["case_id"]), **action,
        )
        self.response.headers["ETag"] = f'"{outcome.version}"'
        return outcome


def action_call(
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    x_request_id: RequestId = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = "",
    x_occurred_at: OccurredAt = None,  # type: ignore[assignment]
) -> ActionCall:
    return ActionCall(db=db, client=client, timeout=settings.action_timeout_seconds, request=request, response=response,
                      request_id=x_request_id or "", idempotency_key=idempotency_key, if_match=if_match,
                      occurred_at=x_occurred_at)


ActionCallDep = Annotated[ActionCall, Depends(action_call)]


def _add_action(spec: EventSpec) -> None:
    event, schema = spec.name, spec.payload

    async def action(
        case_id: CaseId,
        body: Annotated[schema, Body()],  # type: ignore[valid-type]
        caller: Annotated[Caller, allow(f"event.{event}")],
        call: ActionCallDep,
    ) -> ActionOutcome:
        return await call.answer(cases.act, case_id=case_id, event=event, body=body, caller=caller)

    action.__name__ = event
    router.add_api_route(
        f"/{{case_id}}/{event.replace('_', '-')}",
        action,
        methods=["POST"],
        summary=spec.summary,
        operation_id=event,
        response_model=ActionOutcome,
    )


for _spec in STAFF_ACTIONS:  # one route per staff action of the catalogue
    _add_action(_spec)


@router.put("/{case_id}/respondent-institution", operation_id="link_respondent", response_model=ActionOutcome,
            summary=EVENTS["link_respondent"].summary)
async def link_respondent(
    case_id: CaseId,
    body: LinkRespondent,
    caller: Annotated[Caller, allow("event.link_respondent")],
    call: ActionCallDep,
) -> ActionOutcome:
    return await call.answer(cases.link_respondent, institution_id=body.institution_id, case_id=case_id, body=body,
                             caller=caller)
