"""Generated documents: list a case's, read one's metadata (with SHA-256), download its PDF, verify it."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import ActorDep, CaseId, DocumentId, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.services import documents
from models.schemas import DocumentPublic

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)


@router.get("/cases/{case_id}/documents", summary="A case's generated documents")
def of_case(case_id: CaseId, session: SessionDep, actor: ActorDep) -> list[DocumentPublic]:
    return documents.of_case(session=session, case_id=case_id)


@router.get("/documents/{document_id}", summary="A document's metadata, with its SHA-256")
def metadata(document_id: DocumentId, session: SessionDep, actor: ActorDep) -> DocumentPublic:
    return documents.metadata(session=session, document_id=document_id)


@router.get(
    "/documents/{document_id}/verify",
    summary="Verify a document: its SHA-256 against the recorded one, and the committee's seal (PAdES)",
)
def verify(
    document_id: DocumentId, session: SessionDep, settings: SettingsDep, actor: ActorDep
) -> documents.DocumentVerification:
    return documents.verify(session=session, settings=settings, document_id=document_id)


@router.get(
    "/documents/{document_id}/pdf",
    summary="Download the PDF (lang=en for the English version)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}},
)
def pdf(
    document_id: DocumentId,
    session: SessionDep,
    actor: ActorDep,
    lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
) -> Response:
    document, data = documents.pdf(session=session, document_id=document_id, lang=lang)
    filename = f"{document.number}-{document.title}-{document.lang}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
            "X-Content-SHA256": document.sha256,
        },
    )
