"""Faults at the edges: a database held for 10 s, a 50 MB body with no credentials, a frozen worker and a killed
Temporal server during an action. Each is answered — never a 500, never a hang past the action's timeout, never
an unbounded read — and nothing recorded is lost."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid

from tests.factories import EXTENSION, registration
from tests.reliability.cluster import ACTION_TIMEOUT, Cluster, Desk, figures, scale

JOINT = {"application_type": "joint", "applicant_side": None}
MIB = 1024 * 1024


async def in_mediation(desk: Desk) -> str:
    case = await desk.until_done("POST", "/cases", registration(**JOINT), ok=(201,))
    await desk.act(case["id"], "submit-for-review")
    await desk.act(case["id"], "accept", {"mediators": ["陈调解员"]})
    return case["id"]


async def settled(desk: Desk, case_id: str) -> None:
    """Wait until the work that follows an acceptance (its notice issued, the mediators told) is done, so that a
    worker frozen next is frozen idle. Frozen inside a SQLite write it would hold the database's write lock, and
    every writer would wait for it: that is a database stall (TestADatabaseStall), not a frozen worker."""
    listed = await desk.request("GET", f"/cases/{case_id}/documents")
    for document in (listed.json() if listed is not None and listed.status_code == 200 else []):
        await desk.request("GET", f"/documents/{document['id']}")  # answers once the document is issued
    await asyncio.sleep(1.0)  # the notifications that follow


class TestADatabaseStall:
    async def test_actions_during_a_ten_second_lock_are_applied_once_and_nothing_is_lost(self, cluster, desk):
        case_ids = await asyncio.gather(*(in_mediation(desk) for _ in range(scale(6, 20))))
        holder = threading.Thread(target=cluster.hold_the_database, args=(10,))
        holder.start()
        await asyncio.sleep(0.5)  # the lock is held
        started = time.monotonic()
        applied = await asyncio.gather(*(desk.act(case_id, "extend-deadline", EXTENSION) for case_id in case_ids))
        elapsed = time.monotonic() - started
        await asyncio.to_thread(holder.join)
        assert all(a["event"] == "extend_deadline" for a in applied)
        for case_id in case_ids:
            rows = cluster.query("SELECT event FROM transitions WHERE case_id = :c AND event = 'extend_deadline'",
                                 c=case_id)
            assert len(rows) == 1, case_id  # applied once, after repeats with the same Idempotency-Key
        assert desk.tally.server_errors == [], desk.tally.server_errors
        figures("database stall", backend=cluster.backend, stall_s=10, actions=len(case_ids),
                documented_503=dict(desk.tally.unavailable), server_errors=0, lost=0,
                all_applied_after_s=round(elapsed, 1))


class TestAnUnboundedBody:
    def test_fifty_megabytes_without_credentials_are_refused_unread(self, cluster: Cluster):
        api = cluster["api"]
        before = api.rss_kib()
        answers = [_send_large_body(cluster.api_port, 50 * MIB, declared=True),
                   _send_large_body(cluster.api_port, 50 * MIB, declared=False)]
        grew = api.rss_kib() - before
        assert all(a.startswith("HTTP/1.1 413") for a in answers), answers
        assert all("payload_too_large" in a for a in answers), answers
        assert grew < 20 * 1024, f"the API's memory grew by {grew} KiB"  # never the body: at most the limit
        figures("unbounded body", backend=cluster.backend, body_mib=50, answers=[a.split("\r\n", 1)[0] for a in answers],
                rss_growth_kib=grew)


def _send_large_body(port: int, size: int, *, declared: bool) -> str:
    """POST /cases with `size` bytes, no credentials, declared (Content-Length) or chunked; the status line and
    body of the answer, read while (or instead of) sending the rest."""
    headers = ["POST /cases HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
               "Connection: close"]
    headers.append(f"Content-Length: {size}" if declared else "Transfer-Encoding: chunked")
    chunk = b"[" + b"0," * (MIB // 2 - 1) + b"0]"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        sent = 0
        s.settimeout(0.05)
        answer = b""
        while sent < size:
            try:
                part = chunk if declared else f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                s.sendall(part)
                sent += len(chunk)
            except OSError:
                break  # the server answered and closed: the rest is never read
            try:
                answer += s.recv(65536)
                if answer:
                    break
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                break
        s.settimeout(10)
        try:
            while data := s.recv(65536):
                answer += data
        except OSError:
            pass
    return answer.decode(errors="replace")


class TestTheActionTimeoutIsTheWholeCall:
    async def test_a_frozen_worker_is_answered_503_within_the_timeout_and_the_action_applies_once_later(
        self, cluster: Cluster, desk: Desk
    ):
        case_id = await in_mediation(desk)
        await settled(desk, case_id)
        key = uuid.uuid4().hex
        cluster["worker"].signal(19)  # SIGSTOP: alive, but not working
        try:
            started = time.monotonic()
            answer = await desk.request("POST", f"/cases/{case_id}/extend-deadline", json=EXTENSION,
                                        headers={"Idempotency-Key": key})
            waited = time.monotonic() - started
        finally:
            cluster["worker"].signal(18)  # SIGCONT
        assert answer is not None and answer.status_code == 503, answer and answer.text
        assert answer.headers["retry-after"] and answer.json()["code"] == "action_timed_out"
        assert answer.json()["case_version"] == 3 and "version" in answer.json()["detail"]
        assert waited < ACTION_TIMEOUT + 3, f"answered after {waited:.1f} s"
        again = await desk.until_done("POST", f"/cases/{case_id}/extend-deadline", EXTENSION, key=key)
        assert again["event"] == "extend_deadline"
        rows = cluster.query("SELECT seq FROM transitions WHERE case_id = :c AND event = 'extend_deadline'", c=case_id)
        assert len(rows) == 1  # the request that timed out and its repeat: one extension
        figures("frozen worker", backend=cluster.backend, answered_after_s=round(waited, 1),
                action_timeout_s=ACTION_TIMEOUT, applied=len(rows))

    async def test_a_server_killed_during_an_action_is_answered_within_the_timeout(
        self, cluster: Cluster, desk: Desk
    ):
        case_id = await in_mediation(desk)
        await settled(desk, case_id)
        key = uuid.uuid4().hex
        cluster["worker"].signal(19)  # the action is in flight, waiting on the worker, when the server dies

        async def kill_the_server() -> None:
            await asyncio.sleep(1)
            await asyncio.to_thread(cluster["temporal"].kill)

        started = time.monotonic()
        killing = asyncio.create_task(kill_the_server())
        answer = await desk.request("POST", f"/cases/{case_id}/extend-deadline", json=EXTENSION,
                                    headers={"Idempotency-Key": key})
        waited = time.monotonic() - started
        await killing
        cluster["worker"].signal(18)
        cluster.start("temporal")
        assert answer is not None and answer.status_code == 503, answer and answer.text
        assert waited < ACTION_TIMEOUT + 3, f"answered after {waited:.1f} s (the defect as found: none after 200 s)"
        again = await desk.until_done("POST", f"/cases/{case_id}/extend-deadline", EXTENSION, key=key)
        assert again["event"] == "extend_deadline"
        rows = cluster.query("SELECT seq FROM transitions WHERE case_id = :c AND event = 'extend_deadline'", c=case_id)
        assert len(rows) == 1
        assert desk.tally.server_errors == [], desk.tally.server_errors
        figures("server killed mid-action", backend=cluster.backend, answered_after_s=round(waited, 1),
                action_timeout_s=ACTION_TIMEOUT, applied=len(rows))
