"""The worklist's answer (GET /worklist): the caller's open tasks, most urgent first, a page at a time, with their
counts by kind and by when they are due. The rules are domain/worklist.py."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from domain.worklist import KINDS, WHENS
from models.paging import Page

TaskKindName = Literal[tuple(KINDS)]  # type: ignore[valid-type]
WhenName = Literal[tuple(WHENS)]  # type: ignore[valid-type]


class TaskAction(BaseModel):
    """An endpoint of this API that does (or settles) the task."""

    method: str = Field(examples=["POST"])
    path: str = Field(examples=["/cases/3f2c9a/accept"])
    event: str | None = Field(default=None, examples=["accept"],
                              description="the lifecycle event it records; none for an action that is not one")


class TaskParties(BaseModel):
    patient_side: list[str] = Field(examples=[["王小明"]], description="the patient, or each heir when the patient "
                                    "has died (the heirs are the parties, Civil Code 173)")
    institution: str = Field(examples=["上海市某区人民医院"])


class TaskPublic(BaseModel):
    """One task: what to do on which case, by when, and where in this API to do it."""

    key: str = Field(description="stable while the task is open: its kind, its case (or panel) and its occasion")
    kind: TaskKindName  # type: ignore[valid-type]
    kind_label: str = Field(examples=["受理审查"])
    kind_label_en: str = Field(examples=["Acceptance review"])
    case_id: str
    case_number: str
    committee_id: str
    case_status: str
    parties: TaskParties
    due_on: date | None = Field(description="the day it is due; none for a task with no deadline (a panel's seat)")
    provisional: bool = Field(description="the day was counted through a year the working-day calendar does not "
                              "know: it may still move; a provisional deadline that passed holds the case (rev 2)")
    overdue: bool = Field(description="its day has passed (it ended at 24:00 of that day)")
    working_days_left: int | None = Field(description="working days from today to the due day (the due day counts, "
                                          "today does not); 0: due today; negative: overdue, by that many working "
                                          "days (at least 1)")
    when: WhenName = Field(description="overdue, due_today, this_week (after today, by Sunday), later or undated")  # type: ignore[valid-type]
    label: str = Field(description="what to do, in Chinese, with its day and its legal basis")
    label_en: str = Field(description="the same in English")
    action: TaskAction = Field(description="the action that does it")
    alternatives: list[TaskAction] = Field(default_factory=list,
                                           description="other actions that settle it (e.g. reject beside accept)")


class WorklistPublic(Page[TaskPublic]):
    """The caller's open tasks, most urgent first: overdue ones, then by due day (then by what happens on it: a case
    that fails or is rejected first), the tasks without a day last. `total`, `by_kind` and `by_when` count every
    task of the window, whatever the `kind` and `when` filters and the page."""

    today: date = Field(description="the day the list was made for (Asia/Shanghai)")
    within: int = Field(description="the window, in working days")
    horizon: date = Field(description="the window's last day: deadlines up to it are listed")
    horizon_provisional: bool = Field(description="the window reaches a year the calendar does not know")
    total: int = Field(description="every task of the window (before the kind and when filters)")
    by_kind: dict[str, int] = Field(description="tasks by kind, every kind the caller has listed (0 included)")
    by_when: dict[str, int] = Field(description="tasks by overdue, due_today, this_week, later, undated")
