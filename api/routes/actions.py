"""One typed endpoint per staff action: POST /cases/{id}/<event>. Each is a lifecycle event (an Update)."""

from typing import Annotated

from fastapi import APIRouter, Body, Header
from pydantic import BaseModel

from api.access import allow
from api.deps import CaseId, SessionDep, SettingsDep, TemporalDep
from api.errors import ERROR_RESPONSES
from api.services import cases
from models.access import Caller
from models.schemas import ACTION_SCHEMAS, ActionOutcome

router = APIRouter(prefix="/cases", tags=["actions"], responses=ERROR_RESPONSES)

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
    "extend_deadline": "Extend the mediation period by agreement (延长调解期限, Reg 38)",
    "draft_agreement": "Draft the agreement (人民调解协议书, PML 29)",
    "revise_agreement": "A party refuses to sign: back to mediation, the draft is superseded",
    "sign": "Record a signature or the committee seal (Reg 39)",
    "confirm_performance": "Record performance with proof (PML 31)",
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


def _add_action(event: str, schema: type[BaseModel]) -> None:
    async def action(
        case_id: CaseId,
        body: Annotated[schema, Body()],  # type: ignore[valid-type]
        session: SessionDep,
        client: TemporalDep,
        caller: Annotated[Caller, allow(f"event.{event}")],
        settings: SettingsDep,
        x_request_id: Annotated[str | None, Header(max_length=100)] = None,
    ) -> ActionOutcome:
        return await cases.act(
            session=session,
            client=client,
            case_id=case_id,
            event=event,
            body=body,
            caller=caller,
            timeout=settings.action_timeout_seconds,
            request_id=x_request_id or "",
        )

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
