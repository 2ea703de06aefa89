"""The activities of the delivery workflow: which deliveries of a notification are queued, send one, give up.

`send` takes the delivery in a transaction of its own (`claim`: it must still be queued; its attempts counted),
then sends, then records it sent with the server's id. A retry finds it sent and sends nothing. Each attempt
ends by itself (`SEND_DEADLINE`) before Temporal would start another one beside it (the activity's
start-to-close timeout), so two attempts of one delivery never run at once. What remains: a worker that dies
after the server accepted the message and before it was recorded; the next attempt sends it again, with the same
Message-ID (docs/notifications.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db import SessionFactory, transaction
from domain.notices import UnsafeSms, compose
from models import repo_delivery
from workflows.channels import Outgoing, PermanentRefusal, Senders
from workflows.delivery_contracts import DeliveryFailure

log = logging.getLogger("mediation.delivery")

SEND_TIMEOUT = timedelta(minutes=2)  # the activity's start-to-close timeout
SEND_DEADLINE = 90.0  # seconds: an attempt gives up by itself well within SEND_TIMEOUT


def _now() -> datetime:
    return datetime.now(UTC)


class DeliveryActivities:
    def __init__(self, session_factory: SessionFactory, senders: Senders) -> None:
        self._sessions = session_factory
        self._senders = senders

    @activity.defn(name="delivery_queued")
    def queued(self, notification_id: str) -> list[str]:
        with self._sessions() as session:
            return repo_delivery.queued_of(session=session, notification_id=notification_id)

    def _claim(self, delivery_id: str) -> Outgoing | str:
        """The message of a delivery taken for an attempt; its status when it is no longer queued."""
        with transaction(self._sessions) as session:
            row = repo_delivery.claim(session=session, delivery_id=delivery_id, at=_now())
            if row is None:
                return repo_delivery.get_delivery(session=session, delivery_id=delivery_id).status
            context = repo_delivery.delivery_context(session=session, delivery=row)
            outgoing = (row.id, row.channel, row.address, row.recipient_name)
        notice = compose(kind=context["kind"], case_number=context["case_number"], committee=context["committee"],
                         message=context["message"], recipient_name=outgoing[3], due_on=context["due_on"])
        return Outgoing(delivery_id=outgoing[0], channel=outgoing[1], address=outgoing[2],
                        recipient_name=outgoing[3], notice=notice)

    def _failed(self, delivery_id: str, reason: str, *, final: bool) -> None:
        with transaction(self._sessions) as session:
            repo_delivery.mark_attempt_failed(session=session, delivery_id=delivery_id, reason=reason, final=final)

    def _sent(self, delivery_id: str, provider_id: str) -> None:
        with transaction(self._sessions) as session:
            repo_delivery.mark_sent(session=session, delivery_id=delivery_id, provider_id=provider_id, at=_now())

    async def _refuse(self, delivery_id: str, reason: str) -> ApplicationError:
        await asyncio.to_thread(self._failed, delivery_id, reason, final=True)
        log.warning("delivery %s refused for good: %s", delivery_id, reason)
        return ApplicationError(reason, type="PermanentRefusal", non_retryable=True)

    @activity.defn(name="delivery_send")
    async def send(self, delivery_id: str) -> str:
        """Sends one queued delivery; "sent", or the status an earlier attempt left it in (sent, failed)."""
        try:
            outgoing = await asyncio.to_thread(self._claim, delivery_id)
        except UnsafeSms as unsafe:  # Reg 42: an SMS never carries a personal number
            raise await self._refuse(delivery_id, str(unsafe)) from unsafe
        if isinstance(outgoing, str):
            return outgoing
        sender = self._senders.by_channel.get(outgoing.channel)
        if sender is None:
            raise await self._refuse(delivery_id, f"the {outgoing.channel} channel is not configured")
        try:
            async with asyncio.timeout(SEND_DEADLINE):
                provider_id = await sender.send(outgoing)
        except PermanentRefusal as refused:
            raise await self._refuse(delivery_id, str(refused)) from refused
        except Exception as error:  # noqa: BLE001 - any other failure is worth another attempt
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            await asyncio.to_thread(self._failed, delivery_id, reason, final=False)
            log.warning("delivery %s attempt %d failed: %s", delivery_id, activity.info().attempt, reason)
            raise ApplicationError(reason, type="DeliveryFailed") from error
        await asyncio.to_thread(self._sent, delivery_id, provider_id)
        log.info("delivery %s sent by %s (%s)", delivery_id, outgoing.channel, provider_id)
        return "sent"

    @activity.defn(name="delivery_give_up")
    def give_up(self, failure: DeliveryFailure) -> None:
        """The last attempt failed: the delivery is failed, with the last reason."""
        self._failed(failure.delivery_id, failure.reason, final=True)

    def all(self) -> list[Callable]:
        return [self.queued, self.send, self.give_up]
