"""Activities of the dispute workflow that write the case's record: the registration, each transition with the
projection it implies and the documents it issues (pending), the clocks, the notifications' outbox. The workflow
runs the writes of an action as local activities, in the same workflow task as the Update. Documents are made
elsewhere (workflows/document_activities.py).

Each one is idempotent: a retried activity finds what it wrote before and writes nothing twice.
They are synchronous (database); the worker runs them in a thread pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from temporalio import activity
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from core.db import SessionFactory, transaction
from models import repo, repo_delivery, repo_documents
from models.tables import Notification
from workflows.channels import Senders
from workflows.contracts import (
    CALENDAR_CHANGED,
    ClockProjection,
    NotificationRecord,
    RegistrationRecord,
    TransitionRecord,
)
from workflows.delivery_contracts import DELIVERY_WORKFLOW, DeliveryRequest, delivery_workflow_id

log = logging.getLogger("mediation.notifications")
calendar_log = logging.getLogger("mediation.calendar")


def _warn_if_newly_provisional(case_id: str, was_provisional: bool, clock: dict | None) -> None:
    """Unknown years are never refused and never silently trusted: a case whose deadlines become provisional is
    logged for the admins (who load the year's table, after which the deadlines are recomputed)."""
    if clock and clock.get("provisional") and not was_provisional:
        years = sorted({d["due_on"][:4] for d in clock.get("deadlines", []) if d.get("provisional")})
        calendar_log.warning("case %s: provisional deadline (working-day calendar unknown for %s), counted "
                             "Monday to Friday without the statutory holidays until the year's table is loaded", case_id,
                             ", ".join(years))


class Channel(Protocol):
    """How a notification reaches people (SMS, e-mail, the committee's messaging); pluggable."""

    name: str

    def deliver(self, record: NotificationRecord) -> None: ...


class LogChannel:
    """The channel of the embedded stack: the log."""

    name = "log"

    def deliver(self, record: NotificationRecord) -> None:
        log.warning("notification %s to %s: %s (case %s)", record.kind, record.recipient_role, record.message,
                    record.case_id)


class DisputeActivities:
    """`channel` delivers the notifications (the log when None); `senders` are the channels that reach people
    (e-mail, SMS: workflows/channels), by the delivery workflow (workflows/delivery.py)."""

    def __init__(self, session_factory: SessionFactory, channel: Channel | None = None,
                 senders: Senders | None = None) -> None:
        self._sessions = session_factory
        self._channel = channel or LogChannel()
        self._senders = senders or Senders()
        # the stored year tables as last read, by what names their version ((year, loaded at) of each): a case's
        # action reads only that, not every table, unless a year was loaded since
        self._calendar = repo.StoredCalendarCache()

    @activity.defn
    def persist_registration(self, record: RegistrationRecord) -> str:
        """Writes the case row and its first transition; returns the committee's number for the case."""
        with transaction(self._sessions) as session:
            case = repo.create_case(
                session=session,
                case_id=record.case_id,
                registration=record.registration,
                at=record.at,
                actor=record.actor.as_dict(),
                clock=record.clock,
            )
            number = case.number
        _warn_if_newly_provisional(record.case_id, False, record.clock)
        return number

    @activity.defn
    def persist_transition(self, record: TransitionRecord) -> bool:
        """Writes one transition and the projection it implies; False when it was already written. Refused,
        writing nothing, when the act was decided on a calendar (`record.calendar`) that is no longer the stored
        one: the workflow learns the stored tables from the error and decides the act again."""
        with transaction(self._sessions) as session:
            if record.calendar:
                stored = self._calendar.current(session=session)
                if stored.digest != record.calendar:
                    raise ApplicationError("a calendar year was loaded since the act was decided",
                                           stored.tables, type=CALENDAR_CHANGED, non_retryable=True)
            was_provisional = repo.get_case(session=session, case_id=record.case_id).due_provisional
            written = repo.record_transition(
                session=session,
                case_id=record.case_id,
                seq=record.seq,
                event=record.event,
                from_status=record.from_status,
                to_status=record.to_status,
                actor=record.actor.as_dict(),
                at=record.at,
                payload=record.payload,
                request_id=record.request_id,
                clock=record.clock,
                idempotency_key=record.idempotency_key,
                request_digest=record.request_digest,
            )
            repo_documents.add_jobs(session=session, case_id=record.case_id, source_seq=record.seq, at=record.at,
                                    orders=[(d.id, d.kind, d.lang) for d in record.documents])
        if written:
            _warn_if_newly_provisional(record.case_id, was_provisional, record.clock)
        return written

    @activity.defn
    def record_clock(self, projection: ClockProjection) -> None:
        """Writes the clocks' projection: after a timer fired, or after a calendar year was loaded."""
        with transaction(self._sessions) as session:
            was_provisional = repo.get_case(session=session, case_id=projection.case_id).due_provisional
            repo.record_clock(session=session, case_id=projection.case_id, clock=projection.clock)
        _warn_if_newly_provisional(projection.case_id, was_provisional, projection.clock)

    def _outbox(self, record: NotificationRecord) -> tuple[bool, list[str]]:
        """The notification in the outbox (once), and its deliveries to people: queued, or failed at once for
        want of an address. Returns whether it was new, and the ids of the deliveries still queued."""
        with transaction(self._sessions) as session:
            added = repo.add_notification(
                session=session,
                notification_id=record.id,
                case_id=record.case_id,
                kind=record.kind,
                recipient_role=record.recipient_role,
                recipients=record.recipients,
                message=record.message,
                at=record.at,
                channel=self._channel.name,
                due_on=date.fromisoformat(record.due_on) if record.due_on else None,
            )
            if not self._senders.channels:
                return added, []
            notification = session.get(Notification, record.id)
            assert notification is not None
            people = repo_delivery.recipients(session=session, case_id=record.case_id, role=record.recipient_role,
                                              named=record.recipients)
            queued = repo_delivery.queue_deliveries(session=session, notification=notification, people=people,
                                                    channels=self._senders.channels, at=record.at)
        return added, queued

    def _to_the_log(self, record: NotificationRecord) -> None:
        with transaction(self._sessions) as session:  # at least once: a retry delivers what was not
            if repo.mark_delivered(session=session, notification_id=record.id, at=record.at):
                self._channel.deliver(record)
                notification = session.get(Notification, record.id)
                assert notification is not None
                repo_delivery.record_log_delivery(session=session, notification=notification,
                                                  channel=self._channel.name, at=record.at)

    @activity.defn
    async def notify(self, record: NotificationRecord) -> bool:
        """Puts a notification in the outbox (once), hands it to the log channel, and starts its delivery to
        people (`delivery-<notification id>`, once: a second start is refused) when any is queued."""
        added, queued = await asyncio.to_thread(self._outbox, record)
        await asyncio.to_thread(self._to_the_log, record)
        if queued:
            try:
                await activity.client().start_workflow(
                    DELIVERY_WORKFLOW,
                    DeliveryRequest(notification_id=record.id, case_id=record.case_id,
                                    max_attempts=self._senders.max_attempts,
                                    first_retry_seconds=self._senders.first_retry_seconds),
                    id=delivery_workflow_id(record.id),
                    task_queue=activity.info().task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                pass  # a retry of this activity: the deliveries are on their way
        return added

    @activity.defn
    def calendar_if_changed(self, known: str) -> dict[str, Any] | None:
        """The loaded year tables, when they are not the ones whose digest the workflow knows (a year loaded since
        that did not move this case's next timer, so its workflow was not told); None when they are."""
        with self._sessions() as session:
            stored = self._calendar.current(session=session)
        return None if stored.digest == known else stored.tables

    def all(self) -> list[Callable]:
        return [self.persist_registration, self.persist_transition, self.record_clock, self.notify,
                self.calendar_if_changed]
