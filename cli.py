"""The console script `mediation`: the embedded stack, the worker, the API and the data set-up.

    mediation run       Temporal dev server (SQLite file in ./data), worker and API in one go; Ctrl-C stops all
    mediation worker    the worker alone (production: several of them)
    mediation api       the API alone
    mediation init-db   create the tables and seed the demo committees
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
from pathlib import Path

import uvicorn
from temporalio.client import Client

from api.main import create_app
from core import logging as core_logging
from core.db import make_engine, session_factory, transaction
from core.settings import Settings, get_settings
from models.repo import create_schema
from models.seed import seed_committees
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
    worker = build_worker(client, task_queue=settings.task_queue, session_factory=session_factory(engine))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mediation", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the embedded stack: Temporal dev server, worker, API")
    sub.add_parser("worker", help="the worker alone")
    sub.add_parser("api", help="the API alone")
    sub.add_parser("init-db", help="create the tables and seed the demo committees")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
