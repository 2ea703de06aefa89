"""Activities that make documents: render each in every language, number it once, seal it and store it; bind the
卷宗 of an archived case. They run on the documents' own task queue (workflows/contracts.py `documents_queue`), in
worker processes apart from the API and from the cases' worker (`mediation documents-worker`; the embedded stack
starts them), so that an action never waits for a PDF. Each marks its documents issued (models/repo_documents.py)
in the transaction that stores them, or counts the failed attempt.

Each one is idempotent: a retried activity finds what it stored before and stores nothing twice.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.blobstore import BlobStore, store_of
from core.db import SessionFactory, transaction
from core.settings import get_settings
from documents.case_contexts import agreement_context, case_file_context, context_for, session_minutes_context
from documents.case_file import bind
from documents.kinds import languages_of
from documents.opinion_context import expert_opinion_context
from documents.render import KINDS, render_pdf
from domain.attachments import EXPERT_KINDS
from domain.policy import ClockPolicy
from domain.time import SHANGHAI
from models import repo, repo_attachments, repo_audit, repo_documents, repo_panels
from models.tables import Case, Committee, Document, Transition
from workflows.contracts import DocumentRef, RenderRequest

if TYPE_CHECKING:
    from documents.seal import Sealer

Renderer = Callable[..., bytes]


class _Heartbeats:
    """One thread per process heartbeats for every activity rendering or binding now, every `every` seconds, so
    that Temporal notices within the heartbeat timeout a worker that died, not after the whole activity timeout.
    One thread for all (started once), not one per activity: starting a thread for every document was a cost, and
    a thread that dies before it has started leaves `Thread.start()` waiting forever."""

    def __init__(self, every: float) -> None:
        self._every = every
        self._lock = threading.Lock()
        self._beating: dict[int, contextvars.Context] = {}
        self._thread: threading.Thread | None = None

    def add(self, context: contextvars.Context) -> int:
        with self._lock:
            key = id(context)
            self._beating[key] = context
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="activity-heartbeats", daemon=True)
                self._thread.start()
            return key

    def remove(self, key: int) -> None:
        with self._lock:
            self._beating.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(self._every)
            with self._lock:
                contexts = list(self._beating.values())
            for context in contexts:
                with contextlib.suppress(Exception):  # a heartbeat that cannot be sent is not the work's failure
                    context.copy().run(activity.heartbeat)


_HEARTBEATS = _Heartbeats(every=3.0)


@contextmanager
def heartbeating() -> Iterator[None]:
    """Heartbeats for the activity running in this thread while its work (one long call: a layout, a binding) runs
    (the activity's context is where activity.heartbeat finds it)."""
    key = _HEARTBEATS.add(contextvars.copy_context())
    try:
        yield
    finally:
        _HEARTBEATS.remove(key)



class DocumentActivities:
    """`renderer` lays a document out (documents/render.py); `sealer` seals each rendered PDF with the committee's
    certificate (documents/seal.py), None stores them unsealed."""

    def __init__(self, session_factory: SessionFactory, renderer: Renderer = render_pdf,
                 sealer: Sealer | None = None, blobs: BlobStore | None = None) -> None:
        self._sessions = session_factory
        self._render = renderer
        self._seal = sealer
        self._blobs = blobs  # the attachments' store; None: the one the settings name, made when first needed

    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            self._blobs = store_of(get_settings())
        return self._blobs

    @contextmanager
    def _recording(self, request: RenderRequest) -> Iterator[None]:
        """A failed attempt is counted on the documents it was making (the read shows it); one that cannot
        succeed marks them failed."""
        try:
            yield
        except Exception as err:
            final = isinstance(err, ApplicationError) and err.non_retryable
            with contextlib.suppress(Exception), transaction(self._sessions) as session:
                repo_documents.mark_attempt_failed(
                    session=session, document_ids=request.document_ids.values(), error=f"{type(err).__name__}: {err}",
                    final=final, at=datetime.now(UTC))
            raise

    @activity.defn
    def render_document(self, request: RenderRequest) -> list[DocumentRef]:
        with heartbeating(), self._recording(request):
            return self._render_document(request)

    def _render_document(self, request: RenderRequest) -> list[DocumentRef]:
        """Renders a document in every language, numbers it once, and stores it with its SHA-256.

        Three steps, so that no database lock is held while a PDF is laid out and sealed (a second or more):
        read what the document says and reserve its number (a short transaction), render and seal (none), store
        (a short transaction). Each step is idempotent: a retry finds the number and the documents stored."""
        with transaction(self._sessions) as session:
            case = repo_documents.case_as_recorded(session=session, case_id=request.case_id,
                                                   document_id=next(iter(request.document_ids.values()), None))
            committee = repo.get_committee(session=session, committee_id=case.committee_id)
            existing = {
                lang: repo.find_document(
                    session=session, case_id=case.id, kind=request.kind, lang=lang, source_seq=request.source_seq
                )
                for lang in languages_of(request.kind)
            }
            draft = request.kind == "agreement_draft"  # numbered by its draft number only: the register has no gaps
            number = next((doc.number for doc in existing.values() if doc is not None), None) or (
                f"{case.number} 第{case.agreement_version}稿" if draft else
                repo.reserve_document_number(session=session, committee=committee, case_id=case.id,
                                             kind=request.kind, source_seq=request.source_seq,
                                             year=request.at.astimezone(SHANGHAI).year))
            transition = repo.get_transition(session=session, case_id=case.id, seq=request.source_seq)
            version = case.agreement_version if request.kind in ("agreement", "agreement_draft") else 1
            if request.kind == "expert_opinion":  # a later version replaces the one with a voided part
                version = int(transition.payload.get("version", 1))
            missing = [lang for lang in languages_of(request.kind) if existing[lang] is None]
            context = self._context(session, request, case=case, committee=committee, number=number,
                                    transition=transition) if missing else None
        rendered: dict[str, bytes] = {}
        for lang in missing:
            data = self._render(request.kind, context, lang=lang)
            if self._seal is not None and not draft:  # what is stored, and hashed, is the sealed PDF (Reg 39: a
                # draft carries no committee seal, the seal being the last of the four acts)
                data = self._seal(data, reason=f"{KINDS[request.kind].titles[lang]} {number}",
                                  location=committee.city or committee.name, name=committee.name)
            rendered[lang] = data
        with transaction(self._sessions) as session:
            if request.kind == "expert_opinion":
                repo_panels.supersede_opinions(session=session, case_id=case.id,
                                               panel_id=transition.payload["panel_id"], before_seq=request.source_seq)
            refs: list[DocumentRef] = []
            for lang in languages_of(request.kind):
                doc = repo.find_document(session=session, case_id=case.id, kind=request.kind, lang=lang,
                                         source_seq=request.source_seq)
                if doc is None:
                    data = rendered[lang]
                    doc = repo.save_document(
                        session=session,
                        document=Document(
                            id=request.document_ids.get(lang) or uuid.uuid4().hex,
                            case_id=case.id,
                            kind=request.kind,
                            lang=lang,
                            version=version,
                            number=number,
                            title=KINDS[request.kind].titles[lang],
                            source_seq=request.source_seq,
                            sha256=hashlib.sha256(data).hexdigest(),
                            size=len(data),
                            created_at=request.at,
                        ),
                        data=data,
                    )
                refs.append(DocumentRef(id=doc.id, kind=doc.kind, lang=doc.lang, sha256=doc.sha256))
            repo_documents.mark_issued(session=session, document_ids=[ref.id for ref in refs], at=datetime.now(UTC))
            return refs

    @activity.defn
    def bind_case_file(self, request: RenderRequest) -> list[DocumentRef]:
        """Binds the 卷宗 of the case just archived (PML 27), once: its documents, history and audit entries."""
        with heartbeating(), self._recording(request):
            return self._bind_case_file(request)

    def _bind_case_file(self, request: RenderRequest) -> list[DocumentRef]:
        with transaction(self._sessions) as session:
            done = repo.find_document(session=session, case_id=request.case_id, kind="case_file", lang="zh",
                                      source_seq=request.source_seq)
            if done is not None:
                repo_documents.mark_issued(session=session, document_ids=[done.id], at=datetime.now(UTC))
                return [DocumentRef(id=done.id, kind=done.kind, lang=done.lang, sha256=done.sha256)]
            case = repo.get_case(session=session, case_id=request.case_id)
            committee = repo.get_committee(session=session, committee_id=case.committee_id)
            documents = [d for d in repo.list_documents(session=session, case_id=case.id) if d.kind != "case_file"]
            entries = repo_audit.entries_of_case(session=session, case_id=case.id)
            context = case_file_context(
                case=case, committee=committee, documents=documents,
                transitions=repo.list_transitions(session=session, case_id=case.id),
                audit_entries=entries,
                audit_head_hash=entries[-1].hash if entries else repo_audit.head_hash(session=session),
                sessions=repo.list_sessions(session=session, case_id=case.id),
                retention_years=ClockPolicy.from_dict(committee.policy).case_file_retention_years,
                archived_at=request.at,
                attachments=repo_attachments.of_case(session=session, case_id=case.id),
            )
            originals = {filed.file: repo.get_document_content(session=session, document_id=filed.document_id)
                         for filed in context.documents}
            try:
                bound = bind(context, originals, attachment_bytes=self.blobs.read)
            except ValueError as err:  # a stored document no longer hashes to its record: retrying cannot help
                raise ApplicationError(f"case file of {case.id} not bound: {err}", type="CaseFileRefused",
                                       non_retryable=True) from err
            data = bound.pdf
            if self._seal is not None:
                data = self._seal(data, reason=f"卷宗 {case.number}", location=committee.city or committee.name,
                                  name=committee.name)
            doc = repo.save_document(
                session=session,
                document=Document(
                    id=request.document_ids.get("zh") or uuid.uuid4().hex, case_id=case.id, kind="case_file", lang="zh",
                    version=1, number=case.number,
                    title=KINDS["case_file"].titles["zh"], source_seq=request.source_seq,
                    sha256=hashlib.sha256(data).hexdigest(), size=len(data), created_at=request.at,
                    manifest=bound.manifest,
                ),
                data=data,
            )
            repo_documents.mark_issued(session=session, document_ids=[doc.id], at=datetime.now(UTC))
            return [DocumentRef(id=doc.id, kind=doc.kind, lang=doc.lang, sha256=doc.sha256)]

    @staticmethod
    def _context(
        session: Session, request: RenderRequest, *, case: Case, committee: Committee, number: str,
        transition: Transition,
    ) -> Any:
        if request.kind == "expert_opinion":
            panel = repo_panels.get_panel(session=session, panel_id=transition.payload["panel_id"])
            invitations = repo_panels.invitations_of_panel(session=session, panel_id=panel.id)
            experts = repo_panels.experts_by_id(session=session, expert_ids={i.expert_id for i in invitations})
            # Reg 42: the files the panel was given — the case's medical records and appraisal reports that stood
            # when the opinion was recorded
            given = repo_attachments.of_case(session=session, case_id=case.id, kinds=EXPERT_KINDS,
                                             include_withdrawn=False, uploaded_before=transition.at)
            return expert_opinion_context(
                case=case, committee=committee, panel=panel, invitations=invitations, experts=experts,
                number=number, at=request.at, version=int(transition.payload.get("version", 1)), attachments=given,
            )
        if request.kind in ("agreement", "agreement_draft"):
            effective = request.kind == "agreement"
            return agreement_context(
                case=case, committee=committee, number=number if effective else None, at=request.at,
                calendar=repo.working_day_calendar(session=session) if effective else None,
                visible_seal=ClockPolicy.from_dict(committee.policy).agreement_seal_image,
            )
        if request.kind == "session_minutes":
            sessions = list(repo.list_sessions(session=session, case_id=case.id))
            row = next(s for s in sessions if s.id == transition.payload["session_id"])
            return session_minutes_context(case=case, committee=committee, number=number, at=request.at,
                                           session_row=row, session_number=sessions.index(row) + 1)
        return context_for(
            request.kind, case=case, committee=committee, number=number, at=request.at, transition=transition,
            agreement_number=repo.agreement_number(session=session, case_id=case.id),
        )

    def all(self) -> list[Callable]:
        return [self.render_document, self.bind_case_file]
