"""A signature names the draft as rendered (its SHA-256, Reg 39 / PML 29), so the first signature waits for the
draft being made — for that document only: a notice still being rendered for an earlier act (the documents'
workers are busy, or slow) does not hold the parties at the signing table."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from documents.render import render_pdf
from documents.seal import SealKey, sealer_for
from tests.factories import SIGNATURES, agreement, registration
from tests.http import ok
from workflows.worker import build_worker

JOINT = {"application_type": "joint", "applicant_side": None}
HELD = "acceptance_notice"


@pytest.fixture
def notices_held() -> threading.Event:
    return threading.Event()


@pytest.fixture
async def worker(temporal_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str, seal_key: SealKey,
                 notices_held: threading.Event) -> AsyncIterator[str]:
    """The suite's worker, but its documents' worker lays out no acceptance notice until the test lets it."""
    def renderer(kind: str, context: Any, **options: Any) -> bytes:
        if kind == HELD:
            notices_held.wait(timeout=120)
        return render_pdf(kind, context, **options)

    async with build_worker(temporal_env.client, task_queue=task_queue, session_factory=sessions,
                            sealer=sealer_for(seal_key), renderer=renderer):
        try:
            yield task_queue
        finally:
            notices_held.set()  # the held layout ends before the worker stops


async def test_the_first_signature_waits_for_the_draft_not_for_an_earlier_notice(api, notices_held):
    # Reg 39: the signature refers to the draft as rendered
    case = await api.post("/cases", json=registration(**JOINT))
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    await ok(api, case_id, "submit-for-review")
    accepted = await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
    drafted = await ok(api, case_id, "draft-agreement", agreement())
    draft = (await api.get(f"/documents/{drafted['document_ids'][0]}")).json()  # a read waits for it
    assert draft["status"] == "issued"
    notice = (await api.get(f"/documents/{accepted['document_ids'][0]}", params={"wait": 0})).json()
    assert notice["status"] == "pending"  # still held

    started = time.perf_counter()
    signed = await ok(api, case_id, "sign", SIGNATURES[0])
    assert time.perf_counter() - started < 5  # not the 10 s a signature waits for its draft at most
    assert signed["status"] == "signing"

    notices_held.set()
    notice = (await api.get(f"/documents/{accepted['document_ids'][0]}")).json()
    assert notice["status"] == "issued"
