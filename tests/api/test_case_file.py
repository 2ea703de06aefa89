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

from tests.factories import APPRAISAL, OPINION, SIGNATURES, WITHDRAWAL, agreement, payment, registration
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
    await sign_perform_and_archive(api, case_id)
    return case_id


async def sign_perform_and_archive(api: httpx.AsyncClient, case_id: str) -> None:
    """The four acts of Reg 39 on the current draft, the term paid in full (PML 31), the file archived (PML 27)."""
    for signature in SIGNATURES:
        await ok(api, case_id, "sign", signature)
    await ok(api, case_id, "record-payment", payment())
    await ok(api, case_id, "confirm-performance")
    await ok(api, case_id, "archive")


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
        # the history, in Chinese with each event's details (rev 2), and the audit entries of the case
        for event in ("提交受理审查", "受理", "制作调解协议书草稿", "签署调解协议书", "确认履行完毕", "归档"):
            assert event in text
        for code in ("submit_for_review", "draft_agreement", "confirm_performance"):
            assert code not in text
        assert flat("签署方：患方；签署人：王大明；方式：签名；签署时间：") in text
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

    async def test_the_file_holds_what_pml_27_lists_in_order_with_the_history_in_chinese(self, api):
        # PML 27 (rev 2): application, consents, acceptance, minutes, appraisal, opinions, every agreement version
        # with its signature record, payment records with proofs, notices, follow-up; then the history and audit
        case = (await api.post("/cases", json=registration())).json()
        case_id = case["id"]
        await ok(api, case_id, "request-consent", {"method": "phone"})
        await ok(api, case_id, "record-consent", {"consented_by": "李院长", "method": "written"})
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        scheduled = await ok(api, case_id, "schedule-session", {"scheduled_at": "2026-11-20T09:30:00+08:00",
                                                                 "place": "第一调解室", "mediators": ["陈调解员"]})
        await ok(api, case_id, "record-minutes", {"session_id": scheduled["session_id"],
                                                  "held_at": "2026-11-20T09:30:00+08:00", "recorder": "刘记录员",
                                                  "attendees": ["王大明", "李院长"],
                                                  "statements": [{"speaker": "王大明", "text": "要求赔偿。"}]})
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        await ok(api, case_id, "finish-appraisal", OPINION)
        await ok(api, case_id, "draft-agreement", agreement())
        await ok(api, case_id, "revise-agreement", {"reason": "医方对数额有异议", "refused_by": "institution"})
        await ok(api, case_id, "draft-agreement", agreement())
        await sign_perform_and_archive(api, case_id)

        text = text_of((await api.get(f"/cases/{case_id}/case-file")).content)
        index = text.split("卷内文书目录")[1].split("调解申请记录（调解申请书或口头申请笔录）")[1]
        sections = ["当事人同意或拒绝调解的记录", "受理或不予受理", "调解笔录", "医疗损害鉴定的委托与鉴定意见", "专家咨询意见",
                    "调解协议书（各稿及签署记录）", "履行记录及凭证", "告知书（调解期限、调解不成、终止调解）", "回访记录",
                    "案件流程记录", "操作审计记录"]
        positions = [index.index(flat(title)) for title in sections]
        assert positions == sorted(positions)  # in the order of PML 27
        for record in ("征求对方当事人意见", "登记当事人同意调解", "受理", "第1次调解", "委托医疗损害鉴定（调解期限中止）",
                       "收到鉴定意见（调解期限继续计算）", "制作调解协议书草稿", "调解协议书草稿作废，继续调解", "签署调解协议书",
                       "登记履行", "确认履行完毕"):
            assert flat(f"记录：{record}") in index, record
        for kind in ("acceptance_notice", "session_minutes", "agreement_draft", "agreement"):
            for document in [d for d in (await api.get(f"/cases/{case_id}/documents")).json() if d["kind"] == kind]:
                assert flat(document["number"]) in index and document["sha256"] in index
        # the records themselves: the application as registered, who consented and how, the proof of payment
        assert flat("申请方式一方申请") in text and flat("调解请求要求医方赔偿医疗费") in text
        assert flat("同意人李院长") in text and flat("方式书面") in text
        assert flat("凭证") in text and flat(payment()["proof"]) in text
        assert flat("鉴定事项诊疗行为有无过错") in text
        # the history in Chinese with the details of each event, never the event codes
        history = text.split(flat("案件流程记录"))[-1]
        assert "登记当事人同意调解" in history and flat("同意人：李院长；方式：书面") in history
        assert "record_consent" not in text and "finish_appraisal" not in text
        for role in ("intake", "director", "mediator", "system", "dev"):  # who acted, in words too
            assert f"（{role}）" not in text, role
        # nor the codes of an event's values: the appraisal's degree of liability, who advanced its fees (PML 27)
        assert flat("责任程度：主要责任") in history and "main" not in history
        fees = history.split(flat("预交鉴定费："))[1].split(flat("；患方同意"))[0]
        assert sorted(fees.split("；")) == ["医方：3000.00", "患方：3000.00"]

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
            "terminate": WITHDRAWAL,
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
