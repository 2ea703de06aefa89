"""The outbox of notifications the cases' clocks produced (who, what, when, which case, and how each went out:
its deliveries by e-mail, SMS and the log); one's own contact for them (GET/PUT /me/contact)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.access import allow, case_scope, require_case_reach
from api.deps import CaseId, Count, Cursor, Offset, ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES
from api.services import notifications
from domain.access import Caller
from domain.deadlines import NOTIFICATION_LABELS
from models.schemas import ContactIn, ContactPublic, NotificationsPublic

router = APIRouter(route_class=ReleasingRoute, tags=["notifications"], responses=ERROR_RESPONSES)

Kind = Literal[tuple(NOTIFICATION_LABELS)]  # type: ignore[valid-type]
Role = Literal["staff", "mediator", "director", "admin", "expert"]
DeliveryStatus = Annotated[Literal["queued", "sent", "failed"] | None, Query(
    description="only the notifications with a delivery in this status (failed: what did not reach someone)")]


@router.get("/notifications",
            summary="The outbox: reminders, warnings and tasks of the cases you reach, newest first, a page at a time")
def outbox(
    session: SessionDep,
    caller: Annotated[Caller, allow("notifications.read")],
    case_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    kind: Kind | None = None,
    recipient_role: Role | None = None,
    status: DeliveryStatus = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    count: Count = None,
    offset: Offset = 0,
) -> NotificationsPublic:
    if case_id:
        require_case_reach(session, caller, case_id)
    if caller.role == "admin":  # escalations are addressed to admins; the cases' own reminders are not theirs
        recipient_role = "admin"
    return notifications.search(
        session=session, case_id=case_id, kind=kind, recipient_role=recipient_role, limit=limit, cursor=cursor,
        offset=offset, count=count == "estimate", scope=case_scope(session, caller), delivery_status=status,
    )


@router.get("/cases/{case_id}/notifications", dependencies=[allow("notifications.case")],
            summary="A case's notifications, newest first")
def of_case(
    case_id: CaseId,
    session: SessionDep,
    status: DeliveryStatus = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    count: Count = None,
    offset: Offset = 0,
) -> NotificationsPublic:
    return notifications.search(
        session=session, case_id=case_id, kind=None, recipient_role=None, limit=limit, cursor=cursor, offset=offset,
        count=count == "estimate", scope=None, delivery_status=status,
    )


@router.get("/me/contact", summary="How notifications reach me: my e-mail, my mobile, the channels I chose")
def my_contact(session: SessionDep, caller: Annotated[Caller, allow("me")]) -> ContactPublic:
    return notifications.my_contact(session=session, caller=caller)


@router.put("/me/contact", summary="Change my e-mail, my mobile or the channels I choose (what is left out stays)")
def set_my_contact(body: ContactIn, session: SessionDep, caller: Annotated[Caller, allow("me")]) -> ContactPublic:
    return notifications.set_my_contact(session=session, caller=caller, body=body)
