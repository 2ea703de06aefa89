"""The worker: runs DisputeWorkflow and its activities on the task queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from core.db import SessionFactory
from workflows.activities import DisputeActivities
from workflows.dispute import DisputeWorkflow

WORKFLOWS = [DisputeWorkflow]


def build_worker(
    client: Client, *, task_queue: str, session_factory: SessionFactory, executor: ThreadPoolExecutor | None = None
) -> Worker:
    activities = DisputeActivities(session_factory)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities.all(),
        activity_executor=executor or ThreadPoolExecutor(max_workers=8),
    )
