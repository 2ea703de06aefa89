"""The tables of a statistics report (issue 17), defined once for every output made from GET /statistics's figures:
the CSV and XLSX exports, the monthly report's PDF and the console's page. Each table is a list of columns — the
figure, its Chinese and English header, what kind of number it is — read from a `StatisticsGroup`
(models/schemas_statistics.py); a report's rows are its groups, in the report's order, then the total.

The breakdowns that are maps (rejections by reason, terminations by ground, agreed amounts by payer) have a column
per known key, in the rule book's order, and one more for any key a report brings that is not known here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from documents.contexts import (
    ChartData,
    ChartSeries,
    ComparisonRow,
    ComparisonTable,
    FigureRow,
    FigureTable,
    FigureValue,
    StatisticsReportContext,
    is_calendar_month,
    period_kind,
)
from documents.sealing import SealSetup, sealer_of
from domain.statistics import ROUNDING_NOTE_EN, ROUNDING_NOTE_ZH, days_text, percent_text
from models.schemas_statistics import StatisticsGroup, StatisticsReport

log = logging.getLogger(__name__)
Lang = Literal["zh", "en"]
Kind = Literal["count", "rate", "amount", "days"]
TABLE_NAMES = ("outcomes", "durations", "activity", "amounts")


@dataclass(frozen=True)
class Column:
    key: str  # the figure's path in the report, e.g. outcomes.settled, outcomes.rejected_by_reason.3
    zh: str
    en: str
    kind: Kind
    read: Callable[[StatisticsGroup], FigureValue]
    main: bool = True  # printed in the PDF's table per group (the breakdowns are in the summary and the exports)
    note_zh: str = ""
    note_en: str = ""

    def header(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def note(self, lang: Lang) -> str:
        return self.note_zh if lang == "zh" else self.note_en


def _field(path: str) -> Callable[[StatisticsGroup], FigureValue]:
    part, name = path.split(".")
    return lambda group: getattr(getattr(group, part), name)


def _entry(path: str, key: Any) -> Callable[[StatisticsGroup], FigureValue]:
    part, name = path.split(".")
    return lambda group: getattr(getattr(group, part), name).get(key, 0)


def _column(path: str, zh: str, en: str, kind: Kind = "count", *, main: bool = True, note_zh: str = "",
            note_en: str = "") -> Column:
    return Column(path, zh, en, kind, _field(path), main, note_zh, note_en)


# Short names of the rule book's lists (domain/lifecycle.py REJECT_REASONS and TERMINATION_GROUNDS), for headers.
REJECT_REASONS: dict[int, tuple[str, str]] = {
    1: ("对方拒绝调解", "other side refused"),
    2: ("非诊疗护理纠纷", "not from care"),
    3: ("无明确被申请人或请求", "no respondent or request"),
    4: ("材料不全", "materials missing"),
    5: ("专门机关管辖", "reserved to other bodies"),
    6: ("已诉讼或已受理", "court or department seized"),
    7: ("重复申请", "mediated before"),
    8: ("其他", "other"),
}
TERMINATION_GROUNDS: dict[str, tuple[str, str]] = {
    "party_withdrew": ("当事人撤回或拒绝", "party withdrew"),
    "court_accepted": ("法院已受理", "court seized"),
    "health_department_accepted": ("卫生部门已受理", "health department seized"),
    "escalation_risk": ("纠纷有激化可能", "risk of escalation"),
}
PAYERS: dict[str, tuple[str, str]] = {
    "institution": ("医方承担", "borne by the institution"),
    "insurer": ("保险机构承担", "borne by insurers"),
    "other": ("其他方承担", "borne by others"),
}

OUTCOMES_HEAD = (
    _column("outcomes.open_at_start", "上期结转", "Open at start", note_zh="期初未结：期初以前受理、期初尚未结案",
            note_en="accepted before the period and not ended before it"),
    _column("outcomes.applications", "申请调解", "Applications", note_zh="期内登记的纠纷",
            note_en="disputes registered in the period"),
    _column("outcomes.accepted", "受理", "Accepted", note_zh="期内受理", note_en="accepted in the period"),
    _column("outcomes.rejected", "不予受理", "Rejected", note_zh="期内决定不予受理",
            note_en="rejected in the period"),
)
OUTCOMES_TAIL = (
    _column("outcomes.terminated_before_acceptance", "未受理而终止", "Terminated before acceptance", main=False,
            note_zh="期内受理前终止的申请（撤回、法院或卫生部门已受理等），不属结案",
            note_en="applications terminated in the period before acceptance; not closed"),
    _column("outcomes.closed", "结案", "Closed",
            note_zh="已受理案件期内调解终结的：调解成功、调解不成与受理后终止调解之和（不含不予受理和未受理而终止）；"
                    "上期结转 + 受理 − 结案 = 期末未结",
            note_en="accepted cases whose mediation ended: settled + failed + terminated after acceptance "
                    "(rejections and terminations before acceptance apart); open at start + accepted − closed = "
                    "open at end"),
    _column("outcomes.settled", "调解成功", "Settled", note_zh="期内调解协议生效",
            note_en="an agreement became effective in the period"),
    _column("outcomes.settled_performed", "已履行", "Performed", main=False,
            note_zh="调解成功中至期末确认履行完毕的", note_en="of those settled, performance confirmed by the period's end"),
    _column("outcomes.settled_referred_to_court", "未履行告知诉讼", "Referred to court", main=False,
            note_zh="调解成功中至期末记录未履行、告知可诉讼的",
            note_en="of those settled, nonperformance recorded by the period's end"),
    _column("outcomes.settled_in_performance", "履行中", "Still being performed", main=False,
            note_zh="调解成功中期末尚在履行的", note_en="of those settled, still being performed at the period's end"),
    _column("outcomes.failed", "调解不成", "Failed", note_zh="期内调解不成", note_en="mediation failed in the period"),
    _column("outcomes.failed_deadline", "期满未达成协议", "Failed: period ran out", main=False,
            note_zh="调解不成中调解期限届满的（条例第三十八条）", note_en="of those failed, the period ran out (Reg 38)"),
    _column("outcomes.failed_declared", "宣告调解不成", "Failed: declared", main=False,
            note_zh="调解不成中宣告调解不成的（人民调解法第二十六条）", note_en="of those failed, declared (PML 26)"),
    _column("outcomes.terminated", "终止调解", "Terminated", note_zh="已受理案件期内终止调解",
            note_en="accepted cases terminated in the period"),
)
OUTCOMES_END = (
    _column("outcomes.open_at_end", "期末未结", "Open at end", note_zh="已受理、期末尚未结案",
            note_en="accepted and still open at the end of the period"),
    _column("outcomes.pending_at_end", "期末待受理", "Awaiting acceptance at end", main=False,
            note_zh="已登记、期末尚未决定受理或不予受理",
            note_en="registered, neither accepted nor ended at the end of the period"),
    _column("rates.success_of_closed", "调解成功率（占结案）", "Success rate (of closed)", "rate",
            note_zh="期内调解成功 ÷ 期内结案", note_en="settled ÷ closed in the period"),
    _column("outcomes.accepted_settled", "本期受理已调解成功", "Accepted and settled", main=False,
            note_zh="本期受理的案件中，至期末调解协议已生效的",
            note_en="of the cases accepted in the period, those whose agreement took effect by its end"),
    _column("rates.success_of_accepted", "本期受理案件调解成功率", "Success rate of the period's acceptances", "rate",
            note_zh="本期受理已调解成功 ÷ 本期受理：同一批案件，不超过100%；本期调解成功而于以前受理的案件不计入",
            note_en="accepted and settled ÷ accepted in the period: one group of cases, never above 100%; "
                    "settlements of cases accepted earlier are not counted"),
)
DURATIONS = (
    _column("durations.cases", "纳入时长统计的案件", "Cases measured", note_zh="期内结案的已受理案件",
            note_en="accepted cases closed in the period"),
    _column("durations.median_wd", "用时中位数（工作日）", "Median (working days)", "days",
            note_zh="受理至结案，不计鉴定时间", note_en="acceptance to close, appraisals apart"),
    _column("durations.p90_wd", "用时90%分位（工作日）", "90th percentile (working days)", "days"),
    _column("durations.appraisal_cases", "经鉴定案件", "With an appraisal"),
    _column("durations.appraisal_median_wd", "鉴定用时中位数（工作日）", "Appraisal median (working days)", "days",
            note_zh="鉴定期间中止计算的工作日", note_en="working days the clock was paused for appraisals"),
    _column("durations.kept_deadline", "期限内结案", "Closed in time",
            note_zh="30个工作日加约定延长期限内结案（条例第三十八条）",
            note_en="closed within 30 working days plus agreed extensions (Reg 38)"),
    _column("durations.kept_deadline_share", "期限内结案率", "Closed in time (share)", "rate"),
)
ACTIVITY = (
    _column("activity.extensions", "延长调解期限", "Extensions", note_zh="约定延长（条例第三十八条）",
            note_en="extensions agreed (Reg 38)"),
    _column("activity.appraisals", "委托鉴定", "Appraisals", note_zh="条例第三十四条", note_en="Reg 34"),
    _column("activity.panels", "专家咨询", "Expert consultations", note_zh="条例第三十三条", note_en="Reg 33"),
    _column("activity.expert_answers", "专家咨询意见（人次）", "Expert answers (each expert's part)"),
    _column("activity.judicial_confirmations", "申请司法确认", "Judicial confirmations",
            note_zh="人民调解法第三十三条", note_en="PML 33"),
    _column("activity.followups", "回访", "Follow-up visits"),
    _column("activity.overdue_payments", "逾期未履行付款", "Overdue payments",
            note_zh="期末有逾期款项的案件", note_en="cases with a payment overdue at the end of the period"),
)
AMOUNTS_HEAD = (
    _column("amounts.agreements", "含金额的协议", "Agreements with an amount"),
    _column("amounts.agreed_total", "协议金额合计（元）", "Agreed total (yuan)", "amount"),
    _column("amounts.agreed_median", "协议金额中位数（元）", "Agreed median (yuan)", "amount"),
)
AMOUNTS_TAIL = (
    _column("amounts.paid_total", "已支付（元）", "Paid (yuan)", "amount",
            note_zh="本期生效协议项下至期末已记录的付款",
            note_en="payments recorded by the period's end against the agreements that took effect in it"),
    _column("amounts.claimed_total", "申请索赔（元）", "Claimed (yuan)", "amount", note_zh="申请中请求的金额",
            note_en="what the applications claimed"),
)

TITLES: dict[str, tuple[str, str]] = {
    "outcomes": ("受理与结案", "Applications and outcomes"),
    "durations": ("办理时长", "Durations"),
    "activity": ("调解活动", "Activity"),
    "amounts": ("金额", "Amounts"),
}
GROUP_HEADERS: dict[str, tuple[str, str]] = {
    "none": ("范围", "Scope"),
    "month": ("月份", "Month"),
    "committee": ("调解委员会", "Committee"),
    "institution": ("医疗机构", "Institution"),
    "department": ("科室", "Department"),
    "kind": ("纠纷类型", "Dispute kind"),
    "level": ("医院等级", "Institution level"),
    "harm": ("损害后果", "Harm"),
}
TOTAL = ("合计", "Total")


def _keys_seen(groups: Sequence[StatisticsGroup], path: str, known: Sequence[Any]) -> list[Any]:
    part, name = path.split(".")
    extra = {key for group in groups for key in getattr(getattr(group, part), name) if key not in known}
    return [*known, *sorted(extra, key=str)]


def _breakdown(path: str, keys: Sequence[Any], names: dict[Any, tuple[str, str]], zh: str, en: str,
               kind: Kind = "count") -> tuple[Column, ...]:
    columns = []
    for key in keys:
        name_zh, name_en = names.get(key, (str(key), str(key)))
        columns.append(Column(f"{path}.{key}", f"{zh}：{name_zh}", f"{en}: {name_en}", kind, _entry(path, key),
                              main=False))
    return tuple(columns)


def columns(report: StatisticsReport | None = None) -> dict[str, tuple[Column, ...]]:
    """The columns of each table, with a column for each key of the breakdowns (the known ones, and any other
    the report brings)."""
    groups = [report.total, *report.groups] if report is not None else []
    reasons = _keys_seen(groups, "outcomes.rejected_by_reason", list(REJECT_REASONS))
    grounds = _keys_seen(groups, "outcomes.terminated_by_ground", list(TERMINATION_GROUNDS))
    payers = _keys_seen(groups, "amounts.agreed_by_payer", list(PAYERS))
    return {
        "outcomes": (*OUTCOMES_HEAD,
                     *_breakdown("outcomes.rejected_by_reason", reasons,
                                 {n: (f"{n}.{zh}", f"{n}. {en}") for n, (zh, en) in REJECT_REASONS.items()},
                                 "不予受理", "Rejected"),
                     *OUTCOMES_TAIL,
                     *_breakdown("outcomes.terminated_by_ground", grounds, TERMINATION_GROUNDS, "终止", "Terminated"),
                     *OUTCOMES_END),
        "durations": DURATIONS,
        "activity": ACTIVITY,
        "amounts": (*AMOUNTS_HEAD,
                    *_breakdown("amounts.agreed_by_payer", payers, PAYERS, "协议金额", "Agreed", "amount"),
                    *AMOUNTS_TAIL),
    }


def group_label(report: StatisticsReport, group: StatisticsGroup, lang: Lang) -> str:
    """What a row is called: the report's label (2026年3月, the committee's name, 产科); in English a month by
    its key (2026-03), a department, a kind of dispute, a level or a harm by its code in words."""
    if lang == "en" and report.group_by == "month":
        return group.key
    if lang == "en" and report.group_by in ("department", "kind", "level", "harm"):
        return group.key.replace("_", " ")
    return group.label


def table_title(name: str, lang: Lang) -> str:
    zh, en = TITLES[name]
    return zh if lang == "zh" else en


def label_header(report: StatisticsReport, lang: Lang) -> str:
    zh, en = GROUP_HEADERS[report.group_by]
    return zh if lang == "zh" else en


def total_label(lang: Lang) -> str:
    return TOTAL[0] if lang == "zh" else TOTAL[1]


def rows(report: StatisticsReport, table: Sequence[Column], lang: Lang) -> list[FigureRow]:
    """One row per group, in the report's order, then the total."""
    found = [FigureRow(group_label(report, group, lang), tuple(column.read(group) for column in table))
             for group in report.groups]
    found.append(FigureRow(total_label(lang), tuple(column.read(report.total) for column in table), total=True))
    return found


def figure_table(report: StatisticsReport, name: str, lang: Lang, *, main_only: bool = False,
                 total_only: bool = False) -> FigureTable:
    table = [column for column in columns(report)[name] if column.main or not main_only]
    found = rows(report, table, lang)
    return FigureTable(
        name=name, title=table_title(name, lang),
        label_header=total_label(lang) if total_only else label_header(report, lang),
        headers=tuple(column.header(lang) for column in table), kinds=tuple(column.kind for column in table),
        rows=tuple(found[-1:] if total_only else found),
    )


# --- Formatting ------------------------------------------------------------------------------------------------


def formatted(value: FigureValue, kind: str, *, grouping: bool = True, none: str = "—") -> str:
    """A figure as printed — the PDF, the console and (without grouping, none as empty) the CSV: 12; 85.7%;
    12,000.00; 12.5 (working days); — when there is none. Rates and working days by domain/statistics.py's one
    rounding rule (half up, one decimal), so that every output prints the same digits."""
    if value is None:
        return none
    if kind == "rate":
        return percent_text(value)
    if kind == "amount":
        return f"{Decimal(value):,.2f}" if grouping else f"{Decimal(value):.2f}"
    if kind == "days":
        return days_text(value)
    return str(value)


# --- The charts ------------------------------------------------------------------------------------------------

CHART_TITLES: dict[str, tuple[str, str]] = {
    "months": ("受理与调解成功（按月）", "Accepted and settled, by month"),
    "outcomes": ("结案结果构成", "How cases closed"),
    "durations": ("办理时长（工作日）", "Durations (working days)"),
    "institutions": ("申请最多的医疗机构", "Institutions with the most applications"),
    "departments": ("申请最多的科室", "Departments with the most applications"),
}
SERIES: dict[str, tuple[str, str]] = {
    "accepted": ("受理", "Accepted"),
    "settled": ("调解成功", "Settled"),
    "failed": ("调解不成", "Failed"),
    "terminated": ("终止调解", "Terminated"),
    "median": ("中位数", "Median"),
    "p90": ("90%分位", "90th percentile"),
    "applications": ("申请调解", "Applications"),
}
UNITS = {"cases": ("件", "cases"), "days": ("工作日", "working days")}
TOP = 10  # institutions and departments in their charts


def _word(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _month_label(group: StatisticsGroup, lang: Lang) -> str:
    year, _, month = group.key.partition("-")
    if lang == "zh" and month.isdigit():
        return f"{year}年{int(month)}月"
    return group.key


def months_chart(months: StatisticsReport, lang: Lang) -> ChartData:
    """Accepted and settled per month (bars)."""
    groups = months.groups
    return ChartData(
        name="months", kind="bar", title=_word(CHART_TITLES["months"], lang),
        labels=tuple(_month_label(group, lang) for group in groups),
        series=(ChartSeries(_word(SERIES["accepted"], lang), tuple(float(g.outcomes.accepted) for g in groups)),
                ChartSeries(_word(SERIES["settled"], lang), tuple(float(g.outcomes.settled) for g in groups))),
        unit=_word(UNITS["cases"], lang),
    )


def outcomes_chart(report: StatisticsReport, lang: Lang) -> ChartData:
    """How the period's closed cases closed (donut): settled, failed, terminated."""
    outcomes = report.total.outcomes
    shares = (("settled", outcomes.settled), ("failed", outcomes.failed), ("terminated", outcomes.terminated))
    return ChartData(
        name="outcomes", kind="donut", title=_word(CHART_TITLES["outcomes"], lang), labels=("",),
        series=tuple(ChartSeries(_word(SERIES[key], lang), (float(count),)) for key, count in shares),
        unit=_word(UNITS["cases"], lang),
    )


def durations_chart(report: StatisticsReport, lang: Lang) -> ChartData:
    """Median and 90th percentile of the working days from acceptance to the close, per group (the total when
    the report is not grouped)."""
    groups = report.groups or [report.total]
    labels = tuple(group_label(report, group, lang) if report.groups else total_label(lang) for group in groups)
    return ChartData(
        name="durations", kind="bar", title=_word(CHART_TITLES["durations"], lang), labels=labels,
        series=(ChartSeries(_word(SERIES["median"], lang), tuple(g.durations.median_wd for g in groups)),
                ChartSeries(_word(SERIES["p90"], lang), tuple(g.durations.p90_wd for g in groups))),
        unit=_word(UNITS["days"], lang),
    )


def top_chart(report: StatisticsReport, name: str, lang: Lang, top: int = TOP) -> ChartData:
    """The groups with the most applications, most first (horizontal bars): institutions or departments."""
    groups = sorted(report.groups, key=lambda g: -g.outcomes.applications)[:top]
    return ChartData(
        name=name, kind="hbar", title=_word(CHART_TITLES[name], lang),
        labels=tuple(group_label(report, group, lang) for group in groups),
        series=(ChartSeries(_word(SERIES["applications"], lang),
                            tuple(float(g.outcomes.applications) for g in groups)),),
        unit=_word(UNITS["cases"], lang),
    )


def charts(report: StatisticsReport, *, months: StatisticsReport | None = None,
           institutions: StatisticsReport | None = None, departments: StatisticsReport | None = None,
           lang: Lang = "zh") -> tuple[ChartData, ...]:
    """The report's charts: by month (from the report grouped by month), the outcomes' shares, the durations
    per group, the top institutions and departments (from the reports grouped by them)."""
    months = months if months is not None else report if report.group_by == "month" else None
    found = []
    if months is not None:
        found.append(months_chart(months, lang))
    found += [outcomes_chart(report, lang), durations_chart(report, lang)]
    if institutions is not None:
        found.append(top_chart(institutions, "institutions", lang))
    if departments is not None:
        found.append(top_chart(departments, "departments", lang))
    return tuple(found)


# --- The report's context ------------------------------------------------------------------------------------


def notes(lang: Lang) -> tuple[str, ...]:
    """How the figures are counted (models/schemas_statistics.py), and each figure's definition."""
    if lang == "zh":
        head = ("案件按计入该数字的事件发生之日归属期间：申请调解按登记日，受理、不予受理按决定日；调解结果按调解终结之日计："
                "调解协议生效之日（条例第三十九条），或调解不成、终止调解之日；期限届满的按届满之日。",
                "结案不含不予受理；不予受理按原因分列时，一件案件列明几项原因即计入几项，各项之和可大于不予受理件数。",
                "期末未结、逾期未履行付款为期末时点数：合计行为整个期间期末之数，不是各月之和；90%分位为插值计算。",
                "工作日按工作日历计算；办理时长自受理至结案，不计鉴定时间（条例第三十八条）。",
                "金额单位为元。比率注明分母；无分母时不计算（—）。",
                ROUNDING_NOTE_ZH)
    else:
        head = (("A case counts in the period of the event that counts it: an application by its registration, an "
                 "acceptance or a rejection by its decision, an outcome by the day mediation ended: the day the "
                 "agreement took effect (Reg 39), or the day it failed or was terminated; a period that ran out on "
                 "its due day."),
                ("Closed cases exclude rejections; a rejection counts under each reason it names, so the reasons "
                 "may add up to more than the rejections."),
                ("Open at the end and overdue payments are values at the end: the total row is the whole period's "
                 "end, not the sum of the months; the 90th percentile is interpolated."),
                ("Working days follow the working-day calendar; durations run from acceptance to the close, "
                 "appraisals apart (Reg 38)."),
                "Amounts are in yuan. Each rate names what it divides; none (—) when there is nothing to divide.",
                ROUNDING_NOTE_EN)
    defined = tuple(f"{column.header(lang)}：{column.note(lang)}" if lang == "zh" else
                    f"{column.header(lang)}: {column.note(lang)}"
                    for table in columns().values() for column in table if column.note(lang))
    return head + defined


def scope_words(report: StatisticsReport, committee_name: str | None, lang: Lang) -> str:
    """Whose cases are counted: the committee (by its name), a city's committees, or all in the caller's reach."""
    if committee_name or report.committee_id:
        return committee_name or report.committee_id or ""
    if report.city:
        return f"{report.city}各医疗纠纷人民调解委员会" if lang == "zh" else f"the committees of {report.city}"
    return "权限内的全部调解委员会" if lang == "zh" else "every committee in reach"


UNITS_LINE = {"zh": "单位：件；金额：元；时长：工作日", "en": "Units: cases; amounts: yuan; durations: working days"}


# The figures compared with the year to date and the same period a year earlier: (zh, en), where, how it prints.
# The figures compared with the year to date and the same period a year earlier: their columns' keys (each prints
# with its column's header and kind).
COMPARED = ("outcomes.applications", "outcomes.accepted", "outcomes.closed", "outcomes.settled", "outcomes.failed",
            "outcomes.terminated", "outcomes.rejected", "rates.success_of_closed", "durations.kept_deadline_share",
            "amounts.agreed_total")
COMPARISON_HEADERS = {"zh": ("指标", "本期", "本年累计", "上年同期", "同比"),
                      "en": ("Figure", "This period", "Year to date", "A year earlier", "Change")}


def comparison_table(report: StatisticsReport, lang: Lang) -> ComparisonTable | None:
    """本年累计, 上年同期 and 同比 of the main figures (a report asked with compare=true)."""
    earlier = report.same_period_last_year
    if earlier is None:
        return None
    year = report.year_to_date.total if report.year_to_date is not None else None
    changes = {**earlier.change, **earlier.change_points}
    catalogue = {column.key: column for table in columns().values() for column in table}
    rows = []
    for key in COMPARED:
        column, name = catalogue[key], key.split(".")[1]
        rows.append(ComparisonRow(
            label=column.header(lang), kind=column.kind, now=column.read(report.total),
            year_to_date=column.read(year) if year is not None else None, before=column.read(earlier.total),
            change=changes.get(name), change_shown=change_text(changes.get(name), column.kind, lang)))
    title = ("与本年累计、上年同期比较" if lang == "zh" else "Compared with the year to date and a year earlier")
    return ComparisonTable(title=title, headers=COMPARISON_HEADERS[lang], rows=tuple(rows),
                           before_period=period_words(earlier.period_from, earlier.period_to, lang))


def change_text(value: float | None, kind: str, lang: Lang) -> str:
    """同比 as printed: +12.5% (or −3.0%) for a count or an amount; +2.1个百分点 / +2.1 pts for a rate (`kind` the
    figure's); — when a year earlier counted none."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else ""
    shown = percent_text(abs(value)).removesuffix("%")
    if kind == "rate":
        return f"{sign}{shown}个百分点" if lang == "zh" else f"{sign}{shown} pts"
    return f"{sign}{shown}%"


def report_context(report: StatisticsReport, *, issued_at: datetime, committee_name: str | None = None,
                   months: StatisticsReport | None = None, institutions: StatisticsReport | None = None,
                   departments: StatisticsReport | None = None, lang: Lang = "zh", compiled_by: str = "",
                   reviewed_by: str = "", head: str = "",
                   committee_names: Sequence[str] = ()) -> StatisticsReportContext:
    """What the monthly report prints: every figure of the total, the main figures per group (when grouped), the
    charts. `committee_name` is the committee's when the report counts one committee's cases: it issues the
    report; otherwise the scope in words does (上海各医疗纠纷人民调解委员会)."""
    scope = scope_words(report, committee_name, lang)
    return StatisticsReportContext(
        issuer=scope,
        scope=scope,
        period_from=report.period_from,
        period_to=report.period_to,
        period=period_words(report.period_from, report.period_to, lang),
        group_by=report.group_by,
        issued_at=issued_at,
        as_of=report.as_of,
        summary=tuple(figure_table(report, name, lang, total_only=True) for name in TABLE_NAMES),
        tables=tuple(figure_table(report, name, lang, main_only=True) for name in TABLE_NAMES)
        if report.groups else (),
        charts=charts(report, months=months, institutions=institutions, departments=departments, lang=lang),
        notes=notes(lang),
        compiled_by=compiled_by, reviewed_by=reviewed_by, head=head, units=UNITS_LINE[lang],
        committees=tuple(committee_names) if len(committee_names) > 1 else (),
        comparison=comparison_table(report, lang),
    )


QUARTERS = "一二三四"


def period_words(period_from: date, period_to: date, lang: Lang) -> str:
    """2026年3月 for a calendar month, 2026年第一季度 for a quarter, 2025年度 for a year, else 2026年1月1日至2026年3月31日
    (in English 2026-03, 2026 Q1, 2025, or ISO dates)."""
    one_month = is_calendar_month(period_from, period_to)
    kind = period_kind(period_from, period_to)
    quarter = (period_from.month - 1) // 3
    if kind == "quarter":
        return f"{period_from.year}年第{QUARTERS[quarter]}季度" if lang == "zh" else f"{period_from.year} Q{quarter + 1}"
    if kind == "year":
        return f"{period_from.year}年度" if lang == "zh" else str(period_from.year)
    if lang == "zh":
        if one_month:
            return f"{period_from.year}年{period_from.month}月"
        return (f"{period_from.year}年{period_from.month}月{period_from.day}日至"
                f"{period_to.year}年{period_to.month}月{period_to.day}日")
    return f"{period_from:%Y-%m}" if one_month else f"{period_from.isoformat()} to {period_to.isoformat()}"


# --- The PDF -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    sealed: bool
    unsealed_because: str = ""  # why not, in English (it goes into a header)


def render_report(context: StatisticsReportContext, *, lang: Lang, seal: SealSetup | None,
                  location: str = "") -> RenderedReport:
    """The report as PDF/A-3b (its context attached as JSON, like every document's), sealed with the key of the
    committee it is issued by (the installation's for several committees) as the documents' workers seal. A
    report that cannot be sealed — sealing off, no key for it, a key that cannot be read — is still given, with
    the reason: its figures are the database's, and anyone in reach can ask for them again."""
    from documents.render import KINDS, render_pdf
    from documents.seal import SealKeyError

    data = render_pdf("statistics_report", context, lang=lang)
    if seal is None:
        return RenderedReport(data, sealed=False, unsealed_because="sealing is off (MEDIATION_SEAL_DOCUMENTS)")
    try:
        sealed = sealer_of(seal)(data, reason=f"{KINDS['statistics_report'].titles[lang]} {context.period}",
                                 location=location or context.issuer, name=context.issuer)
    except SealKeyError as err:  # the detail (a file, a passphrase) for the log, not for the client
        log.warning("statistics report issued by %s left unsealed: %s", context.issuer, err)
        why = "no seal key for the issuing committee" if str(err).startswith("no seal key") else \
            "the seal key cannot be used (the API's log says why)"
        return RenderedReport(data, sealed=False, unsealed_because=why)
    return RenderedReport(sealed, sealed=True)
