"""`mediation run` (what `make run` starts): the whole embedded stack as a user runs it — a Temporal dev
server on a SQLite file, the worker and the API — stopped by Ctrl-C and started again with its data kept."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import MEDIATION
from tests.factories import registration


def test_run_serves_cases_stops_on_ctrl_c_and_keeps_its_data(new_stack):
    stack = new_stack()
    stack.start()
    text = stack.log.read_text()
    assert f"{stack.base}/docs" in text and f"http://127.0.0.1:{stack.ui_port}" in text  # where to look
    assert httpx.get(f"http://127.0.0.1:{stack.ui_port}/", timeout=5).status_code == 200  # Temporal web UI
    committees = httpx.get(f"{stack.base}/committees").json()
    assert "huangpu" in [c["id"] for c in committees]  # demo committee seeded
    case = httpx.post(f"{stack.base}/cases", json=registration(), timeout=30).json()
    assert case["status"] == "registered"

    stack.ctrl_c()
    assert "stopped" in stack.log.read_text()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{stack.base}/health", timeout=1)
    with socket.socket() as s:  # the Temporal server is gone too
        assert s.connect_ex(("127.0.0.1", stack.temporal_port)) != 0

    stack.start()
    kept = httpx.get(f"{stack.base}/cases/{case['id']}").json()
    assert kept["number"] == case["number"]
    # the workflow survived the restart too: the case goes on where it was
    moved = httpx.post(f"{stack.base}/cases/{case['id']}/request-consent", json={}, timeout=30)
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "awaiting_consent"


def test_a_worker_that_cannot_start_stops_the_stack_with_its_reason(new_stack):
    """The workers are processes of their own: one that stops (here, an installation seal key that cannot be read)
    stops `mediation run`, which says why."""
    stack = new_stack()
    data = Path(stack.env["MEDIATION_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "seal-key.pem").write_text("not a key")
    (data / "seal-cert.pem").write_text("not a certificate")
    stack.proc = subprocess.Popen([MEDIATION, "run"], env=stack.env, stdout=stack.log.open("ab"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
    assert stack.proc.wait(timeout=120) != 0
    said = stack.log.read_text()
    assert "process stopped" in said and "cannot seal documents" in said, said
    with socket.socket() as s:  # nothing is left behind: the Temporal server stopped too
        assert s.connect_ex(("127.0.0.1", stack.temporal_port)) != 0
