"""The worker: runs DisputeWorkflow, its ExpertPanelWorkflow children and their activities on the task queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.db import SessionFactory
from core.logging import CONTEXT_SOURCES
from workflows.activities import Channel, DisputeActivities
from workflows.dispute import DisputeWorkflow
from workflows.panel import ExpertPanelWorkflow
from workflows.panel_activities import PanelActivities

if TYPE_CHECKING:
    from documents.seal import Sealer

WORKFLOWS = [DisputeWorkflow, ExpertPanelWorkflow]
# The lunar calendar library that derives an unknown year's statutory holidays (models/holidays.py) imports its
# parts lazily, inside its functions: it is pure and deterministic, so the sandbox passes it through as it is.
RESTRICTIONS = SandboxRestrictions.default.with_passthrough_modules("lunar_python")
RUNNER = SandboxedWorkflowRunner(restrictions=RESTRICTIONS)


def case_of_activity() -> dict[str, str]:
    """The case an activity works for, from its workflow's id (dispute-<case>, panel-<case>-p<n>): the log
    context of the worker's lines (core/logging.py)."""
    if not activity.in_activity():
        return {}
    workflow_id = activity.info().workflow_id or ""
    if workflow_id.startswith("dispute-"):
        return {"case_id": workflow_id.removeprefix("dispute-")}
    if workflow_id.startswith("panel-"):
        return {"case_id": workflow_id.removeprefix("panel-").rsplit("-p", 1)[0]}
    return {}


if case_of_activity not in CONTEXT_SOURCES:
    CONTEXT_SOURCES.append(case_of_activity)


def build_worker(
    client: Client,
    *,
    task_queue: str,
    session_factory: SessionFactory,
    executor: ThreadPoolExecutor | None = None,
    channel: Channel | None = None,
    max_cached_workflows: int = 1000,
    sealer: Sealer | None = None,
) -> Worker:
    """`channel` delivers the notifications of the outbox (SMS, e-mail...); the default writes them to the log.
    `sealer` seals every generated document with the committee's certificate (None: stored unsealed).
    `max_cached_workflows`: cases kept in memory (about 0.2 MB each); a case not cached is replayed from its
    history when it wakes, which is what makes loading a calendar year for many open cases slow (bench/)."""
    activities = [*DisputeActivities(session_factory, channel=channel, sealer=sealer).all(),
                  *PanelActivities(session_factory).all()]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=RUNNER,
        activities=activities,
        activity_executor=executor or ThreadPoolExecutor(max_workers=8),
        max_cached_workflows=max_cached_workflows,
    )
