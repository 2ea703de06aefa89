"""The documents an action issues, from the moment it is recorded: pending, then issued or failed (DocumentJob).

The case's workflow names each document (its id) when it records the transition; the documents' worker renders
and seals it apart from the action, then marks it issued in the same transaction that stores it. A failed
attempt is counted with its error (the worker tries again); a document that cannot be made is marked failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from core.errors import NotFound
from models.tables import Case, DocumentJob, UTCDateTime

ERROR_LENGTH = 2000


def add_jobs(*, session: Session, case_id: str, source_seq: int, at: datetime,
             orders: Iterable[tuple[str, str, str]]) -> None:
    """Records (id, kind, lang) as pending, once (a retried write finds them), each with the case row as the
    transition left it. Called after the transition is written, in its transaction."""
    snapshot: dict[str, Any] | None = None
    for document_id, kind, lang in orders:
        if session.get(DocumentJob, document_id) is None:
            if snapshot is None:
                snapshot = snapshot_of(session.get(Case, case_id))
            session.add(DocumentJob(id=document_id, case_id=case_id, kind=kind, lang=lang, source_seq=source_seq,
                                    status="pending", requested_at=at, case_snapshot=snapshot))
    session.flush()


def snapshot_of(case: Case | None) -> dict[str, Any] | None:
    """The case row as JSON: times and days in ISO 8601, amounts as strings."""
    if case is None:
        return None
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, date | datetime) else str(value) if isinstance(value, Decimal) \
            else value
    return {column.name: plain(getattr(case, column.name)) for column in Case.__table__.columns}


def case_as_recorded(*, session: Session, document_id: str | None, case_id: str) -> Case:
    """The case as the document's transition left it (its snapshot), else the case row as it is now (documents
    issued before snapshots were kept, and the 卷宗, bound from the case as archived). Not attached to the
    session: reading it changes nothing."""
    job = session.get(DocumentJob, document_id) if document_id else None
    if job is None or not job.case_snapshot:
        from models.repo import get_case

        return get_case(session=session, case_id=case_id)
    values: dict[str, Any] = {}
    for column in Case.__table__.columns:
        value = job.case_snapshot.get(column.name)
        python_type = _python_type(column)
        if isinstance(value, str) and python_type is datetime:
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and python_type is date:
            value = date.fromisoformat(value)
        elif isinstance(value, str) and python_type is Decimal:
            value = Decimal(value)
        values[column.name] = value
    return Case(**values)


def _python_type(column: Any) -> type | None:
    if isinstance(column.type, UTCDateTime):
        return datetime
    try:
        return column.type.python_type
    except NotImplementedError:  # JSON
        return None


def get_job(*, session: Session, document_id: str) -> DocumentJob:
    job = session.get(DocumentJob, document_id)
    if job is None:
        raise NotFound(f"document {document_id!r} not found")
    return job


def find_job(*, session: Session, document_id: str) -> DocumentJob | None:
    return session.get(DocumentJob, document_id)


def unfinished_of_case(*, session: Session, case_id: str) -> Sequence[DocumentJob]:
    """The case's documents not issued (yet): pending, or failed."""
    return session.exec(
        select(DocumentJob).where(DocumentJob.case_id == case_id, col(DocumentJob.status) != "issued")
        .order_by(col(DocumentJob.source_seq), col(DocumentJob.lang))
    ).all()


def mark_issued(*, session: Session, document_ids: Iterable[str], at: datetime) -> None:
    for document_id in document_ids:
        job = session.get(DocumentJob, document_id)
        if job is not None and job.status != "issued":
            job.status, job.finished_at, job.attempts = "issued", at, job.attempts + 1
            session.add(job)
    session.flush()


def mark_attempt_failed(*, session: Session, document_ids: Iterable[str], error: str, final: bool,
                        at: datetime) -> None:
    """An attempt failed: counted with its error; `final` when it cannot be made (the job is then failed)."""
    for document_id in document_ids:
        job = session.get(DocumentJob, document_id)
        if job is None or job.status == "issued":
            continue
        job.attempts += 1
        job.error = error[:ERROR_LENGTH]
        if final:
            job.status, job.finished_at = "failed", at
        session.add(job)
    session.flush()
