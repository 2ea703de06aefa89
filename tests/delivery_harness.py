"""What the delivery tests share: a case registered through the API, accounts with their contacts, the cases'
worker built with the channels under test (a real SMTP server, a local fake of the SMS provider), and a small
workflow that runs the real `notify` activity on that worker's queue, as the dispute and panel workflows do.

The notifications themselves come from the clocks and the panels (tests/workflows/test_clocks.py); here one is
issued directly, so that a test controls who receives it and when.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from core.db import SessionFactory, transaction
from core.security import hash_password
from models import repo_delivery, repo_users
from models.tables import Case, Delivery
from tests.factories import registration
from workflows.channels import Senders
from workflows.contracts import NotificationRecord
from workflows.delivery_contracts import DeliveryOutcome, delivery_workflow_id
from workflows.worker import build_worker


@dataclass
class Notify:
    record: NotificationRecord
    task_queue: str


@workflow.defn(name="NotifyForTest")
class NotifyForTest:
    """Runs the cases' worker's `notify` activity once, on that worker's task queue."""

    @workflow.run
    async def run(self, order: Notify) -> bool:
        return await workflow.execute_activity(
            "notify", order.record, result_type=bool, task_queue=order.task_queue,
            start_to_close_timeout=timedelta(seconds=60))


@dataclass
class Desk:
    client: Client
    sessions: SessionFactory
    task_queue: str  # the cases' worker with the channels under test
    harness_queue: str

    async def notify(self, case_id: str, *, recipients: list[str], role: str = "mediator",
                     kind: str = "deadline_warning", message: str = "调解期限将于2026年12月31日届满，请及时处理",
                     key: str | None = None) -> NotificationRecord:
        """Issues a notification through the real `notify` activity; returns it once the activity finished."""
        record = NotificationRecord(
            id=f"{case_id}:{key or uuid.uuid4().hex[:8]}", case_id=case_id, kind=kind, recipient_role=role,
            recipients=recipients, message=message, at=datetime.now(UTC), due_on=date(2026, 12, 31).isoformat())
        await self.client.execute_workflow(NotifyForTest.run, Notify(record, self.task_queue),
                                           id=f"notify-test-{uuid.uuid4().hex}", task_queue=self.harness_queue)
        return record

    async def delivered(self, record: NotificationRecord) -> DeliveryOutcome:
        """Waits for the notification's delivery workflow to finish; its outcome."""
        return await self.client.get_workflow_handle(delivery_workflow_id(record.id), result_type=DeliveryOutcome).result()

    def deliveries(self, record: NotificationRecord, channel: str | None = None) -> list[Delivery]:
        with self.sessions() as session:
            rows = session.exec(select(Delivery).where(Delivery.notification_id == record.id)).all()
        return [row for row in rows if channel is None or row.channel == channel]

    def account(self, case_id: str, role: str = "mediator", *, email: str = "", mobile: str = "",
                notify_by: tuple[str, ...] = ("email", "sms"), full_name: str = "陈调解员") -> str:
        """An account of the case's committee with these contacts; its username."""
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        with transaction(self.sessions) as session:
            committee = session.get(Case, case_id).committee_id  # type: ignore[union-attr]
            user = repo_users.create_user(session=session, username=username, full_name=full_name, role=role,
                                          password_hash=hash_password("a long password 1"), committee_id=committee)
            repo_delivery.set_contact(session=session, user=user, email=email, mobile=mobile, notify_by=notify_by)
        return username


async def register(api: httpx.AsyncClient, **changes: Any) -> str:
    response = await api.post("/cases", json=registration(application_type="joint", applicant_side=None, **changes))
    assert response.status_code == 201, response.text
    return response.json()["id"]


@asynccontextmanager
async def delivery_desk(client: Client, sessions: SessionFactory, senders: Senders) -> AsyncIterator[Desk]:
    """A cases' worker with `senders` on a queue of its own, and the harness's worker."""
    task_queue, harness_queue = f"delivery-{uuid.uuid4().hex[:10]}", f"notify-{uuid.uuid4().hex[:10]}"
    harness = Worker(client, task_queue=harness_queue, workflows=[NotifyForTest],
                     workflow_runner=UnsandboxedWorkflowRunner())
    async with build_worker(client, task_queue=task_queue, session_factory=sessions, senders=senders,
                            documents="apart"), harness:
        yield Desk(client, sessions, task_queue, harness_queue)


async def settles(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Polls `check` until it holds; fails the test after `seconds` (a bound, not a timed assertion)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)
