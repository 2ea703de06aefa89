"""Deliveries of the notifications, and the contacts they go to (docs/notifications.md).

Who receives a notification is read from the database when it is written: the people it names (mediators by
account, experts by their id in the pool), otherwise the accounts of the case's committee with its role (the
city's admins for an escalation). Each person's channels are those they chose (`notify_by`) among the ones the
installation runs, where their contact is known; a chosen channel without a contact is a delivery failed at once
("no mobile number on file"), so that the clerk sees whom to ask for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from core.errors import NotFound
from domain.notices import normalise_mobile, valid_email
from models.tables import Case, Committee, Delivery, Expert, Notification
from models.users import User

# The accounts a role of the clocks' notifications means (domain/deadlines.py Timer.recipient_role).
ROLE_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "staff": ("intake",),
    "director": ("director",),
    "mediator": ("mediator",),
    "admin": ("admin",),
    "expert": ("expert",),
}


@dataclass(frozen=True)
class Recipient:
    type: str  # user, expert
    id: str  # the account's username, the expert's id; what the notification named when nobody matched
    name: str
    email: str
    mobile: str
    notify_by: tuple[str, ...]
    known: bool = True


def delivery_id(notification_id: str, recipient_type: str, recipient_id: str, channel: str) -> str:
    """The same delivery always has the same id: a retried write finds it."""
    key = "\x1f".join((notification_id, recipient_type, recipient_id, channel))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _user(user: User) -> Recipient:
    return Recipient("user", user.username, user.full_name, user.contact_email, user.contact_mobile,
                     tuple(user.notify_by or ()))


def _expert(session: Session, expert: Expert) -> Recipient:
    """The pool's contact, unless the expert's own account gives one (GET/PUT /me/contact)."""
    account = session.exec(select(User).where(User.expert_id == expert.id, User.role == "expert",
                                              col(User.active).is_(True))).first()
    email = (account.contact_email if account else "") or expert.email
    mobile = (account.contact_mobile if account else "") or expert.phone
    notify_by = tuple(account.notify_by) if account else ("email", "sms")
    return Recipient("expert", expert.id, expert.name, email, mobile, notify_by)


def recipients(*, session: Session, case_id: str, role: str, named: Sequence[str]) -> list[Recipient]:
    """Who receives a notification of `case_id` addressed to `role` (and to `named` people, when given)."""
    if role == "expert":
        found = []
        for expert_id in dict.fromkeys(named):
            expert = session.get(Expert, expert_id)
            found.append(_expert(session, expert) if expert is not None
                         else Recipient("expert", expert_id, "", "", "", (), known=False))
        return found
    case = session.get(Case, case_id)
    committee = session.get(Committee, case.committee_id) if case is not None else None
    if named:
        found = []
        for name in dict.fromkeys(named):
            user = session.exec(select(User).where(or_(User.username == name, User.id == name),
                                                   col(User.active).is_(True))).first()
            found.append(_user(user) if user is not None else Recipient("user", name, name, "", "", (), known=False))
        return found
    roles = ROLE_ACCOUNTS.get(role, (role,))
    query = select(User).where(col(User.role).in_(roles), col(User.active).is_(True))
    if role == "admin":  # the admins of the case's city, and those of every city
        city = committee.city if committee is not None else ""
        query = query.where(or_(col(User.city).is_(None), User.city == "", User.city == city))
    else:
        query = query.where(User.committee_id == (case.committee_id if case is not None else None))
    return [_user(user) for user in session.exec(query.order_by(col(User.username))).all()]


def address_of(recipient: Recipient, channel: str) -> str:
    if channel == "email":
        return recipient.email.strip() if valid_email(recipient.email) else ""
    if channel == "sms":
        return normalise_mobile(recipient.mobile) or ""
    return ""


MISSING = {"email": "无电子邮箱（未登记或格式不正确）", "sms": "无手机号码（未登记或格式不正确）"}


def queue_deliveries(*, session: Session, notification: Notification, people: Iterable[Recipient],
                     channels: Sequence[str], at: datetime) -> list[str]:
    """One delivery per person and channel they chose among `channels` (those the installation runs): queued
    with their address, or failed at once without one. Returns the ids of the queued ones, new or not."""
    queued = []
    for person in people:
        for channel in channels:
            if person.known and channel not in person.notify_by:
                continue
            id_ = delivery_id(notification.id, person.type, person.id, channel)
            row = session.get(Delivery, id_)
            if row is None:
                address = address_of(person, channel) if person.known else ""
                reason = None if address else ("收件人不存在" if not person.known else MISSING[channel])
                row = Delivery(id=id_, notification_id=notification.id, case_id=notification.case_id,
                               channel=channel, recipient_type=person.type, recipient_id=person.id,
                               recipient_name=person.name, address=address, status="queued" if address else "failed",
                               reason=reason, queued_at=at)
                session.add(row)
            if row.status == "queued":
                queued.append(id_)
    session.flush()
    return queued


def record_log_delivery(*, session: Session, notification: Notification, channel: str, at: datetime) -> None:
    """The notification handed to the log channel (or what the worker was given instead): sent."""
    id_ = delivery_id(notification.id, "", "", "log")
    if session.get(Delivery, id_) is None:
        session.add(Delivery(id=id_, notification_id=notification.id, case_id=notification.case_id, channel="log",
                             recipient_name=channel, status="sent", attempts=1, queued_at=at, last_attempt_at=at,
                             sent_at=at))
        session.flush()


def queued_of(*, session: Session, notification_id: str) -> list[str]:
    return list(session.exec(select(Delivery.id).where(Delivery.notification_id == notification_id,
                                                       Delivery.status == "queued").order_by(col(Delivery.id))).all())


def get_delivery(*, session: Session, delivery_id: str, lock: bool = False) -> Delivery:
    query = select(Delivery).where(Delivery.id == delivery_id)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"delivery {delivery_id!r} not found")
    return row


def claim(*, session: Session, delivery_id: str, at: datetime) -> Delivery | None:
    """Takes a queued delivery for one attempt (locked on PostgreSQL; SQLite writes one at a time): None when it
    was sent or failed already, so that a retry never sends it again."""
    row = get_delivery(session=session, delivery_id=delivery_id, lock=True)
    if row.status != "queued":
        return None
    row.attempts += 1
    row.last_attempt_at = at
    session.add(row)
    session.flush()
    return row


def mark_sent(*, session: Session, delivery_id: str, provider_id: str, at: datetime) -> None:
    row = get_delivery(session=session, delivery_id=delivery_id, lock=True)
    if row.status == "sent":
        return
    row.status, row.provider_id, row.sent_at, row.reason = "sent", provider_id[:200], at, None
    session.add(row)
    session.flush()


def mark_attempt_failed(*, session: Session, delivery_id: str, reason: str, final: bool) -> None:
    """Notes why an attempt failed; `final`: no attempt will follow (a permanent refusal, the last try)."""
    row = get_delivery(session=session, delivery_id=delivery_id, lock=True)
    if row.status != "queued":
        return
    row.reason = reason[:2000]
    if final:
        row.status = "failed"
    session.add(row)
    session.flush()


def deliveries_of(*, session: Session, notification_ids: Sequence[str]) -> dict[str, list[Delivery]]:
    """The deliveries of each notification, by channel and recipient."""
    found: dict[str, list[Delivery]] = {id_: [] for id_ in notification_ids}
    if not notification_ids:
        return found
    rows = session.exec(select(Delivery).where(col(Delivery.notification_id).in_(list(notification_ids)))
                        .order_by(col(Delivery.channel), col(Delivery.recipient_id))).all()
    for row in rows:
        found[row.notification_id].append(row)
    return found


def delivery_context(*, session: Session, delivery: Delivery) -> dict[str, Any]:
    """What a delivery's message is made of: the notification, the case's number, the committee's name."""
    notification = session.get(Notification, delivery.notification_id)
    if notification is None:
        raise NotFound(f"notification {delivery.notification_id!r} not found")
    case = session.get(Case, notification.case_id)
    committee = session.get(Committee, case.committee_id) if case is not None else None
    return {"kind": notification.kind, "message": notification.message, "due_on": notification.due_on,
            "case_number": case.number if case is not None else "", "committee": committee.name if committee else ""}


# ---------------------------------------------------------------- contacts ----------------------------
def set_contact(*, session: Session, user: User, email: str | None = None, mobile: str | None = None,
                notify_by: Sequence[str] | None = None) -> User:
    """Changes what is given (None: unchanged; "" clears a contact)."""
    if email is not None:
        user.contact_email = email
    if mobile is not None:
        user.contact_mobile = mobile
    if notify_by is not None:
        user.notify_by = list(dict.fromkeys(notify_by))
    session.add(user)
    session.flush()
    return user
