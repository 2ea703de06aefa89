"""Builds the 专家咨询意见书 (Reg 33) context from a panel, its invitations and the experts who answered.

The activity that renders the opinion reads these rows and calls `expert_opinion_context`; the panel is
the accepted invitations (one per slot), the findings are every invitation that carries an opinion: an
accepted one gives a valid part, a voided one a part printed as void with its reason (DOMAIN.md: "the void
opinion stays in the trail").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from documents.contexts import (
    ExpertOpinionContext,
    Meeting,
    OpinionPart,
    PanelMember,
    PartyBlock,
    SealBlock,
)
from domain.attachments import PARTIES, kind_label
from domain.panel_lifecycle import InvitationStatus
from domain.specialties import label
from domain.time import SHANGHAI
from models.tables import Attachment, Case, Committee, Expert, Invitation, Panel

# What every panel is given through the expert portal (models/schemas_panels.py CaseMaterialForExpert): the
# application's facts and requests, the question put to it and the acceptance notice. Anything else (medical records handed over at the
# meeting) is recorded in `panel.meeting["material"]` and added; nothing is listed that the panel was not given.
# The English template translates these.
DEFAULT_MATERIAL: tuple[str, ...] = (
    "调解申请所述纠纷事实及调解请求",
    "本委员会提出的咨询事项",
    "受理通知书",
)

# Two-character surnames (复姓), so that 欧阳明 is printed 欧阳某 and not 欧某.
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "令狐", "夏侯",
    "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "澹台", "公冶", "太史", "申屠", "闻人", "东郭",
    "濮阳", "钟离", "宗政", "仲孙", "单于", "赫连", "拓跋", "第五", "左丘", "谷梁", "段干", "司空",
})


def surname_only(name: str) -> str:
    """The patient as the opinion names them: the surname and 某 (王小明 → 王某, 欧阳明 → 欧阳某)."""
    name = name.strip()
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    return f"{surname}某"


def _meeting(raw: Mapping[str, Any] | None) -> Meeting | None:
    """`panel.meeting` is {"at": ISO datetime, "place": ..., "material": [...]}; None: no time, no place."""
    if not raw:
        return None
    when = raw.get("at") or raw.get("held_at")
    held_at = datetime.fromisoformat(when) if isinstance(when, str) else when
    place = str(raw.get("place") or "")
    if held_at is None and not place:
        return None
    return Meeting(held_at=held_at, place=place)


def _material(raw: Mapping[str, Any] | None) -> tuple[str, ...]:
    extra = [str(item) for item in (raw or {}).get("material") or () if str(item).strip()]
    return DEFAULT_MATERIAL + tuple(item for item in dict.fromkeys(extra) if item not in DEFAULT_MATERIAL)


def given_files(attachments: Sequence[Attachment]) -> tuple[str, ...]:
    """The files the panel was given through the portal (Reg 42: the case's medical records and appraisal
    reports), one line each: kind, name, who gave it, and the start of its SHA-256 to find it in the 卷宗."""
    return tuple(f"{kind_label(a.kind)}《{a.filename}》（{PARTIES.get(a.party, a.party)}提交，SHA-256 {a.sha256[:16]}…）"
                 for a in attachments)


def _part(invitation: Invitation, expert: Expert) -> OpinionPart:
    opinion = invitation.opinion or {}
    void = invitation.status == InvitationStatus.VOIDED
    return OpinionPart(
        slot=invitation.slot,
        specialty=invitation.specialty,
        specialty_label=label(invitation.specialty),
        expert_name=expert.name,
        expert_title=expert.title,
        fault=str(opinion.get("fault") or ""),
        causation=str(opinion.get("causation") or ""),
        liability_percent=int(opinion["liability_percent"]),
        text=str(opinion.get("text") or ""),
        submitted_on=invitation.opinion_at.astimezone(SHANGHAI).date() if invitation.opinion_at else None,
        void=void,
        void_reason=(invitation.reason or "作废").strip() if void else "",
    )


def expert_opinion_context(
    *,
    case: Case,
    committee: Committee,
    panel: Panel,
    invitations: Sequence[Invitation],
    experts: Mapping[str, Expert],
    number: str,
    at: datetime,
    version: int,
    attachments: Sequence[Attachment] = (),
) -> ExpertOpinionContext:
    """The opinion of `panel` on `case`, numbered `number`, issued `at`; `experts` by id; `attachments`: the files
    the panel was given (listed in the material reviewed)."""
    issued = at.astimezone(SHANGHAI)
    registration = case.registration
    accepted = sorted((i for i in invitations if i.status == InvitationStatus.ACCEPTED), key=lambda i: i.slot)
    answered = sorted(
        (i for i in invitations if i.opinion is not None and i.status in (InvitationStatus.ACCEPTED, InvitationStatus.VOIDED)),
        key=lambda i: (i.slot, i.opinion_at or i.invited_at),
    )
    return ExpertOpinionContext(
        committee_name=committee.name,
        case_number=case.number,
        document_number=number,
        issued_at=issued,
        parties=(
            PartyBlock(side="patient", name=surname_only(registration["patient"]["name"])),
            PartyBlock(side="institution", name=registration["institution"]["name"]),
        ),
        seal=SealBlock(committee_name=committee.name, sealed_on=issued.date()),
        version=version,
        question=panel.question,
        material=_material(panel.meeting) + given_files(attachments),
        panel=tuple(
            PanelMember(
                slot=i.slot,
                specialty=i.specialty,
                specialty_label=label(i.specialty),
                name=experts[i.expert_id].name,
                title=experts[i.expert_id].title,
            )
            for i in accepted
        ),
        parts=tuple(_part(i, experts[i.expert_id]) for i in answered),
        meeting=_meeting(panel.meeting),
    )
