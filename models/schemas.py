"""Request and response schemas of the staff API (and the payloads the workflow records).

Amounts are decimals (serialised as strings, never floats). Times are ISO 8601; a time given without an
offset is taken as Asia/Shanghai, and every time returned is in Asia/Shanghai (+08:00).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
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

from models.lifecycle import ABANDON_REASONS, REJECT_REASONS, REQUIRED_SIGNERS, STATES, TERMINATION_GROUNDS
from models.paging import Page
from models.specialties import SPECIALTIES

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


def _not_future(value: datetime) -> datetime:
    """A fact recorded as having happened (a consent, a signature, a payment) cannot lie in the future."""
    if value > datetime.now(SHANGHAI) + timedelta(minutes=5):
        raise ValueError("a time when something happened cannot be in the future")
    return value


def _day_not_future(value: date) -> date:
    """A day something happened on (a birth, a treatment, a payment): not after today in Asia/Shanghai."""
    if value > datetime.now(SHANGHAI).date():
        raise ValueError("a day when something happened cannot be in the future")
    return value


Day = Annotated[date, AfterValidator(_in_range)]
LocalTime = Annotated[
    datetime,
    AfterValidator(to_shanghai),
    PlainSerializer(lambda v: to_shanghai(v).isoformat(), return_type=str, when_used="json"),
]
PastTime = Annotated[LocalTime, AfterValidator(_not_future)]  # when something happened: not in the future
PastDay = Annotated[Day, AfterValidator(_day_not_future)]  # the day something happened: not in the future


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


def _nul_at(value: Any, path: str = "") -> str | None:
    """Where a NUL character (U+0000) is in the input, if anywhere: no database stores it in text."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _nul_at(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


class Strict(BaseModel):
    """What staff send: no unknown fields, surrounding whitespace stripped, and no NUL character in any text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_character(cls, data: Any) -> Any:
        where = _nul_at(data)
        if where is not None:
            raise ValueError(f"{where or 'the value'}: text may not contain the NUL character (U+0000)")
        return data


# ---------------------------------------------------------------- registration ----------------------
class Patient(Strict):
    name: Name = Field(examples=["王小明"])
    id_number: str | None = Field(default=None, pattern=ID_NUMBER, examples=["310101198001011234"])
    phone: str | None = Field(default=None, pattern=PHONE, examples=["13800138000"])
    gender: Literal["male", "female"] | None = None
    birth_date: PastDay | None = None
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
    pool_institution_id: str | None = Field(
        default=None, min_length=1, max_length=64, examples=["inst-sh-001"],
        description="the institution in the expert pool's registry (GET /pool/institutions): expert recusal checks "
        "its staff and its group's sites by this id, never by name (Reg 37). It can be linked later with PUT "
        "/cases/{id}/respondent-institution; a consultation needs it",
    )


class Insurer(Strict):
    name: Name = Field(examples=["某财产保险股份有限公司上海分公司"])
    policy_number: str | None = Field(default=None, max_length=100)


class ConsentIn(Strict):
    """One side's consent to mediation: who gave it, when and how (Reg 31¶1)."""

    side: Side = Field(examples=["institution"])
    consented_by: Name = Field(examples=["李院长"])
    method: Literal["written", "oral"] = Field(examples=["written"])
    consented_at: PastTime = Field(examples=["2026-11-20T10:00:00+08:00"])


class TreatmentPeriod(Strict):
    """The treatment the dispute is about (诊疗期间): what tells a re-filed dispute from a new one."""

    start: PastDay = Field(examples=["2026-10-03"])
    end: PastDay | None = Field(default=None, examples=["2026-10-12"], description="none: a single day, or ongoing")

    @model_validator(mode="after")
    def _ordered(self) -> TreatmentPeriod:
        if self.end is not None and self.end < self.start:
            raise ValueError("end: the treatment cannot end before it started")
        return self


class NewDisputeConfirmation(Strict):
    """Staff confirm that a registration matching earlier cases is a new dispute, and say why."""

    reason: str = Field(min_length=1, max_length=2000, examples=["前案为门诊诊疗纠纷，本案为再次住院手术引起的新纠纷"])


class CaseCreate(Strict):
    """An application for mediation (Reg 31¶2–3, PML 17)."""

    committee_id: str = Field(min_length=1, max_length=64, examples=["huangpu"])
    application_type: ApplicationType = Field(
        description="joint 双方共同申请; one_side 一方申请; oral 口头申请（记录）; committee_initiated 主动调解",
        examples=["one_side"],
    )
    applicant_side: Side | None = Field(default=None, description="who applied, for one_side and oral")
    consents: list[ConsentIn] = Field(
        default_factory=list, max_length=2,
        description="committee_initiated: the consents already given, one per side (who, when, how); the others "
        "are recorded with record-consent. The case goes to review once both sides' are on file",
    )
    patient: Patient
    patient_representatives: list[Representative] = Field(default_factory=list, max_length=5)
    institution: Institution
    insurer: Insurer | None = None
    treatment_episode: str | None = Field(
        default=None, max_length=300, examples=["2026年10月3日至10月12日在产科住院"], description="诊疗经过"
    )
    treatment_period: TreatmentPeriod | None = Field(
        default=None, description="the dates of that treatment: a registration of the same patient and institution "
        "with an overlapping period is a possible duplicate",
    )
    confirm_new_dispute: NewDisputeConfirmation | None = Field(
        default=None, description="register although earlier cases match (409 possible_duplicate): why this is a "
        "new dispute",
    )
    facts: Text = Field(examples=["患者于2026年10月3日入院分娩，术后出现大出血，患方认为医方处置不及时。"])
    claim_amount: Yuan
    requests: Text = Field(examples=["要求医方赔偿医疗费、误工费等共计人民币十二万元。"])
    oral_record: str | None = Field(default=None, max_length=20000, description="口头申请笔录, for oral")

    @model_validator(mode="before")
    @classmethod
    def _no_bare_consent_flag(cls, data: Any) -> Any:
        if isinstance(data, dict) and "both_consented" in data:
            raise ValueError("both_consented is no longer accepted: record each side's consent with who, when and "
                             "how (consents, or record-consent after registration)")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> CaseCreate:
        if self.consents and self.application_type != "committee_initiated":
            raise ValueError("consents: only a committee-initiated case records the parties' consents at "
                             "registration; a one-sided application asks the other side (request-consent)")
        if len({c.side for c in self.consents}) != len(self.consents):
            raise ValueError("consents: one consent per side")
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
    """The other side consented (Reg 31¶1); for a committee-initiated case, one side's consent (name it)."""

    side: Side | None = Field(default=None, description="whose consent: required for a committee-initiated case; "
                              "otherwise the side that did not apply")
    consented_by: Name = Field(examples=["李院长"])
    method: Literal["written", "oral"] = Field(examples=["written"])
    consented_at: PastTime | None = Field(default=None, description="when it was given; now if not given")


class RecordRefusal(Note):
    refused_by: Name
    method: Literal["written", "oral", "silence"] = Field(
        default="written", description="silence counts only once the consent deadline has passed (PML 17); the "
        "case is then rejected by itself")


class SubmitForReview(Note):
    pass


class Accept(Note):
    mediators: list[Name] = Field(default_factory=list, max_length=3, examples=[["陈调解员"]],
                                  description="the mediators' names as the documents print them")
    mediator_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=3, examples=[["chen.tiaojie"]],
        description="their accounts (usernames of mediators of the committee): these mediators reach the case; "
        "the names are taken from the accounts when `mediators` is left out",
    )

    @model_validator(mode="after")
    def _someone_assigned(self) -> Accept:
        if not self.mediators and not self.mediator_ids:
            raise ValueError("assign one to three mediators: give mediator_ids (accounts) or mediators (names)")
        if self.mediators and self.mediator_ids and len(self.mediators) != len(self.mediator_ids):
            raise ValueError("mediators and mediator_ids name the same people: give as many of each")
        return self


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


class AttendeeIn(Strict):
    """A person at the session and in what capacity; a bare name is looked up among the case's parties."""

    name: Name = Field(examples=["王大明"])
    capacity: str = Field(default="", max_length=100, examples=["患方当事人（患者之子）"])


class RecordMinutes(Note):
    session_id: str = Field(min_length=1, max_length=64)
    held_at: PastTime
    recorder: Name = Field(examples=["刘记录员"])
    attendees: list[Name | AttendeeIn] = Field(min_length=1, max_length=50, description="names, or names with "
                                               "their capacity; a bare name prints with what the case says of it")
    statements: list[Statement] = Field(min_length=1)
    summary: str = Field(default="", max_length=20000)


class AgreementTerm(Strict):
    text: Text = Field(examples=["医方一次性向患方支付赔偿款"])
    amount: Yuan | None = None
    payer: str | None = Field(default=None, max_length=200, description="who pays; may be an insurer")
    manner: str = Field(min_length=1, max_length=200, examples=["银行转账至患方指定账户"])
    deadline: Day | None = Field(default=None, examples=["2026-12-31"], description="履行期限 as a date")
    deadline_working_days: int | None = Field(
        default=None, ge=1, le=365, examples=[10],
        description="履行期限 as N working days from the day the agreement takes effect; the payment clock "
        "computes the date from the working-day calendar",
    )
    deadline_text: str | None = Field(default=None, max_length=200, examples=["协议生效之日起10个工作日内"])

    @model_validator(mode="after")
    def _needs_deadline(self) -> AgreementTerm:
        if self.deadline is not None and self.deadline_working_days is not None:
            raise ValueError("give the deadline as a date or as working days from the agreement's effect, not both")
        if self.deadline_working_days is not None and not (self.deadline_text or "").strip():
            self.deadline_text = f"协议生效之日起{self.deadline_working_days}个工作日内"
        if self.deadline is None and not (self.deadline_text or "").strip():
            raise ValueError("each term needs a deadline of performance (deadline, deadline_working_days or "
                             "deadline_text), PML 29")
        return self


class DraftAgreement(Strict):
    """The PML 29 content of a 人民调解协议书."""

    facts: Text
    points_in_dispute: Text = Field(examples=["医方诊疗行为是否存在过错及赔偿数额"])
    responsibilities: Text = Field(examples=["医方对患者损害承担主要责任"])
    terms: list[AgreementTerm] = Field(min_length=1, max_length=50)
    copies: int | None = Field(default=None, ge=3, le=10, description="one per party and at least one for the "
                               "committee; none: exactly that")


class ReviseAgreement(Strict):
    reason: Text = Field(examples=["患方对赔偿数额有异议，拒绝签字"])
    refused_by: Side | None = None


class Sign(Strict):
    signer: Signer = Field(description="patient side, institution, mediator, or committee_seal (director)")
    signed_by: Name = Field(examples=["王大明"])
    method: Literal["signature", "seal", "fingerprint"] = "signature"
    signed_at: PastTime | None = None
    capacity: str | None = Field(default=None, max_length=100, examples=["患者之子（继承人）"],
                                 description="in what capacity: printed in the effective agreement's signature "
                                 "record; none: what the registration says of the signer")


class RecordPayment(Note):
    """One payment, or one act of performance, against one term of the effective agreement (PML 31)."""

    term: int = Field(ge=1, le=50, examples=[1], description="the term's number in the agreement (1, 2, ...)")
    amount: Yuan | None = Field(default=None, examples=["86500.50"],
                                description="for a monetary term: at most its balance; none for another term")
    paid_on: PastDay = Field(examples=["2026-12-10"], description="the day it was paid or performed")
    payer: Name = Field(examples=["某财产保险股份有限公司上海分公司"], description="who paid: may be an insurer")
    proof: str = Field(min_length=1, max_length=300, examples=["银行转账回单 No. 2026121000001"])


class PatientAcceptance(Strict):
    """The patient side accepts in writing a performance less than agreed (its text and date)."""

    text: Text = Field(examples=["患方确认已收到赔偿款人民币八万元，同意放弃其余款项，本纠纷就此了结。"])
    accepted_by: Name = Field(examples=["王大明"])
    accepted_on: PastDay = Field(examples=["2026-12-20"])


class ConfirmPerformance(Note):
    """PML 31: the agreement is performed. Every term must be performed in full (record-payment), unless the
    patient side's written acceptance of less is given here."""

    patient_acceptance: PatientAcceptance | None = None


class RecordNonperformance(Note):
    reason: Text = Field(examples=["医方逾期未支付赔偿款"])
    referred_to_court: bool = True


class DeclareFailed(Note):
    reason: Text = Field(examples=["双方对赔偿数额分歧过大，无法达成一致"])


class Terminate(Note):
    """What ends mediation, recorded so that the notice can say it: for a withdrawal, which party withdrew, who
    and how (a written statement, or orally, recorded and signed); for a court or the health department, which
    body accepted the dispute, its case number and the day it did."""

    ground: TerminationGround = Field(examples=["party_withdrew"])
    detail: str = Field(default="", max_length=2000, examples=["患方书面撤回调解申请"])
    withdrawn_by_side: Side | None = Field(default=None, examples=["patient"])
    withdrawn_by: Name | None = Field(default=None, examples=["王大明"])
    withdrawal_form: Literal["written", "oral"] | None = Field(
        default=None, examples=["written"], description="written: a signed statement; oral: recorded and signed")
    withdrawn_on: PastDay | None = Field(default=None, examples=["2026-11-20"])
    body: Name | None = Field(default=None, examples=["上海市黄浦区人民法院"], description="the court or department")
    body_case_number: str | None = Field(default=None, min_length=1, max_length=100,
                                         examples=["（2026）沪0101民初12345号"])
    body_accepted_on: PastDay | None = Field(default=None, examples=["2026-11-18"])

    @model_validator(mode="after")
    def _facts_of_the_ground(self) -> Terminate:
        needed = {
            "party_withdrew": ("withdrawn_by_side", "withdrawn_by", "withdrawal_form"),
            "court_accepted": ("body", "body_case_number", "body_accepted_on"),
            "health_department_accepted": ("body", "body_case_number", "body_accepted_on"),
        }.get(self.ground, ())
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"ground {self.ground} needs {', '.join(missing)}")
        return self


class Archive(Note):
    pass


class FeesAdvanced(Strict):
    """Appraisal fees each side advances (Reg 34). Mediation itself is free (Reg 32, PML 4)."""

    patient: Yuan = Field(default=Decimal("0.00"), examples=["3000.00"])
    institution: Yuan = Field(default=Decimal("0.00"), examples=["3000.00"])


AbandonReason = Literal[tuple(ABANDON_REASONS)]  # type: ignore[valid-type]


class AbandonAppraisal(Note):
    """The appraisal will not report (rev 2): the mediation clock runs again from the next day."""

    reason: AbandonReason = Field(examples=["fee_not_advanced"],
                                  description="; ".join(f"{k} {v}" for k, v in ABANDON_REASONS.items()))
    reason_text: str = Field(default="", max_length=2000, examples=["患方未在指定期限内预交鉴定费"])

    @model_validator(mode="after")
    def _other_needs_words(self) -> AbandonAppraisal:
        if self.reason == "other" and not self.reason_text.strip():
            raise ValueError("reason_text is required when the reason is other")
        return self


class LinkRespondent(Strict):
    """Link the respondent to the expert pool's institution registry (Reg 37: recusal by id, never by name)."""

    institution_id: str = Field(min_length=1, max_length=64, examples=["inst-sh-001"],
                                description="GET /pool/institutions")


class StartAppraisal(Note):
    """A medical-damage appraisal (医疗损害鉴定) is commissioned: the mediation clock pauses (Reg 34, 38)."""

    institution: Name = Field(examples=["上海市某司法鉴定中心"], description="鉴定机构")
    commissioned_by: Literal["both_parties", "committee"] = Field(
        examples=["both_parties"],
        description="both_parties 双方共同委托; committee 经双方同意由医调委委托 (needs both consents)",
    )
    patient_consent: bool = Field(default=False, description="the patient side consents to the committee commissioning")
    institution_consent: bool = Field(default=False, description="the institution consents to the committee commissioning")
    matters: str = Field(default="", max_length=2000, examples=["诊疗行为有无过错、与损害后果的因果关系及原因力大小"])
    fees_advanced: FeesAdvanced = Field(default_factory=FeesAdvanced)


LiabilityDegree = Literal["full", "main", "equal", "secondary", "minor", "none"]


class FinishAppraisal(Note):
    """The appraisal opinion arrived (Reg 36): the mediation clock runs again from the next day."""

    opinion_number: str = Field(default="", max_length=100, examples=["沪某司鉴所〔2026〕临鉴字第88号"])
    medical_damage: bool = Field(description="是否存在医疗损害")
    fault: bool = Field(description="诊疗行为有无过错")
    causation: bool = Field(description="过错与损害之间有无因果关系")
    liability_degree: LiabilityDegree = Field(
        examples=["main"], description="原因力大小: full 全部, main 主要, equal 同等, secondary 次要, minor 轻微, none 无"
    )
    summary: str = Field(default="", max_length=20000, examples=["医方术中消毒不规范，与切口感染存在因果关系，系主要原因。"])


class ExtendDeadline(Note):
    """Reg 38: the committee and both parties agree to extend the mediation period."""

    extra_days: int = Field(ge=1, le=120, examples=[15], description="working days added to the period")
    patient_consent: bool = Field(examples=[True])
    institution_consent: bool = Field(examples=[True])
    approved_by: Name = Field(examples=["赵主任"], description="the director who approved for the committee")
    reason: str = Field(default="", max_length=2000, examples=["双方同意延长调解期限，以便补充提交病历资料"])


SpecialtyCode = Literal[tuple(SPECIALTIES)]  # type: ignore[valid-type]


class RequestConsultation(Note):
    """Reg 33: the mediator asks the city's expert pool (Reg 35) for a panel, one specialty per expert, e.g.
    two obstetricians and a lawyer. Consultation does not pause the mediation clock."""

    specialties: list[SpecialtyCode] = Field(
        min_length=1, max_length=7, examples=[["obstetrics", "obstetrics", "law"]],
        description="one specialty code per expert (GET /pool/specialties)",
    )
    question: str = Field(min_length=1, max_length=5000, examples=["医方在产后出血处置中有无过错，与损害后果有无因果关系"
                                                                  "及责任程度"])


class RecordJudicialConfirmation(Note):
    """PML 33, CPL 205: whether the parties applied to a court for judicial confirmation (司法确认), and its result."""

    applied: bool = Field(examples=[True])
    applied_on: Day | None = Field(default=None, examples=["2026-12-15"])
    court: str | None = Field(default=None, max_length=200, examples=["上海市黄浦区人民法院"])
    result: Literal["pending", "confirmed", "rejected"] | None = Field(
        default=None, examples=["confirmed"], description="pending 审查中; confirmed 裁定确认有效; rejected 裁定驳回申请"
    )
    ruled_on: Day | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RecordJudicialConfirmation:
        if self.applied and not (self.court or "").strip():
            raise ValueError("court is required when the parties applied")
        if not self.applied and (self.result or self.ruled_on):
            raise ValueError("a court result needs an application (applied: true)")
        if self.ruled_on is not None and self.result in (None, "pending"):
            raise ValueError("a ruling date needs the court's result (confirmed or rejected)")
        return self


class RecordFollowup(Note):
    """回访记录: the mediator's follow-up visit after performance."""

    visitor: Name = Field(examples=["陈调解员"])
    visited_at: PastTime = Field(examples=["2026-11-20T10:00:00+08:00"])
    method: Literal["phone", "visit"] = Field(examples=["phone"], description="phone 电话回访; visit 上门回访")
    visited: Name = Field(examples=["王大明（患者之子）"], description="whom the visitor spoke to")
    performance: Literal["performed", "partly_performed", "not_performed"] = Field(examples=["performed"])
    satisfaction: Literal["satisfied", "basically_satisfied", "dissatisfied"] = Field(examples=["satisfied"])
    later_lawsuit: bool = False
    performance_detail: str | None = Field(default=None, max_length=2000)
    lawsuit_detail: str | None = Field(default=None, max_length=2000)




# ---------------------------------------------------------------- responses -------------------------
class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClockPolicyIn(Strict):
    """A committee's clock lengths (local rules differ; the defaults are DOMAIN.md's). A case keeps the lengths
    it was registered under."""

    consent_wd: int = Field(default=5, ge=1, le=60, description="the other side's answer (working days)")
    review_reminder_wd: int = Field(default=3, ge=1, le=60, description="acceptance review: remind the director")
    review_escalation_wd: int = Field(default=2, ge=1, le=60, description="then escalate after this many more")
    mediation_wd: int = Field(default=30, ge=1, le=120, description="Reg 38: the mediation period")
    signing_grace_wd: int = Field(
        default=1, ge=0, le=10, description="Reg 38, 39: when the period ends while signatures are collected, the "
        "case waits this many working days before it fails; signatures dated by the due date can still be recorded")
    appraisal_reminder_wd: int = Field(default=20, ge=1, le=120,
                                       description="an open appraisal: remind the mediator this often to record "
                                       "its status (working days)")
    warn_before_wd: list[Annotated[int, Field(ge=1, le=60)]] = Field(default=[5, 1], max_length=5)
    judicial_confirmation_days: int = Field(default=30, ge=1, le=60, description="PML 33: calendar days")
    judicial_reminder_days: int = Field(default=5, ge=0, le=30)
    case_file_retention_years: int = Field(default=30, ge=1, le=100,
                                           description="the case file's retention period, printed on its cover")
    agreement_seal_image: bool = Field(default=False, description="print a seal image on the effective agreement "
                                       "beside its digital seal (drafts never carry one)")
    payment_prompt_wd: int = Field(default=5, ge=1, le=60)
    followup_days: int = Field(default=30, ge=1, le=365)
    expert_answer_wd: int = Field(default=2, ge=1, le=30, description="an invited expert's answer (working days)")
    affiliation_lookback_years: int = Field(
        default=3, ge=0, le=30, description="Reg 37: a past affiliation with the respondent excludes for this long"
    )


class CommitteePublic(Out):
    id: str
    name: str
    short_name: str
    city: str
    policy: ClockPolicyIn = Field(default_factory=ClockPolicyIn, description="the clock lengths in force")


class DeadlinePublic(BaseModel):
    """A pending deadline of the case, as the case's workflow derived it (models/deadlines.py)."""

    kind: str = Field(examples=["deadline_expired"])
    label: str = Field(examples=["调解期限届满"])
    at: LocalTime = Field(description="when the timer fires: 24:00 Asia/Shanghai of the last day, or the start of a day")
    due_on: date = Field(description="the day the deadline names")
    provisional: bool = Field(description="counted through a year the working-day calendar does not know (its "
                              "statutory holidays skipped, its bridging and make-up days unknown)")
    recipient_role: str
    message: str


class PausePublic(BaseModel):
    started_on: date
    ended_on: date | None
    reason: str


class ExtensionPublic(BaseModel):
    days: int
    agreed_on: date


class MediationClockPublic(BaseModel):
    """Reg 38: 30 working days from acceptance, appraisal time excluded, extendable by agreement. A budget plus a
    ledger of pauses and extensions; the due date is derived from them and the working-day calendar."""

    started: bool
    accepted_on: date | None
    budget_wd: int = Field(description="the committee's policy (30 WD by default)")
    total_wd: int = Field(description="the budget plus every agreed extension")
    used_wd: int = Field(description="working days consumed by the end of today")
    remaining_wd: int = Field(description="working days left after today")
    due_date: date | None = Field(description="the last day of the period; none while paused")
    deadline_at: LocalTime | None = Field(description="24:00 Asia/Shanghai of the due date")
    paused: bool
    provisional: bool
    pauses: list[PausePublic]
    extensions: list[ExtensionPublic]


class ConsentPublic(BaseModel):
    """One side's consent on file (Reg 31¶1): who, how, when, and the transition that recorded it."""

    side: str
    consented_by: str
    method: str
    consented_at: LocalTime | None = None
    seq: int


class TermBalancePublic(BaseModel):
    """A term of the effective agreement and what is left of it (PML 31)."""

    term: int
    text: str
    amount: Decimal | None = Field(description="none: not a monetary term")
    paid: Decimal
    balance: Decimal | None
    performed: bool


class PaymentPublic(BaseModel):
    term: int
    amount: Decimal | None = None
    paid_on: date
    payer: str
    proof: str
    note: str | None = None
    seq: int


class DuplicatePublic(BaseModel):
    """An earlier case of the same patient, institution and treatment (reject reason 7). A case of another
    committee is named by its number only: its content is not yours to read (Reg 42)."""

    id: str | None = Field(description="none for another committee's case")
    number: str
    committee_id: str
    status: str
    status_label: str
    registered_at: LocalTime
    patient_name: str | None = None
    institution_name: str | None = None


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
    version: int = Field(description="the case's version (its last transition's number): send it as If-Match to "
                         "act on exactly this version; also the ETag of GET /cases/{id}")
    consents: list[ConsentPublic] = Field(default_factory=list, description="each side's consent on file")
    respondent_institution_id: str | None = Field(
        default=None, description="the respondent in the expert pool's registry (Reg 37); a consultation needs it")
    payments: list[PaymentPublic] = Field(default_factory=list, description="PML 31: performance recorded")
    balances: list[TermBalancePublic] = Field(default_factory=list, description="each term of the agreement and "
                                              "what is left of it")
    possible_duplicates: list[DuplicatePublic] = Field(
        default_factory=list, description="earlier cases of the same patient, institution and treatment: tick "
        "reason 7 on rejection if it is one")
    registered_at: LocalTime
    updated_at: LocalTime
    accepted_at: LocalTime | None
    closed_at: LocalTime | None
    archived_at: LocalTime | None
    allowed_events: list[str]
    mediation_clock: MediationClockPublic | None = Field(default=None, description="after acceptance")
    deadlines: list[DeadlinePublic] = Field(default_factory=list, description="pending deadlines, earliest first")
    provisional: bool = Field(default=False, description="some deadline is provisional (an unknown calendar year)")
    payment_overdue: bool = False
    effective_on: date | None = Field(default=None, description="the agreement took effect (Reg 39)")


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
    due_date: date | None = None
    due_provisional: bool = False
    payment_overdue: bool = False


class CaseListFilters(BaseModel):
    """The case list's filters (GET /cases); every one given must hold. Days are days in Asia/Shanghai, both ends
    included."""

    status: Literal[STATES[1:]] | None = None  # type: ignore[valid-type]
    committee_id: str | None = Field(default=None, max_length=64)
    registered_from: date | None = None
    registered_to: date | None = None
    due_from: date | None = Field(default=None, description="the mediation period ends on or after this day (Reg 38)")
    due_to: date | None = Field(default=None, description="the mediation period ends on or before this day")
    mediator_id: str | None = Field(default=None, max_length=100, description="assigned to this mediator's account")
    party: str | None = Field(
        default=None, max_length=100, examples=["王芳"],
        description="a party's name (the patient, an heir or representative, the institution, an insurer), or its "
        "beginning: 王 finds 王芳 and 王小明; spaces and full-width letters do not matter. Read from an index, "
        "however short the name")
    party_match: Literal["prefix", "exact"] = Field(
        default="prefix", description="exact: the whole name only (王芳, not 王芳芳)")
    q: str | None = Field(default=None, max_length=100, description="text anywhere in the number, the names, the "
                          "facts or the requests: reads every case in reach; for a name, `party` is much faster")


class CasesPublic(Page[CaseSummary]):
    """A page of the case list, newest first."""


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
    """A document of a case. An action answers as soon as it is recorded, with the ids of the documents it issues:
    each is `pending` while it is rendered and sealed apart (its number, SHA-256 and size come with it), then
    `issued`, or `failed` with the reason. `attempts` and `error` show a rendering being retried."""

    id: str
    case_id: str
    kind: str
    lang: str
    source_seq: int
    status: Literal["pending", "issued", "failed"] = "issued"
    version: int | None = None
    number: str | None = None
    title: str | None = None
    sha256: str | None = None
    size: int | None = None
    media_type: str = "application/pdf"
    superseded: bool = False
    created_at: LocalTime | None = None
    requested_at: LocalTime | None = None
    attempts: int = 0
    error: str | None = None


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
    panel_id: str | None = Field(default=None, description="request_consultation: the expert panel it opened")
    version: int = Field(description="the case's version after the action (If-Match for the next one)")
    repeated: bool = Field(default=False, description="the answer given to the same request before: nothing "
                           "changed this time (Idempotency-Key, or the same self-loop action sent twice at once)")


# ---------------------------------------------------------------- working-day calendar --------------
class YearTableIn(Strict):
    """A year's public holidays and make-up working days (调休), as the State Council publishes them."""

    holidays: list[Day] = Field(
        max_length=366, description="days off that would otherwise be working days (and holiday weekends)",
        examples=[["2027-01-01", "2027-02-06", "2027-02-07", "2027-02-08"]],
    )
    workdays: list[Day] = Field(
        default_factory=list, max_length=366, description="make-up working days, usually weekends (调休)",
        examples=[["2027-02-20"]],
    )
    names: dict[str, Annotated[str, Field(max_length=50)]] = Field(
        default_factory=dict, description="optional names of days, by ISO date", examples=[{"2027-01-01": "元旦"}]
    )


class CalendarYearPublic(BaseModel):
    year: int
    layer: Literal["table", "chinesecalendar", "provisional"] = Field(
        description="who answers for the year: a loaded table, the chinesecalendar package, or (provisional) "
        "Monday to Friday without the public holidays the law fixes by date"
    )
    provisional: bool
    loaded_at: LocalTime | None = None
    loaded_by: str | None = None
    holidays: list[date] = Field(default_factory=list, description="of a loaded table")
    workdays: list[date] = Field(default_factory=list, description="of a loaded table")


class CalendarLoadReport(BaseModel):
    """What loading a year did: the table is stored, every open case's deadlines are recomputed in one batch from
    the clocks its row keeps, and the workflows whose next timer moved are told (`calendar_loaded`). Every open
    case is either recomputed or left to its workflow (`recomputed + left_to_workflows == open_cases`), and every
    workflow told was told, had ended or failed (`signalled + not_running + len(failed) == woken +
    left_to_workflows`)."""

    year: CalendarYearPublic
    replaced: bool = Field(description="a table for the year was loaded before")
    open_cases: int
    recomputed: int = Field(description="open cases whose deadlines were recomputed in the batch, from the "
                            "clocks their row keeps")
    rewritten: int = Field(description="of those, the cases whose deadlines changed: their row was rewritten")
    woken: int = Field(description="of those, the cases whose earliest pending timer moved: their workflow is "
                       "told, so that it sleeps until the new one (the others refresh their calendar when they wake)")
    left_to_workflows: int = Field(description="open cases whose workflow is told to recompute them itself: "
                                   "rows written before they kept the clocks, or changed while the batch ran")
    signalled: int = Field(description="workflows told (woken or left to their workflow)")
    not_running: int = Field(description="cases whose workflow has ended")
    failed: list[str] = Field(description="cases whose workflow could not be told (repeat the load to retry them)")


class WorkingDayPublic(BaseModel):
    day: date
    working: bool = Field(description="a working day (工作日), make-up days included, public holidays excluded")
    provisional: bool = Field(description="the year is unknown to the calendar: answered Monday to Friday without "
                              "the statutory holidays")
    layer: Literal["table", "chinesecalendar", "provisional"]
    name: str | None = None


class WorkingDaysLaterPublic(BaseModel):
    start: date
    working_days: int
    last_day: date = Field(description="the working_days-th working day after start (start does not count)")
    ends_at: LocalTime = Field(description="24:00 Asia/Shanghai of that day, when a period of that length ends")
    provisional: bool
    unknown_years: list[int] = Field(description="years on the way that the calendar does not know")


class ProvisionalCase(CaseSummary):
    deadlines: list[DeadlinePublic]


class ProvisionalCasesPublic(Page[ProvisionalCase]):
    """Open cases with a deadline in a year the calendar does not know, earliest due date first: load that year to
    make them firm."""

    unknown_years: list[int]


# ---------------------------------------------------------------- notifications (outbox) ------------
class NotificationPublic(Out):
    id: str
    case_id: str
    kind: str
    recipient_role: str
    recipients: list[str]
    message: str
    due_on: date | None
    created_at: LocalTime
    channel: str
    delivered_at: LocalTime | None


class NotificationsPublic(Page[NotificationPublic]):
    """A page of the outbox, newest first."""
