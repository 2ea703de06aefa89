"""The worklist's reads (GET /worklist, api/services/worklist.py): the case rows that may hold a task of the caller,
and the expert panels' seats the pool could not fill. Keyword-only functions; nothing is written.

Two statements, each answered from indexes (models/tables.py Case):
- the cases: those in reach in the states whose every case holds a task (a review, a consent, signatures: the
  index of a committee's cases by status), and those in the states whose tasks come with a deadline, only when
  their next deadline is within the window (the index of a committee's cases by `next_deadline`) or a payment of
  theirs is overdue (`payment_overdue`'s index). A mediator's cases are read from `case_mediators` by user first.
- the seats: the panels still being drawn of the cases in reach that are in mediation (the cases by status, then
  each one's panels by `case_id`).

Only the columns the rules read are selected: of the registration, the patient and the representatives (who the
heirs are), not the facts and requests.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from domain.access import CaseScope
from domain.panel_lifecycle import PanelStatus
from models.paging import Keyset
from models.tables import Case, CaseMediator, Panel

# What the worklist reads of a case row (domain/worklist.py WorkCase.of_record).
WORK_COLUMNS = (
    col(Case.id), col(Case.number), col(Case.committee_id), col(Case.status), col(Case.patient_name),
    col(Case.institution_name), col(Case.registration)["patient"].label("patient"),
    col(Case.registration)["patient_representatives"].label("representatives"), col(Case.signatures),
    col(Case.deadlines), col(Case.clock), col(Case.payment_overdue),
)


@dataclass(frozen=True)
class SeatRow:
    """A panel still being drawn, its seats the pool could not fill, and its case's row."""

    panel_id: str
    specialties: list[str]
    unfilled_slots: list[int]
    case: Any  # a row of WORK_COLUMNS


def _in_reach(query: Any, scope: CaseScope) -> Any:
    """The cases of `query` within `scope`: a mediator's from case_mediators (by user, its index), the others by
    committee."""
    if scope.mediator_id is not None:
        query = query.join(CaseMediator, col(CaseMediator.case_id) == col(Case.id)).where(
            col(CaseMediator.user_id) == scope.mediator_id)
    if scope.committee_ids is not None:
        query = query.where(col(Case.committee_id).in_(sorted(scope.committee_ids) or [""]))
    return query


def work_cases(
    *, session: Session, scope: CaseScope, always: Collection[str], near: Collection[str], horizon: date,
) -> Sequence[Any]:
    """The cases in reach that may hold a task: in the states of `always` whatever their dates, in those of `near`
    when their next deadline is on or before `horizon` (overdue ones included) or a payment is overdue. Each arm of
    the condition is one index's range (a bitmap OR on PostgreSQL)."""
    arms = []
    if always:
        arms.append(col(Case.status).in_(sorted(always)))
    if near:
        in_near = col(Case.status).in_(sorted(near))
        arms.append(and_(in_near, col(Case.next_deadline) <= horizon))
        arms.append(and_(in_near, col(Case.payment_overdue).is_(True)))
    if not arms or scope.empty:
        return []
    query = _in_reach(select(*WORK_COLUMNS), scope).where(or_(*arms))
    return session.execute(query).all()


def unfilled_seats(*, session: Session, scope: CaseScope, statuses: Collection[str]) -> list[SeatRow]:
    """The panels still being drawn, of the cases in reach in `statuses`, that have a seat the pool could not fill
    (Reg 33, 35)."""
    if not statuses or scope.empty:
        return []
    query = _in_reach(
        select(col(Panel.id), col(Panel.specialties), col(Panel.unfilled_slots), *WORK_COLUMNS)
        .join(Case, col(Case.id) == col(Panel.case_id)), scope,
    ).where(col(Case.status).in_(sorted(statuses)), col(Panel.status) == PanelStatus.DRAWING.value)
    found = []
    for row in session.execute(query).all():
        panel_id, specialties, unfilled, *case = row
        if unfilled:
            found.append(SeatRow(panel_id=panel_id, specialties=list(specialties or []),
                                 unfilled_slots=sorted(unfilled), case=_CaseRow(*case)))
    return found


@dataclass(frozen=True)
class _CaseRow:
    """A row of WORK_COLUMNS read beside a panel's columns, by name as a row of `work_cases` is."""

    id: str
    number: str
    committee_id: str
    status: str
    patient_name: str
    institution_name: str
    patient: Any
    representatives: Any
    signatures: Any
    deadlines: Any
    clock: Any
    payment_overdue: bool


# ------------------------------------------------------------------ the cursor ------------------------------
# The worklist is ordered by urgency (domain/worklist.py Task.sort_key), computed from the rows and the calendar,
# so it is paged in that order after the last task seen: its cursor holds that task's sort key, in the format of
# every list's cursor (models/paging.py; the keyset names no column: the order is not the database's).
WORKLIST_ORDER = Keyset("worklist", (), ("int", "text", "int", "text"), descending=False)
