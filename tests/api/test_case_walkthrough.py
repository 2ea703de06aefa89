"""A dispute carried from registration to an archived file through the staff API, on a real Temporal
dev server and a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal

import httpx
from pypdf import PdfReader

from tests.factories import SIGNATURES, agreement, payment, registration


def pdf_text(content: bytes) -> str:
    """The PDF's text without whitespace (titles are letter-spaced, long lines wrap)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.split())


async def post(api: httpx.AsyncClient, path: str, body: dict, status: int = 200) -> dict:
    response = await api.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


class TestFromRegistrationToArchive:
    async def test_one_sided_application_reaches_an_effective_agreement_and_is_archived(self, api):
        case = await post(api, "/cases", registration(), status=201)
        case_id = case["id"]
        assert case["status"] == "registered"
        assert case["number"].startswith("〔") and "沪黄医调字第" in case["number"]
        assert case["claim_amount"] == "120000.00"  # a decimal string, never a float
        assert case["registered_at"].endswith("+08:00")  # Asia/Shanghai
        # what would be accepted now, guards included (rev 2): a one-sided application asks for consent first
        assert case["allowed_events"] == ["amend_parties", "link_respondent", "request_consent", "terminate"]

        # Reg 31¶1: the other side must consent
        await post(api, f"/cases/{case_id}/request-consent", {"method": "letter"})
        await post(api, f"/cases/{case_id}/record-consent", {"consented_by": "李院长", "method": "written"})
        accepted = await post(api, f"/cases/{case_id}/accept", {"mediators": ["陈调解员", "周调解员"]})
        assert accepted["status"] == "in_mediation"

        scheduled = await post(
            api,
            f"/cases/{case_id}/schedule-session",
            {"scheduled_at": "2026-11-25T09:30:00+08:00", "place": "第一调解室", "mediators": ["陈调解员"]},
        )
        session_id = scheduled["session_id"]
        await post(
            api,
            f"/cases/{case_id}/record-minutes",
            {
                "session_id": session_id,
                "held_at": "2026-11-20T09:30:00",
                "recorder": "刘记录员",
                "attendees": ["王大明", "张律师"],
                "statements": [{"speaker": "王大明（患方）", "text": "要求赔偿十二万元。"}],
            },
        )
        drafted = await post(api, f"/cases/{case_id}/draft-agreement", agreement())
        assert drafted["status"] == "signing"
        assert len(drafted["document_ids"]) == 2  # Chinese and English

        # Reg 39: effective only on the last of the four signatures
        for signature in SIGNATURES[:-1]:
            signed = await post(api, f"/cases/{case_id}/sign", signature)
            assert signed["status"] == "signing"
        effective = await post(api, f"/cases/{case_id}/sign", SIGNATURES[-1])
        assert effective["status"] == "performance"

        await post(api, f"/cases/{case_id}/record-payment", payment())  # PML 31, term by term
        await post(api, f"/cases/{case_id}/confirm-performance", {})
        archived = await post(api, f"/cases/{case_id}/archive", {})
        assert archived["status"] == "archived"
        assert archived["allowed_events"] == []

        history = (await api.get(f"/cases/{case_id}/history")).json()
        assert [t["event"] for t in history] == [
            "register", "request_consent", "record_consent", "accept", "schedule_session", "record_minutes",
            "draft_agreement", "sign", "sign", "sign", "sign", "record_payment", "confirm_performance", "archive",
        ]
        assert [t["seq"] for t in history] == list(range(1, 15))
        assert history[3]["from_status"] == "under_review" and history[3]["to_status"] == "in_mediation"
        assert history[3]["actor_name"]
        # each signature refers to the stored agreement it signed, by id and hash
        zh_id = drafted["document_ids"][0]
        meta = (await api.get(f"/documents/{zh_id}")).json()
        assert all(t["payload"]["document_sha256"] == meta["sha256"] for t in history if t["event"] == "sign")

        sessions = (await api.get(f"/cases/{case_id}/sessions")).json()
        assert sessions[0]["minutes"]["recorder"] == "刘记录员"

    async def test_the_auditor_lists_the_documents_and_downloads_the_agreement(self, api):
        case = await post(api, "/cases", registration(application_type="joint", applicant_side=None), status=201)
        case_id = case["id"]
        await post(api, f"/cases/{case_id}/submit-for-review", {})
        await post(api, f"/cases/{case_id}/accept", {"mediators": ["陈调解员"]})
        await post(api, f"/cases/{case_id}/draft-agreement", agreement())

        documents = (await api.get(f"/cases/{case_id}/documents")).json()
        assert {(d["kind"], d["lang"]) for d in documents} == {
            ("acceptance_notice", "zh"), ("acceptance_notice", "en"), ("agreement_draft", "zh"),
            ("agreement_draft", "en"),
        }
        zh = next(d for d in documents if d["lang"] == "zh" and d["kind"] == "agreement_draft")
        # shared/DOMAIN.md rev 2: a draft has no agreement number (numbers go to effective agreements only)
        assert "医调协字第" not in zh["number"] and zh["number"] == f"{case['number']} 第1稿"

        pdf = await api.get(f"/documents/{zh['id']}/pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == zh["sha256"]  # what is stored is what was generated
        text = pdf_text(pdf.content)
        assert "人民调解协议书" in text and "草稿（未生效）" in text
        assert "王小明" in text and "上海市某区人民医院" in text
        assert "86,500.50" in text and "捌万陆仟伍佰元伍角" in text
        assert case["number"] in text

        english = await api.get(f"/documents/{zh['id']}/pdf", params={"lang": "en"})
        assert english.status_code == 200
        assert "MediationAgreement" in pdf_text(english.content)

    async def test_a_revised_agreement_supersedes_the_draft_and_needs_all_signatures_again(self, api):
        case = await post(api, "/cases", registration(application_type="joint", applicant_side=None), status=201)
        case_id = case["id"]
        await post(api, f"/cases/{case_id}/submit-for-review", {})
        await post(api, f"/cases/{case_id}/accept", {"mediators": ["陈调解员"]})
        await post(api, f"/cases/{case_id}/draft-agreement", agreement())
        await post(api, f"/cases/{case_id}/sign", SIGNATURES[0])
        back = await post(api, f"/cases/{case_id}/revise-agreement", {"reason": "医方对数额有异议", "refused_by": "institution"})
        assert back["status"] == "in_mediation"
        redrafted = await post(api, f"/cases/{case_id}/draft-agreement", agreement(copies=4))
        documents = [d for d in (await api.get(f"/cases/{case_id}/documents")).json() if d["kind"] == "agreement_draft"]
        assert [d["superseded"] for d in documents if d["lang"] == "zh"] == [True, False]
        assert [d["version"] for d in documents if d["lang"] == "zh"] == [1, 2]
        # the patient side signed the old draft; the new one needs its signature again
        again = await post(api, f"/cases/{case_id}/sign", SIGNATURES[0])
        assert again["status"] == "signing"
        current = (await api.get(f"/cases/{case_id}")).json()
        assert set(current["signatures"]) == {"patient"}
        assert current["signatures"]["patient"]["document_id"] == redrafted["document_ids"][0]
        assert Decimal(current["agreement"]["terms"][0]["amount"]) == Decimal("86500.50")
