"""Cases: register, read, search, history, allowed events, sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Query, Response

from api.access import allow, case_scope
from api.deps import (
    CaseId,
    Count,
    Cursor,
    DatabaseDep,
    OccurredAt,
    Offset,
    ReleasingRoute,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.errors import ERROR_RESPONSES
from api.services import cases
from domain.access import Caller
from domain.events import EVENTS
from domain.payloads import CaseCreate
from models.schemas import (
    AllowedEvents,
    CaseListFilters,
    CasePublic,
    CasesPublic,
    SessionPublic,
    TransitionPublic,
)

router = APIRouter(route_class=ReleasingRoute, prefix="/cases", tags=["cases"], responses=ERROR_RESPONSES)

REGISTRATION_EXAMPLE = {
    "committee_id": "huangpu",
    "application_type": "one_side",
    "applicant_side": "patient",
    "patient": {"name": "王小明", "id_number": "310101198001011234", "phone": "13800138000", "gender": "male"},
    "patient_representatives": [
        {"name": "王大明", "relation": "患者之兄", "role": "agent", "authorisation": "授权委托书（2026年11月20日）"}
    ],
    "institution": {"name": "上海市某区人民医院", "legal_representative": "李院长", "address": "上海市黄浦区某路1号"},
    "treatment_episode": "2026年10月3日至10月12日在普外科住院",
    "facts": "患者于2026年10月3日因阑尾炎入院手术，术后切口感染，再次手术。患方认为医方术中消毒不规范。",
    "claim_amount": "120000.00",
    "requests": "要求医方赔偿医疗费、误工费、护理费等共计人民币十二万元。",
}


@router.post("", status_code=201, summary=EVENTS["register"].summary)
async def register(
    body: Annotated[CaseCreate, Body(openapi_examples={"一方申请": {"value": REGISTRATION_EXAMPLE}})],
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    caller: Annotated[Caller, allow("event.register")],
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="repeat a registration safely: same key, same case")
    ] = None,
    x_occurred_at: OccurredAt = None,  # type: ignore[assignment]
) -> CasePublic:
    return await cases.register(
        db=db,
        client=client,
        task_queue=settings.task_queue,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        timeout=settings.action_timeout_seconds,
        occurred_at=x_occurred_at,
    )


@router.post("/{case_id}/complete-entry",
             summary="A case entered from paper records (历史案件补录): its records are all entered, its clocks run on "
                     "real time from now on")
async def complete_entry(
    case_id: CaseId,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    caller: Annotated[Caller, allow("history.complete")],
) -> CasePublic:
    await cases.complete_entry(client=client, case_id=case_id, timeout=settings.action_timeout_seconds)
    return await db.run(lambda session: cases.get(session=session, case_id=case_id, caller=caller))


@router.get("", summary="List and search cases, newest first, a page at a time (follow next_cursor)")
def search(
    session: SessionDep,
    caller: Annotated[Caller, allow("cases.read")],
    filters: Annotated[CaseListFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Offset = 0,
    cursor: Cursor = None,
    count: Count = None,
) -> CasesPublic:
    return cases.search(session=session, filters=filters, limit=limit, cursor=cursor, offset=offset,
                        count=count == "estimate", scope=case_scope(session, caller))


ReadingCaller = Annotated[Caller, allow("cases.read")]


@router.get("/{case_id}", summary="A case (identity and phone numbers in full for the committee's staff only); "
            "its ETag is its version, for If-Match")
def get_case(case_id: CaseId, session: SessionDep, caller: ReadingCaller, response: Response) -> CasePublic:
    case = cases.get(session=session, case_id=case_id, caller=caller)
    response.headers["ETag"] = f'"{case.version}"'
    return case


@router.get("/{case_id}/history", summary="The case's transitions, oldest first")
def history(case_id: CaseId, session: SessionDep, caller: ReadingCaller) -> list[TransitionPublic]:
    return cases.history(session=session, case_id=case_id, caller=caller)


@router.get("/{case_id}/allowed-events", summary="What the law allows now")
def allowed_events(case_id: CaseId, session: SessionDep, caller: ReadingCaller) -> AllowedEvents:
    return cases.allowed(session=session, case_id=case_id)


@router.get("/{case_id}/sessions", summary="Scheduled mediation sessions and their minutes")
def sessions(case_id: CaseId, session: SessionDep, caller: ReadingCaller) -> list[SessionPublic]:
    return cases.sessions(session=session, case_id=case_id, caller=caller)
