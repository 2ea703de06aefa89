"""The persisted projection of cases: committees, cases, transitions, sessions and documents.

The workflow is the source of truth for a case's life; these rows are what the API reads. Each row
written by an activity has a natural key (case, sequence number) so that a retried activity never
writes it twice.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary, Numeric, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


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
    # Clock lengths (models/policy.py ClockPolicy); empty means the rule book's defaults.
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
}


class NumberSequence(SQLModel, table=True):
    """The last number used per committee, year and kind of number."""

    __tablename__ = "number_sequences"

    committee_id: str = Field(primary_key=True, foreign_key="committees.id", max_length=64)
    year: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=32)
    last: int = 0


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    # Numbers run per committee and year: two committees may print the same number.
    __table_args__ = (UniqueConstraint("committee_id", "number", name="uq_case_committee_number"),)

    id: str = Field(primary_key=True, max_length=64)
    number: str = Field(index=True, max_length=100)
    committee_id: str = Field(foreign_key="committees.id", index=True, max_length=64)
    status: str = Field(index=True, max_length=32)
    application_type: str = Field(max_length=32)
    applicant_side: str | None = Field(default=None, max_length=32)
    both_consented: bool = False
    patient_name: str = Field(max_length=200)
    institution_name: str = Field(max_length=200)
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
    # The clocks, as the workflow last derived them (models/deadlines.py): the mediation clock's ledger (Reg 38)
    # and due date, whether it is paused, every pending deadline, and whether any deadline is provisional.
    clock: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    due_date: date | None = Field(default=None, index=True)
    due_provisional: bool = Field(default=False, index=True)
    clock_paused: bool = False
    deadlines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    payment_overdue: bool = Field(default=False, index=True)
    effective_on: date | None = None  # the agreement took effect (Reg 39)
    version: int = 0  # sequence number of the last transition
    registered_at: datetime = _ts(nullable=False, index=True)
    updated_at: datetime = _ts(nullable=False)
    accepted_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    archived_at: datetime | None = _ts(nullable=True)


class Transition(SQLModel, table=True):
    """One row per lifecycle event: who did what, when, from which state to which, with what data."""

    __tablename__ = "transitions"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_transition_case_seq"),)

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


class MediationSession(SQLModel, table=True):
    """A scheduled mediation session (调解会) and, once held, its minutes (调解笔录)."""

    __tablename__ = "mediation_sessions"

    id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    scheduled_seq: int
    scheduled_at: datetime = _ts(nullable=False)
    place: str = Field(max_length=200)
    mediators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attendees: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    minutes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    minutes_seq: int | None = None


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


class DocumentContent(SQLModel, table=True):
    __tablename__ = "document_contents"

    document_id: str = Field(primary_key=True, foreign_key="documents.id", max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CalendarYear(SQLModel, table=True):
    """An admin-loaded table of holidays and make-up workdays for a year (models/clock.py YearTable)."""

    __tablename__ = "calendar_years"

    year: int = Field(primary_key=True)
    table: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    loaded_at: datetime = _ts(nullable=False)
    loaded_by: str = Field(max_length=200)


class Notification(SQLModel, table=True):
    """The outbox: what the system tells staff (reminders, warnings, expiries). Delivery is pluggable."""

    __tablename__ = "notifications"

    id: str = Field(primary_key=True, max_length=200)  # natural key: case, kind and occasion; written once
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=64)
    kind: str = Field(max_length=40, index=True)
    recipient_role: str = Field(max_length=32)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _ts(nullable=False, index=True)
    due_on: date | None = None  # the day the deadline names
    channel: str = Field(default="log", max_length=32)
    delivered_at: datetime | None = _ts(nullable=True)
