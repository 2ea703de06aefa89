"""The console script `mediation`: the embedded stack, the worker, the API and the data set-up.

    mediation run       Temporal dev server (SQLite file in ./data), worker and API in one go; Ctrl-C stops all
    mediation worker    the worker alone (production: several of them)
    mediation api       the API alone
    mediation init-db   create the tables and seed the demo committees
    mediation calendar load FILE [--year Y]   load a year's holidays and make-up workdays (CSV or JSON);
                                              every open case recomputes its deadlines
    mediation calendar years                  the known, loaded and still unknown calendar years
    mediation calendar provisional            open cases with a provisional deadline
    mediation experts import FILE [--skip-invalid]   import the expert pool (CSV, upsert by id); all or
                                                     nothing unless --skip-invalid
    mediation experts export FILE [--city C]         write the expert pool (CSV); it imports back unchanged
    mediation institutions import FILE               institutions and their groups (CSV:
                                                     id,name,city,group_id,group_name,address)
    mediation seal init [--force] [--committee ID | --name N]
                                               make the committee's key and self-signed certificate, its
                                               subject the committee's name (the embedded stack makes them at
                                               its first start)
    mediation seal verify FILE.pdf [--cert C]  check a PDF's seal; prints the report as JSON, exits 0 when
                                               valid and 1 when not
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.services import pool as pool_service
from core import logging as core_logging
from core.db import engine_of, session_factory, transaction
from core.settings import Settings, get_settings
from domain import pool
from domain.clock import CalendarTableError, parse_year_table
from domain.time import SHANGHAI
from models import repo, repo_pool
from models.repo import create_schema
from models.seed import seed_committees
from models.seed_pool import seed_pool

if TYPE_CHECKING:
    import uvicorn
    from temporalio.client import Client

    from documents.seal import Sealer
    from models.schemas import CalendarLoadReport

# The stack's modules (the API, the worker, Temporal, WeasyPrint) are imported where they are used, so that
# the data commands (init-db, experts, institutions) start in a second.


def migrate(settings: Settings) -> str | None:
    """The database at the schema's head, and the seal key if none is configured yet: no demo data."""
    from models.migrations import current

    engine = engine_of(settings)
    try:
        create_schema(engine)
        revision = current(engine)
    finally:
        engine.dispose()
    ensure_seal_key(settings)
    return revision


def init_db(settings: Settings) -> list[str]:
    """`migrate`, then the demo committees and expert pool (Reg 35) of the embedded stack."""
    migrate(settings)
    engine = engine_of(settings)
    try:
        with transaction(session_factory(engine)) as session:
            added = [c.id for c in seed_committees(session=session)]
            seed_pool(session=session)
            committees = {c.id: c.name for c in repo.list_committees(session=session)}
    finally:
        engine.dispose()
    ensure_committee_seals(settings, committees)
    return added


# ------------------------------------------------------------------ the committee's seal --------------
DEMO_SEAL_NAME = "医疗纠纷人民调解委员会（演示）"
SEAL_HELP = ("run `mediation seal init` for a self-signed certificate, or set MEDIATION_SEAL_KEY_PATH and "
             "MEDIATION_SEAL_CERT_PATH (MEDIATION_SEAL_DOCUMENTS=false stores the documents unsealed)")


def _seal_name(settings: Settings, committee: str | None = None) -> str:
    """The certificate's name: the named committee's, else MEDIATION_SEAL_NAME, else the committee's when the
    installation has one, else a demo name. An unknown committee is an error (SystemExit with the ids known)."""
    if settings.seal_name and committee is None:
        return settings.seal_name
    engine = engine_of(settings)
    try:
        create_schema(engine)
        with session_factory(engine)() as session:
            committees = {c.id: c.name for c in repo.list_committees(session=session)}
    finally:
        engine.dispose()
    if committee is not None:
        if committee not in committees:
            raise SystemExit(f"no committee {committee!r}; known: {', '.join(sorted(committees)) or 'none'}")
        return committees[committee]
    names = list(committees.values())
    return names[0] if len(names) == 1 else DEMO_SEAL_NAME


def seal_init(settings: Settings, *, force: bool = False, name: str | None = None,
              committee: str | None = None) -> int:
    """The installation's seal, or with `committee` that committee's own (its name the certificate's subject)."""
    from documents.seal import generate_committee_key

    key, cert = settings.committee_seal_paths(committee) if committee else (
        settings.effective_seal_key_path, settings.effective_seal_cert_path)
    if (key.exists() or cert.exists()) and not force:
        print(f"{key if key.exists() else cert} exists: --force replaces the key and certificate (documents "
              "sealed before then verify only against the old certificate)", file=sys.stderr)
        return 1
    name = name or _seal_name(settings, committee)
    generate_committee_key(name, settings.data_dir, key_path=key, cert_path=cert,
                           passphrase=settings.seal_key_passphrase)
    print(f"committee seal: key {key}, self-signed certificate {cert} (CN={name}, valid 10 years)")
    return 0


def ensure_seal_key(settings: Settings) -> None:
    """The embedded stack's first start: a self-signed installation certificate when sealing is on and neither
    file exists (a configured real certificate is never replaced)."""
    key, cert = settings.effective_seal_key_path, settings.effective_seal_cert_path
    if settings.seal_documents and not key.exists() and not cert.exists():
        seal_init(settings)


def ensure_committee_seals(settings: Settings, committees: dict[str, str]) -> None:
    """Each committee's own seal (id → name), made once, so that each sealed document names the committee that
    issued it (not the installation's name). The keys of many new committees are made side by side."""
    if not settings.seal_documents or settings.seal_key_path is not None:  # a configured real key is the seal
        return
    missing = [(committee_id, name) for committee_id, name in committees.items()
               if not any(path.exists() for path in settings.committee_seal_paths(committee_id))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda one: seal_init(settings, committee=one[0], name=one[1]), missing))


def document_sealer(settings: Settings) -> Sealer | None:
    """What the worker seals documents with: each committee's own key where it has one, else the installation's
    (None when sealing is off)."""
    if not settings.seal_documents:
        return None
    from documents.seal import SealKey, SealKeyError, sealer_for_committees

    try:
        own = [SealKey.load(cert.with_name("seal-key.pem"), cert, settings.seal_key_passphrase)
               for cert in settings.committee_seal_certificates()]
        key, cert = settings.effective_seal_key_path, settings.effective_seal_cert_path
        default = SealKey.load(key, cert, settings.seal_key_passphrase) if own == [] or cert.exists() else None
    except (SealKeyError, ValueError) as err:  # unreadable, or not a key or certificate at all
        raise SystemExit(f"cannot seal documents: {err}; {SEAL_HELP}") from err
    return sealer_for_committees(default, own)


def seal_verify(settings: Settings, path: Path, certs: list[Path]) -> int:
    from documents.seal import load_certificates, verify_pdf

    try:
        data = path.read_bytes()
    except OSError as err:
        print(f"{path}: cannot read the file: {err.strerror or err}", file=sys.stderr)
        return 2
    trusted = []
    configured = [settings.effective_seal_cert_path, *settings.committee_seal_certificates()]
    for cert in certs or [path for path in configured if path.exists()] or configured[:1]:
        try:
            trusted.extend(load_certificates(cert))
        except ValueError as err:  # SealKeyError (unreadable) or not a certificate
            print(f"{cert}: {err}", file=sys.stderr)
            return 2
    report = verify_pdf(data, trusted=trusted)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0 if report.valid else 1


def _temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise SystemExit("the `temporal` CLI is missing: install the pinned dependencies (make run does)")
    return found


def start_dev_server(settings: Settings) -> subprocess.Popen[bytes]:
    """The Temporal dev server persisting to ./data/temporal.db (WAL), with its web UI."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    host, _, port = settings.temporal_address.partition(":")
    log = open(settings.data_dir / "temporal.log", "ab")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(
        [
            _temporal_binary(), "server", "start-dev",
            "--db-filename", str(settings.data_dir / "temporal.db"),
            "--sqlite-pragma", "journal_mode=wal",
            "--sqlite-pragma", "synchronous=normal",
            "--ip", host or "127.0.0.1",
            "--port", port or "7233",
            "--ui-port", str(settings.temporal_ui_port),
            "--namespace", settings.temporal_namespace,
            "--log-level", "warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us; we stop the server ourselves
    )


async def connect(
    settings: Settings, *, attempts: int = 60, server: subprocess.Popen[bytes] | None = None, metrics: bool = False
) -> Client:
    from workflows.client import connect as temporal_client

    for attempt in range(attempts):
        if server is not None and server.poll() is not None:
            log = (settings.data_dir / "temporal.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"the Temporal dev server stopped at start (is port {settings.temporal_address} "
                             f"already in use?):\n{log}")
        try:
            return await temporal_client(settings, metrics=metrics)
        except Exception:  # noqa: BLE001 - not up yet
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def api_server(settings: Settings, client: Client | None = None) -> uvicorn.Server:
    import uvicorn

    from api.main import create_app

    config = uvicorn.Config(  # no logging set-up of its own: its lines go through ours (text or JSON)
        create_app(settings, temporal=client), host=settings.api_host, port=settings.api_port, log_level="warning",
        log_config=None,
    )
    return uvicorn.Server(config)


async def serve_api(settings: Settings, client: Client | None = None) -> None:
    await api_server(settings, client).serve()


async def run_worker(
    settings: Settings, client: Client | None = None, sealer: Sealer | None = None, *, documents: bool = True,
) -> None:
    """The cases' worker; with `documents`, a documents' worker in the same process too (`mediation worker`).
    The embedded stack runs the documents' workers as processes of their own (`run_document_workers`)."""
    from workflows.worker import build_worker

    sealer = sealer or document_sealer(settings)  # also for earlier cases, which render on this queue
    client = client or await connect(settings, metrics=True)
    engine = engine_of(settings)
    workers = build_worker(client, task_queue=settings.task_queue, session_factory=session_factory(engine),
                           max_cached_workflows=settings.worker_cache_size, sealer=sealer,
                           documents="inline" if documents else "apart")
    await workers.run()


async def run_documents_worker(settings: Settings) -> None:
    """Renders, seals and binds documents for the cases' workers (the documents' task queue), at the priority of
    background work (`documents_worker_nice`)."""
    from workflows.worker import build_documents_worker

    lower_priority(settings.documents_worker_nice)

    sealer = document_sealer(settings)
    client = await connect(settings)
    worker = build_documents_worker(client, task_queue=settings.task_queue,
                                    session_factory=session_factory(engine_of(settings)), sealer=sealer)
    await worker.run()


def lower_priority(nice: int) -> None:
    """This process's CPU priority at least `nice` (a Unix nice value; never raised back)."""
    if nice and os.getpriority(os.PRIO_PROCESS, 0) < nice:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    if nice and os.getsid(0) == os.getpid():
        lower_session_priority(os.getpid(), nice)


def lower_session_priority(pid: int, nice: int, *, attempts: int = 20) -> None:
    """With Linux's autogroups (sched_autogroup_enabled, the default on desktops and on many servers), the CPU is
    shared first between sessions and a nice value weighs only against processes of its own session: a documents'
    worker that leads its session of its own took an equal share beside the API however nice it was. The session's
    own weight is its autogroup's nice value (/proc/<pid>/autogroup; raising the value needs no privilege, and a
    session's priority is never raised back here). Only for a process that leads its own session: the value is the whole session's. Without
    CAP_SYS_ADMIN the kernel takes one such write every 100 ms machine-wide and refuses the others for now (EAGAIN):
    tried again. Nothing to do without autogroups."""
    path = Path(f"/proc/{pid}/autogroup")
    for _ in range(attempts):
        try:
            if int(path.read_text().rsplit("nice", 1)[1]) >= nice:
                return
            path.write_text(str(nice))
            return
        except BlockingIOError:
            time.sleep(0.11)
        except (OSError, ValueError, IndexError):  # no autogroups, a process gone, a format not known
            return
    logging.getLogger("mediation").warning("the CPU weight of process %s's session could not be lowered to nice %s",
                                           pid, nice)


def start_document_workers(settings: Settings) -> list[subprocess.Popen[bytes]]:
    """The documents' worker processes of the embedded stack: each imports the PDF stack, none slows the API; at
    the priority of background work from their first instruction (their imports do not slow the API's start)."""
    log = (settings.data_dir / "documents-worker.log").open("ab")
    command = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(['documents-worker']))"]
    nice = shutil.which("nice")  # coreutils; without it the worker lowers its priority once it runs
    if nice and settings.documents_worker_nice:
        command = [nice, "-n", str(settings.documents_worker_nice), *command]
    workers = [subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
               for _ in range(max(1, settings.document_workers))]
    if settings.documents_worker_nice:  # each leads a session of its own: its imports at the session's weight
        threading.Thread(target=lambda: [lower_session_priority(worker.pid, settings.documents_worker_nice)
                                         for worker in workers], name="nice", daemon=True).start()
    return workers


def start_cases_worker(settings: Settings) -> subprocess.Popen[bytes]:
    """The cases' worker of the embedded stack (workflows and their activities), a process of its own: its
    workflow tasks and the API's requests do not take turns on one interpreter lock."""
    log = (settings.data_dir / "worker.log").open("ab")
    command = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(['worker', '--no-documents']))"]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def stopped_early(settings: Settings, workers: list[tuple[str, subprocess.Popen[bytes]]]) -> str | None:
    """Which worker process ended, with the end of its log; None while all run."""
    for log, process in workers:
        if process.poll() is not None:
            tail = (settings.data_dir / log).read_text(errors="replace")[-2000:]
            return f"the {log.removesuffix('.log')} process stopped (exit {process.returncode}):\n{tail}"
    return None


def banner(settings: Settings, added: list[str]) -> str:
    base = f"http://{settings.api_host}:{settings.api_port}"
    return (
        "\n医调委 mediation stack is up\n"
        f"  Console         {base}/console (dev mode: pick a role on the login page)\n"
        f"  API             {base}\n"
        f"  API docs        {base}/docs\n"
        f"  Temporal web UI http://127.0.0.1:{settings.temporal_ui_port}\n"
        f"  Temporal        {settings.temporal_address} (namespace {settings.temporal_namespace})\n"
        f"  data            {settings.data_dir} (kept between runs; logs: temporal.log, worker.log, "
        "documents-worker.log)\n"
        f"  demo committees {', '.join(added) or 'already present'} (GET {base}/committees)\n"
        "Ctrl-C stops everything.\n"
    )


async def run_stack(settings: Settings) -> None:
    """The Temporal dev server boots while the database is migrated and seeded; then the cases' worker and the
    documents' workers start as processes of their own while this one imports and serves the API. A worker that
    stops (a seal key that cannot be used, a lost database) stops the stack, with the end of its log."""
    server = start_dev_server(settings)
    processes = [server]
    try:
        added = init_db(settings)
        workers = [("worker.log", start_cases_worker(settings)),
                   *(("documents-worker.log", process) for process in start_document_workers(settings))]
        processes += [process for _, process in workers]
        client = await connect(settings, server=server)
        api = api_server(settings, client)
        serving = asyncio.create_task(api.serve())  # returns on Ctrl-C / SIGTERM
        while not api.started and not serving.done() and not stopped_early(settings, workers):
            await asyncio.sleep(0.05)
        if api.started and not stopped_early(settings, workers):
            print(banner(settings, added), flush=True)
        elif not api.started and not stopped_early(settings, workers):
            print(f"the API could not start on {settings.api_host}:{settings.api_port} (port in use?)", flush=True)
        while not serving.done() and (failed := stopped_early(settings, workers)) is None:
            await asyncio.sleep(0.2)
        if not serving.done():  # a worker stopped: so does the stack
            api.should_exit = True
            await serving
            raise SystemExit(failed)
        await serving
    finally:
        stop_processes(processes[::-1])  # the workers first, the Temporal server last
        print("stopped: API, workers and Temporal dev server", flush=True)


# ------------------------------------------------------------------ the working-day calendar ----------
def calendar_load(settings: Settings, path: Path, year: int | None, by: str) -> int:
    """Parse the file (every problem is reported), store the year, and tell every open case."""
    from api.deps import Database
    from api.services import calendar as calendar_service
    from workflows.contracts import Actor

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        print(f"{path}: cannot read the file: {err}", file=sys.stderr)
        return 2
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    try:
        table = parse_year_table(text, fmt=fmt, year=year)
    except CalendarTableError as err:
        print(f"{path}: {err}", file=sys.stderr)
        return 2
    engine = engine_of(settings)
    create_schema(engine)

    async def store_and_tell() -> CalendarLoadReport | None:
        sessions = session_factory(engine)
        try:
            client = await connect(settings, attempts=3)
        except Exception as err:  # noqa: BLE001 - any connection failure means the same here
            with transaction(sessions) as session:
                repo.save_calendar_year(session=session, table=table, at=datetime.now(SHANGHAI), by=by)
            print(f"year {table.year} stored, but the workflow service at {settings.temporal_address} is "
                  f"unreachable ({err}): open cases keep their old deadlines until the year is loaded again "
                  "with the service up", file=sys.stderr)
            return None
        return await calendar_service.load(db=Database(sessions), client=client, table=table,
                                           actor=Actor(id="cli", name=by, role="admin"))

    report = asyncio.run(store_and_tell())
    if report is None:
        return 1
    print(f"year {table.year} loaded{' (replacing the earlier table)' if report.replaced else ''}: "
          f"{len(table.holidays)} holidays, {len(table.workdays)} make-up workdays")
    print(f"open cases: {report.open_cases}, recomputed: {report.recomputed} (rewritten: {report.rewritten}, "
          f"woken: {report.woken}), left to their workflows: {report.left_to_workflows}; told: {report.signalled}, "
          f"ended: {report.not_running}, not told: {len(report.failed)}")
    for case_id in report.failed:
        print(f"  not told (load again to retry): {case_id}")
    return 0 if not report.failed else 1


def calendar_years(settings: Settings) -> int:
    from api.services import calendar as calendar_service

    engine = engine_of(settings)
    create_schema(engine)
    with session_factory(engine)() as session:
        for year in calendar_service.years(session=session):
            loaded = f"  loaded {year.loaded_at:%Y-%m-%d %H:%M} by {year.loaded_by}" if year.loaded_at else ""
            note = "  PROVISIONAL: Monday to Friday without the statutory holidays" if year.provisional else ""
            print(f"{year.year}  {year.layer:<16}{loaded}{note}")
    return 0


def calendar_provisional(settings: Settings) -> int:
    from api.services import provisional

    engine = engine_of(settings)
    create_schema(engine)
    with session_factory(engine)() as session:
        report = provisional.listing(session=session, limit=200, count=True)
    shown = f"the first {len(report.items)} of about" if report.has_more else "cases with a provisional deadline:"
    print(f"unknown years reached: {', '.join(map(str, report.unknown_years)) or 'none'}; "
          f"{shown} {report.estimated_total if report.has_more else len(report.items)}")
    for case in report.items:
        print(f"  {case.number}  {case.status:<14} due {case.due_date}  {case.patient_name} / {case.institution_name}")
    return 0


# ------------------------------------------------------------------ the expert pool (Reg 35) ----------
def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        print(f"{path}: cannot read the file: {err}", file=sys.stderr)
        return None


class ProgressBar:
    """A text progress bar on stderr: `[#####.....]  1200/5000 experts`."""

    def __init__(self, what: str, width: int = 30) -> None:
        self.what, self.width, self.shown = what, width, False

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // total if total else self.width
        percent = 100 * done // total if total else 100
        print(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}%  {done}/{total} {self.what}",
              end="", file=sys.stderr, flush=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            print(file=sys.stderr, flush=True)


def _print_row_errors(path: Path, errors: list[pool.RowError]) -> None:
    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)


def experts_import(settings: Settings, path: Path, skip_invalid: bool) -> int:
    """Import a pool file in one transaction: every bad row is listed; without --skip-invalid, nothing is
    written when a row is bad (exit code 2)."""
    text = _read_text(path)
    if text is None:
        return 2
    engine = engine_of(settings)
    create_schema(engine)
    bar = ProgressBar("experts")
    try:
        with transaction(session_factory(engine)) as session:
            report = pool_service.import_text(session=session, text=text, skip_invalid=skip_invalid,
                                              on_progress=bar)
    except pool.PoolRowsRefused as refused:
        bar.close()
        _print_row_errors(path, refused.errors)
        rows = len({e.row for e in refused.errors})
        print(f"{path}: {rows} bad row{'s' if rows != 1 else ''}: nothing imported"
              + ("" if skip_invalid else " (--skip-invalid imports the good rows)"), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    bar.close()
    _print_row_errors(path, [pool.RowError(e.row, e.field, e.reason) for e in report.errors])
    print(f"imported: {report.imported}, updated: {report.updated}, skipped: {report.skipped}")
    return 0


def experts_export(settings: Settings, path: Path, city: str | None) -> int:
    engine = engine_of(settings)
    create_schema(engine)
    with session_factory(engine)() as session:
        rows = repo_pool.export_experts(session=session, city=city)
    engine.dispose()
    try:
        path.write_text(pool.format_pool_csv(rows), encoding="utf-8-sig")  # with a BOM, for spreadsheets
    except OSError as err:
        print(f"{path}: cannot write the file: {err}", file=sys.stderr)
        return 2
    print(f"exported: {len(rows)} experts{f' of {city}' if city else ''} to {path}")
    return 0


def institutions_import(settings: Settings, path: Path) -> int:
    """Institutions and their medical groups (created as needed), upserted by id; all or nothing."""
    text = _read_text(path)
    if text is None:
        return 2
    parsed = pool.parse_institutions_csv(text)
    if parsed.errors:
        _print_row_errors(path, parsed.errors)
        print(f"{path}: {parsed.bad_rows} bad row(s): nothing imported", file=sys.stderr)
        return 2
    engine = engine_of(settings)
    create_schema(engine)
    try:
        with transaction(session_factory(engine)) as session:
            result = repo_pool.import_institutions(session=session, rows=parsed.rows)
    except pool.PoolRowsRefused as refused:
        _print_row_errors(path, refused.errors)
        print(f"{path}: nothing imported", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"imported: {result.imported}, updated: {result.updated}, groups created: {result.groups_created}")
    return 0


def _password(prompt: str, from_stdin: bool) -> str | None:
    """A password from standard input (one line, for scripts) or typed twice at the terminal."""
    import getpass

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"{prompt}: ")
        if password != getpass.getpass("again: "):
            print("the two passwords differ", file=sys.stderr)
            return None
    if len(password) < 10:
        print("a password has at least 10 characters", file=sys.stderr)
        return None
    return password


def _account_change(settings: Settings, prompt: str, from_stdin: bool, change: Callable[..., str]) -> int:
    """Asks for the password, then runs `change(session, password_hash)` in one transaction; prints its result,
    or the refusal (a taken username, an unknown user) with exit code 2."""
    from core.errors import DomainError
    from core.security import hash_password

    password = _password(prompt, from_stdin)
    if password is None:
        return 2
    engine = engine_of(settings)
    create_schema(engine)
    try:
        with transaction(session_factory(engine)) as session:
            print(change(session, hash_password(password)))
    except DomainError as err:
        print(err.detail, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def users_create(settings: Settings, args: argparse.Namespace) -> int:
    from models import repo_users

    def create(session: Any, password_hash: str) -> str:
        user = repo_users.create_user(
            session=session, username=args.username, full_name=args.name or args.username, role=args.role,
            password_hash=password_hash, committee_id=args.committee, city=args.city, expert_id=args.expert_id,
        )
        return f"created {user.username} ({user.role})"

    return _account_change(settings, f"password for {args.username}", args.password_stdin, create)


def users_reset_password(settings: Settings, args: argparse.Namespace) -> int:
    from models import repo_users

    def reset(session: Any, password_hash: str) -> str:
        repo_users.set_password(session=session, username=args.username, password_hash=password_hash)
        return f"password of {args.username} reset; earlier tokens no longer work"

    return _account_change(settings, f"new password for {args.username}", args.password_stdin, reset)


def demo_year(settings: Settings, args: argparse.Namespace) -> int:
    """A year of a city's disputes entered through the running API (demo/year.py, demo/entry.py), then its report
    read back."""
    import httpx

    from demo.entry import city_figures, ensure_committees, enter_year
    from demo.year import plan_year

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line a request would hide the progress bar
    if args.city != "上海市":
        print("the demo year is planned for 上海市 (its 17 committees)", file=sys.stderr)
        return 2
    try:
        plan = plan_year(year=args.year, accepted=args.cases, settled=args.settled, settled_share=args.settled_share,
                         seed=args.seed)
    except ValueError as wrong:
        print(wrong, file=sys.stderr)
        return 2
    api_url = args.api or f"http://{settings.api_host}:{settings.api_port}"

    async def enter() -> int:
        async with httpx.AsyncClient(base_url=api_url, timeout=120) as api:
            try:
                (await api.get("/health/ready")).raise_for_status()
            except httpx.HTTPError as down:
                print(f"the API at {api_url} is not ready ({down}): start the stack with `make run`", file=sys.stderr)
                return 1
            added = await ensure_committees(api, plan)
            if added:
                print("added committees:", ", ".join(added))
            planned = plan.counts()
            print(f"entering {len(plan.cases)} cases of {plan.year} ({args.cases} accepted, "
                  f"{sum(n for k, n in planned.items() if k.startswith('settled'))} settled) through {api_url}")
            bar = ProgressBar("cases")
            report = await enter_year(api, plan, seed=args.seed, concurrency=args.concurrency, progress=bar)
            bar.close()
            for failure in report.failed[:20]:
                print("  not entered:", failure, file=sys.stderr)
            total = (await city_figures(api, plan))["total"]
            outcomes, rates = total["outcomes"], total["rates"]
            share = rates["success_of_accepted"]
            print(f"{plan.city} {plan.year}: {outcomes['accepted']} accepted, {outcomes['settled']} settled"
                  + (f" ({share:.0%} of accepted)" if share is not None else "")
                  + f"; entered {report.entered}, not entered {len(report.failed)}")
            return 1 if report.failed else 0

    code = asyncio.run(enter())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mediation", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the embedded stack: Temporal dev server, worker, API")
    worker = sub.add_parser("worker", help="the worker alone (cases, and documents unless --no-documents)")
    worker.add_argument("--no-documents", action="store_true",
                        help="leave the documents to `mediation documents-worker` processes")
    sub.add_parser("documents-worker", help="a documents' worker alone: renders, seals and binds documents")
    sub.add_parser("api", help="the API alone")
    sub.add_parser("migrate", help="bring the database to the schema's head revision (and make a seal key if none)")
    sub.add_parser("init-db", help="migrate, then seed the demo committees and expert pool")
    cal = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(dest="action", required=True)
    load = cal.add_parser("load", help="load a year's holidays and make-up workdays from a CSV or JSON file")
    load.add_argument("file", type=Path, help="CSV (date,kind[,name]) or JSON ({year, holidays, workdays})")
    load.add_argument("--year", type=int, help="the year the file must be for")
    load.add_argument("--by", default=os.environ.get("USER", "admin"), help="who loads it (recorded)")
    cal.add_parser("years", help="the known, loaded and still unknown calendar years")
    cal.add_parser("provisional", help="open cases with a provisional deadline")
    experts = sub.add_parser("experts", help="the expert pool (Reg 35)").add_subparsers(
        dest="action", required=True)
    imp = experts.add_parser("import", help="import a pool file (CSV), upserting experts by id")
    imp.add_argument("file", type=Path, help="CSV: " + ",".join(pool.COLUMNS))
    imp.add_argument("--skip-invalid", action="store_true", help="import the good rows and list the bad ones")
    exp = experts.add_parser("export", help="write the pool file (CSV)")
    exp.add_argument("file", type=Path)
    exp.add_argument("--city", help="only the experts of this city (上海市)")
    inst = sub.add_parser("institutions", help="medical institutions and groups").add_subparsers(
        dest="action", required=True)
    inst_imp = inst.add_parser("import", help="import institutions (CSV), creating their groups as needed")
    inst_imp.add_argument("file", type=Path, help="CSV: " + ",".join(pool.INSTITUTION_COLUMNS))
    users = sub.add_parser("users", help="accounts: create users, reset passwords").add_subparsers(
        dest="action", required=True)
    new_user = users.add_parser("create", help="a user with a role (and their committee, city or expert id)")
    new_user.add_argument("username")
    new_user.add_argument("--role", required=True, choices=["admin", "intake", "mediator", "director", "expert",
                                                             "auditor"])
    new_user.add_argument("--name", help="the full name shown in the case history")
    new_user.add_argument("--committee", help="staff, directors and committee-level auditors")
    new_user.add_argument("--city", help="city-level auditors")
    new_user.add_argument("--expert-id", help="the pool member an expert account is")
    new_user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset = users.add_parser("reset-password", help="a new password; the user's earlier tokens stop working")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    seal = sub.add_parser("seal", help="the committee's seal on the documents (PAdES)").add_subparsers(
        dest="action", required=True)
    seal_new = seal.add_parser("init", help="make the committee's key and self-signed certificate")
    seal_new.add_argument("--force", action="store_true", help="replace an existing key and certificate")
    seal_new.add_argument("--committee", help="the committee that seals: the certificate's subject is its name")
    seal_new.add_argument("--name", help="the certificate's name (default: the committee's, if only one)")
    check = seal.add_parser("verify", help="check a PDF's seal: a JSON report; exit 0 valid, 1 not")
    check.add_argument("file", type=Path)
    check.add_argument("--cert", type=Path, action="append", default=[],
                       help="a trusted certificate file (PEM; repeatable); default: the configured one")
    demo = sub.add_parser("demo", help="demonstration data").add_subparsers(dest="action", required=True)
    year = demo.add_parser("year", help="a year of a city's disputes, entered through the running API as cases from "
                                        "paper records (every case through its workflow)")
    year.add_argument("--city", default="上海市")
    year.add_argument("--cases", type=int, default=3408, help="cases accepted in the year (default: Shanghai's 3408)")
    year.add_argument("--settled", type=int, help="of those, settled (default: --settled-share of them)")
    year.add_argument("--settled-share", type=float, default=0.83, help="the share settled (default 0.83)")
    year.add_argument("--year", type=int, default=date.today().year - 1, help="the year (default: last year)")
    year.add_argument("--seed", type=int, default=2025, help="the plan's seed: the same seed, the same year")
    year.add_argument("--concurrency", type=int, default=8, help="cases entered at once")
    year.add_argument("--api", help="the API's URL (default: MEDIATION_API_HOST and MEDIATION_API_PORT)")
    args = parser.parse_args(argv)
    settings = get_settings()
    core_logging.configure(settings.log_level, settings.log_format)
    if args.command == "run":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_stack(settings))
    elif args.command == "worker":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_worker(settings, documents=not args.no_documents))
    elif args.command == "documents-worker":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_documents_worker(settings))
    elif args.command == "api":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_api(settings))
    elif args.command == "migrate":
        print(f"database at revision {migrate(settings)}")
    elif args.command == "init-db":
        print("added committees:", ", ".join(init_db(settings)) or "none")
    elif args.command == "calendar":
        if args.action == "load":
            code = calendar_load(settings, args.file, args.year, args.by)
        elif args.action == "years":
            code = calendar_years(settings)
        else:
            code = calendar_provisional(settings)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # the Temporal client can crash at interpreter exit (sdk-python#300)
    elif args.command == "experts":
        if args.action == "import":
            return experts_import(settings, args.file, args.skip_invalid)
        return experts_export(settings, args.file, args.city)
    elif args.command == "institutions":
        return institutions_import(settings, args.file)
    elif args.command == "users":
        if args.action == "create":
            return users_create(settings, args)
        return users_reset_password(settings, args)
    elif args.command == "demo":
        return demo_year(settings, args)
    elif args.command == "seal":
        if args.action == "init":
            return seal_init(settings, force=args.force, name=args.name, committee=args.committee)
        return seal_verify(settings, args.file, args.cert)
    return 0


if __name__ == "__main__":
    sys.exit(main())
