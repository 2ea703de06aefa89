"""The tamper-evident audit trail through the API: every action is recorded whatever its answer, every read by
an auditor or an expert is recorded (shared/DOMAIN.md: "Every access by an auditor or expert is logged"), and
GET /audit/verify finds a stored row that was altered afterwards.

The database is shared by the test session, so each test finds its own entries by the X-Request-ID it sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select, text

from core.db import SessionFactory, transaction
from domain.audit import ALTERED, payload_digest
from models import repo_audit
from models.tables import AuditEntry
from tests.factories import registration

STAFF = {"X-Actor-Id": "s-07", "X-Actor-Name": quote("刘受理员"), "X-Actor-Role": "intake"}
DIRECTOR = {"X-Actor-Id": "d-01", "X-Actor-Name": quote("赵主任"), "X-Actor-Role": "director"}
AUDITOR = {"X-Actor-Id": "au-01", "X-Actor-Name": quote("孙审计"), "X-Actor-Role": "auditor"}


def rid() -> str:
    return f"test-{uuid.uuid4().hex}"


async def entries(api: httpx.AsyncClient, **filters: Any) -> dict[str, Any]:
    response = await api.get("/audit", params=filters, headers=AUDITOR)
    assert response.status_code == 200, response.text
    return response.json()


async def entry_of(api: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    found = await entries(api, request_id=request_id)
    assert len(found["items"]) == 1, found
    return found["items"][0]


async def register(api: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await api.post("/cases", json=registration(**changes), headers=STAFF)
    assert response.status_code == 201, response.text
    return response.json()


async def accepted_case_with_documents(api: httpx.AsyncClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    case = await register(api, application_type="joint", applicant_side=None)
    for path, body in (("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})):
        response = await api.post(f"/cases/{case['id']}/{path}", json=body, headers=DIRECTOR)
        assert response.status_code == 200, response.text
    documents = (await api.get(f"/cases/{case['id']}/documents", headers=STAFF)).json()
    return case, documents


class TestEveryActionIsRecorded:
    async def test_a_registration_names_actor_role_action_the_new_case_its_committee_and_the_body_digest(self, api):
        body = json.dumps(registration(), ensure_ascii=False).encode()
        request_id = rid()
        response = await api.post("/cases", content=body, headers={
            **STAFF, "content-type": "application/json", "X-Request-ID": request_id})
        assert response.status_code == 201, response.text  # the body still reached the route
        case = response.json()
        assert case["patient_name"] == "王小明"

        entry = await entry_of(api, request_id)
        assert entry["actor_id"] == "s-07" and entry["actor_name"] == "刘受理员" and entry["actor_role"] == "intake"
        assert entry["action"] == "POST /cases"
        assert (entry["target_type"], entry["target_id"]) == ("case_id", case["id"])
        assert entry["committee_id"] == "huangpu"
        assert entry["status_code"] == 201
        assert entry["payload_sha256"] == hashlib.sha256(body).hexdigest()
        assert entry["at"].endswith("+08:00")

    async def test_an_action_on_a_case_names_the_route_template_and_the_case(self, api):
        case = await register(api)
        request_id = rid()
        body = {"method": "letter"}
        response = await api.post(f"/cases/{case['id']}/request-consent", json=body,
                                  headers={**STAFF, "X-Request-ID": request_id})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "awaiting_consent"  # the JSON body was read by the route

        entry = await entry_of(api, request_id)
        assert entry["action"] == "POST /cases/{case_id}/request-consent"
        assert (entry["target_type"], entry["target_id"], entry["committee_id"]) == (
            "case_id", case["id"], "huangpu")
        assert entry["payload_sha256"] == payload_digest(response.request.content)

    async def test_a_refused_action_is_recorded_too(self, api):
        case = await register(api)  # registered: nobody may accept it yet
        request_id = rid()
        response = await api.post(f"/cases/{case['id']}/accept", json={"mediators": ["陈调解员"]},
                                  headers={**DIRECTOR, "X-Request-ID": request_id})
        assert response.status_code == 409 and response.json()["code"] == "illegal_transition"

        entry = await entry_of(api, request_id)
        assert entry["status_code"] == 409
        assert entry["actor_id"] == "d-01" and entry["actor_role"] == "director"
        assert entry["action"] == "POST /cases/{case_id}/accept" and entry["target_id"] == case["id"]

    async def test_an_invalid_payload_is_recorded_with_the_digest_of_what_was_sent(self, api):
        request_id = rid()
        response = await api.post("/cases", content=b'{"committee_id": "huangpu"', headers={
            **STAFF, "content-type": "application/json", "X-Request-ID": request_id})
        assert response.status_code in (400, 422)
        entry = await entry_of(api, request_id)
        assert entry["status_code"] == response.status_code
        assert entry["payload_sha256"] == hashlib.sha256(b'{"committee_id": "huangpu"').hexdigest()
        assert entry["target_id"] is None


class TestReadsByAuditorsAndExpertsAreRecorded:  # Reg 42: case files are private; who read them is known
    async def test_an_auditor_reading_a_case_is_recorded_and_a_staff_read_is_not(self, api):
        case = await register(api)
        audited, unaudited = rid(), rid()
        response = await api.get(f"/cases/{case['id']}", headers={**AUDITOR, "X-Request-ID": audited})
        assert response.status_code == 200
        assert (await api.get(f"/cases/{case['id']}", headers={**STAFF, "X-Request-ID": unaudited})).status_code == 200

        entry = await entry_of(api, audited)
        assert entry["actor_id"] == "au-01" and entry["actor_role"] == "auditor"
        assert entry["action"] == "GET /cases/{case_id}"
        assert (entry["target_id"], entry["committee_id"], entry["status_code"]) == (case["id"], "huangpu", 200)
        assert (await entries(api, request_id=unaudited))["items"] == []

    async def test_an_auditor_downloading_a_document_is_recorded_with_the_documents_case_committee(self, api):
        _, documents = await accepted_case_with_documents(api)
        notice = next(d for d in documents if d["kind"] == "acceptance_notice" and d["lang"] == "zh")
        request_id = rid()
        pdf = await api.get(f"/documents/{notice['id']}/pdf", headers={**AUDITOR, "X-Request-ID": request_id})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert hashlib.sha256(pdf.content).hexdigest() == notice["sha256"]  # held back, then sent whole

        entry = await entry_of(api, request_id)
        assert entry["action"] == "GET /documents/{document_id}/pdf"
        assert (entry["target_type"], entry["target_id"]) == ("document_id", notice["id"])
        assert entry["committee_id"] == "huangpu"

    async def test_an_experts_read_is_recorded_even_when_refused(self, api):
        request_id = rid()
        headers = {"X-Actor-Id": "nobody", "X-Actor-Role": "expert", "X-Request-ID": request_id}
        assert (await api.get("/me/invitations", headers=headers)).status_code == 403
        entry = await entry_of(api, request_id)
        assert (entry["actor_id"], entry["actor_role"], entry["status_code"]) == ("nobody", "expert", 403)

    async def test_an_auditors_read_is_refused_when_it_cannot_be_recorded(self, api, monkeypatch, audit_log):
        case = await register(api)
        monkeypatch.setattr(repo_audit, "record_batch", _broken_record)
        response = await api.get(f"/cases/{case['id']}", headers=AUDITOR)
        assert response.status_code == 503 and response.json()["code"] == "audit_unavailable"
        assert "王小明" not in response.text  # nothing of the case left the server
        assert "AUDIT ENTRY NOT WRITTEN" in audit_log.text


def _broken_record(**_: Any) -> None:
    raise RuntimeError("the audit table is unreachable")


@pytest.fixture
def audit_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """CRITICAL lines of api.audit (a logging configuration loaded by another test may have disabled it)."""
    monkeypatch.setattr(logging.getLogger("api.audit"), "disabled", False)
    caplog.set_level(logging.CRITICAL, logger="api.audit")
    return caplog


class TestAnUnrecordableActionStillAnswers:
    async def test_the_answer_is_unchanged_and_the_entry_goes_to_the_log(self, api, monkeypatch, audit_log):
        monkeypatch.setattr(repo_audit, "record_batch", _broken_record)
        request_id = rid()
        response = await api.post("/cases", json=registration(), headers={**STAFF, "X-Request-ID": request_id})
        assert response.status_code == 201  # the case exists: saying otherwise would invite a second one
        assert "AUDIT ENTRY NOT WRITTEN" in audit_log.text and request_id in audit_log.text


class TestRequestIds:
    async def test_the_clients_id_is_echoed(self, api):
        response = await api.get("/health", headers={"X-Request-ID": "abc-123"})
        assert response.headers["X-Request-ID"] == "abc-123"

    async def test_a_request_without_one_gets_a_new_id_that_the_entry_holds(self, api):
        response = await api.post("/cases", json=registration(), headers=STAFF)
        assert response.status_code == 201
        request_id = response.headers["X-Request-ID"]
        assert len(request_id) == 32 and int(request_id, 16) >= 0  # uuid4 hex
        entry = await entry_of(api, request_id)
        assert entry["target_id"] == response.json()["id"]


class TestReadingTheTrail:
    async def test_only_auditors_and_admins_read_it(self, api):
        assert (await api.get("/audit", headers=STAFF)).status_code == 403
        assert (await api.get("/audit/verify", headers=STAFF)).status_code == 403
        assert (await api.get("/audit", headers={**AUDITOR, "X-Actor-Role": "admin"})).status_code == 200

    async def test_filters_by_actor_target_committee_action_and_time(self, api):
        case = await register(api)
        await api.post(f"/cases/{case['id']}/request-consent", json={"method": "letter"}, headers=STAFF)
        of_case = await entries(api, target_id=case["id"])
        assert [e["action"] for e in of_case["items"]] == ["POST /cases/{case_id}/request-consent", "POST /cases"]
        assert not of_case["has_more"]

        consent = await entries(api, target_id=case["id"], action="request-consent", actor_id="s-07",
                                committee_id="huangpu")
        assert len(consent["items"]) == 1
        assert (await entries(api, target_id=case["id"], committee_id="xuhui"))["items"] == []

        now = datetime.now(UTC)
        assert (await entries(api, target_id=case["id"], **{"from": (now + timedelta(hours=1)).isoformat()}))[
            "items"] == []
        assert len((await entries(api, target_id=case["id"], to=(now + timedelta(hours=1)).isoformat()))[
            "items"]) == 2

    async def test_pages_newest_first(self, api):
        await register(api)
        page = await entries(api, limit=2)
        assert len(page["items"]) == 2 and page["items"][0]["id"] > page["items"][1]["id"]
        after = await entries(api, limit=2, cursor=page["next_cursor"])
        assert page["items"][1]["id"] > after["items"][0]["id"] > after["items"][1]["id"]


class TestVerify:
    async def test_the_recorded_chain_is_intact(self, api):
        await register(api)
        report = (await api.get("/audit/verify", headers=AUDITOR)).json()
        assert report["ok"] is True and report["first_broken"] is None and report["checked"] >= 1

    async def test_a_row_altered_in_the_database_is_named(self, api, sessions: SessionFactory):
        case = await register(api)
        request_id = rid()
        await api.post(f"/cases/{case['id']}/request-consent", json={"method": "letter"},
                       headers={**STAFF, "X-Request-ID": request_id})
        entry = await entry_of(api, request_id)
        try:
            with transaction(sessions) as session:  # someone with database access rewrites history
                session.execute(text("UPDATE audit_entries SET action = :forged WHERE id = :id"),
                                {"forged": "GET /cases/{case_id}", "id": entry["id"]})
            report = (await api.get("/audit/verify", headers=AUDITOR)).json()
            assert report["ok"] is False
            assert report["first_broken"] == {"id": entry["id"], "reason": ALTERED}
        finally:
            with transaction(sessions) as session:
                session.execute(text("UPDATE audit_entries SET action = :action WHERE id = :id"),
                                {"action": entry["action"], "id": entry["id"]})
        assert (await api.get("/audit/verify", headers=AUDITOR)).json()["ok"] is True

    def test_concurrent_appends_keep_one_chain(self, sessions: SessionFactory):
        threads, each = 8, 10
        errors: list[BaseException] = []
        start = threading.Barrier(threads)
        marker = f"thread-test-{uuid.uuid4().hex[:8]}"

        def work(n: int) -> None:
            start.wait()
            for i in range(each):
                try:
                    with transaction(sessions) as session:  # `append` itself, without `record`'s retry
                        repo_audit.append(session=session, at=datetime.now(UTC), actor_id=f"t{n}",
                                          action=marker, request_id=f"{n}-{i}", payload_sha256=payload_digest(b""))
                except BaseException as err:  # noqa: BLE001 - collected and asserted below
                    errors.append(err)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

        assert errors == []  # no append lost to a fork refused by the unique prev_hash
        with sessions() as session:
            count = session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == marker)).scalar_one()
            forks = session.execute(
                select(AuditEntry.prev_hash).group_by(AuditEntry.prev_hash).having(func.count() > 1)).all()
            report = repo_audit.verify(session=session)
        assert count == threads * each
        assert forks == []
        assert report.ok, report.first_broken

