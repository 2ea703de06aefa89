"""The outbox: what the cases' clocks told staff (reminders, warnings, expiries, tasks), and how each went out
(the deliveries by e-mail, SMS and the log, docs/notifications.md); the contacts notifications go to."""

from __future__ import annotations

from sqlmodel import Session

from core.errors import NotFound
from domain.access import Caller, CaseScope
from domain.notices import mask_address, normalise_mobile
from models import repo, repo_delivery, repo_users
from models.schemas import ContactIn, ContactPublic, DeliveryPublic, NotificationPublic, NotificationsPublic
from models.tables import Delivery
from models.users import User


def delivery_public(row: Delivery) -> DeliveryPublic:
    return DeliveryPublic.model_validate({
        "channel": row.channel, "recipient_type": row.recipient_type, "recipient_id": row.recipient_id,
        "recipient_name": row.recipient_name, "address": mask_address(row.channel, row.address),
        "status": row.status, "attempts": row.attempts, "reason": row.reason, "sent_at": row.sent_at,
    })


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
    delivery_status: str | None = None,
) -> NotificationsPublic:
    if case_id:
        repo.get_case(session=session, case_id=case_id)
    found = repo.list_notifications(
        session=session, case_id=case_id, kind=kind, recipient_role=recipient_role, limit=limit, cursor=cursor,
        offset=offset, count=count, scope=scope, delivery_status=delivery_status,
    )
    deliveries = repo_delivery.deliveries_of(session=session, notification_ids=[n.id for n in found.rows])
    items = []
    for notification in found.rows:
        item = NotificationPublic.model_validate(notification)
        item.deliveries = [delivery_public(d) for d in deliveries[notification.id]]
        items.append(item)
    return NotificationsPublic(items=items, limit=limit, has_more=found.has_more, next_cursor=found.next_cursor,
                               estimated_total=found.estimated_total)


# ---------------------------------------------------------------- contacts ----------------------------
def contact_public(user: User, *, masked: bool) -> ContactPublic:
    mobile = user.contact_mobile
    return ContactPublic(email=user.contact_email, mobile=mask_address("sms", mobile) if masked else mobile,
                         notify_by=[c for c in user.notify_by if c in ("email", "sms")])


def account_of(*, session: Session, caller: Caller) -> User:
    """The caller's own account (an expert acts as their member of the pool)."""
    if caller.role == "expert":
        user = repo_users.find_expert_account(session=session, expert_id=caller.user_id)
    else:
        user = repo_users.find_user(session=session, username=caller.user_id)
    if user is None:
        raise NotFound("no account behind this caller (dev-mode headers)")
    return user


def _change(session: Session, user: User, body: ContactIn) -> User:
    mobile = body.mobile if body.mobile is None or body.mobile == "" else normalise_mobile(body.mobile)
    return repo_delivery.set_contact(session=session, user=user, email=body.email, mobile=mobile,
                                     notify_by=body.notify_by)


def my_contact(*, session: Session, caller: Caller) -> ContactPublic:
    return contact_public(account_of(session=session, caller=caller), masked=False)


def set_my_contact(*, session: Session, caller: Caller, body: ContactIn) -> ContactPublic:
    return contact_public(_change(session, account_of(session=session, caller=caller), body), masked=False)


def set_user_contact(*, session: Session, user_id: str, body: ContactIn) -> ContactPublic:
    """An administrator's change to an account's contact; the mobile number comes back masked."""
    return contact_public(_change(session, repo_users.get_user(session=session, user_id=user_id), body), masked=True)

