"""The workers. The cases' worker runs DisputeWorkflow, its ExpertPanelWorkflow children and the activities that
write the case's record, on the task queue. The documents' worker renders, seals and binds documents on a queue of
its own (`documents_queue`): in processes apart from the API and the cases' worker in the embedded stack
(`mediation documents-worker`, started by `mediation run`), or inside the same process (`documents="inline"`: the
tests, `mediation worker`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.db import SessionFactory
from core.logging import CONTEXT_SOURCES
from workflows.activities import Channel, DisputeActivities
from workflows.channels import Senders, senders_from_settings
from workflows.contracts import DocumentRef, RenderRequest, documents_queue
from workflows.delivery import DeliveryWorkflow
from workflows.delivery_activities import DeliveryActivities
from workflows.dispute import DisputeWorkflow
from workflows.panel import ExpertPanelWorkflow
from workflows.panel_activities import PanelActivities

if TYPE_CHECKING:
    from documents.seal import Sealer
    from workflows.document_activities import DocumentActivities, Renderer

WORKFLOWS = [DisputeWorkflow, ExpertPanelWorkflow, DeliveryWorkflow]
# The lunar calendar library that derives an unknown year's statutory holidays (domain/holidays.py) imports its
# parts lazily, inside its functions: it is pure and deterministic, so the sandbox passes it through as it is.
RESTRICTIONS = SandboxRestrictions.default.with_passthrough_modules("lunar_python")
RUNNER = SandboxedWorkflowRunner(restrictions=RESTRICTIONS)
# WeasyPrint lays out one document at a time per process (documents/render.py): two threads let sealing and
# storing one document overlap the layout of the next.
DOCUMENT_THREADS = 2


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
    if workflow_id.startswith("delivery-"):  # delivery-<notification id>, which begins with the case's id
        return {"case_id": workflow_id.removeprefix("delivery-").split(":", 1)[0]}
    return {}


if case_of_activity not in CONTEXT_SOURCES:
    CONTEXT_SOURCES.append(case_of_activity)


def document_activities(session_factory: SessionFactory, *, sealer: Sealer | None = None,
                        renderer: Renderer | None = None) -> DocumentActivities:
    from workflows.document_activities import DocumentActivities  # the PDF stack, loaded where it is used

    if renderer is None:
        return DocumentActivities(session_factory, sealer=sealer)
    return DocumentActivities(session_factory, renderer=renderer, sealer=sealer)


class EarlierCasesDocuments:
    """Cases whose history began before documents left the action's path render on the cases' own queue: their
    recorded histories replay as they ran. Served here; the PDF stack loads on the first such document only."""

    def __init__(self, make: Callable[[], DocumentActivities]) -> None:
        self._make = make
        self._made: DocumentActivities | None = None

    def _documents(self) -> DocumentActivities:
        if self._made is None:
            self._made = self._make()
        return self._made

    @activity.defn(name="render_document")
    def render_document(self, request: RenderRequest) -> list[DocumentRef]:
        return self._documents().render_document(request)

    @activity.defn(name="bind_case_file")
    def bind_case_file(self, request: RenderRequest) -> list[DocumentRef]:
        return self._documents().bind_case_file(request)


class Workers:
    """Workers that run and stop together (`async with`, or `run()`)."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers

    async def __aenter__(self) -> Self:
        for worker in self.workers:
            await worker.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        for worker in reversed(self.workers):
            await worker.__aexit__(exc_type, exc, tb)

    async def run(self) -> None:
        await asyncio.gather(*(worker.run() for worker in self.workers))


def build_documents_worker(
    client: Client, *, task_queue: str, session_factory: SessionFactory, sealer: Sealer | None = None,
    renderer: Renderer | None = None, threads: int = DOCUMENT_THREADS,
) -> Worker:
    """The documents' worker for the cases of `task_queue` (it polls `documents_queue(task_queue)`)."""
    activities = document_activities(session_factory, sealer=sealer, renderer=renderer)
    return Worker(
        client,
        task_queue=documents_queue(task_queue),
        activities=activities.all(),
        activity_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="documents"),
        max_concurrent_activities=threads,
    )


def build_worker(
    client: Client,
    *,
    task_queue: str,
    session_factory: SessionFactory,
    executor: ThreadPoolExecutor | None = None,
    channel: Channel | None = None,
    max_cached_workflows: int = 1000,
    sealer: Sealer | None = None,
    documents: Literal["inline", "apart"] = "inline",
    renderer: Renderer | None = None,
    senders: Senders | None = None,
    **worker_options: Any,
) -> Workers:
    """`channel` delivers the notifications of the outbox (SMS, e-mail...); the default writes them to the log.
    `sealer` seals every generated document with the committee's certificate (None: stored unsealed).
    `documents`: "inline" runs a documents' worker in this process too; "apart" leaves them to
    `mediation documents-worker` processes. `max_cached_workflows`: cases kept in memory (about 0.2 MB each); a
    case not cached is replayed from its history when it wakes. `senders`: the channels that reach people
    (e-mail, SMS); by default those the settings configure (none: the log only)."""
    def make_documents() -> DocumentActivities:
        return document_activities(session_factory, sealer=sealer, renderer=renderer)

    if senders is None:
        from core.settings import get_settings

        senders = senders_from_settings(get_settings())
    activities = [*DisputeActivities(session_factory, channel=channel, senders=senders).all(),
                  *DeliveryActivities(session_factory, senders).all(),
                  *PanelActivities(session_factory).all(),
                  *earlier_cases_documents(make_documents)]
    cases = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=RUNNER,
        activities=activities,
        activity_executor=executor or ThreadPoolExecutor(max_workers=8),
        max_cached_workflows=max_cached_workflows,
        **worker_options,
    )
    workers = [cases]
    if documents == "inline":
        workers.append(build_documents_worker(client, task_queue=task_queue, session_factory=session_factory,
                                              sealer=sealer, renderer=renderer))
    return Workers(workers)


def earlier_cases_documents(make: Callable[[], DocumentActivities]) -> list[Callable[..., Any]]:
    earlier = EarlierCasesDocuments(make)
    return [earlier.render_document, earlier.bind_case_file]
