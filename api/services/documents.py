"""Reads of generated documents: a case's list, one document's metadata, its PDF, and its verification."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from api.deps import Database
from core.errors import DocumentFailed, DocumentPending, NotFound
from core.settings import Settings
from models import repo, repo_documents
from models.schemas import DocumentPublic
from models.tables import Document, DocumentJob

log = logging.getLogger(__name__)


def of_case(*, session: Session, case_id: str) -> list[DocumentPublic]:
    """Every document of the case: issued, then those still being made or that failed."""
    repo.get_case(session=session, case_id=case_id)
    issued = [DocumentPublic.model_validate(d) for d in repo.list_documents(session=session, case_id=case_id)]
    known = {d.id for d in issued}
    unfinished = [_unfinished(job) for job in repo_documents.unfinished_of_case(session=session, case_id=case_id)
                  if job.id not in known]
    return sorted([*issued, *unfinished], key=lambda d: (d.source_seq, d.lang))


def _unfinished(job: DocumentJob) -> DocumentPublic:
    return DocumentPublic(id=job.id, case_id=job.case_id, kind=job.kind, lang=job.lang, source_seq=job.source_seq,
                          status=job.status, attempts=job.attempts, error=job.error, requested_at=job.requested_at)


def _still(job: DocumentJob) -> DocumentPending | DocumentFailed:
    if job.status == "failed":
        return DocumentFailed(f"document {job.id!r} ({job.kind}, {job.lang}) could not be made: {job.error}",
                              document_id=job.id, status=job.status)
    retried = f"; {job.attempts} attempt(s) failed so far, the last with: {job.error}" if job.attempts else ""
    return DocumentPending(f"document {job.id!r} ({job.kind}, {job.lang}) is being rendered and sealed{retried}; "
                           "ask again shortly", document_id=job.id, status=job.status, attempts=job.attempts)


async def of_case_when_settled(*, db: Database, case_id: str, wait: float) -> list[DocumentPublic]:
    """The case's documents, after waiting up to `wait` seconds for those being made."""
    deadline, delay = time.monotonic() + wait, 0.05

    def pending(session: Session) -> bool:
        return any(job.status == "pending"
                   for job in repo_documents.unfinished_of_case(session=session, case_id=case_id))

    while time.monotonic() + delay <= deadline and await db.run(pending):
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)
    return await db.run(lambda session: of_case(session=session, case_id=case_id))


async def settled(*, db: Database, document_id: str, wait: float) -> DocumentJob | None:
    """The document's job once it is issued or failed (None: issued before jobs were kept), or still pending
    after waiting up to `wait` seconds."""
    deadline, delay = time.monotonic() + wait, 0.05
    while True:
        job = await db.run(lambda session: repo_documents.find_job(session=session, document_id=document_id))
        if job is None or job.status != "pending" or time.monotonic() + delay > deadline:
            return job
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def when_issued(*, db: Database, document_id: str, wait: float) -> None:
    """Returns once the document is issued (at once for every document issued before), waiting up to `wait`
    seconds for one being made; then 409 document_pending with Retry-After, or document_failed."""
    job = await settled(db=db, document_id=document_id, wait=wait)
    if job is not None and job.status != "issued":
        raise _still(job)


async def metadata_when_settled(*, db: Database, document_id: str, wait: float) -> DocumentPublic:
    """The document's record, after waiting up to `wait` seconds for one being made: issued, or its status."""
    await settled(db=db, document_id=document_id, wait=wait)
    return await db.run(lambda session: metadata(session=session, document_id=document_id))


async def case_file_issued(*, db: Database, case_id: str, wait: float) -> None:
    """The case's 卷宗, when it is being bound: waited for as `when_issued`."""
    def binding(session: Session) -> str | None:
        jobs = repo_documents.unfinished_of_case(session=session, case_id=case_id)
        return next((job.id for job in reversed(jobs) if job.kind == "case_file"), None)

    job_id = await db.run(binding)
    if job_id is not None:
        await when_issued(db=db, document_id=job_id, wait=wait)


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
    """A document's record; one still being made (or that failed) shows its status, attempts and error."""
    job = repo_documents.find_job(session=session, document_id=document_id)
    if job is not None and job.status != "issued":
        return _unfinished(job)
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
