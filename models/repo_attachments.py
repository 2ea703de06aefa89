"""The attachments' data access: keyword-only, one transaction per caller (committed at the request's boundary)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from core.errors import NotFound
from domain.panel_lifecycle import InvitationStatus, PanelStatus
from models.tables import Attachment, Invitation, Panel


def add(*, session: Session, attachment: Attachment) -> Attachment:
    session.add(attachment)
    session.flush()
    return attachment


def find(*, session: Session, attachment_id: str) -> Attachment | None:
    return session.get(Attachment, attachment_id)


def get(*, session: Session, attachment_id: str) -> Attachment:
    found = session.get(Attachment, attachment_id)
    if found is None:
        raise NotFound(f"attachment {attachment_id!r} not found")
    return found


def of_case(*, session: Session, case_id: str, kinds: Collection[str] | None = None,
            include_withdrawn: bool = True, uploaded_before: datetime | None = None) -> Sequence[Attachment]:
    """A case's attachments in the order they were received by the committee's system (one index range)."""
    query = select(Attachment).where(Attachment.case_id == case_id)
    if kinds is not None:
        query = query.where(col(Attachment.kind).in_(sorted(kinds) or [""]))
    if not include_withdrawn:
        query = query.where(col(Attachment.withdrawn_at).is_(None))
    if uploaded_before is not None:
        query = query.where(col(Attachment.uploaded_at) <= uploaded_before)
    return session.exec(query.order_by(col(Attachment.uploaded_at), col(Attachment.id))).all()


def by_ids(*, session: Session, attachment_ids: Collection[str]) -> dict[str, Attachment]:
    if not attachment_ids:
        return {}
    rows = session.exec(select(Attachment).where(col(Attachment.id).in_(sorted(attachment_ids)))).all()
    return {row.id: row for row in rows}


def case_bytes(*, session: Session, case_id: str) -> int:
    """What a case's attachments weigh, withdrawn ones included (they are kept)."""
    total = session.exec(select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.case_id == case_id))
    return int(total.one())


def withdraw(*, session: Session, attachment: Attachment, by: str, reason: str, at: datetime) -> Attachment:
    attachment.withdrawn_at = at
    attachment.withdrawn_by = by
    attachment.withdrawn_reason = reason
    session.add(attachment)
    session.flush()
    return attachment


def link_event(*, session: Session, attachment_ids: Collection[str], event: str, seq: int) -> int:
    """The transition that records the attachments (once: a row already linked keeps its first event)."""
    if not attachment_ids:
        return 0
    result = session.exec(  # type: ignore[call-overload]
        update(Attachment)
        .where(col(Attachment.id).in_(sorted(attachment_ids)), col(Attachment.event_seq).is_(None))
        .values(event=event, event_seq=seq)
    )
    return int(result.rowcount or 0)


def holds_open_seat(*, session: Session, expert_id: str, case_id: str) -> bool:
    """Reg 42: the expert accepted a seat of one of the case's panels, and that panel has not closed."""
    found = session.exec(
        select(Invitation.id)
        .join(Panel, col(Panel.id) == col(Invitation.panel_id))
        .where(Invitation.expert_id == expert_id, Invitation.case_id == case_id,
               Invitation.status == InvitationStatus.ACCEPTED.value, Panel.status != PanelStatus.CLOSED.value)
        .limit(1)
    ).first()
    return found is not None


def still_named(*, session: Session, sha256: str, except_ids: Collection[str] = ()) -> bool:
    """Whether an attachment row (other than `except_ids`) still names these bytes."""
    query = select(Attachment.id).where(Attachment.sha256 == sha256)
    if except_ids:
        query = query.where(col(Attachment.id).not_in(sorted(except_ids)))
    return session.exec(query.limit(1)).first() is not None
