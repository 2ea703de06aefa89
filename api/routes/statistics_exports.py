"""GET /statistics's figures as files: CSV, XLSX and the monthly report (月度统计报表) in PDF, with the same
parameters as GET /statistics (api/routes/statistics.py) and `lang`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlmodel import Session

from api.access import allow, case_scope
from api.deps import DatabaseDep, ReleasingRoute, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.services import statistics_exports as exports
from documents.sealing import SealSetup
from domain.access import Caller
from domain.time import SHANGHAI
from models.schemas_statistics import StatisticsQuery

router = APIRouter(route_class=ReleasingRoute, prefix="/statistics", tags=["statistics"], responses=ERROR_RESPONSES)

Lang = Annotated[Literal["zh", "en"], Query(description="the headers' language (the figures are the same)")]
StatisticsRead = Annotated[Caller, allow("statistics.read")]
Signatory = Annotated[str | None, Query(min_length=1, max_length=50, description="a name printed on the report's "
                                        "line (填报人, 审核人, 单位负责人); a blank line to sign when not given")]


def asked(query: Annotated[StatisticsQuery, Query()]) -> exports.Asked:
    """GET /statistics's parameters, read by the same model (the same defaults, the same refusals)."""
    return exports.Asked(period_from=query.period_from, period_to=query.period_to, committee_id=query.committee_id,
                         city=query.city, group_by=query.group_by)


Asked = Annotated[exports.Asked, Depends(asked)]


def _file(data: bytes, media_type: str, name: str, **headers: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": exports.content_disposition(name), **headers})


def _files(media_type: str, what: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type: {}}, "description": what}}


@router.get("/export.csv", response_class=Response, responses=_files(exports.CSV_MEDIA_TYPE, "The CSV"),
            summary="The statistics as CSV: a row per group then the total, the group's label then every figure "
            "(UTF-8 with a byte-order mark; headers in Chinese, in English with lang=en)")
def export_csv(session: SessionDep, caller: StatisticsRead, query: Asked, lang: Lang = "zh") -> Response:
    report = exports.figures(session=session, scope=case_scope(session, caller), asked=query)
    committee = exports.counted_committee(session=session, report=report)
    return _file(exports.csv_bytes(report, lang), exports.CSV_MEDIA_TYPE,
                 exports.file_name(report, "csv", lang, committee=committee))


@router.get("/export.xlsx", response_class=Response, responses=_files(exports.XLSX_MEDIA_TYPE, "The workbook"),
            summary="The statistics as an Excel workbook: a sheet per table (outcomes, durations, activity, "
            "amounts), one beside the year to date and a year earlier (本年累计, 上年同期, 同比) and one of notes; "
            "numbers formatted, the header row frozen")
def export_xlsx(session: SessionDep, caller: StatisticsRead, query: Asked, lang: Lang = "zh") -> Response:
    report = exports.figures(session=session, scope=case_scope(session, caller), asked=query, compare=True)
    committee = exports.counted_committee(session=session, report=report)
    scope = exports.scope_words(report, committee.name if committee else None, lang)
    data = exports.xlsx_bytes(report, lang, scope=scope, made_at=datetime.now(SHANGHAI))
    return _file(data, exports.XLSX_MEDIA_TYPE, exports.file_name(report, "xlsx", lang, committee=committee))


REPORT_DESCRIPTION = """
The monthly report (月度统计报表; a longer period: 统计报表) as PDF/A-3b: the committee's name, the period, every
figure of the total, the charts (accepted and settled by month since the start of the year, how cases closed,
durations, the institutions and departments with the most applications), the main figures per group when
`group_by` is given, and how the figures are counted; the figures attached as JSON.

Sealed with the committee's key as its documents are (the installation's for a report of several committees):
`X-Report-Sealed: true`. A report that cannot be sealed — sealing off, no key for it — is still given, with
`X-Report-Sealed: false` and the reason in `X-Report-Unsealed-Because`. Laid out in a process of the API's own,
one report at a time (the first takes a few seconds more: the process starts).
"""


@router.get("/report.pdf", response_class=Response, responses=_files(exports.PDF_MEDIA_TYPE, "The PDF"),
            summary="The monthly statistics report (月度统计报表) as a sealed PDF: tables and charts",
            description=REPORT_DESCRIPTION)
async def report_pdf(db: DatabaseDep, settings: SettingsDep, caller: StatisticsRead, query: Asked,
                     lang: Lang = "zh", compiled_by: Signatory = None, reviewed_by: Signatory = None,
                     head: Signatory = None) -> Response:
    def read(session: Session) -> exports.ReportInput:
        return exports.report_input(session=session, scope=case_scope(session, caller), asked=query, lang=lang,
                                    now=datetime.now(SHANGHAI), compiled_by=compiled_by or "",
                                    reviewed_by=reviewed_by or "", head=head or "")

    made = await db.run(read)
    rendered = await exports.render_in_child(made.context, lang=lang, seal=SealSetup.of(settings),
                                             location=made.location)
    return _file(rendered.pdf, exports.PDF_MEDIA_TYPE, made.name, **exports.seal_headers(rendered))
