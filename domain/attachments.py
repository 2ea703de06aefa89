"""The attachments of a case: the kinds of file the parties bring, who gave them, who may see them, which events
they document, how long a withdrawn one is kept. One catalogue; pure.

Who sees a case's attachments (Reg 42; DOMAIN.md "Privacy": every access by an auditor or an expert is logged):
- the committee's staff who reach the case (intake, the director; the case's own mediators) and its auditors, every
  kind (the audit trail records every read an auditor makes);
- an expert only the medical records and appraisal reports of a case, and only while they hold an accepted seat of
  one of its panels that is still open (from their acceptance until the panel closes with the case's mediation);
  never an identity document; never a withdrawn file. To anyone else the file does not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal


@dataclass(frozen=True)
class AttachmentKind:
    code: str
    label: str  # 中文, as the file and the console print it
    label_en: str
    visible_to_expert: bool = False  # Reg 42: what a panel's expert is given once they accept
    events: frozenset[str] = frozenset()  # the events whose record it may be attached to


KINDS: dict[str, AttachmentKind] = {kind.code: kind for kind in (
    AttachmentKind("medical_record", "病历资料", "medical record", visible_to_expert=True),
    AttachmentKind("appraisal_report", "鉴定意见书", "appraisal report", visible_to_expert=True,
                   events=frozenset({"finish_appraisal"})),
    AttachmentKind("identity_document", "身份证明", "identity document"),  # never shown to an expert
    AttachmentKind("authorisation", "授权委托书", "authorisation"),
    AttachmentKind("evidence", "证据材料", "evidence"),
    AttachmentKind("signed_paper", "签署的纸质文书", "signed paper document", events=frozenset({"sign"})),
    AttachmentKind("payment_proof", "履行凭证", "payment proof", events=frozenset({"record_payment"})),
    AttachmentKind("other", "其他材料", "other"),
)}
KindCode = Literal["medical_record", "appraisal_report", "identity_document", "authorisation", "evidence",
                   "signed_paper", "payment_proof", "other"]
assert set(KindCode.__args__) == set(KINDS)  # type: ignore[attr-defined]

PARTIES: dict[str, str] = {
    "patient": "患方",
    "institution": "医方",
    "insurer": "保险机构",
    "committee": "调解委员会",
    "appraisal_institution": "鉴定机构",
    "other": "其他",
}
PartyCode = Literal["patient", "institution", "insurer", "committee", "appraisal_institution", "other"]
assert set(PartyCode.__args__) == set(PARTIES)  # type: ignore[attr-defined]

# The events that may carry `attachment_ids` (domain/payloads.py): the kinds each accepts.
EVENT_KINDS: dict[str, frozenset[str]] = {}
for _kind in KINDS.values():
    for _event in _kind.events:
        EVENT_KINDS[_event] = EVENT_KINDS.get(_event, frozenset()) | {_kind.code}

EXPERT_KINDS = frozenset(code for code, kind in KINDS.items() if kind.visible_to_expert)
STAFF_ROLES = frozenset({"intake", "mediator", "director"})


def kind_label(code: str, lang: str = "zh") -> str:
    kind = KINDS.get(code)
    if kind is None:
        return code
    return kind.label if lang == "zh" else kind.label_en


def visible_to_expert(kind: str, *, withdrawn: bool) -> bool:
    """Reg 42: a panel's expert is given the medical records and the appraisal reports, never a withdrawn file
    (nor an identity document, whatever else changes)."""
    return kind in EXPERT_KINDS and not withdrawn


def fits_event(kind: str, event: str) -> bool:
    return kind in EVENT_KINDS.get(event, frozenset())


def wrong_kind_message(kind: str, event: str) -> str:
    wanted = " or ".join(sorted(EVENT_KINDS.get(event, frozenset()))) or "none"
    return f"a {kind} attachment cannot document {event}: it takes {wanted}"


def may_be_deleted(*, withdrawn_at: datetime | None, now: datetime, retention_days: int) -> bool:
    """A file is never deleted while it stands; a withdrawn one only once the retention period after its
    withdrawal has run out."""
    return withdrawn_at is not None and now >= withdrawn_at + timedelta(days=retention_days)


def safe_filename(name: str, *, limit: int = 200) -> str:
    """The clerk's file name as stored: the last path component, no control characters, no quotes or
    backslashes, at most `limit` characters (keeping the extension); `attachment` when nothing is left."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '"\\<>|*?:').strip().lstrip(".")
    if not cleaned:
        return "attachment"
    if len(cleaned) > limit:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            cleaned = stem[: limit - len(ext) - 1] + "." + ext
        else:
            cleaned = cleaned[:limit]
    return cleaned
