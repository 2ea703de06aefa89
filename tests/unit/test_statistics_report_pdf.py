"""The monthly statistics report (月度统计报表, issue 17) as a PDF: made from reports built by hand, read back with
pypdf (text, fonts, the data attached) and pypdfium2 (the charts are drawn), sealed as the documents are."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from pypdf import PdfReader

from core.settings import Settings
from documents.contexts import StatisticsReportContext
from documents.render import KINDS, WrongContext, render_html, render_pdf
from documents.seal import generate_committee_key, load_certificates, verify_pdf
from documents.sealing import SealSetup
from documents.statistics_report import render_report, report_context
from tests.pdf_text import flat, page_parts, words, xmp_pdfa
from tests.statistics_samples import COMMITTEE, report

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUED = datetime(2026, 4, 1, 9, 30, tzinfo=SHANGHAI)
BLUE = (0x1F, 0x5F, 0xA8)  # the first series' colour (documents/charts.py)


class Rendered:
    def __init__(self, context: StatisticsReportContext, lang: str) -> None:
        self.context, self.lang = context, lang
        self.pdf = render_pdf("statistics_report", context, lang=lang)

    @cached_property
    def reader(self) -> PdfReader:
        return PdfReader(io.BytesIO(self.pdf))

    @cached_property
    def text(self) -> str:
        return "\n".join(page_parts(page)[0] for page in self.reader.pages)

    @cached_property
    def margins(self) -> str:
        return "\n".join(page_parts(page)[1] for page in self.reader.pages)

    @cached_property
    def pages(self) -> list[str]:
        """Each page's whole text: the charts' too (the body's, split from the margins by where it is printed,
        does not follow the SVG's own transforms)."""
        return [page.extract_text() for page in self.reader.pages]


def context(lang: str = "zh", **changes: Any) -> StatisticsReportContext:
    built = report_context(report("month"), issued_at=ISSUED, committee_name=COMMITTEE,
                           institutions=report("institution"), departments=report("department"),
                           lang=lang)  # type: ignore[arg-type]
    return replace(built, **changes)


@pytest.fixture(scope="module")
def zh() -> Rendered:
    return Rendered(context("zh"), "zh")


@pytest.fixture(scope="module")
def en() -> Rendered:
    return Rendered(context("en"), "en")


class TestWhatItPrints:
    def test_the_committee_the_title_and_the_period(self, zh: Rendered) -> None:
        text = flat(zh.text)
        assert COMMITTEE in text
        assert "统计报表" in text and "月度统计报表" not in text  # three months: not a monthly report
        assert "统计期间：2026年1月1日至2026年3月31日" in text
        assert "统计范围：上海市黄浦区医疗纠纷人民调解委员会" in text
        assert "制表日期：2026年4月1日" in text
        assert COMMITTEE in flat(zh.margins)  # the running header, on every page

    def test_a_quarter_is_a_quarterly_report_signed_by_who_compiled_and_checked_it(self) -> None:
        quarter = Rendered(report_context(report("none", []), issued_at=ISSUED, committee_name=COMMITTEE,
                                          compiled_by="刘统计", reviewed_by="赵审核", head="钱主任"), "zh")
        text = flat(quarter.text)
        assert "季度统计报表" in text  # 1 January to 31 March
        for line in ("填报人：刘统计", "审核人：赵审核", "单位负责人：钱主任"):
            assert line in text
        assert "单位：" in text  # the units above the tables (件, 元, 工作日)

    def test_without_names_the_report_leaves_lines_to_sign(self, zh: Rendered) -> None:
        text = flat(zh.text)
        assert "填报人" in text and "审核人" in text and "单位负责人" in text

    def test_one_calendar_month_is_a_monthly_report(self) -> None:
        march = report_context(report("none", [], period_from=ISSUED.date().replace(month=3, day=1),
                                      period_to=ISSUED.date().replace(month=3, day=31)),
                               issued_at=ISSUED, committee_name=COMMITTEE)
        text = flat(Rendered(march, "zh").text)
        assert "月度统计报表" in text and "2026年3月" in text
        assert "三、分组统计" not in text  # not grouped: no table per group

    def test_every_figure_of_the_total(self, zh: Rendered) -> None:
        text = flat(zh.text)
        for label, value in (("申请调解", "10"), ("调解成功率（占结案）", "71.4%"), ("用时中位数（工作日）", "18.5"),
                             ("协议金额合计（元）", "123,456.78"), ("不予受理：8.其他", "1"),
                             ("期限内结案率", "85.7%"), ("申请司法确认", "1")):
            assert f"{label}{value}" in text, label

    def test_a_table_per_group_with_the_total(self, zh: Rendered) -> None:
        text = flat(zh.text)
        assert "三、分组统计（按月份）" in text
        assert "2026年1月" in text and "2026年3月" in text
        assert "合计010827" in text  # the total's open at start, applications, accepted, rejected, closed

    def test_the_charts_titles_and_labels_are_text(self, zh: Rendered) -> None:
        text = flat("".join(zh.pages))
        for title in ("受理与调解成功（按月）", "结案结果构成", "办理时长（工作日）", "申请最多的医疗机构",
                      "申请最多的科室"):
            assert title in text
        assert "上海市第一人民医院" in text and "调解成功5（71.4%）" in text

    def test_how_the_figures_are_counted(self, zh: Rendered) -> None:
        assert "统计口径" in flat(zh.text)
        assert "结案：已受理案件期内调解终结的：调解成功、调解不成与受理后终止调解之和（不含不予受理和未受理而终止）" in flat(
            zh.text)

    def test_in_english(self, en: Rendered) -> None:
        text = words(en.text)
        assert "Statistics Report" in text and "Period: 2026-01-01 to 2026-03-31" in text
        assert "the Chinese report prevails" in text
        assert "Success rate (of closed) 71.4%" in text
        assert "Accepted and settled, by month" in words(" ".join(en.pages))
        assert "3. By month" in text

    def test_a_label_is_printed_as_text_never_markup(self) -> None:
        hostile = context("zh", issuer="<script>alert(1)</script>调解委员会")
        html = render_html("statistics_report", hostile, "zh")
        assert "<script>alert" not in html and "&lt;script&gt;" in html


class TestAsADocument:
    def test_its_kind_validates_its_context(self) -> None:
        assert KINDS["statistics_report"].titles == {"zh": "月度统计报表", "en": "Monthly Statistics Report"}
        with pytest.raises(WrongContext):
            render_pdf("statistics_report", object(), lang="zh")

    def test_pdf_a_with_the_figures_attached(self, zh: Rendered) -> None:
        assert xmp_pdfa(zh.reader) == {"part": "3", "conformance": "B"}
        data = json.loads(zh.reader.attachments["statistics_report.json"][0])
        assert data["period_from"] == "2026-01-01" and data["issuer"] == COMMITTEE
        assert data["summary"][0]["rows"][0]["values"][1] == 10  # after 上期结转
        assert data["charts"][0]["name"] == "months"

    def test_fonts_are_the_bundled_faces_subset(self, zh: Rendered) -> None:
        for page in zh.reader.pages:
            for font in page["/Resources"]["/Font"].values():
                name = font.get_object()["/BaseFont"]
                assert re.fullmatch(r"/[A-Z]{6}\+Mediation-Serif-SC(-Bold)?", name), name

    def test_the_tables_per_group_are_on_wide_pages(self, zh: Rendered) -> None:
        boxes = [(float(page.mediabox.width), float(page.mediabox.height)) for page in zh.reader.pages]
        assert boxes[0][0] < boxes[0][1]  # portrait
        wide = [i for i, page in enumerate(zh.reader.pages) if "分组统计" in flat(page_parts(page)[0])]
        assert wide and boxes[wide[0]][0] > boxes[wide[0]][1]  # landscape

    def test_the_charts_are_drawn(self, zh: Rendered, tmp_path: Path) -> None:
        document = pypdfium2.PdfDocument(zh.pdf)
        try:
            chart_pages = [i for i, page in enumerate(zh.pages) if "结案结果构成" in flat(page)]
            image = document[chart_pages[0]].render(scale=0.5).to_pil().convert("RGB")
        finally:
            document.close()
        image.save(tmp_path / "charts.png")
        colours = image.getcolors(image.width * image.height) or []
        near_blue = sum(count for count, colour in colours
                        if all(abs(a - b) < 24 for a, b in zip(colour, BLUE, strict=True)))
        assert near_blue / (image.width * image.height) > 0.01  # the bars and the slice in the series' blue


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An installation's seal and one committee's own, as `mediation seal init` lays them out."""
    data_dir = tmp_path_factory.mktemp("seals")
    settings = Settings(data_dir=data_dir)
    generate_committee_key("医疗纠纷人民调解委员会（安装）", data_dir, key_size=2048)
    key, cert = settings.committee_seal_paths("huangpu")
    generate_committee_key(COMMITTEE, data_dir, key_path=key, cert_path=cert, key_size=2048)
    return settings


def small(**changes: Any) -> StatisticsReportContext:
    """A report of one committee's month, not grouped: quick to lay out."""
    sample = report("none", [], **changes)
    return report_context(sample, issued_at=ISSUED, committee_name=COMMITTEE if sample.committee_id else None)


class TestSealed:
    def test_with_the_committees_own_key(self, keys: Settings) -> None:
        rendered = render_report(small(), lang="zh", seal=SealSetup.of(keys), location="上海")
        assert rendered.sealed
        trusted = [*load_certificates(keys.effective_seal_cert_path),
                   *load_certificates(keys.committee_seal_paths("huangpu")[1])]
        verdict = verify_pdf(rendered.pdf, trusted=trusted)
        assert verdict.valid and verdict.signer and COMMITTEE in verdict.signer

    def test_several_committees_with_the_installations(self, keys: Settings) -> None:
        city = small(committee_id=None, city="上海")
        assert city.issuer == "上海各医疗纠纷人民调解委员会"
        rendered = render_report(city, lang="zh", seal=SealSetup.of(keys))
        verdict = verify_pdf(rendered.pdf, trusted=load_certificates(keys.effective_seal_cert_path))
        assert rendered.sealed and verdict.valid

    def test_unsealed_with_the_reason_when_sealing_is_off(self, tmp_path: Path) -> None:
        assert SealSetup.of(Settings(data_dir=tmp_path, seal_documents=False)) is None
        rendered = render_report(small(), lang="zh", seal=None)
        assert not rendered.sealed and "sealing is off" in rendered.unsealed_because
        assert not verify_pdf(rendered.pdf, trusted=[]).signed

    def test_unsealed_with_the_reason_when_no_key_fits(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)  # no key at all: nothing was initialised
        rendered = render_report(small(), lang="zh", seal=SealSetup.of(settings))
        assert not rendered.sealed and "seal" in rendered.unsealed_because
