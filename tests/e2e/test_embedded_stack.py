"""`mediation run` (what `make run` starts): the whole embedded stack as a user runs it — a Temporal dev
server on a SQLite file, the worker and the API — stopped by Ctrl-C and started again with its data kept."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import registration

MEDIATION = str(Path(sys.executable).parent / "mediation")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [MEDIATION, "run"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mediation run exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200 and "stack is up" in log.read_text():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the stack did not come up:\n{log.read_text()}")


def ctrl_c(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=30)


def test_run_serves_cases_stops_on_ctrl_c_and_keeps_its_data(tmp_path: Path):
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "MEDIATION_DATA_DIR": str(tmp_path / "data"),
        "MEDIATION_API_PORT": str(api_port),
        "MEDIATION_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "MEDIATION_TEMPORAL_UI_PORT": str(ui_port),
        "MEDIATION_TASK_QUEUE": "disputes-e2e",
    }
    env.pop("MEDIATION_DATABASE_URL", None)
    base, log = f"http://127.0.0.1:{api_port}", tmp_path / "run.log"

    first = start(env, log)
    try:
        wait_until_up(base, first, log)
        text = log.read_text()
        assert f"{base}/docs" in text and f"http://127.0.0.1:{ui_port}" in text  # where to look
        assert httpx.get(f"http://127.0.0.1:{ui_port}/", timeout=5).status_code == 200  # Temporal web UI
        committees = httpx.get(f"{base}/committees").json()
        assert "huangpu" in [c["id"] for c in committees]  # demo committee seeded
        case = httpx.post(f"{base}/cases", json=registration(), timeout=30).json()
        assert case["status"] == "registered"
    finally:
        ctrl_c(first)
    assert "stopped" in log.read_text()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/health", timeout=1)
    with socket.socket() as s:  # the Temporal server is gone too
        assert s.connect_ex(("127.0.0.1", temporal_port)) != 0

    second = start(env, log)
    try:
        wait_until_up(base, second, log)
        kept = httpx.get(f"{base}/cases/{case['id']}").json()
        assert kept["number"] == case["number"]
        # the workflow survived the restart too: the case goes on where it was
        moved = httpx.post(f"{base}/cases/{case['id']}/request-consent", json={}, timeout=30)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "awaiting_consent"
    finally:
        ctrl_c(second)
