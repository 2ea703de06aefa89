"""Activities of the dispute workflow. Their dependencies (session factory, renderer) are passed in.

Each one is idempotent: a retried activity finds what it wrote before and writes nothing twice.
They are synchronous (database and PDF rendering); the worker runs them in a thread pool.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from temporalio import activity

from core.db import SessionFactory, transaction
from documents.case_contexts import context_for
from documents.render import KINDS, LANGUAGES, render_pdf
from models import repo
from models.schemas import SHANGHAI
from models.tables import Document
from workflows.contracts import DocumentRef, RegistrationRecord, RenderRequest, TransitionRecord

Renderer = Callable[..., bytes]
NUMBER_PATTERN_OF_KIND = {"agreement": "agreement_number_pattern"}


class DisputeActivities:
    def __init__(self, session_factory: SessionFactory, renderer: Renderer = render_pdf) -> None:
        self._sessions = session_factory
        self._render = renderer

    @activity.defn
    def persist_registration(self, record: RegistrationRecord) -> str:
        """Writes the case row and its first transition; returns the committee's number for the case."""
        with transaction(self._sessions) as session:
            case = repo.create_case(
                session=session,
                case_id=record.case_id,
                registration=record.registration,
                at=record.at,
                actor=record.actor.as_dict(),
            )
            return case.number

    @activity.defn
    def persist_transition(self, record: TransitionRecord) -> bool:
        """Writes one transition and the projection it implies; False when it was already written."""
        with transaction(self._sessions) as session:
            return repo.record_transition(
                session=session,
                case_id=record.case_id,
                seq=record.seq,
                event=record.event,
                from_status=record.from_status,
                to_status=record.to_status,
                actor=record.actor.as_dict(),
                at=record.at,
                payload=record.payload,
                request_id=record.request_id,
            )

    @activity.defn
    def render_document(self, request: RenderRequest) -> list[DocumentRef]:
        """Renders a document in every language, numbers it once, and stores it with its SHA-256."""
        with transaction(self._sessions) as session:
            case = repo.get_case(session=session, case_id=request.case_id)
            committee = repo.get_committee(session=session, committee_id=case.committee_id)
            existing = {
                lang: repo.find_document(
                    session=session, case_id=case.id, kind=request.kind, lang=lang, source_seq=request.source_seq
                )
                for lang in LANGUAGES
            }
            number = next((doc.number for doc in existing.values() if doc is not None), None)
            if number is None:
                year = request.at.astimezone(SHANGHAI).year
                seq = repo.next_number(session=session, committee_id=committee.id, year=year, kind=request.kind)
                pattern = getattr(committee, NUMBER_PATTERN_OF_KIND[request.kind])
                number = repo.format_number(pattern, committee=committee, year=year, seq=seq)
            refs: list[DocumentRef] = []
            for lang in LANGUAGES:
                doc = existing[lang]
                if doc is None:
                    context = context_for(request.kind, case=case, committee=committee, number=number, at=request.at)
                    data = self._render(request.kind, context, lang=lang)
                    doc = repo.save_document(
                        session=session,
                        document=Document(
                            id=uuid.uuid4().hex,
                            case_id=case.id,
                            kind=request.kind,
                            lang=lang,
                            version=case.agreement_version if request.kind == "agreement" else 1,
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
            return refs

    def all(self) -> list[Callable]:
        return [self.persist_registration, self.persist_transition, self.render_document]
