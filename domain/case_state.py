"""The state of a case that its rules read: one typed value, changed only by `apply(event, payload)`.

The lifecycle's guards read a case's facts besides the event's payload (lifecycle.CASE_FACTS): who consented, the
respondent institution, who signed, the open sessions, the agreement's terms and payments, the heirs. The case's
workflow keeps a `CaseState` and applies each event it records to it; the API's pre-check builds the same value
from the projection (`CaseState.of_record`). Both read the guards' facts from `facts()`, so the workflow and the
pre-check cannot disagree on what a rule sees. Pure: no database, no Temporal, no clock of its own (the day an
event happens on is passed in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from domain.deadlines import PaymentTerm
from domain.lifecycle import SIDES
from domain.parties import agents_of_heirs, heirs_of, party_count
from domain.performance import term_balances
from domain.time import SHANGHAI


@dataclass(frozen=True)
class CaseState:
    application_type: str
    applicant_side: str | None = None
    consents: frozenset[str] = frozenset()  # the sides that consented (Reg 31)
    respondent: str | None = None  # the respondent institution in the pool (Reg 37)
    heirs: tuple[str, ...] = ()  # Civil Code 173: each heir signs for a deceased patient
    heir_agents: tuple[tuple[str, str], ...] = ()  # (agent, heir): an authorised agent may sign for that heir
    party_count: int = 0  # PML 29: the agreement's copies
    patient_deceased: bool = False  # Civil Code 173: the heirs are the parties
    patient_minor: bool = False  # a living minor or incapacitated patient acts through a guardian
    signed: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # signer -> the act (Reg 39)
    open_sessions: tuple[str, ...] = ()  # sessions still scheduled: without minutes, not cancelled (a move keeps one)
    agreement_terms: tuple[Mapping[str, Any], ...] = ()  # the draft's terms (PML 29)
    drafted_on: date | None = None
    payments: tuple[Mapping[str, Any], ...] = ()  # PML 31: performance, term by term
    mediators: tuple[str, ...] = ()
    panels: tuple[str, ...] = ()  # the consultations' panels (Reg 33)

    # ------------------------------------------------------------------ made ---------------------------
    @classmethod
    def registered(cls, registration: Mapping[str, Any], *, heirs_sign: bool = True) -> CaseState:
        """A case as its registration describes it."""
        consents = frozenset(c["side"] for c in registration.get("consents", []))
        if registration.get("both_consented"):  # registered before rev 2 with the bare flag
            consents |= frozenset(SIDES)
        return cls(
            application_type=registration["application_type"],
            applicant_side=registration.get("applicant_side"),
            consents=consents,
            respondent=registration["institution"].get("pool_institution_id"),
            heirs=tuple(heir["name"] for heir in heirs_of(registration)) if heirs_sign else (),
            heir_agents=tuple(agents_of_heirs(registration)) if heirs_sign else (),
            party_count=party_count(registration) if heirs_sign else 0,
            patient_deceased=bool(registration["patient"].get("deceased")),
            patient_minor=bool(registration["patient"].get("minor_or_incapacitated")),
        )

    @classmethod
    def of_record(
        cls, *, registration: Mapping[str, Any], consents: Iterable[Mapping[str, Any]], respondent: str | None,
        signatures: Mapping[str, Mapping[str, Any]], open_sessions: Iterable[str], agreement: Mapping[str, Any] | None,
        payments: Iterable[Mapping[str, Any]], mediators: Iterable[str],
    ) -> CaseState:
        """The same state from a case's projection (what the database recorded of each event)."""
        registered = cls.registered(registration)
        drafted_at = (agreement or {}).get("drafted_at")
        return replace(
            registered,
            consents=registered.consents | {c["side"] for c in consents if c.get("side")},
            respondent=respondent,
            signed=dict(signatures),
            open_sessions=tuple(open_sessions),
            agreement_terms=tuple((agreement or {}).get("terms", [])),
            drafted_on=datetime.fromisoformat(drafted_at).astimezone(SHANGHAI).date() if drafted_at else None,
            payments=tuple(payments),
            mediators=tuple(mediators),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: what a case's workflow hands to its next run (continue-as-new)."""
        return {
            "application_type": self.application_type, "applicant_side": self.applicant_side,
            "consents": sorted(self.consents), "respondent": self.respondent, "heirs": list(self.heirs),
            "heir_agents": [list(pair) for pair in self.heir_agents],
            "party_count": self.party_count, "patient_deceased": self.patient_deceased,
            "patient_minor": self.patient_minor, "signed": {k: dict(v) for k, v in self.signed.items()},
            "open_sessions": list(self.open_sessions), "agreement_terms": [dict(t) for t in self.agreement_terms],
            "drafted_on": self.drafted_on.isoformat() if self.drafted_on else None,
            "payments": [dict(p) for p in self.payments], "mediators": list(self.mediators),
            "panels": list(self.panels),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseState:
        return cls(
            application_type=data["application_type"], applicant_side=data.get("applicant_side"),
            consents=frozenset(data.get("consents", [])), respondent=data.get("respondent"),
            heirs=tuple(data.get("heirs", [])), heir_agents=tuple((agent, heir) for agent, heir in data.get("heir_agents", [])),
            party_count=data.get("party_count", 0),
            # carried before the flags were kept: a case whose heirs sign is a deceased patient's (the workflow
            # reads both again from its registration)
            patient_deceased=data.get("patient_deceased", bool(data.get("heirs"))),
            patient_minor=data.get("patient_minor", False),
            signed=dict(data.get("signed", {})), open_sessions=tuple(data.get("open_sessions", [])),
            agreement_terms=tuple(data.get("agreement_terms", [])),
            drafted_on=date.fromisoformat(data["drafted_on"]) if data.get("drafted_on") else None,
            payments=tuple(data.get("payments", [])), mediators=tuple(data.get("mediators", [])),
            panels=tuple(data.get("panels", [])),
        )

    # ------------------------------------------------------------------ changed ------------------------
    def apply(self, event: str, payload: Mapping[str, Any], *, on: date) -> CaseState:
        """The state after `event` with `payload` (as recorded) on the day `on`; other events change none of it."""
        if event == "sign":
            return replace(self, signed={**self.signed, payload["signer"]: dict(payload)})
        if event == "draft_agreement":  # a new draft: signatures start again, performance is of its terms
            return replace(self, signed={}, agreement_terms=tuple(payload.get("terms", [])), drafted_on=on,
                           payments=())
        if event == "revise_agreement":
            return replace(self, signed={})
        if event == "record_consent" and payload.get("side"):
            return replace(self, consents=self.consents | {payload["side"]})
        if event == "link_respondent":
            return replace(self, respondent=payload["institution_id"])
        if event == "record_payment":
            return replace(self, payments=(*self.payments, dict(payload)))
        if event == "schedule_session":
            return replace(self, open_sessions=(*self.open_sessions, payload["session_id"]))
        if event in ("record_minutes", "cancel_session"):  # held, or cancelled: no longer open
            return replace(self, open_sessions=tuple(s for s in self.open_sessions if s != payload["session_id"]))
        if event in ("accept", "reassign_mediators"):
            return replace(self, mediators=tuple(payload.get("mediators", [])))
        if event == "request_consultation":
            return replace(self, panels=(*self.panels, payload["panel_id"]))
        if event == "amend_parties":  # who the heirs are, and whom each agent signs for, as now registered
            amended = {"patient": {"deceased": self.patient_deceased},
                       "patient_representatives": [dict(r) for r in payload.get("patient_representatives", [])]}
            return replace(self, heirs=tuple(heir["name"] for heir in heirs_of(amended)),
                           heir_agents=tuple(agents_of_heirs(amended)), party_count=party_count(amended))
        return self

    # ------------------------------------------------------------------ read ---------------------------
    @property
    def terms(self) -> tuple[PaymentTerm, ...]:
        return tuple(PaymentTerm.from_term(i, dict(t)) for i, t in enumerate(self.agreement_terms))

    @property
    def heirs_signed(self) -> list[str]:
        return list(self.signed.get("patient", {}).get("heirs_signed", []))

    def facts(self, *, today: date, consent_due_passed: bool, mediation_due: date | None,
              effective_on: date | None, mediation_due_provisional: bool = False) -> dict[str, Any]:
        """The facts the lifecycle's guards read (lifecycle.CASE_FACTS). The clocks' answers are the caller's:
        the workflow's clocks, or the projection's."""
        return {
            "application_type": self.application_type,
            "applicant_side": self.applicant_side,
            "consents": sorted(self.consents),
            "consent_due_passed": consent_due_passed,
            "respondent_institution_id": self.respondent,
            "signed": sorted(self.signed),
            "scheduled_sessions": list(self.open_sessions),
            "drafted_on": self.drafted_on,
            "mediation_due": mediation_due,
            "mediation_due_provisional": mediation_due_provisional,
            "today": today,
            "balances": term_balances([dict(t) for t in self.agreement_terms], [dict(p) for p in self.payments]),
            "effective_on": effective_on,
            "heirs": list(self.heirs),
            "heirs_signed": self.heirs_signed,
            "heir_agents": [list(pair) for pair in self.heir_agents],
            "party_count": self.party_count,
            "patient_deceased": self.patient_deceased,
            "patient_minor": self.patient_minor,
        }
