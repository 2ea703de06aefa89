"""DeliveryWorkflow: one per notification (`delivery-<notification id>`), started by the `notify` activity when
the notification has deliveries queued by e-mail or SMS. Each delivery is one `send` activity, retried with
backoff (the first retry after `first_retry_seconds`, then doubling, at most an hour apart, `max_attempts` tries
in all); a permanent refusal is not retried. A delivery that runs out of attempts is recorded failed with the
last reason. The deliveries of a notification go out side by side.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.delivery_activities import SEND_TIMEOUT, DeliveryActivities
    from workflows.delivery_contracts import (
        DELIVERY_WORKFLOW,
        DeliveryFailure,
        DeliveryOutcome,
        DeliveryRequest,
    )

DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))


@workflow.defn(name=DELIVERY_WORKFLOW)
class DeliveryWorkflow:
    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryOutcome:
        queued: list[str] = await workflow.execute_activity_method(
            DeliveryActivities.queued, request.notification_id, start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY)
        results = await asyncio.gather(*(self._deliver(request, delivery_id) for delivery_id in queued))
        return DeliveryOutcome(notification_id=request.notification_id, sent=sum(results),
                               failed=len(results) - sum(results))

    async def _deliver(self, request: DeliveryRequest, delivery_id: str) -> bool:
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=request.first_retry_seconds), backoff_coefficient=2.0,
            maximum_interval=timedelta(hours=1), maximum_attempts=max(1, request.max_attempts),
            non_retryable_error_types=["PermanentRefusal"],
        )
        try:
            status = await workflow.execute_activity_method(DeliveryActivities.send, delivery_id,
                                                            start_to_close_timeout=SEND_TIMEOUT, retry_policy=retry)
            return status == "sent"
        except ActivityError as failed:
            reason = str(failed.cause or failed)
            await workflow.execute_activity_method(
                DeliveryActivities.give_up, DeliveryFailure(delivery_id=delivery_id, reason=reason),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            return False
