"""Mediation sessions across cases: the calendar (GET /sessions), and the warning that a mediator is booked twice.

A session is scheduled or moved by its case's workflow (the lifecycle decides whether it may be); whether one of
its mediators is already booked elsewhere near that time is not a rule of the law but a matter for the committee's
desk, so it never refuses the action: the action's answer carries a warning, read here from the database once the
session is written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from domain import access
from domain.access import Caller, CaseScope
from domain.time import SHANGHAI
from models import repo, repo_sessions
from models.schemas import ActionWarning, CalendarSessionPublic, SessionListFilters, SessionsPublic

# Two sessions of one mediator less than this apart are a double booking (a session, and getting to the next).
CLASH_WITHIN = timedelta(hours=2)
# The actions whose session is checked for a double booking.
CLASH_CHECKED = frozenset({"schedule_session", "reschedule_session"})


def this_week(today: date) -> tuple[date, date]:
    """Monday to Sunday of the week of `today`."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def days_of(filters: SessionListFilters, today: date) -> tuple[date, date]:
    """The days the calendar covers: those asked for; without `from`, this week's Monday; without `to`, the Sunday
    of the week `from` is in."""
    start = filters.from_day or (this_week(filters.to_day or today)[0])
    end = filters.to_day or this_week(start)[1]
    return start, end


def calendar(
    *, session: Session, filters: SessionListFilters, limit: int, cursor: str | None, count: bool, scope: CaseScope,
    today: date | None = None,
) -> SessionsPublic:
    """The sessions of the cases the caller reaches, earliest first, a page at a time."""
    start, end = days_of(filters, today or datetime.now(SHANGHAI).date())
    found = repo_sessions.calendar_page(
        session=session, from_day=start, to_day=end, mediator=filters.mediator, status=filters.status,
        committee_id=filters.committee_id, scope=scope, limit=limit, cursor=cursor, count=count)
    items = [CalendarSessionPublic.model_validate({**row._mapping, "moved": len(row.moves or [])})
             for row in found.rows]
    return SessionsPublic(items=items, limit=limit, has_more=found.has_more, next_cursor=found.next_cursor,
                          estimated_total=found.estimated_total, from_day=start, to_day=end)


def clash_warnings(*, session: Session, case_id: str, session_id: str, caller: Caller) -> list[ActionWarning]:
    """A warning for each other session still scheduled, in any case of the committee, less than two hours from
    this one, that one of its mediators attends too. The other case is named by its number only when the caller
    does not reach it (Reg 42), as a possible duplicate is."""
    booked = repo_sessions.get_session(session=session, session_id=session_id)
    if booked is None or booked.case_id != case_id or booked.status != "scheduled":
        return []
    case = repo.get_case(session=session, case_id=case_id)
    mine = set(booked.mediators)
    committee = repo.find_committee(session=session, committee_id=case.committee_id)
    warnings = []
    clashing = [(other, shared) for other in repo_sessions.near(
                    session=session, committee_id=case.committee_id, at=booked.scheduled_at, within=CLASH_WITHIN,
                    excluding=booked.id)
                if (shared := [name for name in other.mediators if name in mine])]
    assigned = repo.assigned_mediators_of(session=session, case_ids=(other.case_id for other, _ in clashing))
    for other, shared in clashing:
        seen = other.case_id == case_id or access.reaches(
            caller, committee_id=case.committee_id, committee_city=committee.city if committee else "",
            mediator_ids=assigned[other.case_id])
        when = other.scheduled_at.astimezone(SHANGHAI)
        apart = abs(other.scheduled_at - booked.scheduled_at)
        warnings.append(ActionWarning(
            code="mediator_double_booked",
            message=f"{'、'.join(shared)} 已安排 {when:%Y-%m-%d %H:%M} 在{other.place}的调解会"
                    f"（{other.case_number}{'，同一案件' if other.case_id == case_id else ''}），"
                    f"与本场相隔{_apart(apart)}，不足2小时",
            session_id=other.id if seen else None,
            case_id=other.case_id if seen else None,
            case_number=other.case_number,
            scheduled_at=when,
            mediators=shared,
        ))
    return warnings


def _apart(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}小时{minutes}分钟"
    return f"{hours}小时" if hours else f"{minutes}分钟"


def unavailable() -> ActionWarning:
    """The action was done, but whether a mediator is booked twice could not be read now."""
    return ActionWarning(code="clash_check_unavailable",
                         message="调解会已安排，但暂时无法检查调解员的时间冲突，请稍后在日程中核对")
