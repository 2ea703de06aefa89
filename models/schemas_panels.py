"""Request and response schemas of consultation panels (Reg 33), the draw record (Reg 37) and the experts'
portal."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.payloads import LocalTime, Strict
from models.paging import Page


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- staff: panels -----------------------------
class InvitationPublic(Out):
    id: str
    slot: int
    specialty: str
    specialty_label: str
    expert_id: str
    expert_name: str
    expert_title: str
    status: str = Field(description="invited, accepted, declined, expired, recused, voided or cancelled")
    invited_at: LocalTime
    answer_due_at: LocalTime
    answered_at: LocalTime | None
    accepted_at: LocalTime | None
    reason: str
    opinion: dict[str, Any] | None
    opinion_at: LocalTime | None
    draw_id: str


class SlotPublic(BaseModel):
    slot: int
    specialty: str
    specialty_label: str
    status: str = Field(description="invited, accepted, opinion (given), unfilled (the pool has nobody left)")
    expert_id: str | None
    expert_name: str | None
    invitation_id: str | None
    attempts: int


class ObjectionPublic(Out):
    id: str
    panel_id: str
    invitation_id: str
    expert_id: str
    raised_by: str
    form: str
    reason: str
    recorded_by: str
    recorded_at: LocalTime
    decision: str | None
    decided_by: str | None
    decided_at: LocalTime | None
    decision_reason: str


class PanelPublic(Out):
    id: str
    case_id: str
    seq: int
    specialties: list[str]
    question: str
    institution_id: str | None
    requested_by: str
    requested_at: LocalTime
    status: str = Field(description="drawing, complete (all accepted), opinion (all given), closed")
    unfilled_slots: list[int]
    meeting: dict[str, Any] | None
    opinion_version: int
    slots: list[SlotPublic]
    invitations: list[InvitationPublic]
    objections: list[ObjectionPublic]
    draw_ids: list[str]
    warnings: list[str] = Field(description="what the draw could not check, e.g. a respondent not in the registry")


class ExclusionPublic(BaseModel):
    expert_id: str
    reason: str
    label: str
    detail: str


class DrawPublic(Out):
    id: str
    panel_id: str
    case_id: str
    slot: int
    attempt: int
    specialty: str
    algorithm: str
    seed: str
    snapshot: list[str] = Field(description="the eligible experts, sorted: the draw is uniform over them")
    exclusions: list[ExclusionPublic]
    facts: dict[str, Any]
    result: str | None
    at: LocalTime


class DrawVerification(BaseModel):
    draw_id: str
    algorithm: str
    recorded_result: str | None
    rerun_result: str | None
    matches: bool
    eligible: int
    excluded: int


class SlotRedrawIn(Strict):
    note: str = Field(default="", max_length=2000)


class MeetingIn(Strict):
    at: datetime = Field(examples=["2026-12-03T14:00:00+08:00"])
    place: str = Field(min_length=1, max_length=300, examples=["医调委第二会议室"])
    material: list[str] = Field(default_factory=list, max_length=50,
                                examples=[["门诊及住院病历", "双方陈述", "护理记录"]])


class ObjectionIn(Strict):
    """A party asks that a drawn expert be recused (回避申请, Reg 37), orally or in writing."""

    invitation_id: str = Field(min_length=1, max_length=64)
    raised_by: Literal["patient", "institution"]
    form: Literal["oral", "written"]
    reason: str = Field(min_length=1, max_length=5000, examples=["该专家曾在被申请医院进修，与主治医师系同门"])


class ObjectionDecisionIn(Strict):
    decision: Literal["upheld", "rejected"]
    reason: str = Field(min_length=1, max_length=5000)


# ---------------------------------------------------------------- experts' portal ---------------------------
class CaseSummaryForExpert(BaseModel):
    """Before acceptance: what an expert needs to decide, without the patient's identity (DOMAIN.md)."""

    institution: str
    patient: str = Field(description="surname and 某 only")
    gender: str | None
    age: int | None
    treatment_episode: str
    facts: str


class CaseMaterialForExpert(CaseSummaryForExpert):
    """After acceptance: the case material the opinion needs (still without identity numbers or phones)."""

    patient_name: str
    requests: str
    documents: list[dict[str, Any]]


class MyInvitation(BaseModel):
    id: str
    panel_id: str
    specialty: str
    specialty_label: str
    status: str
    invited_at: LocalTime
    answer_due_at: LocalTime
    answered_at: LocalTime | None
    question: str
    summary: CaseSummaryForExpert
    material: CaseMaterialForExpert | None = Field(description="shown once the invitation is accepted")
    case_number: str | None = Field(description="shown once accepted")
    meeting: dict[str, Any] | None
    opinion: dict[str, Any] | None


class MyInvitations(Page[MyInvitation]):
    """A page of an expert's invitations, newest first."""


class DeclineIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, examples=["近期出国参加学术会议"])


class ConflictIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, examples=["本人配偶在被申请医院工作"])


class OpinionIn(Strict):
    """One expert's part of the panel's opinion (专家咨询意见书). It does not bind the parties."""

    fault: str = Field(min_length=1, max_length=5000, examples=["医方在产后出血的观察与处置上存在延误"])
    causation: str = Field(min_length=1, max_length=5000, examples=["该延误与患者子宫切除的后果存在因果关系"])
    liability_percent: int = Field(ge=0, le=100, examples=[60], description="degree of liability, 0–100 %")
    text: str = Field(default="", max_length=20000)


# ---------------------------------------------------------------- figures -----------------------------------
class ExpertFigures(BaseModel):
    expert_id: str
    name: str
    specialties: list[str]
    active: bool
    cap: int
    invitations: int
    accepted: int
    declined: int
    expired: int
    recused: int
    voided: int
    acceptance_rate: float | None = Field(description="accepted ÷ answered (accepted, declined, expired)")
    median_answer_hours: float | None
    current_load: int


class SpecialtyFigures(BaseModel):
    specialty: str
    specialty_label: str
    experts: int
    active_experts: int
    invitations: int
    accepted: int
    declined: int
    expired: int
    recused: int
    voided: int
    acceptance_rate: float | None
    median_answer_hours: float | None
    current_load: int
