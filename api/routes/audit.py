"""The audit trail (api/audit.py records it): read it with filters, and check its hash chain.

Auditors and admins only; a committee-level auditor reads the entries of their committee, a city-level auditor
those of the city's committees. Their reads here are recorded like any other read of an auditor.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.access import allow, case_scope
from api.deps import Count, Cursor, Offset, ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES, ErrorBody
from domain.access import Caller
from domain.payloads import LocalTime
from models import repo_audit
from models.paging import Page

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {"model": ErrorBody, "description": "Only auditors and admins read the audit trail"},
}

router = APIRouter(route_class=ReleasingRoute, prefix="/audit", tags=["audit"], responses=RESPONSES)
AuditReader = Annotated[Caller, allow("audit.read")]


class AuditEntryPublic(BaseModel):
    id: int
    at: LocalTime
    actor_id: str
    actor_name: str
    actor_role: str
    committee_id: str | None
    action: str = Field(examples=["POST /cases/{case_id}/accept"])
    target_type: str | None = Field(examples=["case_id"])
    target_id: str | None
    request_id: str
    status_code: int | None
    payload_sha256: str = Field(description="SHA-256 of the request body")
    prev_hash: str
    hash: str


class AuditEntriesPublic(Page[AuditEntryPublic]):
    """A page of the trail, newest first."""


class BrokenLink(BaseModel):
    id: int
    reason: str


class ChainVerification(BaseModel):
    ok: bool
    checked: int = Field(description="entries read, up to and including the first broken one")
    first_broken: BrokenLink | None
    head_hash: str = Field(description="the last entry's hash: note it, and a later truncation of the trail "
                                       "shows as a chain that no longer reaches it")


@router.get("", summary="The audit trail, newest first (auditors, admins)")
def entries(
    session: SessionDep,
    caller: AuditReader,
    actor_id: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=100)] = None,
    committee_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=200, description="part of it: /accept")] = None,
    request_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[LocalTime | None, Query(alias="from", description="from this time (inclusive)")] = None,
    until: Annotated[LocalTime | None, Query(alias="to", description="until this time (exclusive)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Cursor = None,
    count: Count = None,
    offset: Offset = 0,
) -> AuditEntriesPublic:
    found = repo_audit.list_entries(
        session=session, committee_ids=case_scope(session, caller).committee_ids, actor_id=actor_id,
        target_id=target_id, committee_id=committee_id, action_contains=action, request_id=request_id, since=since,
        until=until, limit=limit, cursor=cursor, offset=offset, count=count == "estimate",
    )
    items = [AuditEntryPublic.model_validate(row, from_attributes=True) for row in found.rows]
    return AuditEntriesPublic(items=items, limit=limit, has_more=found.has_more, next_cursor=found.next_cursor,
                              estimated_total=found.estimated_total)


@router.get("/verify", summary="Check the hash chain; name the first broken link (auditors, admins)")
def verify(session: SessionDep, caller: AuditReader) -> ChainVerification:
    """The whole chain: a link cannot be checked without its neighbours (the entries it reports are ids)."""
    report = repo_audit.verify(session=session)
    broken = report.first_broken
    return ChainVerification(
        ok=report.ok,
        checked=report.checked,
        first_broken=BrokenLink(id=broken[0], reason=broken[1]) if broken else None,
        head_hash=report.head_hash,
    )
