"""Reads of generated documents: a case's list, one document's metadata, its PDF."""

from __future__ import annotations

from sqlmodel import Session

from core.errors import NotFound
from models import repo
from models.schemas import DocumentPublic
from models.tables import Document


def of_case(*, session: Session, case_id: str) -> list[DocumentPublic]:
    repo.get_case(session=session, case_id=case_id)
    return [DocumentPublic.model_validate(d) for d in repo.list_documents(session=session, case_id=case_id)]


def metadata(*, session: Session, document_id: str) -> DocumentPublic:
    return DocumentPublic.model_validate(repo.get_document(session=session, document_id=document_id))


def pdf(*, session: Session, document_id: str, lang: str | None) -> tuple[Document, bytes]:
    """The PDF of a document; with `lang`, the same document in that language."""
    document = repo.get_document(session=session, document_id=document_id)
    if lang and lang != document.lang:
        sibling = repo.find_document(
            session=session, case_id=document.case_id, kind=document.kind, lang=lang, source_seq=document.source_seq
        )
        if sibling is None:
            raise NotFound(f"document {document_id!r} has no {lang!r} version")
        document = sibling
    return document, repo.get_document_content(session=session, document_id=document.id)
