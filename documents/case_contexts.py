"""Builds a document's context from the case projection (what the activity that renders it reads)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from documents.case_file import file_name
from documents.contexts import (
    AcceptanceNoticeContext,
    AgreementContext,
    CaseFileContext,
    FailureNoticeContext,
    FiledAuditEntry,
    FiledDocument,
    FiledTransition,
    FollowupRecordContext,
    PartyBlock,
    RejectionNoticeContext,
    RejectReason,
    SealBlock,
    SignatureBlock,
    Term,
    TerminationNoticeContext,
)
from models.lifecycle import REFUSAL_REASON, REJECT_REASONS, STATE_LABELS, TERMINATION_GROUNDS
from models.schemas import SHANGHAI
from models.tables import AuditEntry, Case, Committee, Document, Transition

SIGNATURE_LABELS = {
    "patient": "患方（签名或捺印）",
    "institution": "医方（盖章）",
    "mediator": "人民调解员（签名）",
    "committee_seal": "人民调解委员会（印章）",
}


def _patient_block(registration: dict[str, Any]) -> PartyBlock:
    patient = registration["patient"]
    agents = tuple(
        f"{rep['name']}（{rep['relation']}{'，委托代理人' if rep.get('role') == 'agent' else ''}"
        f"{'，监护人' if rep.get('role') == 'guardian' else ''}）"
        for rep in registration.get("patient_representatives", [])
    )
    return PartyBlock(
        side="patient",
        name=patient["name"] + ("（已故）" if patient.get("deceased") else ""),
        id_number=patient.get("id_number"),
        phone=patient.get("phone"),
        address=patient.get("address"),
        agents=agents,
    )


def _institution_block(registration: dict[str, Any]) -> PartyBlock:
    institution = registration["institution"]
    agent = institution.get("agent")
    title = institution.get("agent_title")
    return PartyBlock(
        side="institution",
        name=institution["name"],
        address=institution.get("address"),
        legal_representative=institution.get("legal_representative"),
        agents=(f"{agent}（{title}）" if title else agent,) if agent else (),
    )


def _term(raw: dict[str, Any]) -> Term:
    return Term(
        text=raw["text"],
        amount=Decimal(str(raw["amount"])) if raw.get("amount") is not None else None,
        payer=raw.get("payer"),
        manner=raw.get("manner"),
        deadline=date.fromisoformat(raw["deadline"]) if raw.get("deadline") else None,
        deadline_text=raw.get("deadline_text"),
    )


def agreement_context(*, case: Case, committee: Committee, number: str, at: datetime) -> AgreementContext:
    agreement = case.agreement or {}
    terms = tuple(_term(raw) for raw in agreement.get("terms", []))
    deadlines = [t.deadline for t in terms if t.deadline is not None]
    signatures = tuple(
        SignatureBlock(
            role=role,
            label=label,
            signed_by=case.signatures.get(role, {}).get("signed_by"),
            signed_at=datetime.fromisoformat(case.signatures[role]["signed_at"]) if role in case.signatures else None,
        )
        for role, label in SIGNATURE_LABELS.items()
    )
    return AgreementContext(
        committee_name=committee.name,
        case_number=case.number,
        document_number=number,
        version=case.agreement_version,
        parties=(_patient_block(case.registration), _institution_block(case.registration)),
        facts=agreement.get("facts", case.facts),
        points_in_dispute=agreement.get("points_in_dispute", ""),
        responsibilities=agreement.get("responsibilities", ""),
        terms=terms,
        total_amount=sum((t.amount for t in terms if t.amount is not None), Decimal("0.00")),
        performance_deadline=max(deadlines) if deadlines else None,
        mediators=tuple(case.mediators),
        signatures=signatures,
        drafted_at=at.astimezone(SHANGHAI),
        copies=int(agreement.get("copies", 3)),
    )


def _notice_parties(registration: dict[str, Any]) -> tuple[PartyBlock, ...]:
    """A notice names the parties only: no identity number, phone or address (the context is attached)."""
    patient, institution = _patient_block(registration), _institution_block(registration)
    return (
        PartyBlock(side="patient", name=patient.name, agents=patient.agents),
        PartyBlock(side="institution", name=institution.name, agents=institution.agents),
    )


def _head(case: Case, committee: Committee, number: str, at: datetime) -> dict[str, Any]:
    issued = at.astimezone(SHANGHAI)
    return {
        "committee_name": committee.name,
        "case_number": case.number,
        "document_number": number,
        "issued_at": issued,
        "parties": _notice_parties(case.registration),
        "seal": SealBlock(committee_name=committee.name, sealed_on=issued.date()),
    }


def _day(value: datetime | None) -> date | None:
    return value.astimezone(SHANGHAI).date() if value else None


def acceptance_notice_context(
    *, case: Case, committee: Committee, number: str, at: datetime, transition: Transition
) -> AcceptanceNoticeContext:
    accepted_on = _day(case.accepted_at) or at.astimezone(SHANGHAI).date()
    assert case.due_date is not None, "an accepted case has a due date"
    return AcceptanceNoticeContext(
        **_head(case, committee, number, at),
        accepted_on=accepted_on,
        deadline=case.due_date,
        mediators=tuple(case.mediators),
        working_days=int((case.clock or {}).get("budget", 30)),
        deadline_provisional=case.due_provisional,
    )


def rejection_notice_context(
    *, case: Case, committee: Committee, number: str, at: datetime, transition: Transition
) -> RejectionNoticeContext:
    payload = transition.payload
    ticked = set(payload.get("reasons") or [REFUSAL_REASON])  # refusal or silence: reason 1 (PML 17)
    detail = payload.get("reason_text") or ""
    return RejectionNoticeContext(
        **_head(case, committee, number, at),
        decided_on=at.astimezone(SHANGHAI).date(),
        reasons=tuple(
            RejectReason(number=n, text=text, ticked=n in ticked, detail=detail if n == 8 else None)
            for n, text in REJECT_REASONS.items()
        ),
        applied_on=_day(case.registered_at),
    )


def failure_notice_context(
    *, case: Case, committee: Committee, number: str, at: datetime, transition: Transition
) -> FailureNoticeContext:
    payload = transition.payload
    expired = transition.event == "deadline_expired"
    return FailureNoticeContext(
        **_head(case, committee, number, at),
        cause="deadline_expired" if expired else "declared",
        # Reg 38: a deadline found to have passed only once its year was loaded fails the case as of that
        # deadline (shared/DOMAIN.md, "Unknown years"), not as of the day it was recorded.
        failed_on=_day(datetime.fromisoformat(payload["deemed_at"])) if payload.get("deemed_at") else _day(at),
        accepted_on=_day(case.accepted_at),
        deadline=date.fromisoformat(payload["due_date"]) if expired and payload.get("due_date") else case.due_date,
        deadline_provisional=bool(payload.get("provisional")) if expired else case.due_provisional,
        declared_by=None if expired else transition.actor_name,
        declaration=None if expired else payload.get("reason"),
        mediators=tuple(case.mediators),
    )


def termination_notice_context(
    *, case: Case, committee: Committee, number: str, at: datetime, transition: Transition
) -> TerminationNoticeContext:
    payload = transition.payload
    return TerminationNoticeContext(
        **_head(case, committee, number, at),
        ground=payload["ground"],
        ground_text=TERMINATION_GROUNDS[payload["ground"]],
        detail=payload.get("detail") or payload.get("note") or "",
        terminated_on=at.astimezone(SHANGHAI).date(),
        accepted_on=_day(case.accepted_at),
        mediators=tuple(case.mediators),
    )


def followup_record_context(
    *, case: Case, committee: Committee, number: str, at: datetime, transition: Transition,
    agreement_number: str | None = None,
) -> FollowupRecordContext:
    payload = transition.payload
    visited_at = datetime.fromisoformat(payload["visited_at"])
    return FollowupRecordContext(
        **_head(case, committee, number, at),
        visitor=payload["visitor"],
        visited_at=visited_at,
        method=payload["method"],
        visited=payload["visited"],
        performance=payload["performance"],
        satisfaction=payload["satisfaction"],
        later_lawsuit=bool(payload.get("later_lawsuit")),
        visitor_signature=SignatureBlock(role="visitor", label="回访人（签名）", signed_by=payload["visitor"],
                                         signed_at=visited_at),
        agreement_number=agreement_number,
        performance_detail=payload.get("performance_detail"),
        lawsuit_detail=payload.get("lawsuit_detail"),
        notes=payload.get("note") or "",
    )


_BUILDERS = {
    "acceptance_notice": acceptance_notice_context,
    "rejection_notice": rejection_notice_context,
    "failure_notice": failure_notice_context,
    "termination_notice": termination_notice_context,
}


def context_for(
    kind: str,
    *,
    case: Case,
    committee: Committee,
    number: str,
    at: datetime,
    transition: Transition,
    agreement_number: str | None = None,
) -> Any:
    """The context of a document of `kind` for `case`, produced by `transition`. `agreement_number` is the
    number of the case's effective agreement, which the follow-up record names."""
    if kind == "agreement":
        return agreement_context(case=case, committee=committee, number=number, at=at)
    if kind == "followup_record":
        return followup_record_context(case=case, committee=committee, number=number, at=at, transition=transition,
                                       agreement_number=agreement_number)
    if kind in _BUILDERS:
        return _BUILDERS[kind](case=case, committee=committee, number=number, at=at, transition=transition)
    raise ValueError(f"no document of kind {kind!r}")


def case_file_context(
    *, case: Case, committee: Committee, documents: Sequence[Document], transitions: Sequence[Transition],
    audit_entries: Sequence[AuditEntry], audit_head_hash: str, retention_years: int, archived_at: datetime,
) -> CaseFileContext:
    """卷宗 of an archived case: its documents oldest first (every version, superseded ones marked), its
    transitions, and the audit entries of the case up to archiving."""

    def who(name: str, role: str) -> str:
        return f"{name}（{role}）" if role else name

    archived = next((t for t in transitions if t.event == "archive"), None)
    return CaseFileContext(
        committee_name=committee.name,
        file_number=case.number,
        case_id=case.id,
        patient_name=case.patient_name,
        institution_name=case.institution_name,
        mediators=tuple(case.mediators),
        outcome=STATE_LABELS[archived.from_status] if archived else STATE_LABELS[case.status],
        registered_at=case.registered_at.astimezone(SHANGHAI),
        accepted_at=case.accepted_at.astimezone(SHANGHAI) if case.accepted_at else None,
        closed_at=case.closed_at.astimezone(SHANGHAI) if case.closed_at else None,
        archived_at=archived_at.astimezone(SHANGHAI),
        retention_years=retention_years,
        documents=tuple(
            FiledDocument(file=file_name(d.kind, d.lang, d.version, d.id), document_id=d.id, number=d.number,
                          title=d.title, lang=d.lang, version=d.version, created_at=d.created_at.astimezone(SHANGHAI),
                          sha256=d.sha256, size=d.size, superseded=d.superseded)
            for d in sorted(documents, key=lambda d: (d.created_at, d.source_seq, d.lang))
        ),
        transitions=tuple(
            FiledTransition(seq=t.seq, at=t.at.astimezone(SHANGHAI), event=t.event,
                            from_label=STATE_LABELS.get(t.from_status, t.from_status),
                            to_label=STATE_LABELS.get(t.to_status, t.to_status),
                            actor=who(t.actor_name, t.actor_role))
            for t in sorted(transitions, key=lambda t: t.seq)
        ),
        audit_entries=tuple(
            FiledAuditEntry(id=a.id or 0, at=a.at.astimezone(SHANGHAI), actor=who(a.actor_name, a.actor_role),
                            action=a.action, status_code=a.status_code, hash=a.hash)
            for a in audit_entries
        ),
        audit_head_hash=audit_head_hash,
    )
