"""卷宗 (PML 27): archiving binds the case file — a cover (file number, mediator, dates, retention period from
the committee's policy), an index, every document attached as issued, the transition history and the case's
audit entries, with a manifest of hashes — and nothing in the archived case changes afterwards."""

from __future__ import annotations

import hashlib
import io
import json
from urllib.parse import quote

import httpx
import pypdfium2
from pypdf import PdfReader

from tests.factories import SIGNATURES, agreement, payment, registration
from tests.http import ok
from tests.pdf_text import flat, xmp_pdfa
from tests.pools import make_city

AUDITOR = {"X-Actor-Id": "au-9", "X-Actor-Name": quote("孙审计"), "X-Actor-Role": "auditor"}


async def archived_settlement(api: httpx.AsyncClient, committee_id: str) -> str:
    """A case settled with an agreement, performed, then archived."""
    case = (await api.post("/cases", json=registration(committee_id=committee_id, application_type="joint",
                                                          applicant_side=None))).json()
    case_id = case["id"]
    await ok(api, case_id, "submit-for-review")
    await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
    await ok(api, case_id, "draft-agreement", agreement())
    for signature in SIGNATURES:
        await ok(api, case_id, "sign", signature)
    await ok(api, case_id, "record-payment", payment())
    await ok(api, case_id, "confirm-performance")
    await ok(api, case_id, "archive")
    return case_id


def text_of(pdf: bytes) -> str:
    return flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


class TestTheCaseFile:
    async def test_archiving_binds_cover_index_history_and_audit_with_every_document_attached(self, api, sessions):
        city = make_city(sessions)
        policy = await api.put(f"/committees/{city.committee_id}/policy", json={"case_file_retention_years": 10})
        assert policy.status_code == 200, policy.text
        case_id = await archived_settlement(api, city.committee_id)
        case = (await api.get(f"/cases/{case_id}")).json()

        response = await api.get(f"/cases/{case_id}/case-file")
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        pdf = response.content
        text = text_of(pdf)
        # the cover
        for printed in ("卷宗", case["number"], "陈调解员", "调解成功", "保管期限", "10年", "王小明", "上海市某区人民医院"):
            assert flat(printed) in text, printed
        # the index: every document of the case, with its number and SHA-256
        documents = [d for d in (await api.get(f"/cases/{case_id}/documents")).json() if d["kind"] != "case_file"]
        assert {d["kind"] for d in documents} >= {"acceptance_notice", "agreement"}
        for document in documents:
            assert flat(document["number"]) in text and document["sha256"] in text
        # the history and the audit entries of the case
        for event in ("submit_for_review", "accept", "draft_agreement", "sign", "confirm_performance", "archive"):
            assert event in text
        assert flat("POST/cases/{case_id}/accept") in text

        # every document attached byte for byte, and the manifest names their hashes
        reader = PdfReader(io.BytesIO(pdf))
        attachments = {name: data[0] for name, data in reader.attachments.items()}
        manifest = json.loads(attachments.pop("manifest.json"))
        attachments.pop("case_file.json")
        assert manifest == (await api.get(f"/cases/{case_id}/case-file/manifest")).json()["manifest"]
        assert len(attachments) == len(documents) == len(manifest["documents"])
        stored = {d["sha256"] for d in documents}
        for entry in manifest["documents"]:
            data = attachments[entry["file"]]
            assert hashlib.sha256(data).hexdigest() == entry["sha256"] and entry["sha256"] in stored
        assert manifest["retention_years"] == 10 and manifest["audit_entries"]["count"] >= 8
        assert xmp_pdfa(reader) == {"part": "3", "conformance": "B"}  # PDF/A-3b, which allows the attachments

        # the file itself is stored with its hash and sealed like every document
        file_record = (await api.get(f"/cases/{case_id}/case-file/manifest")).json()
        assert file_record["sha256"] == hashlib.sha256(pdf).hexdigest()
        verified = (await api.get(f"/documents/{file_record['document_id']}/verify")).json()
        assert verified["hash_matches"] and verified["seal"]["valid"], verified

    async def test_the_cover_page_is_printed(self, api, tmp_path):
        case_id = await archived_settlement(api, "huangpu")
        pdf = (await api.get(f"/cases/{case_id}/case-file")).content
        document = pypdfium2.PdfDocument(pdf)
        try:
            assert len(document) >= 4  # cover, index, history, audit
            image = document[0].render(scale=1).to_pil().convert("L")
        finally:
            document.close()
        image.save(tmp_path / "cover.png")
        inked = sum(image.histogram()[:200]) / (image.size[0] * image.size[1])
        assert 0.005 < inked < 0.5, inked

    async def test_an_auditor_downloads_it_and_the_read_is_recorded(self, api):
        case_id = await archived_settlement(api, "huangpu")
        downloaded = await api.get(f"/cases/{case_id}/case-file", headers=AUDITOR)
        assert downloaded.status_code == 200
        trail = (await api.get("/audit", params={"target_id": case_id, "actor_id": "au-9"}, headers=AUDITOR)).json()
        assert any(e["action"] == "GET /cases/{case_id}/case-file" for e in trail["items"])

    async def test_an_open_case_has_no_case_file_yet(self, api):
        case = (await api.post("/cases", json=registration())).json()
        response = await api.get(f"/cases/{case['id']}/case-file")
        assert response.status_code == 404 and "archived" in response.json()["detail"]


class TestNothingChangesAfterArchiving:  # PML 27
    async def test_every_change_to_an_archived_case_is_refused_and_the_file_stays_as_bound(self, api):
        case_id = await archived_settlement(api, "huangpu")
        before = (await api.get(f"/cases/{case_id}/case-file/manifest")).json()
        history = (await api.get(f"/cases/{case_id}/history")).json()
        documents = (await api.get(f"/cases/{case_id}/documents")).json()
        attempts = {
            "record-followup": {"visitor": "周调解员", "visited_at": "2026-11-20T10:00:00+08:00", "method": "phone",
                                "visited": "王大明", "performance": "performed", "satisfaction": "satisfied"},
            "terminate": {"ground": "party_withdrew"},
            "record-judicial-confirmation": {"applied": False},
            "archive": {},
            "sign": SIGNATURES[0],
        }
        for action, body in attempts.items():
            response = await api.post(f"/cases/{case_id}/{action}", json=body)
            assert response.status_code == 409, (action, response.text)
            assert "archived" in response.json()["detail"]
        assert (await api.get(f"/cases/{case_id}/case-file/manifest")).json() == before
        assert (await api.get(f"/cases/{case_id}/history")).json() == history
        assert (await api.get(f"/cases/{case_id}/documents")).json() == documents
