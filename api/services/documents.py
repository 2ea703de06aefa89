"""Reads of generated documents: a case's list, one document's metadata, its PDF, and its verification."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from core.errors import NotFound
from core.settings import Settings
from models import repo
from models.schemas import DocumentPublic
from models.tables import Document

log = logging.getLogger(__name__)


def of_case(*, session: Session, case_id: str) -> list[DocumentPublic]:
    repo.get_case(session=session, case_id=case_id)
    return [DocumentPublic.model_validate(d) for d in repo.list_documents(session=session, case_id=case_id)]


class CaseFileManifest(BaseModel):
    """The case file's own record: its document, its SHA-256, and the manifest of every document it binds."""

    document_id: str
    sha256: str
    size: int
    manifest: dict[str, Any]


def case_file(*, session: Session, case_id: str) -> Document:
    """The 卷宗 of an archived case (bound when it was archived)."""
    case = repo.get_case(session=session, case_id=case_id)
    found = [d for d in repo.list_documents(session=session, case_id=case.id) if d.kind == "case_file"]
    if not found:
        raise NotFound(f"case {case_id!r} has no case file: one is bound when the case is archived "
                       f"(it is {case.status})")
    return found[-1]


def case_file_manifest(*, session: Session, case_id: str) -> CaseFileManifest:
    document = case_file(session=session, case_id=case_id)
    return CaseFileManifest(document_id=document.id, sha256=document.sha256, size=document.size,
                            manifest=document.manifest or {})


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


class SealVerification(BaseModel):
    """The committee's seal on the PDF (documents/seal.py SealReport)."""

    signed: bool
    intact: bool  # the sealed bytes are the ones that were sealed
    valid: bool  # intact, and the signer chains to the committee's configured certificate
    signer: str | None
    signed_at: datetime | None
    covers_whole_file: bool
    modification_level: str | None
    problems: list[str]


class DocumentVerification(BaseModel):
    document_id: str
    sha256_recorded: str  # recorded when the document was generated
    sha256_actual: str  # of the stored bytes now
    hash_matches: bool
    seal: SealVerification
    verified: bool  # hash_matches and seal.valid


def _trusted(settings: Settings) -> tuple[list, list[str]]:
    """The certificates a seal must chain to: the installation's and each committee's own, and why there are
    none."""
    from documents.seal import load_certificates  # the signing stack loads on the first verification only

    trusted: list = []
    for path in (settings.effective_seal_cert_path, *settings.committee_seal_certificates()):
        try:
            trusted.extend(load_certificates(path))
        except Exception as err:  # noqa: BLE001 - missing, unreadable or not certificates: the same to the client
            if path == settings.effective_seal_cert_path and settings.committee_seal_certificates():
                continue  # the committees seal with their own: the installation's may be absent
            log.warning("no committee certificate to verify seals with: %s", err)
    if not trusted:
        return [], ["the committee's certificate is not configured or cannot be read"]
    return trusted, []


def verify(*, session: Session, settings: Settings, document_id: str) -> DocumentVerification:
    """Recomputes the stored PDF's SHA-256 against the recorded one and checks its seal against the
    committee's configured certificate."""
    document = repo.get_document(session=session, document_id=document_id)
    data = repo.get_document_content(session=session, document_id=document.id)
    actual = hashlib.sha256(data).hexdigest()
    from documents.seal import NO_TRUSTED_CERTIFICATE, verify_pdf

    trusted, problems = _trusted(settings)
    report = verify_pdf(data, trusted=trusted)
    if problems:  # say why instead of "no trusted certificate is configured"
        report.problems = problems + [p for p in report.problems if p != NO_TRUSTED_CERTIFICATE]
    seal = SealVerification(
        signed=report.signed, intact=report.intact, valid=report.valid, signer=report.signer,
        signed_at=report.signed_at, covers_whole_file=report.covers_whole_file,
        modification_level=report.modification_level, problems=report.problems,
    )
    matches = actual == document.sha256
    return DocumentVerification(
        document_id=document.id, sha256_recorded=document.sha256, sha256_actual=actual, hash_matches=matches,
        seal=seal, verified=matches and report.valid,
    )
