"""The payloads of the staff's requests: what an event carries into the workflow and what it records.

Amounts are decimals (serialised as strings, never floats). Times are ISO 8601; a time given without an
offset is taken as Asia/Shanghai, and every time returned is in Asia/Shanghai (+08:00).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

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

from domain.lifecycle import ABANDON_REASONS, REJECT_REASONS, REQUIRED_SIGNERS, TERMINATION_GROUNDS
from domain.parties import representatives_refused
from domain.specialties import SPECIALTIES
from domain.taxonomy import DEPARTMENTS, DISPUTE_KINDS, HARMS, INSTITUTION_LEVELS, UNKNOWN
from domain.time import SHANGHAI

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
    acts_for: list[Name] = Field(default_factory=list, max_length=5, examples=[["王大明"]], description="for an agent "
                                 "of a deceased patient's heirs: the heirs (by name, each a representative with role "
                                 "relative) whose authorisation it holds")


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


def _codes(vocabulary: dict[str, str]) -> str:
    return "; ".join(f"{code} {label}" for code, label in vocabulary.items())


# What the reports group cases by (domain/taxonomy.py): a code of each vocabulary, `unknown` when not known yet.
DepartmentCode = Literal[tuple(DEPARTMENTS)]  # type: ignore[valid-type]
DisputeKind = Literal[tuple(DISPUTE_KINDS)]  # type: ignore[valid-type]
InstitutionLevel = Literal[tuple(INSTITUTION_LEVELS)]  # type: ignore[valid-type]
Harm = Literal[tuple(HARMS)]  # type: ignore[valid-type]


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
    # What the reports group by (issue 17, docs/statistics.md)
    department: DepartmentCode = Field(  # type: ignore[valid-type]
        default=UNKNOWN, examples=["obstetrics"],
        description="the clinical department (科室) the dispute arose in, a code of the pool's clinical vocabulary: "
        + _codes(DEPARTMENTS))
    dispute_kind: DisputeKind = Field(  # type: ignore[valid-type]
        default=UNKNOWN, examples=["diagnosis_treatment"], description="the kind of dispute: " + _codes(DISPUTE_KINDS))
    institution_level: InstitutionLevel = Field(  # type: ignore[valid-type]
        default=UNKNOWN, examples=["secondary"],
        description="the respondent institution's grade (医院等级): " + _codes(INSTITUTION_LEVELS))
    harm: Harm = Field(  # type: ignore[valid-type]
        default=UNKNOWN, examples=["other_harm"],
        description="the harm the patient side states (损害后果): " + _codes(HARMS))

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
        refused = representatives_refused(
            deceased=self.patient.deceased, minor_or_incapacitated=self.patient.minor_or_incapacitated,
            representatives=[rep.model_dump() for rep in self.patient_representatives])
        if refused:
            raise ValueError(refused)
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
    """The other side clearly refused (PML 17): who, how and when (the case file holds each refusal, PML 27)."""

    refused_by: Name
    method: Literal["written", "oral", "silence"] = Field(
        default="written", description="silence counts only once the consent deadline has passed (PML 17); the "
        "case is then rejected by itself")
    refused_at: PastTime | None = Field(default=None, description="when it was given (the letter's date, the call); "
                                        "none: when it is recorded")


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


class ReassignMediators(Accept):
    """The director assigns the case's mediators anew after acceptance: one to three, as at acceptance. The
    accounts named reach the case from now on; an account no longer named no longer does."""

    reason: str = Field(min_length=1, max_length=2000, examples=["陈调解员休假，改由周调解员主持调解"],
                        description="why the mediators change")


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


class RescheduleSession(Note):
    """Move a session still scheduled (no minutes, not cancelled) to another time, and perhaps another place."""

    session_id: str = Field(min_length=1, max_length=64, description="the session (schedule-session's session_id)")
    scheduled_at: LocalTime = Field(examples=["2026-11-27T14:00:00+08:00"], description="its new time")
    place: Name | None = Field(default=None, examples=["黄浦区医调委第二调解室"],
                               description="its new place; none: the place stays")
    reason: str = Field(min_length=1, max_length=2000, examples=["患方代理人出庭，申请改期"],
                        description="why it is moved")


class CancelSession(Note):
    """Cancel a session still scheduled (no minutes, not cancelled): it is no longer open."""

    session_id: str = Field(min_length=1, max_length=64, description="the session (schedule-session's session_id)")
    reason: str = Field(min_length=1, max_length=2000, examples=["医方代理人无法到场，调解会取消"],
                        description="why it is cancelled")


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


def _distinct(ids: list[str] | None) -> list[str] | None:
    if ids is not None and len(set(ids)) != len(ids):
        raise ValueError("name each attachment once")
    return ids


# The files (POST /cases/{id}/attachments) that document an event: a payment's proof, the signed paper agreement,
# the appraisal's report (domain/attachments.py says which kinds each event takes). Checked before the action.
AttachmentIds = Annotated[
    Annotated[list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]],
              Field(max_length=20)] | None,
    AfterValidator(_distinct),
    Field(default=None, description="attachments of the case that document this act (their ids)"),
]


class Sign(Strict):
    signer: Signer = Field(description="patient side, institution, mediator, or committee_seal (director)")
    signed_by: Name = Field(examples=["王大明"])
    method: Literal["signature", "seal", "fingerprint"] = "signature"
    signed_at: PastTime | None = None
    for_heir: Name | None = Field(default=None, examples=["王大明"], description="when the patient has died and an "
                                  "heir's authorised agent (a representative with role agent and an authorisation) "
                                  "signs for the patient side: the heir it signs for (Civil Code 173)")
    capacity: str | None = Field(default=None, max_length=100, examples=["患者之子（继承人）"],
                                 description="in what capacity: printed in the effective agreement's signature "
                                 "record; none: what the registration says of the signer")
    attachment_ids: AttachmentIds = None  # signed_paper: the paper agreement as signed, scanned


class RecordPayment(Note):
    """One payment, or one act of performance, against one term of the effective agreement (PML 31)."""

    term: int = Field(ge=1, le=50, examples=[1], description="the term's number in the agreement (1, 2, ...)")
    amount: Yuan | None = Field(default=None, examples=["86500.50"],
                                description="for a monetary term: at most its balance; none for another term")
    paid_on: PastDay = Field(examples=["2026-12-10"], description="the day it was paid or performed")
    payer: Name = Field(examples=["某财产保险股份有限公司上海分公司"], description="who paid: may be an insurer")
    proof: str = Field(min_length=1, max_length=300, examples=["银行转账回单 No. 2026121000001"])
    attachment_ids: AttachmentIds = None  # payment_proof: the receipt, the bank's slip


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


class AmendParties(Strict):
    """The patient side's representatives as they now stand, replacing those registered: an heir who came
    forward, an agent authorised since, a guardian appointed, a relation or a phone number corrected. Held to the
    registration's rules (Civil Code 173); the reason is kept in the case's history. Until the agreement is
    drafted: its draft names the parties who sign."""

    patient_representatives: list[Representative] = Field(default_factory=list, max_length=5)
    reason: str = Field(min_length=1, max_length=500, examples=["患者之女王二明到会，补充登记为继承人"])

    @model_validator(mode="after")
    def _each_lawful(self) -> AmendParties:
        """What holds whoever the patient is (an agent's authorisation, acts_for only for an agent); what depends
        on the patient (a deceased patient's heirs, a minor's guardian) is the lifecycle's rule."""
        refused = representatives_refused(deceased=False, minor_or_incapacitated=False,
                                          representatives=[rep.model_dump() for rep in self.patient_representatives])
        if refused:
            raise ValueError(refused)
        return self


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
    attachment_ids: AttachmentIds = None  # appraisal_report: the appraisal opinion as received


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
