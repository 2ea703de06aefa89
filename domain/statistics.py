"""The rules of the statistics a committee reports upward (issue 17, docs/statistics.md). Pure.

Two halves:
- what a case's row keeps about how its mediation ended, computed once when it ends (models/repo.py projects it):
  the day it ended, the result, the working days it took with the appraisals' time apart (Reg 38), whether the
  deadline was kept, the agreed amounts by payer (PML 29, 31);
- the arithmetic of the report: the period and its months (Asia/Shanghai), rates, the median and the 90th
  percentile (the same interpolation as SQL's `percentile_cont`, so that PostgreSQL and SQLite answer alike).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.clock import ClockError, MediationClock, WorkingDayCalendar, legal_date
from domain.lifecycle import REFUSAL_REASON, REJECT_REASONS
from domain.parties import normalise_name
from domain.payloads import EARLIEST, LATEST

MAX_YEARS = 3  # the longest period a report covers
CENT = Decimal("0.01")

# How a case's mediation ended (the row's `result`): one code per line of the report.
SETTLED = "settled"  # the agreement took effect (Reg 39): mediation succeeded (调解成功)
FAILED_DEADLINE = "failed_deadline"  # Reg 38: the period ran out (视为调解不成)
FAILED_DECLARED = "failed_declared"  # PML 26: the mediator declared failure
TERMINATED = "terminated"  # PML 23, 25; Reg 31¶4
REJECTED = "rejected"  # not accepted (不予受理), a refusal or silence past the consent deadline included (PML 17)
RESULTS = (SETTLED, FAILED_DEADLINE, FAILED_DECLARED, TERMINATED, REJECTED)
# How performance of an effective agreement was closed (the row's `performance_result`), PML 31, 32.
PERFORMED = "performed"
REFERRED_TO_COURT = "referred_to_court"

# The events that end mediation, and the result each records. `sign` ends it only when it completes the four acts.
ENDING_EVENTS: dict[str, str] = {
    "reject": REJECTED,
    "record_refusal": REJECTED,
    "consent_expired": REJECTED,
    "declare_failed": FAILED_DECLARED,
    "deadline_expired": FAILED_DEADLINE,
    "terminate": TERMINATED,
}
PERFORMANCE_EVENTS: dict[str, str] = {"confirm_performance": PERFORMED, "record_nonperformance": REFERRED_TO_COURT}

# Who pays a term of the agreement: the respondent institution, its liability insurer (医疗责任保险), or another.
INSTITUTION, INSURER, OTHER_PAYER = "institution", "insurer", "other"
PAYERS = (INSTITUTION, INSURER, OTHER_PAYER)
# What a term's payer says when it names the institution without its name.
INSTITUTION_WORDS = frozenset({"医方", "院方", "医院", "被申请人", "医疗机构"})


# ---------------------------------------------------------------- what a row keeps -------------------
def reason_mask(reasons: Iterable[int]) -> int:
    """The rejection's reasons (1–8, MOJ 2002 Rules art 22) as bits: reason n is bit n − 1."""
    mask = 0
    for reason in reasons:
        if int(reason) in REJECT_REASONS:
            mask |= 1 << (int(reason) - 1)
    return mask


def reason_bit(reason: int) -> int:
    return 1 << (reason - 1)


def rejection_reasons(event: str, payload: Mapping[str, Any]) -> list[int]:
    """The reasons a rejection names: the director's; a refusal, or silence past the consent deadline, is reason 1
    (PML 17)."""
    if event == "reject" or event == "consent_expired":
        reasons = [int(r) for r in payload.get("reasons", [])]
        return reasons or [REFUSAL_REASON]
    return [REFUSAL_REASON]


def ended_on(event: str, payload: Mapping[str, Any], at: datetime) -> date:
    """The day mediation ended by `event`: the day it was recorded, or, for a deadline that ran out (Reg 38, PML
    17), the deadline's own day — a deadline found passed only when its year's calendar was loaded ends the case as
    of that deadline."""
    if event in ("deadline_expired", "consent_expired") and payload.get("due_date"):
        return date.fromisoformat(str(payload["due_date"]))
    return legal_date(at)


@dataclass(frozen=True)
class MediationTime:
    """Reg 38: the working days the mediation clock ran from acceptance to the end, the working days it was paused
    for appraisals (None: no appraisal), and whether the case ended within its period (30 WD plus extensions)."""

    duration_wd: int
    appraisal_wd: int | None
    deadline_kept: bool
    provisional: bool


def mediation_time(clock: Mapping[str, Any] | None, *, ended: date, calendar: WorkingDayCalendar,
                   result: str) -> MediationTime | None:
    """From the clock's ledger (the row's `clock`), for a case that was accepted; None otherwise or when the
    ledger cannot be read."""
    if not clock or not clock.get("accepted_on"):
        return None
    try:
        ledger = MediationClock.from_dict(clock)
    except ClockError:
        return None
    assert ledger.accepted_on is not None
    ended = max(ended, ledger.accepted_on)
    used = ledger.used(calendar, ended)
    appraisal: int | None = None
    provisional = used.provisional
    for pause in ledger.pauses:
        if pause.started_on > ended:
            continue
        stop = min(pause.ended_on or ended, ended)
        paused = calendar.working_days_after(pause.started_on, stop)
        appraisal = (appraisal or 0) + paused.days
        provisional = provisional or paused.provisional
    kept = result != FAILED_DEADLINE and used.days <= ledger.total_budget
    return MediationTime(duration_wd=used.days, appraisal_wd=appraisal, deadline_kept=kept, provisional=provisional)


def payer_kind(payer: str | None, *, institution: str, insurer: str | None) -> str:
    """Who pays a term: the registration's insurer when the term names it; the institution when the term names it,
    says 医方 or names nobody; another payer otherwise. Names are compared normalised (domain/parties.py)."""
    named = normalise_name(payer or "")
    if insurer and named and named == normalise_name(insurer):
        return INSURER
    if not named or named == normalise_name(institution) or named in INSTITUTION_WORDS:
        return INSTITUTION
    return OTHER_PAYER


def agreed_amounts(terms: Sequence[Mapping[str, Any]], registration: Mapping[str, Any]) -> dict[str, Decimal] | None:
    """The agreement's monetary terms summed by payer (`institution`, `insurer`, `other`) and in all (`total`);
    None when no term carries an amount."""
    institution = str((registration.get("institution") or {}).get("name") or "")
    insurer = (registration.get("insurer") or {}).get("name")
    sums = dict.fromkeys(PAYERS, Decimal("0.00"))
    monetary = False
    for term in terms:
        if term.get("amount") is None:
            continue
        monetary = True
        sums[payer_kind(term.get("payer"), institution=institution, insurer=insurer)] += Decimal(str(term["amount"]))
    if not monetary:
        return None
    return {**sums, "total": sum(sums.values(), Decimal("0.00"))}


# ---------------------------------------------------------------- the period -------------------------
@dataclass(frozen=True)
class Month:
    """A calendar month of the period (Asia/Shanghai), cut to the period at both ends."""

    key: str  # 2026-03
    label: str  # 2026年3月
    first: date
    last: date


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_period(period_from: date, period_to: date) -> str | None:
    """Why a period cannot be reported (None: it can): a day outside those a case can name, an end before the
    start, more than MAX_YEARS."""
    if not (EARLIEST <= period_from <= LATEST and EARLIEST <= period_to <= LATEST):
        return f"dates from {EARLIEST} to {LATEST} only"
    if period_to < period_from:
        return f"the period ends ({period_to}) before it starts ({period_from})"
    if period_to >= add_years(period_from, MAX_YEARS):
        last = add_years(period_from, MAX_YEARS) - timedelta(days=1)
        return f"a report covers at most {MAX_YEARS} years: from {period_from}, up to {last}"
    return None


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of the month of `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def default_period(today: date, period_from: date | None, period_to: date | None) -> tuple[date, date]:
    """The period asked for, its missing ends filled in: the current month by default; a period given only its end
    starts on the first of that month, one given only its start runs to the end of the current month."""
    if period_to is None:
        period_to = month_of(max(today, period_from or today))[1]
    if period_from is None:
        period_from = month_of(period_to)[0]
    return period_from, period_to


def same_period_a_year_earlier(period_from: date, period_to: date) -> tuple[date, date]:
    """上年同期: the same days a year earlier; a period that ends on a month's last day ends on that month's last
    day a year earlier (29 February 2024 → 28 February 2023; 28 February 2025 → 29 February 2024)."""
    earlier_to = add_years(period_to, -1)
    if period_to == month_of(period_to)[1]:
        earlier_to = month_of(earlier_to)[1]
    return add_years(period_from, -1), earlier_to


def year_to_date(period_from: date, period_to: date) -> tuple[date, date] | None:
    """本年累计: from 1 January of the period's year to the period's last day; None for a period over two years."""
    if period_from.year != period_to.year:
        return None
    return date(period_to.year, 1, 1), period_to


def month_label(first: date) -> str:
    return f"{first.year}年{first.month}月"


def months(period_from: date, period_to: date) -> list[Month]:
    """Every month the period touches, in time order, each cut to the period."""
    found = []
    first = period_from.replace(day=1)
    while first <= period_to:
        start, last = month_of(first)
        found.append(Month(key=f"{first.year:04d}-{first.month:02d}", label=month_label(first),
                           first=max(start, period_from), last=min(last, period_to)))
        first = last + timedelta(days=1)
    return found


# ---------------------------------------------------------------- the arithmetic ---------------------
# The one rounding rule of the report (docs/statistics.md): a share is rounded once, from the exact fraction, half up,
# to one decimal as a percentage (three places as a share); working days half up to one decimal; amounts to the fen.
SHARE_PLACES = Decimal("0.001")
ONE_DECIMAL = Decimal("0.1")
ROUNDING_NOTE_ZH = "百分比、工作日保留一位小数，四舍五入（由精确值一次舍入）；金额保留两位小数。"
ROUNDING_NOTE_EN = ("Percentages and working days to one decimal, rounded half up once from the exact value; amounts "
                    "to two decimals.")


def rate(numerator: int | float | Decimal, denominator: int | float | Decimal) -> float | None:
    """numerator ÷ denominator, from the exact fraction rounded once, half up, to three places (a percentage with one
    decimal: 15/19 → 0.789, 1/16 → 0.063); None when nothing is divided. Every output prints these digits."""
    if not denominator:
        return None
    exact = Decimal(str(numerator)) / Decimal(str(denominator))
    return float(exact.quantize(SHARE_PLACES, rounding=ROUND_HALF_UP))


def change(now: int | Decimal, before: int | Decimal) -> float | None:
    """同比: (now − before) ÷ before, rounded once like every share (0.125: up 12.5%); None when before is nothing."""
    if not before:
        return None
    return rate(Decimal(str(now)) - Decimal(str(before)), before)


def points(now: float | None, before: float | None) -> float | None:
    """The change of a rate, in points of percentage (0.021: up 2.1 points); None when either is None. Both are
    already at the report's digits, so the difference is exact."""
    if now is None or before is None:
        return None
    return float(Decimal(str(now)) - Decimal(str(before)))


def percent_text(share: float | Decimal) -> str:
    """A share as the report prints it: 78.9% (a share from `rate` is already at these digits; any other is rounded
    half up here, once)."""
    return f"{(Decimal(str(share)) * 100).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)}%"


def days_text(value: float | Decimal) -> str:
    """Working days as the report prints them: one decimal, half up."""
    return str(Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP))


def percentile(values: Iterable[float | int | Decimal], fraction: float) -> float | None:
    """The `fraction` percentile by linear interpolation between the closest ranks — what SQL's
    `percentile_cont(fraction) WITHIN GROUP (ORDER BY v)` answers; None for no values."""
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def median(values: Iterable[float | int | Decimal]) -> float | None:
    return percentile(values, 0.5)


def working_days(value: float | Decimal | None) -> float | None:
    """A count of working days as the report gives it: one decimal, half up, rounded once from the interpolated value
    (a binary double's last-digit noise — PostgreSQL's percentile_cont answers in doubles — is set aside first: the
    interpolation of whole days has at most two decimals)."""
    if value is None:
        return None
    exact = Decimal(str(value)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return float(exact.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP))


def decimal_median(values: Iterable[Decimal]) -> Decimal | None:
    """The median of amounts, exactly, to the fen (half up)."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    exact = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def cents_to_yuan(cents: float | Decimal | None) -> Decimal | None:
    """An amount the database interpolated in fen (a whole or half number, exact in a double) back to yuan."""
    if cents is None:
        return None
    return (Decimal(str(cents)) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value: Any) -> Decimal:
    """A sum as the database gives it (Decimal, int, float on SQLite, None for no rows), to the fen."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)

