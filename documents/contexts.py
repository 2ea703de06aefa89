"""What a document needs to be rendered: plain dataclasses, no database, no workflow.

A context is built by the activity that renders the document (workflows/activities.py)
from the case projection, and is also attached to the PDF as JSON, so an auditor can
compare the printed text with the data it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class PartyBlock:
    """One party as printed on a document (患方 or 医方)."""

    side: str  # "patient" or "institution"
    name: str
    id_number: str | None = None  # patient's identity number, printed in full on the agreement
    phone: str | None = None
    address: str | None = None
    legal_representative: str | None = None  # institution only (法定代表人)
    agents: tuple[str, ...] = ()  # "张三（患者之子，委托代理人）" — printed one per line
    relation: str | None = None  # for the patient side when a relative applies, e.g. "患者之女"
    sex: str | None = None  # 男 / 女 (PML 29: the parties' basic information)
    age: int | None = None  # full years on the document's date
    heir: bool = False  # a close relative of a deceased patient, party in their own right (Civil Code 173)


@dataclass(frozen=True)
class DeceasedPatient:
    """The patient who died: named as 患者（已故）, never as a party; the heirs are the patient side."""

    name: str
    sex: str | None = None
    age: int | None = None  # at death when known, else at the document's date
    id_number: str | None = None


@dataclass(frozen=True)
class Term:
    """One agreed term (协议内容): what is done, how and by when."""

    text: str  # free text of the term, e.g. "医方一次性向患方支付赔偿款"
    amount: Decimal | None = None  # yuan, two decimals
    payer: str | None = None  # who pays (may be an insurer, not the respondent)
    manner: str | None = None  # 履行方式, e.g. "银行转账"
    deadline: date | None = None  # 履行期限 as a date
    deadline_text: str | None = None  # 履行期限 as agreed, e.g. "协议生效之日起10个工作日内"
    # on the effective agreement: the date a deadline counted from the effective date resolves to (the same
    # date as the case's own payment deadline); None on a draft, whose effective date is not known yet
    resolved_deadline: date | None = None
    resolved_provisional: bool = False  # counted through a year the working-day calendar does not know yet


@dataclass(frozen=True)
class SignatureBlock:
    """A line for a signature or seal; `signed_by`/`signed_at` are filled once recorded."""

    role: str  # "patient", "institution", "insurer", "mediator", "committee_seal"
    label: str  # what is printed before the line, e.g. "患方（签名或捺印）"
    signed_by: str | None = None
    signed_at: datetime | None = None
    name: str | None = None  # whom the line is for, printed under it: an heir, a mediator, the insurer


SIGNATURE_METHODS = {"signature": "签名", "seal": "盖章", "fingerprint": "捺印"}


@dataclass(frozen=True)
class SignatureAct:
    """One of the four acts of Reg 39 as recorded: who, for whom, in what capacity, how and when."""

    role: str  # "patient", "institution", "mediator", "committee_seal"
    for_whom: str  # 患方 / 医方 / 人民调解员 / 人民调解委员会
    signed_by: str
    capacity: str  # e.g. "患者之子（继承人）", "法定代表人", "人民调解员", "主任"
    method: str  # a key of SIGNATURE_METHODS
    signed_at: datetime


@dataclass(frozen=True)
class AgreementContext:
    """Everything printed on a 人民调解协议书 (PML 29, Reg 39).

    Issued twice (shared/DOMAIN.md rev 2): each draft (`document_number` None) is marked 草稿（未生效） and
    numbered by its draft number only; the effective agreement, issued when the fourth act is recorded, is the
    same text with the agreement number, the effective date, each term's resolved deadline and the record of
    the four acts. Only the effective one is sealed with the committee's certificate."""

    committee_name: str  # e.g. "上海市黄浦区医疗纠纷人民调解委员会"
    case_number: str  # the committee's number for the case, e.g. "〔2026〕沪黄医调字第12号"
    document_number: str | None  # the agreement's number, e.g. "〔2026〕沪黄医调协字第7号"; None on a draft
    version: int  # the draft number: 1 for the first draft, 2 after a revision ...
    parties: tuple[PartyBlock, ...]  # the patient side (the patient, or each heir), then the institution
    facts: str  # 纠纷的主要事实
    points_in_dispute: str  # 争议事项
    responsibilities: str  # 各方当事人的责任
    terms: tuple[Term, ...]
    total_amount: Decimal  # sum of the terms' amounts, yuan
    mediators: tuple[str, ...]
    signatures: tuple[SignatureBlock, ...]  # one line per signer
    drafted_at: datetime  # Asia/Shanghai
    copies: int = 3  # one per party plus one for the committee
    extra: dict[str, str] = field(default_factory=dict)
    deceased: DeceasedPatient | None = None
    effective_on: date | None = None  # the day of the last of the four acts (effective version only)
    signature_record: tuple[SignatureAct, ...] = ()  # the four acts (effective version only)
    visible_seal: bool = False  # the committee's policy: print a seal image beside the digital seal

    def __post_init__(self) -> None:
        if self.effective:
            if self.effective_on is None or len({a.role for a in self.signature_record}) < 4:
                raise ValueError("an effective agreement has its effective date and the record of the four acts")
        elif self.effective_on is not None or self.signature_record:
            raise ValueError("a draft has no effective date and no signature record")

    @property
    def effective(self) -> bool:
        return self.document_number is not None

    @property
    def committee_copies(self) -> int:
        """What the committee keeps: the copies left once each party has one (at least one, PML 29)."""
        return max(self.copies - len(self.parties), 1)


# --- Notices and records (受理、不予受理、调解不成、终止调解、回访) -----------------------------------
#
# Every notice carries the same head (committee, case and document numbers, when it was issued, the
# parties) and foot (the committee's seal). Fixed legal text (the parties' rights and duties, the other
# routes, "free of charge") lives in the templates, once per language, like the agreement's clauses;
# what varies per case is here. Texts of the lifecycle's lists (reject reasons, termination grounds)
# are passed in Chinese with their key, so the English template can translate them by key.


@dataclass(frozen=True)
class SealBlock:
    """The committee's seal at the foot of a notice: the committee's name over the date."""

    committee_name: str  # the name the seal bears
    sealed_on: date | None = None  # the date printed under the seal; a blank date to fill in when None


@dataclass(frozen=True)
class NoticeContext:
    """The head and foot shared by the notices: who issues it, for which case, to whom, and the seal.

    Only a party's side, name, relation and agents are printed on a notice; whoever builds the context
    leaves the identity number, phone and address empty (the context is attached to the PDF as JSON).
    """

    committee_name: str  # e.g. "上海市黄浦区医疗纠纷人民调解委员会"
    case_number: str  # e.g. "〔2026〕沪黄医调字第12号"
    document_number: str  # the notice's own number, e.g. "〔2026〕沪黄医调受字第12号"
    issued_at: datetime  # printed in Asia/Shanghai; also the PDF's creation date
    parties: tuple[PartyBlock, ...]  # the patient side, then the institution
    seal: SealBlock


@dataclass(frozen=True)
class AcceptanceNoticeContext(NoticeContext):
    """受理通知书: the case is accepted and the mediation clock starts (Reg 38; PML 23, 24; Reg 32, PML 4)."""

    accepted_on: date
    deadline: date  # the mediation's due date, derived from the clock
    mediators: tuple[str, ...]  # one to three
    working_days: int = 30  # the mediation clock's length (Reg 38; a committee policy)
    # The due date reaches a year whose holidays are not known yet: it was counted Monday to Friday
    # without the statutory holidays (domain/holidays.py), and is printed with （暂定）.
    deadline_provisional: bool = False


@dataclass(frozen=True)
class RejectReason:
    """One of the eight listed reasons for not accepting (MOJ 2002 Rules art 22, Reg 31¶4)."""

    number: int  # 1–8, as in domain.lifecycle.REJECT_REASONS
    text: str  # the listed text (Chinese)
    ticked: bool = False
    detail: str | None = None  # reason 8 ("other"): the reason in words


@dataclass(frozen=True)
class RejectionNoticeContext(NoticeContext):
    """不予受理通知书: all eight reasons printed, the chosen ones ticked; the other routes (Reg 22)."""

    decided_on: date
    reasons: tuple[RejectReason, ...]  # all eight, in order
    applied_on: date | None = None  # when the application was made

    def __post_init__(self) -> None:
        if not any(reason.ticked for reason in self.reasons):
            raise ValueError("a rejection notice needs at least one ticked reason")
        if any(r.number == 8 and r.ticked and not (r.detail or "").strip() for r in self.reasons):
            raise ValueError("reason 8 (other) needs the reason in words")


FAILURE_CAUSES = ("declared", "deadline_expired")  # PML 26 / Reg 38


@dataclass(frozen=True)
class FailureNoticeContext(NoticeContext):
    """调解不成告知书: the mediator declared failure (PML 26) or the deadline expired (Reg 38)."""

    cause: str  # one of FAILURE_CAUSES
    failed_on: date
    accepted_on: date | None = None
    deadline: date | None = None  # the mediation's due date (the one that expired, for "deadline_expired")
    deadline_provisional: bool = False  # printed with （暂定）: counted through a year the calendar did not know
    declared_by: str | None = None  # the mediator who declared failure
    declaration: str | None = None  # the mediator's words: why mediation failed
    mediators: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.cause not in FAILURE_CAUSES:
            raise ValueError(f"cause must be one of {FAILURE_CAUSES}, not {self.cause!r}")


@dataclass(frozen=True)
class TerminationNoticeContext(NoticeContext):
    """终止调解告知书: a ground (PML 23(2), Reg 31¶4, PML 25) with its detail, the other routes."""

    ground: str  # a key of domain.lifecycle.TERMINATION_GROUNDS, e.g. "party_withdrew"
    ground_text: str  # its text (Chinese), e.g. "当事人撤回申请或明确拒绝继续调解（…）"
    detail: str  # what happened, in words
    terminated_on: date
    accepted_on: date | None = None  # None when mediation ends before acceptance
    mediators: tuple[str, ...] = ()
    # party_withdrew: which side withdrew, who, and how (a written statement, or orally: recorded and signed)
    withdrawn_by_side: str | None = None  # "patient" / "institution"
    withdrawn_by: str | None = None
    withdrawal_form: str | None = None  # "written" / "oral"
    withdrawn_on: date | None = None
    # court_accepted / health_department_accepted: the body, its case number and the day it accepted
    body: str | None = None
    body_case_number: str | None = None
    body_accepted_on: date | None = None


@dataclass(frozen=True)
class Attendee:
    """A person at a mediation session and in what capacity, e.g. 王大明, "患方当事人（患者之子）"."""

    name: str
    capacity: str = ""


@dataclass(frozen=True)
class MinutesStatement:
    speaker: str
    text: str


@dataclass(frozen=True)
class SessionMinutesContext(NoticeContext):
    """调解笔录 of one session (shared/DOMAIN.md "Documents"): time, place, mediators, attendees with their capacity,
    recorder, statements. Every page carries the line on which the attendees, mediators and recorder sign."""

    session_number: int  # the session's place among the case's sessions: 第N次调解
    held_at: datetime
    place: str
    mediators: tuple[str, ...]
    recorder: str
    attendees: tuple[Attendee, ...]
    statements: tuple[MinutesStatement, ...]
    summary: str = ""


FOLLOWUP_METHODS = ("phone", "visit")  # 电话回访, 上门回访
PERFORMANCE_STATUSES = ("performed", "partly_performed", "not_performed")  # 已履行完毕, 部分履行, 未履行
SATISFACTION_LEVELS = ("satisfied", "basically_satisfied", "dissatisfied")  # 满意, 基本满意, 不满意


@dataclass(frozen=True)
class FollowupRecordContext(NoticeContext):
    """回访记录: the mediator's follow-up visit after performance (local people's-mediation rules)."""

    visitor: str  # the mediator who visited
    visited_at: datetime
    method: str  # one of FOLLOWUP_METHODS
    visited: str  # whom the visitor spoke to, e.g. "患方张三（患者之子）"
    performance: str  # one of PERFORMANCE_STATUSES
    satisfaction: str  # one of SATISFACTION_LEVELS
    later_lawsuit: bool  # a party sued over the dispute after the agreement
    visitor_signature: SignatureBlock  # role "visitor", e.g. label "回访人（签名）"
    agreement_number: str | None = None  # the agreement followed up, e.g. "〔2026〕沪黄医调协字第7号"
    performance_detail: str | None = None
    lawsuit_detail: str | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        for name, allowed in (
            ("method", FOLLOWUP_METHODS),
            ("performance", PERFORMANCE_STATUSES),
            ("satisfaction", SATISFACTION_LEVELS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")


# --- 专家咨询意见书 (Reg 33) -----------------------------------------------------------------------------
#
# The opinion is shared with both parties: it names the patient by surname only (王某), never with an
# identity number, phone or address, and the experts by name and title. An expert's part voided after a
# conflict was found (Reg 37) stays on every later version of the opinion, marked void with its reason.
# Specialties are passed as code plus Chinese label (domain/specialties.py), so the English template can
# translate them by code.


@dataclass(frozen=True)
class PanelMember:
    """One slot of the panel: the specialty asked for and the expert who accepted it."""

    slot: int
    specialty: str  # a code of domain.specialties, e.g. "obstetrics"
    specialty_label: str  # its Chinese label, e.g. "产科"
    name: str
    title: str = ""  # 主任医师, 教授, 律师 ...


@dataclass(frozen=True)
class OpinionPart:
    """One expert's findings (Reg 33): fault, causation and the degree of liability as a percentage."""

    slot: int
    specialty: str
    specialty_label: str
    expert_name: str
    expert_title: str
    fault: str  # 过错, e.g. "医方在产程观察中存在过错"
    causation: str  # 因果关系, e.g. "过错与损害后果之间存在因果关系"
    liability_percent: int  # 责任程度, 0–100
    text: str = ""  # the expert's reasoning, free text
    submitted_on: date | None = None
    void: bool = False  # voided after a conflict was found: still printed, marked void (作废)
    void_reason: str = ""

    def __post_init__(self) -> None:
        percent = self.liability_percent
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise ValueError(f"liability_percent must be an integer from 0 to 100, not {percent!r}")
        if self.void and not self.void_reason.strip():
            raise ValueError("a void part needs the reason it was voided")
        if not self.void and self.void_reason:
            raise ValueError("only a void part has a void reason")


@dataclass(frozen=True)
class Meeting:
    """The panel's meeting (会诊), when the experts met rather than answered in writing."""

    held_at: datetime | None = None  # printed in Asia/Shanghai
    place: str = ""


@dataclass(frozen=True)
class ExpertOpinionContext(NoticeContext):
    """专家咨询意见书 (Reg 33): the panel, the material reviewed and each expert's findings; it does not bind
    the parties. Version 2 and later replace the earlier versions (after an expert's part was voided).

    `parties` holds the patient as surname + 某 and the institution, both without agents or contact details.
    """

    version: int  # 1, then 2 after a part was voided and the slot redrawn ...
    question: str  # the question put to the panel (咨询事项)
    material: tuple[str, ...]  # the material reviewed (审阅材料)
    panel: tuple[PanelMember, ...]  # one per slot, in slot order
    parts: tuple[OpinionPart, ...]  # the findings, void ones included, in slot order
    meeting: Meeting | None = None

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("versions are counted from 1")
        for party in self.parties:
            if party.id_number or party.phone or party.address or party.agents:
                raise ValueError("an expert opinion names the parties only: no id, phone, address or agent")
        patients = [party.name for party in self.parties if party.side == "patient"]
        if any(not name.endswith("某") for name in patients):
            raise ValueError("an expert opinion names the patient by surname only, e.g. 王某")


@dataclass(frozen=True)
class FiledDocument:
    """One document bound into the case file: printed in the index, attached byte for byte."""

    file: str  # the attachment's name inside the case file
    document_id: str
    number: str
    title: str
    lang: str
    version: int
    created_at: datetime
    sha256: str
    size: int
    superseded: bool


@dataclass(frozen=True)
class FiledAttachment:
    """A file a party brought, bound into the case file byte for byte (docs/attachments.md): printed in its own
    part with its SHA-256, withdrawn ones marked (they are kept)."""

    file: str  # the attachment's name inside the case file (ASCII, unique)
    attachment_id: str
    kind: str
    kind_label: str
    party_label: str
    filename: str  # the name it was uploaded with
    media_type: str
    size: int
    sha256: str
    received_on: date
    uploaded_at: datetime
    uploaded_by: str
    description: str = ""
    event_label: str = ""  # the event whose record it documents
    withdrawn: bool = False
    withdrawn_note: str = ""  # who withdrew it, when, why


@dataclass(frozen=True)
class FiledTransition:
    seq: int
    at: datetime
    event: str
    from_label: str
    to_label: str
    actor: str  # name (role)
    label: str = ""  # the event in Chinese (domain/labels.py)
    details: tuple[tuple[str, str], ...] = ()  # what was recorded with it, in Chinese


@dataclass(frozen=True)
class FiledRecord:
    """A record the case holds as data (a consent, a payment, an appraisal...), printed in the file."""

    title: str
    at: datetime | None
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FileSection:
    """One part of the 卷宗 in the order of PML 27: its records, and the documents attached for it."""

    key: str  # "application", "consents", "decision", "minutes", "appraisal", "opinions", "agreements",
    #           "performance", "notices", "followup"
    title: str
    records: tuple[FiledRecord, ...]
    documents: tuple[str, ...]  # the file names (FiledDocument.file) of its documents


@dataclass(frozen=True)
class FiledAuditEntry:
    id: int
    at: datetime
    actor: str  # name (role)
    action: str
    status_code: int | None
    hash: str


@dataclass(frozen=True)
class CaseFileContext:
    """卷宗 (PML 27): cover, index, the transition history and the audit entries of an archived case. The
    documents themselves are attached unchanged, sealed as they were issued; a manifest lists their hashes."""

    committee_name: str
    file_number: str  # the case number
    case_id: str
    patient_name: str
    institution_name: str
    mediators: tuple[str, ...]
    outcome: str  # the state the case closed in, as users see it
    registered_at: datetime
    accepted_at: datetime | None
    closed_on: date | None  # the day it closed (a deadline that ran out: its last day)
    archived_at: datetime
    retention_years: int
    documents: tuple[FiledDocument, ...]
    transitions: tuple[FiledTransition, ...]
    audit_entries: tuple[FiledAuditEntry, ...]
    audit_head_hash: str  # the trail's hash at the last entry bound here
    sections: tuple[FileSection, ...] = ()  # PML 27, in order; the history and the audit entries follow
    attachments: tuple[FiledAttachment, ...] = ()  # the files the parties brought, attached byte for byte

    @property
    def issued_at(self) -> datetime:  # the PDF's creation date
        return self.archived_at


# --- The statistics report (月度统计报表, issue 17) ------------------------------------------------------
#
# Not a case document: it is made on request from GET /statistics's figures (models/schemas_statistics.py) by
# documents/statistics_report.py, in the language asked for (its headers and labels are already in it), and
# attached to its PDF as JSON like every document's data. Charts are data here; the template draws them as SVG
# (documents/charts.py).

FigureValue = int | float | Decimal | None


@dataclass(frozen=True)
class FigureRow:
    """One group's figures (a month, a committee, an institution ...), or the total."""

    label: str
    values: tuple[FigureValue, ...]  # in the order of the table's columns
    total: bool = False


@dataclass(frozen=True)
class ComparisonRow:
    """One figure of the period beside the year to date (本年累计), the same period a year earlier (上年同期) and the
    change (同比): relative (`rate`) for counts and amounts, in points (`points`) for rates."""

    label: str
    kind: str  # how the three values print: count, rate, amount
    now: FigureValue
    year_to_date: FigureValue
    before: FigureValue
    change: float | None
    change_shown: str  # as printed: +12.5%, −2.1个百分点, — when a year earlier counted none


@dataclass(frozen=True)
class ComparisonTable:
    title: str
    headers: tuple[str, ...]  # 指标, 本期, 本年累计, 上年同期, 同比
    rows: tuple[ComparisonRow, ...]
    before_period: str  # the earlier period in words


@dataclass(frozen=True)
class FigureTable:
    """One of the report's tables: outcomes, durations, activity, amounts."""

    name: str
    title: str
    label_header: str  # what the rows are: 月份, 医疗机构 ... (合计 for a table of the total alone)
    headers: tuple[str, ...]
    kinds: tuple[str, ...]  # per column: count, rate, amount (yuan), days (working days)
    rows: tuple[FigureRow, ...]


@dataclass(frozen=True)
class ChartSeries:
    name: str
    values: tuple[float | None, ...]  # one per label of the chart


@dataclass(frozen=True)
class ChartData:
    """What a chart shows: `kind` bar (vertical bars per label), hbar (horizontal) or donut (each series one
    slice of its one value)."""

    name: str  # months, outcomes, durations, institutions, departments
    kind: str
    title: str
    labels: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    unit: str = ""  # what the values count, printed under the chart: 件, 工作日


@dataclass(frozen=True)
class StatisticsReportContext:
    """月度统计报表: the figures of a period in the caller's reach (one committee, a city, every committee)."""

    issuer: str  # the committee's name; for several committees, the scope as printed (上海市 …)
    scope: str  # what the figures cover, in words: the committee, the city and its committees, all committees
    period_from: date
    period_to: date  # included
    period: str  # as printed: 2026年3月, or from … to …
    group_by: str  # none, month, committee, institution, department, kind
    issued_at: datetime  # when it was made (the PDF's creation date)
    summary: tuple[FigureTable, ...]  # every figure of the total, table by table
    tables: tuple[FigureTable, ...]  # per group (when grouped): the main figures, one row per group, then the total
    charts: tuple[ChartData, ...]
    notes: tuple[str, ...] = ()  # how the figures are counted
    as_of: datetime | None = None  # when the figures were read (every figure is as of the period's end)
    compiled_by: str = ""  # 填报人, 审核人, 单位负责人: the names given, or a blank line to sign
    reviewed_by: str = ""
    head: str = ""
    units: str = ""  # 单位：件；金额：元；时长：工作日, printed above the tables
    committees: tuple[str, ...] = ()  # the committees counted, by name, when there are several
    comparison: ComparisonTable | None = None  # 本年累计, 上年同期, 同比 of the main figures

    @property
    def monthly(self) -> bool:
        return is_calendar_month(self.period_from, self.period_to)

    @property
    def period_kind(self) -> str:
        return period_kind(self.period_from, self.period_to)


def period_kind(start: date, end: date) -> str:
    """month, quarter or year for a calendar one (the title: 月度/季度/年度统计报表), else custom."""
    if is_calendar_month(start, end):
        return "month"
    whole_months = start.day == 1 and is_calendar_month(end.replace(day=1), end)
    if whole_months and start.year == end.year:
        if (start.month, end.month) == (1, 12):
            return "year"
        if start.month % 3 == 1 and end.month == start.month + 2:
            return "quarter"
    return "custom"


def is_calendar_month(start: date, end: date) -> bool:
    """From the first to the last day of one month."""
    following = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    return start.day == 1 and (start.year, start.month) == (end.year, end.month) and (following - end).days == 1
