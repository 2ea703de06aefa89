"""Mediation sessions across cases: the calendar, and the sessions near a time (a mediator booked twice).

Both read `mediation_sessions` by its time: a range of `ix_mediation_sessions_scheduled` (scheduled_at, id), joined
to each session's case for its committee, number and names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import cast, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col

from domain.access import CaseScope
from models.paging import Keyset, Slice, page
from models.repo import case_scope_filters, start_of_day
from models.tables import Case, MediationSession

# The calendar: earliest first, a page after the last (scheduled_at, id) seen.
SESSIONS_ORDER = Keyset("sessions", (col(MediationSession.scheduled_at), col(MediationSession.id)), ("time", "text"),
                        descending=False)
CALENDAR_COLUMNS = (
    col(MediationSession.id), col(MediationSession.case_id), col(MediationSession.scheduled_at),
    col(MediationSession.place), col(MediationSession.mediators), col(MediationSession.status),
    col(MediationSession.moves), col(Case.number).label("case_number"), col(Case.committee_id),
    col(Case.status).label("case_status"), col(Case.patient_name), col(Case.institution_name),
)


def _names_mediator(session: Session, name: str) -> Any:
    """The session's mediators (a JSON list of names) include `name`: an element of the list, not a substring of
    its text (which SQLite keeps with its Chinese characters escaped)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(col(MediationSession.mediators), JSONB).contains([name])
    element = func.json_each(col(MediationSession.mediators)).table_valued("value")
    return exists(select(literal_column("1")).select_from(element).where(element.c.value == name))


def calendar_page(
    *,
    session: Session,
    from_day: date,
    to_day: date,
    mediator: str | None = None,
    status: str | None = None,
    committee_id: str | None = None,
    scope: CaseScope | None = None,
    limit: int = 100,
    cursor: str | None = None,
    count: bool = False,
) -> Slice:
    """The sessions from `from_day` to `to_day` (days in Asia/Shanghai, both included) of the cases in `scope`,
    earliest first, each with its case's number, committee and names: the page after `cursor`."""
    conditions: list[Any] = list(case_scope_filters(scope))
    if (start := start_of_day(from_day)) is not None:
        conditions.append(col(MediationSession.scheduled_at) >= start)
    if (end := start_of_day(to_day, days_later=1)) is not None:
        conditions.append(col(MediationSession.scheduled_at) < end)
    if status:
        conditions.append(col(MediationSession.status) == status)
    if committee_id:
        conditions.append(col(Case.committee_id) == committee_id)
    if mediator:
        conditions.append(_names_mediator(session, mediator))
    query = select(*CALENDAR_COLUMNS).select_from(MediationSession).join(
        Case, col(Case.id) == col(MediationSession.case_id))
    return page(session, query.where(*conditions), SESSIONS_ORDER, limit=limit, cursor=cursor, count=count,
                key_of=lambda row: (row.scheduled_at, row.id))


def get_session(*, session: Session, session_id: str) -> MediationSession | None:
    return session.get(MediationSession, session_id)


def near(
    *, session: Session, committee_id: str, at: datetime, within: timedelta, excluding: str
) -> Sequence[Any]:
    """The committee's sessions still scheduled (not held, not cancelled) less than `within` from `at`, but the
    session `excluding`, earliest first, each with its case's number."""
    query = (
        select(col(MediationSession.id), col(MediationSession.case_id), col(MediationSession.scheduled_at),
               col(MediationSession.place), col(MediationSession.mediators), col(Case.number).label("case_number"))
        .select_from(MediationSession)
        .join(Case, col(Case.id) == col(MediationSession.case_id))
        .where(
            col(MediationSession.scheduled_at) > at - within,
            col(MediationSession.scheduled_at) < at + within,
            col(MediationSession.status) == "scheduled",
            col(MediationSession.id) != excluding,
            col(Case.committee_id) == committee_id,
        )
        .order_by(*SESSIONS_ORDER.order_by())
    )
    return list(session.execute(query).all())

