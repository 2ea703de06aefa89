"""Builds a document's context from the case projection (what the activity that renders it reads)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from documents.contexts import AgreementContext, PartyBlock, SignatureBlock, Term
from models.schemas import SHANGHAI
from models.tables import Case, Committee

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


def context_for(kind: str, *, case: Case, committee: Committee, number: str, at: datetime) -> Any:
    if kind == "agreement":
        return agreement_context(case=case, committee=committee, number=number, at=at)
    raise ValueError(f"no document of kind {kind!r}")
