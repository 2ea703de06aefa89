"""The statistics report's charts (issue 17): SVG drawn on the server by pygal, then flattened, parsed back as XML.
The console's policy runs no script and takes no inline style (api/hardening.py CONSOLE_POLICY), so the charts
carry neither; their text is text, in the page's font family."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from api.hardening import CONSOLE_POLICY
from documents.charts import PRINT_FONT, SCREEN_FONT, chart_svg
from documents.contexts import ChartData, ChartSeries
from documents.statistics_report import charts
from tests.statistics_samples import report

SVG = "{http://www.w3.org/2000/svg}"


def every_chart(lang: str = "zh") -> dict[str, ChartData]:
    found = charts(report("month"), institutions=report("institution"), departments=report("department"),
                   lang=lang)  # type: ignore[arg-type]
    return {chart.name: chart for chart in found}


def parsed(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def texts(root: ElementTree.Element) -> list[str]:
    return ["".join(element.itertext()).strip() for element in root.iter(f"{SVG}text")]


def marks(root: ElementTree.Element) -> list[ElementTree.Element]:
    """The bars or slices: each a group with its title (what a browser shows on hover) and its shape."""
    return [group for group in root.iter(f"{SVG}g")
            if group.find(f"{SVG}title") is not None and group.find(f"{SVG}rect") is not None
            or group.find(f"{SVG}title") is not None and group.find(f"{SVG}path") is not None]


@pytest.fixture(scope="module")
def drawn() -> dict[str, ElementTree.Element]:
    return {name: parsed(chart_svg(chart, font=SCREEN_FONT)) for name, chart in every_chart().items()}


class TestWhatEachChartShows:
    def test_the_five_charts(self) -> None:
        assert list(every_chart()) == ["months", "outcomes", "durations", "institutions", "departments"]

    def test_settled_and_accepted_per_month(self, drawn: dict[str, ElementTree.Element]) -> None:
        words = texts(drawn["months"])
        assert "受理与调解成功（按月）" in words
        assert {"2026年1月", "2026年2月", "2026年3月", "受理", "调解成功"} <= set(words)
        bars = marks(drawn["months"])
        assert len(bars) == 6  # two series, three months
        assert "2026年2月：3" in {bar.findtext(f"{SVG}title") for bar in bars}

    def test_outcome_shares_with_counts_and_percentages(self, drawn: dict[str, ElementTree.Element]) -> None:
        words = texts(drawn["outcomes"])
        assert "调解成功 5（71.4%）" in words and "调解不成 1（14.3%）" in words and "终止调解 1（14.3%）" in words
        assert len(marks(drawn["outcomes"])) == 3

    def test_durations_median_and_p90_per_group(self, drawn: dict[str, ElementTree.Element]) -> None:
        words = texts(drawn["durations"])
        assert {"中位数", "90%分位", "18.5", "29"} <= set(words)

    def test_top_institutions_and_departments_most_first(self, drawn: dict[str, ElementTree.Element]) -> None:
        labels = [w for w in texts(drawn["institutions"]) if w.endswith("医院")]
        # drawn from the bottom up: the one with the most applications is the last label, on top
        assert labels[-1] == "上海市第一人民医院"
        assert {"产科", "骨科", "普通外科"} <= set(texts(drawn["departments"]))

    def test_a_chart_with_nothing_to_show_says_so(self) -> None:
        empty = ChartData("months", "bar", "受理与调解成功（按月）", ("2026年3月",),
                          (ChartSeries("受理", (0.0,)), ChartSeries("调解成功", (0.0,))))
        assert "本期无数据" in texts(parsed(chart_svg(empty)))
        donut = ChartData("outcomes", "donut", "结案结果构成", ("",), (ChartSeries("调解成功", (0.0,)),))
        assert "本期无数据" in texts(parsed(chart_svg(donut)))

    def test_english(self) -> None:
        chart = every_chart("en")["months"]
        words = texts(parsed(chart_svg(chart, lang="en")))
        assert {"Accepted and settled, by month", "2026-01", "Accepted", "Settled"} <= set(words)


class TestSafeInAPageWithoutScriptOrInlineStyle:
    def test_the_policy_allows_neither(self) -> None:
        assert "script-src" not in CONSOLE_POLICY and "default-src 'none'" in CONSOLE_POLICY
        assert "unsafe-inline" not in CONSOLE_POLICY

    @pytest.mark.parametrize("name", ["months", "outcomes", "durations", "institutions", "departments"])
    def test_no_script_no_style_no_handler(self, name: str) -> None:
        svg = chart_svg(every_chart()[name], font=SCREEN_FONT)
        root = parsed(svg)
        tags = {element.tag.removeprefix(SVG) for element in root.iter()}
        assert "script" not in tags and "style" not in tags and "foreignObject" not in tags
        for element in root.iter():
            assert "style" not in element.attrib and "class" not in element.attrib
            assert not any(key.startswith("on") for key in element.attrib)
            assert not any(value.strip().lower().startswith("javascript:") for value in element.attrib.values())
        assert "<script" not in svg.lower() and "window.pygal" not in svg

    def test_colours_and_sizes_are_attributes(self, drawn: dict[str, ElementTree.Element]) -> None:
        root = drawn["months"]
        parent = {child: element for element in root.iter() for child in element}

        def fill_of(element: ElementTree.Element) -> str | None:  # the attribute, inherited as SVG does
            while element.get("fill") is None and element in parent:
                element = parent[element]
            return element.get("fill")

        assert {fill_of(bar.find(f"{SVG}rect")) for bar in marks(root)} == {"#1f5fa8", "#2e8b57"}  # type: ignore[arg-type]
        titles = [t for t in drawn["months"].iter(f"{SVG}text") if t.text == "受理与调解成功（按月）"]
        assert titles[0].get("font-size") == "18px"

    def test_a_label_is_text_escaped_never_markup(self) -> None:
        chart = ChartData("institutions", "hbar", "申请最多的医疗机构", ("<script>alert(1)</script>医院",),
                          (ChartSeries("申请", (3.0,)),))
        svg = chart_svg(chart)
        assert "<script>" not in svg
        assert "<script>alert(1)</script>医院" in texts(parsed(svg))

    def test_a_control_character_in_a_name_is_left_out(self) -> None:
        chart = ChartData("institutions", "hbar", "申请最多的医疗机构", ("某\x01医院",), (ChartSeries("申请", (3.0,)),))
        assert "某医院" in texts(parsed(chart_svg(chart)))

    def test_the_same_data_draw_the_same_svg(self) -> None:
        chart = every_chart()["months"]
        assert chart_svg(chart) == chart_svg(chart)  # no random ids, no drawing date


class TestChineseText:
    def test_the_console_charts_use_the_console_font(self, drawn: dict[str, ElementTree.Element]) -> None:
        root = drawn["months"]
        assert root.get("font-family") == SCREEN_FONT.replace('", "', '","').replace('", ', '",')
        assert "Noto Sans CJK SC" in root.get("font-family", "")

    def test_the_printed_charts_use_the_bundled_face(self) -> None:
        root = parsed(chart_svg(every_chart()["months"], font=PRINT_FONT))
        families = {element.get("font-family") for element in root.iter() if element.get("font-family")}
        assert families and all(re.match(r'"Mediation Serif SC"', family or "") for family in families)

    def test_the_root_is_an_image_named_by_its_title(self, drawn: dict[str, ElementTree.Element]) -> None:
        root = drawn["departments"]
        assert root.get("role") == "img" and root.get("aria-label") == "申请最多的科室"
        assert root.get("viewBox") == "0 0 800 198"  # three departments
