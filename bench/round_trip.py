"""Staff-action round trip through the API next to a bare Temporal Update on the same server, and the
agreement PDF render time. Prints one JSON line of figures, then a human table.

    make bench            (or: python -m bench.round_trip --cases 20)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import uvicorn
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from cli import _temporal_binary, init_db
from core.db import engine_of, session_factory
from core.settings import Settings
from documents.contexts import AgreementContext, PartyBlock, SignatureBlock, Term
from documents.render import render_pdf
from tests.factories import SIGNATURES, agreement, registration
from workflows.activities import DisputeActivities
from workflows.dispute import DisputeWorkflow
from workflows.worker import RUNNER


@workflow.defn(sandboxed=False)
class BareUpdateWorkflow:
    """The smallest workflow with an Update: the floor of what an Update round trip costs here."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    def ping(self, n: int) -> int:
        return n + 1

    @workflow.signal
    def finish(self) -> None:
        self._done = True


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def staff_actions(api: httpx.AsyncClient, cases: int) -> list[float]:
    """Times every staff action of a case carried to an effective agreement."""
    timings: list[float] = []
    for _ in range(cases):
        case = (await api.post("/cases", json=registration())).json()
        steps = [
            ("request-consent", {}),
            ("record-consent", {"consented_by": "李院长", "method": "written"}),
            ("accept", {"mediators": ["陈调解员"]}),
            ("schedule-session", {"scheduled_at": "2026-11-25T09:30:00+08:00", "place": "第一调解室",
                                  "mediators": ["陈调解员"]}),
        ]
        for path, body in steps:
            start = time.perf_counter()
            response = await api.post(f"/cases/{case['id']}/{path}", json=body)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
        # the draft renders two PDFs: measured apart from the plain actions
        await api.post(f"/cases/{case['id']}/draft-agreement", json=agreement())
        for signature in SIGNATURES:
            start = time.perf_counter()
            response = await api.post(f"/cases/{case['id']}/sign", json=signature)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
    return timings


async def bare_updates(env: WorkflowEnvironment, task_queue: str, count: int) -> list[float]:
    handle = await env.client.start_workflow(BareUpdateWorkflow.run, id=f"bare-{uuid.uuid4().hex}", task_queue=task_queue)
    timings = []
    for i in range(count):
        start = time.perf_counter()
        assert await handle.execute_update(BareUpdateWorkflow.ping, i) == i + 1
        timings.append((time.perf_counter() - start) * 1000)
    await handle.signal(BareUpdateWorkflow.finish)
    return timings


def render_times(count: int) -> list[float]:
    context = AgreementContext(
        committee_name="上海市黄浦区医疗纠纷人民调解委员会",
        case_number="〔2026〕沪黄医调字第1号",
        document_number="〔2026〕沪黄医调协字第1号",
        version=1,
        parties=(PartyBlock(side="patient", name="王小明", id_number="310101198001011234"),
                 PartyBlock(side="institution", name="上海市某区人民医院", legal_representative="李院长")),
        facts="患者术后切口感染，经再次手术治愈。" * 10,
        points_in_dispute="医方诊疗行为是否存在过错及赔偿数额。",
        responsibilities="医方承担主要责任。",
        terms=(Term(text="医方一次性支付赔偿款", amount=Decimal("86500.50"), manner="银行转账",
                    deadline_text="协议生效之日起10个工作日内"),),
        total_amount=Decimal("86500.50"),
        performance_deadline=None,
        mediators=("陈调解员",),
        signatures=(SignatureBlock(role="patient", label="患方"),),
        drafted_at=datetime.now(timezone.utc),
    )
    render_pdf("agreement", context)  # warm the font cache
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        render_pdf("agreement", context)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


async def main(cases: int, bare: int, renders: int) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="mediation-bench-"))
    settings = Settings(data_dir=data_dir, task_queue=f"bench-{uuid.uuid4().hex[:8]}", api_port=8765)
    init_db(settings)
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=_temporal_binary())
    engine = engine_of(settings)
    activities = DisputeActivities(session_factory(engine))
    worker = Worker(
        env.client,
        task_queue=settings.task_queue,
        workflows=[DisputeWorkflow, BareUpdateWorkflow],
        workflow_runner=RUNNER,
        activities=activities.all(),
        activity_executor=ThreadPoolExecutor(8),
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings, temporal=env.client), host="127.0.0.1",
                                           port=settings.api_port, log_level="warning"))
    async with worker:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=60) as api:
            await staff_actions(api, 1)  # warm-up
            actions = await staff_actions(api, cases)
        bare_timings = await bare_updates(env, settings.task_queue, bare)
        server.should_exit = True
        await serving
    await env.shutdown()
    render = render_times(renders)
    figures = {
        "staff_action_ms_p50": round(pct(actions, 0.5), 2),
        "staff_action_ms_p99": round(pct(actions, 0.99), 2),
        "bare_update_ms_p50": round(pct(bare_timings, 0.5), 2),
        "bare_update_ms_p99": round(pct(bare_timings, 0.99), 2),
        "ratio_p50": round(pct(actions, 0.5) / pct(bare_timings, 0.5), 2),
        "agreement_pdf_render_ms_median": round(statistics.median(render), 1),
        "staff_actions": len(actions),
        "bare_updates": len(bare_timings),
        "renders": len(render),
        "database": "sqlite",
        "cpus": os.cpu_count(),
    }
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--bare", type=int, default=200)
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()
    figures = asyncio.run(main(args.cases, args.bare, args.renders))
    print(json.dumps(figures), flush=True)
    print(f"{'figure':34} value", flush=True)
    for key, value in figures.items():
        print(f"{key:34} {value}", flush=True)
    sys.stdout.flush()
    os._exit(0)  # sdk-python#300: the Temporal client can crash a short-lived script at exit
