"""The statistics a committee reports upward (issue 17): what GET /statistics answers, and what the exports (CSV,
XLSX), the monthly report PDF and the console's charts are made from. Every figure is counted by the database from
the case rows and their transitions, in the caller's reach.

A case belongs to a period by the day of the event that counts it: an application by its registration, an
acceptance or a rejection by its decision, an outcome by the day the case closed. Rates name what they divide.
Working days are counted with the working-day calendar (domain/clock.py) when the case closes, and stored.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.payloads import Day
from domain.statistics import check_period, default_period
from domain.time import SHANGHAI

GroupBy = Literal["none", "month", "committee", "institution", "department", "kind", "level", "harm"]


class OutcomeCounts(BaseModel):
    applications: int = Field(description="disputes registered in the period")
    accepted: int = Field(description="accepted (受理) in the period")
    accepted_settled: int = Field(default=0, description="of the cases accepted in the period, those whose agreement "
                                  "took effect (调解成功) by the end of the period (by month: of their month)")
    rejected: int = Field(description="rejected (不予受理) in the period")
    rejected_by_reason: dict[int, int] = Field(default_factory=dict, description="reason 1–8 → cases; a case "
                                               "rejected for several reasons counts under each")
    terminated_before_acceptance: int = Field(default=0, description="未受理而终止: applications terminated in the "
                                              "period before they were accepted (withdrawn, a court seized first); "
                                              "not a mediation, so not closed — apart like the rejections")
    open_at_start: int = Field(default=0, description="上期结转 (期初未结): accepted before the period and not ended "
                               "before it; open_at_start + accepted − closed = open_at_end")
    closed: int = Field(description="结案: accepted cases whose mediation ended in the period — settled + failed + "
                        "terminated after acceptance (rejections and terminations before acceptance apart)")
    settled: int = Field(description="an effective agreement (调解成功) in the period")
    settled_performed: int = Field(description="of those, performance confirmed by the end of the period")
    settled_referred_to_court: int = Field(description="of those, nonperformance recorded (parties referred to court) "
                                           "by the end of the period")
    settled_in_performance: int = Field(default=0, description="of those, still being performed at the end of the "
                                        "period: settled − performed − referred to court")
    failed: int = Field(description="调解不成 in the period")
    failed_deadline: int = Field(description="of those, the mediation period ran out (Reg 38)")
    failed_declared: int = Field(description="of those, declared failed (PML 26)")
    terminated: int = Field(description="终止调解 in the period, of accepted cases")
    terminated_by_ground: dict[str, int] = Field(default_factory=dict)
    open_at_end: int = Field(description="期末未结: accepted and still open at the end of the period")
    pending_at_start: int = Field(default=0, description="registered before the period, neither accepted nor ended "
                                  "before it (awaiting the decision to accept)")
    pending_at_end: int = Field(default=0, description="期末待受理: registered, neither accepted nor ended at the end "
                                "of the period; pending_at_start + applications − accepted − rejected − "
                                "terminated_before_acceptance = pending_at_end")


class Rates(BaseModel):
    success_of_closed: float | None = Field(description="结案调解成功率: settled ÷ closed in the period (the "
                                            "accepted cases' endings: settled + failed + terminated after acceptance); "
                                            "none when nothing closed")
    success_of_accepted: float | None = Field(description="本期受理案件调解成功率: of the cases accepted in the "
                                              "period, the share whose agreement took effect by the period's end "
                                              "(accepted_settled ÷ accepted; one group of cases, so never above 1); "
                                              "none when nothing was accepted")


class Durations(BaseModel):
    """From acceptance to the close, in working days, the appraisal's time apart (Reg 38)."""

    cases: int = Field(description="closed cases measured (accepted ones only)")
    median_wd: float | None
    p90_wd: float | None
    appraisal_cases: int = Field(description="of those, cases that had an appraisal")
    appraisal_median_wd: float | None = Field(description="working days the clock was paused for appraisals")
    kept_deadline: int = Field(description="closed within 30 WD plus their agreed extensions (Reg 38)")
    kept_deadline_share: float | None = Field(description="kept_deadline ÷ cases")


class Activity(BaseModel):
    extensions: int = Field(description="extensions agreed (Reg 38)")
    appraisals: int = Field(description="appraisals commissioned (Reg 34)")
    panels: int = Field(description="expert consultations asked for (Reg 33)")
    expert_answers: int = Field(description="experts' parts of an opinion given")
    judicial_confirmations: int = Field(description="applications for judicial confirmation recorded (PML 33)")
    followups: int = Field(description="follow-up visits recorded")
    overdue_payments: int = Field(description="cases with a payment overdue at the end of the period")


class Amounts(BaseModel):
    """Yuan, as decimal strings."""

    agreements: int = Field(description="effective agreements with a monetary term")
    agreed_total: Decimal
    agreed_median: Decimal | None
    agreed_by_payer: dict[str, Decimal] = Field(default_factory=dict, description="institution, insurer, other")
    paid_total: Decimal = Field(description="payments recorded by the end of the period against the agreements "
                                "that took effect in it")
    claimed_total: Decimal = Field(description="what the applications claimed")


class Shares(BaseModel):
    """占比: a group's part of the total."""

    applications: float | None = Field(description="the group's applications ÷ the total's")
    settled: float | None = Field(description="the group's settled cases ÷ the total's")


class StatisticsGroup(BaseModel):
    key: str = Field(description="the group's value: 2026-03, a committee's id, an institution's name, a department "
                     "or dispute-kind code; 'all' for the total")
    label: str = Field(description="what the report prints: 2026年3月, the committee's name, 产科, 诊疗 …")
    outcomes: OutcomeCounts
    rates: Rates
    durations: Durations
    activity: Activity
    amounts: Amounts
    share: Shares | None = Field(default=None, description="占比: the group's part of the total (groups only)")


class PeriodTotal(BaseModel):
    """The total of another period, counted by the same rules (本年累计)."""

    period_from: date
    period_to: date = Field(description="included")
    total: StatisticsGroup


class YearOnYear(PeriodTotal):
    """上年同期 and 同比: the total of the same period a year earlier, and the change to this one."""

    change: dict[str, float | None] = Field(description="同比: (this period − a year earlier) ÷ a year earlier, for "
                                            "applications, accepted, closed, settled, rejected, failed, terminated, "
                                            "agreements and agreed_total; None where a year earlier counted none")
    change_points: dict[str, float | None] = Field(description="the change of each rate in points of percentage: "
                                                   "success_of_closed, success_of_accepted, kept_deadline_share")


class StatisticsReport(BaseModel):
    period_from: date
    period_to: date = Field(description="included")
    committee_id: str | None = Field(description="one committee; none: every committee in reach")
    city: str | None
    group_by: GroupBy
    total: StatisticsGroup
    groups: list[StatisticsGroup] = Field(default_factory=list, description="one per value of group_by, in order "
                                          "(months in time order, others by applications, most first)")
    committee_ids: list[str] = Field(default_factory=list, description="the committees whose cases are counted: "
                                     "the one asked for, the city's within the caller's reach, or all in reach")
    same_period_last_year: YearOnYear | None = Field(default=None, description="上年同期 and 同比 (compare=true)")
    year_to_date: PeriodTotal | None = Field(default=None, description="本年累计: from 1 January to the period's end "
                                             "(compare=true, a period within one year)")
    as_of: datetime | None = Field(default=None, description="when the figures were read (Asia/Shanghai). Every "
                                   "figure is as of the period's end (performance and payments included), so a "
                                   "past period's figures do not change when read again")


class StatisticsQuery(BaseModel):
    """What GET /statistics is asked: the period (days in Asia/Shanghai, both included; the current month by
    default, at most MAX_YEARS years), the committees, the groups."""

    model_config = ConfigDict(populate_by_name=True)

    period_from: Day | None = Field(default=None, alias="from", examples=["2026-01-01"],
                                    description="the period's first day; default: the first of the month of `to`")
    period_to: Day | None = Field(default=None, alias="to", examples=["2026-03-31"],
                                  description="its last day, included; default: the end of the current month")
    committee_id: str | None = Field(default=None, min_length=1, max_length=64, description="one committee")
    city: str | None = Field(default=None, min_length=1, max_length=100, description="a city's committees")
    group_by: GroupBy = Field(default="none", description="the groups besides the total")
    compare: bool = Field(default=False, description="also the same period a year earlier with the change (上年同期, "
                          "同比) and, for a period within one year, the year to date (本年累计)")

    @model_validator(mode="after")
    def _a_period(self) -> StatisticsQuery:
        today = datetime.now(SHANGHAI).date()
        self.period_from, self.period_to = default_period(today, self.period_from, self.period_to)
        problem = check_period(self.period_from, self.period_to)
        if problem is not None:
            raise ValueError(problem)
        return self

