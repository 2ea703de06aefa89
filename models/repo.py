"""Data access. Keyword-only functions; the caller commits once, at the boundary of its unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, cast, func, literal_column, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.errors import NotFound
from domain.access import CaseScope
from domain.case_state import CaseState
from domain.clock import MediationClock, WorkingDayCalendar, YearTable, calendar_digest
from domain.duplicates import institution_key, is_possible_duplicate, patient_keys
from domain.lifecycle import CLOSED_STATES
from domain.parties import normalise_name, party_names
from domain.projection import columns as projection_columns
from domain.statistics import (
    ENDING_EVENTS,
    PERFORMANCE_EVENTS,
    REJECTED,
    SETTLED,
    TERMINATED,
    agreed_amounts,
    ended_on,
    mediation_time,
    reason_mask,
    rejection_reasons,
)
from domain.taxonomy import UNKNOWN
from domain.time import SHANGHAI
from models.paging import Keyset, Slice, page
from models.repo_panels import create_panel
from models.schemas import CaseListFilters
from models.tables import (
    CalendarYear,
    Case,
    CaseMediator,
    CasePartyName,
    Committee,
    Delivery,
    Document,
    DocumentContent,
    DocumentNumber,
    MediationSession,
    Notification,
    NumberSequence,
    Transition,
    UTCDateTime,
)


def create_schema(engine: Engine) -> None:
    """The database at the schema's head revision: migrated, never created behind the migrations' back."""
    from models.migrations import upgrade

    upgrade(engine)


# ---------------------------------------------------------------- committees and numbers ------------
def get_committee(*, session: Session, committee_id: str) -> Committee:
    committee = session.get(Committee, committee_id)
    if committee is None:
        raise NotFound(f"committee {committee_id!r} not found")
    return committee


def find_committee(*, session: Session, committee_id: str) -> Committee | None:
    return session.get(Committee, committee_id)


def list_committees(*, session: Session) -> Sequence[Committee]:
    return session.exec(select(Committee).order_by(Committee.id)).all()


def save_committee(*, session: Session, committee: Committee) -> Committee:
    return session.merge(committee)


def set_policy(*, session: Session, committee_id: str, policy: dict[str, Any]) -> Committee:
    committee = get_committee(session=session, committee_id=committee_id)
    committee.policy = dict(policy)
    session.add(committee)
    session.flush()
    return committee


def next_number(*, session: Session, committee_id: str, year: int, kind: str) -> int:
    """The next number of `kind` for a committee and year. Atomic on SQLite and PostgreSQL."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(NumberSequence)
        .values(committee_id=committee_id, year=year, kind=kind, last=0)
        .on_conflict_do_nothing()
    )
    result = session.execute(
        update(NumberSequence)
        .where(
            col(NumberSequence.committee_id) == committee_id,
            col(NumberSequence.year) == year,
            col(NumberSequence.kind) == kind,
        )
        .values(last=NumberSequence.last + 1)
        .returning(NumberSequence.last)
    )
    return int(result.scalar_one())


def format_number(pattern: str, *, committee: Committee, year: int, seq: int) -> str:
    return pattern.format(year=year, short=committee.short_name, seq=seq)


def reserve_document_number(
    *, session: Session, committee: Committee, case_id: str, kind: str, source_seq: int, year: int
) -> str:
    """The number of the document `kind` that transition `source_seq` of the case issues: the one reserved
    before, or the committee's next of the year (then remembered, so that a retry prints the same)."""
    reserved = session.get(DocumentNumber, (case_id, kind, source_seq))
    if reserved is not None:
        return reserved.number
    seq = next_number(session=session, committee_id=committee.id, year=year, kind=kind)
    number = format_number(committee.number_pattern(kind), committee=committee, year=year, seq=seq)
    session.add(DocumentNumber(case_id=case_id, kind=kind, source_seq=source_seq, number=number))
    session.flush()
    return number


# ---------------------------------------------------------------- cases -----------------------------
def _search_text(registration: dict[str, Any], number: str) -> str:
    names = [registration["patient"]["name"], registration["institution"]["name"]]
    names += [rep["name"] for rep in registration.get("patient_representatives", [])]
    if registration.get("insurer"):
        names.append(registration["insurer"]["name"])
    return "\n".join([number, *names, registration["facts"], registration["requests"]]).lower()


def create_case(
    *,
    session: Session,
    case_id: str,
    registration: dict[str, Any],
    at: datetime,
    actor: dict[str, str],
    clock: dict[str, Any] | None = None,
) -> Case:
    """Write a registered case and its first transition. A second call with the same id changes nothing."""
    existing = session.get(Case, case_id)
    if existing is not None:
        return existing
    committee = get_committee(session=session, committee_id=registration["committee_id"])
    id_key, nb_key = patient_keys(registration["patient"])
    year = at.astimezone(SHANGHAI).year
    seq = next_number(session=session, committee_id=committee.id, year=year, kind="case")
    number = format_number(committee.case_number_pattern, committee=committee, year=year, seq=seq)
    case = Case(
        id=case_id,
        number=number,
        committee_id=committee.id,
        status="registered",
        application_type=registration["application_type"],
        applicant_side=registration.get("applicant_side"),
        consents=[{**consent, "seq": 1} for consent in registration.get("consents", [])],
        patient_name=registration["patient"]["name"],
        institution_name=registration["institution"]["name"],
        respondent_institution_id=registration["institution"].get("pool_institution_id"),
        patient_id_key=id_key,
        patient_nb_key=nb_key,
        institution_key=institution_key(registration["institution"]),
        facts=registration["facts"],
        claim_amount=Decimal(str(registration["claim_amount"])),
        requests=registration["requests"],
        registration=registration,
        search_text=_search_text(registration, number),
        department=registration.get("department") or UNKNOWN,
        dispute_kind=registration.get("dispute_kind") or UNKNOWN,
        institution_level=registration.get("institution_level") or UNKNOWN,
        harm=registration.get("harm") or UNKNOWN,
        version=1,
        registered_at=at,
        updated_at=at,
    )
    if clock is not None:
        _set_clock(case, clock)
    session.add(case)
    session.add_all(CasePartyName(case_id=case_id, role=role, name=name, registered_at=at)
                    for role, name in party_names(registration))
    session.add(
        Transition(
            case_id=case_id,
            seq=1,
            event="register",
            from_status="new",
            to_status="registered",
            actor_id=actor["id"],
            actor_name=actor["name"],
            actor_role=actor["role"],
            at=at,
            payload=registration,
        )
    )
    session.flush()
    return case


def get_case(*, session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id!r} not found")
    return case


def start_of_day(day: date, *, days_later: int = 0) -> datetime | None:
    """00:00 Asia/Shanghai of `day` (plus some days) in UTC, or None where that instant is outside what a
    datetime can hold (0001-01-01 or 9999-12-31): such a bound filters nothing out."""
    try:
        return datetime.combine(day + timedelta(days=days_later), time(), SHANGHAI).astimezone(timezone.utc)
    except OverflowError:
        return None


# The case list: newest first, a page at a time after the last (registered_at, id) seen (models/paging.py), the
# summary's columns only. Every filter on `cases` has an index that starts with its columns and ends with the order
# (models/tables.py Case). A mediator's cases and a party's name are in tables of their own that hold the case's
# registration time too: the list can then be read in that table's index order, so that a page reads the cases it
# shows and not every case that matches (`_led_by`).
CASES_ORDER = Keyset("cases", (col(Case.registered_at), col(Case.id)), ("time", "text"), descending=True)
SUMMARY_COLUMNS = (
    col(Case.id), col(Case.number), col(Case.committee_id), col(Case.status), col(Case.patient_name),
    col(Case.institution_name), col(Case.claim_amount), col(Case.registered_at), col(Case.updated_at),
    col(Case.due_date), col(Case.due_provisional), col(Case.payment_overdue), col(Case.next_deadline),
)
# sort=next_deadline: the case whose nearest deadline of any kind comes first, first (cases with none are left out)
DEADLINE_ORDER = Keyset("deadline", (col(Case.next_deadline), col(Case.id)), ("day", "text"), descending=False)
# A name's beginning that more cases than this share (王, 上海市) is read the other way round: the cases newest first,
# each checked against the names, which finds a page at once among so many.
DENSE_PREFIX = 2000


def search_cases(
    *,
    session: Session,
    filters: CaseListFilters | None = None,
    limit: int = 20,
    cursor: str | None = None,
    offset: int = 0,
    count: bool = False,
    scope: CaseScope | None = None,
) -> Slice:
    """The summaries of the cases matching every filter, newest first: the page after `cursor` (InvalidCursor if
    no page of this list gave it), with an estimated count when `count`. `scope` narrows to the cases a caller
    reaches (domain/access.py)."""
    filters = filters or CaseListFilters()
    if filters.sort == "next_deadline":
        conditions = [*_scope_filters(scope), *case_conditions(filters), col(Case.next_deadline).is_not(None)]
        query = select(*SUMMARY_COLUMNS)
        return page(session, lambda key: query.where(*conditions, *([DEADLINE_ORDER.after(key)] if key else [])),
                    DEADLINE_ORDER, limit=limit, cursor=cursor, offset=offset, count=count,
                    key_of=lambda row: (row.next_deadline, row.id), unfiltered=None)
    build, keyset, filtered = case_list_query(session, filters, scope)
    return page(session, build, keyset, limit=limit, cursor=cursor, offset=offset, count=count,
                key_of=lambda row: (row.registered_at, row.id), unfiltered=None if filtered else Case.__tablename__)


def case_list_query(
    session: Session, filters: CaseListFilters, scope: CaseScope | None = None
) -> tuple[Callable[[tuple[Any, ...] | None], Any], Keyset, bool]:
    """The case list's query as a function of the key a page starts after (no order, no limit), the keyset it is
    read in, and whether it filters anything."""
    conditions = [*_scope_filters(scope, mediator=False), *case_conditions(filters, related=False)]
    related = []  # (registered_at, case_id) of a related table's rows that select cases
    if filters.party and (name := normalise_name(filters.party)):
        exact = filters.party_match == "exact"
        names = select(CasePartyName.registered_at, CasePartyName.case_id).where(_name_matches(name, exact=exact))
        if exact or _sparse(session, names):
            related.append(names.distinct())
        else:
            conditions.append(col(Case.id).in_(names.with_only_columns(col(CasePartyName.case_id))))
    for mediator in (filters.mediator_id, scope.mediator_id if scope else None):
        if mediator:
            related.append(select(CaseMediator.registered_at, CaseMediator.case_id)
                           .where(CaseMediator.user_id == mediator))
    query = select(*SUMMARY_COLUMNS)
    filtered = bool(conditions or related)
    if not related:
        return (lambda key: query.where(*conditions, *([CASES_ORDER.after(key)] if key else []))), CASES_ORDER, filtered
    lead, *others = related
    conditions += [col(Case.id).in_(other.with_only_columns(other.selected_columns[1])) for other in others]
    return _led_by(query, lead, conditions), LEAD_ORDER, filtered


LEAD_ORDER = Keyset(CASES_ORDER.name, (literal_column("lead.registered_at", UTCDateTime()),
                                        literal_column("lead.case_id", String())), CASES_ORDER.kinds, descending=True)


def _led_by(query: Any, lead: Any, conditions: list[Any]) -> Callable[[tuple[Any, ...] | None], Any]:
    """The list read in the order of `lead` (registered_at, case_id of a related table's rows): the page's key
    condition and the order inside it, where its index answers them (a range read backwards, or the matches
    sorted), then each case fetched by id until the page is full."""
    columns = lead.selected_columns

    def build(key: tuple[Any, ...] | None) -> Any:
        rows = lead.where(Keyset("lead", tuple(columns), CASES_ORDER.kinds, descending=True).after(key)) \
            if key is not None else lead
        ordered = rows.order_by(columns[0].desc(), columns[1].desc()).subquery("lead")
        return query.join(ordered, ordered.c.case_id == Case.id).where(*conditions)
    return build


def _sparse(session: Session, names: Any) -> bool:
    """Whether at most DENSE_PREFIX names match: an index-only count that stops there."""
    probe = select(func.count()).select_from(names.limit(DENSE_PREFIX + 1).subquery())
    return int(session.execute(probe).scalar_one()) <= DENSE_PREFIX


def case_conditions(filters: CaseListFilters, *, related: bool = True) -> list[Any]:
    """SQL conditions on `cases` for a list's filters (with `related`, the mediator and the party's name too, as
    conditions). Days are days in Asia/Shanghai, both ends included."""
    conditions: list[Any] = []
    if filters.status:
        conditions.append(col(Case.status) == filters.status)
    if filters.committee_id:
        conditions.append(col(Case.committee_id) == filters.committee_id)
    if filters.registered_from and (start := start_of_day(filters.registered_from)) is not None:
        conditions.append(col(Case.registered_at) >= start)
    if filters.registered_to and (end := start_of_day(filters.registered_to, days_later=1)) is not None:
        conditions.append(col(Case.registered_at) < end)
    if filters.due_from:
        conditions.append(col(Case.due_date) >= filters.due_from)
    if filters.due_to:
        conditions.append(col(Case.due_date) <= filters.due_to)
    if filters.due_before:
        conditions.append(col(Case.next_deadline) < filters.due_before)
    if filters.identity and (key := patient_keys({"id_number": filters.identity})[0]):
        conditions.append(col(Case.patient_id_key) == key)  # by its key: the number itself is in no index
    if filters.phone and (digits := "".join(ch for ch in filters.phone if ch.isdigit())):
        conditions.append(cast(Case.registration, String).contains(digits, autoescape=True))
    if related and filters.mediator_id:
        conditions.append(col(Case.id).in_(
            select(CaseMediator.case_id).where(CaseMediator.user_id == filters.mediator_id)))
    if related and filters.party and (name := normalise_name(filters.party)):
        conditions.append(col(Case.id).in_(
            select(CasePartyName.case_id).where(_name_matches(name, exact=filters.party_match == "exact"))))
    if filters.q and (text := filters.q.strip().lower()):
        conditions.append(col(Case.search_text).contains(text, autoescape=True))
    return conditions


def _name_matches(name: str, *, exact: bool) -> Any:
    """A party's name equal to `name`, or beginning with it: a range of the names' index either way. The pattern is
    written out here (no `||` for the database to fold), escaped only when the name holds a LIKE wildcard."""
    column = col(CasePartyName.name)
    if exact:
        return column == name
    if any(ch in name for ch in "%_\\"):
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%", escape="\\")
    return column.like(name + "%")


def possible_duplicates(
    *, session: Session, registration: dict[str, Any], registered_before: datetime | None = None
) -> list[Case]:
    """Earlier cases of the same patient, institution and treatment (domain/duplicates.py), oldest first: all of
    them for a new registration, those registered before it for a registered case."""
    id_key, nb_key = patient_keys(registration["patient"])
    keys = [col(Case.patient_id_key) == id_key] if id_key else []
    keys += [col(Case.patient_nb_key) == nb_key] if nb_key else []
    if not keys:
        return []
    if registered_before is not None:
        keys = [and_(key, col(Case.registered_at) < registered_before) for key in keys]
    rows = session.exec(select(Case).where(or_(*keys)).order_by(col(Case.registered_at), col(Case.id))).all()
    return [c for c in rows if is_possible_duplicate(registration, c.registration)]


def assigned_mediators(*, session: Session, case_id: str) -> list[str]:
    """The mediators' accounts the director assigned at acceptance: they reach the case."""
    return list(session.exec(select(CaseMediator.user_id).where(CaseMediator.case_id == case_id)).all())


def assigned_mediators_of(*, session: Session, case_ids: Iterable[str]) -> dict[str, list[str]]:
    """`assigned_mediators` of several cases in one statement: case id → its mediators' accounts (every case
    asked for is a key)."""
    wanted = sorted(set(case_ids))
    found: dict[str, list[str]] = {case_id: [] for case_id in wanted}
    if wanted:
        rows = session.exec(select(CaseMediator.case_id, CaseMediator.user_id)
                            .where(col(CaseMediator.case_id).in_(wanted))).all()
        for case_id, user_id in rows:
            found[case_id].append(user_id)
    return found


def _scope_filters(scope: CaseScope | None, *, mediator: bool = True) -> list[Any]:
    """SQL conditions on `cases` for the cases within a caller's reach (without `mediator`, the committees only:
    the caller leads with the mediator's cases)."""
    if scope is None:
        return []
    filters: list[Any] = []
    if scope.committee_ids is not None:
        filters.append(col(Case.committee_id).in_(sorted(scope.committee_ids) or [""]))
    if mediator and scope.mediator_id is not None:
        assigned = select(CaseMediator.case_id).where(CaseMediator.user_id == scope.mediator_id)
        filters.append(col(Case.id).in_(assigned))
    return filters


def case_scope_filters(scope: CaseScope | None) -> list[Any]:
    """SQL conditions on `cases` for the cases within a caller's reach (domain/access.py `case_scope`)."""
    return _scope_filters(scope)


def guard_facts(*, session: Session, case: Case, today: date | None = None) -> dict[str, Any]:
    """The facts of a case that the lifecycle's guards read besides the event's payload (lifecycle.CASE_FACTS):
    the case's state (domain/case_state.py) built from the projection, read as the workflow reads its own."""
    today = today or datetime.now(SHANGHAI).date()
    open_sessions = [  # still scheduled: no minutes, not cancelled (a move keeps a session open)
        s.id for s in session.exec(select(MediationSession).where(MediationSession.case_id == case.id)).all()
        if s.minutes is None and s.status != "cancelled"
    ]
    state = CaseState.of_record(
        registration=case.registration, consents=case.consents, respondent=case.respondent_institution_id,
        signatures=case.signatures, open_sessions=open_sessions, agreement=case.agreement, payments=case.payments,
        mediators=case.mediators,
    )
    due, provisional = _mediation_due(session=session, case=case)
    return state.facts(today=today, consent_due_passed=_consent_due_passed(case, today), mediation_due=due,
                       mediation_due_provisional=provisional, effective_on=case.effective_on)


def _consent_due_passed(case: Case, today: date) -> bool:
    """PML 17: the consent deadline has passed on an exact date (a provisional one holds the case)."""
    due = next((d for d in case.deadlines if d.get("kind") == "consent_expired"), None)
    return due is not None and not due["provisional"] and date.fromisoformat(due["due_on"]) < today


def _mediation_due(*, session: Session, case: Case) -> tuple[date | None, bool]:
    """Reg 38: the due date of a running mediation clock, and whether it is provisional (rev 2: a provisional one
    bounds signatures and extensions too, as the workflow's does). For every case: a workflow started before
    "provisional-due-bounds-acts" keeps the earlier rule only so that what it recorded replays; a new act on it
    is checked here first, under the rule of today."""
    if case.status not in ("in_mediation", "signing") or not case.clock:
        return None, False
    due = MediationClock.from_dict(case.clock).due_date(working_day_calendar(session=session))
    return (due.date, due.provisional) if due is not None else (None, False)


# ---------------------------------------------------------------- transitions -----------------------
def record_transition(
    *,
    session: Session,
    case_id: str,
    seq: int,
    event: str,
    from_status: str,
    to_status: str,
    actor: dict[str, str],
    at: datetime,
    payload: dict[str, Any],
    request_id: str = "",
    clock: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    request_digest: str | None = None,
) -> bool:
    """Write one transition and update the case projection. Returns False if (case, seq) was written before."""
    exists = session.exec(
        select(Transition.id).where(Transition.case_id == case_id, Transition.seq == seq)
    ).first()
    if exists is not None:
        return False
    case = get_case(session=session, case_id=case_id)
    session.add(
        Transition(
            case_id=case_id,
            seq=seq,
            event=event,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor["id"],
            actor_name=actor["name"],
            actor_role=actor["role"],
            at=at,
            payload=payload,
            request_id=request_id,
            idempotency_key=idempotency_key,
            request_digest=request_digest,
        )
    )
    _project(session=session, case=case, event=event, payload=payload, at=at, seq=seq, actor=actor)
    if clock is not None:
        _set_clock(case, clock)
    _project_ending(session=session, case=case, event=event, payload=payload, at=at, to_status=to_status)
    case.status = to_status
    case.version = seq
    case.updated_at = at
    if to_status in CLOSED_STATES and case.closed_at is None:
        # Reg 38: a deadline found passed only when its year was loaded closes the case as of that deadline
        case.closed_at = datetime.fromisoformat(payload["deemed_at"]) if payload.get("deemed_at") else at
    session.add(case)
    session.flush()
    return True


def _project(
    *, session: Session, case: Case, event: str, payload: dict[str, Any], at: datetime, seq: int,
    actor: dict[str, str],
) -> None:
    """What an event changes in the case projection besides its state."""
    if event == "record_consent":
        case.consents = [*case.consents, {k: payload.get(k) for k in ("side", "consented_by", "method",
                                                                       "consented_at")} | {"seq": seq}]
    elif event == "link_respondent":
        case.respondent_institution_id = payload["institution_id"]
    elif event == "record_payment":
        case.payments = [*case.payments, {**payload, "seq": seq}]
    elif event == "accept":
        case.mediators = list(payload["mediators"])
        for user_id in payload.get("mediator_ids", []):
            session.merge(CaseMediator(case_id=case.id, user_id=user_id, registered_at=case.registered_at))
        case.accepted_at = at
    elif event == "reassign_mediators":  # the accounts named reach the case, the others no longer do
        case.mediators = list(payload["mediators"])
        _assign(session=session, case=case, user_ids=payload.get("mediator_ids", []))
    elif event == "draft_agreement":
        case.agreement = {k: v for k, v in payload.items() if not k.startswith("_")}
        case.agreement_version += 1
        case.signatures = {}
    elif event == "revise_agreement":
        case.signatures = {}
        for doc in session.exec(
            select(Document).where(Document.case_id == case.id,
                                   col(Document.kind).in_(("agreement", "agreement_draft")))
        ).all():
            doc.superseded = True
            session.add(doc)
    elif event == "sign":
        case.signatures = {**case.signatures, payload["signer"]: payload}
    elif event == "schedule_session":
        session.add(
            MediationSession(
                id=payload["session_id"],
                case_id=case.id,
                scheduled_seq=seq,
                scheduled_at=datetime.fromisoformat(payload["scheduled_at"]),
                place=payload["place"],
                mediators=payload["mediators"],
                attendees=payload.get("attendees", []),
            )
        )
    elif event == "record_minutes":
        minutes = session.get(MediationSession, payload["session_id"])
        if minutes is not None:
            minutes.minutes = payload
            minutes.minutes_seq = seq
            minutes.status = "held"
            session.add(minutes)
    elif event == "reschedule_session" and (
            moved := _session_of(session=session, case=case, session_id=payload["session_id"])) is not None:
        to_at = datetime.fromisoformat(payload["scheduled_at"])
        to_place = payload.get("place") or moved.place
        moved.moves = [*moved.moves, {
            "seq": seq, "from_at": _iso(moved.scheduled_at), "to_at": _iso(to_at), "from_place": moved.place,
            "to_place": to_place, "reason": payload["reason"]}]
        moved.scheduled_at, moved.place = to_at, to_place
        session.add(moved)
    elif event == "cancel_session" and (
            cancelled := _session_of(session=session, case=case, session_id=payload["session_id"])) is not None:
        cancelled.status = "cancelled"
        cancelled.cancellation = {"seq": seq, "reason": payload["reason"], "at": _iso(at)}
        session.add(cancelled)
    elif event in ("reject", "record_refusal", "consent_expired", "declare_failed", "deadline_expired",
                   "terminate", "confirm_performance", "record_nonperformance"):
        case.outcome = {"event": event, **payload}
    elif event == "archive":
        case.archived_at = at
    elif event == "amend_parties":  # the patient side as now registered: its documents, its search, its names
        case.registration = {**case.registration,
                             "patient_representatives": [dict(r) for r in payload["patient_representatives"]]}
        case.search_text = _search_text(case.registration, case.number)
        _rename(session=session, case=case)
    elif event == "request_consultation":  # Reg 33: the panel the workflow draws and invites
        create_panel(
            session=session, panel_id=payload["panel_id"], case_id=case.id, seq=seq,
            specialties=list(payload["specialties"]), question=payload.get("question", ""),
            institution_id=case.respondent_institution_id, requested_by=actor["name"], at=at,
        )


def _project_ending(
    *, session: Session, case: Case, event: str, payload: dict[str, Any], at: datetime, to_status: str
) -> None:
    """What the statistics keep of how mediation ended (domain/statistics.py, docs/statistics.md), written by the
    event that ends it — the last of the four signatures (Reg 39), a rejection, a failure, a termination — and by
    what follows an agreement: its payments, how performance closed, judicial confirmation. The working days are
    counted here, once, with the working-day calendar the database holds; the report only adds them up."""
    if event == "record_payment" and payload.get("amount") is not None:
        case.paid_amount = (case.paid_amount or Decimal("0.00")) + Decimal(str(payload["amount"]))
    elif event in PERFORMANCE_EVENTS:
        case.performance_result = PERFORMANCE_EVENTS[event]
    elif event == "record_judicial_confirmation" and payload.get("applied") and case.judicial_applied_on is None:
        applied = payload.get("applied_on")
        case.judicial_applied_on = date.fromisoformat(str(applied)) if applied else at.astimezone(SHANGHAI).date()
    if case.result is not None:
        return
    if event == "sign" and to_status == "performance":
        result = SETTLED
        day = case.effective_on or at.astimezone(SHANGHAI).date()
        amounts = agreed_amounts((case.agreement or {}).get("terms", []), case.registration)
        if amounts is not None:
            case.agreed_amount, case.agreed_institution = amounts["total"], amounts["institution"]
            case.agreed_insurer, case.agreed_other = amounts["insurer"], amounts["other"]
    elif event in ENDING_EVENTS:
        result = ENDING_EVENTS[event]
        day = ended_on(event, payload, at)
        if result == REJECTED:
            case.rejection_reasons = reason_mask(rejection_reasons(event, payload))
        elif result == TERMINATED:
            case.termination_ground = payload.get("ground")
    else:
        return
    case.result, case.ended_on = result, day
    timed = mediation_time(case.clock, ended=day, calendar=working_day_calendar(session=session), result=result)
    if timed is not None:
        case.duration_wd, case.appraisal_wd, case.deadline_kept = timed.duration_wd, timed.appraisal_wd, \
            timed.deadline_kept


def _rename(*, session: Session, case: Case) -> None:
    """The case's party names (the list's `party` filter) as its registration now stands: an amendment adds a
    representative's name and drops a removed one's."""
    wanted = set(party_names(case.registration))
    stored = session.exec(select(CasePartyName).where(col(CasePartyName.case_id) == case.id)).all()
    for row in stored:
        if (row.role, row.name) not in wanted:
            session.delete(row)
    kept = {(row.role, row.name) for row in stored}
    session.add_all(CasePartyName(case_id=case.id, role=role, name=name, registered_at=case.registered_at)
                    for role, name in sorted(wanted - kept))


def _assign(*, session: Session, case: Case, user_ids: Sequence[str]) -> None:
    """The mediators' accounts that reach the case are exactly `user_ids` (case_mediators)."""
    wanted = set(user_ids)
    for row in session.exec(select(CaseMediator).where(CaseMediator.case_id == case.id)).all():
        if row.user_id not in wanted:
            session.delete(row)
    for user_id in user_ids:
        session.merge(CaseMediator(case_id=case.id, user_id=user_id, registered_at=case.registered_at))


def _session_of(*, session: Session, case: Case, session_id: str) -> MediationSession | None:
    """The case's session: the lifecycle lets only one of its open sessions through, so None never happens (and a
    retried write must not fail for ever on it)."""
    row = session.get(MediationSession, session_id)
    return row if row is not None and row.case_id == case.id else None


def _iso(moment: datetime) -> str:
    """A time as the projection's JSON keeps it: ISO 8601 in Asia/Shanghai."""
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).isoformat()


def _set_clock(case: Case, clock: dict[str, Any]) -> None:
    """The clocks' projection, as DisputeWorkflow._projection derives it (domain/projection.py `project`): the
    row's columns, and in `clock` what recomputes them when the workflow wrote it."""
    for name, value in projection_columns(clock).items():
        setattr(case, name, value)


def record_clock(*, session: Session, case_id: str, clock: dict[str, Any]) -> None:
    """Rewrite a case's clocks (after a timer fired or a calendar year was loaded)."""
    case = get_case(session=session, case_id=case_id)
    _set_clock(case, clock)
    session.add(case)
    session.flush()


def add_notification(
    *,
    session: Session,
    notification_id: str,
    case_id: str,
    kind: str,
    recipient_role: str,
    recipients: list[str],
    message: str,
    at: datetime,
    channel: str,
    due_on: date | None = None,
) -> bool:
    """Put a notification in the outbox; False if it was there already (a retried activity)."""
    if session.get(Notification, notification_id) is not None:
        return False
    session.add(
        Notification(
            id=notification_id,
            case_id=case_id,
            kind=kind,
            recipient_role=recipient_role,
            recipients=recipients,
            message=message,
            created_at=at,
            due_on=due_on,
            channel=channel,
        )
    )
    session.flush()
    return True


def mark_delivered(*, session: Session, notification_id: str, at: datetime) -> bool:
    """Marks a notification delivered; False if it was already. The caller delivers before it commits."""
    row = session.get(Notification, notification_id)
    if row is None or row.delivered_at is not None:
        return False
    row.delivered_at = at
    session.add(row)
    session.flush()
    return True


NOTIFICATIONS_ORDER = Keyset("notifications", (col(Notification.created_at), col(Notification.id)), ("time", "text"),
                             descending=True)


def list_notifications(
    *,
    session: Session,
    case_id: str | None = None,
    kind: str | None = None,
    recipient_role: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    offset: int = 0,
    count: bool = False,
    scope: CaseScope | None = None,
    delivery_status: str | None = None,
) -> Slice:
    """The outbox, newest first, a page after `cursor`; `scope` keeps the notifications of the cases a caller
    reaches; `delivery_status` those with a delivery in that status (failed: what did not reach someone)."""
    filters: list[Any] = []
    if scope is not None and (case_filters := _scope_filters(scope)):
        filters.append(col(Notification.case_id).in_(select(Case.id).where(*case_filters)))
    if case_id:
        filters.append(col(Notification.case_id) == case_id)
    if kind:
        filters.append(col(Notification.kind) == kind)
    if recipient_role:
        filters.append(col(Notification.recipient_role) == recipient_role)
    if delivery_status:
        filters.append(col(Notification.id).in_(
            select(Delivery.notification_id).where(Delivery.status == delivery_status)))
    return page(session, select(Notification).where(*filters), NOTIFICATIONS_ORDER, limit=limit, cursor=cursor,
                offset=offset, count=count, unfiltered=None if filters else Notification.__tablename__)


# ---------------------------------------------------------------- calendar --------------------------
def calendar_years(*, session: Session) -> Sequence[CalendarYear]:
    """The admin-loaded year tables, by year."""
    return session.exec(select(CalendarYear).order_by(col(CalendarYear.year))).all()


def calendar_version(*, session: Session) -> tuple[tuple[int, datetime], ...]:
    """What changes when a year table is loaded, without reading the tables: each loaded year and when."""
    rows = session.exec(select(CalendarYear.year, CalendarYear.loaded_at).order_by(col(CalendarYear.year))).all()
    return tuple((year, loaded_at) for year, loaded_at in rows)


def working_day_calendar(*, session: Session) -> WorkingDayCalendar:
    """The working-day calendar: chinesecalendar plus every loaded year table."""
    return WorkingDayCalendar({row.year: YearTable.from_dict(row.table) for row in calendar_years(session=session)})


@dataclass(frozen=True)
class StoredCalendar:
    """The loaded year tables as read at `version` (calendar_version), and their digest (calendar_digest)."""

    version: tuple[tuple[int, datetime], ...]
    tables: dict[str, Any]
    digest: str


class StoredCalendarCache:
    """The loaded year tables, read again only when a year was loaded since the last read: one small query per
    call otherwise (each year and when it was loaded). Safe to share between threads (a race reads twice)."""

    def __init__(self) -> None:
        self._last: StoredCalendar | None = None

    def current(self, *, session: Session) -> StoredCalendar:
        version = calendar_version(session=session)
        last = self._last
        if last is None or last.version != version:
            tables = working_day_calendar(session=session).to_dict()
            last = self._last = StoredCalendar(version, tables, calendar_digest(tables))
        return last


def save_calendar_year(*, session: Session, table: YearTable, at: datetime, by: str) -> CalendarYear:
    row = session.get(CalendarYear, table.year)
    if row is None:
        row = CalendarYear(year=table.year, table=table.to_dict(), loaded_at=at, loaded_by=by)
    else:
        row.table, row.loaded_at, row.loaded_by = table.to_dict(), at, by
    session.add(row)
    session.flush()
    return row


def open_case_ids(*, session: Session, after: str = "", limit: int = 1000) -> list[str]:
    """Cases whose workflow still runs (not archived), by id, a page at a time (keyset: ids after `after`)."""
    return list(
        session.exec(
            select(Case.id).where(col(Case.status) != "archived", col(Case.id) > after).order_by(col(Case.id)).limit(limit)
        ).all()
    )


_NO_DUE_DATE = date(9999, 12, 31)  # a provisional case without a due date comes last, on every backend
_DUE_FIRST = func.coalesce(col(Case.due_date), _NO_DUE_DATE)
PROVISIONAL_ORDER = Keyset("provisional", (_DUE_FIRST, col(Case.id)), ("day", "text"), descending=False)
_PROVISIONAL = (col(Case.due_provisional).is_(True), col(Case.status) != "archived")


def provisional_page(
    *, session: Session, limit: int = 100, cursor: str | None = None, offset: int = 0, count: bool = False
) -> Slice:
    """Open cases with a provisional deadline (a year the calendar does not know), earliest due date first, a
    page after `cursor`."""
    return page(session, select(Case).where(*_PROVISIONAL), PROVISIONAL_ORDER, limit=limit, cursor=cursor,
                offset=offset, count=count, key_of=lambda case: (case.due_date or _NO_DUE_DATE, case.id))


def provisional_cases(*, session: Session, limit: int = 100, offset: int = 0) -> tuple[Sequence[Case], int]:
    """The first `limit` of them, and how many there are (for the years they reach: api/services/calendar.py)."""
    total = session.exec(select(func.count()).select_from(Case).where(*_PROVISIONAL)).one()
    rows = session.exec(
        select(Case).where(*_PROVISIONAL).order_by(_DUE_FIRST, col(Case.id)).limit(limit).offset(offset)
    ).all()
    return rows, int(total)


def get_transition(*, session: Session, case_id: str, seq: int) -> Transition:
    row = session.exec(select(Transition).where(Transition.case_id == case_id, Transition.seq == seq)).first()
    if row is None:
        raise NotFound(f"case {case_id!r} has no transition {seq}")
    return row


def transition_by_key(*, session: Session, case_id: str, key: str) -> Transition | None:
    """The transition a staff action with this Idempotency-Key recorded, if any."""
    return session.exec(
        select(Transition).where(Transition.case_id == case_id, Transition.idempotency_key == key)
    ).first()


def list_transitions(*, session: Session, case_id: str) -> Sequence[Transition]:
    return session.exec(select(Transition).where(Transition.case_id == case_id).order_by(col(Transition.seq))).all()


def list_sessions(*, session: Session, case_id: str) -> Sequence[MediationSession]:
    return session.exec(
        select(MediationSession)
        .where(MediationSession.case_id == case_id)
        .order_by(col(MediationSession.scheduled_seq))
    ).all()


# ---------------------------------------------------------------- documents -------------------------
def find_document(*, session: Session, case_id: str, kind: str, lang: str, source_seq: int) -> Document | None:
    return session.exec(
        select(Document).where(
            Document.case_id == case_id,
            Document.kind == kind,
            Document.lang == lang,
            Document.source_seq == source_seq,
        )
    ).first()


def save_document(*, session: Session, document: Document, data: bytes) -> Document:
    session.add(document)
    session.add(DocumentContent(document_id=document.id, data=data))
    session.flush()
    return document


def agreement_number(*, session: Session, case_id: str) -> str | None:
    """The number of the case's current (not superseded) agreement, if it has one."""
    return session.exec(
        select(Document.number).where(
            Document.case_id == case_id, Document.kind == "agreement", col(Document.superseded).is_(False)
        ).order_by(col(Document.source_seq).desc())
    ).first()


def list_documents(*, session: Session, case_id: str) -> Sequence[Document]:
    return session.exec(
        select(Document).where(Document.case_id == case_id).order_by(col(Document.source_seq), col(Document.lang))
    ).all()


def get_document(*, session: Session, document_id: str) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"document {document_id!r} not found")
    return document


def get_document_content(*, session: Session, document_id: str) -> bytes:
    content = session.get(DocumentContent, document_id)
    if content is None:
        raise NotFound(f"document {document_id!r} has no content")
    return content.data


def recount_mediation_times(*, session: Session, year: int, calendar: WorkingDayCalendar,
                            batch: int = 500) -> int:
    """A calendar year loaded: the working days of the cases whose mediation ended and ran through part of that
    year (accepted before its end, ended after its start) are counted again with it (Reg 38: the days used, the
    days paused, the deadline kept), so that the reports read what the year's real table says. The number of
    cases whose figures changed."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    changed, after = 0, ""
    while True:
        rows = session.exec(
            select(Case).where(col(Case.result).is_not(None), col(Case.ended_on) >= start,
                               col(Case.accepted_at) < datetime.combine(end + timedelta(days=1), time(), SHANGHAI),
                               col(Case.id) > after)
            .order_by(col(Case.id)).limit(batch)).all()
        if not rows:
            return changed
        for case in rows:
            assert case.ended_on is not None and case.result is not None
            timed = mediation_time(case.clock, ended=case.ended_on, calendar=calendar, result=case.result)
            if timed is None:
                continue
            now = (timed.duration_wd, timed.appraisal_wd, timed.deadline_kept)
            if now != (case.duration_wd, case.appraisal_wd, case.deadline_kept):
                case.duration_wd, case.appraisal_wd, case.deadline_kept = now
                session.add(case)
                changed += 1
        session.flush()
        after = rows[-1].id
