"""The public holidays that the law fixes by date, for years whose official schedule is not published yet. Pure.

《全国年节及纪念日放假办法》 (2024 revision, in force 2025-01-01), art 2, gives every citizen these days off:

| Holiday | Days | How the date is fixed |
|---|---|---|
| 元旦 New Year's Day | 1 | 1 January |
| 春节 Spring Festival | 4 | New Year's Eve (除夕, the last day of the 12th lunar month) and days 1–3 of the lunar year |
| 清明节 Qingming | 1 | the day of the solar term 清明 |
| 劳动节 Labour Day | 2 | 1–2 May |
| 端午节 Dragon Boat | 1 | the 5th day of the 5th lunar month |
| 中秋节 Mid-Autumn | 1 | the 15th day of the 8th lunar month |
| 国庆节 National Day | 3 | 1–3 October |

Each year the State Council adds bridging days and make-up working days (调休) around them; those cannot be
derived and stay unknown until the year's schedule is published. So a count through an unknown year skips these
days and is still marked provisional (shared/DOMAIN.md, "Unknown years").

The lunar dates and the solar term come from `lunar_python`, a maintained calendar library (pure Python, no
I/O), so this module can run inside Temporal workflow code.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from lunar_python import Lunar, Solar  # type: ignore[import-untyped]

ACT = "《全国年节及纪念日放假办法》第二条"


def _solar(lunar: Lunar) -> date:
    solar = lunar.getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> tuple[tuple[date, str], ...]:
    """The days off fixed by date in `year` (Gregorian), with their names, in date order.

    Spring Festival belongs to the lunar year that starts in `year`; its Eve may fall in January of `year` too
    (never in the previous Gregorian year: the lunar new year is between 21 January and 20 February).
    """
    days: dict[date, str] = {
        date(year, 1, 1): "元旦",
        date(year, 5, 1): "劳动节",
        date(year, 5, 2): "劳动节",
        date(year, 10, 1): "国庆节",
        date(year, 10, 2): "国庆节",
        date(year, 10, 3): "国庆节",
    }
    new_year = _solar(Lunar.fromYmd(year, 1, 1))
    for offset in range(-1, 3):  # 除夕, 初一, 初二, 初三
        days[new_year + timedelta(days=offset)] = "春节"
    qingming = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
    days[date(qingming.getYear(), qingming.getMonth(), qingming.getDay())] = "清明节"
    days[_solar(Lunar.fromYmd(year, 5, 5))] = "端午节"
    days[_solar(Lunar.fromYmd(year, 8, 15))] = "中秋节"
    return tuple(sorted((d, name) for d, name in days.items() if d.year == year))
