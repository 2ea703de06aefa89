"""Statistics reports made by hand (models/schemas_statistics.py), for the tests of what is made from them: the
exports, the monthly report's PDF, the charts and the console's page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from models.schemas_statistics import (
    Activity,
    Amounts,
    Durations,
    OutcomeCounts,
    Rates,
    StatisticsGroup,
    StatisticsReport,
)

COMMITTEE = "上海市黄浦区医疗纠纷人民调解委员会"


def group(key: str, label: str, *, applications: int = 10, accepted: int = 8, settled: int = 5, failed: int = 1,
          terminated: int = 1, rejected: int = 2, median: float | None = 18.5, p90: float | None = 29.0,
          agreed_total: str = "123456.78", **outcomes: Any) -> StatisticsGroup:
    closed = settled + failed + terminated
    return StatisticsGroup(
        key=key,
        label=label,
        outcomes=OutcomeCounts(
            applications=applications, accepted=accepted, rejected=rejected,
            rejected_by_reason=outcomes.pop("rejected_by_reason", {1: rejected - 1, 8: 1} if rejected else {}),
            closed=closed, settled=settled, settled_performed=max(settled - 1, 0),
            settled_referred_to_court=1 if settled else 0, failed=failed, failed_deadline=failed,
            failed_declared=0, terminated=terminated,
            terminated_by_ground=outcomes.pop("terminated_by_ground", {"party_withdrew": terminated}),
            open_at_end=accepted - closed if accepted > closed else 0,
            **outcomes,
        ),
        rates=Rates(success_of_closed=settled / closed if closed else None,
                    success_of_accepted=settled / accepted if accepted else None),
        durations=Durations(cases=closed, median_wd=median, p90_wd=p90, appraisal_cases=1,
                            appraisal_median_wd=12.0, kept_deadline=max(closed - 1, 0),
                            kept_deadline_share=(closed - 1) / closed if closed else None),
        activity=Activity(extensions=2, appraisals=1, panels=1, expert_answers=3, judicial_confirmations=1,
                          followups=4, overdue_payments=1),
        amounts=Amounts(agreements=settled, agreed_total=Decimal(agreed_total),
                        agreed_median=Decimal("20000.50") if settled else None,
                        agreed_by_payer={"institution": Decimal(agreed_total) - Decimal("3456.78"),
                                         "insurer": Decimal("3456.78")},
                        paid_total=Decimal("100000.00"), claimed_total=Decimal("500000.00")),
    )


def report(group_by: str = "month", groups: list[StatisticsGroup] | None = None, *,
           period_from: date = date(2026, 1, 1), period_to: date = date(2026, 3, 31),
           committee_id: str | None = "huangpu", city: str | None = None) -> StatisticsReport:
    if groups is None:
        groups = {
            "month": [group("2026-01", "2026年1月", applications=3, accepted=2, settled=1, failed=0, terminated=0,
                            rejected=1, agreed_total="20000.00"),
                      group("2026-02", "2026年2月", applications=4, accepted=3, settled=2, failed=1, terminated=0,
                            rejected=0, agreed_total="50000.00"),
                      group("2026-03", "2026年3月", applications=3, accepted=3, settled=2, failed=0, terminated=1,
                            rejected=1, agreed_total="53456.78")],
            "institution": [group("上海市第一人民医院", "上海市第一人民医院", applications=6),
                            group("复旦大学附属中山医院", "复旦大学附属中山医院", applications=3),
                            group("某区中心医院", "某区中心医院", applications=1)],
            "department": [group("obstetrics", "产科", applications=5), group("orthopedics", "骨科", applications=4),
                           group("general_surgery", "普通外科", applications=1)],
            "none": [],
        }[group_by]
    total = group("all", "合计", applications=10, accepted=8, settled=5, failed=1, terminated=1, rejected=2)
    return StatisticsReport(period_from=period_from, period_to=period_to, committee_id=committee_id, city=city,
                            group_by=group_by, total=total, groups=groups)  # type: ignore[arg-type]
