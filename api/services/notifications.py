"""The outbox: what the cases' clocks told staff (reminders, warnings, expiries, tasks)."""

from __future__ import annotations

from sqlmodel import Session

from domain.access import CaseScope
from models import repo
from models.schemas import NotificationPublic, NotificationsPublic


def search(
    *,
    session: Session,
    case_id: str | None,
    kind: str | None,
    recipient_role: str | None,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
    count: bool = False,
    scope: CaseScope | None,
) -> NotificationsPublic:
    if case_id:
        repo.get_case(session=session, case_id=case_id)
    found = repo.list_notifications(
        session=session, case_id=case_id, kind=kind, recipient_role=recipient_role, limit=limit, cursor=cursor,
        offset=offset, count=count, scope=scope,
    )
    return NotificationsPublic(
        items=[NotificationPublic.model_validate(n) for n in found.rows], limit=limit, has_more=found.has_more,
        next_cursor=found.next_cursor, estimated_total=found.estimated_total,
    )
