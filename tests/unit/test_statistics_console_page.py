"""The console's statistics page (api/console/statistics.py, templates/statistics.html), built from answers of
GET /statistics made by hand: what it asks the API, what it shows, and that it needs no script and no inline style
(the console's policy, api/hardening.py)."""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api.console.api_client import Answer
from api.console.routes import templates
from api.console.statistics import file_response, presets, statistics_file, statistics_page
from tests.statistics_samples import COMMITTEE, report

COMMITTEES = [{"id": "huangpu", "name": COMMITTEE, "city": "上海"},
              {"id": "xuhui", "name": "上海市徐汇区医疗纠纷人民调解委员会", "city": "上海"}]


class FakeApi:
    """Answers as the API would, and remembers what was asked."""

    def __init__(self, refuse: Answer | None = None) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.refuse = refuse

    async def get(self, path: str, **params: Any) -> Answer:
        self.asked.append((path, params))
        if self.refuse is not None:
            return self.refuse
        if path == "/committees":
            return Answer(200, COMMITTEES, httpx.Headers())
        if path.startswith("/statistics/"):
            return Answer(200, b"a,b\r\n", httpx.Headers({
                "content-type": "text/csv; charset=utf-8", "content-disposition": "attachment; filename=\"x.csv\"",
                "x-report-sealed": "true", "set-cookie": "not=passed"}))
        sample = report(params.get("group_by", "none"))
        return Answer(200, json.loads(sample.model_dump_json()), httpx.Headers())


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    def links(self) -> list[str]:
        return [attrs["href"] or "" for tag, attrs in self.tags if tag == "a" and attrs.get("href")]


class Visit:
    def may(self, operation: str) -> bool:
        return False


async def rendered(api: FakeApi, query: dict[str, str], **kwargs: Any) -> Page:
    page = await statistics_page(api, query, lang=kwargs.pop("lang", "zh"), today=date(2026, 4, 2),  # type: ignore[arg-type]
                                 **kwargs)
    assert page.refused is None
    html = templates.env.get_template("statistics.html").render(
        **page.values, t=lambda key: key, v=Visit(), me=None, lang="zh", path="/console/statistics", flash=None)
    return Page(html)


class TestWhatItAsks:
    async def test_the_figures_as_asked_then_by_month_institution_and_department(self) -> None:
        api = FakeApi()
        await rendered(api, {"from": "2026-03-01", "to": "2026-03-31", "group_by": "month", "junk": "x", "city": ""})
        first, *others = api.asked
        assert first == ("/statistics", {"from": "2026-03-01", "to": "2026-03-31", "group_by": "month"})
        by = {params.get("group_by"): params for path, params in others if path == "/statistics"}
        # the period the API resolved; the trend since January of the period's year
        assert by["month"]["from"] == "2026-01-01" and by["month"]["to"] == "2026-03-31"
        assert by["institution"]["from"] == "2026-01-01"  # the sample report's own period
        assert set(by) == {"month", "institution", "department"}
        assert ("/committees", {}) in others

    async def test_a_user_of_one_committee_is_not_offered_the_others(self) -> None:
        api = FakeApi()
        page = await rendered(api, {}, committee_id="huangpu")
        assert "/committees" not in [path for path, _ in api.asked]
        assert not [attrs for tag, attrs in page.tags if tag == "select" and attrs.get("name") == "committee_id"]

    async def test_a_refusal_is_the_apis(self) -> None:
        refusal = Answer(403, {"detail": "committee 'xuhui' is outside your reach", "code": "forbidden"},
                         httpx.Headers())
        page = await statistics_page(FakeApi(refusal), {"committee_id": "xuhui"}, lang="zh",  # type: ignore[arg-type]
                                     today=date(2026, 4, 2))
        assert page.refused is refusal and not page.values


class TestWhatItShows:
    @pytest.fixture
    async def page(self) -> Page:
        return await rendered(FakeApi(), {"group_by": "month"})

    async def test_every_figure_of_the_total_and_a_table_per_group(self, page: Page) -> None:
        text = page.text
        assert "统计报表 · 2026年第一季度" in " ".join(text)
        assert text[text.index("调解成功率（占结案）") + 1] == "71.4%"
        assert text[text.index("协议金额合计（元）") + 1] == "123,456.78"
        assert "分组统计（月份）" in text and "2026年2月" in text

    async def test_the_charts_are_inline_svg_without_script_or_style(self, page: Page) -> None:
        tags = [tag for tag, _ in page.tags]
        assert tags.count("svg") == 5
        assert "script" not in tags and "style" not in tags
        assert not [attrs for _, attrs in page.tags if "style" in attrs or any(k.startswith("on") for k in attrs)]
        assert {"受理与调解成功（按月）", "结案结果构成", "申请最多的医疗机构", "申请最多的科室"} <= set(page.text)
        fonts = {attrs.get("font-family") for tag, attrs in page.tags if tag == "svg"}
        assert all("Noto Sans CJK SC" in (font or "") for font in fonts)

    async def test_downloads_keep_the_period_and_grouping(self, page: Page) -> None:
        links = [urlsplit(link) for link in page.links() if link.startswith("/console/statistics/")]
        assert {link.path for link in links} == {"/console/statistics/export.csv", "/console/statistics/export.xlsx",
                                                "/console/statistics/report.pdf"}
        for link in links:
            query = parse_qs(link.query)
            assert query["from"] == ["2026-01-01"] and query["to"] == ["2026-03-31"] and query["group_by"] == ["month"]
        assert any(parse_qs(link.query).get("lang") == ["en"] for link in links)

    async def test_a_get_form_for_the_period_and_the_groups(self, page: Page) -> None:
        forms = [attrs for tag, attrs in page.tags if tag == "form"]
        assert forms[0]["method"] == "get" and forms[0]["action"] == "/console/statistics"
        names = {attrs.get("name") for tag, attrs in page.tags if tag in ("input", "select")}
        assert {"from", "to", "committee_id", "group_by"} <= names
        labelled = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
        ids = {attrs.get("id") for tag, attrs in page.tags if tag in ("input", "select")}
        assert ids <= labelled  # every field has its label

    async def test_in_english(self) -> None:
        page = await rendered(FakeApi(), {"group_by": "month"}, lang="en")
        assert "Accepted and settled, by month" in page.text and "Success rate (of closed)" in page.text


def test_presets_keep_the_rest_of_the_query() -> None:
    found = dict(presets(date(2026, 5, 20), {"group_by": "kind", "from": "2020-01-01"}))
    assert parse_qs(urlsplit(found["last_month"]).query) == {"group_by": ["kind"], "from": ["2026-04-01"],
                                                             "to": ["2026-04-30"]}
    assert parse_qs(urlsplit(found["this_quarter"]).query)["to"] == ["2026-06-30"]
    assert parse_qs(urlsplit(found["this_year"]).query)["from"] == ["2026-01-01"]


class TestFiles:
    async def test_a_file_is_the_apis_with_its_name_and_seal(self) -> None:
        api = FakeApi()
        answer = await statistics_file(api, "export.csv", {"from": "2026-03-01", "lang": "en", "x": "y"})
        assert api.asked == [("/statistics/export.csv", {"from": "2026-03-01", "lang": "en"})]
        response = file_response(answer)
        assert response.body == b"a,b\r\n"
        assert response.headers["content-disposition"] == 'attachment; filename="x.csv"'
        assert response.headers["x-report-sealed"] == "true" and "set-cookie" not in response.headers

    async def test_another_name_is_404(self) -> None:
        answer = await statistics_file(FakeApi(), "../cases", {})
        assert answer.status == 404
