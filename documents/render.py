"""Renders a document (HTML template + context dataclass) to an archival PDF.

A kind of document is a template per language plus a context dataclass (documents/contexts.py),
registered in `KINDS`. `render_html` fills the template (Jinja2, autoescaped: every value from a
context is text, never markup), `render_pdf` lays it out with WeasyPrint as PDF/A-3b and attaches
the context as JSON (`<kind>.json`), so an auditor can compare the printed text with its data.

WeasyPrint may only read the files of documents/static/ (`StaticURLFetcher`); any other URL
stops the rendering with `DocumentRenderError`.
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pydyf
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from documents.amounts import chinese_capital, chinese_numeral, format_yuan
from documents.contexts import (
    AcceptanceNoticeContext,
    AgreementContext,
    CaseFileContext,
    ExpertOpinionContext,
    FailureNoticeContext,
    FollowupRecordContext,
    RejectionNoticeContext,
    SessionMinutesContext,
    StatisticsReportContext,
    TerminationNoticeContext,
)
from documents.kinds import LANGUAGES
from domain.time import SHANGHAI

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"


HTML_LANG = {"zh": "zh-CN", "en": "en"}
PDF_VARIANT = "pdf/a-3b"
# WeasyPrint's layout shares font state (fontconfig, Pango); the worker renders in a thread pool.
_LAYOUT_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class DocumentKind:
    """What a kind of document needs: its context type, its titles, its template per language."""

    name: str  # "agreement": templates <name>.<lang>.html, attachment <name>.json
    context_type: type
    titles: Mapping[str, str]  # per language
    template_name: str = ""  # when the kind shares another's templates (a draft and the agreement)

    def template(self, lang: str) -> str:
        return f"{self.template_name or self.name}.{lang}.html"

    @property
    def attachment_name(self) -> str:
        return f"{self.name}.json"


KINDS: dict[str, DocumentKind] = {
    kind.name: kind
    for kind in (
        DocumentKind(
            name="agreement",
            context_type=AgreementContext,
            titles={"zh": "人民调解协议书", "en": "People's Mediation Agreement"},
        ),
        DocumentKind(
            name="agreement_draft",
            context_type=AgreementContext,
            titles={"zh": "人民调解协议书（草稿）", "en": "People's Mediation Agreement (draft)"},
            template_name="agreement",
        ),
        DocumentKind(
            name="session_minutes",
            context_type=SessionMinutesContext,
            titles={"zh": "调解笔录", "en": "Minutes of the Mediation Session"},
        ),
        DocumentKind(
            name="acceptance_notice",
            context_type=AcceptanceNoticeContext,
            titles={"zh": "受理通知书", "en": "Notice of Acceptance"},
        ),
        DocumentKind(
            name="rejection_notice",
            context_type=RejectionNoticeContext,
            titles={"zh": "不予受理通知书", "en": "Notice of Non-Acceptance"},
        ),
        DocumentKind(
            name="failure_notice",
            context_type=FailureNoticeContext,
            titles={"zh": "调解不成告知书", "en": "Notice of Failed Mediation"},
        ),
        DocumentKind(
            name="termination_notice",
            context_type=TerminationNoticeContext,
            titles={"zh": "终止调解告知书", "en": "Notice of Termination of Mediation"},
        ),
        DocumentKind(
            name="followup_record",
            context_type=FollowupRecordContext,
            titles={"zh": "回访记录", "en": "Follow-up Visit Record"},
        ),
        DocumentKind(
            name="expert_opinion",
            context_type=ExpertOpinionContext,
            titles={"zh": "专家咨询意见书", "en": "Expert Consultation Opinion"},
        ),
        DocumentKind(
            name="case_file",
            context_type=CaseFileContext,
            titles={"zh": "卷宗", "en": "Case File"},
        ),
        DocumentKind(  # not a case's: made on request from the statistics (api/services/statistics_exports.py)
            name="statistics_report",
            context_type=StatisticsReportContext,
            titles={"zh": "月度统计报表", "en": "Monthly Statistics Report"},
        ),
    )
}


class DocumentRenderError(RuntimeError):
    """The document could not be rendered (e.g. it asked for a resource outside documents/static/)."""


class WrongContext(TypeError, ValueError):
    """A context of another type than the kind's: a TypeError, and a ValueError like any other refused
    (kind, context, lang) combination, so callers that validate the request as a whole catch it too."""


class ResourceRefused(ValueError):
    """A URL that the renderer may not read."""


# --- Formatting filters -------------------------------------------------------------------------


def _local(value: date | datetime) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        return value.date()
    return value


def format_date(value: date | datetime, lang: str) -> str:
    """2026年11月23日 (zh) or 2026-11-23 (en); an aware datetime is first put in Asia/Shanghai."""
    day = _local(value)
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def format_datetime(value: datetime, lang: str) -> str:
    """2026年4月20日 14:30 (zh) or 2026-04-20 14:30 (en), in Asia/Shanghai when the datetime is aware."""
    if value.tzinfo is not None:
        value = value.astimezone(SHANGHAI)
    return f"{format_date(value, lang)} {value:%H:%M}"


@pass_context
def _datetime_filter(context: Context, value: datetime | None) -> str:
    return "" if value is None else format_datetime(value, context["lang"])


@pass_context
def _date_filter(context: Context, value: date | datetime | None) -> str:
    return "" if value is None else format_date(value, context["lang"])


def _figure_filter(value: Any, kind: str) -> str:
    """A statistics figure as printed (documents/statistics_report.py, loaded with the first report)."""
    from documents.statistics_report import formatted

    return formatted(value, kind)


@pass_context
def _chart_svg(context: Context, chart: Any) -> Markup:
    """A statistics chart as inline SVG (documents/charts.py, loaded with the first chart): markup that pygal
    wrote from the chart's data, every text escaped, no script."""
    from documents.charts import PRINT_FONT, chart_svg

    return Markup(chart_svg(chart, font=PRINT_FONT, lang=context["lang"]))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        date=_date_filter,
        datetime=_datetime_filter,
        yuan=format_yuan,
        capital=chinese_capital,
        cn_numeral=chinese_numeral,
        figure=_figure_filter,
    )
    env.globals["chart_svg"] = _chart_svg
    return env


ENV = _environment()


# --- Resources ----------------------------------------------------------------------------------


class StaticURLFetcher(URLFetcher):
    """Serves file: URLs inside documents/static/ and refuses every other URL (ResourceRefused).

    Refusals are fatal (`fail_on_errors`): WeasyPrint stops instead of printing without the resource.
    """

    def __init__(self, root: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=True)
        self.root = root.resolve()

    def path_of(self, url: str) -> Path:
        """The file inside the static folder that `url` names; ResourceRefused otherwise."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ResourceRefused(f"only files of {self.root} may be read, not {url!r}")
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ResourceRefused(f"only files of {self.root} may be read, not {url!r}")
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = self.path_of(url)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime_type})


# --- Context as JSON ----------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a document's JSON")


def context_json(context: Any) -> bytes:
    """The context as UTF-8 JSON: dataclasses as objects, tuples as lists, Decimal as string, dates ISO."""
    return json.dumps(
        dataclasses.asdict(context), default=_jsonable, ensure_ascii=False, indent=2, sort_keys=True
    ).encode("utf-8")


# --- Rendering ----------------------------------------------------------------------------------


def _kind(kind: str, context: Any, lang: str) -> DocumentKind:
    if kind not in KINDS:
        raise ValueError(f"no document of kind {kind!r}")
    if lang not in LANGUAGES:
        raise ValueError(f"no language {lang!r}; one of {LANGUAGES}")
    spec = KINDS[kind]
    if not isinstance(context, spec.context_type):
        expected, given = spec.context_type.__name__, type(context).__name__
        raise WrongContext(f"a {kind} is rendered from {expected}, not {given}")
    return spec


def _created(context: Any) -> datetime | None:
    """When the document was drafted or issued (its PDF creation date), in Asia/Shanghai; None if unknown."""
    drafted = getattr(context, "drafted_at", None) or getattr(context, "issued_at", None)
    if not isinstance(drafted, datetime):
        return None
    return drafted.replace(tzinfo=SHANGHAI) if drafted.tzinfo is None else drafted


def render_html(kind: str, context: Any, lang: str = "zh") -> str:
    """The document's HTML, before layout (what render_pdf lays out)."""
    spec = _kind(kind, context, lang)
    created = _created(context)
    return ENV.get_template(spec.template(lang)).render(
        context=context,
        lang=lang,
        html_lang=HTML_LANG[lang],
        title=spec.titles[lang],
        titles=spec.titles,
        created=created.isoformat(timespec="seconds") if created else None,
    )


def _associate_each_file_once(document: Any, pdf: pydyf.PDF) -> None:
    """WeasyPrint 70 lists each attachment twice in the catalog's /AF (PDF/A-3 associated files)."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


_PRINT_STYLE: tuple[CSS, FontConfiguration] | None = None


def _print_style() -> tuple[CSS, FontConfiguration]:
    """documents/static/print.css, parsed once per process (every document is laid out with it), with the font
    configuration it was parsed for. Called under the layout lock."""
    global _PRINT_STYLE
    if _PRINT_STYLE is None:
        fonts = FontConfiguration()
        css = CSS(filename=str(STATIC_DIR / "print.css"), url_fetcher=StaticURLFetcher(), font_config=fonts)
        _PRINT_STYLE = (css, fonts)
    return _PRINT_STYLE


def pdf_from_html(html: str, *, attachments: Sequence[Attachment] = ()) -> bytes:
    """Lays out HTML whose resources are in documents/static/ as PDF/A-3b with the given attachments, in the
    print style of documents/static/print.css."""
    fetcher = StaticURLFetcher()
    try:
        with _LAYOUT_LOCK:
            style, fonts = _print_style()
            return HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher).write_pdf(
                stylesheets=[style],
                font_config=fonts,
                finisher=_associate_each_file_once,
                pdf_variant=PDF_VARIANT,
                attachments=list(attachments),
            )
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: turn it into an ordinary error
        raise DocumentRenderError(str(exc)) from exc.__cause__


def render_pdf(kind: str, context: Any, *, lang: str = "zh", attachments: Sequence[Attachment] = ()) -> bytes:
    """The document as PDF/A-3b, with the context attached as `<kind>.json` (and any other attachments)."""
    spec = _kind(kind, context, lang)
    html = render_html(kind, context, lang)
    stamp = (_created(context) or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    attachment = Attachment(
        string=context_json(context),
        name=spec.attachment_name,
        description=f"{spec.titles[lang]}: the data printed on this document",
        created=stamp,
        modified=stamp,
        relationship="Data",
    )
    try:
        return pdf_from_html(html, attachments=[attachment, *attachments])
    except DocumentRenderError as exc:
        raise DocumentRenderError(f"{kind} ({lang}): {exc}") from exc.__cause__
