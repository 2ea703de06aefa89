"""The embedded stack as a user starts it (`mediation run`), on free ports and a temporary data folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MEDIATION = str(Path(sys.executable).parent / "mediation")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    env: dict[str, str]
    log: Path
    api_port: int
    temporal_port: int
    ui_port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, seconds: float = 90) -> None:
        self.proc = subprocess.Popen(
            [MEDIATION, "run"], env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"mediation run exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200 and "stack is up" in self.log.read_text():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"the stack did not come up:\n{self.log.read_text()}")

    def ctrl_c(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                raise

    def kill(self) -> None:
        """Whatever still runs on this stack's data folder (the dev server has a process group of its own)."""
        folder = self.env["MEDIATION_DATA_DIR"]
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
                if proc.name.isdigit() and folder in cmdline:
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                continue
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)


def make_stack(folder: Path) -> Stack:
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "MEDIATION_DATA_DIR": str(folder / "data"),
        "MEDIATION_API_PORT": str(api_port),
        "MEDIATION_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "MEDIATION_TEMPORAL_UI_PORT": str(ui_port),
        "MEDIATION_TASK_QUEUE": "disputes-e2e",
    }
    env.pop("MEDIATION_DATABASE_URL", None)
    return Stack(env=env, log=folder / "run.log", api_port=api_port, temporal_port=temporal_port, ui_port=ui_port)


@pytest.fixture
def new_stack(tmp_path: Path) -> Iterator[Callable[[], Stack]]:
    """A stack not yet started; stopped at the end of the test whatever happens."""
    stacks: list[Stack] = []

    def factory() -> Stack:
        stack = make_stack(tmp_path / f"stack{len(stacks)}")
        (tmp_path / f"stack{len(stacks)}").mkdir()
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        try:
            stack.ctrl_c()
        finally:
            stack.kill()


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One started stack shared by a module's tests; on a fresh PostgreSQL database instead of its SQLite file
    when STACK_DATABASE=postgresql (make reliability runs the fuzzing on both)."""
    stack = make_stack(tmp_path_factory.mktemp("stack"))
    database = None
    if os.environ.get("STACK_DATABASE") == "postgresql":
        from tests.reliability.conftest import _drop_postgres_database, _fresh_postgres_database

        url, database = _fresh_postgres_database()
        stack.env["MEDIATION_DATABASE_URL"] = url
    try:
        stack.start()
        yield stack
        stack.ctrl_c()
    finally:
        stack.kill()
        if database is not None:
            _drop_postgres_database(database)
