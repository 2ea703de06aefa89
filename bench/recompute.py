"""Recomputing the deadlines of N open cases after a calendar year is loaded (the legal-clocks issue: "time to
recompute the deadlines of 10,000 open cases after a calendar year is loaded"). Prints one JSON line of
figures, then a human table.

    python -m bench.recompute               (10,000 cases; try --cases 200 first)

1. The pure computation (models/clock.py, models/deadlines.py): the due date and the full `timers(...)` list
   of N mediation clocks accepted on different days of November and December 2026, so that most periods
   reach 2027, a year chinesecalendar does not know; first with 2027 unknown (counted Monday to Friday,
   provisional), then with a loaded 2027 `YearTable`. Also what each workflow computes on the signal, done N
   times the way the workflow does it (parse the table, a new calendar, the projection, the pending timers).
2. The real path: N open cases, each a running DisputeWorkflow in `in_mediation` (registered with
   update-with-start as api/services/cases.py `register` does, then the Updates `submit_for_review` and
   `accept` of a joint application), on a Temporal dev server started here from the installed binary, and a
   temporary SQLite database. Then the year is loaded as the product loads it (`api.services.calendar.load`:
   store the table, signal `calendar_loaded` to every open case) and two times are taken from the start of
   the load: until every workflow was signalled (`fanout_s`), and until every case row shows a recomputed
   due date that is no longer provisional (`recompute_all_s`; the database is polled every `--poll` s).
   Every row's due date is then checked against the pure computation with the same table, and a sample of
   rows' whole deadline lists; any difference fails the run (exit code 1).

Creating the cases is not part of the figure (`create_cases_s` is printed for information). Documents are not
what this measures either: to make creating 10,000 cases affordable, the worker renders with a stub that
returns a small fixed PDF-like byte string instead of WeasyPrint ("renderer": "stub" in the JSON); the rest of
the activities (context, numbering, storing the document) runs as in the product. The worker is otherwise the
product's (workflows/worker.py `build_worker`: 8 activity threads, the SDK's default slots and its cache of
1000 workflows), built here to pass the stub renderer and to count the workflow instances it builds (the
SDK's default sandbox runner, counting); the flags change it for experiments. It runs in this process next to
the client that signals, as in the embedded stack (`mediation run`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    MetricBuffer,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from api.services import calendar as calendar_service
from cli import _temporal_binary, init_db
from core.db import engine_of, session_factory
from core.settings import Settings
from models import repo
from models.clock import PACKAGE_YEARS, MediationClock, WorkingDayCalendar, YearTable
from models.deadlines import CaseClocks, timers
from models.policy import ClockPolicy
from models.schemas import CaseCreate
from models.tables import Case
from tests.factories import registration
from workflows.activities import DisputeActivities
from workflows.contracts import Actor, OpenDispute, StaffAction, workflow_id
from workflows.dispute import DisputeWorkflow
from workflows.worker import RESTRICTIONS

# A SAMPLE table for 2027, not the official one (the State Council publishes 2027's schedule late in 2026;
# this bench does not assume it): New Year's Day, a Spring Festival week and two make-up weekend days.
SPRING_FESTIVAL = [date(2027, 2, d) for d in range(6, 13)]
TABLE_2027 = YearTable(
    year=2027,
    holidays=frozenset([date(2027, 1, 1), *SPRING_FESTIVAL]),
    workdays=frozenset([date(2027, 2, 14), date(2027, 2, 20)]),
    names=(
        (date(2027, 1, 1), "元旦"),
        *((d, "春节") for d in SPRING_FESTIVAL),
        (date(2027, 2, 14), "春节调休"),
        (date(2027, 2, 20), "春节调休"),
    ),
)
FIRST_ACCEPTANCE, ACCEPTANCE_DAYS = date(2026, 11, 1), 61  # pure clocks: accepted 2026-11-01 .. 2026-12-31
STAFF = Actor(id="bench", name="赵主任", role="director")
ADMIN = Actor(id="bench-admin", name="bench", role="admin")
STUB_PDF = b"%PDF-1.7\n% mediation bench: a stub, not a rendered document\ntrailer <<>>\n%%EOF\n"
SAMPLE_DEADLINE_LISTS = 500  # rows whose whole deadline list is checked (every row's due date is)


class BenchFailure(Exception):
    """The product did not do what the bench checks: the figures would mean nothing."""


def stub_renderer(kind: str, context: Any, lang: str = "zh") -> bytes:
    return STUB_PDF


def log(message: str) -> None:
    print(f"[recompute {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ 1. the pure computation -------------
def mediation_clocks(n: int, policy: ClockPolicy) -> list[MediationClock]:
    first, days = FIRST_ACCEPTANCE, ACCEPTANCE_DAYS
    return [MediationClock(policy.mediation_wd).start(first + timedelta(days=i % days)) for i in range(n)]


def case_clocks(clock: MediationClock) -> CaseClocks:
    assert clock.accepted_on is not None
    return CaseClocks(status="in_mediation", entered_on=clock.accepted_on, mediation=clock)


def compute(clocks: list[MediationClock], calendar: WorkingDayCalendar, policy: ClockPolicy) -> list[tuple]:
    """The due date and every timer of each clock, as the workflow's projection derives them."""
    return [(clock.due_date(calendar), timers(case_clocks(clock), calendar=calendar, policy=policy))
            for clock in clocks]


def as_each_workflow(clocks: list[MediationClock], table: dict[str, Any], policy: ClockPolicy) -> None:
    """What DisputeWorkflow computes on `calendar_loaded` and the wake-up after it, per case: parse the
    table, a new calendar (its 2027 index built again), the projection (due date and timers), the pending
    timers."""
    for clock in clocks:
        calendar = WorkingDayCalendar().with_table(YearTable.from_dict(table))
        clock.due_date(calendar)
        [t.to_dict() for t in timers(case_clocks(clock), calendar=calendar, policy=policy)]
        timers(case_clocks(clock), calendar=calendar, policy=policy)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def provisional(results: list[tuple]) -> int:
    return sum(1 for due, every in results if due.provisional or any(t.provisional for t in every))


def pure(n: int) -> dict[str, Any]:
    policy = ClockPolicy()
    clocks = mediation_clocks(n, policy)
    compute(clocks[:1], WorkingDayCalendar({2027: TABLE_2027}), policy)  # warm the package's 2026 index
    compute(clocks[:1], WorkingDayCalendar(), policy)  # and the Monday-to-Friday 2027 index
    without_ms, without = timed(lambda: compute(clocks, WorkingDayCalendar(), policy))
    with_ms, with_table = timed(lambda: compute(clocks, WorkingDayCalendar({2027: TABLE_2027}), policy))
    workflow_ms, _ = timed(lambda: as_each_workflow(clocks, TABLE_2027.to_dict(), policy))
    if provisional(with_table):
        raise BenchFailure(f"{provisional(with_table)} clocks are still provisional with 2027 loaded")
    return {
        "pure_without_table_ms": round(without_ms, 1),
        "pure_with_table_ms": round(with_ms, 1),
        "pure_us_per_case": round(with_ms * 1000 / n, 1),
        "pure_as_each_workflow_us_per_case": round(workflow_ms * 1000 / n, 1),
        "pure_provisional_before": provisional(without),
        "pure_due_dates_moved": sum(1 for (a, _), (b, _) in zip(without, with_table, strict=True)
                                    if a.date != b.date),
    }


# ------------------------------------------------------------------ 2. the real path --------------------
@dataclass
class Metrics:
    """The worker's own counters (Temporal core metrics, from a buffer), summed since the last `reset`."""

    buffer: MetricBuffer
    counts: Counter[str] = field(default_factory=Counter)

    def drain(self) -> None:
        for update in self.buffer.retrieve_updates():
            name = update.metric.name.removeprefix("temporal_")
            if name in ("workflow_task_execution_failed", "activity_execution_failed"):
                self.counts[name] += int(update.value)
            elif name == "activity_execution_latency":  # a histogram: one update per activity run
                self.counts["activity:" + str(update.attributes.get("activity_type"))] += 1
            elif name == "workflow_task_execution_latency":  # one update per workflow task completed
                self.counts["workflow_tasks"] += 1

    def reset(self) -> None:
        self.drain()
        self.counts.clear()

    async def keep_draining(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.drain()


@dataclass
class Instances:
    """Workflow instances the worker built: a run not in its cache is built again and its history replayed."""

    created: int = 0
    seconds: float = 0.0


INSTANCES = Instances()


@dataclass(frozen=True)
class CountingRunner(SandboxedWorkflowRunner):
    """The worker's runner (the sandbox, with the worker's restrictions), counting the instances it builds."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        start = time.perf_counter()
        instance = super().create_instance(det)
        INSTANCES.created += 1
        INSTANCES.seconds += time.perf_counter() - start
        return instance


class CoreLog(logging.Handler):
    """The SDK core's warnings, forwarded from Rust: counted, the first few shown on stderr (left to the core
    they would go to stdout, which holds the figures)."""

    SHOWN = 3

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.counts["slow_workflow_tasks" if "Workflow task duration exceeded" in message else "other"] += 1
        if sum(self.counts.values()) <= self.SHOWN:
            log(f"SDK core {record.levelname}: {message[:300]}")


def provisional_count(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Case).where(col(Case.due_provisional).is_(True))
        return int(session.exec(query).one())


async def create_cases(client: Client, task_queue: str, n: int, concurrency: int, policy: dict[str, Any],
                       calendar: dict[str, Any]) -> list[str]:
    """N joint applications carried to `in_mediation`, `concurrency` at a time."""
    body = CaseCreate.model_validate(registration(application_type="joint", applicant_side=None))
    reg = body.model_dump(mode="json")
    limit = asyncio.Semaphore(concurrency)
    created: list[str] = []

    async def one() -> None:
        async with limit:
            case_id = uuid.uuid4().hex
            start = WithStartWorkflowOperation(
                DisputeWorkflow.run,
                OpenDispute(case_id=case_id, registration=reg, actor=STAFF, policy=policy, calendar=calendar),
                id=workflow_id(case_id),
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            await client.execute_update_with_start_workflow(
                DisputeWorkflow.snapshot, start_workflow_operation=start)
            handle = client.get_workflow_handle(workflow_id(case_id))
            await handle.execute_update(
                DisputeWorkflow.apply_event, StaffAction("submit_for_review", {}, STAFF))
            result = await handle.execute_update(
                DisputeWorkflow.apply_event, StaffAction("accept", {"mediators": ["陈调解员"]}, STAFF))
            if result.status != "in_mediation":
                raise BenchFailure(f"case {case_id} is {result.status} after accept")
            created.append(case_id)
            if len(created) % 1000 == 0:
                log(f"{len(created)}/{n} cases in mediation")

    await asyncio.gather(*(one() for _ in range(n)))
    return created


def check_rows(engine: Engine, case_ids: list[str], policy: ClockPolicy) -> dict[str, Any]:
    """Every row's due date against the pure computation with the same table; a sample's deadline lists."""
    calendar, unknown = WorkingDayCalendar({2027: TABLE_2027}), WorkingDayCalendar()
    wanted = set(case_ids)
    sample = set(sorted(case_ids)[:: max(1, len(case_ids) // SAMPLE_DEADLINE_LISTS)])
    wrong: list[str] = []
    moved = checked = lists = 0
    with Session(engine) as session:
        rows = session.exec(select(Case)).all()
    for case in rows:
        if case.id not in wanted:
            continue
        checked += 1
        clock = MediationClock.from_dict(case.clock)
        due = clock.due_date(calendar)
        if case.status != "in_mediation" or due is None or case.due_date != due.date or case.due_provisional:
            wrong.append(f"{case.id}: {case.status}, row due {case.due_date} "
                         f"provisional={case.due_provisional}, expected {due}")
            continue
        before = clock.due_date(unknown)
        moved += before is not None and due.date != before.date
        if case.id in sample:
            lists += 1
            expected = [t.to_dict() for t in timers(case_clocks(clock), calendar=calendar, policy=policy)]
            if case.deadlines != expected:
                wrong.append(f"{case.id}: deadlines {case.deadlines} != expected {expected}")
    if checked != len(case_ids):
        wrong.append(f"{len(case_ids) - checked} case rows are missing")
    if wrong:
        raise BenchFailure(f"{len(wrong)} case rows differ from the pure computation, e.g.:\n  "
                           + "\n  ".join(wrong[:5]))
    return {"checked_rows": checked, "checked_deadline_lists": lists, "due_dates_moved": moved}


async def start_dev_server(runtime: Runtime) -> WorkflowEnvironment:
    """The dev server from the installed binary on a free port, in memory (as bench/round_trip.py). It prints
    a banner on its standard output: sent to stderr here, so that stdout holds the figures alone."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        return await WorkflowEnvironment.start_local(dev_server_existing_path=_temporal_binary(),
                                                     runtime=runtime)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


async def real_path(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="mediation-recompute-"))
    settings = Settings(data_dir=data_dir, task_queue=f"bench-recompute-{uuid.uuid4().hex[:8]}")
    metrics = Metrics(MetricBuffer(500_000))
    core_log = CoreLog()
    core_logger = logging.getLogger("temporalio.core")
    core_logger.addHandler(core_log)
    core_logger.propagate = False
    runtime = Runtime(telemetry=TelemetryConfig(
        logging=LoggingConfig(filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                              forwarding=LogForwardingConfig(logger=core_logger)),
        metrics=metrics.buffer,
    ))
    env: WorkflowEnvironment | None = None
    engine: Engine | None = None
    figures: dict[str, Any] = {}
    try:
        init_db(settings)
        engine = engine_of(settings)
        sessions = session_factory(engine)
        with sessions() as session:  # what `register` puts in the workflow's input
            committee = repo.get_committee(session=session, committee_id="huangpu")
            policy = ClockPolicy.from_dict(committee.policy)
            calendar = repo.working_day_calendar(session=session)
        if 2027 in calendar.tables or 2027 in PACKAGE_YEARS:
            raise BenchFailure("2027 is already known: this bench loads 2027 as a year nobody knew")
        env = await start_dev_server(runtime)
        log(f"Temporal dev server at {env.client.service_client.config.target_host}, database in {data_dir}")
        worker = Worker(
            env.client,
            task_queue=settings.task_queue,
            workflows=[DisputeWorkflow],
            activities=DisputeActivities(sessions, renderer=stub_renderer).all(),
            activity_executor=ThreadPoolExecutor(args.activity_threads),
            workflow_runner=CountingRunner(restrictions=RESTRICTIONS),
            max_cached_workflows=args.cache,
            max_concurrent_workflow_tasks=args.workflow_tasks,
            max_concurrent_activities=args.activities,
        )
        drainer = asyncio.create_task(metrics.keep_draining())
        async with worker:
            start = time.perf_counter()
            case_ids = await create_cases(env.client, settings.task_queue, args.cases, args.concurrency,
                                          policy.to_dict(), calendar.to_dict())
            figures["create_cases_s"] = round(time.perf_counter() - start, 1)
            before = provisional_count(engine)
            log(f"{len(case_ids)} cases created in {figures['create_cases_s']} s; {before} provisional")
            if before != args.cases:
                raise BenchFailure(f"{before} of {args.cases} cases are provisional before the load: the "
                                   "due dates of cases accepted today must reach 2027 for this bench")
            await asyncio.sleep(1)  # the last workflow tasks (timers armed after accept) settle
            metrics.reset()
            core_log.counts.clear()
            INSTANCES.created, INSTANCES.seconds = 0, 0.0

            done = asyncio.Event()
            progress: dict[str, float] = {}

            async def poll(start: float) -> None:
                while True:
                    left = await asyncio.to_thread(provisional_count, engine)
                    now = time.perf_counter() - start
                    if left <= args.cases // 2 and "half" not in progress:
                        progress["half"] = now
                    if left == 0:
                        progress["all"] = now
                        done.set()
                        return
                    await asyncio.sleep(args.poll)

            with sessions() as session:
                start = time.perf_counter()
                poller = asyncio.create_task(poll(start))
                report = await calendar_service.load(session=session, client=env.client, table=TABLE_2027,
                                                      actor=ADMIN)
                fanout_s = time.perf_counter() - start
            log(f"told {report.signalled} of {report.open_cases} open cases in {fanout_s:.2f} s")
            if report.signalled != args.cases or report.failed or report.not_running:
                poller.cancel()
                raise BenchFailure(f"the fan-out did not tell every case: open {report.open_cases}, "
                                   f"signalled {report.signalled}, not running {report.not_running}, "
                                   f"failed {len(report.failed)}")
            try:
                await asyncio.wait_for(done.wait(), timeout=args.timeout)
            except asyncio.TimeoutError:
                poller.cancel()
                left = provisional_count(engine)
                raise BenchFailure(f"{left} of {args.cases} cases still provisional {args.timeout} s after "
                                   "the load") from None
            log(f"every row recomputed {progress['all']:.2f} s after the load began")
            await asyncio.sleep(1)  # whatever the workflows still do after the last row was written
            metrics.drain()
            counts = dict(metrics.counts)
            replays, replay_setup_s = INSTANCES.created, INSTANCES.seconds
            core_warnings = dict(core_log.counts)
            figures.update(check_rows(engine, case_ids, policy))
            drainer.cancel()
        figures.update({
            "fanout_s": round(fanout_s, 2),
            "recompute_half_s": round(progress["half"], 2),
            "recompute_all_s": round(progress["all"], 2),
            "cases_per_s": round(args.cases / progress["all"], 1),
            "record_clock_activities": counts.get("activity:record_clock", 0),
            "workflow_tasks": counts.get("workflow_tasks", 0),
            "workflow_replays": replays,
            "replay_instance_setup_s": round(replay_setup_s, 1),
            "slow_workflow_tasks_over_5s": core_warnings.get("slow_workflow_tasks", 0),
            "other_core_warnings": core_warnings.get("other", 0),
            "workflow_task_failures": counts.get("workflow_task_execution_failed", 0),
            "activity_failures": counts.get("activity_execution_failed", 0),
        })
        return figures
    finally:
        if env is not None:
            await env.shutdown()
        if engine is not None:
            engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    logging.getLogger("mediation").setLevel(logging.ERROR)  # a "provisional deadline" warning per case write
    wall, load_at_start = time.perf_counter(), os.getloadavg()[0]
    figures: dict[str, Any] = {"cases": args.cases}
    figures.update(pure(args.cases))
    log(f"pure: {figures['pure_with_table_ms']} ms for {args.cases} clocks with the table")
    figures.update(await real_path(args))
    figures.update({
        "database": "sqlite",
        "cpus": os.cpu_count(),
        "renderer": "stub",
        "worker_cache": args.cache,
        "worker_workflow_tasks": args.workflow_tasks or "sdk default",
        "worker_activities": args.activities or "sdk default",
        "worker_activity_threads": args.activity_threads,
        "signal_concurrency": calendar_service.SIGNAL_CONCURRENCY,
        "create_concurrency": args.concurrency,
        "load_average_1m_at_start": round(load_at_start, 2),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "wall_s": round(time.perf_counter() - wall, 1),
    })
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=48, help="cases created at once (not timed)")
    parser.add_argument("--cache", type=int, default=1000, help="max_cached_workflows (product: 1000)")
    parser.add_argument("--workflow-tasks", type=int, default=None, help="max_concurrent_workflow_tasks")
    parser.add_argument("--activities", type=int, default=None, help="max_concurrent_activities")
    parser.add_argument("--activity-threads", type=int, default=8, help="activity thread pool (product: 8)")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between database polls")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for every row")
    args = parser.parse_args()
    try:
        figures = asyncio.run(main(args))
    except BenchFailure as err:
        print(f"FAILED: {err}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(1)  # sdk-python#300: the Temporal client can crash a short-lived script at exit
    except Exception:  # noqa: BLE001 - any other error fails the run just as loudly
        traceback.print_exc()
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)
    print(json.dumps(figures), flush=True)
    print(f"{'figure':34} value", flush=True)
    for key, value in figures.items():
        print(f"{key:34} {value}", flush=True)
    sys.stdout.flush()
    os._exit(0)  # sdk-python#300: the Temporal client can crash a short-lived script at exit
