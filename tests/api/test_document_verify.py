"""GET /documents/{id}/verify: an auditor checks a stored document (shared/DOMAIN.md "Documents": generated
documents are never edited, and each bears the committee's seal).

The test worker seals what it renders with a throwaway committee certificate (tests/conftest.py), and the API
trusts that certificate, as a committee's installation trusts its own.
"""

from __future__ import annotations

import hashlib
import re

import httpx
from sqlmodel import Session

from core.db import SessionFactory
from models.tables import DocumentContent
from tests.factories import registration


async def post(api: httpx.AsyncClient, path: str, body: dict) -> dict:
    response = await api.post(path, json=body)
    assert response.status_code < 300, response.text
    return response.json()


async def accepted_case(api: httpx.AsyncClient) -> str:
    """A case accepted by the director: its 受理通知书 is generated (Reg 31, PML 23)."""
    case = await post(api, "/cases", registration())
    await post(api, f"/cases/{case['id']}/request-consent", {"method": "letter"})
    await post(api, f"/cases/{case['id']}/record-consent", {"consented_by": "李院长", "method": "written"})
    await post(api, f"/cases/{case['id']}/accept", {"mediators": ["陈调解员"]})
    return case["id"]


def flip_one_byte_in_a_stream(session: Session, document_id: str) -> None:
    """What a tampered database would hold: one byte changed inside the sealed part of the stored PDF."""
    content = session.get(DocumentContent, document_id)
    assert content is not None
    data = bytearray(content.data)
    found = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)", data)
    assert found is not None
    stream = re.search(rb"stream\r?\n", data)
    assert stream is not None and stream.end() + 16 < int(found.group(1))
    data[stream.end() + 16] ^= 0x01
    content.data = bytes(data)
    session.add(content)
    session.commit()


class TestVerifyDocument:
    async def test_the_acceptance_notice_is_sealed_by_the_committee_and_verifies(self, api):
        case_id = await accepted_case(api)
        documents = (await api.get(f"/cases/{case_id}/documents")).json()
        notice = next(d for d in documents if d["kind"] == "acceptance_notice" and d["lang"] == "zh")

        response = await api.get(f"/documents/{notice['id']}/verify")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["hash_matches"] and body["sha256_actual"] == body["sha256_recorded"] == notice["sha256"]
        seal = body["seal"]
        assert (seal["signed"], seal["intact"], seal["valid"]) == (True, True, True), seal["problems"]
        assert "上海市黄浦区医疗纠纷人民调解委员会" in seal["signer"]
        assert seal["signed_at"] and seal["covers_whole_file"] and seal["problems"] == []
        assert body["verified"]

        pdf = await api.get(f"/documents/{notice['id']}/pdf")  # what is stored and hashed is the sealed PDF
        assert hashlib.sha256(pdf.content).hexdigest() == notice["sha256"]
        assert b"/ETSI.CAdES.detached" in pdf.content

    async def test_one_byte_changed_in_the_database_is_caught(self, api, sessions: SessionFactory):
        case_id = await accepted_case(api)
        documents = (await api.get(f"/cases/{case_id}/documents")).json()
        notice = next(d for d in documents if d["kind"] == "acceptance_notice" and d["lang"] == "zh")
        with sessions() as session:
            flip_one_byte_in_a_stream(session, notice["id"])

        response = await api.get(f"/documents/{notice['id']}/verify")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["hash_matches"] is False and body["sha256_recorded"] == notice["sha256"]
        assert body["seal"]["signed"] and not body["seal"]["intact"] and not body["seal"]["valid"]
        assert any("modified" in problem for problem in body["seal"]["problems"])
        assert body["verified"] is False

    async def test_every_document_of_the_case_is_sealed(self, api):
        case_id = await accepted_case(api)
        for document in (await api.get(f"/cases/{case_id}/documents")).json():  # Chinese and English
            body = (await api.get(f"/documents/{document['id']}/verify")).json()
            assert body["verified"], (document["kind"], document["lang"], body)

    async def test_an_unknown_document_is_404(self, api):
        response = await api.get("/documents/no-such-document/verify")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
