"""The persisted projection of cases: committees, cases, transitions, sessions and documents.

The workflow is the source of truth for a case's life; these rows are what the API reads. Each row
written by an activity has a natural key (case, sequence number) so that a retried activity never
writes it twice.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Numeric,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from domain.panel_lifecycle import InvitationStatus, PanelStatus


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored in UTC on every backend, read back timezone-aware (SQLite keeps no offset by itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give every time with its offset")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


class Committee(SQLModel, table=True):
    __tablename__ = "committees"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)  # 上海市黄浦区医疗纠纷人民调解委员会
    short_name: str = Field(max_length=20)  # 沪黄, used in document numbers
    city: str = Field(default="", max_length=100)
    # Numbering patterns: {year}, {short} and {seq} are filled in. `number_patterns` overrides the
    # default pattern of a kind of document (DEFAULT_NUMBER_PATTERNS).
    case_number_pattern: str = Field(default="〔{year}〕{short}医调字第{seq}号", max_length=100)
    number_patterns: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Clock lengths (domain/policy.py ClockPolicy); empty means the rule book's defaults.
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


    def number_pattern(self, kind: str) -> str:
        return self.number_patterns.get(kind) or DEFAULT_NUMBER_PATTERNS[kind]


DEFAULT_NUMBER_PATTERNS: dict[str, str] = {
    "agreement": "〔{year}〕{short}医调协字第{seq}号",
    "acceptance_notice": "〔{year}〕{short}医调受字第{seq}号",
    "rejection_notice": "〔{year}〕{short}医调不受字第{seq}号",
    "failure_notice": "〔{year}〕{short}医调不成字第{seq}号",
    "termination_notice": "〔{year}〕{short}医调终字第{seq}号",
    "followup_record": "〔{year}〕{short}医调访字第{seq}号",
    "expert_opinion": "〔{year}〕{short}医调咨字第{seq}号",
    "session_minutes": "〔{year}〕{short}医调笔字第{seq}号",
}


class NumberSequence(SQLModel, table=True):
    """The last number used per committee, year and kind of number."""

    __tablename__ = "number_sequences"

    committee_id: str = Field(primary_key=True, foreign_key="committees.id", max_length=64)
    year: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=32)
    last: int = 0


class DocumentNumber(SQLModel, table=True):
    """The number a document of a transition was given, reserved before it is rendered (the number is printed in
    it) in a transaction of its own: the rendering holds no lock, and a retried one prints the same number."""

    __tablename__ = "document_numbers"

    case_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=40)
    source_seq: int = Field(primary_key=True)
    number: str = Field(max_length=100)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        # Numbers run per committee and year: two committees may print the same number.
        UniqueConstraint("committee_id", "number", name="uq_case_committee_number"),
        # The case list (models/repo.py search_cases) runs newest first by (registered_at, id), a page at a time
        # after the last row seen: one index per filter people use, its equality columns first, then the order,
        # so that a page is one range of one index, read backwards, whatever its depth.
        Index("ix_cases_registered", "registered_at", "id"),
        Index("ix_cases_committee_registered", "committee_id", "registered_at", "id"),
        Index("ix_cases_committee_status_registered", "committee_id", "status", "registered_at", "id"),
        Index("ix_cases_status_registered", "status", "registered_at", "id"),
        Index("ix_cases_committee_due", "committee_id", "due_date"),  # due within a range, in a committee
        # sort=next_deadline: the nearest pending deadline of any kind, soonest first, in a committee
        Index("ix_cases_committee_next_deadline", "committee_id", "next_deadline", "id"),
        # The statistics (models/repo_statistics.py): each figure is a range of the day it counts by, in a committee
        # (a city's committees: one range each) or everywhere (an admin's report). Applications use the list's
        # registration indexes.
        Index("ix_cases_committee_accepted", "committee_id", "accepted_at"),
        Index("ix_cases_accepted", "accepted_at"),
        Index("ix_cases_committee_ended", "committee_id", "ended_on"),
        Index("ix_cases_ended", "ended_on"),
        Index("ix_cases_committee_judicial", "committee_id", "judicial_applied_on"),
    )

    id: str = Field(primary_key=True, max_length=64)
    number: str = Field(index=True, max_length=100)
    committee_id: str = Field(foreign_key="committees.id", max_length=64)
    status: str = Field(max_length=32)
    application_type: str = Field(max_length=32)
    applicant_side: str | None = Field(default=None, max_length=32)
    # Each side's consent on file (Reg 31¶1): side, who, how, when, and the transition that recorded it.
    consents: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    patient_name: str = Field(max_length=200)
    institution_name: str = Field(max_length=200)
    # Reg 37 (rev 2): the respondent in the expert pool's institution registry; recusal uses this id only.
    respondent_institution_id: str | None = Field(default=None, max_length=64)
    # What tells a re-filed dispute (rev 2, domain/duplicates.py): hashes of the patient's identity number and of
    # name plus birth date (never the numbers themselves), and the institution's name as compared.
    patient_id_key: str | None = Field(default=None, index=True, max_length=64)
    patient_nb_key: str | None = Field(default=None, index=True, max_length=64)
    institution_key: str = Field(default="", max_length=200)
    facts: str = Field(sa_column=Column(Text, nullable=False))
    claim_amount: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    requests: str = Field(sa_column=Column(Text, nullable=False))
    registration: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    mediators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    agreement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    agreement_version: int = 0
    signatures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The clocks, as the workflow last derived them (domain/deadlines.py): the mediation clock's ledger (Reg 38)
    # and due date, whether it is paused, every pending deadline, and whether any deadline is provisional.
    clock: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    due_date: date | None = None
    due_provisional: bool = Field(default=False, index=True)
    clock_paused: bool = False
    deadlines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    payment_overdue: bool = Field(default=False, index=True)
    # The soonest day among the pending deadlines (`deadlines`), whatever their kind: the worklists' order.
    next_deadline: date | None = None
    effective_on: date | None = None  # the agreement took effect (Reg 39)
    # PML 31 (rev 2): every payment or act of performance recorded against a term of the agreement.
    payments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 0  # sequence number of the last transition
    # What the reports group by (domain/taxonomy.py), recorded at registration; `unknown` for the cases registered
    # before they were (and for a registration that does not know them yet).
    department: str = Field(default="unknown", max_length=40)  # 科室: a clinical code of domain/specialties.py
    dispute_kind: str = Field(default="unknown", max_length=32)
    institution_level: str = Field(default="unknown", max_length=16)
    harm: str = Field(default="unknown", max_length=16)
    # How mediation ended, kept for the statistics (domain/statistics.py, docs/statistics.md), written by the event
    # that ends it (models/repo.py `_project_ending`): null while it goes on.
    ended_on: date | None = None  # the agreement took effect (Reg 39), or the case was rejected, failed, terminated
    # settled, failed_deadline, failed_declared, terminated or rejected
    result: str | None = Field(default=None, max_length=24)
    termination_ground: str | None = Field(default=None, max_length=40)  # PML 23, 25; Reg 31¶4
    rejection_reasons: int = 0  # the reasons of a rejection as bits: reason n is bit n - 1
    performance_result: str | None = Field(default=None, max_length=24)  # performed, referred_to_court (PML 31, 32)
    duration_wd: int | None = None  # Reg 38: working days from acceptance to the end, the appraisals' apart
    appraisal_wd: int | None = None  # working days the clock was paused for appraisals; null: none was made
    deadline_kept: bool | None = None  # ended within 30 WD plus the agreed extensions (Reg 38)
    # The effective agreement's monetary terms, in all and by payer (domain/statistics.py `payer_kind`)
    agreed_amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    agreed_institution: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    agreed_insurer: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    agreed_other: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    paid_amount: Decimal = Field(default=Decimal("0.00"), sa_column=Column(Numeric(14, 2), nullable=False))
    judicial_applied_on: date | None = None  # the parties applied for judicial confirmation (PML 33)
    registered_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    accepted_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    archived_at: datetime | None = _ts(nullable=True)


class CaseMediator(SQLModel, table=True):
    """A mediator's account assigned to a case at acceptance: the cases a mediator reaches."""

    __tablename__ = "case_mediators"
    # A mediator's cases newest first, in the case list's order: the case's registration time is copied here (it
    # never changes), so that a page of a mediator's cases is one range of this index, read backwards.
    __table_args__ = (Index("ix_case_mediators_user_registered", "user_id", "registered_at", "case_id"),)

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=64)
    user_id: str = Field(primary_key=True, max_length=100)
    registered_at: datetime = _ts(nullable=False)  # the case's


class CasePartyName(SQLModel, table=True):
    """Every party's name a case was registered with, normalised (domain/parties.py `party_names`), for the case
    list's `party` filter: an exact name or its beginning (王 finds 王芳) is one range of a btree index, however
    short the name. Written with the case (models/repo.py `create_case`), and again when the patient side's
    representatives are amended (`amend_parties`).

    Why a table of names and not a text index over the case: most names searched are two or three Chinese
    characters (王芳), and a trigram index (pg_trgm) has no trigram to look up in a two-character pattern (it
    would read the whole index), while `LIKE '%王芳%'` reads every case. On PostgreSQL the index uses
    `text_pattern_ops`, so that `name LIKE '王%'` is a range scan under any database collation."""

    __tablename__ = "case_party_names"
    __table_args__ = (
        Index("ix_case_party_names_name", "name", "registered_at", "case_id",
              postgresql_ops={"name": "text_pattern_ops"}),
    )

    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=64)
    role: str = Field(primary_key=True, max_length=20)  # patient, heir, representative, institution, insurer
    name: str = Field(primary_key=True, max_length=200)
    # The case's, which never changes: the cases of one name come out of the index newest first, as the list
    # shows them, and a page reads only its own cases.
    registered_at: datetime = _ts(nullable=False)


class Transition(SQLModel, table=True):
    """One row per lifecycle event: who did what, when, from which state to which, with what data."""

    __tablename__ = "transitions"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_transition_case_seq"),
        Index("ix_transitions_case_idempotency_key", "case_id", "idempotency_key"),
        # The statistics' activity (extensions, appraisals, consultations, follow-ups in a period): a range per event
        Index("ix_transitions_event_at", "event", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    seq: int
    event: str = Field(max_length=40)
    from_status: str = Field(max_length=32)
    to_status: str = Field(max_length=32)
    actor_id: str = Field(max_length=100)
    actor_name: str = Field(max_length=200)
    actor_role: str = Field(max_length=32)
    at: datetime = _ts(nullable=False)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    request_id: str = Field(default="", max_length=100)
    # The Idempotency-Key the staff action carried (rev 2): a repeat with the same key changes nothing.
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_digest: str | None = Field(default=None, max_length=64)  # of the request that carried the key


class MediationSession(SQLModel, table=True):
    """A scheduled mediation session (调解会) and, once held, its minutes (调解笔录)."""

    __tablename__ = "mediation_sessions"
    # The calendar of sessions across cases: a week of sessions is one range of this index.
    __table_args__ = (Index("ix_mediation_sessions_scheduled", "scheduled_at", "id"),)

    id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    scheduled_seq: int
    scheduled_at: datetime = _ts(nullable=False)
    place: str = Field(max_length=200)
    mediators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attendees: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    minutes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    minutes_seq: int | None = None
    # scheduled → held (its minutes recorded) or cancelled (with its reason); a move keeps it scheduled
    status: str = Field(default="scheduled", max_length=16)
    # each move of the session: {"seq", "from_at", "to_at", "from_place", "to_place", "reason"}
    moves: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # the cancellation: {"seq", "reason", "at"}
    cancellation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Document(SQLModel, table=True):
    """A generated document. Never edited: a correction is a new version, the old one is kept."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("case_id", "kind", "lang", "source_seq", name="uq_document_source"),)

    id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    kind: str = Field(max_length=40)
    lang: str = Field(max_length=8)
    version: int
    number: str = Field(max_length=100)
    title: str = Field(max_length=200)
    source_seq: int  # the transition that produced it
    sha256: str = Field(max_length=64)
    size: int
    media_type: str = Field(default="application/pdf", max_length=100)
    superseded: bool = False
    created_at: datetime = _ts(nullable=False)
    # A case file's manifest (documents/case_file.py): the SHA-256 of every document it binds.
    manifest: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class DocumentContent(SQLModel, table=True):
    __tablename__ = "document_contents"

    document_id: str = Field(primary_key=True, foreign_key="documents.id", max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CalendarYear(SQLModel, table=True):
    """An admin-loaded table of holidays and make-up workdays for a year (domain/clock.py YearTable)."""

    __tablename__ = "calendar_years"

    year: int = Field(primary_key=True)
    table: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    loaded_at: datetime = _ts(nullable=False)
    loaded_by: str = Field(max_length=200)


class Notification(SQLModel, table=True):
    """The outbox: what the system tells staff (reminders, warnings, expiries). Delivery is pluggable."""

    __tablename__ = "notifications"
    # The outbox is listed newest first by (created_at, id), a page at a time: the whole outbox, or a case's.
    __table_args__ = (
        Index("ix_notifications_created", "created_at", "id"),
        Index("ix_notifications_case_created", "case_id", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=200)  # natural key: case, kind and occasion; written once
    case_id: str = Field(foreign_key="cases.id", max_length=64)
    kind: str = Field(max_length=40, index=True)
    recipient_role: str = Field(max_length=32)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _ts(nullable=False)
    due_on: date | None = None  # the day the deadline names
    channel: str = Field(default="log", max_length=32)
    delivered_at: datetime | None = _ts(nullable=True)


# ---------------------------------------------------------------- the expert pool (Reg 35) ----------
class InstitutionGroup(SQLModel, table=True):
    """A medical group (医疗集团, 医联体): a conflict with one site is a conflict with every site (Reg 37)."""

    __tablename__ = "institution_groups"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    city: str = Field(default="", max_length=100, index=True)


class Institution(SQLModel, table=True):
    """A medical institution (or one site of a group): where experts work, and whom patients complain about."""

    __tablename__ = "institutions"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200, index=True)
    city: str = Field(default="", max_length=100, index=True)
    group_id: str | None = Field(default=None, foreign_key="institution_groups.id", index=True, max_length=64)
    address: str = Field(default="", max_length=300)


class Expert(SQLModel, table=True):
    """A member of a city's expert pool (Reg 35), shared by the committees of that city."""

    __tablename__ = "experts"

    id: str = Field(primary_key=True, max_length=64)
    city: str = Field(max_length=100, index=True)
    name: str = Field(max_length=100, index=True)
    title: str = Field(default="", max_length=100)  # 主任医师, 教授, 律师...
    specialties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    region: str = Field(default="", max_length=100)  # district
    active: bool = Field(default=True, index=True)
    max_concurrent: int = 3  # cap on concurrent assignments
    phone: str = Field(default="", max_length=30)
    email: str = Field(default="", max_length=200)
    id_number: str | None = Field(default=None, max_length=18)  # to recognise an expert who is a party
    # Declared close relatives (name, relation, id_number), to recognise a relative of a party (Reg 37).
    relatives: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(nullable=False, default=utcnow)
    updated_at: datetime = _ts(nullable=False, default=utcnow)


class Affiliation(SQLModel, table=True):
    """Where an expert works or worked (institution, from, to): Reg 37 looks N years back."""

    __tablename__ = "expert_affiliations"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: str = Field(foreign_key="experts.id", index=True, max_length=64)
    institution_id: str = Field(foreign_key="institutions.id", index=True, max_length=64)
    started_on: date | None = None
    ended_on: date | None = None  # None: still there


# ---------------------------------------------------------------- consultation panels (Reg 33) --------
class Panel(SQLModel, table=True):
    """A mediator's request for expert consultation on a case: slots of specialties, drawn and invited."""

    __tablename__ = "panels"

    id: str = Field(primary_key=True, max_length=100)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    seq: int  # the case's transition that requested it
    specialties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # one per slot
    question: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The respondent institution in the pool's registry, when staff named it; otherwise it is found by name.
    institution_id: str | None = Field(default=None, max_length=64)
    requested_by: str = Field(max_length=200)
    requested_at: datetime = _ts(nullable=False)
    status: str = Field(default=PanelStatus.DRAWING.value, max_length=32)  # domain/panel_lifecycle.py PanelStatus
    opinion_version: int = 0  # the opinions issued so far (a voided part makes a new version)
    unfilled_slots: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    meeting: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    opinion_document_id: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _ts(nullable=False)


class Draw(SQLModel, table=True):
    """One random draw for one slot: the seed, the snapshot of eligible experts, every exclusion with its
    reason, and the result (domain/draw.py). Anyone can re-run it from these and get the same expert."""

    __tablename__ = "draws"
    __table_args__ = (UniqueConstraint("panel_id", "slot", "attempt", name="uq_draw_slot_attempt"),)

    id: str = Field(primary_key=True, max_length=64)
    panel_id: str = Field(foreign_key="panels.id", index=True, max_length=100)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    slot: int
    attempt: int  # 1 for the first draw of the slot, 2 for its first replacement...
    specialty: str = Field(max_length=40)
    algorithm: str = Field(max_length=40)
    seed: str = Field(max_length=64)
    snapshot: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    exclusions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What the draw knew of the case: the institutions in conflict (the respondent and its group's sites), the
    # lookback in years, the day it counted from.
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: str | None = Field(default=None, max_length=64)  # None: nobody eligible
    at: datetime = _ts(nullable=False)


class Invitation(SQLModel, table=True):
    """An expert drawn for a slot: invited, then accepted, declined, expired, recused, voided or cancelled."""

    __tablename__ = "invitations"
    # An expert's invitations, newest first by (invited_at, id), a page at a time.
    # The statistics count the experts' opinions given in a period: a range of `ix_invitations_opinion_at`.
    __table_args__ = (Index("ix_invitations_expert_invited", "expert_id", "invited_at", "id"),
                      Index("ix_invitations_opinion_at", "opinion_at"))

    id: str = Field(primary_key=True, max_length=64)
    panel_id: str = Field(foreign_key="panels.id", index=True, max_length=100)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    expert_id: str = Field(foreign_key="experts.id", max_length=64)
    draw_id: str = Field(foreign_key="draws.id", max_length=64)
    slot: int
    specialty: str = Field(max_length=40)
    status: str = Field(default=InvitationStatus.INVITED.value, max_length=32, index=True)  # InvitationStatus
    invited_at: datetime = _ts(nullable=False)
    answer_due_at: datetime = _ts(nullable=False)
    answered_at: datetime | None = _ts(nullable=True)  # the first answer: accepted, declined or a conflict
    accepted_at: datetime | None = _ts(nullable=True)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))  # of a decline, recusal or voiding
    opinion: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    opinion_at: datetime | None = _ts(nullable=True)


class Objection(SQLModel, table=True):
    """A party's request that a drawn expert be recused (回避申请, Reg 37), and the committee's decision."""

    __tablename__ = "objections"

    id: str = Field(primary_key=True, max_length=64)
    panel_id: str = Field(foreign_key="panels.id", index=True, max_length=100)
    invitation_id: str = Field(foreign_key="invitations.id", max_length=64)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    expert_id: str = Field(foreign_key="experts.id", max_length=64)
    raised_by: str = Field(max_length=32)  # patient or institution
    form: str = Field(max_length=16)  # oral or written
    reason: str = Field(sa_column=Column(Text, nullable=False))
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = _ts(nullable=False)
    decision: str | None = Field(default=None, max_length=16)  # upheld or rejected
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = _ts(nullable=True)
    decision_reason: str = Field(default="", sa_column=Column(Text, nullable=False))


class Conflict(SQLModel, table=True):
    """An expert in conflict with a case: declared by the expert, or an objection upheld (Reg 37)."""

    __tablename__ = "conflicts"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: str = Field(foreign_key="experts.id", index=True, max_length=64)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    source: str = Field(max_length=32)  # declared, objection
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = _ts(nullable=False)


# ---------------------------------------------------------------- the audit trail (domain/audit.py) -------
class AuditEntry(SQLModel, table=True):
    """One action or logged read: append-only and hash-chained. The id is the chain's order; each row
    carries the hash of the row before it, so that an altered, deleted or inserted row is found
    (GET /audit/verify)."""

    __tablename__ = "audit_entries"
    # One successor per row: two appends can never fork the chain, whatever the backend (models/repo_audit.py
    # also serialises them). SQLite never reuses the id of a deleted last row.
    __table_args__ = (
        UniqueConstraint("prev_hash", name="uq_audit_prev_hash"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    actor_id: str = Field(max_length=100, index=True)
    actor_name: str = Field(default="", max_length=200)
    actor_role: str = Field(default="", max_length=32)
    # The case's committee when the target is a case or something of a case; no foreign key: the trail
    # outlives what it names.
    committee_id: str | None = Field(default=None, max_length=64, index=True)
    action: str = Field(max_length=200)  # "POST /cases/{case_id}/accept", or a name
    target_type: str | None = Field(default=None, max_length=40)  # case_id, document_id, panel_id...
    target_id: str | None = Field(default=None, max_length=100, index=True)
    request_id: str = Field(default="", max_length=100, index=True)
    status_code: int | None = None
    payload_sha256: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DocumentJob(SQLModel, table=True):
    """A document an action issues, from the moment the action is recorded: pending while it is rendered and
    sealed (on the documents' own task queue, apart from the action), then issued (the `documents` row with the
    same id holds it), or failed with the reason. `attempts` and `error` show a rendering being retried."""

    __tablename__ = "document_jobs"

    id: str = Field(primary_key=True, max_length=64)  # the document's id, given by the case's workflow
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    kind: str = Field(max_length=40)
    lang: str = Field(max_length=8)
    source_seq: int
    status: str = Field(default="pending", max_length=16)  # pending, issued, failed
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2000)
    requested_at: datetime = _ts(nullable=False)
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The case row as the transition left it: the document says what the case was at its event, even when later
    # actions were recorded before it was rendered.
    case_snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Attachment(SQLModel, table=True):
    """A file a party brought (docs/attachments.md): its kind, who gave it, when it was received, the bytes' SHA-256
    (the store holds them by it: the same bytes once however many rows name them), their type as sniffed from the
    bytes. Immutable: a withdrawn one keeps its row, marked with who withdrew it, when and why. `event_seq`: the
    case's transition that records it (a payment, a signature, an appraisal's opinion), when one does."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_case_uploaded", "case_id", "uploaded_at", "id"),
                      Index("ix_attachments_sha256", "sha256"))

    id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(foreign_key="cases.id", max_length=64)
    kind: str = Field(max_length=32)  # domain/attachments.py KINDS
    party: str = Field(max_length=32)  # domain/attachments.py PARTIES
    received_on: date
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=100)  # from the bytes (domain/filetypes.py), never from the name
    size: int
    sha256: str = Field(max_length=64)
    store: str = Field(max_length=8)  # fs or s3: where the bytes were put
    uploaded_by: str = Field(max_length=200)
    uploaded_by_role: str = Field(default="", max_length=32)
    uploaded_at: datetime = _ts(nullable=False)
    withdrawn_at: datetime | None = _ts(nullable=True)
    withdrawn_by: str | None = Field(default=None, max_length=200)
    withdrawn_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    event: str | None = Field(default=None, max_length=40)
    event_seq: int | None = None


class Delivery(SQLModel, table=True):
    """One notification on its way to one person by one channel (docs/notifications.md): queued when the
    notification is written, then sent (with the provider's id for it) or failed with the reason. `attempts`
    counts the sends tried; a delivery is sent at most once (workflows/delivery.py)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "recipient_type", "recipient_id", "channel", name="uq_delivery_target"),
        Index("ix_deliveries_status_notification", "status", "notification_id"),
    )

    id: str = Field(primary_key=True, max_length=64)  # derived from the notification, the recipient and the channel
    notification_id: str = Field(foreign_key="notifications.id", index=True, max_length=200)
    case_id: str = Field(foreign_key="cases.id", max_length=64)
    channel: str = Field(max_length=16)  # email, sms, log
    recipient_type: str = Field(default="", max_length=16)  # user, expert; "" for the log
    recipient_id: str = Field(default="", max_length=100)
    recipient_name: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=200)  # the e-mail address or mobile number it goes to
    status: str = Field(default="queued", max_length=16)  # queued, sent, failed
    attempts: int = 0
    reason: str | None = Field(default=None, max_length=2000)  # why the last attempt failed
    provider_id: str | None = Field(default=None, max_length=200)  # the Message-ID, the SMS provider's BizId
    queued_at: datetime = _ts(nullable=False)
    last_attempt_at: datetime | None = _ts(nullable=True)
    sent_at: datetime | None = _ts(nullable=True)
