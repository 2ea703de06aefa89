"""The statistics a committee reports upward (GET /statistics; the exports build on `report`): which committees the
caller may count, then the database's aggregates (models/repo_statistics.py) put together per group with the rules
of domain/statistics.py. What each figure counts: docs/statistics.md."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from core.errors import Forbidden, InvalidField, NotFound
from domain import statistics as rules
from domain.access import CaseScope
from domain.lifecycle import REJECT_REASONS, TERMINATION_GROUNDS
from domain.taxonomy import DEPARTMENTS, DISPUTE_KINDS, HARMS, INSTITUTION_LEVELS, label
from domain.time import SHANGHAI
from models import repo_statistics as reads
from models.repo_statistics import ALL, TOTAL, Figures, Window
from models.schemas_statistics import (
    Activity,
    Amounts,
    Durations,
    GroupBy,
    OutcomeCounts,
    PeriodTotal,
    Rates,
    Shares,
    StatisticsGroup,
    StatisticsReport,
    YearOnYear,
)

TOTAL_LABEL = "合计"
VOCABULARIES = {"department": DEPARTMENTS, "kind": DISPUTE_KINDS, "level": INSTITUTION_LEVELS, "harm": HARMS}
READS = (reads.applications, reads.acceptances, reads.endings, reads.payments, reads.open_at, reads.pending_at,
         reads.activity, reads.expert_answers, reads.judicial, reads.overdue_at)


def report(
    *,
    session: Session,
    scope: CaseScope,
    committee_id: str | None,
    city: str | None,
    period_from: date,
    period_to: date,
    group_by: GroupBy,
    compare: bool = False,
) -> StatisticsReport:
    """The figures of the period (days in Asia/Shanghai, both included) for one committee, a city's committees or
    every committee the caller reaches, in all and per group. A committee outside the caller's reach is 403; a
    city counts its committees within reach."""
    problem = rules.check_period(period_from, period_to)
    if problem is not None:
        raise InvalidField("to", problem)
    as_of = datetime.now(SHANGHAI)
    reads.plan_for_these_values(session)
    counted = _committees(session=session, scope=scope, committee_id=committee_id, city=city)
    names = {c.id: c.name for c in reads.committees(session=session)}
    window = Window(period_from=period_from, period_to=period_to, months=rules.months(period_from, period_to),
                    committee_ids=counted, group_by=group_by)
    groups: list[StatisticsGroup] = []
    if group_by not in ("none", "month") and session.get_bind().dialect.name == "postgresql":
        found = _figures(session, window.and_total())  # the total from the same statements as the groups
        total = found.pop(TOTAL, {})
    else:
        total = _figures(session, window.total()).get(ALL, {})
        found = _figures(session, window) if group_by != "none" else {}
    if group_by != "none":
        if group_by == "month":
            keys = [month.key for month in window.months]
        elif group_by == "committee":  # every committee counted, none left out for having no case, by id
            keys = sorted(counted if counted is not None else names)
        else:
            keys = sorted(found, key=lambda k: (-(found[k].get("applications") or 0), k))
        groups = [_group(key, _label(group_by, key, found.get(key, {}), window, names), found.get(key, {}))
                  for key in keys]
    whole = _group(ALL, TOTAL_LABEL, total)
    for group in groups:
        group.share = Shares(applications=rules.rate(group.outcomes.applications, whole.outcomes.applications),
                             settled=rules.rate(group.outcomes.settled, whole.outcomes.settled))
    return StatisticsReport(
        period_from=period_from, period_to=period_to, committee_id=committee_id, city=city, group_by=group_by,
        total=whole, groups=groups, as_of=as_of,
        committee_ids=sorted(counted) if counted is not None else sorted(names),
        **(_comparisons(session, window, whole) if compare else {}),
    )


CHANGED = ("applications", "accepted", "closed", "settled", "rejected", "failed", "terminated")
CHANGED_RATES = (("rates", "success_of_closed"), ("rates", "success_of_accepted"),
                 ("durations", "kept_deadline_share"))


def _comparisons(session: Session, window: Window, now: StatisticsGroup) -> dict[str, Any]:
    """上年同期 with 同比, and 本年累计: the totals of those periods, counted by the same rules, in the same
    committees."""
    found: dict[str, Any] = {}
    earlier_from, earlier_to = rules.same_period_a_year_earlier(window.period_from, window.period_to)
    before = _total_of(session, window, earlier_from, earlier_to, "上年同期")
    change = {name: rules.change(getattr(now.outcomes, name), getattr(before.outcomes, name)) for name in CHANGED}
    change |= {"agreements": rules.change(now.amounts.agreements, before.amounts.agreements),
               "agreed_total": rules.change(now.amounts.agreed_total, before.amounts.agreed_total)}
    found["same_period_last_year"] = YearOnYear(
        period_from=earlier_from, period_to=earlier_to, total=before, change=change,
        change_points={name: rules.points(getattr(getattr(now, part), name), getattr(getattr(before, part), name))
                       for part, name in CHANGED_RATES})
    year = rules.year_to_date(window.period_from, window.period_to)
    if year is not None:
        found["year_to_date"] = PeriodTotal(period_from=year[0], period_to=year[1],
                                            total=_total_of(session, window, *year, "本年累计"))
    return found


def _total_of(session: Session, window: Window, period_from: date, period_to: date, title: str) -> StatisticsGroup:
    other = Window(period_from=period_from, period_to=period_to, months=rules.months(period_from, period_to),
                   committee_ids=window.committee_ids, group_by="none")
    return _group(ALL, title, _figures(session, other).get(ALL, {}))


def _committees(*, session: Session, scope: CaseScope, committee_id: str | None,
                city: str | None) -> Collection[str] | None:
    """The committees whose cases are counted (None: every one), within the caller's reach."""
    if scope.mediator_id is not None:
        raise Forbidden("statistics are of a committee or a city, not of a mediator's cases")
    reach = scope.committee_ids
    every = reads.committees(session=session)
    if committee_id is not None:
        committee = next((c for c in every if c.id == committee_id), None)
        if committee is None:
            raise NotFound(f"committee {committee_id!r} not found")
        if city is not None and committee.city != city:
            raise NotFound(f"committee {committee_id!r} not found in {city!r}: it is a committee of "
                           f"{committee.city!r}")
        if reach is not None and committee_id not in reach:
            raise Forbidden(f"the committee {committee_id!r} is outside your reach: your statistics are those of "
                            f"{', '.join(sorted(reach)) or 'no committee'}")
        return [committee_id]
    if city is not None:
        in_city = [c.id for c in every if c.city == city]
        if not in_city:
            raise NotFound(f"no committee in the city {city!r}")
        counted = [c for c in in_city if reach is None or c in reach]
        if not counted:
            raise Forbidden(f"no committee of {city!r} is within your reach")
        return counted
    return None if reach is None else sorted(reach)


def _figures(session: Session, window: Window) -> Figures:
    """Every read's figures, merged per group key."""
    merged: Figures = {}
    for read in READS:
        for key, figures in read(session=session, window=window).items():
            into = merged.setdefault(key, {})
            name = figures.pop("name", None)
            if name and not into.get("name"):
                into["name"] = name
            into.update(figures)
    return merged


def _label(group_by: str, key: str, figures: dict[str, Any], window: Window, names: dict[str, str]) -> str:
    if group_by == "month":
        return next((m.label for m in window.months if m.key == key), key)
    if group_by == "committee":
        return names.get(key, key)
    if group_by == "institution":
        return str(figures.get("name") or key)
    return label(VOCABULARIES[group_by], key)


def _int(figures: dict[str, Any], name: str) -> int:
    return int(figures.get(name) or 0)


def _group(key: str, group_label: str, f: dict[str, Any]) -> StatisticsGroup:
    settled, accepted, accepted_settled = _int(f, "settled"), _int(f, "accepted"), _int(f, "accepted_settled")
    performed, referred = _int(f, "settled_performed"), _int(f, "settled_referred_to_court")
    failed_deadline, failed_declared = _int(f, "failed_deadline"), _int(f, "failed_declared")
    terminated = _int(f, "terminated")
    closed = _int(f, "closed")  # the accepted cases' endings: settled + failed + terminated after acceptance
    measured, kept = _int(f, "measured"), _int(f, "kept_deadline")
    if "agreed_median_fen" in f:  # PostgreSQL's percentile_cont
        agreed_median = rules.cents_to_yuan(f["agreed_median_fen"])
    else:
        agreed_median = rules.decimal_median(Decimal(str(a)) for a in f.get("agreed_amounts", []))
    return StatisticsGroup(
        key=key,
        label=group_label,
        outcomes=OutcomeCounts(
            applications=_int(f, "applications"),
            accepted=accepted,
            accepted_settled=accepted_settled,
            rejected=_int(f, "rejected"),
            rejected_by_reason={n: _int(f, f"reason_{n}") for n in REJECT_REASONS},
            terminated_before_acceptance=_int(f, "terminated_before_acceptance"),
            open_at_start=_int(f, "open_at_start"),
            closed=closed,
            settled=settled,
            settled_performed=performed,
            settled_referred_to_court=referred,
            settled_in_performance=settled - performed - referred,
            failed=failed_deadline + failed_declared,
            failed_deadline=failed_deadline,
            failed_declared=failed_declared,
            terminated=terminated,
            terminated_by_ground={g: _int(f, f"ground_{g}") for g in TERMINATION_GROUNDS},
            open_at_end=_int(f, "open_at_end"),
            pending_at_start=_int(f, "pending_at_start"),
            pending_at_end=_int(f, "pending_at_end"),
        ),
        rates=Rates(success_of_closed=rules.rate(settled, closed),
                    success_of_accepted=rules.rate(accepted_settled, accepted)),
        durations=Durations(
            cases=measured,
            median_wd=rules.working_days(f.get("median_wd")),
            p90_wd=rules.working_days(f.get("p90_wd")),
            appraisal_cases=_int(f, "appraisal_cases"),
            appraisal_median_wd=rules.working_days(f.get("appraisal_median_wd")),
            kept_deadline=kept,
            kept_deadline_share=rules.rate(kept, measured),
        ),
        activity=Activity(
            extensions=_int(f, "extensions"),
            appraisals=_int(f, "appraisals"),
            panels=_int(f, "panels"),
            expert_answers=_int(f, "expert_answers"),
            judicial_confirmations=_int(f, "judicial_confirmations"),
            followups=_int(f, "followups"),
            overdue_payments=_int(f, "overdue_payments"),
        ),
        amounts=Amounts(
            agreements=_int(f, "agreements"),
            agreed_total=rules.yuan(f.get("agreed_total")),
            agreed_median=agreed_median,
            agreed_by_payer={payer: rules.yuan(f.get(f"agreed_{payer}")) for payer in rules.PAYERS},
            paid_total=rules.yuan(f.get("paid_total")),
            claimed_total=rules.yuan(f.get("claimed_total")),
        ),
    )
