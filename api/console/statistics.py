"""The console's statistics page (issue 17), for directors, auditors and admins: a period's figures, their charts
and the downloads, all through the API in process (GET /statistics, its exports; api/console/api_client.py), so
the reach, the period's rules and every figure are the API's.

`statistics_page` reads GET /statistics as asked — then, for the charts, by month since the start of the year,
by institution and by department — and returns what templates/statistics.html shows: every figure of the total,
the main figures per group, the charts as inline SVG (documents/charts.py: no script, no style sheet, so the
console's policy lets them be), links to the CSV, XLSX and PDF. `statistics_file` fetches one of those files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import Response
from markupsafe import Markup

from api.console.api_client import Answer, ConsoleApi
from documents.charts import SCREEN_FONT, chart_svg
from documents.contexts import ChartData
from documents.statistics_report import (
    GROUP_HEADERS,
    TABLE_NAMES,
    Lang,
    charts,
    figure_table,
    formatted,
    period_words,
)
from models.schemas_statistics import StatisticsReport

PAGE = "/console/statistics"
PARAMS = ("from", "to", "committee_id", "city", "group_by")
FILES = ("export.csv", "export.xlsx", "report.pdf")
# What the console passes on from a file's answer.
FILE_HEADERS = ("content-type", "content-disposition", "x-report-sealed", "x-report-unsealed-because")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "统计报表", "period": "统计期间", "from": "起始日", "to": "截止日", "committee": "调解委员会",
        "city": "城市", "all": "全部（权限内）", "group_by": "分组", "show": "查看", "presets": "常用期间",
        "this_month": "本月", "last_month": "上月", "this_quarter": "本季度", "this_year": "本年",
        "summary": "本期概况", "charts": "统计图", "groups": "分组统计", "downloads": "下载",
        "csv": "CSV 表格", "xlsx": "Excel 工作簿", "pdf": "月度统计报表（PDF，加盖印章）", "english": "英文表头",
        "scope": "统计范围", "as_of": "数据读取时间", "charts_note": "统计图不含脚本，按月统计自本年1月起。",
        "none": "不分组",
    },
    "en": {
        "title": "Statistics", "period": "Period", "from": "From", "to": "To", "committee": "Committee",
        "city": "City", "all": "All (in reach)", "group_by": "Group by", "show": "Show", "presets": "Periods",
        "this_month": "This month", "last_month": "Last month", "this_quarter": "This quarter",
        "this_year": "This year", "summary": "The period at a glance", "charts": "Charts", "groups": "By group",
        "downloads": "Downloads", "csv": "CSV", "xlsx": "Excel workbook", "pdf": "Monthly report (PDF, sealed)",
        "english": "English headers", "scope": "Scope", "as_of": "Figures read at",
        "charts_note": "By month: since January of the period's year.", "none": "No groups",
    },
}


@dataclass
class StatisticsPage:
    """What the page shows (`values`, for templates/statistics.html), or the API's refusal to show it."""

    values: dict[str, Any] = field(default_factory=dict)
    refused: Answer | None = None


def asked(query: Mapping[str, str]) -> dict[str, str]:
    """GET /statistics's parameters from the page's query string; empty ones left out (the API's defaults)."""
    return {name: str(query[name]).strip() for name in PARAMS if str(query.get(name) or "").strip()}


def _link(path: str, params: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def presets(today: date, params: Mapping[str, str]) -> list[tuple[str, str]]:
    """This month, last month, this quarter, this year: (label key, the page's link), the rest of the query kept."""
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    quarter_end = (quarter.replace(month=quarter.month + 2, day=28) + timedelta(days=4)).replace(day=1) - \
        timedelta(days=1)
    periods = {
        "this_month": (first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)),
        "last_month": (last_month_end.replace(day=1), last_month_end),
        "this_quarter": (quarter, quarter_end),
        "this_year": (today.replace(month=1, day=1), today.replace(month=12, day=31)),
    }
    kept = {k: v for k, v in params.items() if k not in ("from", "to")}
    return [(key, _link(PAGE, {**kept, "from": start.isoformat(), "to": end.isoformat()}))
            for key, (start, end) in periods.items()]


def _resolved(report: StatisticsReport, params: Mapping[str, str]) -> dict[str, str]:
    """The query with the period the API resolved (its defaults filled in)."""
    return {**params, "from": report.period_from.isoformat(), "to": report.period_to.isoformat()}


async def statistics_page(api: ConsoleApi, query: Mapping[str, str], *, lang: str, today: date,
                          committee_id: str | None = None) -> StatisticsPage:
    """Reads the figures and builds the page. `committee_id`: the user's own committee (a director, a committee's
    auditor), for whom the committee is not a choice; admins and a city's auditors choose among the committees."""
    words: Lang = "en" if lang == "en" else "zh"
    params = asked(query)
    main = await api.get("/statistics", **params)
    if not main.ok:
        return StatisticsPage(refused=main)
    report = StatisticsReport.model_validate(main.body)
    resolved = _resolved(report, params)
    since = min(report.period_from, date(report.period_to.year, 1, 1))
    calls = {
        "months": api.get("/statistics", **{**resolved, "group_by": "month", "from": since.isoformat()}),
        "institutions": api.get("/statistics", **{**resolved, "group_by": "institution"}),
        "departments": api.get("/statistics", **{**resolved, "group_by": "department"}),
    }
    if committee_id is None:
        calls["committees"] = api.get("/committees")
    answers = dict(zip(calls, await asyncio.gather(*calls.values()), strict=True))
    by = {name: StatisticsReport.model_validate(a.body) for name, a in answers.items()
          if name != "committees" and a.ok}
    drawn = charts(report, months=by.get("months"), institutions=by.get("institutions"),
                   departments=by.get("departments"), lang=words)
    committees = answers["committees"].body if "committees" in answers and answers["committees"].ok else []
    downloads = {kind: _link(f"{PAGE}/{name}", resolved) for kind, name in zip(("csv", "xlsx", "pdf"), FILES,
                                                                                 strict=True)}
    downloads["csv_en"] = _link(f"{PAGE}/export.csv", {**resolved, "lang": "en"})
    return StatisticsPage(values={
        "s": LABELS[words],
        "report": report,
        "period": period_words(report.period_from, report.period_to, words),
        "scope": _scope(report, committees, committee_id, words),
        "summary": [figure_table(report, name, words, total_only=True) for name in TABLE_NAMES],
        "tables": [figure_table(report, name, words, main_only=True) for name in TABLE_NAMES]
        if report.groups else [],
        "charts": chart_rows(drawn, words),
        "figure": formatted,
        "asked": params,
        "committees": committees,
        "cities": sorted({c.get("city") for c in committees if c.get("city")}),
        "groupings": [(key, zh if words == "zh" else en) for key, (zh, en) in GROUP_HEADERS.items()],
        "presets": presets(today, params),
        "downloads": downloads,
    })


# The charts two by two (the page's .columns: three fifths, two fifths): the narrow one drawn narrower.
ROWS = (("months", "outcomes"), ("durations", "departments"), ("institutions",))
NARROW = 480


def chart_rows(drawn: tuple[ChartData, ...], lang: Lang) -> list[list[Markup]]:
    """The charts as inline SVG, in rows of the page: bars by month beside the outcomes' donut, durations beside
    the departments, the institutions (their names are long) on their own."""
    named = {chart.name: chart for chart in drawn}
    rows = []
    for row in ROWS:
        found = [Markup(chart_svg(named[name], font=SCREEN_FONT, lang=lang, width=NARROW if i else 800))
                 for i, name in enumerate(row) if name in named]
        if found:
            rows.append(found)
    return rows


def _scope(report: StatisticsReport, committees: list[dict[str, Any]], own: str | None, lang: Lang) -> str:
    names = {c["id"]: c["name"] for c in committees}
    counted = [report.committee_id] if report.committee_id else report.committee_ids
    if len(counted) == 1:
        return names.get(counted[0], counted[0])
    if report.city:
        return f"{report.city}各医疗纠纷人民调解委员会" if lang == "zh" else f"the committees of {report.city}"
    return LABELS[lang]["all"] + (f"：{len(counted)}" if lang == "zh" else f": {len(counted)}")


async def statistics_file(api: ConsoleApi, name: str, query: Mapping[str, str]) -> Answer:
    """One of the files (export.csv, export.xlsx, report.pdf) as the API answers it; 404 for another name."""
    if name not in FILES:
        return Answer(404, {"detail": f"no statistics file {name!r}", "code": "not_found"}, httpx.Headers())
    params = asked(query)
    if query.get("lang") in ("zh", "en"):
        params["lang"] = str(query["lang"])
    return await api.get(f"/statistics/{name}", **params)


def file_response(answer: Answer) -> Response:
    """The API's file, with its type, its name and whether it is sealed."""
    response = Response(answer.body)
    for header in FILE_HEADERS:
        if header in answer.headers:
            response.headers[header] = answer.headers[header]
    return response

