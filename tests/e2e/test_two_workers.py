"""Horizontal scale: two worker processes (`mediation worker`) on one task queue, against the Temporal dev server
and the test database, while the API runs apart with no worker of its own. Cases run through from registration
to the archived case file; both workers take part (each one's Prometheus endpoint counts the activities it ran)
and nothing is done twice: one set of documents per case, one transition per sequence number, one audit entry
per request, each notification (a consultation panel's) delivered once — also when one of the workers leaves halfway."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlmodel import select

from api.main import create_app
from core.settings import Settings
from models.tables import AuditEntry, Document, Notification, Transition
from tests.e2e.conftest import MEDIATION, free_port
from tests.factories import SIGNATURES, agreement, linked_to, payment
from tests.pools import City, make_city

CASES = 6
EXPECTED_DOCUMENTS = Counter({("acceptance_notice", "zh"): 1, ("acceptance_notice", "en"): 1,
                              ("agreement_draft", "zh"): 1, ("agreement_draft", "en"): 1,
                              ("agreement", "zh"): 1, ("agreement", "en"): 1, ("case_file", "zh"): 1})


@pytest.fixture
def workers(temporal_env, database_url, seal_paths, engine, tmp_path) -> Iterator[tuple[str, list[dict]]]:
    """Two `mediation worker` processes on a task queue of their own; each serves its SDK metrics."""
    queue = f"two-workers-{uuid.uuid4().hex[:8]}"
    started = []
    for n in range(2):
        port = free_port()
        env = {**os.environ, "MEDIATION_DATABASE_URL": database_url, "MEDIATION_TASK_QUEUE": queue,
               "MEDIATION_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
               "MEDIATION_SEAL_KEY_PATH": str(seal_paths[0]), "MEDIATION_SEAL_CERT_PATH": str(seal_paths[1]),
               "MEDIATION_DATA_DIR": str(tmp_path / f"worker{n}"), "MEDIATION_WORKER_METRICS_PORT": str(port),
               "MEDIATION_LOG_FORMAT": "json", "MEDIATION_LOG_LEVEL": "INFO"}
        log = tmp_path / f"worker{n}.log"
        proc = subprocess.Popen([MEDIATION, "worker"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        started.append({"proc": proc, "port": port, "log": log})
    try:
        deadline = time.monotonic() + 60
        for worker in started:  # up once its metrics endpoint answers
            while True:
                if worker["proc"].poll() is not None:
                    pytest.fail(f"a worker exited:\n{worker['log'].read_text()}")
                try:
                    httpx.get(f"http://127.0.0.1:{worker['port']}/metrics", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"a worker did not come up:\n{worker['log'].read_text()}")
                    time.sleep(0.2)
        yield queue, started
    finally:
        for worker in started:
            if worker["proc"].poll() is None:
                os.killpg(worker["proc"].pid, signal.SIGTERM)
                try:
                    worker["proc"].wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker["proc"].pid, signal.SIGKILL)


@pytest.fixture
async def api_alone(temporal_env, database_url, workers, seal_paths) -> AsyncIterator[httpx.AsyncClient]:
    queue, _ = workers
    settings = Settings(database_url=database_url, task_queue=queue, seal_key_path=seal_paths[0],
                        seal_cert_path=seal_paths[1])
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            yield client


class Desk:
    """Staff at the API: every request with an id of its own, remembered."""

    def __init__(self, api: httpx.AsyncClient, city: City) -> None:
        self.city = city
        self.api = api
        self.sent: list[str] = []

    async def post(self, path: str, body: dict, status: int = 200) -> dict:
        request_id = uuid.uuid4().hex
        self.sent.append(request_id)
        response = await self.api.post(path, json=body, headers={"X-Request-ID": request_id})
        assert response.status_code == status, response.text
        return response.json()

    async def accepted(self) -> str:
        # linked to the registry's respondent (Reg 37): a consultation needs the link
        case = await self.post("/cases", linked_to(self.city.respondent, committee_id=self.city.committee_id,
                                                   application_type="joint", applicant_side=None), 201)
        await self.post(f"/cases/{case['id']}/submit-for-review", {})
        await self.post(f"/cases/{case['id']}/accept", {"mediators": ["陈调解员"]})
        # A consultation: its panel tells someone at once (an invitation, or staff that the seat is unfilled),
        # a notification for the outbox to deliver exactly once.
        await self.post(f"/cases/{case['id']}/request-consultation",
                        {"specialties": ["law"], "question": "医方术中消毒是否规范"})
        deadline = time.monotonic() + 30
        while not (await self.api.get(f"/cases/{case['id']}/notifications")).json()["items"]:
            assert time.monotonic() < deadline, "the panel told nobody"
            await asyncio.sleep(0.2)
        return case["id"]

    async def through_to_the_case_file(self, case_id: str) -> None:
        steps = [("draft-agreement", agreement()), *[("sign", s) for s in SIGNATURES],
                 ("record-payment", payment()), ("confirm-performance", {}), ("archive", {})]
        for action, body in steps:
            await self.post(f"/cases/{case_id}/{action}", body)
        # The documents are made apart from the actions: staff see them issued when they open the case's list (a
        # document the leaving worker was rendering is rendered again once its heartbeat times out).
        deadline = time.monotonic() + 180
        while True:
            listed = await self.api.get(f"/cases/{case_id}/documents", params={"wait": 45})
            assert listed.status_code == 200, listed.text
            statuses = {d["status"] for d in listed.json()}
            if statuses == {"issued"}:
                break
            assert "failed" not in statuses and time.monotonic() < deadline, listed.text


def activities_run(port: int) -> int:
    """Activities a worker has run, from its Prometheus endpoint (the Temporal SDK's metrics)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(int(float(n)) for n in re.findall(r"^temporal_activity_execution_latency\w*_count\{[^}]*\} (\S+)$",
                                                  text, re.M))


async def test_two_workers_share_the_cases_and_do_nothing_twice(api_alone, workers, sessions):
    _, started = workers
    desk = Desk(api_alone, make_city(sessions))
    case_ids = await asyncio.gather(*(desk.accepted() for _ in range(CASES)))

    # The busier worker leaves (a deploy, a scale-down); the other carries every case on from where it was.
    ran_before = [activities_run(worker["port"]) for worker in started]
    leaving = max(range(2), key=lambda n: ran_before[n])
    os.killpg(started[leaving]["proc"].pid, signal.SIGTERM)
    started[leaving]["proc"].wait(timeout=20)
    await asyncio.gather(*(desk.through_to_the_case_file(case_id) for case_id in case_ids))
    staying = started[1 - leaving]

    for case_id in case_ids:
        assert (await api_alone.get(f"/cases/{case_id}")).json()["status"] == "archived"
    assert ran_before[leaving] > 0 and activities_run(staying["port"]) > ran_before[1 - leaving]
    sent = desk.sent

    with sessions() as session:
        for case_id in case_ids:
            documents = session.exec(select(Document).where(Document.case_id == case_id)).all()
            assert Counter((d.kind, d.lang) for d in documents) == EXPECTED_DOCUMENTS
            seqs = [t.seq for t in session.exec(select(Transition).where(Transition.case_id == case_id)).all()]
            assert sorted(seqs) == list(range(1, len(seqs) + 1)) and len(seqs) == 12  # register … archive
        audited = Counter(e.request_id for e in session.exec(
            select(AuditEntry).where(AuditEntry.request_id.in_(sent))).all())  # type: ignore[attr-defined]
        assert audited == Counter(sent)  # one entry per request
        notified = session.exec(select(Notification).where(
            Notification.case_id.in_(case_ids))).all()  # type: ignore[attr-defined]

    delivered = Counter()
    for worker in started:
        for line in worker["log"].read_text().splitlines():
            if line.startswith("{") and (entry := json.loads(line))["logger"] == "mediation.notifications":
                delivered[(entry["case_id"], entry["message"])] += 1
    assert len({n.case_id for n in notified}) == CASES and all(n.delivered_at is not None for n in notified)
    assert all(n == 1 for n in delivered.values()), delivered
    assert sum(delivered.values()) == len(notified)  # each notification delivered once, by one of the workers
