"""GET /statistics's figures as files (issue 17): /statistics/export.csv, /statistics/export.xlsx and
/statistics/report.pdf, downloaded for cases carried through the API on the real stack, and read back — each file
says what GET /statistics says."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from api.routes import statistics_exports
from api.services.statistics_exports import every_column
from core.db import SessionFactory
from documents.seal import load_certificates, verify_pdf
from domain.time import SHANGHAI
from models.schemas_statistics import StatisticsReport
from tests.factories import SIGNATURES, WITHDRAWAL, linked_to
from tests.http import ok
from tests.pdf_text import flat
from tests.pools import City, make_city

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INSURER = "某财产保险股份有限公司上海分公司"
INSTITUTION = "上海市某区人民医院"  # the respondent of tests/factories.registration()
JOINT = {"application_type": "joint", "applicant_side": None}


def terms(*pairs: tuple[str, str]) -> dict[str, Any]:
    """An agreement whose terms pay (amount, payer)."""
    return {"facts": "术后切口感染。", "points_in_dispute": "过错及赔偿数额。", "responsibilities": "医方承担主要责任。",
            "terms": [{"text": "支付赔偿款", "amount": amount, "payer": payer, "manner": "银行转账",
                       "deadline": "2026-12-31"} for amount, payer in pairs]}


def with_exports(api: httpx.AsyncClient) -> httpx.AsyncClient:
    """The app behind the client, with the exports' router (until api/main.py registers it)."""
    app = api._transport.app  # type: ignore[attr-defined]
    if not any(getattr(route, "path", "") == "/statistics/export.csv" for route in app.routes):
        app.include_router(statistics_exports.router)
    return api


async def carried(api: httpx.AsyncClient, city: City) -> None:
    """Three cases of the city's committee, this month: settled (obstetrics), withdrawn (orthopedics), rejected."""
    async def case(*steps: tuple[str, dict[str, Any]], **changes: Any) -> str:
        made = await api.post("/cases", json=linked_to(city.respondent, committee_id=city.committee_id,
                                                       **{**JOINT, **changes}))
        assert made.status_code == 201, made.text
        for event, payload in steps:
            await ok(api, made.json()["id"], event, payload)
        return made.json()["id"]

    accept = [("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})]
    await case(*accept, ("draft-agreement", terms(("60000.00", INSURER), ("26500.50", INSTITUTION))),
               *[("sign", signature) for signature in SIGNATURES], department="obstetrics",
               insurer={"name": INSURER})
    await case(*accept, ("terminate", WITHDRAWAL), department="orthopedics")
    await case(("submit-for-review", {}), ("reject", {"reasons": [6, 8], "reason_text": "患方已向法院起诉"}))


@pytest.fixture
async def city(api: httpx.AsyncClient, sessions: SessionFactory) -> City:
    with_exports(api)
    made = make_city(sessions)
    await carried(api, made)
    return made


async def figures(api: httpx.AsyncClient, **params: str) -> StatisticsReport:
    answer = await api.get("/statistics", params=params)
    assert answer.status_code == 200, answer.text
    return StatisticsReport.model_validate(answer.json())


def filename_of(answer: httpx.Response) -> str:
    return unquote(answer.headers["content-disposition"].split("filename*=UTF-8''")[1])


class TestDownloads:
    async def test_csv_says_what_get_statistics_says(self, api: httpx.AsyncClient, city: City) -> None:
        params = {"committee_id": city.committee_id, "group_by": "department"}
        answer = await api.get("/statistics/export.csv", params=params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "text/csv; charset=utf-8"
        month = datetime.now(SHANGHAI).strftime("%Y-%m")
        assert answer.headers["content-disposition"].startswith("attachment; ")
        assert filename_of(answer) == f"统计报表-{city.committee_id}-{month}.csv"
        table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
        header, rows = table[0], {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
        assert header[0] == "科室" and list(rows)[-1] == "合计"
        assert {"产科", "骨科"} <= set(rows)
        total = rows["合计"]
        assert (total["申请调解"], total["受理"], total["不予受理"]) == ("3", "2", "1")
        assert (total["调解成功"], total["终止调解"], total["调解成功率（占结案）"]) == ("1", "1", "50.0%")
        assert total["不予受理：6.已诉讼或已受理"] == "1" and total["终止：当事人撤回或拒绝"] == "1"
        assert Decimal(total["协议金额合计（元）"]) == Decimal("86500.50")
        assert Decimal(total["协议金额：保险机构承担"]) == Decimal("60000.00")
        report = await figures(api, **params)
        assert len(table) == len(report.groups) + 2
        assert len(header) == 1 + len(every_column(report))

    async def test_csv_in_english(self, api: httpx.AsyncClient, city: City) -> None:
        answer = await api.get("/statistics/export.csv", params={"committee_id": city.committee_id, "lang": "en"})
        table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
        total = dict(zip(table[0], table[-1], strict=True))
        assert table[0][0] == "Scope" and (total["Scope"], total["Applications"], total["Accepted"]) == ("Total", "3", "2")
        assert filename_of(answer).startswith(f"statistics-{city.committee_id}-")

    async def test_xlsx_holds_every_figure_of_get_statistics(self, api: httpx.AsyncClient, city: City) -> None:
        params = {"committee_id": city.committee_id, "group_by": "month"}
        answer = await api.get("/statistics/export.xlsx", params=params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == XLSX
        assert filename_of(answer).endswith(".xlsx")
        book = load_workbook(io.BytesIO(answer.content))
        assert book.sheetnames == ["受理与结案", "办理时长", "调解活动", "金额", "比较", "说明"]
        report = await figures(api, **params)
        shown = {}
        for name in book.sheetnames[:4]:
            rows = list(book[name].iter_rows(values_only=True))
            shown.update(dict(zip(rows[0], rows[-1], strict=True)))
        for column in every_column(report):
            value = column.read(report.total)
            cell = shown[column.zh]
            if value is None:
                assert cell is None, column.key
            else:
                assert float(cell) == pytest.approx(float(value)), column.key
        assert book["受理与结案"].freeze_panes == "B2"
        notes = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True) if row[0]}
        assert notes["统计范围"] == f"{city.name}医疗纠纷人民调解委员会"
        # beside the period: the year to date and a year earlier, as GET /statistics?compare=true says
        compared = await figures(api, **params, compare="true")
        assert compared.year_to_date is not None and compared.same_period_last_year is not None
        table = {row[0]: row[1:] for row in book["比较"].iter_rows(min_row=2, values_only=True) if row[0]}
        assert table["申请调解"] == (compared.total.outcomes.applications,
                                    compared.year_to_date.total.outcomes.applications,
                                    compared.same_period_last_year.total.outcomes.applications,
                                    compared.same_period_last_year.change["applications"])
        assert table["调解成功"][:3] == (compared.total.outcomes.settled, compared.year_to_date.total.outcomes.settled,
                                       compared.same_period_last_year.total.outcomes.settled)

    async def test_the_monthly_report_is_a_sealed_pdf(self, api: httpx.AsyncClient, city: City,
                                                      seal_paths: tuple[Path, Path]) -> None:
        answer = await api.get("/statistics/report.pdf", params={"committee_id": city.committee_id,
                                                                  "group_by": "department"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        month = datetime.now(SHANGHAI).strftime("%Y-%m")
        assert filename_of(answer) == f"月度统计报表-{city.committee_id}-{month}.pdf"
        assert answer.headers["x-report-sealed"] == "true"  # the test's installation key: no key of its own
        verdict = verify_pdf(answer.content, trusted=load_certificates(seal_paths[1]))
        assert verdict.valid, verdict.problems
        reader = PdfReader(io.BytesIO(answer.content))
        text = flat("".join(page.extract_text() for page in reader.pages))
        assert f"{city.name}医疗纠纷人民调解委员会" in text and "月度统计报表" in text
        assert "三、分组统计（按科室）" in text and "产科" in text
        assert "申请最多的医疗机构" in text  # a chart
        # this month beside the year to date and a year earlier (none then: no change can be computed)
        assert "与本年累计、上年同期比较" in text and "本年累计" in text and "同比" in text
        now = await figures(api, committee_id=city.committee_id, compare="true")
        assert now.year_to_date is not None and now.same_period_last_year is not None
        year = now.year_to_date.total.outcomes
        assert f"申请调解{now.total.outcomes.applications}{year.applications}0—" in text
        assert f"调解成功{now.total.outcomes.settled}{year.settled}0—" in text

    async def test_only_for_directors_auditors_and_admins(self, api: httpx.AsyncClient) -> None:
        with_exports(api)
        mediator = {"X-Actor-Id": "m1", "X-Actor-Name": "mediator", "X-Actor-Role": "mediator"}
        for path in ("/statistics/export.csv", "/statistics/export.xlsx", "/statistics/report.pdf"):
            answer = await api.get(path, headers=mediator)
            assert answer.status_code == 403, (path, answer.text)
            assert answer.json()["code"] == "forbidden"

    async def test_a_period_get_statistics_refuses_is_refused_alike(self, api: httpx.AsyncClient) -> None:
        with_exports(api)
        backwards = {"from": "2026-03-31", "to": "2026-03-01"}
        expected = await api.get("/statistics", params=backwards)
        answer = await api.get("/statistics/export.csv", params=backwards)
        assert answer.status_code == expected.status_code == 422
        assert answer.json()["detail"] == expected.json()["detail"]
