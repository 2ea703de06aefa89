"""Per-committee policy: the length of every clock (shared/DOMAIN.md, "Time: the clocks").

Local rules differ, so each committee may set its own lengths; the defaults are the rule book's. A policy
travels into the case's workflow with its input, so that a running case keeps the lengths it started with.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ClockPolicy:
    consent_wd: int = 5  # local practice: the other side answers within 5 WD of the request
    review_reminder_wd: int = 3  # Chongqing rule: the director is reminded after 3 WD of review
    review_escalation_wd: int = 2  # then escalated this many WD after the reminder; never auto-accepted
    mediation_wd: int = 30  # Reg 38: 30 WD from acceptance, appraisal excluded
    # Reg 38, 39 (rev 2): a deadline reached while signatures are collected waits this many more WD, so that a
    # signature made by the due date and recorded the next morning still counts
    signing_grace_wd: int = 1
    appraisal_reminder_wd: int = 20  # Reg 38 (rev 2): an open appraisal's status is asked for this often
    warn_before_wd: tuple[int, ...] = (5, 1)  # warnings before the mediation deadline
    judicial_confirmation_days: int = 30  # PML 33, CPL 205: calendar days from the agreement's effect
    judicial_reminder_days: int = 5  # remind the mediator this many days before that window closes
    payment_prompt_wd: int = 5  # after a missed payment deadline: prompt to record (non)performance
    followup_days: int = 30  # local rules: follow-up visit 30 days after performance
    expert_answer_wd: int = 2  # expert-draw practice
    affiliation_lookback_years: int = 3  # Reg 37: an affiliation that ended within this many years still excludes
    agreement_seal_image: bool = False  # print the committee's seal image on the effective agreement
    case_file_retention_years: int = 30  # 卷宗 (PML 27): printed on the cover; the committee's archive rule

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _NAMES}  # every value is a scalar or a tuple of them
        data["warn_before_wd"] = list(self.warn_before_wd)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ClockPolicy:
        values = {k: v for k, v in (data or {}).items() if k in _FIELDS}
        if "warn_before_wd" in values:
            values["warn_before_wd"] = tuple(values["warn_before_wd"])
        return cls(**values)


_NAMES = tuple(f.name for f in fields(ClockPolicy))  # in their order, as asdict gives them
_FIELDS = frozenset(_NAMES)
