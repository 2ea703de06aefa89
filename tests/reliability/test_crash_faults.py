"""Crash faults: while cases are carried from registration to the archived file (PML 27), the worker is killed
with SIGKILL at random points and started again, and so is the Temporal server. Staff repeat what got no answer
or a documented 503, with the same Idempotency-Key. Afterwards nothing is lost and nothing is done twice: each
case has exactly its transitions, in sequence, each document once, and every answered request its audit entry in
a valid chain."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import datetime
from typing import Any

from domain.time import SHANGHAI
from tests.factories import SIGNATURES, agreement, payment, registration
from tests.reliability.cluster import Cluster, Desk, figures, scale

EVENTS = ["register", "request_consent", "record_consent", "accept", "schedule_session", "record_minutes",
          "draft_agreement", "sign", "sign", "sign", "sign", "record_payment", "confirm_performance", "archive"]
DOCUMENTS = Counter({("acceptance_notice", "zh"): 1, ("acceptance_notice", "en"): 1, ("session_minutes", "zh"): 1,
                     ("session_minutes", "en"): 1, ("agreement_draft", "zh"): 1, ("agreement_draft", "en"): 1,
                     ("agreement", "zh"): 1, ("agreement", "en"): 1, ("case_file", "zh"): 1})
SESSION = {"scheduled_at": "2026-12-01T09:30:00+08:00", "place": "第一调解室", "mediators": ["陈调解员"]}


def minutes(session_id: str) -> dict[str, Any]:
    return {"session_id": session_id, "held_at": datetime.now(SHANGHAI).isoformat(), "recorder": "刘记录员",
            "attendees": ["王大明", "张律师"], "statements": [{"speaker": "王大明（患方）", "text": "要求赔偿。"}]}


async def carry(desk: Desk) -> str:
    """One case, the whole way: one-sided application, consent, acceptance, a session and its minutes, the
    agreement and its four signatures, payment, performance, archiving."""
    case = await desk.until_done("POST", "/cases", registration(), ok=(201,))
    case_id = case["id"]
    await desk.act(case_id, "request-consent", {"method": "letter"})
    await desk.act(case_id, "record-consent", {"consented_by": "李院长", "method": "written"})
    await desk.act(case_id, "accept", {"mediators": ["陈调解员"]})
    session = await desk.act(case_id, "schedule-session", SESSION)
    await desk.act(case_id, "record-minutes", minutes(session["session_id"]))
    await desk.act(case_id, "draft-agreement", agreement())
    for signature in SIGNATURES:
        await desk.act(case_id, "sign", signature)
    await desk.act(case_id, "record-payment", payment())
    await desk.act(case_id, "confirm-performance")
    await desk.act(case_id, "archive")
    return case_id


async def chaos(cluster: Cluster, done: asyncio.Event, plan: list[str], seed: int) -> Counter[str]:
    """Kill each process of `plan` in turn at a random moment, and start it again a moment later."""
    rng = random.Random(seed)
    killed: Counter[str] = Counter()
    for target in plan:
        try:
            await asyncio.wait_for(done.wait(), timeout=rng.uniform(1.0, 5.0))
            break  # every case is through: no more faults
        except TimeoutError:
            pass
        await asyncio.to_thread(cluster[target].kill)
        killed[target] += 1
        await asyncio.sleep(rng.uniform(0.2, 2.0))
        await asyncio.to_thread(cluster.start, target)
    return killed


async def test_killed_workers_and_server_lose_nothing_and_do_nothing_twice(cluster: Cluster, desk: Desk):
    cases, worker_kills, server_kills = scale(4, 20), scale(3, 10), 1
    plan = ["worker"] * worker_kills + ["temporal"] * server_kills
    random.Random(7).shuffle(plan)
    done = asyncio.Event()
    started = time.monotonic()
    faults = asyncio.create_task(chaos(cluster, done, plan, seed=11))
    try:
        case_ids = await asyncio.gather(*(carry(desk) for _ in range(cases)))
    finally:
        done.set()
        killed = await faults
    for name in ("temporal", "worker", "api"):  # whatever the faults left, the cluster is whole again
        if not cluster[name].running:
            cluster.start(name)
    elapsed = time.monotonic() - started
    for case_id in case_ids:  # documents are made apart from the actions: the list waits for those being made
        deadline = time.monotonic() + 240
        while True:
            listed = await desk.http.get(f"/cases/{case_id}/documents", params={"wait": 60}, timeout=90)
            assert listed.status_code == 200, listed.text
            statuses = {d["status"] for d in listed.json()}
            if statuses == {"issued"}:
                break
            assert "failed" not in statuses and time.monotonic() < deadline, listed.text

    for case_id in case_ids:
        rows = cluster.query("SELECT seq, event FROM transitions WHERE case_id = :c ORDER BY seq", c=case_id)
        assert [seq for seq, _ in rows] == list(range(1, len(EVENTS) + 1)), (case_id, rows)
        assert [event for _, event in rows] == EVENTS, case_id  # each transition once: none lost, none twice
        documents = cluster.query("SELECT kind, lang FROM documents WHERE case_id = :c", c=case_id)
        assert Counter(map(tuple, documents)) == DOCUMENTS, (case_id, documents)
        [(status,)] = cluster.query("SELECT status FROM cases WHERE id = :c", c=case_id)
        assert status == "archived"
    verified = (await desk.http.get("/audit/verify")).json()
    assert verified["ok"] is True and verified["first_broken"] is None, verified
    audited = {row[0] for row in cluster.query("SELECT request_id FROM audit_entries")}
    missing = [i for i in desk.tally.answered_ids if i not in audited]
    assert not missing, f"{len(missing)} answered requests have no audit entry"
    assert desk.tally.server_errors == [], desk.tally.server_errors  # 5xx other than the documented 503s
    figures("crash faults", backend=cluster.backend, cases=cases, kills=dict(killed),
            requests=sum(desk.tally.statuses.values()), statuses=dict(desk.tally.statuses),
            documented_503=dict(desk.tally.unavailable), connection_errors=desk.tally.transport_errors,
            lost_transitions=0, duplicate_documents=0, audit_entries_missing=len(missing), server_errors=0,
            p50_s=desk.tally.percentile(0.5), p99_s=desk.tally.percentile(0.99), seconds=round(elapsed, 1))
