"""Independent arithmetic for the tests of the statistics (docs/statistics.md): working days walked one by one with
tests/oracle.py, the median and the 90th percentile from Python's `statistics` module. Nothing here comes from
domain/statistics.py or domain/clock.py, so a test that compares the two checks the product against the rule."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from tests.oracle import is_working_day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: Civil Code 201, the start day does not count."""
    days, d = 0, start
    while d < end:
        d += timedelta(days=1)
        days += is_working_day(d)
    return days


def mediation_days(accepted: date, ended: date, pauses: Iterable[tuple[date, date]] = ()) -> int:
    """Reg 38: working days the clock ran from acceptance to the end, each appraisal's days apart (its first day
    counts as a day the clock ran, the days after it up to the day it ended do not)."""
    return working_days_between(accepted, ended) - sum(working_days_between(s, e) for s, e in pauses)


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return float(statistics.median(values)) if values else None


def p90(values: Iterable[float]) -> float | None:
    """The 90th percentile by linear interpolation between closest ranks (the `inclusive` method)."""
    values = sorted(values)
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=10, method="inclusive")[8])


def half_up(value: Fraction, places: int) -> float:
    """`value` rounded half up (away from zero for these positive figures) to `places` decimals, exactly."""
    scale = 10 ** places
    return float(Fraction(math.floor(value * scale + Fraction(1, 2)), scale))


def share(numerator: int, denominator: int) -> float | None:
    """The report's rate: the exact fraction, rounded once, half up, to one decimal as a percentage."""
    return half_up(Fraction(numerator, denominator), 3) if denominator else None


def days(value: float | None) -> float | None:
    """Working days as the report gives them: half up to one decimal (from the exact value: medians and percentiles
    of whole days have at most two decimals)."""
    return None if value is None else half_up(Fraction(str(round(value, 6))), 1)


def money_median(values: Iterable[Decimal]) -> Decimal | None:
    values = list(values)
    if not values:
        return None
    return Decimal(statistics.median(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
