"""The statistics exports (issue 17): CSV and XLSX of a report made by hand, read back with the csv module and
openpyxl — one row per group then the total, the group's label then every figure, headed in Chinese or English."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import pytest
from openpyxl import Workbook, load_workbook

from api.services.statistics_exports import (
    content_disposition,
    csv_bytes,
    every_column,
    file_name,
    xlsx_bytes,
)
from tests.statistics_samples import group, report

MADE_AT = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # the byte-order mark: Excel and WPS read the file as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


class TestCsv:
    def test_a_row_per_group_then_the_total(self) -> None:
        table = read_csv(csv_bytes(report("month")))
        assert [row[0] for row in table] == ["月份", "2026年1月", "2026年2月", "2026年3月", "合计"]

    def test_the_label_then_every_figure_headed_in_chinese(self) -> None:
        sample = report("month")
        header = read_csv(csv_bytes(sample))[0]
        assert header[:4] == ["月份", "上期结转", "申请调解", "受理"]  # 上期结转 first: the table balances
        assert len(header) == 1 + len(every_column(sample))
        for expected in ("调解成功", "调解成功率（占结案）", "用时中位数（工作日）", "申请司法确认", "协议金额合计（元）",
                         "不予受理：8.其他", "终止：当事人撤回或拒绝", "协议金额：保险机构承担"):
            assert expected in header

    def test_figures_as_a_spreadsheet_reads_them(self) -> None:
        table = read_csv(csv_bytes(report("month")))
        total = dict(zip(table[0], table[-1], strict=True))
        assert total["申请调解"] == "10" and total["调解成功"] == "5"
        assert total["调解成功率（占结案）"] == "71.4%"  # 5 ÷ 7
        assert total["用时中位数（工作日）"] == "18.5"
        assert total["协议金额合计（元）"] == "123456.78"  # no separator: the amount is one field
        assert total["协议金额：医方承担"] == "120000.00"

    def test_a_figure_there_is_none_of_is_empty(self) -> None:
        sample = report("none", [])
        sample.total.rates.success_of_closed = None
        sample.total.amounts.agreed_median = None
        table = read_csv(csv_bytes(sample))
        total = dict(zip(table[0], table[-1], strict=True))
        assert total["调解成功率（占结案）"] == "" and total["协议金额中位数（元）"] == ""

    def test_english_headers_with_lang_en(self) -> None:
        table = read_csv(csv_bytes(report("month"), "en"))
        assert table[0][:3] == ["Month", "Open at start", "Applications"]
        assert [row[0] for row in table[1:]] == ["2026-01", "2026-02", "2026-03", "Total"]

    def test_a_breakdown_key_not_known_here_gets_its_own_column(self) -> None:
        odd = group("2026-01", "2026年1月", terminated_by_ground={"new_ground": 2})
        table = read_csv(csv_bytes(report("month", [odd])))
        assert "终止：new_ground" in table[0]
        assert dict(zip(table[0], table[1], strict=True))["终止：new_ground"] == "2"

    def test_a_label_with_a_comma_or_quote_stays_one_field(self) -> None:
        tricky = group("x", '某医院,"东院"')
        table = read_csv(csv_bytes(report("institution", [tricky])))
        assert table[1][0] == '某医院,"东院"'


@pytest.fixture(scope="module")
def book() -> Workbook:
    return load_workbook(io.BytesIO(xlsx_bytes(report("month"), made_at=MADE_AT)))


class TestXlsx:
    def test_a_sheet_per_table_then_the_notes(self, book: Workbook) -> None:
        assert book.sheetnames == ["受理与结案", "办理时长", "调解活动", "金额", "说明"]

    def test_rows_and_values_are_numbers(self, book: Workbook) -> None:
        sheet = book["受理与结案"]
        rows = list(sheet.iter_rows(values_only=True))
        assert [row[0] for row in rows] == ["月份", "2026年1月", "2026年2月", "2026年3月", "合计"]
        header, total = rows[0], dict(zip(rows[0], rows[-1], strict=True))
        assert header[1:3] == ("上期结转", "申请调解")
        assert total["申请调解"] == 10 and total["调解成功"] == 5
        assert total["调解成功率（占结案）"] == pytest.approx(0.714)  # 5 ÷ 7 as printed: 71.4%
        amounts = list(book["金额"].iter_rows(values_only=True))
        assert dict(zip(amounts[0], amounts[-1], strict=True))["协议金额合计（元）"] == pytest.approx(123456.78)

    def test_number_formats_for_amounts_rates_and_days(self, book: Workbook) -> None:
        def formats(sheet_name: str) -> dict[str, str]:
            sheet = book[sheet_name]
            return {sheet.cell(1, col).value: sheet.cell(sheet.max_row, col).number_format
                    for col in range(2, sheet.max_column + 1)}

        assert formats("受理与结案")["调解成功率（占结案）"] == "0.0%"
        assert formats("受理与结案")["申请调解"] == "0"
        assert formats("金额")["协议金额合计（元）"] == "0.00"
        assert formats("办理时长")["用时中位数（工作日）"] == "0.0"
        assert formats("办理时长")["期限内结案率"] == "0.0%"

    def test_the_header_row_and_the_label_column_are_frozen(self, book: Workbook) -> None:
        for name in ("受理与结案", "办理时长", "调解活动", "金额"):
            assert book[name].freeze_panes == "B2"
            assert book[name]["A1"].font.bold

    def test_columns_are_as_wide_as_their_header(self, book: Workbook) -> None:
        sheet = book["受理与结案"]
        widths = {sheet.cell(1, col).value: sheet.column_dimensions[sheet.cell(1, col).column_letter].width
                  for col in range(1, sheet.max_column + 1)}
        assert widths["调解成功率（占结案）"] >= 2 * len("调解成功率（占结案）")
        assert widths["申请调解"] >= 10

    def test_the_notes_say_period_scope_and_definitions(self, book: Workbook) -> None:
        cells = [row for row in book["说明"].iter_rows(values_only=True)]
        facts = {row[0]: row[1] for row in cells[:4]}
        assert facts["统计期间"] == "2026-01-01 – 2026-03-31"
        assert facts["分组"] == "月份"
        assert any(row[0] and row[0].startswith("结案：") for row in cells)

    def test_a_figure_there_is_none_of_is_an_empty_cell(self) -> None:
        sample = report("none", [])
        sample.total.durations.median_wd = None
        book = load_workbook(io.BytesIO(xlsx_bytes(sample)))
        rows = list(book["办理时长"].iter_rows(values_only=True))
        assert dict(zip(rows[0], rows[-1], strict=True))["用时中位数（工作日）"] is None

    def test_english_sheets_and_headers(self) -> None:
        book = load_workbook(io.BytesIO(xlsx_bytes(report("month"), "en")))
        assert book.sheetnames == ["Applications and outcomes", "Durations", "Activity", "Amounts", "Notes"]
        assert book["Amounts"]["B1"].value == "Agreements with an amount"

    def test_control_characters_never_break_the_workbook(self) -> None:
        sample = report("institution", [group("x", "某\x01医院")], committee_id=None, city="上\x02海")
        book = load_workbook(io.BytesIO(xlsx_bytes(sample, scope="上\x02海各医疗纠纷人民调解委员会")))
        assert book["受理与结案"]["A2"].value == "某医院"
        assert book["说明"]["B2"].value == "上海各医疗纠纷人民调解委员会"

    def test_decimal_amounts_keep_their_cents(self) -> None:
        sample = report("none", [])
        sample.total.amounts.agreed_total = Decimal("0.10")
        rows = list(load_workbook(io.BytesIO(xlsx_bytes(sample)))["金额"].iter_rows(values_only=True))
        assert dict(zip(rows[0], rows[-1], strict=True))["协议金额合计（元）"] == pytest.approx(0.10)


class TestFileNames:
    def test_a_month_of_one_committee(self) -> None:
        sample = report("month", period_from=date(2026, 3, 1))
        assert file_name(sample, "csv") == "统计报表-huangpu-2026-03.csv"
        assert file_name(sample, "pdf") == "月度统计报表-huangpu-2026-03.pdf"
        assert file_name(sample, "xlsx", "en") == "statistics-huangpu-2026-03.xlsx"

    def test_a_quarter_of_a_city_is_named_by_its_quarter(self) -> None:
        sample = report("none", [], committee_id=None, city="上海")  # 1 January to 31 March
        assert file_name(sample, "csv") == "统计报表-上海-2026-Q1.csv"

    def test_content_disposition_carries_the_utf8_name_and_an_ascii_one(self) -> None:
        header = content_disposition("统计报表-huangpu-2026-03.csv")
        assert header.startswith('attachment; filename="huangpu-2026-03.csv"; ')
        assert unquote(header.split("filename*=UTF-8''")[1]) == "统计报表-huangpu-2026-03.csv"
        header.encode("latin-1")  # a header's bytes

    def test_a_name_asked_for_cannot_end_the_header(self) -> None:
        header = content_disposition('统计报表-上海\r\nSet-Cookie: x="1"-2026-03.csv')
        assert "\r" not in header and "\n" not in header and header.count('"') == 2


def rounding_sample():
    """15/19, 4/21, 1/16 and a 90th percentile of 12.25 working days, as GET /statistics gives them."""
    from domain.statistics import rate, working_days

    sample = report("none", [])
    sample.total.rates.success_of_closed = rate(15, 19)
    sample.total.rates.success_of_accepted = rate(4, 21)
    sample.total.durations.kept_deadline_share = rate(1, 16)
    sample.total.durations.p90_wd = working_days(12.25)
    return sample


ROUNDED = {"调解成功率（占结案）": "78.9%", "本期受理案件调解成功率": "19.0%", "期限内结案率": "6.3%",
           "用时90%分位（工作日）": "12.3"}


class TestOneRoundingRule:
    """The same digits in the CSV, the XLSX and the PDF: rounded once, half up, one decimal."""

    def test_csv(self) -> None:
        table = read_csv(csv_bytes(rounding_sample()))
        total = dict(zip(table[0], table[-1], strict=True))
        assert {name: total[name] for name in ROUNDED} == ROUNDED

    def test_xlsx_holds_numbers_its_format_shows_without_rounding_again(self) -> None:
        book = load_workbook(io.BytesIO(xlsx_bytes(rounding_sample(), made_at=MADE_AT)))
        shown = {}
        for sheet in (book["受理与结案"], book["办理时长"]):
            for col in range(2, sheet.max_column + 1):
                name, cell = sheet.cell(1, col).value, sheet.cell(sheet.max_row, col)
                if name in ROUNDED:
                    exact = Decimal(str(cell.value)) * (100 if cell.number_format == "0.0%" else 1)
                    assert exact == exact.quantize(Decimal("0.1")), name  # nothing left for Excel to round
                    shown[name] = f"{exact:.1f}%" if cell.number_format == "0.0%" else f"{exact:.1f}"
                    assert cell.number_format in ("0.0%", "0.0")
        assert shown == ROUNDED

    def test_pdf(self) -> None:
        from datetime import datetime as moment

        from documents.render import render_html
        from documents.statistics_report import report_context

        html = render_html("statistics_report", report_context(rounding_sample(), issued_at=moment(2026, 4, 1)),
                           "zh")
        for name, printed in ROUNDED.items():
            assert re.search(rf"<th>{re.escape(name)}</th>\s*<td class=\"\w+\">{re.escape(printed)}</td>", html), name
        assert "百分比、工作日保留一位小数，四舍五入" in html
