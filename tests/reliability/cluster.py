"""The product as separate processes, as a city's IT department runs it: a Temporal server persisting to its own
SQLite file, the worker (`mediation worker`), the API (`mediation api`), and the database (SQLite, or a fresh
PostgreSQL database). Each process can be killed with SIGKILL, frozen with SIGSTOP, and started again on the same
ports and data, so that the tests can inject the faults a real installation meets.

`Desk` is the committee's staff at the API: every action carries an Idempotency-Key and is repeated, with the
same key, after a connection error or a documented 503, the way a console or a careful script would; every
request has an X-Request-ID of its own, remembered, so that the audit trail can be checked for each.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

MEDIATION = str(Path(sys.executable).parent / "mediation")
TEMPORAL = str(Path(sys.executable).parent / "temporal")
ACTION_TIMEOUT = 8.0  # MEDIATION_ACTION_TIMEOUT_SECONDS of a cluster for faults: they are felt quickly
DOCUMENTED_503 = frozenset({"action_timed_out", "database_busy", "unavailable"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scale(ci: int, full: int) -> int:
    """RELIABILITY_SCALE=full (make reliability) runs the long form; CI (make test) the bounded one."""
    return full if os.environ.get("RELIABILITY_SCALE") == "full" else ci


def figures(name: str, **values: Any) -> None:
    """One JSON line of figures per scenario, on stdout and in $RELIABILITY_REPORT (make reliability)."""
    line = json.dumps({"scenario": name, **values}, ensure_ascii=False, sort_keys=True)
    print(f"\nRELIABILITY {line}", flush=True)
    report = os.environ.get("RELIABILITY_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as out:
            out.write(line + "\n")


@dataclass
class Process:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            assert self.proc is not None
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL, the whole process group: no clean-up, as a crash or an OOM kill would leave it."""
        if self.running:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.running:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int:
        """The process's resident memory (VmRSS), in KiB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@dataclass
class Cluster:
    folder: Path
    database_url: str
    backend: str
    action_timeout: float = ACTION_TIMEOUT
    temporal_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIATION_")}
        return {
            **env,
            "MEDIATION_DATA_DIR": str(self.folder / "data"),
            "MEDIATION_DATABASE_URL": self.database_url,
            "MEDIATION_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "MEDIATION_TASK_QUEUE": "disputes-reliability",
            "MEDIATION_API_PORT": str(self.api_port),
            "MEDIATION_WORKER_METRICS_PORT": str(self.metrics_port),
            "MEDIATION_ACTION_TIMEOUT_SECONDS": str(self.action_timeout),
            "MEDIATION_LOG_FORMAT": "json",
            "MEDIATION_LOG_LEVEL": "WARNING",
        }

    def prepare(self) -> None:
        """The schema, the demo committees and pool, the seal key: `mediation init-db`."""
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        done = subprocess.run([MEDIATION, "init-db"], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        self.processes = {
            "temporal": Process("temporal", [
                TEMPORAL, "server", "start-dev", "--db-filename", str(self.folder / "temporal.db"),
                "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
                "--ip", "127.0.0.1", "--port", str(self.temporal_port), "--ui-port", str(self.ui_port),
                "--headless", "--log-level", "error",
            ], self.folder / "temporal.log", self.env),
            "worker": Process("worker", [MEDIATION, "worker"], self.folder / "worker.log", self.env),
            "api": Process("api", [MEDIATION, "api"], self.folder / "api.log", self.env),
        }

    def __getitem__(self, name: str) -> Process:
        return self.processes[name]

    # ------------------------------------------------------------------ starting -------------------------
    def start(self, *names: str) -> None:
        for name in names or ("temporal", "worker", "api"):
            self.processes[name].start()
            {"temporal": self._temporal_up, "worker": self._worker_up, "api": self._api_up}[name]()

    def _wait(self, name: str, check: Any, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            process = self.processes[name]
            if not process.running:
                raise AssertionError(f"{name} exited:\n{process.log.read_text(errors='replace')[-3000:]}")
            try:
                if check():
                    return
            except (OSError, httpx.HTTPError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"{name} did not come up:\n{self.processes[name].log.read_text(errors='replace')[-3000:]}")

    def _temporal_up(self) -> None:
        def answers() -> bool:
            with socket.create_connection(("127.0.0.1", self.temporal_port), timeout=1):
                return True
        self._wait("temporal", answers)

    def _worker_up(self) -> None:
        self._wait("worker", lambda: httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=1)
                   .status_code == 200)

    def _api_up(self) -> None:
        self._wait("api", lambda: httpx.get(f"{self.base}/health/ready", timeout=2).status_code == 200)

    def restart(self, name: str) -> None:
        self.processes[name].kill()
        self.start(name)

    def stop(self) -> None:
        for name in ("api", "worker", "temporal"):
            if name in self.processes:
                self.processes[name].stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log.read_text(errors='replace')[-4000:]}"
                         for p in self.processes.values() if p.log.exists())

    # ------------------------------------------------------------------ the database, directly ------------
    def query(self, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def hold_the_database(self, seconds: float) -> None:
        """An exclusive lock on the database for `seconds` (a backup, a long migration, a stuck transaction)."""
        if self.backend == "sqlite":
            connection = sqlite3.connect(self.database_url.split("///", 1)[1], timeout=30, isolation_level=None)
            connection.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            connection.execute("COMMIT")
            connection.close()
            return
        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.begin() as connection:
                connection.execute(text("LOCK TABLE cases, transitions, audit_entries IN ACCESS EXCLUSIVE MODE"))
                time.sleep(seconds)
        finally:
            engine.dispose()


# ------------------------------------------------------------------ staff at the API ---------------------
@dataclass
class Tally:
    """What the staff met: every status, the documented 503s, the connection errors, and any other 5xx."""

    statuses: Counter[int] = field(default_factory=Counter)
    unavailable: Counter[str] = field(default_factory=Counter)  # documented 503s, by code
    transport_errors: int = 0
    server_errors: list[str] = field(default_factory=list)  # 5xx other than the documented 503s: bugs
    latencies: list[float] = field(default_factory=list)
    answered_ids: list[str] = field(default_factory=list)  # X-Request-ID of every request that got an answer

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)


class Desk:
    def __init__(self, http: httpx.AsyncClient, tally: Tally | None = None, patience: float = 180) -> None:
        self.http = http
        self.tally = tally or Tally()
        self.patience = patience  # how long an action is repeated before the test gives up on it

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        request_id = uuid.uuid4().hex
        headers = {**kwargs.pop("headers", {}), "X-Request-ID": request_id}
        started = time.monotonic()
        try:
            response = await self.http.request(method, path, headers=headers, timeout=120, **kwargs)
        except httpx.TransportError:
            self.tally.transport_errors += 1
            return None
        self.tally.latencies.append(time.monotonic() - started)
        self.tally.statuses[response.status_code] += 1
        self.tally.answered_ids.append(request_id)
        if response.status_code == 503 and _code(response) in DOCUMENTED_503:
            self.tally.unavailable[_code(response)] += 1
        elif response.status_code >= 500:
            self.tally.server_errors.append(f"{method} {path} -> {response.status_code} {response.text[:300]}")
        return response

    async def until_done(self, method: str, path: str, json_body: Any = None, *, ok: tuple[int, ...] = (200, 201),
                         key: str | None = None) -> dict[str, Any]:
        """Send, and send again with the same Idempotency-Key after a connection error or a 503, until answered."""
        key = key or uuid.uuid4().hex
        deadline = time.monotonic() + self.patience
        pause = 0.3
        while True:
            response = await self.request(method, path, json=json_body, headers={"Idempotency-Key": key})
            if response is not None and response.status_code in ok:
                return response.json()
            if response is not None and response.status_code < 500:
                raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path}: still not done after {self.patience} s")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 3.0)

    async def act(self, case_id: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.until_done("POST", f"/cases/{case_id}/{action}", body or {})


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""
