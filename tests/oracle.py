"""An independent oracle for the tests of the clocks: it walks the days one by one, with chinesecalendar for the
years it knows, an admin's year table where one is given, and otherwise Monday to Friday without the statutory
holidays (rev 2). It shares no code with domain/clock.py or domain/holidays.py: the lunar dates come from another
library (lunardate) and Qingming from the classical solar-term formula, so a test that compares the two checks
the product against the rule, not against itself.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from lunardate import LunarDate

SHANGHAI = ZoneInfo("Asia/Shanghai")
Tables = dict[int, dict[str, Any]]  # year -> {"holidays": [ISO dates], "workdays": [ISO dates]}


def qingming(year: int) -> date:
    """The day of the solar term 清明 in 2001–2099: [Y×0.2422 + 4.81] − [Y/4] of April, Y the year's last two
    digits (the 寿星 formula)."""
    y = year % 100
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def statutory_holidays(year: int) -> set[date]:
    """《全国年节及纪念日放假办法》 art 2 (2024): the days off the law fixes by date."""
    new_year = LunarDate(year, 1, 1).to_solar_date()
    days = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2), date(year, 10, 1), date(year, 10, 2),
            date(year, 10, 3), qingming(year), LunarDate(year, 5, 5).to_solar_date(),
            LunarDate(year, 8, 15).to_solar_date()}
    days |= {new_year + timedelta(days=n) for n in (-1, 0, 1, 2)}  # 除夕 and 初一 to 初三
    return days


def is_working_day(d: date, tables: Tables | None = None) -> bool:
    table = (tables or {}).get(d.year)
    if table is not None:
        day = d.isoformat()
        return day in table["workdays"] or (d.weekday() < 5 and day not in table["holidays"])
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:  # a year the package does not know: Monday to Friday, statutory holidays off
        return d.weekday() < 5 and d not in statutory_holidays(d.year)


def package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def nth_working_day_after(start: date, n: int, tables: Tables | None = None) -> date:
    """Civil Code 201: the start day does not count."""
    d = start
    while n:
        d += timedelta(days=1)
        n -= is_working_day(d, tables)
    return d


def mediation_due(accepted: date, pauses: list[tuple[date, date]], budget: int, tables: Tables | None = None) -> date:
    """Reg 38 walked day by day: the acceptance day does not count, an appraisal's first day counts, the days
    after it up to and including the day it ended do not."""
    d, used = accepted, 0
    while True:
        d += timedelta(days=1)
        if any(start < d <= end for start, end in pauses):
            continue
        used += is_working_day(d, tables)
        if used == budget:
            return d


def start_of(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def midnight_after(d: date) -> datetime:
    """24:00 Asia/Shanghai of `d` (Civil Code 203)."""
    return start_of(d) + timedelta(days=1)
