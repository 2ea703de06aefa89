"""The console script `mediation`: the embedded stack, the worker, the API and the data set-up.

    mediation run       Temporal dev server (SQLite file in ./data), worker and API in one go; Ctrl-C stops all
    mediation worker    the worker alone (production: several of them)
    mediation api       the API alone
    mediation init-db   create the tables and seed the demo committees
    mediation calendar load FILE [--year Y]   load a year's holidays and make-up workdays (CSV or JSON);
                                              every open case recomputes its deadlines
    mediation calendar years                  the known, loaded and still unknown calendar years
    mediation calendar provisional            open cases with a provisional deadline
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import uvicorn
from temporalio.client import Client

from api.main import create_app
from api.services import calendar as calendar_service
from core import logging as core_logging
from core.db import make_engine, session_factory, transaction
from core.settings import Settings, get_settings
from models import repo
from models.clock import SHANGHAI, CalendarTableError, parse_year_table
from models.repo import create_schema
from models.schemas import CalendarLoadReport
from models.seed import seed_committees
from workflows.contracts import Actor
from workflows.worker import build_worker


def init_db(settings: Settings) -> list[str]:
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    with transaction(session_factory(engine)) as session:
        added = [c.id for c in seed_committees(session=session)]
    engine.dispose()
    return added


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


async def connect(settings: Settings, *, attempts: int = 60, server: subprocess.Popen[bytes] | None = None) -> Client:
    for attempt in range(attempts):
        if server is not None and server.poll() is not None:
            log = (settings.data_dir / "temporal.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"the Temporal dev server stopped at start (is port {settings.temporal_address} "
                             f"already in use?):\n{log}")
        try:
            return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
        except Exception:  # noqa: BLE001 - not up yet
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def api_server(settings: Settings, client: Client | None = None) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings, temporal=client), host=settings.api_host, port=settings.api_port, log_level="warning"
    )
    return uvicorn.Server(config)


async def serve_api(settings: Settings, client: Client | None = None) -> None:
    await api_server(settings, client).serve()


async def run_worker(settings: Settings, client: Client | None = None) -> None:
    client = client or await connect(settings)
    engine = make_engine(settings.effective_database_url)
    worker = build_worker(client, task_queue=settings.task_queue, session_factory=session_factory(engine),
                          max_cached_workflows=settings.worker_cache_size)
    await worker.run()


def banner(settings: Settings, added: list[str]) -> str:
    base = f"http://{settings.api_host}:{settings.api_port}"
    return (
        "\n医调委 mediation stack is up\n"
        f"  API             {base}\n"
        f"  API docs        {base}/docs\n"
        f"  Temporal web UI http://127.0.0.1:{settings.temporal_ui_port}\n"
        f"  Temporal        {settings.temporal_address} (namespace {settings.temporal_namespace})\n"
        f"  data            {settings.data_dir} (kept between runs)\n"
        f"  demo committees {', '.join(added) or 'already present'} (GET {base}/committees)\n"
        "Ctrl-C stops everything.\n"
    )


async def run_stack(settings: Settings) -> None:
    added = init_db(settings)
    server = start_dev_server(settings)
    try:
        client = await connect(settings, server=server)
        worker = asyncio.create_task(run_worker(settings, client))
        api = api_server(settings, client)
        serving = asyncio.create_task(api.serve())  # returns on Ctrl-C / SIGTERM
        while not api.started and not serving.done():
            await asyncio.sleep(0.05)
        if api.started:
            print(banner(settings, added), flush=True)
        else:
            print(f"the API could not start on {settings.api_host}:{settings.api_port} (port in use?)", flush=True)
        try:
            await serving
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        print("stopped: API, worker and Temporal dev server", flush=True)


# ------------------------------------------------------------------ the working-day calendar ----------
def calendar_load(settings: Settings, path: Path, year: int | None, by: str) -> int:
    """Parse the file (every problem is reported), store the year, and tell every open case."""
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
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)

    async def store_and_tell() -> CalendarLoadReport | None:
        with session_factory(engine)() as session:
            try:
                client = await connect(settings, attempts=3)
            except Exception as err:  # noqa: BLE001 - any connection failure means the same here
                repo.save_calendar_year(session=session, table=table, at=datetime.now(SHANGHAI), by=by)
                session.commit()
                print(f"year {table.year} stored, but the workflow service at {settings.temporal_address} is "
                      f"unreachable ({err}): open cases keep their old deadlines until the year is loaded again "
                      "with the service up", file=sys.stderr)
                return None
            return await calendar_service.load(session=session, client=client, table=table,
                                               actor=Actor(id="cli", name=by, role="admin"))

    report = asyncio.run(store_and_tell())
    if report is None:
        return 1
    print(f"year {table.year} loaded{' (replacing the earlier table)' if report.replaced else ''}: "
          f"{len(table.holidays)} holidays, {len(table.workdays)} make-up workdays")
    print(f"open cases: {report.open_cases}, told: {report.signalled}, ended: {report.not_running}, "
          f"not told: {len(report.failed)}")
    for case_id in report.failed:
        print(f"  not told (load again to retry): {case_id}")
    return 0 if not report.failed else 1


def calendar_years(settings: Settings) -> int:
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    with session_factory(engine)() as session:
        for year in calendar_service.years(session=session):
            loaded = f"  loaded {year.loaded_at:%Y-%m-%d %H:%M} by {year.loaded_by}" if year.loaded_at else ""
            note = "  PROVISIONAL: counted Monday to Friday" if year.provisional else ""
            print(f"{year.year}  {year.layer:<16}{loaded}{note}")
    return 0


def calendar_provisional(settings: Settings) -> int:
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    with session_factory(engine)() as session:
        report = calendar_service.provisional(session=session, limit=200, offset=0)
    print(f"unknown years reached: {', '.join(map(str, report.unknown_years)) or 'none'}; "
          f"cases with a provisional deadline: {report.total}")
    for case in report.items:
        print(f"  {case.number}  {case.status:<14} due {case.due_date}  {case.patient_name} / {case.institution_name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mediation", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the embedded stack: Temporal dev server, worker, API")
    sub.add_parser("worker", help="the worker alone")
    sub.add_parser("api", help="the API alone")
    sub.add_parser("init-db", help="create the tables and seed the demo committees")
    cal = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(dest="action", required=True)
    load = cal.add_parser("load", help="load a year's holidays and make-up workdays from a CSV or JSON file")
    load.add_argument("file", type=Path, help="CSV (date,kind[,name]) or JSON ({year, holidays, workdays})")
    load.add_argument("--year", type=int, help="the year the file must be for")
    load.add_argument("--by", default=os.environ.get("USER", "admin"), help="who loads it (recorded)")
    cal.add_parser("years", help="the known, loaded and still unknown calendar years")
    cal.add_parser("provisional", help="open cases with a provisional deadline")
    args = parser.parse_args(argv)
    settings = get_settings()
    core_logging.configure(settings.log_level)
    if args.command == "run":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_stack(settings))
    elif args.command == "worker":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_worker(settings))
    elif args.command == "api":
        init_db(settings)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_api(settings))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
