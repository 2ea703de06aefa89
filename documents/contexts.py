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


@dataclass(frozen=True)
class Term:
    """One agreed term (协议内容): what is done, how and by when."""

    text: str  # free text of the term, e.g. "医方一次性向患方支付赔偿款"
    amount: Decimal | None = None  # yuan, two decimals
    payer: str | None = None  # who pays (may be an insurer, not the respondent)
    manner: str | None = None  # 履行方式, e.g. "银行转账"
    deadline: date | None = None  # 履行期限 as a date
    deadline_text: str | None = None  # 履行期限 as agreed, e.g. "协议生效之日起10个工作日内"


@dataclass(frozen=True)
class SignatureBlock:
    """A line for a signature or seal; `signed_by`/`signed_at` are filled once recorded."""

    role: str  # "patient", "institution", "mediator", "committee_seal"
    label: str  # what is printed before the line, e.g. "患方（签名或捺印）"
    signed_by: str | None = None
    signed_at: datetime | None = None


@dataclass(frozen=True)
class AgreementContext:
    """Everything printed on a 人民调解协议书 (PML 29, Reg 39)."""

    committee_name: str  # e.g. "上海市黄浦区医疗纠纷人民调解委员会"
    case_number: str  # the committee's number for the case, e.g. "〔2026〕沪黄医调字第12号"
    document_number: str  # the agreement's own number, e.g. "〔2026〕沪黄医调协字第7号"
    version: int  # 1 for the first draft, 2 after a revision ...
    parties: tuple[PartyBlock, ...]
    facts: str  # 纠纷的主要事实
    points_in_dispute: str  # 争议事项
    responsibilities: str  # 各方当事人的责任
    terms: tuple[Term, ...]
    total_amount: Decimal  # sum of the terms' amounts, yuan
    performance_deadline: date | None  # the latest deadline among the terms
    mediators: tuple[str, ...]
    signatures: tuple[SignatureBlock, ...]
    drafted_at: datetime  # Asia/Shanghai
    copies: int = 3  # one per party plus one for the committee
    extra: dict[str, str] = field(default_factory=dict)
