"""One typed endpoint per staff action: POST /cases/{id}/<event>. Each is a lifecycle event (an Update).

Every action takes two headers (rev 2): `Idempotency-Key` (repeat it safely: the same key returns the first
answer and changes nothing) and `If-Match` (the case version it was decided on, the ETag of GET /cases/{id}: a
stale one answers 409 with the current version). The answer carries the new version as its ETag.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Response
from pydantic import BaseModel
from temporalio.client import Client

from api.access import allow
from api.deps import CaseId, Database, DatabaseDep, ReleasingRoute, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.services import cases
from models.access import Caller
from models.schemas import ACTION_SCHEMAS, ActionOutcome, LinkRespondent

router = APIRouter(route_class=ReleasingRoute, prefix="/cases", tags=["actions"], responses=ERROR_RESPONSES)

SUMMARIES = {
    "request_consent": "Ask the other side for consent (征求对方意见, Reg 31¶1)",
    "record_consent": "Record the other side's consent",
    "record_refusal": "Record the other side's refusal (PML 17)",
    "submit_for_review": "Submit for acceptance review (受理审查)",
    "accept": "Accept and assign 1–3 mediators (受理, starts the 30-WD clock)",
    "reject": "Reject with reasons (不予受理)",
    "schedule_session": "Schedule a mediation session",
    "record_minutes": "Record a session's minutes (调解笔录)",
    "start_appraisal": "A medical-damage appraisal is commissioned (医疗损害鉴定, Reg 34): the clock pauses",
    "finish_appraisal": "The appraisal opinion arrived (Reg 36): the clock runs again",
    "abandon_appraisal": "The appraisal will not report (declined, returned, fee not advanced, withdrawn): the clock "
    "runs again",
    "record_payment": "Record a payment or act of performance against one term of the agreement (PML 31)",
    "extend_deadline": "Extend the mediation period by agreement (延长调解期限, Reg 38)",
    "draft_agreement": "Draft the agreement (人民调解协议书, PML 29)",
    "revise_agreement": "A party refuses to sign: back to mediation, the draft is superseded",
    "sign": "Record a signature or the committee seal (Reg 39)",
    "confirm_performance": "Confirm the agreement performed: every term in full, or the patient side's written "
    "acceptance of less (PML 31)",
    "record_nonperformance": "Record nonperformance, parties referred to court (PML 32)",
    "declare_failed": "Declare mediation failed (调解不成, PML 26)",
    "terminate": "Terminate mediation on a legal ground (终止调解)",
    "archive": "Archive the closed case (归档, PML 27)",
    "record_judicial_confirmation": "Record the parties' application for judicial confirmation and the court's "
    "result (司法确认, PML 33)",
    "record_followup": "Record the follow-up visit after performance (回访记录)",
    "request_consultation": "Ask the expert pool for a panel (专家咨询, Reg 33): experts are drawn and invited; the "
    "clock keeps running",
}


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
    response: Response
    request_id: str
    idempotency_key: str | None
    if_match: str

    async def answer(self, service: Callable[..., Awaitable[ActionOutcome]], **action: Any) -> ActionOutcome:
        outcome = await service(
            db=self.db, client=self.client, timeout=self.timeout, request_id=self.request_id,
            idempotency_key=self.idempotency_key, if_match=self.if_match, **action,
        )
        self.response.headers["ETag"] = f'"{outcome.version}"'
        return outcome


def action_call(
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    response: Response,
    x_request_id: RequestId = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = "",
) -> ActionCall:
    return ActionCall(db=db, client=client, timeout=settings.action_timeout_seconds, response=response,
                      request_id=x_request_id or "", idempotency_key=idempotency_key, if_match=if_match)


ActionCallDep = Annotated[ActionCall, Depends(action_call)]


def _add_action(event: str, schema: type[BaseModel]) -> None:
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
        summary=SUMMARIES[event],
        operation_id=event,
        response_model=ActionOutcome,
    )


for _event, _schema in ACTION_SCHEMAS.items():
    _add_action(_event, _schema)


@router.put("/{case_id}/respondent-institution", operation_id="link_respondent", response_model=ActionOutcome,
            summary="Link the respondent to the expert pool's institution registry (Reg 37: recusal by id)")
async def link_respondent(
    case_id: CaseId,
    body: LinkRespondent,
    caller: Annotated[Caller, allow("event.link_respondent")],
    call: ActionCallDep,
) -> ActionOutcome:
    return await call.answer(cases.link_respondent, institution_id=body.institution_id, case_id=case_id, body=body,
                             caller=caller)
