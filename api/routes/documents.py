"""Generated documents: list a case's, read one's metadata (with SHA-256), download its PDF, verify it."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.access import allow
from api.deps import ActorDep, CaseId, DocumentId, ReleasingRoute, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.services import documents
from models.schemas import DocumentPublic

router = APIRouter(route_class=ReleasingRoute, tags=["documents"], responses=ERROR_RESPONSES)


@router.get("/cases/{case_id}/documents", dependencies=[allow("documents.read")],
            summary="A case's generated documents")
def of_case(case_id: CaseId, session: SessionDep, actor: ActorDep) -> list[DocumentPublic]:
    return documents.of_case(session=session, case_id=case_id)


@router.get("/documents/{document_id}", dependencies=[allow("documents.read")],
            summary="A document's metadata, with its SHA-256")
def metadata(document_id: DocumentId, session: SessionDep, actor: ActorDep) -> DocumentPublic:
    return documents.metadata(session=session, document_id=document_id)


@router.get(
    "/documents/{document_id}/verify", dependencies=[allow("documents.read")],
    summary="Verify a document: its SHA-256 against the recorded one, and the committee's seal (PAdES)",
)
def verify(
    document_id: DocumentId, session: SessionDep, settings: SettingsDep, actor: ActorDep
) -> documents.DocumentVerification:
    return documents.verify(session=session, settings=settings, document_id=document_id)


def _pdf_response(document: Any, data: bytes) -> Response:
    filename = f"{document.number}-{document.title}-{document.lang}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
            "X-Content-SHA256": document.sha256,
        },
    )


PDF = {200: {"content": {"application/pdf": {}}, "description": "The PDF"}}


@router.get(
    "/cases/{case_id}/case-file", dependencies=[allow("documents.read")], response_class=Response, responses=PDF,
    summary="The case file (卷宗, PML 27) of an archived case: cover, index, history, audit entries, and every "
    "document attached as issued (PDF/A-3)",
)
def case_file(case_id: CaseId, session: SessionDep) -> Response:
    document = documents.case_file(session=session, case_id=case_id)
    return _pdf_response(document, documents.pdf(session=session, document_id=document.id, lang=None)[1])


@router.get(
    "/cases/{case_id}/case-file/manifest", dependencies=[allow("documents.read")],
    summary="The case file's SHA-256 and its manifest: the SHA-256 of every document it binds",
)
def case_file_manifest(case_id: CaseId, session: SessionDep) -> documents.CaseFileManifest:
    return documents.case_file_manifest(session=session, case_id=case_id)


@router.get(
    "/documents/{document_id}/pdf", dependencies=[allow("documents.read")],
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
    return _pdf_response(*documents.pdf(session=session, document_id=document_id, lang=lang))
