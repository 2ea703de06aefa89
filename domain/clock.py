"""The working-day calendar and the mediation clock (shared/DOMAIN.md, "Time: the clocks"). Pure.

Nothing here reads the clock, the environment or a file (not even the tz database), so the module can run
inside Temporal workflow code. Dates are `datetime.date` in the legal time zone, Asia/Shanghai;
convert an instant with `legal_date`. Every answer that depends on the calendar says whether it is
*provisional*.

The working-day calendar (工作日), in two layers
-------------------------------------------------
1. The `chinesecalendar` package knows 2004–2026: public holidays and the make-up working days (调休).
2. `YearTable`s that an admin loads (`parse_year_table`) for years the package does not know yet; the State
   Council publishes the next year's schedule late in the year. A loaded table for a year the package knows
   *replaces* the package for that whole year.
A year that neither layer knows is counted Monday to Friday without the public holidays that the law fixes by
date (domain/holidays.py: New Year's Day, Spring Festival, Qingming, Labour Day, Dragon Boat, Mid-Autumn,
National Day), and every answer that touches it is marked `provisional=True`: only that year's bridging days and
make-up days are unknown. Never refused, never silently trusted. An answer is provisional when any calendar
year from the start's year to the end's (or result's) year is unknown.

Counting (Civil Code art 201–203)
---------------------------------
- The start day does not count. "n working days from D" ends on the n-th working day *after* D, at 24:00
  of that day (`end_of_day`). If that day would be a holiday, it is simply not a working day, so the period
  runs on to the next working day (Civil Code 203); make-up Saturdays count like any working day.
- `add_working_days(start, 0)` returns `start` itself (zero working days after it); a negative n is an error.
- `working_days_after(start, end)` counts the working days in (start, end]: end counts, start does not.

The mediation clock (Reg 38: 30 WD from acceptance, appraisal time excluded, extendable by agreement)
-----------------------------------------------------------------------------------------------------
`MediationClock` stores a budget plus a suspension ledger, never a due date: the acceptance day, every pause
(a medical-damage appraisal) with its reason, and every extension. The working days consumed and the due date
are always derived from that ledger and the calendar, so pausing, resuming and extending several times stays
exact, and loading next year's table corrects them. The counting rule, day by day:

- **The acceptance day does not count** (Civil Code 201): the clock runs from the next day.
- **The day the appraisal starts counts** as a day the clock ran (if it is a working day).
- **The day the appraisal ends does not count**: the clock restarts, and, as on acceptance, its start day
  does not count. So a running segment from day S (acceptance or resumption) to day P (the next pause)
  consumes `working_days_after(S, P)`, the working days in (S, P].
- The budget is `budget` (the policy's 30 WD) plus every extension agreed (Reg 38).
- The due date is the working day on which the consumed working days reach the budget; the deadline is 24:00
  of that day. While the clock is paused there is no due date (`due_date` is None), unless the budget had
  already run out before the pause.

Worked example (DOMAIN.md): accepted 2026-01-20, 30 WD, no pause: due 2026-03-09 (Spring Festival excluded,
the make-up Saturdays 2026-02-14 and 2026-02-28 counted).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any, Literal

import chinese_calendar.constants as _package  # type: ignore[import-untyped]

from domain.holidays import statutory_holidays
from domain.time import SHANGHAI

__all__ = [
    "MEDIATION_WD",
    "PACKAGE_YEARS",
    "CalendarTableError",
    "ClockError",
    "CountAnswer",
    "DateAnswer",
    "DayAnswer",
    "Extension",
    "MediationClock",
    "Pause",
    "Segment",
    "TableProblem",
    "WorkingDayCalendar",
    "YearTable",
    "end_of_day",
    "legal_date",
    "parse_year_table",
]

MEDIATION_WD = 30  # Reg 38
MAX_DAY_NAME = 50  # characters in the name of a holiday or make-up day (春节, 国庆节调休, ...)

# The years the chinesecalendar package knows (2004–2026 in version 1.11.0).
PACKAGE_YEARS = range(min(_package.holidays).year, max(_package.holidays).year + 1)

Layer = Literal["table", "chinesecalendar", "provisional"]


# --- answers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayAnswer:
    working: bool
    provisional: bool


@dataclass(frozen=True)
class DateAnswer:
    date: date
    provisional: bool


@dataclass(frozen=True)
class CountAnswer:
    days: int
    provisional: bool


def end_of_day(d: date) -> datetime:
    """The instant day `d` ends: 24:00 Asia/Shanghai, i.e. the next day at 00:00 (Civil Code 203)."""
    _check_date(d)
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def day_ended(at: datetime) -> date:
    """The day an instant is dated on when it closes a period: `end_of_day(d)` (24:00 of d, written as the next
    day's 00:00) is dated d, since a period's last day ends at 24:00 (Civil Code 203); any other instant is dated
    on its own day in Asia/Shanghai."""
    local = at.astimezone(SHANGHAI)
    if local.time() == time(0):
        return local.date() - timedelta(days=1)
    return local.date()


def legal_date(at: datetime) -> date:
    """The day in Asia/Shanghai of an aware instant (e.g. `workflow.now()`)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("legal_date needs an aware datetime")
    return at.astimezone(SHANGHAI).date()


def _check_date(d: object) -> None:
    # A datetime is a date too, but taking its calendar day silently would ignore its time zone.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")


# --- year tables (layer 2) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableProblem:
    """One problem in an uploaded year table. `line` is the CSV line (the header is line 1); for JSON the
    position is in `field`, e.g. `holidays[2]`, and `line` is only set for a syntax error."""

    line: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        where += [f"field {self.field!r}"] if self.field is not None else []
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class CalendarTableError(ValueError):
    """A year table was refused. `problems` lists every problem found, not just the first."""

    def __init__(self, problems: Iterable[TableProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid year table:\n" + "\n".join(f"- {p}" for p in self.problems))


@dataclass(frozen=True)
class YearTable:
    """An admin-given calendar for one year: the days off on weekdays or weekends (`holidays`) and the
    make-up working days, usually weekends (`workdays`, 调休). Every other day is Monday to Friday.
    `names` optionally labels days, e.g. (date(2027, 2, 6), "春节")."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    names: tuple[tuple[date, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "names", tuple(sorted(self.names)))
        problems: list[TableProblem] = []
        if isinstance(self.year, bool) or not isinstance(self.year, int) or not 1 <= self.year <= 9998:
            raise CalendarTableError([TableProblem(None, "year", f"not a year: {self.year!r}")])
        for kind, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            for d in sorted(days, key=str):
                if isinstance(d, datetime) or not isinstance(d, date):
                    problems.append(TableProblem(None, kind, f"not a date: {d!r}"))
                elif d.year != self.year:
                    problems.append(TableProblem(None, kind, f"{d} is outside the year {self.year}"))
        for d in sorted(self.holidays & self.workdays):
            problems.append(TableProblem(None, "workdays", f"{d} is both a holiday and a workday"))
        for d, name in self.names:
            if d not in self.holidays and d not in self.workdays:
                problems.append(TableProblem(None, "names", f"{d} is named but neither holiday nor workday"))
            if not isinstance(name, str) or len(name) > MAX_DAY_NAME:
                problems.append(TableProblem(None, "names", f"the name of {d} is not a text of at most "
                                                            f"{MAX_DAY_NAME} characters"))
        if problems:
            raise CalendarTableError(problems)

    def is_working_day(self, d: date) -> bool:
        return d in self.workdays or (d.weekday() < 5 and d not in self.holidays)

    def name_of(self, d: date) -> str | None:
        return dict(self.names).get(d)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "year": self.year,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
        }
        if self.names:
            data["names"] = {d.isoformat(): name for d, name in self.names}
        return data

    def to_json(self) -> str:
        """The JSON format that `parse_year_table(..., fmt="json")` reads back."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: Any, *, year: int | None = None) -> YearTable:
        """Strict: the same checks as the JSON format of `parse_year_table`."""
        return _table_from_json_value(data, year)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KINDS = ("holiday", "workday")


def _parse_iso(text: str) -> date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_year_table(text: str, *, fmt: Literal["csv", "json"], year: int | None = None) -> YearTable:
    """Read an admin's year table, or raise `CalendarTableError` listing every problem.

    CSV: a header `date,kind` or `date,kind,name`, then one line per day, `kind` being `holiday` or
    `workday` and `name` optional (春节):

        date,kind,name
        2027-01-01,holiday,元旦
        2027-02-20,workday,春节调休

    JSON: `{"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-02-20"], "names": {...}}`
    (`names` optional). Dates are ISO `YYYY-MM-DD`. `year`, if given, is the year the file must be for.
    Refused: an empty file, a bad date, a date outside the year, mixed years, a duplicate, a date both
    holiday and workday, an unknown kind or key.
    """
    if fmt == "csv":
        return _parse_csv(text, year)
    if fmt == "json":
        if not text.strip():
            raise CalendarTableError([TableProblem(None, None, "the file is empty")])
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalendarTableError([TableProblem(exc.lineno, None, f"not JSON: {exc.msg}")]) from None
        return _table_from_json_value(data, year)
    raise ValueError(f"unknown format {fmt!r}: expected 'csv' or 'json'")


def _parse_csv(text: str, expected_year: int | None) -> YearTable:
    text = text.lstrip("\ufeff")  # a spreadsheet's UTF-8 byte-order mark
    if not text.strip():
        raise CalendarTableError([TableProblem(None, None, "the file is empty")])
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    problems: list[TableProblem] = []
    seen: dict[date, tuple[str, int]] = {}  # date -> (kind, line)
    names: dict[date, str] = {}
    table_year = expected_year
    year_from_line: int | None = None
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            if header not in (["date", "kind"], ["date", "kind", "name"]):
                raise CalendarTableError(
                    [TableProblem(line, "header", f"expected 'date,kind[,name]', got {','.join(row)!r}")]
                )
            continue
        if not 2 <= len(row) <= len(header):
            problems.append(TableProblem(line, None, f"expected {len(header)} columns, got {len(row)}"))
            continue
        raw_date, raw_kind = row[0].strip(), row[1].strip().lower()
        name = row[2].strip() if len(row) > 2 else ""
        d = _parse_iso(raw_date)
        if d is None:
            problems.append(TableProblem(line, "date", f"bad date {raw_date!r}: expected YYYY-MM-DD"))
        if raw_kind not in _KINDS:
            reason = f"unknown kind {row[1].strip()!r}: expected holiday or workday"
            problems.append(TableProblem(line, "kind", reason))
        if d is None or raw_kind not in _KINDS:
            continue
        if table_year is None:
            table_year, year_from_line = d.year, line
        if d.year != table_year:
            reason = (
                f"mixed years: {d} in a table for {table_year} (set by line {year_from_line})"
                if year_from_line is not None
                else f"{d} is outside the year {table_year}"
            )
            problems.append(TableProblem(line, "date", reason))
            continue
        if d in seen:
            other_kind, other_line = seen[d]
            reason = (
                f"duplicate of line {other_line}"
                if other_kind == raw_kind
                else f"{d} is both {other_kind} (line {other_line}) and {raw_kind}"
            )
            problems.append(TableProblem(line, "date" if other_kind == raw_kind else "kind", reason))
            continue
        seen[d] = (raw_kind, line)
        if len(name) > MAX_DAY_NAME:
            problems.append(TableProblem(line, "name", f"a day's name is at most {MAX_DAY_NAME} characters"))
        elif name:
            names[d] = name
    if header is None:
        problems.append(TableProblem(None, None, "the file is empty"))
    elif not seen and not problems:
        problems.append(TableProblem(None, None, "the file has a header but no dates"))
    if problems or table_year is None:
        raise CalendarTableError(problems)
    return YearTable(
        year=table_year,
        holidays=frozenset(d for d, (k, _) in seen.items() if k == "holiday"),
        workdays=frozenset(d for d, (k, _) in seen.items() if k == "workday"),
        names=tuple(names.items()),
    )


def _table_from_json_value(data: Any, expected_year: int | None) -> YearTable:
    if not isinstance(data, dict):
        raise CalendarTableError([TableProblem(None, None, "expected an object: year, holidays, workdays")])
    problems: list[TableProblem] = []
    for key in sorted(set(data) - {"year", "holidays", "workdays", "names"}):
        problems.append(TableProblem(None, str(key), "unknown key"))
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9998:
        problems.append(TableProblem(None, "year", f"not a year: {year!r}"))
        year = None
    elif expected_year is not None and year != expected_year:
        problems.append(TableProblem(None, "year", f"the table is for {year}, expected {expected_year}"))
    days: dict[str, set[date]] = {"holidays": set(), "workdays": set()}
    first_seen: dict[date, str] = {}
    for kind in ("holidays", "workdays"):
        values = data.get(kind)
        if not isinstance(values, list):
            problems.append(TableProblem(None, kind, "missing, or not a list of dates"))
            continue
        for i, raw in enumerate(values):
            where = f"{kind}[{i}]"
            d = _parse_iso(raw) if isinstance(raw, str) else None
            if d is None:
                problems.append(TableProblem(None, where, f"bad date {raw!r}: expected YYYY-MM-DD"))
            elif year is not None and d.year != year:
                problems.append(TableProblem(None, where, f"{d} is outside the year {year}"))
            elif d in first_seen:
                other = first_seen[d]
                reason = (
                    f"duplicate of {other}"
                    if other.startswith(kind)
                    else f"{d} is both a holiday and a workday (see {other})"
                )
                problems.append(TableProblem(None, where, reason))
            else:
                first_seen[d] = where
                days[kind].add(d)
    names: dict[date, str] = {}
    raw_names = data.get("names", {})
    if not isinstance(raw_names, dict):
        problems.append(TableProblem(None, "names", "not an object of date -> name"))
    else:
        for raw, name in raw_names.items():
            d, where = _parse_iso(raw), f"names[{raw!r}]"
            if d is None or not isinstance(name, str):
                problems.append(TableProblem(None, where, "expected a YYYY-MM-DD key and a text name"))
            elif d not in first_seen:
                problems.append(TableProblem(None, where, "named day is neither holiday nor workday"))
            elif name.strip():
                names[d] = name.strip()
    if problems or year is None:
        raise CalendarTableError(problems)
    return YearTable(
        year=year,
        holidays=frozenset(days["holidays"]),
        workdays=frozenset(days["workdays"]),
        names=tuple(names.items()),
    )


# --- the calendar -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _YearIndex:
    """The working days of one year as sorted ordinals, so that counting and adding are bisections."""

    days: tuple[int, ...]
    provisional: bool
    layer: Layer


def _days_of(year: int) -> Iterable[date]:
    d, one = date(year, 1, 1), timedelta(days=1)
    while d.year == year:
        yield d
        d += one


@cache
def _package_year(year: int) -> _YearIndex:
    # The rule of chinese_calendar.is_workday, read from its tables in one pass (is_workday re-scans the
    # whole holiday table on every call); tests check both agree on every day of every year it knows.
    days = tuple(
        d.toordinal()
        for d in _days_of(year)
        if d in _package.workdays or (d.weekday() < 5 and d not in _package.holidays)
    )
    return _YearIndex(days, provisional=False, layer="chinesecalendar")


@lru_cache(maxsize=256)
def _provisional_year(year: int) -> _YearIndex:
    off = {d for d, _ in statutory_holidays(year)}
    days = tuple(d.toordinal() for d in _days_of(year) if d.weekday() < 5 and d not in off)
    return _YearIndex(days, provisional=True, layer="provisional")


def _table_year(table: YearTable) -> _YearIndex:
    days = tuple(d.toordinal() for d in _days_of(table.year) if table.is_working_day(d))
    return _YearIndex(days, provisional=False, layer="table")


def calendar_digest(calendar: Mapping[str, Any]) -> str:
    """What identifies the loaded year tables (WorkingDayCalendar.to_dict()): a case's workflow, the API and the
    database compare it to learn whether a year was loaded since."""
    canonical = json.dumps(calendar, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class WorkingDayCalendar:
    """China's official working days (工作日), in two layers (see the module docstring).

    Layer 1 is `chinesecalendar` for the years it knows; layer 2 is the `YearTable`s given here. A table for
    a year the package knows overrides the package for that whole year. A year neither knows is counted
    Monday to Friday without its statutory holidays, and its answers are provisional. Immutable: `with_table`
    returns a new calendar.
    Each year is indexed once (a sorted tuple of its working days), so `add_working_days` and
    `working_days_after` cost a bisection per calendar year crossed.
    """

    __slots__ = ("_index", "_tables")

    def __init__(self, tables: Mapping[int, YearTable] | None = None) -> None:
        tables = dict(tables or {})
        for year, table in tables.items():
            if not isinstance(table, YearTable) or table.year != year:
                raise ValueError(f"tables[{year}] must be the YearTable of {year}")
        self._tables: dict[int, YearTable] = tables
        self._index: dict[int, _YearIndex] = {}  # a memo only: it never changes an answer

    @property
    def tables(self) -> Mapping[int, YearTable]:
        return dict(self._tables)

    def with_table(self, table: YearTable) -> WorkingDayCalendar:
        """A new calendar with `table` loaded (replacing any table of the same year)."""
        return WorkingDayCalendar({**self._tables, table.year: table})

    def known_years(self) -> tuple[int, ...]:
        """The years answered without provisional: the package's and the loaded tables', ascending."""
        return tuple(sorted(set(PACKAGE_YEARS) | set(self._tables)))

    def layer(self, year: int) -> Layer:
        """Which layer answers for `year`: "table", "chinesecalendar" or "provisional" (Monday to Friday without
        the statutory holidays)."""
        return self._year(year).layer

    def provisional_years_in(self, start: date, end: date) -> list[int]:
        """The unknown years among start.year .. end.year (both included); [] if end < start."""
        _check_date(start)
        _check_date(end)
        return [y for y in range(start.year, end.year + 1) if self._year(y).provisional]

    def name_of(self, d: date) -> str | None:
        """The name of a day off or make-up day: from a loaded table, or for an unknown year the statutory
        holiday that falls on it (domain/holidays.py). The package's years carry no names."""
        _check_date(d)
        table = self._tables.get(d.year)
        if table is not None:
            return table.name_of(d)
        if self._year(d.year).provisional:
            return dict(statutory_holidays(d.year)).get(d)
        return None

    def is_working_day(self, d: date) -> DayAnswer:
        _check_date(d)
        index = self._year(d.year)
        o = d.toordinal()
        i = bisect_right(index.days, o)
        return DayAnswer(working=i > 0 and index.days[i - 1] == o, provisional=index.provisional)

    def add_working_days(self, start: date, n: int) -> DateAnswer:
        """The n-th working day after `start` (Civil Code 201: `start` itself does not count); the period
        ends at 24:00 of that day. n == 0 returns `start`; n < 0 is a ValueError."""
        _check_date(start)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a whole number of working days >= 0, got {n!r}")
        if n == 0:
            return DateAnswer(start, self._year(start.year).provisional)
        year, after, provisional = start.year, start.toordinal(), False
        while True:
            index = self._year(year)
            provisional = provisional or index.provisional
            i = bisect_right(index.days, after)
            available = len(index.days) - i
            if n <= available:
                return DateAnswer(date.fromordinal(index.days[i + n - 1]), provisional)
            n -= available
            year += 1

    def working_days_after(self, start: date, end: date) -> CountAnswer:
        """The number of working days in (start, end]: `end` counts, `start` does not; 0 if end <= start."""
        _check_date(start)
        _check_date(end)
        if end <= start:
            return CountAnswer(0, provisional=False)
        lo, hi = start.toordinal(), end.toordinal()
        days, provisional = 0, False
        for year in range(start.year, end.year + 1):
            index = self._year(year)
            provisional = provisional or index.provisional
            days += bisect_right(index.days, hi) - bisect_right(index.days, lo)
        return CountAnswer(days, provisional)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for a workflow input: only the loaded tables (the package is code)."""
        return {"tables": [self._tables[y].to_dict() for y in sorted(self._tables)]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkingDayCalendar:
        tables = [YearTable.from_dict(t) for t in data.get("tables", [])]
        return cls({t.year: t for t in tables})

    def _year(self, year: int) -> _YearIndex:
        index = self._index.get(year)
        if index is None:
            table = self._tables.get(year)
            if table is not None:
                index = _table_year(table)
            elif year in PACKAGE_YEARS:
                index = _package_year(year)
            else:
                index = _provisional_year(year)
            self._index[year] = index
        return index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkingDayCalendar) and self._tables == other._tables

    def __hash__(self) -> int:
        return hash(frozenset(self._tables.items()))

    def __repr__(self) -> str:
        return f"WorkingDayCalendar(tables for {sorted(self._tables)})"


# --- the mediation clock (Reg 38) ---------------------------------------------------------------------------


class ClockError(ValueError):
    """An illegal use of the mediation clock, e.g. pausing it while it is paused."""


@dataclass(frozen=True)
class Segment:
    """A closed stretch during which the clock ran: it consumed the working days in (start, end]."""

    start: date
    end: date


@dataclass(frozen=True)
class Pause:
    """A suspension, e.g. a medical-damage appraisal (Reg 38). `ended_on` is None while it lasts."""

    started_on: date
    ended_on: date | None
    reason: str


@dataclass(frozen=True)
class Extension:
    """Working days added by agreement of the committee and both parties (Reg 38)."""

    days: int
    agreed_on: date


@dataclass(frozen=True)
class MediationClock:
    """The Reg 38 clock: a budget of working days plus a ledger of pauses and extensions.

    `budget` is the policy's length (30 WD by default); `total_budget` adds the extensions. Nothing
    calendar-dependent is stored: `used`, `remaining` and `due_date` are derived on demand from the ledger
    and a `WorkingDayCalendar`, following the counting rule of the module docstring. Methods return new
    clocks; an illegal sequence raises `ClockError`. The lifecycle (domain/lifecycle.py) decides *when* an
    event is allowed (e.g. extensions only in `in_mediation`); the clock only keeps its ledger consistent:
    dates never go backwards and only the last pause may be open.
    """

    budget: int = MEDIATION_WD
    accepted_on: date | None = None
    pauses: tuple[Pause, ...] = ()
    extensions: tuple[Extension, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pauses", tuple(self.pauses))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < 1:
            raise ClockError(f"the budget must be a whole number of working days >= 1, got {self.budget!r}")
        if self.accepted_on is None:
            if self.pauses or self.extensions:
                raise ClockError("a clock that was never started has no pauses or extensions")
            return
        _check_date(self.accepted_on)
        last = self.accepted_on
        for i, p in enumerate(self.pauses):
            _check_date(p.started_on)
            if not isinstance(p.reason, str) or not p.reason.strip():
                raise ClockError("a pause needs a reason")
            if p.started_on < last:
                raise ClockError(f"pause of {p.started_on} is before the clock last started ({last})")
            if p.ended_on is None:
                if i != len(self.pauses) - 1:
                    raise ClockError("only the last pause may still be open")
                break
            _check_date(p.ended_on)
            if p.ended_on < p.started_on:
                raise ClockError(f"a pause cannot end ({p.ended_on}) before it started ({p.started_on})")
            last = p.ended_on
        previous = self.accepted_on
        for e in self.extensions:
            _check_date(e.agreed_on)
            if isinstance(e.days, bool) or not isinstance(e.days, int) or e.days < 1:
                raise ClockError(f"an extension adds at least 1 working day, got {e.days!r}")
            if e.agreed_on < previous:
                raise ClockError(f"extension agreed on {e.agreed_on} is before {previous}")
            previous = e.agreed_on

    # --- state ---------------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self.accepted_on is not None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].ended_on is None

    @property
    def running_since(self) -> date | None:
        """The day the clock last (re)started, which does not count; None if paused or not started."""
        if self.accepted_on is None or self.paused:
            return None
        return self.pauses[-1].ended_on if self.pauses else self.accepted_on

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The closed running stretches: from acceptance or a resumption to the next pause."""
        if self.accepted_on is None:
            return ()
        starts = [self.accepted_on] + [p.ended_on for p in self.pauses if p.ended_on is not None]
        return tuple(Segment(s, p.started_on) for s, p in zip(starts, self.pauses, strict=False))

    @property
    def total_budget(self) -> int:
        """The policy's budget plus every extension (Reg 38)."""
        return self.budget + sum(e.days for e in self.extensions)

    # --- events --------------------------------------------------------------------------------------------

    def start(self, on: date) -> MediationClock:
        """Acceptance (受理). The acceptance day does not count (Civil Code 201)."""
        _check_date(on)
        if self.started:
            raise ClockError(f"the clock already started on {self.accepted_on}")
        return replace(self, accepted_on=on)

    def pause(self, on: date, reason: str) -> MediationClock:
        """A medical-damage appraisal starts (Reg 38). The day `on` still counts as a day the clock ran."""
        _check_date(on)
        since = self._require_running("pause")
        if on < since:
            raise ClockError(f"cannot pause on {on}: the clock (re)started on {since}")
        if not isinstance(reason, str) or not reason.strip():
            raise ClockError("a pause needs a reason")
        return replace(self, pauses=(*self.pauses, Pause(on, None, reason.strip())))

    def resume(self, on: date) -> MediationClock:
        """The appraisal ended. The day `on` does not count; the clock runs again from the next day."""
        _check_date(on)
        if not self.started:
            raise ClockError("the clock has not started")
        if not self.paused:
            raise ClockError("the clock is running; only a paused clock can resume")
        open_pause = self.pauses[-1]
        if on < open_pause.started_on:
            raise ClockError(f"cannot resume on {on}: the pause started on {open_pause.started_on}")
        return replace(self, pauses=(*self.pauses[:-1], replace(open_pause, ended_on=on)))

    def extend(self, days: int, on: date) -> MediationClock:
        """Add `days` working days, agreed on `on` by the committee and both parties (Reg 38)."""
        _check_date(on)
        if not self.started:
            raise ClockError("the clock has not started")
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ClockError(f"an extension adds at least 1 working day, got {days!r}")
        assert self.accepted_on is not None
        floor = max([self.accepted_on] + [e.agreed_on for e in self.extensions])
        if on < floor:
            raise ClockError(f"an extension agreed on {on} cannot precede {floor}")
        return replace(self, extensions=(*self.extensions, Extension(days, on)))

    # --- derived -------------------------------------------------------------------------------------------

    def used(self, calendar: WorkingDayCalendar, today: date) -> CountAnswer:
        """Working days consumed by the end of `today`: the sum over running stretches of the working days in
        (stretch start, min(stretch end, today)]."""
        _check_date(today)
        days, provisional = 0, False
        for start, end in self._stretches(open_end=today):
            answer = calendar.working_days_after(start, min(end, today))
            days += answer.days
            provisional = provisional or answer.provisional
        return CountAnswer(days, provisional)

    def remaining(self, calendar: WorkingDayCalendar, today: date) -> CountAnswer:
        """Working days left after `today` (0 on the due date itself and after it)."""
        used = self.used(calendar, today)
        return CountAnswer(max(0, self.total_budget - used.days), used.provisional)

    def due_date(self, calendar: WorkingDayCalendar) -> DateAnswer | None:
        """The last day of the mediation period (it ends at 24:00, see `deadline`). None before acceptance and
        while paused: a paused clock has no due date, unless its budget had run out before the pause."""
        return self._day_when_used(calendar, self.total_budget)

    def due_date_if_resumed(self, calendar: WorkingDayCalendar, on: date) -> DateAnswer:
        """While paused: the due date if the appraisal ended on `on`."""
        if not self.paused:
            raise ClockError("the clock is not paused")
        answer = self.resume(on).due_date(calendar)
        assert answer is not None
        return answer

    def deadline(self, calendar: WorkingDayCalendar) -> datetime | None:
        """The instant the period ends: 24:00 Asia/Shanghai of the due date (Civil Code 203)."""
        due = self.due_date(calendar)
        return None if due is None else end_of_day(due.date)

    def warning_date(self, calendar: WorkingDayCalendar, wd_before: int) -> DateAnswer | None:
        """The working day `wd_before` working days before the due date: at its end exactly `wd_before`
        working days remain. None when there is no due date or the budget is not larger than `wd_before`."""
        if isinstance(wd_before, bool) or not isinstance(wd_before, int) or wd_before < 0:
            raise ValueError(f"wd_before must be >= 0, got {wd_before!r}")
        target = self.total_budget - wd_before
        return self._day_when_used(calendar, target) if target >= 1 else None

    def _stretches(self, open_end: date) -> list[tuple[date, date]]:
        stretches = [(s.start, s.end) for s in self.segments]
        if self.running_since is not None:
            stretches.append((self.running_since, max(open_end, self.running_since)))
        return stretches

    def _day_when_used(self, calendar: WorkingDayCalendar, target: int) -> DateAnswer | None:
        """The working day at whose end `target` working days have been consumed."""
        if not self.started:
            return None
        left, provisional = target, False
        for segment in self.segments:
            consumed = calendar.working_days_after(segment.start, segment.end)
            provisional = provisional or consumed.provisional
            if left <= consumed.days:  # ran out before this pause: the due date is in the past
                day = calendar.add_working_days(segment.start, left)
                return DateAnswer(day.date, provisional or day.provisional)
            left -= consumed.days
        if self.running_since is None:  # paused
            return None
        day = calendar.add_working_days(self.running_since, left)
        return DateAnswer(day.date, provisional or day.provisional)

    def _require_running(self, action: str) -> date:
        if not self.started:
            raise ClockError(f"cannot {action}: the clock has not started")
        if self.paused:
            raise ClockError(f"cannot {action}: the clock is paused since {self.pauses[-1].started_on}")
        assert self.running_since is not None
        return self.running_since

    # --- storage and workflow payloads ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (ISO dates), for the database and Temporal payloads."""
        return {
            "budget": self.budget,
            "accepted_on": _iso(self.accepted_on),
            "pauses": [
                {"started_on": p.started_on.isoformat(), "ended_on": _iso(p.ended_on), "reason": p.reason}
                for p in self.pauses
            ],
            "extensions": [{"days": e.days, "agreed_on": e.agreed_on.isoformat()} for e in self.extensions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MediationClock:
        """The inverse of `to_dict`; the ledger is checked again, so a corrupt record raises `ClockError`."""
        try:
            return cls(
                budget=data.get("budget", MEDIATION_WD),
                accepted_on=_from_iso(data.get("accepted_on")),
                pauses=tuple(
                    Pause(_day(p["started_on"]), _from_iso(p.get("ended_on")), p["reason"])
                    for p in data.get("pauses", [])
                ),
                extensions=tuple(
                    Extension(e["days"], _day(e["agreed_on"])) for e in data.get("extensions", [])
                ),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ClockError(f"not a mediation clock record: {exc!r}") from None


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _day(text: Any) -> date:
    d = _parse_iso(text) if isinstance(text, str) else None
    if d is None:
        raise ClockError(f"not an ISO date: {text!r}")
    return d


def _from_iso(text: Any) -> date | None:
    return None if text is None else _day(text)
