"""Recomputing the deadlines of N open cases after a calendar year is loaded (issue 15: "a loaded year recomputes
every open case's deadlines in one batch, and only the workflows whose earliest timer moved are woken"). Prints
one JSON line of figures, then a human table.

    python -m bench.recompute                       (10,000 cases through their workflows; try --cases 200 first)
    python -m bench.recompute --rows-only           (the batch alone: rows written as the workflows write them)
    python -m bench.recompute --rows-only --database-url postgresql://postgres@127.0.0.1:5432/postgres

1. The pure computation (domain/clock.py, domain/deadlines.py, domain/projection.py): the due date and the full
   `timers(...)` list of N mediation clocks accepted on different days of November and December 2026, so that most
   periods reach 2027, a year chinesecalendar does not know; first with 2027 unknown (counted Monday to Friday
   without its statutory holidays, provisional), then with a loaded 2027 `YearTable`; and what the batch computes
   a case (`pure_batch_us_per_case`: the row's JSON read, the clocks rebuilt, the projection and its columns).
2. The real path (default): N open cases, each a running DisputeWorkflow in `in_mediation` (registered with
   update-with-start as api/services/cases.py `register` does, then the Updates `submit_for_review` and `accept`
   of a joint application), on a Temporal dev server started here from the installed binary, and a temporary
   SQLite database. The cases are accepted today with mediation periods of 30 to 65 working days (their
   committee's policy, in their workflow's input), so that their deadlines spread over January and February
   2027 and the sample table moves some of them (the Spring Festival) and not others. Then the year is loaded as
   the product loads it (`api.services.calendar.load`: store the table, recompute every open case in one batch,
   tell the workflows whose next timer moved) and three times are taken from the start of the load: until `load`
   returned (`load_s`), until every case row shows a due date that is no longer provisional
   (`recompute_all_s`; the database is polled every `--poll` s), and until every workflow told had recomputed
   with the new table and written its projection again (`workflows_settled_s`, from the worker's own metrics).
   `--rows-only`: the same N cases written as rows the way their workflows write them (domain/projection.py
   `project`), no workflows (a woken case's signal finds none: `not_running`); on SQLite, or on a fresh database
   of the PostgreSQL server `--database-url` names (made and dropped here).
   Every row is then checked against the pure computation with the same table (rows-only: every row entirely;
   real path: every row's due date and a sample's whole deadline list); any difference fails the run (exit 1).

The figure before this issue (every open case's workflow told, each waking, being replayed when not cached,
recomputing and writing its row) is not measured again here, it took 586 s for 10,000 cases
(docs/benchmarks.md): it is printed as `before_recompute_all_s` for comparison. A real-path run whose rows keep no
clocks (workflows from before domain/projection.py) measures that old path, and says so (`left_to_workflows`).

Creating the cases is not part of the figure (`create_cases_s` is printed for information). Documents are not
what this measures either: to make creating 10,000 cases affordable, the documents' worker (in this process)
renders with a stub that returns a small fixed PDF-like byte string instead of WeasyPrint ("renderer": "stub" in
the JSON); the rest of the documents' activities (context, numbering, storing the document) runs as in the
product. The cases' worker is otherwise the product's (workflows/worker.py: 8 activity threads, the SDK's default
slots and its cache of 1000 workflows), built here to count the workflow instances it builds (the SDK's default
sandbox runner, counting); the flags change it for experiments. It runs in this process next to the client that
signals, as in the embedded stack (`mediation run`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
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

from api.deps import Database
from api.services import calendar as calendar_service
from cli import _temporal_binary, init_db
from core.db import SessionFactory, engine_of, session_factory, transaction
from core.settings import Settings
from domain.clock import PACKAGE_YEARS, MediationClock, WorkingDayCalendar, YearTable
from domain.deadlines import CaseClocks, timers
from domain.payloads import CaseCreate
from domain.policy import ClockPolicy
from domain.projection import columns, earliest, next_timer_moved, project
from domain.time import SHANGHAI
from models import repo
from models.repo_clocks import ClockRow
from models.schemas import CalendarLoadReport
from models.tables import Case
from tests.factories import registration
from workflows.activities import DisputeActivities
from workflows.contracts import Actor, OpenDispute, StaffAction, workflow_id
from workflows.dispute import DisputeWorkflow
from workflows.panel_activities import PanelActivities
from workflows.worker import (
    RESTRICTIONS,
    WORKFLOWS,
    Workers,
    build_documents_worker,
    document_activities,
    earlier_cases_documents,
)

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
PERIODS = range(30, 66)  # the real path: mediation periods of 30 to 65 WD, by committee policy
STAFF = Actor(id="bench", name="赵主任", role="director")
ADMIN = Actor(id="bench-admin", name="bench", role="admin")
STUB_PDF = b"%PDF-1.7\n% mediation bench: a stub, not a rendered document\ntrailer <<>>\n%%EOF\n"
SAMPLE_DEADLINE_LISTS = 500  # rows whose whole deadline list is checked (every row's due date is)
BEFORE_RECOMPUTE_ALL_S = 586  # docs/benchmarks.md: 10,000 cases, every workflow told and recomputing itself
ROWS_PER_TRANSACTION = 1000


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


def written(clock: MediationClock, calendar: WorkingDayCalendar, policy: ClockPolicy) -> dict[str, Any]:
    """The projection a case's workflow writes (domain/projection.py), nothing fired yet."""
    return project(case_clocks(clock), fired=(), calendar=calendar, policy=policy, hold_provisional=True,
                   payment_overdue=False)


def as_rows(clocks: list[MediationClock], calendar: WorkingDayCalendar, policy: ClockPolicy) -> list[ClockRow]:
    """The rows the batch reads (models/repo_clocks.py), as the workflows wrote them with `calendar`."""
    return [ClockRow.as_written(f"{i:08d}", columns(written(clock, calendar, policy))) for i, clock in enumerate(clocks)]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def provisional(results: list[tuple]) -> int:
    return sum(1 for due, every in results if due.provisional or any(t.provisional for t in every))


def pure(n: int) -> dict[str, Any]:
    policy = ClockPolicy()
    clocks = mediation_clocks(n, policy)
    loaded = WorkingDayCalendar({2027: TABLE_2027})
    compute(clocks[:1], loaded, policy)  # warm the package's 2026 index
    compute(clocks[:1], WorkingDayCalendar(), policy)  # and the Monday-to-Friday 2027 index
    without_ms, without = timed(lambda: compute(clocks, WorkingDayCalendar(), policy))
    with_ms, with_table = timed(lambda: compute(clocks, loaded, policy))
    if provisional(with_table):
        raise BenchFailure(f"{provisional(with_table)} clocks are still provisional with 2027 loaded")
    rows = as_rows(clocks, WorkingDayCalendar(), policy)
    batch_ms, plan = timed(lambda: calendar_service.plan_page(rows, WorkingDayCalendar({2027: TABLE_2027})))
    unknown = WorkingDayCalendar()
    nexts = [(earliest(case_clocks(clock), fired=(), calendar=unknown, policy=policy, hold_provisional=True),
              earliest(case_clocks(clock), fired=(), calendar=loaded, policy=policy, hold_provisional=True))
             for clock in clocks]
    return {
        "pure_without_table_ms": round(without_ms, 1),
        "pure_with_table_ms": round(with_ms, 1),
        "pure_us_per_case": round(with_ms * 1000 / n, 1),
        "pure_batch_us_per_case": round(batch_ms * 1000 / n, 1),
        "pure_provisional_before": provisional(without),
        "pure_due_dates_moved": sum(1 for (a, _), (b, _) in zip(without, with_table, strict=True)
                                    if a.date != b.date),
        "pure_next_timers_moved": len(plan.moved),
        # of those, the ones whose next timer came earlier (or appeared): a workflow that refreshes its calendar
        # whenever it wakes would need waking only for these
        "pure_next_timers_earlier": sum(1 for before, after in nexts
                                        if after is not None and (before is None or after[1] < before[1])),
    }


# ------------------------------------------------------------------ the database ------------------------
@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[Settings]:
    """Settings for a database of this run alone: SQLite in a temporary directory, or a fresh database on the
    PostgreSQL server `--database-url` names (dropped at the end)."""
    data_dir = Path(tempfile.mkdtemp(prefix="mediation-recompute-"))
    task_queue = f"bench-recompute-{uuid.uuid4().hex[:8]}"
    admin: Engine | None = None
    name = f"bench_recompute_{uuid.uuid4().hex[:8]}"
    try:
        if not args.database_url:
            yield Settings(data_dir=data_dir, task_queue=task_queue)
            return
        server = args.database_url.rsplit("/", 1)[0]
        admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield Settings(data_dir=data_dir, task_queue=task_queue, database_url=f"{server}/{name}")
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)


def prepare(settings: Settings) -> None:
    """The schema and the demo committees (`mediation init`); what it prints goes to stderr, stdout holds the
    figures alone."""
    with contextlib.redirect_stdout(sys.stderr):
        init_db(settings)


def provisional_count(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Case).where(col(Case.due_provisional).is_(True))
        return int(session.exec(query).one())


def committee_policy_and_calendar(sessions: SessionFactory) -> tuple[ClockPolicy, WorkingDayCalendar]:
    """What `register` puts in a workflow's input."""
    with sessions() as session:
        committee = repo.get_committee(session=session, committee_id="huangpu")
        policy = ClockPolicy.from_dict(committee.policy)
        calendar = repo.working_day_calendar(session=session)
    if 2027 in calendar.tables or 2027 in PACKAGE_YEARS:
        raise BenchFailure("2027 is already known: this bench loads 2027 as a year nobody knew")
    return policy, calendar


async def start_dev_server(runtime: Runtime | None = None) -> WorkflowEnvironment:
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


class Progress:
    """Polls the database from the start of the load: when half, then every case row was no longer provisional."""

    def __init__(self, engine: Engine, cases: int, every: float) -> None:
        self.engine, self.cases, self.every = engine, cases, every
        self.times: dict[str, float] = {}
        self.done = asyncio.Event()

    async def poll(self, start: float) -> None:
        while True:
            left = await asyncio.to_thread(provisional_count, self.engine)
            now = time.perf_counter() - start
            if left <= self.cases // 2 and "half" not in self.times:
                self.times["half"] = now
            if left == 0:
                self.times["all"] = now
                self.done.set()
                return
            await asyncio.sleep(self.every)

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.done.wait(), timeout=timeout)
        except TimeoutError:
            left = provisional_count(self.engine)
            raise BenchFailure(f"{left} of {self.cases} cases still provisional {timeout} s after the load") from None


def report_figures(report: CalendarLoadReport, fanout: calendar_service.Fanout, cases: int) -> dict[str, Any]:
    if report.open_cases != cases or report.failed:
        raise BenchFailure(f"the load did not reach every case: open {report.open_cases} of {cases}, "
                           f"not told {len(report.failed)}")
    if report.recomputed + report.left_to_workflows != report.open_cases:
        raise BenchFailure(f"recomputed {report.recomputed} + left to workflows {report.left_to_workflows} != "
                           f"open {report.open_cases}")
    return {"recomputed": report.recomputed, "rewritten": report.rewritten, "woken": report.woken,
            "left_to_workflows": report.left_to_workflows, "signalled": report.signalled,
            "not_running": report.not_running,
            **{f"batch_{phase}_s": round(seconds, 2) for phase, seconds in sorted(fanout.seconds.items())}}


# ------------------------------------------------------------------ 2a. rows only -----------------------
def write_rows(sessions: SessionFactory, clocks: list[MediationClock], calendar: WorkingDayCalendar,
               policy: ClockPolicy) -> list[str]:
    """A case row in mediation per clock, its clocks as its workflow writes them (domain/projection.py): the first
    case registered as the product registers it, the others copies of its row with their own id and number."""
    body = CaseCreate.model_validate(registration(application_type="joint", applicant_side=None))
    with transaction(sessions) as session:
        first = repo.create_case(session=session, case_id=uuid.uuid4().hex, registration=body.model_dump(mode="json"),
                                 at=datetime.now(SHANGHAI), actor={"id": "bench", "name": "bench", "role": "staff"})
        first.status = "in_mediation"
        for name, value in columns(written(clocks[0], calendar, policy)).items():
            setattr(first, name, value)
        session.add(first)
        session.flush()
        row = first.model_dump()
    ids = [row["id"], *(uuid.uuid4().hex for _ in clocks[1:])]
    for start in range(1, len(clocks), ROWS_PER_TRANSACTION):
        end = start + ROWS_PER_TRANSACTION
        copies = [{**row, "id": case_id, "number": f"{row['number']}-{start + i}",
                   **columns(written(clock, calendar, policy))}
                  for i, (case_id, clock) in enumerate(zip(ids[start:end], clocks[start:end], strict=True))]
        with transaction(sessions) as session:
            session.execute(insert(Case), copies)
    return ids


def check_every_row(engine: Engine, expected: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every row entirely against the pure computation with the same table."""
    wrong: list[str] = []
    with Session(engine) as session:
        rows = {case.id: case for case in session.exec(select(Case)).all()}
    for case_id, want in expected.items():
        case = rows.get(case_id)
        got = None if case is None else {name: getattr(case, name) for name in want}
        if got != want:
            wrong.append(f"{case_id}: {got} != expected {want}")
    if wrong:
        raise BenchFailure(f"{len(wrong)} case rows differ from the pure computation, e.g.:\n  "
                           + "\n  ".join(w[:600] for w in wrong[:3]))
    return {"checked_rows": len(expected), "checked_deadline_lists": len(expected)}


async def rows_path(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with database(args) as settings:
        prepare(settings)
        engine = engine_of(settings)
        env: WorkflowEnvironment | None = None
        try:
            sessions = session_factory(engine)
            policy, calendar = committee_policy_and_calendar(sessions)
            clocks = mediation_clocks(args.cases, policy)
            start = time.perf_counter()
            ids = write_rows(sessions, clocks, calendar, policy)
            figures["create_cases_s"] = round(time.perf_counter() - start, 1)
            before = provisional_count(engine)
            log(f"{len(ids)} case rows written in {figures['create_cases_s']} s; {before} provisional")
            env = await start_dev_server()
            loaded = calendar.with_table(TABLE_2027)
            expected = {case_id: columns(written(clock, loaded, policy)) for case_id, clock in zip(ids, clocks,
                                                                                                   strict=True)}
            moved = sum(next_timer_moved(written(clock, calendar, policy)["next_timer"], written(clock, loaded, policy))
                        for clock in clocks)
            progress = Progress(engine, before, args.poll)
            start = time.perf_counter()
            poller = asyncio.create_task(progress.poll(start))
            fanout = calendar_service.Fanout()
            report = await calendar_service.load(db=Database(sessions), client=env.client, table=TABLE_2027,
                                                 actor=ADMIN, result=fanout)
            load_s = time.perf_counter() - start
            await progress.wait(args.timeout)
            poller.cancel()
            log(f"load returned after {load_s:.2f} s: {report.model_dump(exclude={'year'})}")
            figures.update(report_figures(report, fanout, args.cases))
            if report.woken != moved or report.not_running != moved:
                raise BenchFailure(f"woken {report.woken}, not running {report.not_running}: expected {moved}, the "
                                   "cases whose next timer moved")
            figures.update(check_every_row(engine, expected))
            figures.update({
                "load_s": round(load_s, 2),
                "recompute_all_s": round(progress.times["all"], 2),
                "cases_per_s": round(args.cases / load_s, 1),
                "provisional_before": before,
            })
        finally:
            if env is not None:
                await env.shutdown()
            engine.dispose()
    return figures


# ------------------------------------------------------------------ 2b. the real path --------------------
@dataclass
class Metrics:
    """The worker's own counters (Temporal core metrics, from a buffer), summed since the last `reset`."""

    buffer: MetricBuffer
    counts: Counter[str] = field(default_factory=Counter)
    last_task_at: float = 0.0

    def drain(self) -> None:
        for update in self.buffer.retrieve_updates():
            name = update.metric.name.removeprefix("temporal_")
            if name in ("workflow_task_execution_failed", "activity_execution_failed"):
                self.counts[name] += int(update.value)
            # a histogram: one update per activity run (the case's writes run as local activities since fast-core)
            elif name in ("activity_execution_latency", "local_activity_execution_latency"):
                self.counts["activity:" + str(update.attributes.get("activity_type"))] += 1
            elif name == "workflow_task_execution_latency":  # one update per workflow task completed
                self.counts["workflow_tasks"] += 1
                self.last_task_at = time.perf_counter()

    def reset(self) -> None:
        self.drain()
        self.counts.clear()

    async def keep_draining(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self.drain()

    async def settled(self, told: int, quiet: float, timeout: float) -> float:
        """The instant (perf_counter) of the last workflow task, once every workflow told wrote its projection
        again (`told` record_clock activities: each recomputes with the new table) and none ran for `quiet` s."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.drain()
            done = self.counts["activity:record_clock"] >= told
            if done and time.perf_counter() - self.last_task_at >= quiet:
                return self.last_task_at
            await asyncio.sleep(0.2)
        raise BenchFailure(f"{self.counts['activity:record_clock']} of the {told} workflows told wrote their "
                           f"projection within {timeout} s")


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


def period_of(i: int) -> int:
    return PERIODS[i % len(PERIODS)]


async def create_cases(client: Client, task_queue: str, n: int, concurrency: int, policy: ClockPolicy,
                       calendar: dict[str, Any]) -> list[str]:
    """N joint applications carried to `in_mediation`, `concurrency` at a time; the i-th case's committee gives
    it a mediation period of `period_of(i)` working days."""
    body = CaseCreate.model_validate(registration(application_type="joint", applicant_side=None))
    reg = body.model_dump(mode="json")
    limit = asyncio.Semaphore(concurrency)
    created: list[str] = []

    async def one(i: int) -> None:
        async with limit:
            case_id = uuid.uuid4().hex
            own = ClockPolicy.from_dict({**policy.to_dict(), "mediation_wd": period_of(i)})
            start = WithStartWorkflowOperation(
                DisputeWorkflow.run,
                OpenDispute(case_id=case_id, registration=reg, actor=STAFF, policy=own.to_dict(), calendar=calendar),
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

    await asyncio.gather(*(one(i) for i in range(n)))
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
            own = ClockPolicy.from_dict({**policy.to_dict(), "mediation_wd": clock.budget})
            expected = [t.to_dict() for t in timers(case_clocks(clock), calendar=calendar, policy=own)]
            if case.deadlines != expected:
                wrong.append(f"{case.id}: deadlines {case.deadlines} != expected {expected}")
    if checked != len(case_ids):
        wrong.append(f"{len(case_ids) - checked} case rows are missing")
    if wrong:
        raise BenchFailure(f"{len(wrong)} case rows differ from the pure computation, e.g.:\n  "
                           + "\n  ".join(wrong[:5]))
    return {"checked_rows": checked, "checked_deadline_lists": lists, "due_dates_moved": moved}


async def real_path(args: argparse.Namespace) -> dict[str, Any]:
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
    with database(args) as settings:
        try:
            prepare(settings)
            engine = engine_of(settings)
            sessions = session_factory(engine)
            policy, calendar = committee_policy_and_calendar(sessions)
            env = await start_dev_server(runtime)
            log(f"Temporal dev server at {env.client.service_client.config.target_host}")
            # workflows/worker.py build_worker, with the stub renderer and the counting runner
            cases_worker = Worker(
                env.client,
                task_queue=settings.task_queue,
                workflows=WORKFLOWS,
                activities=[*DisputeActivities(sessions).all(), *PanelActivities(sessions).all(),
                            *earlier_cases_documents(lambda: document_activities(sessions, renderer=stub_renderer))],
                activity_executor=ThreadPoolExecutor(args.activity_threads),
                workflow_runner=CountingRunner(restrictions=RESTRICTIONS),
                max_cached_workflows=args.cache,
                max_concurrent_workflow_tasks=args.workflow_tasks,
                max_concurrent_activities=args.activities,
            )
            worker = Workers([cases_worker, build_documents_worker(
                env.client, task_queue=settings.task_queue, session_factory=sessions, renderer=stub_renderer)])
            drainer = asyncio.create_task(metrics.keep_draining())
            async with worker:
                start = time.perf_counter()
                case_ids = await create_cases(env.client, settings.task_queue, args.cases, args.concurrency,
                                              policy, calendar.to_dict())
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

                progress = Progress(engine, args.cases, args.poll)
                start = time.perf_counter()
                poller = asyncio.create_task(progress.poll(start))
                fanout = calendar_service.Fanout()
                report = await calendar_service.load(db=Database(sessions), client=env.client,
                                                     table=TABLE_2027, actor=ADMIN, result=fanout)
                load_s = time.perf_counter() - start
                log(f"load returned after {load_s:.2f} s: {report.model_dump(exclude={'year'})}")
                figures.update(report_figures(report, fanout, args.cases))
                if report.left_to_workflows:
                    log(f"{report.left_to_workflows} rows keep no clocks: their workflows recompute them (the path "
                        "before issue 15)")
                await progress.wait(args.timeout)
                poller.cancel()
                log(f"every row recomputed {progress.times['all']:.2f} s after the load began")
                settled_at = await metrics.settled(report.signalled, quiet=1.0, timeout=args.timeout)
                log(f"the {report.signalled} workflows told were done {settled_at - start:.2f} s after the load began")
                counts = dict(metrics.counts)
                replays, replay_setup_s = INSTANCES.created, INSTANCES.seconds
                core_warnings = dict(core_log.counts)
                figures.update(check_rows(engine, case_ids, policy))
                drainer.cancel()
            figures.update({
                "load_s": round(load_s, 2),
                "recompute_half_s": round(progress.times["half"], 2),
                "recompute_all_s": round(progress.times["all"], 2),
                "workflows_settled_s": round(max(settled_at - start, load_s), 2),
                "cases_per_s": round(args.cases / progress.times["all"], 1),
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


async def main(args: argparse.Namespace) -> dict[str, Any]:
    logging.getLogger("mediation").setLevel(logging.ERROR)  # a "provisional deadline" warning per case write
    wall, load_at_start = time.perf_counter(), os.getloadavg()[0]
    figures: dict[str, Any] = {"cases": args.cases, "path": "rows-only" if args.rows_only else "workflows"}
    figures.update(pure(args.cases))
    log(f"pure: {figures['pure_with_table_ms']} ms for {args.cases} clocks with the table")
    figures.update(await (rows_path(args) if args.rows_only else real_path(args)))
    figures.update({
        "before_recompute_all_s": BEFORE_RECOMPUTE_ALL_S if args.cases == 10_000 else None,
        "database": "postgresql" if args.database_url else "sqlite",
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
    parser.add_argument("--rows-only", action="store_true", help="case rows without workflows: the batch alone")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (a fresh database is made on it)")
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
