"""Request and response schemas of the staff API (and the payloads the workflow records).

Amounts are decimals (serialised as strings, never floats). Times are ISO 8601; a time given without an
offset is taken as Asia/Shanghai, and every time returned is in Asia/Shanghai (+08:00).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from models.lifecycle import REJECT_REASONS, REQUIRED_SIGNERS, TERMINATION_GROUNDS

SHANGHAI = ZoneInfo("Asia/Shanghai")


# The dates a case can plausibly name: a birth date, a treatment, a deadline. Outside them a date is a typing
# error, answered 422, never carried into the clocks or the documents.
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def _in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"dates from {EARLIEST} to {LATEST} only")
    return value


def to_shanghai(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    if not EARLIEST <= value.date() <= LATEST:  # before the conversion, which could overflow
        raise ValueError(f"times from {EARLIEST} to {LATEST} only")
    return value.astimezone(SHANGHAI)


Day = Annotated[date, AfterValidator(_in_range)]
LocalTime = Annotated[
    datetime,
    AfterValidator(to_shanghai),
    PlainSerializer(lambda v: to_shanghai(v).isoformat(), return_type=str, when_used="json"),
]


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("give amounts as decimal strings such as \"120000.00\", not as floating-point numbers")
    return value


Yuan = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(ge=0, max_digits=14, decimal_places=2),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "examples": ["120000.00"]}),
]
Text = Annotated[str, Field(min_length=1, max_length=20000)]
Name = Annotated[str, Field(min_length=1, max_length=100)]

ApplicationType = Literal["joint", "one_side", "oral", "committee_initiated"]
Side = Literal["patient", "institution"]
Signer = Literal["patient", "institution", "mediator", "committee_seal"]
TerminationGround = Literal["party_withdrew", "court_accepted", "health_department_accepted", "escalation_risk"]
ID_NUMBER = r"^\d{17}[\dXx]$"
PHONE = r"^\+?[\d\- ]{5,20}$"

assert set(TerminationGround.__args__) == set(TERMINATION_GROUNDS)  # type: ignore[attr-defined]
assert set(Signer.__args__) == set(REQUIRED_SIGNERS)  # type: ignore[attr-defined]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- registration ----------------------
class Patient(Strict):
    name: Name = Field(examples=["王小明"])
    id_number: str | None = Field(default=None, pattern=ID_NUMBER, examples=["310101198001011234"])
    phone: str | None = Field(default=None, pattern=PHONE, examples=["13800138000"])
    gender: Literal["male", "female"] | None = None
    birth_date: Day | None = None
    deceased: bool = False
    minor_or_incapacitated: bool = False
    address: str | None = Field(default=None, max_length=300)


class Representative(Strict):
    """A relative, an authorised agent (委托代理人) or a guardian (监护人) acting for the patient side."""

    name: Name = Field(examples=["王大明"])
    relation: str = Field(min_length=1, max_length=50, examples=["患者之子"])
    role: Literal["relative", "agent", "guardian"] = "relative"
    id_number: str | None = Field(default=None, pattern=ID_NUMBER)
    phone: str | None = Field(default=None, pattern=PHONE)
    authorisation: str | None = Field(
        default=None, max_length=300, description="授权委托书 reference", examples=["授权委托书（2026年11月20日）"]
    )


class Institution(Strict):
    name: Name = Field(examples=["上海市某区人民医院"])
    legal_representative: Name = Field(examples=["李院长"])
    address: str | None = Field(default=None, max_length=300, examples=["上海市黄浦区某路1号"])
    group: str | None = Field(default=None, max_length=100, description="医疗集团 the hospital belongs to")
    agent: str | None = Field(default=None, max_length=100, examples=["张律师"])
    agent_title: str | None = Field(default=None, max_length=100, examples=["医务处处长"])


class Insurer(Strict):
    name: Name = Field(examples=["某财产保险股份有限公司上海分公司"])
    policy_number: str | None = Field(default=None, max_length=100)


class CaseCreate(Strict):
    """An application for mediation (Reg 31¶2–3, PML 17)."""

    committee_id: str = Field(min_length=1, max_length=64, examples=["huangpu"])
    application_type: ApplicationType = Field(
        description="joint 双方共同申请; one_side 一方申请; oral 口头申请（记录）; committee_initiated 主动调解",
        examples=["one_side"],
    )
    applicant_side: Side | None = Field(default=None, description="who applied, for one_side and oral")
    both_consented: bool = Field(default=False, description="committee_initiated: both sides consented")
    patient: Patient
    patient_representatives: list[Representative] = Field(default_factory=list, max_length=5)
    institution: Institution
    insurer: Insurer | None = None
    treatment_episode: str | None = Field(
        default=None, max_length=300, examples=["2026年10月3日至10月12日在产科住院"], description="诊疗经过"
    )
    facts: Text = Field(examples=["患者于2026年10月3日入院分娩，术后出现大出血，患方认为医方处置不及时。"])
    claim_amount: Yuan
    requests: Text = Field(examples=["要求医方赔偿医疗费、误工费等共计人民币十二万元。"])
    oral_record: str | None = Field(default=None, max_length=20000, description="口头申请笔录, for oral")

    @model_validator(mode="after")
    def _consistent(self) -> CaseCreate:
        if self.application_type in ("one_side", "oral") and self.applicant_side is None:
            raise ValueError("applicant_side is required for a one-sided or oral application")
        if self.application_type == "oral" and not (self.oral_record or "").strip():
            raise ValueError("oral_record is required for an oral application (the transcribed application)")
        if self.patient.deceased and not self.patient_representatives:
            raise ValueError("patient_representatives: a deceased patient's relatives apply through representatives")
        if self.patient.minor_or_incapacitated and not any(
            r.role == "guardian" for r in self.patient_representatives
        ):
            raise ValueError("patient_representatives: a minor or incapacitated patient needs a guardian")
        for rep in self.patient_representatives:
            if rep.role == "agent" and not rep.authorisation:
                raise ValueError(f"patient_representatives: agent {rep.name} needs an authorisation (授权委托书)")
        return self


# ---------------------------------------------------------------- actions ---------------------------
class Note(Strict):
    note: str | None = Field(default=None, max_length=2000)


class RequestConsent(Note):
    method: Literal["phone", "letter", "in_person", "sms", "other"] = "phone"


class RecordConsent(Note):
    consented_by: Name = Field(examples=["李院长"])
    method: Literal["written", "oral"] = Field(examples=["written"])
    consented_at: LocalTime | None = None


class RecordRefusal(Note):
    refused_by: Name
    method: Literal["written", "oral", "silence"] = "written"


class SubmitForReview(Note):
    pass


class Accept(Note):
    mediators: list[Name] = Field(min_length=1, max_length=3, examples=[["陈调解员"]])


class Reject(Note):
    reasons: list[Annotated[int, Field(ge=1, le=8)]] = Field(
        min_length=1, description="; ".join(f"{k}. {v}" for k, v in REJECT_REASONS.items()), examples=[[2]]
    )
    reason_text: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _other_needs_words(self) -> Reject:
        if 8 in self.reasons and not self.reason_text.strip():
            raise ValueError("reason_text is required when reason 8 (other) is given")
        return self


class ScheduleSession(Note):
    scheduled_at: LocalTime = Field(examples=["2026-11-25T09:30:00+08:00"])
    place: Name = Field(examples=["黄浦区医调委第一调解室"])
    mediators: list[Name] = Field(min_length=1, max_length=3, examples=[["陈调解员"]])
    attendees: list[Name] = Field(default_factory=list, examples=[["王大明", "张律师"]])


class Statement(Strict):
    speaker: Name = Field(examples=["王大明（患方）"])
    text: Text = Field(examples=["我方认为医方未及时处置产后出血。"])


class RecordMinutes(Note):
    session_id: str = Field(min_length=1, max_length=64)
    held_at: LocalTime
    recorder: Name = Field(examples=["刘记录员"])
    attendees: list[Name] = Field(min_length=1)
    statements: list[Statement] = Field(min_length=1)
    summary: str = Field(default="", max_length=20000)


class AgreementTerm(Strict):
    text: Text = Field(examples=["医方一次性向患方支付赔偿款"])
    amount: Yuan | None = None
    payer: str | None = Field(default=None, max_length=200, description="who pays; may be an insurer")
    manner: str = Field(min_length=1, max_length=200, examples=["银行转账至患方指定账户"])
    deadline: Day | None = Field(default=None, examples=["2026-12-31"])
    deadline_text: str | None = Field(default=None, max_length=200, examples=["协议生效之日起10个工作日内"])

    @model_validator(mode="after")
    def _needs_deadline(self) -> AgreementTerm:
        if self.deadline is None and not (self.deadline_text or "").strip():
            raise ValueError("each term needs a deadline of performance (deadline or deadline_text), PML 29")
        return self


class DraftAgreement(Strict):
    """The PML 29 content of a 人民调解协议书."""

    facts: Text
    points_in_dispute: Text = Field(examples=["医方诊疗行为是否存在过错及赔偿数额"])
    responsibilities: Text = Field(examples=["医方对患者损害承担主要责任"])
    terms: list[AgreementTerm] = Field(min_length=1, max_length=50)
    copies: int = Field(default=3, ge=3, le=10)


class ReviseAgreement(Strict):
    reason: Text = Field(examples=["患方对赔偿数额有异议，拒绝签字"])
    refused_by: Side | None = None


class Sign(Strict):
    signer: Signer = Field(description="patient side, institution, mediator, or committee_seal (director)")
    signed_by: Name = Field(examples=["王大明"])
    method: Literal["signature", "seal", "fingerprint"] = "signature"
    signed_at: LocalTime | None = None


class ConfirmPerformance(Note):
    paid_amount: Yuan
    paid_at: LocalTime
    proof: str = Field(min_length=1, max_length=300, examples=["银行转账回单 No. 2026112300001"])


class RecordNonperformance(Note):
    reason: Text = Field(examples=["医方逾期未支付赔偿款"])
    referred_to_court: bool = True


class DeclareFailed(Note):
    reason: Text = Field(examples=["双方对赔偿数额分歧过大，无法达成一致"])


class Terminate(Note):
    ground: TerminationGround = Field(examples=["party_withdrew"])
    detail: str = Field(default="", max_length=2000, examples=["患方书面撤回调解申请"])


class Archive(Note):
    pass


ACTION_SCHEMAS: dict[str, type[BaseModel]] = {
    "request_consent": RequestConsent,
    "record_consent": RecordConsent,
    "record_refusal": RecordRefusal,
    "submit_for_review": SubmitForReview,
    "accept": Accept,
    "reject": Reject,
    "schedule_session": ScheduleSession,
    "record_minutes": RecordMinutes,
    "draft_agreement": DraftAgreement,
    "revise_agreement": ReviseAgreement,
    "sign": Sign,
    "confirm_performance": ConfirmPerformance,
    "record_nonperformance": RecordNonperformance,
    "declare_failed": DeclareFailed,
    "terminate": Terminate,
    "archive": Archive,
}


# ---------------------------------------------------------------- responses -------------------------
class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CommitteePublic(Out):
    id: str
    name: str
    short_name: str
    city: str


class CasePublic(Out):
    id: str
    number: str
    committee_id: str
    status: str
    status_label: str
    application_type: str
    applicant_side: str | None
    patient_name: str
    institution_name: str
    facts: str
    claim_amount: Decimal
    requests: str
    registration: dict[str, Any]
    mediators: list[str]
    agreement: dict[str, Any] | None
    agreement_version: int
    signatures: dict[str, Any]
    outcome: dict[str, Any] | None
    version: int
    registered_at: LocalTime
    updated_at: LocalTime
    accepted_at: LocalTime | None
    closed_at: LocalTime | None
    archived_at: LocalTime | None
    allowed_events: list[str]


class CaseSummary(Out):
    id: str
    number: str
    committee_id: str
    status: str
    status_label: str
    patient_name: str
    institution_name: str
    claim_amount: Decimal
    registered_at: LocalTime
    updated_at: LocalTime


class CasesPublic(BaseModel):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


class TransitionPublic(Out):
    seq: int
    event: str
    from_status: str
    to_status: str
    actor_id: str
    actor_name: str
    actor_role: str
    at: LocalTime
    payload: dict[str, Any]


class AllowedEvents(BaseModel):
    status: str
    status_label: str
    allowed_events: list[str]


class DocumentPublic(Out):
    id: str
    case_id: str
    kind: str
    lang: str
    version: int
    number: str
    title: str
    source_seq: int
    sha256: str
    size: int
    media_type: str
    superseded: bool
    created_at: LocalTime


class SessionPublic(Out):
    id: str
    scheduled_at: LocalTime
    place: str
    mediators: list[str]
    attendees: list[str]
    minutes: dict[str, Any] | None


class ActionOutcome(BaseModel):
    """What a staff action returns: the new state, what is allowed now, and any documents it produced."""

    case_id: str
    event: str
    from_status: str
    status: str
    status_label: str
    seq: int
    at: LocalTime
    allowed_events: list[str]
    document_ids: list[str]
    session_id: str | None = None
