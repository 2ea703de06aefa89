"""The worklist: the caller's open tasks, from the case rows in reach (never a workflow), the stored calendar and the
rules of domain/worklist.py. Two indexed reads (models/repo_worklist.py), then the rules in memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from api.access import case_scope
from core.errors import InvalidField
from domain import worklist as rules
from domain.access import Caller
from domain.clock import WorkingDayCalendar
from domain.time import SHANGHAI
from models import repo, repo_worklist
from models.repo_worklist import WORKLIST_ORDER
from models.schemas_worklist import TaskAction, TaskParties, TaskPublic, WorklistPublic


def worklist(
    *,
    session: Session,
    caller: Caller,
    within: int = rules.DEFAULT_WITHIN,
    kinds: Collection[str] | None = None,
    whens: Collection[str] | None = None,
    limit: int = 100,
    cursor: str | None = None,
    today: date | None = None,
) -> WorklistPublic:
    """The caller's tasks of the window (`within` working days from today), most urgent first, narrowed to `kinds`
    and `whens`, the page after `cursor`; the counts are of every task of the window."""
    after = WORKLIST_ORDER.decode(cursor) if cursor else None  # a bad cursor is refused before anything is read
    theirs = rules.kinds_for(caller.role, everything=caller.is_dev)
    if kinds and (others := sorted(set(kinds) - theirs)):
        raise InvalidField("kind", f"{', '.join(others)}: not a task of the role {caller.role!r}; its tasks are "
                                   f"{', '.join(k for k in rules.KINDS if k in theirs)}")
    today = today or datetime.now(SHANGHAI).date()
    calendar = repo.working_day_calendar(session=session)
    horizon = rules.horizon(calendar, today, within)
    window = rules.Window(today=today, horizon=horizon.date, calendar=calendar)
    scope = case_scope(session, caller)
    always, near = rules.statuses_to_read(theirs)
    cases = [_case(row, calendar) for row in repo_worklist.work_cases(
        session=session, scope=scope, always=always, near=near, horizon=horizon.date)]
    seats = []
    if "panel_seat" in theirs:
        for found in repo_worklist.unfilled_seats(session=session, scope=scope,
                                                  statuses=rules.KINDS["panel_seat"].statuses):
            case = _case(found.case, calendar)
            seats += [rules.Seat(panel_id=found.panel_id, slot=slot, case=case,
                                 specialty=found.specialties[slot] if slot < len(found.specialties) else "")
                      for slot in found.unfilled_slots]
    every = rules.worklist(cases, seats, theirs, window)
    chosen = [t for t in every if (not kinds or t.kind in kinds) and (not whens or t.when in whens)]
    if after is not None:
        chosen = [t for t in chosen if t.sort_key > after]
    page, has_more = chosen[:limit], len(chosen) > limit
    by_kind = Counter(t.kind for t in every)
    by_when = Counter(t.when for t in every)
    return WorklistPublic(
        items=[_public(t) for t in page], limit=limit, has_more=has_more,
        next_cursor=WORKLIST_ORDER.encode(page[-1].sort_key) if has_more else None,
        today=today, within=within, horizon=horizon.date, horizon_provisional=horizon.provisional,
        total=len(every), by_kind={k: by_kind[k] for k in rules.KINDS if k in theirs},
        by_when={w: by_when[w] for w in rules.WHENS},
    )


def _case(row: Any, calendar: WorkingDayCalendar) -> rules.WorkCase:
    """A case row of models/repo_worklist.py WORK_COLUMNS as the rules read it."""
    return rules.WorkCase.of_record(
        id=row.id, number=row.number, committee_id=row.committee_id, status=row.status, patient=row.patient,
        representatives=row.representatives, patient_name=row.patient_name, institution_name=row.institution_name,
        signatures=row.signatures, deadlines=row.deadlines, clock=row.clock, payment_overdue=bool(row.payment_overdue),
        calendar=calendar,
    )


def _public(task: rules.Task) -> TaskPublic:
    spec = rules.KINDS[task.kind]
    return TaskPublic(
        key=task.key, kind=task.kind, kind_label=spec.label, kind_label_en=spec.label_en, case_id=task.case.id,
        case_number=task.case.number, committee_id=task.case.committee_id, case_status=task.case.status,
        parties=TaskParties(patient_side=list(task.case.patient_side), institution=task.case.institution),
        due_on=task.due_on, provisional=task.provisional, overdue=task.overdue,
        working_days_left=task.working_days_left, when=task.when, label=task.label, label_en=task.label_en,
        action=_action(task.action), alternatives=[_action(a) for a in task.alternatives],
    )


def _action(action: rules.Action) -> TaskAction:
    return TaskAction(method=action.method, path=action.path, event=action.event)
