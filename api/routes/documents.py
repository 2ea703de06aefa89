"""Generated documents: list a case's, read one's metadata (with SHA-256), download its PDF, verify it."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlmodel import Session

from api.access import allow
from api.deps import ActorDep, CaseId, DatabaseDep, DocumentId, ReleasingRoute, SettingsDep
from api.errors import DOCUMENT_RESPONSES
from api.services import documents
from models.schemas import DocumentPublic

# How long a read waits for a document still being made (an action answers before its documents are issued).
Wait = Annotated[float | None, Query(ge=0, le=60, description="seconds to wait for a document being made "
                                     "(default: the installation's document_wait_seconds); 0 answers at once")]

router = APIRouter(route_class=ReleasingRoute, tags=["documents"], responses=DOCUMENT_RESPONSES)


@router.get("/cases/{case_id}/documents", dependencies=[allow("documents.read")],
            summary="A case's generated documents")
async def of_case(case_id: CaseId, db: DatabaseDep, settings: SettingsDep, actor: ActorDep,
                  wait: Wait = None) -> list[DocumentPublic]:
    """Documents being made are waited for (`wait` seconds, by default the installation's); then each with its
    status."""
    return await documents.of_case_when_settled(db=db, case_id=case_id,
                                                wait=settings.document_wait_seconds if wait is None else wait)


@router.get("/documents/{document_id}", dependencies=[allow("documents.read")],
            summary="A document's metadata, with its SHA-256")
async def metadata(document_id: DocumentId, db: DatabaseDep, settings: SettingsDep, actor: ActorDep,
                   wait: Wait = None) -> DocumentPublic:
    """A document being made is waited for (`wait` seconds, by default the installation's); then its status."""
    return await documents.metadata_when_settled(db=db, document_id=document_id,
                                                 wait=settings.document_wait_seconds if wait is None else wait)


@router.get(
    "/documents/{document_id}/verify", dependencies=[allow("documents.read")],
    summary="Verify a document: its SHA-256 against the recorded one, and the committee's seal (PAdES)",
)
async def verify(
    document_id: DocumentId, db: DatabaseDep, settings: SettingsDep, actor: ActorDep
) -> documents.DocumentVerification:
    await documents.when_issued(db=db, document_id=document_id, wait=settings.document_wait_seconds)
    return await db.run(lambda session: documents.verify(session=session, settings=settings, document_id=document_id))


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
async def case_file(case_id: CaseId, db: DatabaseDep, settings: SettingsDep) -> Response:
    await documents.case_file_issued(db=db, case_id=case_id, wait=settings.document_wait_seconds)

    def read(session: Session) -> tuple[Any, bytes]:
        document = documents.case_file(session=session, case_id=case_id)
        return document, documents.pdf(session=session, document_id=document.id, lang=None)[1]

    return _pdf_response(*await db.run(read))


@router.get(
    "/cases/{case_id}/case-file/manifest", dependencies=[allow("documents.read")],
    summary="The case file's SHA-256 and its manifest: the SHA-256 of every document it binds",
)
async def case_file_manifest(case_id: CaseId, db: DatabaseDep, settings: SettingsDep) -> documents.CaseFileManifest:
    await documents.case_file_issued(db=db, case_id=case_id, wait=settings.document_wait_seconds)
    return await db.run(lambda session: documents.case_file_manifest(session=session, case_id=case_id))


@router.get(
    "/documents/{document_id}/pdf", dependencies=[allow("documents.read")],
    summary="Download the PDF (lang=en for the English version)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}},
)
async def pdf(
    document_id: DocumentId,
    db: DatabaseDep,
    settings: SettingsDep,
    actor: ActorDep,
    lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
    wait: Wait = None,
) -> Response:
    """A document still being made is waited for (`wait` seconds), then 409 document_pending with Retry-After."""
    await documents.when_issued(db=db, document_id=document_id,
                                wait=settings.document_wait_seconds if wait is None else wait)
    return _pdf_response(*await db.run(
        lambda session: documents.pdf(session=session, document_id=document_id, lang=lang)))
