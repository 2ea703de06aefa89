"""Builds a document's context from the case projection (what the activity that renders it reads)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from documents.case_file import attachment_file_name, file_name
from documents.contexts import (
    AcceptanceNoticeContext,
    AgreementContext,
    Attendee,
    CaseFileContext,
    DeceasedPatient,
    FailureNoticeContext,
    FiledAttachment,
    FiledAuditEntry,
    FiledDocument,
    FiledRecord,
    FiledTransition,
    FileSection,
    FollowupRecordContext,
    MinutesStatement,
    PartyBlock,
    RejectionNoticeContext,
    RejectReason,
    SealBlock,
    SessionMinutesContext,
    SignatureAct,
    SignatureBlock,
    Term,
    TerminationNoticeContext,
)
from domain import attachments as attachment_rules
from domain import labels
from domain.anonymise import age_on
from domain.clock import WorkingDayCalendar, day_ended, legal_date
from domain.deadlines import PaymentTerm
from domain.lifecycle import REFUSAL_REASON, REJECT_REASONS, STATE_LABELS, TERMINATION_GROUNDS
from domain.parties import copies_needed, heirs_of
from domain.time import SHANGHAI
from models.tables import Attachment, AuditEntry, Case, Committee, Document, MediationSession, Transition

FOR_WHOM = {"patient": "患方", "institution": "医方", "mediator": "人民调解员", "committee_seal": "人民调解委员会"}


def _sex(patient: dict[str, Any]) -> str | None:
    return labels.VALUE_LABELS.get(patient.get("gender") or "")  # 男 / 女


def _representative_line(rep: dict[str, Any]) -> str:
    capacity = {"agent": "，委托代理人", "guardian": "，监护人"}.get(rep.get("role", ""), "")
    return f"{rep['name']}（{rep['relation']}{capacity}）"


def patient_side(registration: dict[str, Any], on: date | None) -> tuple[tuple[PartyBlock, ...], DeceasedPatient | None]:
    """The patient side as parties: the patient (with sex and age, PML 29), or, when the patient has died, each
    heir in their own right, with the deceased named apart (shared/DOMAIN.md rev 2)."""
    patient = registration["patient"]
    heirs = heirs_of(registration)
    if heirs:
        agents = [rep for rep in registration.get("patient_representatives", []) if rep.get("role") == "agent"]

        def agents_of(heir: dict[str, Any], first: bool) -> tuple[str, ...]:
            """Each agent under the heirs it acts for; one registered before acts_for existed, under the first."""
            return tuple(_representative_line(rep) for rep in agents
                         if heir["name"] in (rep.get("acts_for") or []) or (first and not rep.get("acts_for")))

        parties = tuple(
            PartyBlock(side="patient", name=heir["name"], relation=heir["relation"], id_number=heir.get("id_number"),
                       phone=heir.get("phone"), agents=agents_of(heir, index == 0), heir=True)
            for index, heir in enumerate(heirs)
        )
        deceased = DeceasedPatient(name=patient["name"], sex=_sex(patient),
                                   id_number=patient.get("id_number"))
        return parties, deceased
    block = PartyBlock(
        side="patient",
        name=patient["name"] + ("（已故）" if patient.get("deceased") else ""),
        id_number=patient.get("id_number"),
        phone=patient.get("phone"),
        address=patient.get("address"),
        agents=tuple(_representative_line(rep) for rep in registration.get("patient_representatives", [])),
        sex=_sex(patient),
        age=None if patient.get("deceased") or on is None else age_on(patient.get("birth_date"), on),
    )
    return (block,), None


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


def _term(raw: dict[str, Any], effective_on: date | None, calendar: WorkingDayCalendar | None) -> Term:
    """A term as agreed; on the effective agreement, with the date its deadline resolves to (the same rule as the
    case's payment deadlines, models/deadlines.PaymentTerm)."""
    deadline = date.fromisoformat(raw["deadline"]) if raw.get("deadline") else None
    resolved, provisional = None, False
    if effective_on is not None and calendar is not None:
        due = PaymentTerm.from_term(0, raw).due(calendar, effective_on)
        if due is not None:
            resolved, provisional = due.date, due.provisional
    return Term(
        text=raw["text"],
        amount=Decimal(str(raw["amount"])) if raw.get("amount") is not None else None,
        payer=raw.get("payer"),
        manner=raw.get("manner"),
        deadline=deadline,
        deadline_text=raw.get("deadline_text"),  # as agreed (the schema words N working days, PML 29)
        resolved_deadline=resolved,
        resolved_provisional=provisional,
    )


def _insurer_pays(registration: dict[str, Any], terms: Sequence[Term]) -> str | None:
    insurer = (registration.get("insurer") or {}).get("name")
    return insurer if insurer and any(t.payer and insurer in t.payer for t in terms) else None


def _signature_lines(
    case: Case, committee: Committee, parties: Sequence[PartyBlock], insurer: str | None, effective: bool
) -> tuple[SignatureBlock, ...]:
    """One line per signer: each person of the patient side, the institution, the insurer when it pays, each
    mediator, the committee's seal. A line is filled only on the effective agreement, from the recorded acts."""
    acts = case.signatures if effective else {}

    def line(role: str, label: str, name: str, alone: bool) -> SignatureBlock:
        act = acts.get(role)  # one act per role: on a shared role, the line of each person it names
        heir_act = next((a for a in (act or {}).get("heir_acts", [])
                         if (a.get("for_heir") or a.get("signed_by")) == name), None)
        act = heir_act or act  # when the patient has died, each heir's act (or an agent's for the heir) fills its line
        signed = act is not None and (
            heir_act is not None or alone or bool(name) and name in act.get("signed_by", ""))
        return SignatureBlock(
            role=role, label=label, name=name or None,
            signed_by=act["signed_by"] if act and signed else None,
            signed_at=datetime.fromisoformat(act["signed_at"]) if act and signed else None,
        )

    patients = [p for p in parties if p.side == "patient"]
    lines = [line("patient", "患方当事人（签名或捺印）" if p.heir else "患方（签名或捺印）", p.name, len(patients) == 1)
             for p in patients]
    lines.append(line("institution", "医方（盖章）", _institution_block(case.registration).name, True))
    if insurer:
        lines.append(SignatureBlock(role="insurer", label="保险机构（盖章）", name=insurer))
    mediators = list(case.mediators) or [""]
    lines += [line("mediator", "人民调解员（签名）", name, len(mediators) == 1) for name in mediators]
    seal = acts.get("committee_seal")
    lines.append(SignatureBlock(
        role="committee_seal", label="人民调解委员会（印章）", name=committee.name if seal else None,
        signed_by=committee.name if seal else None,
        signed_at=datetime.fromisoformat(seal["signed_at"]) if seal else None,
    ))
    return tuple(lines)


def _capacity(role: str, act: dict[str, Any], registration: dict[str, Any]) -> str:
    """In what capacity the act was done: as recorded, else what the registration says of the person."""
    if act.get("capacity"):
        return act["capacity"]
    who = act.get("signed_by", "")
    if role == "patient" and act.get("for_heir"):  # Civil Code 173: an heir's authorised agent signs for the heir
        return f"继承人{act['for_heir']}的委托代理人"
    if role == "patient":
        if who == registration["patient"]["name"]:
            return "患者本人"
        heirs = {rep["name"] for rep in heirs_of(registration)}
        for rep in registration.get("patient_representatives", []):
            if rep["name"] in who:
                return rep["relation"] + ("，继承人" if rep["name"] in heirs else "")
        return "患方"
    if role == "institution":
        institution = registration["institution"]
        if who == institution.get("legal_representative"):
            return "法定代表人"
        if who == institution.get("agent"):
            return institution.get("agent_title") or "委托代理人"
        return "医方"
    return {"mediator": "人民调解员", "committee_seal": "加盖人民调解委员会印章"}.get(role, role)


def signature_record(case: Case) -> tuple[SignatureAct, ...]:
    """The four acts of Reg 39 as recorded on the case, in the order they were done."""
    acts = [
        SignatureAct(role=role, for_whom=FOR_WHOM[role], signed_by=act["signed_by"],
                     capacity=_capacity(role, act, case.registration), method=act.get("method", "signature"),
                     signed_at=datetime.fromisoformat(act["signed_at"]).astimezone(SHANGHAI))
        for role, recorded in case.signatures.items() if role in FOR_WHOM
        for act in (recorded.get("heir_acts") or [recorded])  # each heir's act when the patient has died
    ]
    return tuple(sorted(acts, key=lambda a: a.signed_at))


def agreement_context(
    *, case: Case, committee: Committee, number: str | None, at: datetime,
    calendar: WorkingDayCalendar | None = None, visible_seal: bool = False,
) -> AgreementContext:
    """A draft (`number` None: what the parties are asked to sign) or, with the agreement number, the effective
    agreement: the same text, its effective date, each term's resolved deadline and the record of the four acts."""
    agreement = case.agreement or {}
    effective = number is not None
    effective_on = case.effective_on if effective else None
    drafted_at = datetime.fromisoformat(agreement["drafted_at"]) if agreement.get("drafted_at") else at
    terms = tuple(_term(raw, effective_on, calendar) for raw in agreement.get("terms", []))
    parties, deceased = patient_side(case.registration, legal_date(drafted_at))
    parties = (*parties, _institution_block(case.registration))
    return AgreementContext(
        committee_name=committee.name,
        case_number=case.number,
        document_number=number,
        version=case.agreement_version,
        parties=parties,
        deceased=deceased,
        facts=agreement.get("facts", case.facts),
        points_in_dispute=agreement.get("points_in_dispute", ""),
        responsibilities=agreement.get("responsibilities", ""),
        terms=terms,
        total_amount=sum((t.amount for t in terms if t.amount is not None), Decimal("0.00")),
        mediators=tuple(case.mediators),
        signatures=_signature_lines(case, committee, parties, _insurer_pays(case.registration, terms), effective),
        drafted_at=drafted_at.astimezone(SHANGHAI),
        copies=int(agreement.get("copies") or copies_needed(case.registration)),
        effective_on=effective_on,
        signature_record=signature_record(case) if effective else (),
        visible_seal=visible_seal and effective,
    )


def _notice_parties(registration: dict[str, Any]) -> tuple[PartyBlock, ...]:
    """A notice names the parties only: no identity number, phone or address (the context is attached). When the
    patient has died, the heirs are the patient side."""
    patients, _ = patient_side(registration, None)
    institution = _institution_block(registration)
    return (
        *(PartyBlock(side="patient", name=p.name, agents=p.agents, relation=p.relation if p.heir else None,
                     heir=p.heir) for p in patients),
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


def _closed_on(case: Case, transitions: Sequence[Transition]) -> date | None:
    """The day the case closed: a deadline that ran out closes it at 24:00 of its last day (`deemed_at`, Reg 38),
    which is that day; any other close, the day it happened."""
    if case.closed_at is None:
        return None
    deemed = [t.payload["deemed_at"] for t in transitions if t.payload.get("deemed_at")]
    if deemed and datetime.fromisoformat(deemed[-1]) == case.closed_at:
        return day_ended(case.closed_at)
    return _day(case.closed_at)


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
        failed_on=day_ended(datetime.fromisoformat(payload["deemed_at"])) if payload.get("deemed_at") else _day(at),
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

    def day(key: str) -> date | None:
        return date.fromisoformat(payload[key]) if payload.get(key) else None

    return TerminationNoticeContext(
        **_head(case, committee, number, at),
        ground=payload["ground"],
        ground_text=TERMINATION_GROUNDS[payload["ground"]],
        detail=payload.get("detail") or payload.get("note") or "",
        terminated_on=at.astimezone(SHANGHAI).date(),
        accepted_on=_day(case.accepted_at),
        mediators=tuple(case.mediators),
        withdrawn_by_side=payload.get("withdrawn_by_side"),
        withdrawn_by=payload.get("withdrawn_by"),
        withdrawal_form=payload.get("withdrawal_form"),
        withdrawn_on=day("withdrawn_on"),
        body=payload.get("body"),
        body_case_number=payload.get("body_case_number"),
        body_accepted_on=day("body_accepted_on"),
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


def _capacities(case: Case) -> dict[str, str]:
    """Who is who in this case, so that a name in the minutes prints with its capacity."""
    registration = case.registration
    known: dict[str, str] = {registration["patient"]["name"]: "患者本人"}
    heirs = {rep["name"] for rep in heirs_of(registration)}
    for rep in registration.get("patient_representatives", []):
        role = {"agent": "患方委托代理人", "guardian": "患方监护人"}.get(rep.get("role", ""), "患方")
        known[rep["name"]] = ("患方当事人" if rep["name"] in heirs else role) + f"（{rep['relation']}）"
    institution = registration["institution"]
    if institution.get("legal_representative"):
        known[institution["legal_representative"]] = "医方法定代表人"
    if institution.get("agent"):
        known[institution["agent"]] = "医方委托代理人" + (f"（{institution['agent_title']}）"
                                                          if institution.get("agent_title") else "")
    for mediator in case.mediators:
        known[mediator] = "人民调解员"
    return known


def session_minutes_context(
    *, case: Case, committee: Committee, number: str, at: datetime, session_row: MediationSession,
    session_number: int,
) -> SessionMinutesContext:
    minutes = session_row.minutes or {}
    known = _capacities(case)
    attendees = tuple(
        Attendee(name=a["name"], capacity=a.get("capacity") or known.get(a["name"], "")) if isinstance(a, dict)
        else Attendee(name=a, capacity=known.get(a, ""))
        for a in minutes.get("attendees", session_row.attendees)
    )
    return SessionMinutesContext(
        **_head(case, committee, number, at),
        session_number=session_number,
        held_at=datetime.fromisoformat(minutes["held_at"]).astimezone(SHANGHAI),
        place=session_row.place,
        mediators=tuple(session_row.mediators),
        recorder=minutes.get("recorder", ""),
        attendees=attendees,
        statements=tuple(MinutesStatement(speaker=st["speaker"], text=st["text"]) for st in minutes.get("statements", [])),
        summary=minutes.get("summary", ""),
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


# PML 27: what the file holds, in order; each part lists the events whose records it prints and the documents
# attached for it. The history (every event, its details in Chinese) and the audit entries follow.
FILE_SECTIONS: tuple[tuple[str, str, frozenset[str], frozenset[str]], ...] = (
    ("application", "调解申请记录（调解申请书或口头申请笔录）", frozenset(), frozenset()),
    ("consents", "当事人同意或拒绝调解的记录", frozenset({"request_consent", "record_consent", "record_refusal",
                                                "consent_expired"}), frozenset()),
    ("decision", "受理或不予受理", frozenset({"submit_for_review", "accept", "reject"}),
     frozenset({"acceptance_notice", "rejection_notice"})),
    ("minutes", "调解笔录", frozenset({"schedule_session", "record_minutes"}), frozenset({"session_minutes"})),
    ("appraisal", "医疗损害鉴定的委托与鉴定意见", frozenset({"start_appraisal", "finish_appraisal", "abandon_appraisal"}),
     frozenset()),
    ("opinions", "专家咨询意见", frozenset({"request_consultation", "record_expert_opinion"}),
     frozenset({"expert_opinion"})),
    ("agreements", "调解协议书（各稿及签署记录）", frozenset({"draft_agreement", "revise_agreement", "sign"}),
     frozenset({"agreement_draft", "agreement"})),
    ("performance", "履行记录及凭证", frozenset({"record_payment", "confirm_performance", "record_nonperformance",
                                          "record_judicial_confirmation"}), frozenset()),
    ("notices", "告知书（调解期限、调解不成、终止调解）", frozenset({"extend_deadline", "declare_failed",
                                                      "deadline_expired", "terminate"}),
     frozenset({"failure_notice", "termination_notice"})),
    ("followup", "回访记录", frozenset({"record_followup"}), frozenset({"followup_record"})),
)


def _application_record(case: Case) -> FiledRecord:
    """The application as registered: who applied, how, the parties, the facts and the requests."""
    reg = case.registration
    patient, institution = reg["patient"], reg["institution"]
    fields: list[tuple[str, str]] = [
        ("申请方式", labels.APPLICATION_TYPES.get(reg.get("application_type", ""), reg.get("application_type", ""))),
        ("申请人", {"patient": "患方", "institution": "医方"}.get(reg.get("applicant_side") or "", "双方当事人")),
        ("患者", patient["name"] + ("（已故）" if patient.get("deceased") else "")
         + (f"，{_sex(patient)}" if _sex(patient) else "")
         + (f"，{patient['birth_date']}出生" if patient.get("birth_date") else "")),
    ]
    fields += [("患方人员", _representative_line(rep)) for rep in reg.get("patient_representatives", [])]
    fields += [("医疗机构", institution["name"] + (f"（法定代表人：{institution['legal_representative']}）"
                                              if institution.get("legal_representative") else ""))]
    if reg.get("insurer"):
        fields.append(("保险机构", reg["insurer"]["name"]))
    fields += [("纠纷事实", reg["facts"]), ("调解请求", reg["requests"]), ("请求金额（元）", str(reg["claim_amount"]))]
    if reg.get("oral_record"):
        fields.append(("口头申请笔录", reg["oral_record"]))
    fields += [("登记时同意调解", "；".join(f"{k}：{v}" for k, v in labels.details(consent)))
               for consent in reg.get("consents", [])]
    return FiledRecord(title="调解申请", at=case.registered_at.astimezone(SHANGHAI), fields=tuple(fields))


def _session_records(sessions: Sequence[MediationSession]) -> tuple[FiledRecord, ...]:
    return tuple(
        FiledRecord(
            title=f"第{index}次调解" + ("" if row.minutes else "（未登记笔录）"),
            at=row.scheduled_at.astimezone(SHANGHAI),
            fields=(("地点", row.place), ("人民调解员", "、".join(row.mediators)),
                    *labels.details({k: v for k, v in (row.minutes or {}).items() if k != "session_id"})),
        )
        for index, row in enumerate(sessions, start=1)
    )


def case_file_context(
    *, case: Case, committee: Committee, documents: Sequence[Document], transitions: Sequence[Transition],
    audit_entries: Sequence[AuditEntry], audit_head_hash: str, retention_years: int, archived_at: datetime,
    sessions: Sequence[MediationSession] = (),
    attachments: Sequence[Attachment] = (),
) -> CaseFileContext:
    """卷宗 of an archived case (PML 27): its parts in order, each with its records and documents (every version,
    superseded ones marked), the history with each event's details in Chinese, and the audit entries."""

    def who(name: str, role: str) -> str:
        if role == "system":  # the case itself (its clock, its panel)
            return labels.ROLE_WORDS["system"]
        return f"{name}（{labels.ROLE_WORDS.get(role, role)}）" if role else name

    archived = next((t for t in transitions if t.event == "archive"), None)
    ordered = sorted(transitions, key=lambda t: t.seq)
    section_of_kind = {kind: key for key, _, _, kinds in FILE_SECTIONS for kind in kinds}
    order = {key: index for index, (key, *_) in enumerate(FILE_SECTIONS)}
    filed = [
        FiledDocument(file=file_name(d.kind, d.lang, d.version, d.id), document_id=d.id, number=d.number,
                      title=d.title, lang=d.lang, version=d.version, created_at=d.created_at.astimezone(SHANGHAI),
                      sha256=d.sha256, size=d.size, superseded=d.superseded)
        for d in sorted(documents, key=lambda d: (order.get(section_of_kind.get(d.kind, "notices"), 99), d.created_at,
                                                  d.source_seq, d.lang))
    ]
    kinds = {file_name(d.kind, d.lang, d.version, d.id): d.kind for d in documents}
    sections = []
    for key, title, events, _ in FILE_SECTIONS:
        if key == "application":
            records: tuple[FiledRecord, ...] = (_application_record(case),)
        elif key == "minutes":
            records = _session_records(sessions)
        else:
            records = tuple(FiledRecord(title=labels.event_label(t.event), at=t.at.astimezone(SHANGHAI),
                                        fields=(("经办人", who(t.actor_name, t.actor_role)), *labels.details(t.payload)))
                            for t in ordered if t.event in events)
        sections.append(FileSection(key=key, title=title, records=records,
                                    documents=tuple(f.file for f in filed if section_of_kind.get(kinds[f.file],
                                                                                                  "notices") == key)))
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
        closed_on=_closed_on(case, ordered),
        archived_at=archived_at.astimezone(SHANGHAI),
        retention_years=retention_years,
        documents=tuple(filed),
        transitions=tuple(
            FiledTransition(seq=t.seq, at=t.at.astimezone(SHANGHAI), event=t.event,
                            from_label=STATE_LABELS.get(t.from_status, t.from_status),
                            to_label=STATE_LABELS.get(t.to_status, t.to_status),
                            actor=who(t.actor_name, t.actor_role), label=labels.event_label(t.event),
                            # the application is printed whole in its own part of the file
                            details=(("申请", "见本卷“调解申请记录”"),) if t.event == "register" else
                            labels.details(t.payload))
            for t in ordered
        ),
        audit_entries=tuple(
            FiledAuditEntry(id=a.id or 0, at=a.at.astimezone(SHANGHAI), actor=who(a.actor_name, a.actor_role),
                            action=a.action, status_code=a.status_code, hash=a.hash)
            for a in audit_entries
        ),
        audit_head_hash=audit_head_hash,
        sections=tuple(sections),
        attachments=filed_attachments(attachments),
    )


def filed_attachments(attachments: Sequence[Attachment]) -> tuple[FiledAttachment, ...]:
    """The files the parties brought, in the order received, each under a name of its own in the file."""
    filed = []
    for index, a in enumerate(sorted(attachments, key=lambda a: (a.uploaded_at, a.id)), start=1):
        withdrawn = ""
        if a.withdrawn_at is not None:
            withdrawn = (f"{a.withdrawn_by or ''}于{a.withdrawn_at.astimezone(SHANGHAI):%Y年%m月%d日}撤回："
                         f"{a.withdrawn_reason or ''}")
        filed.append(FiledAttachment(
            file=attachment_file_name(index, a.kind, a.id, a.media_type), attachment_id=a.id, kind=a.kind,
            kind_label=attachment_rules.kind_label(a.kind), party_label=attachment_rules.PARTIES.get(a.party, a.party),
            filename=a.filename, media_type=a.media_type, size=a.size, sha256=a.sha256, received_on=a.received_on,
            uploaded_at=a.uploaded_at.astimezone(SHANGHAI), uploaded_by=a.uploaded_by, description=a.description,
            event_label=labels.event_label(a.event) if a.event else "", withdrawn=a.withdrawn_at is not None,
            withdrawn_note=withdrawn,
        ))
    return tuple(filed)
