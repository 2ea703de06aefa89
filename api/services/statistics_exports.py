"""What is made from a statistics report (issue 17): its CSV and XLSX exports and its monthly report in PDF.

The exports are pure builders from a `StatisticsReport` (models/schemas_statistics.py) and the tables of
documents/statistics_report.py — one row per group, then the total; the group's label, then every figure, headed
in Chinese (or English with lang=en):
- CSV: one table of every figure, UTF-8 with a byte-order mark (so that Excel and WPS read the Chinese), CRLF
  lines; a rate as a percentage with one decimal (85.7%, which spreadsheets read as a number), an amount with two
  decimals and no separator, working days with one decimal, nothing for a figure there is none of;
- XLSX: a sheet per table (outcomes, durations, activity, amounts) and a sheet of notes (the period, the scope, what
  each figure counts); numbers as numbers, formatted (amounts 0.00, rates 0.0%, working days 0.0), the header row
  and the label column frozen, columns as wide as their header.

The PDF is laid out by WeasyPrint in a process of its own (`render_in_child`): the architecture keeps WeasyPrint
out of the API's process (it would hold the GIL for the second a report's layout takes, every other request
waiting), as the documents' workers keep it for the case documents. The child is started on the first report and
kept; it seals with the keys the documents' workers use, from the same settings (documents/sealing.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
import os
import re
import threading
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from api.services import statistics
from documents.contexts import FigureValue, StatisticsReportContext, period_kind
from documents.sealing import SealSetup
from documents.statistics_report import (
    TABLE_NAMES,
    Column,
    Lang,
    RenderedReport,
    columns,
    comparison_table,
    formatted,
    label_header,
    notes,
    period_words,
    render_report,
    report_context,
    rows,
    scope_words,
    table_title,
)
from domain.access import CaseScope
from domain.statistics import days_text, percent_text
from models import repo
from models.schemas_statistics import GroupBy, StatisticsReport

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MEDIA_TYPE = "application/pdf"
NUMBER_FORMATS = {"count": "0", "rate": "0.0%", "amount": "0.00", "days": "0.0"}
NOTES_SHEET = {"zh": "说明", "en": "Notes"}


def every_column(report: StatisticsReport) -> list[Column]:
    return [column for name in TABLE_NAMES for column in columns(report)[name]]


# --- CSV -----------------------------------------------------------------------------------------------------


def csv_value(value: FigureValue, kind: str) -> str:
    """The PDF's digits (documents/statistics_report.py `formatted`), without thousands separators, empty for none."""
    return formatted(value, kind, grouping=False, none="")


def csv_bytes(report: StatisticsReport, lang: Lang = "zh") -> bytes:
    """Every figure of the report: a header row, a row per group, the total."""
    table = every_column(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label_header(report, lang), *(column.header(lang) for column in table)])
    for row in rows(report, table, lang):
        writer.writerow([row.label, *(csv_value(value, column.kind) for value, column in zip(row.values, table,
                                                                                              strict=True))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- XLSX ----------------------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", start_color="FFEDEFF2")
TOTAL_BORDER = Border(top=Side(style="thin"))


def _display_width(text: str) -> float:
    """Width in Excel's character units: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


def _text(value: str) -> str:
    """Text a workbook can hold: XML refuses control characters (a city asked for, a name on file)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def xlsx_value(value: FigureValue, kind: str) -> int | float | Decimal | None:
    """A number the sheet's format shows with the PDF's digits: a rate already at three places (0.789, shown 78.9%),
    working days at one decimal, so that the spreadsheet has nothing left to round."""
    if value is None:
        return None
    if kind == "amount":
        return Decimal(value)
    if kind == "rate":
        return float(Decimal(percent_text(value).rstrip("%")) / 100)
    if kind == "days":
        return float(days_text(value))
    return value


def _table_sheet(book: Workbook, report: StatisticsReport, name: str, lang: Lang) -> None:
    sheet = book.create_sheet(title=table_title(name, lang))
    table = list(columns(report)[name])
    sheet.append([label_header(report, lang), *(_text(column.header(lang)) for column in table)])
    found = rows(report, table, lang)
    for row in found:
        sheet.append([_text(row.label), *(xlsx_value(value, column.kind) for value, column in zip(row.values, table,
                                                                                           strict=True))])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, column in enumerate(table, start=2):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = NUMBER_FORMATS[column.kind]
    for cell in sheet[sheet.max_row]:  # the total
        cell.font, cell.border = HEADER_FONT, TOTAL_BORDER
    widest_label = max([_display_width(row.label) for row in found] + [_display_width(label_header(report, lang))])
    sheet.column_dimensions["A"].width = min(max(widest_label + 2, 10), 48)
    for index, column in enumerate(table, start=2):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(_display_width(column.header(lang)) + 2,
                                                                          10), 36)
    sheet.freeze_panes = "B2"  # the header row and the label column stay in view


# 同比 as a number the sheet can compute with: a share (+12.5%), or a rate's change in points (+2.1)
CHANGE_FORMATS = {"rate": '+0.0%;-0.0%;0.0%', "points": '+0.0;-0.0;0.0'}


def _comparison_sheet(book: Workbook, report: StatisticsReport, lang: Lang) -> None:
    """本年累计, 上年同期 and 同比 beside the period (a report asked with compare): the PDF's table, as numbers."""
    table = comparison_table(report, lang)
    if table is None:
        return
    sheet = book.create_sheet(title="比较" if lang == "zh" else "Compared")
    points = "（百分点）" if lang == "zh" else " (points for rates)"
    sheet.append([*table.headers[:-1], table.headers[-1] + points])
    for row in table.rows:
        change = row.change if row.kind != "rate" or row.change is None else round(row.change * 100, 1)
        sheet.append([row.label, *(xlsx_value(value, row.kind) for value in (row.now, row.year_to_date, row.before)),
                      change])
        for cell in sheet[sheet.max_row][1:4]:
            cell.number_format = NUMBER_FORMATS[row.kind]
        sheet[sheet.max_row][4].number_format = CHANGE_FORMATS["points" if row.kind == "rate" else "rate"]
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.append([])
    sheet.append([(f"上年同期：{table.before_period}" if lang == "zh" else f"A year earlier: {table.before_period}")])
    sheet.column_dimensions["A"].width = 24
    for letter in "BCDE":
        sheet.column_dimensions[letter].width = 16


def _notes_sheet(book: Workbook, report: StatisticsReport, lang: Lang, scope: str, made_at: datetime) -> None:
    sheet = book.create_sheet(title=NOTES_SHEET[lang])
    zh = lang == "zh"
    facts = [
        ("统计期间" if zh else "Period", f"{report.period_from.isoformat()} – {report.period_to.isoformat()}"),
        ("统计范围" if zh else "Scope", _text(scope)),
        ("分组" if zh else "Grouped by", label_header(report, lang)),
        ("制表时间" if zh else "Made at", made_at.isoformat(timespec="seconds")),
        ("数据读取时间" if zh else "Figures read at", report.as_of.isoformat(timespec="seconds") if report.as_of else ""),
    ]
    for fact in facts:
        sheet.append(fact)
    sheet.append([])
    for note in notes(lang):
        sheet.append([note])
    for (cell,) in sheet.iter_rows(min_row=1, max_row=len(facts), max_col=1):
        cell.font = HEADER_FONT
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 60


def xlsx_bytes(report: StatisticsReport, lang: Lang = "zh", *, scope: str | None = None,
               made_at: datetime | None = None) -> bytes:
    """A sheet per table (outcomes, durations, activity, amounts), the comparison with the year to date and a year
    earlier (when the report has it), then the notes."""
    made_at = made_at or datetime.now().astimezone()
    scope = scope or scope_words(report, None, lang)
    book = Workbook()
    book.remove(book.active)
    for name in TABLE_NAMES:
        _table_sheet(book, report, name, lang)
    _comparison_sheet(book, report, lang)
    _notes_sheet(book, report, lang, scope, made_at)
    title = "统计报表" if lang == "zh" else "Statistics"
    book.properties.title = f"{title} {period_words(report.period_from, report.period_to, lang)}"
    book.properties.subject = _text(scope)
    book.properties.creator = "mediation"
    book.properties.created = book.properties.modified = made_at.replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- The figures behind each output --------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What GET /statistics and its exports are asked for (the period's ends already filled in)."""

    period_from: date
    period_to: date
    committee_id: str | None
    city: str | None
    group_by: GroupBy


def figures(*, session: Session, scope: CaseScope, asked: Asked, group_by: GroupBy | None = None,
            period_from: date | None = None, compare: bool = False) -> StatisticsReport:
    """api/services/statistics.py's report: in the caller's reach, 403 for a committee outside it, 422 for a
    period it does not take."""
    return statistics.report(session=session, scope=scope, committee_id=asked.committee_id, city=asked.city,
                             period_from=period_from or asked.period_from, period_to=asked.period_to,
                             group_by=group_by or asked.group_by, compare=compare)


@dataclass(frozen=True)
class Committee:
    """The one committee whose cases a report counts (asked for, or the only one in the caller's reach)."""

    id: str
    name: str
    city: str


def counted_committee(*, session: Session, report: StatisticsReport) -> Committee | None:
    ids = [report.committee_id] if report.committee_id else report.committee_ids
    if len(ids) != 1:
        return None
    row = repo.find_committee(session=session, committee_id=ids[0])
    return Committee(id=row.id, name=row.name, city=row.city or "") if row is not None else None


def scope_of(*, session: Session, report: StatisticsReport, lang: Lang) -> str:
    committee = counted_committee(session=session, report=report)
    return scope_words(report, committee.name if committee else None, lang)


@dataclass(frozen=True)
class ReportInput:
    context: StatisticsReportContext
    location: str  # where it is sealed: the committee's city, or the city asked for
    name: str  # its file's name


def report_input(*, session: Session, scope: CaseScope, asked: Asked, lang: Lang, now: datetime,
                 compiled_by: str = "", reviewed_by: str = "", head: str = "") -> ReportInput:
    """What the monthly report prints (documents/statistics_report.py): the figures asked for; accepted and settled
    by month since the start of the year of the period's end (or the period's own start, if earlier), for the
    trend; the year to date and the same period a year earlier, with the change; the institutions and departments with the most applications; the committee that issues it."""
    main = figures(session=session, scope=scope, asked=asked, compare=True)  # 本年累计, 上年同期, 同比
    since = min(asked.period_from, date(asked.period_to.year, 1, 1))
    months = main if asked.group_by == "month" and since == asked.period_from else figures(
        session=session, scope=scope, asked=asked, group_by="month", period_from=since)
    institutions = main if asked.group_by == "institution" else figures(
        session=session, scope=scope, asked=asked, group_by="institution")
    departments = main if asked.group_by == "department" else figures(
        session=session, scope=scope, asked=asked, group_by="department")
    committee = counted_committee(session=session, report=main)
    names = {c.id: c.name for c in statistics.reads.committees(session=session)}
    context = report_context(main, issued_at=now, committee_name=committee.name if committee else None,
                             months=months, institutions=institutions, departments=departments, lang=lang,
                             compiled_by=compiled_by, reviewed_by=reviewed_by, head=head,
                             committee_names=[names.get(c, c) for c in main.committee_ids])
    location = (committee.city or committee.name) if committee else (asked.city or context.issuer)
    return ReportInput(context=context, location=location, name=file_name(main, "pdf", lang, committee=committee))


# --- File names ----------------------------------------------------------------------------------------------


def file_name(report: StatisticsReport, extension: str, lang: Lang = "zh", *,
              committee: Committee | None = None) -> str:
    """统计报表-huangpu-2026-03.csv, statistics-上海-2026-01-01-2026-03-31.xlsx ...: the committee counted (asked
    for, or the only one in reach), else the city, else all."""
    start, end = report.period_from, report.period_to
    kind = period_kind(start, end)
    period = {"month": f"{start:%Y-%m}", "quarter": f"{start.year}-Q{(start.month - 1) // 3 + 1}",
              "year": f"{start.year}"}.get(kind, f"{start.isoformat()}-{end.isoformat()}")
    scope = (report.committee_id or (committee.id if committee else None) or report.city
             or ("全部" if lang == "zh" else "all"))
    titles = {"month": "月度统计报表", "quarter": "季度统计报表", "year": "年度统计报表"}
    title = (titles.get(kind, "统计报表") if extension == "pdf" else "统计报表") if lang == "zh" else "statistics"
    return f"{title}-{scope}-{period}.{extension}"


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """The file's name for every client: an ASCII one, and the UTF-8 one (RFC 6266, RFC 8187)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "statistics"  # nothing that ends a header
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- The PDF, in a process of its own --------------------------------------------------------------------------

_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ProcessPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            # spawn: a fresh interpreter, nothing of the API's threads, locks or connections carried over
            _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_exit_with_parent, initargs=(os.getpid(),))
        return _POOL


def _exit_with_parent(parent: int) -> None:
    """In the report process: it ends when the API that started it is gone, even killed without a word (a process
    whose parent died is adopted by another, so its parent's id changes)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def stop_report_process() -> None:
    """The API's lifespan ends: the report process, if one was started, ends with it."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _forget_pool(broken: ProcessPoolExecutor) -> None:
    global _POOL
    with _POOL_LOCK:
        if _POOL is broken:
            _POOL = None
    broken.shutdown(wait=False, cancel_futures=True)


async def render_in_child(context: StatisticsReportContext, *, lang: Lang, seal: SealSetup | None,
                          location: str = "") -> RenderedReport:
    """documents.statistics_report.render_report in the report process (started on first use, one report at a
    time); a process that died is replaced, once."""
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = _pool()
        try:
            # the child imports documents.statistics_report alone (what it unpickles), not the API
            return await loop.run_in_executor(pool, partial(render_report, context, lang=lang, seal=seal,
                                                            location=location))
        except BrokenProcessPool:
            _forget_pool(pool)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def seal_headers(rendered: RenderedReport) -> dict[str, str]:
    if rendered.sealed:
        return {"X-Report-Sealed": "true"}
    return {"X-Report-Sealed": "false",
            "X-Report-Unsealed-Because": quote(rendered.unsealed_because, safe=" :;,.()/=_-'`")}
