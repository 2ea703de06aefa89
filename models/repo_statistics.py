"""The statistics' reads (GET /statistics, api/services/statistics.py): aggregates the database computes, nothing is
written. Keyword-only functions.

Each figure is counted by the day of what it counts (docs/statistics.md), as one range of an index on that day,
in the committees asked for (one range per committee) or everywhere:

| Read | Rows | Range of |
|---|---|---|
| `applications` | cases registered in the period: how many, what they claimed | `ix_cases_committee_registered` |
| `acceptances` | cases accepted in the period | `ix_cases_committee_accepted` |
| `endings` | cases whose mediation ended in the period: by result, reason and ground, their working days, the deadline kept, the agreed amounts, how performance stood at the period's end | `ix_cases_committee_ended` |
| `payments` | payments recorded by the period's end against the agreements that took effect in it | `ix_cases_committee_ended`, the transitions by case |
| `open_at` | cases accepted and not ended at each end (of the period, or of each month) and at the start | `ix_cases_committee_accepted` |
| `pending_at` | cases registered, neither accepted nor ended, at each end and at the start | `ix_cases_committee_registered` |
| `activity` | extensions, appraisals, consultations and follow-ups recorded in the period | `ix_transitions_event_at` |
| `expert_answers` | experts' parts of an opinion given in the period | `ix_invitations_opinion_at` |
| `judicial` | cases whose parties applied for judicial confirmation in the period | `ix_cases_committee_judicial` |
| `overdue_at` | cases with a payment overdue, performance not closed, at each end | the outbox by kind |

Every read is `GROUP BY` the group's key (the month of the day it counts by, in Asia/Shanghai, or a column of the
case), with `SUM(CASE …)` for the counts inside a group; the key is computed in a subquery, so that both databases
group by it whatever bound values it holds. The median and the 90th percentile are `percentile_cont` on PostgreSQL;
SQLite has no such aggregate, so there `endings` also reads the few columns they are computed from (working days,
amounts) of the same rows, and domain/statistics.py interpolates them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, text, tuple_
from sqlmodel import Session, col, select

from domain.lifecycle import REJECT_REASONS, TERMINATION_GROUNDS
from domain.statistics import (
    FAILED_DEADLINE,
    FAILED_DECLARED,
    PERFORMED,
    REFERRED_TO_COURT,
    REJECTED,
    SETTLED,
    TERMINATED,
    Month,
    median,
    percentile,
    reason_bit,
)
from models.repo import start_of_day
from models.tables import Case, Committee, Invitation, Notification, Transition

# What each group is keyed by, besides its month: a column of the case.
GROUP_COLUMNS: dict[str, Any] = {
    "committee": col(Case.committee_id),
    "institution": col(Case.institution_key),
    "department": col(Case.department),
    "kind": col(Case.dispute_kind),
    "level": col(Case.institution_level),
    "harm": col(Case.harm),
}
# The events `activity` counts, and the figure each one is.
ACTIVITY_EVENTS = {"extend_deadline": "extensions", "start_appraisal": "appraisals", "request_consultation": "panels",
                   "record_followup": "followups"}
ALL = "all"
TOTAL = "\x00total"  # the total beside the groups (Window.with_total): no group's key

Figures = dict[str, dict[str, Any]]  # group key → figure → value


@dataclass(frozen=True)
class Window:
    """The period (days in Asia/Shanghai, both included), its months, the committees counted (None: every one) and
    what the figures are grouped by."""

    period_from: date
    period_to: date
    months: Sequence[Month]
    committee_ids: Collection[str] | None
    group_by: str
    # PostgreSQL, grouped by a column of the case: each read returns the total too, under TOTAL, from the same
    # statement (GROUPING SETS ((key), ())) instead of a second pass over the same rows
    with_total: bool = False

    @property
    def start(self) -> datetime:
        start = start_of_day(self.period_from)
        assert start is not None
        return start

    @property
    def end(self) -> datetime:
        """The instant the period ends: 24:00 of its last day."""
        end = start_of_day(self.period_to, days_later=1)
        assert end is not None
        return end

    def total(self) -> Window:
        return Window(self.period_from, self.period_to, self.months, self.committee_ids, "none")

    def and_total(self) -> Window:
        """The same window, its reads returning the total beside the groups (PostgreSQL; not by month, where a
        group's figures are taken at its own month's end, not the period's)."""
        assert self.group_by not in ("none", "month")
        return Window(self.period_from, self.period_to, self.months, self.committee_ids, self.group_by, True)


def _key(window: Window, *, instant: Any = None, day: Any = None) -> Any:
    """The group's key of a row: the month of `instant` (a time) or `day` (a date), or a column of the case."""
    if window.group_by == "none":
        return literal(ALL)
    if window.group_by != "month":
        return GROUP_COLUMNS[window.group_by]
    months = list(window.months)
    if instant is not None:
        whens = [(instant < start_of_day(following.first), month.key) for month, following in pairwise(months)]
    else:
        whens = [(day <= month.last, month.key) for month in months[:-1]]
    return case(*whens, else_=literal(months[-1].key)) if whens else literal(months[-1].key)


def _in_reach(window: Window) -> list[Any]:
    if window.committee_ids is None:
        return []
    return [col(Case.committee_id).in_(sorted(window.committee_ids) or [""])]


def plan_for_these_values(session: Session) -> None:
    """PostgreSQL: plan this transaction's reads for the values they are given (a period, committees), never with
    a generic plan. The driver prepares a statement run five times on a connection; PostgreSQL may then plan it once
    for any values, and a generic plan of these ranges reads far more than the period (a report measured 60 ms
    before, 200 ms after)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _grouped(session: Session, window: Window, inner: Any,
             aggregates: Callable[[Any], Mapping[str, Any]]) -> Figures:
    """`inner` selects a `key` and the columns `aggregates` adds up; one row per key (and the total, under TOTAL,
    when the window asks for it)."""
    sub = inner.subquery("counted")
    figures = aggregates(sub.c)
    labelled = [expr.label(name) for name, expr in figures.items()]
    if not window.with_total:
        rows = session.execute(select(sub.c.key, *labelled).group_by(sub.c.key)).mappings().all()
        return {str(row["key"]): {name: row[name] for name in figures} for row in rows}
    rows = session.execute(select(sub.c.key, func.grouping(sub.c.key).label("is_total"), *labelled)
                           .group_by(func.grouping_sets(sub.c.key, tuple_()))).mappings().all()
    return {TOTAL if row["is_total"] else str(row["key"]): {name: row[name] for name in figures} for row in rows}


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


# ---------------------------------------------------------------- the reads ---------------------------
def applications(*, session: Session, window: Window) -> Figures:
    """Cases registered in the period: how many, what they claimed, and the institution's name as registered."""
    inner = select(_key(window, instant=col(Case.registered_at)).label("key"), col(Case.claim_amount),
                   col(Case.institution_name)).where(
        *_in_reach(window), col(Case.registered_at) >= window.start, col(Case.registered_at) < window.end)
    return _grouped(session, window, inner, lambda c: {
        "applications": func.count(), "claimed_total": func.sum(c.claim_amount), "name": func.max(c.institution_name)})


def acceptances(*, session: Session, window: Window) -> Figures:
    """Cases accepted in the period, and of those the ones whose agreement took effect by the end of the period —
    by month, by the end of the month they were accepted in (`accepted_settled`, the success rate's numerator)."""
    inner = select(_key(window, instant=col(Case.accepted_at)).label("key"), col(Case.accepted_at),
                   col(Case.result), col(Case.ended_on), col(Case.institution_name)).where(
        *_in_reach(window), col(Case.accepted_at) >= window.start, col(Case.accepted_at) < window.end)
    return _grouped(session, window, inner, lambda c: {
        "accepted": func.count(),
        "accepted_settled": _count(and_(c.result == SETTLED, _by_group_end(
            window, lambda month: and_(c.accepted_at >= start_of_day(month.first),
                                       c.accepted_at < start_of_day(month.last, days_later=1)),
            lambda last: c.ended_on <= last))),
        "name": func.max(c.institution_name)})


def _by_group_end(window: Window, in_month: Callable[[Month], Any], by: Callable[[date], Any]) -> Any:
    """`by(last)`, `last` the last day of the row's group: by month, the month the row is in (`in_month`); else the
    period's."""
    if window.group_by != "month":
        return by(window.period_to)
    return or_(*(and_(in_month(month), by(month.last)) for month in window.months))


ENDING_COLUMNS = (col(Case.accepted_at), col(Case.ended_on), col(Case.result), col(Case.rejection_reasons),
                  col(Case.termination_ground), col(Case.performance_result), col(Case.duration_wd),
                  col(Case.appraisal_wd), col(Case.deadline_kept),
                  col(Case.agreed_amount), col(Case.agreed_institution), col(Case.agreed_insurer),
                  col(Case.agreed_other), col(Case.closed_at), col(Case.institution_name))


def _ended(window: Window) -> Any:
    return select(_key(window, day=col(Case.ended_on)).label("key"), *ENDING_COLUMNS).where(
        *_in_reach(window), col(Case.ended_on) >= window.period_from, col(Case.ended_on) <= window.period_to)


def endings(*, session: Session, window: Window) -> Figures:
    """Cases whose mediation ended in the period: counted by result, rejection reason, termination ground and how
    performance stood at the period's end — `closed` (结案) counts the accepted cases' endings only, a termination
    before acceptance is `terminated_before_acceptance`, apart like the rejections; their working days, the deadline
    kept, the agreed amounts by payer; the median and 90th percentile of the working days and the median agreed
    amount."""
    postgres = session.get_bind().dialect.name == "postgresql"

    def aggregates(c: Any) -> dict[str, Any]:
        settled = c.result == SETTLED
        accepted = c.accepted_at.is_not(None)
        # how performance stood at the end of the period (by month: of the month it ended in), so that a period's
        # figures never change afterwards: closed_at is when performance was confirmed or nonperformance recorded
        closed_by_end = _by_group_end(window, lambda month: and_(c.ended_on >= month.first, c.ended_on <= month.last),
                                      lambda last: c.closed_at < start_of_day(last, days_later=1))
        terminated = and_(c.result == TERMINATED, accepted)
        measured = c.duration_wd.is_not(None)
        figures: dict[str, Any] = {
            "rejected": _count(c.result == REJECTED),
            **{f"reason_{n}": _count(and_(c.result == REJECTED, c.rejection_reasons.op("&")(reason_bit(n)) != 0))
               for n in REJECT_REASONS},
            "settled": _count(settled),
            "settled_performed": _count(and_(settled, c.performance_result == PERFORMED, closed_by_end)),
            "settled_referred_to_court": _count(and_(settled, c.performance_result == REFERRED_TO_COURT,
                                                     closed_by_end)),
            "failed_deadline": _count(c.result == FAILED_DEADLINE),
            "failed_declared": _count(c.result == FAILED_DECLARED),
            "closed": _count(and_(accepted, c.result != REJECTED)),
            "terminated": _count(terminated),
            "terminated_before_acceptance": _count(and_(c.result == TERMINATED, c.accepted_at.is_(None))),
            **{f"ground_{g}": _count(and_(terminated, c.termination_ground == g)) for g in TERMINATION_GROUNDS},
            "measured": _count(measured),
            "kept_deadline": _count(and_(measured, c.deadline_kept.is_(True))),
            "appraisal_cases": _count(and_(measured, c.appraisal_wd.is_not(None))),
            "agreements": _count(and_(settled, c.agreed_amount.is_not(None))),
            "agreed_total": func.sum(case((settled, c.agreed_amount))),
            "agreed_institution": func.sum(case((settled, c.agreed_institution))),
            "agreed_insurer": func.sum(case((settled, c.agreed_insurer))),
            "agreed_other": func.sum(case((settled, c.agreed_other))),
            "name": func.max(c.institution_name),
        }
        if postgres:  # ordered-set aggregates: NULLs (cases not measured, no appraisal, no money) are left out
            figures |= {
                "median_wd": func.percentile_cont(0.5).within_group(c.duration_wd),
                "p90_wd": func.percentile_cont(0.9).within_group(c.duration_wd),
                "appraisal_median_wd": func.percentile_cont(0.5).within_group(c.appraisal_wd),
                # in fen: a half fen at most, exact in a double (domain/statistics.py cents_to_yuan)
                "agreed_median_fen": func.percentile_cont(0.5).within_group(
                    case((settled, c.agreed_amount * 100))),
            }
        return figures

    found = _grouped(session, window, _ended(window), aggregates)
    if not postgres:
        _interpolate(session, window, found)
    return found


def _interpolate(session: Session, window: Window, found: Figures) -> None:
    """SQLite: the median and the 90th percentile over the working days and amounts of the same rows."""
    sub = _ended(window).subquery("ended")
    values: dict[str, dict[str, list[Any]]] = {}
    for key, duration, appraisal, result, agreed in session.execute(
            select(sub.c.key, sub.c.duration_wd, sub.c.appraisal_wd, sub.c.result, sub.c.agreed_amount).where(
                or_(sub.c.duration_wd.is_not(None), sub.c.agreed_amount.is_not(None)))):
        of = values.setdefault(str(key), {"duration": [], "appraisal": [], "agreed": []})
        if duration is not None:
            of["duration"].append(duration)
        if appraisal is not None:
            of["appraisal"].append(appraisal)
        if agreed is not None and result == SETTLED:
            of["agreed"].append(agreed)
    for key, figures in found.items():
        of = values.get(key, {"duration": [], "appraisal": [], "agreed": []})
        figures["median_wd"] = median(of["duration"])
        figures["p90_wd"] = percentile(of["duration"], 0.9)
        figures["appraisal_median_wd"] = median(of["appraisal"])
        figures["agreed_amounts"] = of["agreed"]


def payments(*, session: Session, window: Window) -> Figures:
    """What was paid against the agreements that took effect in the period, as recorded by the end of the period (by
    month: of the month the agreement took effect in): the `record_payment` transitions before that instant. Their
    amounts are in the payload (JSON), summed here, exactly."""
    inner = select(_key(window, day=col(Case.ended_on)).label("key"), col(Transition.payload)).select_from(
        Transition).join(Case, col(Case.id) == col(Transition.case_id)).where(
        *_in_reach(window), col(Case.result) == SETTLED, col(Case.ended_on) >= window.period_from,
        col(Case.ended_on) <= window.period_to, col(Transition.event) == "record_payment",
        _by_group_end(window, lambda month: and_(col(Case.ended_on) >= month.first, col(Case.ended_on) <= month.last),
                      lambda last: col(Transition.at) < start_of_day(last, days_later=1)))
    found: Figures = {}
    for key, payload in session.execute(inner):
        amount = (payload or {}).get("amount")
        if amount is not None:
            for into_key in (str(key), TOTAL) if window.with_total else (str(key),):
                into = found.setdefault(into_key, {"paid_total": Decimal("0.00")})
                into["paid_total"] += Decimal(str(amount))
    return found


def open_at(*, session: Session, window: Window) -> Figures:
    """Cases accepted and still in mediation at the end of the period — or, by month, at the end of each month —
    and at its start (the end of the day before it: 上期结转)."""
    ends = _ends(window, starts=True)
    since = window.period_from - timedelta(days=1)  # every case open at the start or at some end
    inner = select(_key_at_end(window), col(Case.accepted_at), col(Case.ended_on)).where(
        *_in_reach(window), col(Case.accepted_at) < window.end,
        or_(col(Case.ended_on).is_(None), col(Case.ended_on) > since))
    found = _grouped(session, window, inner, lambda c: {
        key: _count(and_(c.accepted_at < start_of_day(last, days_later=1),
                         or_(c.ended_on.is_(None), c.ended_on > last))) for key, last in ends.items()})
    return _by_end(window, found, "open_at_end", start_name="open_at_start")


def pending_at(*, session: Session, window: Window) -> Figures:
    """Cases registered and awaiting the decision to accept them (neither accepted nor ended) at the end of the
    period — or, by month, of each month — and at its start."""
    ends = _ends(window, starts=True)
    since = window.period_from - timedelta(days=1)
    after = start_of_day(since, days_later=1)
    inner = select(_key_at_end(window), col(Case.registered_at), col(Case.accepted_at), col(Case.ended_on)).where(
        *_in_reach(window), col(Case.registered_at) < window.end,
        or_(col(Case.accepted_at).is_(None), col(Case.accepted_at) >= after),
        or_(col(Case.ended_on).is_(None), col(Case.ended_on) > since))
    found = _grouped(session, window, inner, lambda c: {
        key: _count(and_(c.registered_at < start_of_day(last, days_later=1),
                         or_(c.accepted_at.is_(None), c.accepted_at >= start_of_day(last, days_later=1)),
                         or_(c.ended_on.is_(None), c.ended_on > last))) for key, last in ends.items()})
    return _by_end(window, found, "pending_at_end", start_name="pending_at_start")


def overdue_at(*, session: Session, window: Window) -> Figures:
    """Cases with a payment overdue (the outbox's `payment_overdue`, PML 31) whose performance was not closed yet,
    at the end of the period — or, by month, at the end of each month."""
    ends = _ends(window)
    first = select(col(Notification.case_id).label("case_id"), func.min(Notification.created_at).label("first")) \
        .where(col(Notification.kind) == "payment_overdue", col(Notification.created_at) < window.end) \
        .group_by(col(Notification.case_id)).subquery("overdue")
    since = start_of_day(window.months[0].last if window.group_by == "month" else window.period_to, days_later=1)
    inner = select(_key_at_end(window), first.c.first, col(Case.closed_at)).select_from(Case).join(
        first, first.c.case_id == col(Case.id)).where(
        *_in_reach(window), or_(col(Case.closed_at).is_(None), col(Case.closed_at) >= since))
    found = _grouped(session, window, inner, lambda c: {
        key: _count(and_(c.first < start_of_day(last, days_later=1),
                         or_(c.closed_at.is_(None), c.closed_at >= start_of_day(last, days_later=1))))
        for key, last in ends.items()})
    return _by_end(window, found, "overdue_payments")


def _key_at_end(window: Window) -> Any:
    """The key of a figure taken at an end: by month, one row whose columns are the months' ends."""
    return (literal(ALL) if window.group_by == "month" else _key(window)).label("key")


def _ends(window: Window, *, starts: bool = False) -> dict[str, date]:
    """The days at whose end a figure is taken: each month's last (by month), or the period's; with `starts`, the
    day before the period too (a month's start is the previous month's end)."""
    found = {"at_start": window.period_from - timedelta(days=1)} if starts else {}
    if window.group_by == "month":
        return found | {f"m{i}": month.last for i, month in enumerate(window.months)}
    return found | {"at_end": window.period_to}


def _by_end(window: Window, found: Figures, name: str, *, start_name: str | None = None) -> Figures:
    if window.group_by != "month":
        return {key: {name: figures["at_end"] or 0} | ({start_name: figures["at_start"] or 0} if start_name else {})
                for key, figures in found.items()}
    row = found.get(ALL, {})
    return {month.key: {name: row.get(f"m{i}") or 0}
            | ({start_name: row.get(f"m{i - 1}" if i else "at_start") or 0} if start_name else {})
            for i, month in enumerate(window.months)}


def activity(*, session: Session, window: Window) -> Figures:
    """Extensions agreed (Reg 38), appraisals commissioned (Reg 34), consultations asked for (Reg 33) and follow-up
    visits recorded in the period: their transitions."""
    inner = select(_key(window, instant=col(Transition.at)).label("key"), col(Transition.event),
                   col(Case.institution_name)).select_from(Transition).join(
        Case, col(Case.id) == col(Transition.case_id)).where(
        col(Transition.event).in_(sorted(ACTIVITY_EVENTS)), col(Transition.at) >= window.start,
        col(Transition.at) < window.end, *_in_reach(window))
    return _grouped(session, window, inner, lambda c: {
        **{figure: _count(c.event == event) for event, figure in ACTIVITY_EVENTS.items()},
        "name": func.max(c.institution_name)})


def expert_answers(*, session: Session, window: Window) -> Figures:
    """The experts' parts of an opinion given in the period (Reg 33), a part later voided included."""
    inner = select(_key(window, instant=col(Invitation.opinion_at)).label("key"), col(Case.institution_name)) \
        .select_from(Invitation).join(Case, col(Case.id) == col(Invitation.case_id)).where(
        col(Invitation.opinion_at) >= window.start, col(Invitation.opinion_at) < window.end, *_in_reach(window))
    return _grouped(session, window, inner, lambda c: {"expert_answers": func.count(),
                                                       "name": func.max(c.institution_name)})


def judicial(*, session: Session, window: Window) -> Figures:
    """Cases whose parties applied for judicial confirmation in the period (PML 33), by the day they applied."""
    inner = select(_key(window, day=col(Case.judicial_applied_on)).label("key"), col(Case.institution_name)).where(
        *_in_reach(window), col(Case.judicial_applied_on) >= window.period_from,
        col(Case.judicial_applied_on) <= window.period_to)
    return _grouped(session, window, inner, lambda c: {"judicial_confirmations": func.count(),
                                               "name": func.max(c.institution_name)})


def committees(*, session: Session) -> list[Committee]:
    return list(session.exec(select(Committee).order_by(col(Committee.id))).all())
