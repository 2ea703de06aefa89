"""Attachments on the real stack (docs/attachments.md): the files the parties bring, uploaded, stored by their
SHA-256, downloaded byte for byte, refused when too large or not what they claim to be, shown to whom the law
allows (Reg 42), withdrawn and kept, named by the events they document, bound into the 卷宗 (PML 27).

Every test runs with the filesystem store (the embedded stack's) and with the S3 store against an S3-compatible
server the test starts (moto's standalone server, standing in for MinIO, which cannot run here): a real Temporal
dev server, SQLite or PostgreSQL, the documents' worker binding the case file from the same store."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pypdf import PdfReader
from temporalio.worker import Worker

from api.main import create_app
from core.blobstore import FileStore, S3Store, store_of
from core.settings import Settings
from documents.seal import sealer_for
from tests.api.test_expert_consultation_api import (
    DIRECTOR,
    MEDIATOR,
    as_expert,
    case_in_mediation,
    panel_of,
)
from tests.factories import APPRAISAL, OPINION, SIGNATURES, WITHDRAWAL, agreement, payment, registration
from tests.http import ok
from tests.pools import City, add_expert, make_city
from workflows.contracts import documents_queue
from workflows.document_activities import DocumentActivities
from workflows.worker import build_worker

INTAKE = {"X-Actor-Id": "s-07", "X-Actor-Name": quote("刘受理员"), "X-Actor-Role": "intake"}
AUDITOR = {"X-Actor-Id": "au-11", "X-Actor-Name": quote("孙审计"), "X-Actor-Role": "auditor"}
FILE_LIMIT = 1024 * 1024  # the installation's limit per file, in these tests
CASE_LIMIT = 3 * 1024 * 1024  # and per case


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> str:
    """moto's S3 server on a free port of this machine, for the module's tests."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["fs", "s3"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "fs":
        return {"attachment_store": "fs", "data_dir": tmp_path}
    return {"attachment_store": "s3", "data_dir": tmp_path, "s3_endpoint_url": request.getfixturevalue("s3_endpoint"),
            "s3_bucket": f"files-{uuid.uuid4().hex[:12]}", "s3_access_key": "testing", "s3_secret_key": "testing"}


@pytest.fixture
def settings(database_url: str, task_queue: str, seal_paths: tuple[Path, Path],
             store_settings: dict[str, Any]) -> Settings:
    return Settings(database_url=database_url, task_queue=task_queue, seal_key_path=seal_paths[0],
                    seal_cert_path=seal_paths[1], document_wait_seconds=90, attachment_max_bytes=FILE_LIMIT,
                    attachment_case_max_bytes=CASE_LIMIT, **store_settings)


@pytest.fixture
async def api(temporal_env, sessions, seal_key, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API and the workers, the documents' worker reading the attachments from the same store."""
    client = temporal_env.client
    documents = Worker(client, task_queue=documents_queue(settings.task_queue),
                       activities=DocumentActivities(sessions, sealer=sealer_for(seal_key),
                                                     blobs=store_of(settings)).all(),
                       activity_executor=ThreadPoolExecutor(max_workers=2), max_concurrent_activities=2)
    async with build_worker(client, task_queue=settings.task_queue, session_factory=sessions,
                            sealer=sealer_for(seal_key), documents="apart"), documents:
        app = create_app(settings, temporal=client)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=120) as http:
                yield http


def pdf_bytes(size: int = 200_000) -> bytes:
    """Bytes that are a PDF by their start (what the type is read from), unique to the test."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(size - len(head))


def png_bytes(size: int = 50_000) -> bytes:
    head = b"\x89PNG\r\n\x1a\n"
    return head + os.urandom(size - len(head))


async def upload(api: httpx.AsyncClient, case_id: str, data: bytes, *, name: str = "病历.pdf",
                 kind: str = "medical_record", party: str = "patient", headers: dict[str, str] | None = None,
                 status: int = 201, **form: str) -> dict[str, Any]:
    response = await api.post(
        f"/cases/{case_id}/attachments", files={"file": (name, data, "application/octet-stream")},
        data={"kind": kind, "party": party, "received_on": "2026-11-20", "description": "患方提交", **form},
        headers=headers or MEDIATOR)
    assert response.status_code == status, response.text
    return response.json()


async def new_case(api: httpx.AsyncClient, committee_id: str = "huangpu") -> str:
    response = await api.post("/cases", json=registration(committee_id=committee_id, application_type="joint",
                                                          applicant_side=None), headers=INTAKE)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def stored_objects(settings: Settings) -> int:
    """How many files the store holds (the staging folder aside)."""
    store = store_of(settings)
    if isinstance(store, FileStore):
        return sum(1 for p in store.root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(store.root).parts)
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    return store._client.list_objects_v2(Bucket=store.bucket).get("KeyCount", 0)


class TestUploadAndDownload:
    async def test_a_file_goes_in_and_comes_back_byte_for_byte_with_its_sha256(self, api, settings):
        case_id = await new_case(api)
        data = pdf_bytes()
        made = await upload(api, case_id, data, name="住院病历 2026.pdf", description="出院小结及手术记录")
        assert made["sha256"] == hashlib.sha256(data).hexdigest()
        assert (made["size"], made["media_type"], made["kind"], made["party"]) == (
            len(data), "application/pdf", "medical_record", "patient")
        assert (made["kind_label"], made["party_label"], made["withdrawn"]) == ("病历资料", "患方", False)
        assert made["received_on"] == "2026-11-20" and made["filename"] == "住院病历 2026.pdf"

        response = await api.get(f"/attachments/{made['id']}/content", headers=MEDIATOR)
        assert response.status_code == 200
        assert response.content == data
        assert hashlib.sha256(response.content).hexdigest() == response.headers["x-content-sha256"] == made["sha256"]
        # a download, never a page: the stored type, no sniffing, the name as RFC 5987 says
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote('住院病历 2026.pdf', safe='')}" in disposition
        assert "sandbox" in response.headers["content-security-policy"]

        listed = (await api.get(f"/cases/{case_id}/attachments", headers=DIRECTOR)).json()
        assert [a["id"] for a in listed["items"]] == [made["id"]]
        assert listed["total_bytes"] == len(data) and listed["limit_bytes"] == CASE_LIMIT
        assert (await api.get(f"/attachments/{made['id']}", headers=DIRECTOR)).json() == made

    async def test_the_same_bytes_are_stored_once_and_each_upload_is_its_own_attachment(self, api, settings):
        case_id = await new_case(api)
        data = png_bytes()
        before = stored_objects(settings)
        first = await upload(api, case_id, data, name="收据.png", kind="payment_proof", party="institution")
        second = await upload(api, case_id, data, name="收据-副本.png", kind="payment_proof", party="institution")
        assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
        assert first["media_type"] == "image/png"
        assert stored_objects(settings) == before + 1

    async def test_a_file_over_the_limit_is_refused_413_and_nothing_is_kept(self, api, settings):
        case_id = await new_case(api)
        before = stored_objects(settings)
        refused = await upload(api, case_id, pdf_bytes(FILE_LIMIT + 1), status=413)
        assert refused["code"] == "payload_too_large" and str(FILE_LIMIT) in refused["detail"]
        listed = (await api.get(f"/cases/{case_id}/attachments", headers=DIRECTOR)).json()
        assert listed["items"] == [] and stored_objects(settings) == before

    async def test_a_case_holds_no_more_than_its_limit(self, api):
        case_id = await new_case(api)
        for _ in range(3):
            await upload(api, case_id, pdf_bytes(FILE_LIMIT - 100_000))
        refused = await upload(api, case_id, pdf_bytes(400_000), status=413)
        assert refused["code"] == "payload_too_large" and str(CASE_LIMIT) in refused["detail"]

    async def test_a_pdf_that_is_really_an_executable_is_refused_415(self, api, settings):
        case_id = await new_case(api)
        executable = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + os.urandom(4000)
        refused = await upload(api, case_id, executable, name="鉴定意见书.pdf", status=415)
        assert refused["code"] == "unsupported_media_type"
        assert "Windows executable" in refused["detail"] and "application/pdf" in refused["accepted"]
        page = await upload(api, case_id, b"<!DOCTYPE html><script>alert(1)</script>", name="a.pdf", status=415)
        assert page["detected"] == "HTML or other markup"

    async def test_an_ofd_package_is_read_from_inside_its_zip(self, api):
        import zipfile

        case_id = await new_case(api)
        for names, status in ((["OFD.xml", "Doc_0/Document.xml"], 201), (["word/document.xml"], 415)):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name in names:
                    archive.writestr(name, "<ofd:OFD/>")
            answer = await upload(api, case_id, buffer.getvalue(), name="电子发票.ofd", status=status)
            if status == 201:
                assert answer["media_type"] == "application/ofd"

    async def test_a_field_out_of_the_catalogue_is_422_naming_it(self, api):
        case_id = await new_case(api)
        refused = await upload(api, case_id, pdf_bytes(), kind="x-ray", status=422)
        assert refused["code"] == "invalid_payload" and "kind" in refused["detail"]


class TestWithdrawal:
    async def test_a_withdrawn_file_is_marked_and_kept(self, api):
        case_id = await new_case(api)
        data = pdf_bytes()
        made = await upload(api, case_id, data)
        response = await api.post(f"/attachments/{made['id']}/withdraw", json={"reason": "患方提交有误"},
                                  headers=MEDIATOR)
        assert response.status_code == 200, response.text
        withdrawn = response.json()
        assert withdrawn["withdrawn"] and withdrawn["withdrawn_reason"] == "患方提交有误"
        assert withdrawn["withdrawn_by"] == "陈调解员" and withdrawn["withdrawn_at"]
        again = await api.post(f"/attachments/{made['id']}/withdraw", json={"reason": "再次"}, headers=MEDIATOR)
        assert again.status_code == 409
        kept = await api.get(f"/attachments/{made['id']}/content", headers=DIRECTOR)
        assert kept.status_code == 200 and kept.content == data
        listed = (await api.get(f"/cases/{case_id}/attachments", headers=DIRECTOR)).json()["items"]
        assert [a["withdrawn"] for a in listed] == [True]


@pytest.fixture
def city(sessions) -> City:
    city = make_city(sessions)
    add_expert(sessions, city, "ob0", ["obstetrics"])
    return city


class TestWhoSeesWhat:
    async def test_an_expert_sees_the_medical_records_only_after_accepting_and_never_identity(self, api, city):
        # Reg 42: an expert sees the medical records and appraisal reports of a case only after accepting
        case = await case_in_mediation(api, city)
        record = await upload(api, case["id"], pdf_bytes())
        identity = await upload(api, case["id"], png_bytes(), name="身份证.png", kind="identity_document")
        panel = await panel_of(api, case, ["obstetrics"])
        invitation, expert_id = panel["slots"][0]["invitation_id"], panel["slots"][0]["expert_id"]
        expert = as_expert(expert_id)

        before = await api.get(f"/attachments/{record['id']}/content", headers=expert)
        assert before.status_code == 404
        listing = await api.get(f"/me/invitations/{invitation}/attachments", headers=expert)
        assert listing.status_code == 404
        case_list = await api.get(f"/cases/{case['id']}/attachments", headers=expert)
        assert case_list.status_code == 403  # an expert's files are listed by invitation, never by case

        accepted = await api.post(f"/me/invitations/{invitation}/accept", json={}, headers=expert)
        assert accepted.status_code == 200, accepted.text
        after = await api.get(f"/attachments/{record['id']}/content", headers=expert)
        assert after.status_code == 200 and hashlib.sha256(after.content).hexdigest() == record["sha256"]
        given = (await api.get(f"/me/invitations/{invitation}/attachments", headers=expert)).json()
        assert [a["id"] for a in given] == [record["id"]]
        # identity documents are never shown to experts, nor what another expert could not see
        assert (await api.get(f"/attachments/{identity['id']}/content", headers=expert)).status_code == 404
        assert (await api.get(f"/attachments/{identity['id']}", headers=expert)).status_code == 404
        other = as_expert(f"{city.committee_id}-nobody")
        assert (await api.get(f"/attachments/{record['id']}/content", headers=other)).status_code == 404
        # a withdrawn record is no longer given to the panel
        await api.post(f"/attachments/{record['id']}/withdraw", json={"reason": "错交"}, headers=MEDIATOR)
        assert (await api.get(f"/attachments/{record['id']}/content", headers=expert)).status_code == 404

    async def test_an_expert_sees_nothing_once_the_panel_closed_with_the_case(self, api, city):
        # Reg 42: only for the panel's duration
        case = await case_in_mediation(api, city)
        record = await upload(api, case["id"], pdf_bytes())
        panel = await panel_of(api, case, ["obstetrics"])
        invitation, expert = panel["slots"][0]["invitation_id"], as_expert(panel["slots"][0]["expert_id"])
        await api.post(f"/me/invitations/{invitation}/accept", json={}, headers=expert)
        assert (await api.get(f"/attachments/{record['id']}/content", headers=expert)).status_code == 200
        await ok(api, case["id"], "terminate", WITHDRAWAL, headers=DIRECTOR)

        async def closed() -> bool:
            return (await api.get(f"/panels/{panel['id']}")).json()["status"] == "closed"

        from tests.api.test_expert_consultation_api import eventually

        await eventually(closed, "the panel closing with the case")
        assert (await api.get(f"/attachments/{record['id']}/content", headers=expert)).status_code == 404

    async def test_an_auditors_download_is_in_the_audit_trail(self, api):
        # Reg 42, DOMAIN.md privacy: every read by an auditor is logged
        case_id = await new_case(api)
        made = await upload(api, case_id, pdf_bytes())
        request_id = f"test-{uuid.uuid4().hex}"
        read = await api.get(f"/attachments/{made['id']}/content", headers={**AUDITOR, "X-Request-ID": request_id})
        assert read.status_code == 200 and hashlib.sha256(read.content).hexdigest() == made["sha256"]
        trail = await api.get("/audit", params={"target_id": made["id"]}, headers=AUDITOR)
        assert trail.status_code == 200, trail.text
        [entry] = [e for e in trail.json()["items"] if e["request_id"] == request_id]
        assert entry["action"] == "GET /attachments/{attachment_id}/content"
        assert (entry["actor_role"], entry["target_type"], entry["status_code"]) == ("auditor", "attachment_id", 200)
        assert entry["committee_id"] == "huangpu"
        # staff reads are not logged reads
        staff_id = f"test-{uuid.uuid4().hex}"
        await api.get(f"/attachments/{made['id']}/content", headers={**DIRECTOR, "X-Request-ID": staff_id})
        assert (await api.get("/audit", params={"request_id": staff_id}, headers=AUDITOR)).json()["items"] == []

    async def test_an_auditor_reads_the_description_with_personal_numbers_masked(self, api):
        case_id = await new_case(api)
        made = await upload(api, case_id, pdf_bytes(), description="身份证号310101198001011234，电话13800138000")
        seen = (await api.get(f"/attachments/{made['id']}", headers=AUDITOR)).json()
        assert "310101198001011234" not in seen["description"] and "13800138000" not in seen["description"]
        assert seen["sha256"] == made["sha256"]

    async def test_nobody_uploads_to_an_archived_case(self, api):  # PML 27: the file is bound
        case_id = await new_case(api)
        await ok(api, case_id, "submit-for-review", headers=DIRECTOR)
        await ok(api, case_id, "reject", {"reasons": [2]}, headers=DIRECTOR)
        made = await upload(api, case_id, pdf_bytes())
        await ok(api, case_id, "archive", headers=INTAKE)
        refused = await upload(api, case_id, pdf_bytes(), status=409)
        assert refused["code"] == "illegal_transition"
        withdrawn = await api.post(f"/attachments/{made['id']}/withdraw", json={"reason": "x"}, headers=MEDIATOR)
        assert withdrawn.status_code == 409
        bound = await api.get(f"/cases/{case_id}/case-file/manifest", headers=DIRECTOR)  # the file is bound whole
        assert bound.status_code == 200 and [a["attachment_id"] for a in bound.json()["manifest"]["attachments"]] == [
            made["id"]]


class TestEventsAndTheCaseFile:
    async def test_events_name_their_files_and_the_case_file_binds_every_one_with_its_hash(self, api):
        case_id = await new_case(api)
        await ok(api, case_id, "submit-for-review", headers=DIRECTOR)
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]}, headers=DIRECTOR)
        record = await upload(api, case_id, pdf_bytes(), name="门诊病历.pdf")
        await ok(api, case_id, "start-appraisal", APPRAISAL, headers=MEDIATOR)
        report = await upload(api, case_id, pdf_bytes(), name="鉴定意见书.pdf", kind="appraisal_report",
                              party="appraisal_institution")
        # an event takes only files of this case, standing, of the kind it documents
        wrong = await api.post(f"/cases/{case_id}/finish-appraisal",
                               json={**OPINION, "attachment_ids": [record["id"]]}, headers=MEDIATOR)
        assert wrong.status_code == 422 and "appraisal_report" in wrong.text
        elsewhere = await upload(api, await new_case(api), pdf_bytes(), kind="appraisal_report")
        foreign = await api.post(f"/cases/{case_id}/finish-appraisal",
                                 json={**OPINION, "attachment_ids": [elsewhere["id"]]}, headers=MEDIATOR)
        assert foreign.status_code == 422 and "unknown attachment" in foreign.text
        finished = await ok(api, case_id, "finish-appraisal", {**OPINION, "attachment_ids": [report["id"]]},
                            headers=MEDIATOR)
        await ok(api, case_id, "draft-agreement", agreement(), headers=MEDIATOR)
        signed_paper = await upload(api, case_id, png_bytes(), name="协议书签字页.png", kind="signed_paper",
                                    party="committee")
        for n, signature in enumerate(SIGNATURES):
            extra = {"attachment_ids": [signed_paper["id"]]} if n == 3 else {}
            await ok(api, case_id, "sign", {**signature, **extra}, headers=DIRECTOR)
        proof = await upload(api, case_id, pdf_bytes(), name="转账回单.pdf", kind="payment_proof", party="institution")
        withdrawn = await upload(api, case_id, pdf_bytes(), name="错误回单.pdf", kind="payment_proof")
        await api.post(f"/attachments/{withdrawn['id']}/withdraw", json={"reason": "金额有误"}, headers=MEDIATOR)
        stale = await api.post(f"/cases/{case_id}/record-payment",
                               json={**payment(), "attachment_ids": [withdrawn["id"]]}, headers=MEDIATOR)
        assert stale.status_code == 422 and "withdrawn" in stale.text
        paid = await ok(api, case_id, "record-payment", {**payment(), "attachment_ids": [proof["id"]]},
                        headers=MEDIATOR)
        linked = (await api.get(f"/attachments/{proof['id']}", headers=DIRECTOR)).json()
        assert (linked["event"], linked["event_seq"]) == ("record_payment", paid["seq"])
        assert (await api.get(f"/attachments/{report['id']}", headers=DIRECTOR)).json()["event_seq"] == finished["seq"]
        await ok(api, case_id, "confirm-performance", headers=MEDIATOR)
        await ok(api, case_id, "archive", headers=INTAKE)

        response = await api.get(f"/cases/{case_id}/case-file", headers=AUDITOR)
        assert response.status_code == 200, response.text
        reader = PdfReader(io.BytesIO(response.content))
        embedded = {name: data[0] for name, data in reader.attachments.items()}
        manifest = json.loads(embedded["manifest.json"])
        every = [record, report, signed_paper, proof, withdrawn]
        listed = {a["attachment_id"]: a for a in manifest["attachments"]}
        assert set(listed) == {a["id"] for a in every}
        for attachment in every:
            filed = listed[attachment["id"]]
            # byte for byte: an auditor extracts each file and checks it against the recorded SHA-256
            assert hashlib.sha256(embedded[filed["file"]]).hexdigest() == attachment["sha256"] == filed["sha256"]
            assert filed["size"] == attachment["size"]
        assert listed[withdrawn["id"]]["withdrawn"] and not listed[proof["id"]]["withdrawn"]
        text = "".join(page.extract_text() for page in reader.pages)
        assert "当事人提交的材料" in text and "转账回单.pdf" in text


class TestTheExpertOpinionListsTheFilesGiven:
    async def test_the_opinion_names_the_records_the_panel_was_given(self, api, city):
        # Reg 42: the opinion lists the files actually given to the panel, not an identity document
        case = await case_in_mediation(api, city)
        record = await upload(api, case["id"], pdf_bytes(), name="住院病历.pdf")
        await upload(api, case["id"], png_bytes(), name="身份证.png", kind="identity_document")
        panel = await panel_of(api, case, ["obstetrics"])
        invitation, expert = panel["slots"][0]["invitation_id"], as_expert(panel["slots"][0]["expert_id"])
        await api.post(f"/me/invitations/{invitation}/accept", json={}, headers=expert)
        answer = await api.post(f"/me/invitations/{invitation}/opinion", headers=expert, json={
            "fault": "存在延误", "causation": "有因果关系", "liability_percent": 60})
        assert answer.status_code == 200, answer.text

        from tests.api.test_expert_consultation_api import eventually

        async def issued() -> bool:
            documents = (await api.get(f"/cases/{case['id']}/documents", headers=DIRECTOR)).json()
            return any(d["kind"] == "expert_opinion" and d["status"] == "issued" for d in documents)

        await eventually(issued, "the opinion issued", seconds=90)
        documents = (await api.get(f"/cases/{case['id']}/documents", headers=DIRECTOR)).json()
        opinion = next(d for d in documents if d["kind"] == "expert_opinion" and d["lang"] == "zh")
        pdf = (await api.get(f"/documents/{opinion['id']}/pdf", headers=DIRECTOR)).content
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
        assert "住院病历.pdf" in text and record["sha256"][:16] in text
        assert "身份证.png" not in text
