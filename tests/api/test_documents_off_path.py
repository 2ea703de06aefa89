"""Documents off the action's path: an action answers once its transition is recorded, with the ids of the
documents it issues; each is pending until rendered and sealed on the documents' queue, then issued — saying what
the case was at its event, even when later actions were recorded first — or failed with the reason."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timezone

import httpx
from pypdf import PdfReader

from models import repo_documents
from models.tables import Case, DocumentJob
from tests.factories import agreement, registration
from tests.http import ok
from tests.pdf_text import flat
from workflows.contracts import RenderRequest
from workflows.document_activities import DocumentActivities

JOINT = {"application_type": "joint", "applicant_side": None}


async def text_of(api: httpx.AsyncClient, document_id: str) -> str:
    response = await api.get(f"/documents/{document_id}/pdf")
    assert response.status_code == 200, response.text
    return "".join(flat(page.extract_text()) for page in PdfReader(io.BytesIO(response.content)).pages)


async def registered(api: httpx.AsyncClient) -> str:
    case = await api.post("/cases", json=registration(**JOINT))
    assert case.status_code == 201, case.text
    await ok(api, case.json()["id"], "submit-for-review")
    return case.json()["id"]


class TestAnActionAnswersBeforeItsDocuments:
    async def test_the_answer_names_the_documents_and_each_read_shows_its_status(self, api):
        case_id = await registered(api)
        accepted = await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        assert len(accepted["document_ids"]) == 2  # 受理通知书, in Chinese and in English
        at_once = (await api.get(f"/cases/{case_id}/documents", params={"wait": 0})).json()
        assert {d["id"] for d in at_once} == set(accepted["document_ids"])
        assert {d["status"] for d in at_once} <= {"pending", "issued"}
        for document_id in accepted["document_ids"]:  # a read waits for a document being made
            document = (await api.get(f"/documents/{document_id}")).json()
            assert document["status"] == "issued" and len(document["sha256"]) == 64 and document["number"]

    async def test_a_document_says_what_the_case_was_at_its_event(self, api):
        """Reg 38: the acceptance notice prints the due date, though the clock was paused (an appraisal, Reg 34)
        right after, before the notice was rendered; the draft keeps its own draft number after a redraft."""
        case_id = await registered(api)
        accepted = await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        due = (await api.get(f"/cases/{case_id}")).json()["mediation_clock"]["due_date"]
        await ok(api, case_id, "start-appraisal", {"institution": "上海市医学会", "commissioned_by": "both_parties"})
        paused = (await api.get(f"/cases/{case_id}")).json()
        assert paused["status"] == "appraisal"
        notice = await text_of(api, accepted["document_ids"][0])
        year, month, day = (int(part) for part in due.split("-"))
        assert f"{year}年{month}月{day}日" in notice

    async def test_a_redraft_does_not_renumber_the_first_draft(self, api):
        case_id = await registered(api)
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        first = await ok(api, case_id, "draft-agreement", agreement())
        await ok(api, case_id, "revise-agreement", {"reason": "患方要求修改赔偿数额"})
        second = await ok(api, case_id, "draft-agreement", agreement())
        first_doc = (await api.get(f"/documents/{first['document_ids'][0]}")).json()
        second_doc = (await api.get(f"/documents/{second['document_ids'][0]}")).json()
        assert first_doc["number"].endswith("第1稿") and second_doc["number"].endswith("第2稿")


class TestADocumentThatCannotBeMade:
    async def test_is_marked_failed_with_the_reason_and_the_transition_stays(self, api, sessions):
        """A renderer that refuses for good: the document is failed, with why; nothing recorded is lost."""
        from temporalio.exceptions import ApplicationError

        def refuses(*_: object, **__: object) -> bytes:
            raise ApplicationError("template refused the context", non_retryable=True)

        case_id = await registered(api)
        with sessions() as session:
            seq = session.get(Case, case_id).version
        document_id = uuid.uuid4().hex
        with sessions() as session:
            repo_documents.add_jobs(session=session, case_id=case_id, source_seq=seq, at=datetime.now(timezone.utc),
                                    orders=[(document_id, "acceptance_notice", "zh")])
            session.commit()
        class Refusing(DocumentActivities):
            @staticmethod
            def _context(*_: object, **__: object) -> object:  # the case is not accepted: any context will do
                return object()

        activities = Refusing(sessions, renderer=refuses)
        request = RenderRequest(case_id=case_id, kind="acceptance_notice", source_seq=seq,
                                at=datetime.now(timezone.utc), document_ids={"zh": document_id})
        try:
            activities.render_document(request)
        except ApplicationError:
            pass
        with sessions() as session:
            job = session.get(DocumentJob, document_id)
            assert job.status == "failed" and "template refused the context" in job.error and job.attempts == 1
        assert (await api.get(f"/cases/{case_id}")).json()["status"] == "under_review"  # nothing recorded is lost
        refused = await api.get(f"/documents/{document_id}/pdf")
        assert refused.status_code == 409 and refused.json()["code"] == "document_failed"


class TestTheCaseAsRecorded:
    async def test_a_snapshot_reads_back_as_the_row_was(self, api, sessions):
        case_id = await registered(api)
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        with sessions() as session:
            case = session.get(Case, case_id)
            snapshot = repo_documents.snapshot_of(case)
            document_id = uuid.uuid4().hex
            session.add(DocumentJob(id=document_id, case_id=case.id, kind="acceptance_notice", lang="zh",
                                    source_seq=case.version, requested_at=datetime.now(timezone.utc),
                                    case_snapshot=snapshot))
            session.commit()
            again = repo_documents.case_as_recorded(session=session, document_id=document_id, case_id=case.id)
            for column in Case.__table__.columns:
                assert getattr(again, column.name) == getattr(case, column.name), column.name
