"""The statistics a committee reports upward (GET /statistics, docs/statistics.md), on SQLite and on PostgreSQL.

Every expected figure is computed here from what the test did — the cases it recorded, their days and amounts —
never read from the code under test: working days walked one by one (tests/oracle.py), medians from Python's
`statistics` (tests/statistics_oracle.py).

- `TestAPeriodOnFile`: a spring of cases written as their workflow writes them (models/repo.py, dated in March and
  April 2026, so that working days, appraisals, month ends and Asia/Shanghai's midnight matter), counted by the
  service the exports call (`api.services.statistics.report`), in all and by month, department and kind.
- `TestOnTheRealStack`: cases registered and carried to every outcome through the API on the real stack (Temporal,
  the workflow, its timers), counted by GET /statistics.
- `TestReach`: logged-in accounts: a committee's auditor and director count their committee, a city's auditor the
  city's committees, nobody another committee.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from api.services.statistics import report
from core.db import SessionFactory, transaction
from domain.access import CaseScope
from domain.clock import MediationClock
from domain.lifecycle import TERMINATION_GROUNDS
from domain.payloads import CaseCreate
from domain.time import SHANGHAI
from models import repo
from models.tables import Committee
from tests.api.test_expert_consultation_api import QUESTION, eventually
from tests.api.test_role_matrix import add_account, log_in, production_api  # noqa: F401 - a fixture
from tests.factories import (
    APPRAISAL,
    COURT_ACCEPTED,
    EXTENSION,
    FOLLOWUP,
    OPINION,
    SIGNATURES,
    WITHDRAWAL,
    linked_to,
    registration,
)
from tests.http import case_of, ok
from tests.oracle import midnight_after, nth_working_day_after
from tests.pools import add_expert, make_city
from tests.statistics_oracle import days, median, mediation_days, money_median, p90, share

D = date
INSURER = "某财产保险股份有限公司上海分公司"
INSTITUTION = "上海市某区人民医院"  # the respondent of tests/factories.registration()
GROUP = "某医疗集团总部"  # a payer that is neither the institution nor its insurer
ACTOR = {"id": "t1", "name": "测试员", "role": "director"}
JOINT = {"application_type": "joint", "applicant_side": None}
MARCH, APRIL = (D(2026, 3, 1), D(2026, 3, 31)), (D(2026, 4, 1), D(2026, 4, 30))
SPRING = (D(2026, 3, 1), D(2026, 4, 30))
PAYER_OF = {INSURER: "insurer", INSTITUTION: "institution", "医方": "institution", GROUP: "other"}


# ------------------------------------------------------------------ what the test did --------------------------
@dataclass
class Story:
    """One case as the test made it happen, and what it needs to count it (the test's own bookkeeping)."""

    case_id: str
    registered: date
    claim: Decimal
    department: str = "unknown"
    kind: str = "unknown"
    accepted: date | None = None
    ended: date | None = None
    result: str | None = None  # settled, failed_deadline, failed_declared, terminated, rejected
    reasons: list[int] = field(default_factory=list)
    ground: str | None = None
    pauses: list[list[date | None]] = field(default_factory=list)
    extensions: list[tuple[date, int]] = field(default_factory=list)
    followups: list[date] = field(default_factory=list)
    judicial: date | None = None
    terms: list[tuple[Decimal, str]] = field(default_factory=list)  # (amount, who pays)
    payments: list[tuple[date, Decimal]] = field(default_factory=list)  # (the day it was recorded, the amount)
    performance: str | None = None  # performed, referred_to_court
    performance_on: date | None = None  # the day performance was confirmed or nonperformance recorded

    def performance_by(self, day: date) -> str | None:
        """How performance stood at the end of `day`."""
        return self.performance if self.performance_on is not None and self.performance_on <= day else None

    def paid_by(self, day: date) -> Decimal:
        return sum((amount for on, amount in self.payments if on <= day), Decimal("0.00"))

    def mediation_days(self) -> int | None:
        if self.accepted is None or self.ended is None or self.result == "rejected":
            return None
        pauses = [(start, min(end or self.ended, self.ended)) for start, end in self.pauses if start <= self.ended]
        return mediation_days(self.accepted, self.ended, pauses)

    def appraisal_days(self) -> int | None:
        if not self.pauses or self.mediation_days() is None:
            return None
        assert self.ended is not None
        return sum(mediation_days(start, min(end or self.ended, self.ended)) for start, end in self.pauses
                   if start <= self.ended)

    def kept(self) -> bool:  # Reg 38: within 30 WD plus the agreed extensions, and not run out
        used = self.mediation_days()
        return used is not None and self.result != "failed_deadline" and used <= 30 + sum(
            days for _, days in self.extensions)


def within(day: date | None, period: tuple[date, date]) -> bool:
    return day is not None and period[0] <= day <= period[1]


def expected(stories: Iterable[Story], period: tuple[date, date]) -> dict[str, Any]:
    """Every figure of the period, from the stories alone."""
    stories = list(stories)
    ended = [s for s in stories if within(s.ended, period)]
    settled = [s for s in ended if s.result == "settled"]
    # 结案: the endings of accepted cases; a rejection or a termination before acceptance is not a closed mediation
    closed = [s for s in ended if s.accepted is not None and s.result != "rejected"]
    accepted = [s for s in stories if within(s.accepted, period)]
    start = period[0] - timedelta(days=1)  # a figure at the start is one at the end of the day before
    accepted_settled = [s for s in accepted if s.result == "settled" and s.ended is not None and s.ended <= period[1]]
    measured = [s for s in ended if s.mediation_days() is not None]
    appraised = [s for s in measured if s.appraisal_days() is not None]
    agreed = [s for s in settled if s.terms]
    end = period[1]
    agreed_median = money_median(sum((a for a, _ in s.terms), Decimal("0.00")) for s in agreed)
    return {
        "outcomes": {
            "applications": sum(within(s.registered, period) for s in stories),
            "accepted": len(accepted),
            "accepted_settled": len(accepted_settled),
            "rejected": sum(s.result == "rejected" for s in ended),
            "rejected_by_reason": {str(n): sum(n in s.reasons for s in ended if s.result == "rejected")
                                   for n in range(1, 9)},
            "terminated_before_acceptance": sum(s.result == "terminated" and s.accepted is None for s in ended),
            "open_at_start": sum(open_at(s, start) for s in stories),
            "pending_at_start": sum(pending_at(s, start) for s in stories),
            "pending_at_end": sum(pending_at(s, end) for s in stories),
            "closed": len(closed),
            "settled": len(settled),
            # as of the period's end: what happened after it does not change the period's figures
            "settled_performed": sum(s.performance_by(end) == "performed" for s in settled),
            "settled_referred_to_court": sum(s.performance_by(end) == "referred_to_court" for s in settled),
            "settled_in_performance": sum(s.performance_by(end) is None for s in settled),
            "failed": sum(s.result in ("failed_deadline", "failed_declared") for s in ended),
            "failed_deadline": sum(s.result == "failed_deadline" for s in ended),
            "failed_declared": sum(s.result == "failed_declared" for s in ended),
            "terminated": sum(s.result == "terminated" for s in closed),
            "terminated_by_ground": {g: sum(s.ground == g for s in closed if s.result == "terminated")
                                     for g in TERMINATION_GROUNDS},
            "open_at_end": sum(open_at(s, end) for s in stories),
        },
        "rates": {
            "success_of_closed": share(len(settled), len(closed)),
            # one group of cases: those accepted in the period, settled by its end
            "success_of_accepted": share(len(accepted_settled), len(accepted)),
        },
        "durations": {
            "cases": len(measured),
            "median_wd": days(median(s.mediation_days() for s in measured)),  # type: ignore[misc]
            "p90_wd": days(p90(s.mediation_days() for s in measured)),  # type: ignore[misc]
            "appraisal_cases": len(appraised),
            "appraisal_median_wd": days(median(s.appraisal_days() for s in appraised)),  # type: ignore[misc]
            "kept_deadline": sum(s.kept() for s in measured),
            "kept_deadline_share": share(sum(s.kept() for s in measured), len(measured)),
        },
        "activity": {
            "extensions": sum(within(day, period) for s in stories for day, _ in s.extensions),
            "appraisals": sum(within(start, period) for s in stories for start, _ in s.pauses),
            "judicial_confirmations": sum(within(s.judicial, period) for s in stories),
            "followups": sum(within(day, period) for s in stories for day in s.followups),
        },
        "amounts": {
            "agreements": len(agreed),
            "agreed_total": str(sum((a for s in settled for a, _ in s.terms), Decimal("0.00"))),
            "agreed_median": str(agreed_median) if agreed_median is not None else None,
            "agreed_by_payer": {payer: str(sum((a for s in settled for a, p in s.terms if p == payer),
                                               Decimal("0.00"))) for payer in ("institution", "insurer", "other")},
            "paid_total": str(sum((s.paid_by(end) for s in settled), Decimal("0.00"))),
            "claimed_total": str(sum((s.claim for s in stories if within(s.registered, period)), Decimal("0.00"))),
        },
    }


def open_at(story: Story, day: date) -> bool:
    """Accepted by the end of `day` and not ended by then."""
    return story.accepted is not None and story.accepted <= day and (story.ended is None or story.ended > day)


def pending_at(story: Story, day: date) -> bool:
    """Registered by the end of `day`, neither accepted nor ended by then."""
    return story.registered <= day and (story.accepted is None or story.accepted > day) and (
        story.ended is None or story.ended > day)


def assert_figures(group: dict[str, Any], wanted: dict[str, Any]) -> None:
    """The group's figures, part by part, equal to the wanted ones (floats to 1e-9)."""
    for part, figures in wanted.items():
        for name, value in figures.items():
            got = group[part][name]
            if isinstance(value, float):
                assert got == pytest.approx(value), (group["key"], part, name)
            else:
                assert got == value, (group["key"], part, name, got, value)


# ------------------------------------------------------------------ a period on file ---------------------------
def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


class Recorder:
    """Writes a case's transitions as its workflow's activity does (models/repo.py `record_transition`, with the
    clock's ledger), on the days the story says, and keeps the story."""

    def __init__(self, sessions: SessionFactory, committee_id: str) -> None:
        self.sessions, self.committee_id, self.stories = sessions, committee_id, []

    def case(self, when: datetime, *, claim: str = "120000.00", **changes: Any) -> Callable[..., Any]:
        body = CaseCreate.model_validate(registration(committee_id=self.committee_id, claim_amount=claim,
                                                      **{**JOINT, **changes})).model_dump(mode="json")
        story = Story(case_id=f"stat-{uuid.uuid4().hex[:12]}", registered=when.date(), claim=Decimal(claim),
                      department=body["department"], kind=body["dispute_kind"])
        with transaction(self.sessions) as session:
            repo.create_case(session=session, case_id=story.case_id, registration=body, at=when, actor=ACTOR)
        self.stories.append(story)
        state = {"seq": 1, "status": "registered", "clock": MediationClock(30), "effective": None}

        def step(event: str, to_status: str, when: datetime, payload: dict[str, Any] | None = None) -> Story:
            day, clock = when.date(), state["clock"]
            if event == "accept":
                clock, story.accepted = clock.start(day), day
            elif event == "start_appraisal":
                clock = clock.pause(day, "医疗损害鉴定")
                story.pauses.append([day, None])
            elif event == "finish_appraisal":
                clock = clock.resume(day)
                story.pauses[-1][1] = day
            elif event == "extend_deadline":
                clock = clock.extend(payload["extra_days"], day)  # type: ignore[index]
                story.extensions.append((day, payload["extra_days"]))  # type: ignore[index]
            elif event == "sign" and to_status == "performance":
                state["effective"], story.ended, story.result = day, day, "settled"
            elif event == "record_payment":
                story.payments.append((day, Decimal(payload["amount"])))  # type: ignore[index]
            elif event == "confirm_performance":
                story.performance, story.performance_on = "performed", day
            elif event == "record_nonperformance":
                story.performance, story.performance_on = "referred_to_court", day
            elif event == "record_judicial_confirmation":
                story.judicial = D.fromisoformat(payload["applied_on"])  # type: ignore[index]
            elif event == "record_followup":
                story.followups.append(day)
            elif event == "draft_agreement":
                story.terms = [(Decimal(t["amount"]), PAYER_OF[t["payer"]])
                               for t in payload["terms"] if t.get("amount")]  # type: ignore[index]
            state["clock"] = clock
            projection = {"ledger": clock.to_dict(), "deadlines": [],
                          "effective_on": state["effective"].isoformat() if state["effective"] else None}
            with transaction(self.sessions) as session:
                assert repo.record_transition(
                    session=session, case_id=story.case_id, seq=state["seq"] + 1, event=event,
                    from_status=state["status"], to_status=to_status, actor=ACTOR, at=when, payload=payload or {},
                    clock=projection)
            state["seq"] += 1
            state["status"] = to_status
            return story

        return step


def ends(story: Story, result: str, day: date, *, reasons: list[int] | None = None, ground: str | None = None) -> None:
    story.result, story.ended, story.reasons, story.ground = result, day, reasons or [], ground


def terms(*pairs: tuple[str, str]) -> dict[str, Any]:
    """An agreement's terms: (amount, payer), and a term without money."""
    listed = [{"text": "支付赔偿款", "amount": amount, "payer": payer, "manner": "银行转账", "deadline": "2026-12-31"}
              for amount, payer in pairs]
    listed.append({"text": "医方书面致歉", "manner": "书面", "deadline": "2026-12-31", "payer": INSTITUTION})
    return {"facts": "术后切口感染。", "points_in_dispute": "过错及赔偿数额。", "responsibilities": "医方承担主要责任。",
            "terms": listed}


@pytest.fixture
def spring(sessions: SessionFactory) -> tuple[str, list[Story]]:
    """A committee's March and April 2026 (and a case accepted in February), every kind of ending."""
    committee_id = make_city(sessions).committee_id
    r = Recorder(sessions, committee_id)
    mediators = {"mediators": ["陈调解员"]}

    # Settled and performed; an appraisal and an extension (Reg 38); the insurer pays most (医疗责任保险)
    s = r.case(at(D(2026, 3, 2)), department="obstetrics", dispute_kind="diagnosis_treatment",
               insurer={"name": INSURER})
    s("submit_for_review", "under_review", at(D(2026, 3, 2), 11))
    s("accept", "in_mediation", at(D(2026, 3, 3)), mediators)
    s("start_appraisal", "appraisal", at(D(2026, 3, 10)), {"institution": "上海市某司法鉴定中心"})
    s("finish_appraisal", "in_mediation", at(D(2026, 3, 20)), {})
    s("extend_deadline", "in_mediation", at(D(2026, 3, 25)), {"extra_days": 10})
    s("draft_agreement", "signing", at(D(2026, 4, 1)), terms(("60000.00", INSURER), ("26500.50", INSTITUTION)))
    s("sign", "performance", at(D(2026, 4, 8)), {"signer": "committee_seal"})
    s("record_judicial_confirmation", "performance", at(D(2026, 4, 9)), {"applied": True, "applied_on": "2026-04-09"})
    s("record_payment", "performance", at(D(2026, 4, 10)), {"term": 1, "amount": "60000.00"})
    s("record_payment", "performance", at(D(2026, 4, 12)), {"term": 2, "amount": "26500.50"})
    s("confirm_performance", "settled", at(D(2026, 4, 20)), {})
    s("record_followup", "settled", at(D(2026, 4, 28)), FOLLOWUP)

    # Reg 38: the period ran out; the case fails as of its due date, written at 24:00
    s = r.case(at(D(2026, 3, 5)), department="orthopedics", dispute_kind="nursing")
    s("submit_for_review", "under_review", at(D(2026, 3, 5), 11))
    s("accept", "in_mediation", at(D(2026, 3, 6)), mediators)
    due = nth_working_day_after(D(2026, 3, 6), 30)
    ends(s("deadline_expired", "failed", midnight_after(due) + timedelta(seconds=3),
           {"due_date": due.isoformat(), "deemed_at": midnight_after(due).isoformat()}), "failed_deadline", due)

    # Rejected for reasons 2 and 7
    s = r.case(at(D(2026, 3, 9)), department="obstetrics", dispute_kind="management_service", claim="5000.00")
    s("submit_for_review", "under_review", at(D(2026, 3, 9), 11))
    ends(s("reject", "rejected", at(D(2026, 3, 12)), {"reasons": [2, 7]}), "rejected", D(2026, 3, 12), reasons=[2, 7])

    # Reg 31¶4: a court accepted the dispute, recorded at 23:30 on 31 March (15:30 UTC): a March ending
    s = r.case(at(D(2026, 3, 10)), department="pediatrics", dispute_kind="drugs")
    s("submit_for_review", "under_review", at(D(2026, 3, 10), 11))
    s("accept", "in_mediation", at(D(2026, 3, 11)), mediators)
    ends(s("terminate", "terminated", at(D(2026, 3, 31), 23, 30), {"ground": "court_accepted"}), "terminated",
         D(2026, 3, 31), ground="court_accepted")

    # PML 17: silence past the consent deadline (31 March), raised at 24:00: rejected with reason 1, in March
    s = r.case(at(D(2026, 3, 16)), application_type="one_side", applicant_side="patient")
    s("request_consent", "awaiting_consent", at(D(2026, 3, 16), 11))
    ends(s("consent_expired", "rejected", midnight_after(D(2026, 3, 31)) + timedelta(seconds=2),
           {"reasons": [1], "due_date": "2026-03-31", "deemed_at": midnight_after(D(2026, 3, 31)).isoformat()}),
         "rejected", D(2026, 3, 31), reasons=[1])

    # Registered at 00:30 on 1 April (still 31 March in UTC): an April application; accepted, still open
    s = r.case(at(D(2026, 4, 1), 0, 30), department="obstetrics", dispute_kind="diagnosis_treatment")
    s("submit_for_review", "under_review", at(D(2026, 4, 1), 9))
    s("accept", "in_mediation", at(D(2026, 4, 2)), mediators)

    # Accepted in February, in appraisal since 15 April: open at both month ends
    s = r.case(at(D(2026, 2, 20)), department="orthopedics")
    s("submit_for_review", "under_review", at(D(2026, 2, 20), 11))
    s("accept", "in_mediation", at(D(2026, 2, 25)), mediators)
    s("start_appraisal", "appraisal", at(D(2026, 4, 15)), {"institution": "上海市某司法鉴定中心"})

    # PML 26: declared failed
    s = r.case(at(D(2026, 3, 20)), department="pediatrics", dispute_kind="diagnosis_treatment")
    s("submit_for_review", "under_review", at(D(2026, 3, 20), 11))
    s("accept", "in_mediation", at(D(2026, 3, 23)), mediators)
    ends(s("declare_failed", "failed", at(D(2026, 4, 10)), {"reason": "分歧过大"}), "failed_declared", D(2026, 4, 10))

    # Settled in March (accepted the day it was registered), not performed: referred to court in April (PML 32)
    s = r.case(at(D(2026, 3, 2), 9), department="obstetrics", dispute_kind="diagnosis_treatment", claim="80000.00")
    s("submit_for_review", "under_review", at(D(2026, 3, 2), 9, 30))
    s("accept", "in_mediation", at(D(2026, 3, 2), 15), mediators)
    s("draft_agreement", "signing", at(D(2026, 3, 20)), terms(("50000.00", INSTITUTION)))
    s("sign", "performance", at(D(2026, 3, 27)), {"signer": "committee_seal"})
    s("record_nonperformance", "settled", at(D(2026, 4, 15)), {"reason": "医方逾期未付款", "referred_to_court": True})

    # Settled in April, still being performed: another payer and 医方
    s = r.case(at(D(2026, 3, 25)), department="orthopedics", dispute_kind="nursing", claim="45000.00")
    s("submit_for_review", "under_review", at(D(2026, 3, 25), 11))
    s("accept", "in_mediation", at(D(2026, 3, 26)), mediators)
    s("draft_agreement", "signing", at(D(2026, 4, 20)), terms(("30000.00", GROUP), ("10000.00", "医方")))
    s("sign", "performance", at(D(2026, 4, 24)), {"signer": "committee_seal"})
    s("record_payment", "performance", at(D(2026, 4, 27)), {"term": 2, "amount": "10000.00"})

    # PML 23: withdrawn before acceptance
    s = r.case(at(D(2026, 4, 3)), dispute_kind="other")
    ends(s("terminate", "terminated", at(D(2026, 4, 7)), {"ground": "party_withdrew"}), "terminated", D(2026, 4, 7),
         ground="party_withdrew")

    # PML 17: the other side refused
    s = r.case(at(D(2026, 4, 6)), application_type="one_side", applicant_side="patient", department="obstetrics")
    s("request_consent", "awaiting_consent", at(D(2026, 4, 6), 11))
    ends(s("record_refusal", "rejected", at(D(2026, 4, 8)), {"refused_by": "李院长", "method": "written"}), "rejected",
         D(2026, 4, 8), reasons=[1])

    # After the period: not counted
    s = r.case(at(D(2026, 5, 6)), department="obstetrics")
    s("submit_for_review", "under_review", at(D(2026, 5, 6), 11))
    s("accept", "in_mediation", at(D(2026, 5, 7)), mediators)
    return committee_id, r.stories


def report_of(sessions: SessionFactory, committee_id: str, group_by: str,
              period: tuple[date, date] = SPRING) -> dict[str, Any]:
    with sessions() as session:
        found = report(session=session, scope=CaseScope(committee_ids=frozenset({committee_id})),
                       committee_id=committee_id, city=None, period_from=period[0], period_to=period[1],
                       group_by=group_by)  # type: ignore[arg-type]
    return found.model_dump(mode="json")


class TestAPeriodOnFile:
    def test_the_total_of_march_and_april(self, sessions, spring):
        committee_id, stories = spring
        found = report_of(sessions, committee_id, "none")
        assert (found["period_from"], found["period_to"], found["committee_ids"]) == (
            "2026-03-01", "2026-04-30", [committee_id])
        assert found["groups"] == [] and found["total"]["key"] == "all"
        assert_figures(found["total"], expected(stories, SPRING))
        # the figures the stories make, spelled out once, so that the bookkeeping above is checked too
        outcomes, durations = found["total"]["outcomes"], found["total"]["durations"]
        # closed: the April withdrawal before acceptance is not a closed mediation (terminated_before_acceptance)
        assert (outcomes["applications"], outcomes["settled"], outcomes["closed"], outcomes["open_at_end"]) == (
            11, 3, 6, 2)
        assert (outcomes["open_at_start"], outcomes["terminated_before_acceptance"], outcomes["terminated"]) == (
            1, 1, 1)
        assert outcomes["rejected_by_reason"] == {"1": 2, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 1, "8": 0}
        assert (durations["cases"], durations["kept_deadline"], durations["appraisal_cases"]) == (6, 5, 1)

    def test_each_month_counts_by_the_day_of_what_it_counts(self, sessions, spring):
        committee_id, stories = spring
        found = report_of(sessions, committee_id, "month")
        assert [(g["key"], g["label"]) for g in found["groups"]] == [("2026-03", "2026年3月"), ("2026-04", "2026年4月")]
        for group, month in zip(found["groups"], (MARCH, APRIL), strict=True):
            assert_figures(group, expected(stories, month))
        march, april = found["groups"]
        # Asia/Shanghai: 23:30 on 31 March ends in March, 00:30 on 1 April registers in April; a deadline raised at
        # 24:00 counts on its own day (Reg 38, PML 17)
        assert march["outcomes"]["terminated_by_ground"]["court_accepted"] == 1
        assert march["outcomes"]["rejected_by_reason"]["1"] == 1 and april["outcomes"]["rejected_by_reason"]["1"] == 1
        assert (march["outcomes"]["applications"], april["outcomes"]["applications"]) == (8, 3)

    def test_the_table_balances_month_by_month(self, sessions, spring):
        """期初未结 + 本期受理 − 本期结案 = 期末未结, and 期初待受理 + 申请 − 受理 − 不予受理 − 未受理而终止 = 期末待受理,
        per month and in all; a month starts with what the previous one ended with."""
        committee_id, stories = spring
        quarter = (D(2026, 2, 1), D(2026, 4, 30))
        found = report_of(sessions, committee_id, "month", quarter)
        assert [g["key"] for g in found["groups"]] == ["2026-02", "2026-03", "2026-04"]
        for group in (*found["groups"], found["total"]):
            o = group["outcomes"]
            assert o["open_at_start"] + o["accepted"] - o["closed"] == o["open_at_end"], group["key"]
            assert o["pending_at_start"] + o["applications"] - o["accepted"] - o["rejected"] - o[
                "terminated_before_acceptance"] == o["pending_at_end"], group["key"]
        for before, after in zip(found["groups"], found["groups"][1:], strict=False):
            assert after["outcomes"]["open_at_start"] == before["outcomes"]["open_at_end"]
            assert after["outcomes"]["pending_at_start"] == before["outcomes"]["pending_at_end"]
        months = [(D(2026, 2, 1), D(2026, 2, 28)), MARCH, APRIL]
        for group, month in zip(found["groups"], months, strict=True):
            assert_figures(group, expected(stories, month))
        # 本期受理案件调解成功率: of March's six acceptances one was settled by 31 March (27 March); April settled two
        # cases accepted in March and accepted one still open: 0 of 1, not 2 ÷ 1 = 200%
        assert [g["rates"]["success_of_accepted"] for g in found["groups"]] == [0.0, 0.167,
                                                                               0.0]
        assert found["groups"][2]["outcomes"]["settled"] == 2
        april = found["groups"][2]["outcomes"]  # the review's April: 5 carried over + 1 accepted − 4 closed = 2
        assert (april["open_at_start"], april["accepted"], april["closed"], april["open_at_end"]) == (5, 1, 4, 2)
        assert april["terminated_before_acceptance"] == 1

    def test_a_past_period_does_not_change_when_read_again(self, sessions):
        """A March report read again after April's payment and confirmation of performance gives the same figures:
        performance and payments are counted as of the period's end."""
        committee_id = make_city(sessions).committee_id
        r = Recorder(sessions, committee_id)
        s = r.case(at(D(2026, 3, 2)), department="obstetrics")
        s("submit_for_review", "under_review", at(D(2026, 3, 2), 11))
        s("accept", "in_mediation", at(D(2026, 3, 3)), {"mediators": ["陈调解员"]})
        s("draft_agreement", "signing", at(D(2026, 3, 20)), terms(("50000.00", INSTITUTION)))
        s("sign", "performance", at(D(2026, 3, 27)), {"signer": "committee_seal"})
        s("record_payment", "performance", at(D(2026, 3, 31), 23, 30), {"term": 1, "amount": "20000.00"})

        def read() -> dict[str, Any]:
            found = report_of(sessions, committee_id, "none", MARCH)["total"]
            return {part: found[part] for part in ("outcomes", "rates", "durations", "activity", "amounts")}

        first = read()
        assert (first["outcomes"]["settled_in_performance"], first["amounts"]["paid_total"]) == (1, "20000.00")
        s("record_payment", "performance", at(D(2026, 4, 1), 0, 10), {"term": 1, "amount": "30000.00"})
        s("confirm_performance", "settled", at(D(2026, 4, 2)), {})
        assert read() == first  # printed again in April: the same sealed figures
        assert_figures(report_of(sessions, committee_id, "none", MARCH)["total"], expected(r.stories, MARCH))
        later = report_of(sessions, committee_id, "none", (D(2026, 3, 1), D(2026, 4, 30)))["total"]
        assert (later["outcomes"]["settled_performed"], later["amounts"]["paid_total"]) == (1, "50000.00")

    def test_a_month_alone_and_the_total_agree_with_its_group(self, sessions, spring):
        committee_id, stories = spring
        alone = report_of(sessions, committee_id, "none", APRIL)
        assert_figures(alone["total"], expected(stories, APRIL))
        assert [m["key"] for m in report_of(sessions, committee_id, "month", (D(2026, 3, 15), D(2026, 3, 31)))[
            "groups"]] == ["2026-03"]

    @pytest.mark.parametrize(("group_by", "attribute", "labels"), [
        ("department", "department", {"obstetrics": "产科", "orthopedics": "骨科", "pediatrics": "儿科",
                                      "unknown": "未登记"}),
        ("kind", "kind", {"diagnosis_treatment": "诊疗", "nursing": "护理", "drugs": "药品",
                          "management_service": "管理服务", "other": "其他", "unknown": "未登记"}),
    ])
    def test_by_department_and_by_kind(self, sessions, spring, group_by, attribute, labels):
        committee_id, stories = spring
        found = report_of(sessions, committee_id, group_by)
        keys = {getattr(s, attribute) for s in stories if any(within(d, SPRING) for d in (
            s.registered, s.accepted, s.ended, s.judicial, *s.followups, *(p[0] for p in s.pauses),
            *(e[0] for e in s.extensions)))}
        assert {g["key"] for g in found["groups"]} == keys
        applications = [g["outcomes"]["applications"] for g in found["groups"]]
        assert applications == sorted(applications, reverse=True)  # most first
        for group in found["groups"]:
            assert group["label"] == labels[group["key"]]
            assert_figures(group, expected([s for s in stories if getattr(s, attribute) == group["key"]], SPRING))
        assert_figures(found["total"], expected(stories, SPRING))

    def test_by_institution_and_by_committee(self, sessions, spring):
        committee_id, stories = spring
        [institution] = report_of(sessions, committee_id, "institution")["groups"]
        assert institution["label"] == INSTITUTION
        assert_figures(institution, expected(stories, SPRING))
        [committee] = report_of(sessions, committee_id, "committee")["groups"]
        assert committee["key"] == committee_id and committee["label"].endswith("医疗纠纷人民调解委员会")


# ------------------------------------------------------------------ the real stack ----------------------------
DIRECTOR = {"X-Actor-Id": "d1", "X-Actor-Name": quote("赵主任"), "X-Actor-Role": "director"}


class TestComparedWithOtherPeriods:
    """What a statistician prints beside the period: 上年同期 with 同比, 本年累计, and each group's 占比 — each
    total counted from the stories alone."""

    @pytest.fixture
    def a_year_earlier(self, sessions, spring):
        """Spring 2026, and the same committee's spring 2025: two cases registered, one settled, one rejected."""
        committee_id, stories = spring
        r = Recorder(sessions, committee_id)
        s = r.case(at(D(2025, 3, 3)), department="obstetrics")
        s("submit_for_review", "under_review", at(D(2025, 3, 3), 11))
        s("accept", "in_mediation", at(D(2025, 3, 4)), {"mediators": ["陈调解员"]})
        s("draft_agreement", "signing", at(D(2025, 3, 20)), terms(("30000.00", INSTITUTION)))
        ends(s("sign", "performance", at(D(2025, 3, 25)), {"signer": "committee_seal"}), "settled", D(2025, 3, 25))
        s = r.case(at(D(2025, 4, 7)), application_type="one_side", applicant_side="patient")
        s("request_consent", "awaiting_consent", at(D(2025, 4, 7), 11))
        ends(s("record_refusal", "rejected", at(D(2025, 4, 9)), {"refused_by": "李院长", "method": "written"}),
             "rejected", D(2025, 4, 9), reasons=[1])
        return committee_id, stories + r.stories

    def test_the_same_period_a_year_earlier_and_the_change(self, sessions, a_year_earlier):
        committee_id, stories = a_year_earlier
        with sessions() as session:
            found = report(session=session, scope=CaseScope(committee_ids=frozenset({committee_id})),
                           committee_id=committee_id, city=None, period_from=SPRING[0], period_to=SPRING[1],
                           group_by="none", compare=True).model_dump(mode="json")
        earlier = found["same_period_last_year"]
        assert (earlier["period_from"], earlier["period_to"]) == ("2025-03-01", "2025-04-30")
        wanted_now, wanted_before = expected(stories, SPRING), expected(stories, (D(2025, 3, 1), D(2025, 4, 30)))
        assert_figures(earlier["total"], wanted_before)
        assert earlier["total"]["label"] == "上年同期"
        for name in ("applications", "accepted", "settled", "rejected"):
            now, before = wanted_now["outcomes"][name], wanted_before["outcomes"][name]
            assert earlier["change"][name] == (round((now - before) / before, 3) if before else None), name
        assert earlier["change"]["terminated"] is None  # none a year earlier
        closed_now = found["total"]["rates"]["success_of_closed"]
        closed_before = earlier["total"]["rates"]["success_of_closed"]
        assert earlier["change_points"]["success_of_closed"] == pytest.approx(closed_now - closed_before)

    def test_the_year_to_date_of_april(self, sessions, a_year_earlier):
        committee_id, stories = a_year_earlier
        april = (D(2026, 4, 1), D(2026, 4, 30))
        with sessions() as session:
            found = report(session=session, scope=CaseScope(committee_ids=frozenset({committee_id})),
                           committee_id=committee_id, city=None, period_from=april[0], period_to=april[1],
                           group_by="none", compare=True).model_dump(mode="json")
        year = found["year_to_date"]
        assert (year["period_from"], year["period_to"], year["total"]["label"]) == ("2026-01-01", "2026-04-30",
                                                                                    "本年累计")
        assert_figures(year["total"], expected(stories, (D(2026, 1, 1), D(2026, 4, 30))))
        assert found["same_period_last_year"]["period_to"] == "2025-04-30"

    def test_without_compare_nothing_else_is_counted(self, sessions, spring):
        found = report_of(sessions, spring[0], "none")
        assert found["same_period_last_year"] is None and found["year_to_date"] is None

    def test_each_group_carries_its_share_of_the_total(self, sessions, spring):
        committee_id, stories = spring
        found = report_of(sessions, committee_id, "department")
        total = found["total"]["outcomes"]
        for group in found["groups"]:
            mine = [s for s in stories if s.department == group["key"]]
            wanted = expected(mine, SPRING)["outcomes"]
            assert group["share"]["applications"] == round(wanted["applications"] / total["applications"], 3)
            assert group["share"]["settled"] == (round(wanted["settled"] / total["settled"], 3)
                                                 if total["settled"] else None)
        assert sum(g["share"]["applications"] for g in found["groups"]) == pytest.approx(1, abs=0.003)
        assert found["total"]["share"] is None

    async def test_asked_through_the_api(self, api, sessions, a_year_earlier):
        committee_id, _ = a_year_earlier
        answer = await api.get("/statistics", params={"committee_id": committee_id, "from": "2026-03-01",
                                                      "to": "2026-04-30", "compare": "true"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["same_period_last_year"]["total"]["outcomes"]["applications"] == 2


def today() -> date:
    return datetime.now(SHANGHAI).date()


class TestOnTheRealStack:
    async def test_every_figure_of_cases_carried_through_the_api(self, api: httpx.AsyncClient, sessions):
        city = make_city(sessions)
        add_expert(sessions, city, "law", ["law"])
        stories: list[Story] = []

        async def case(*steps: tuple[str, dict[str, Any]], claim: str = "120000.00", **changes: Any) -> Story:
            body = linked_to(city.respondent, committee_id=city.committee_id, claim_amount=claim, **{**JOINT, **changes})
            made = await api.post("/cases", json=body)
            assert made.status_code == 201, made.text
            story = Story(case_id=made.json()["id"], registered=today(), claim=Decimal(claim),
                          department=body.get("department", "unknown"), kind=body.get("dispute_kind", "unknown"))
            stories.append(story)
            for event, payload in steps:
                await ok(api, story.case_id, event, payload)
                story.accepted = today() if event == "accept" else story.accepted
            return story

        accept = [("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})]
        signed = [("sign", signature) for signature in SIGNATURES]

        # Settled and performed: an extension and an appraisal (Reg 38), the insurer pays most, judicial
        # confirmation applied for (PML 33), a follow-up visit
        a = await case(*accept, ("extend-deadline", EXTENSION), ("start-appraisal", APPRAISAL),
                       ("finish-appraisal", OPINION), ("draft-agreement", terms(("60000.00", INSURER),
                                                                                ("26500.50", INSTITUTION))), *signed,
                       ("record-judicial-confirmation", {"applied": True, "applied_on": today().isoformat(),
                                                         "court": "上海市黄浦区人民法院", "result": "pending"}),
                       department="obstetrics", dispute_kind="diagnosis_treatment", insurer={"name": INSURER})
        for term, amount, payer in ((1, "60000.00", INSURER), (2, "26500.50", INSTITUTION), (3, None, INSTITUTION)):
            await ok(api, a.case_id, "record-payment", {"term": term, "amount": amount, "paid_on": today().isoformat(),
                                                        "payer": payer, "proof": "银行转账回单"})  # 3: the apology
        await ok(api, a.case_id, "confirm-performance", {})
        await ok(api, a.case_id, "record-followup", FOLLOWUP)
        a.extensions, a.pauses, a.judicial, a.followups = [(today(), 15)], [[today(), today()]], today(), [today()]
        a.terms, a.payments = [(Decimal("60000.00"), "insurer"), (Decimal("26500.50"), "institution")], \
            [(today(), Decimal("60000.00")), (today(), Decimal("26500.50"))]
        a.performance, a.performance_on = "performed", today()
        ends(a, "settled", today())

        # Settled, its payment overdue (PML 31: its day was yesterday) and still being performed
        overdue = terms(("40000.00", INSTITUTION))
        overdue["terms"][0]["deadline"] = (today() - timedelta(days=1)).isoformat()
        b = await case(*accept, ("draft-agreement", overdue), *signed, department="orthopedics", dispute_kind="nursing",
                       claim="60000.00")
        b.terms = [(Decimal("40000.00"), "institution")]
        ends(b, "settled", today())

        async def flagged() -> bool:
            return bool((await case_of(api, b.case_id))["payment_overdue"])

        await eventually(flagged, "the overdue payment (its timer fires at once)")

        # Settled, not performed: referred to court (PML 32)
        c = await case(*accept, ("draft-agreement", terms(("20000.00", "医方"))), *signed,
                       ("record-nonperformance", {"reason": "医方逾期未付款"}), department="orthopedics")
        c.terms, c.performance, c.performance_on = [(Decimal("20000.00"), "institution")], "referred_to_court", today()
        ends(c, "settled", today())

        # Rejected: reasons 6 and 8; a refusal (PML 17: reason 1)
        ends(await case(("submit-for-review", {}), ("reject", {"reasons": [6, 8], "reason_text": "患方已向法院起诉"}),
                        claim="3000.00"), "rejected", today(), reasons=[6, 8])
        ends(await case(("request-consent", {"method": "letter"}),
                        ("record-refusal", {"refused_by": "李院长", "method": "written"}),
                        application_type="one_side", applicant_side="patient", department="pediatrics"),
             "rejected", today(), reasons=[1])
        # Declared failed (PML 26); withdrawn (PML 23); a court accepted it before acceptance (Reg 31¶4)
        ends(await case(*accept, ("declare-failed", {"reason": "双方分歧过大"}), department="pediatrics"),
             "failed_declared", today())
        ends(await case(*accept, ("terminate", WITHDRAWAL), department="obstetrics"), "terminated", today(),
             ground="party_withdrew")
        ends(await case(("terminate", COURT_ACCEPTED)), "terminated", today(), ground="court_accepted")

        # Still in mediation, with an expert's answer to a consultation (Reg 33)
        d = await case(*accept, department="obstetrics", dispute_kind="diagnosis_treatment")
        asked = await ok(api, d.case_id, "request-consultation", {"specialties": ["law"], "question": QUESTION})

        async def drawn() -> bool:
            panel = (await api.get(f"/panels/{asked['panel_id']}")).json()
            return all(s["status"] != "drawing" for s in panel["slots"])

        await eventually(drawn, "the draw")
        [slot] = (await api.get(f"/panels/{asked['panel_id']}")).json()["slots"]
        expert = {"X-Actor-Id": slot["expert_id"], "X-Actor-Name": quote("专家"), "X-Actor-Role": "expert"}
        for action, body in (("accept", {}), ("opinion", {"fault": "存在延误", "causation": "有因果关系",
                                                           "liability_percent": 60})):
            answered = await api.post(f"/me/invitations/{slot['invitation_id']}/{action}", json=body, headers=expert)
            assert answered.status_code == 200, answered.text

        period = (today().replace(day=1) - timedelta(days=1)).replace(day=1), today() + timedelta(days=1)
        params = {"committee_id": city.committee_id, "from": period[0].isoformat(), "to": period[1].isoformat()}
        response = await api.get("/statistics", params={**params, "group_by": "department"})
        assert response.status_code == 200, response.text
        found = response.json()
        assert found["committee_ids"] == [city.committee_id] and found["group_by"] == "department"
        assert_figures(found["total"], expected(stories, period))
        # what the stories do not hold: one panel asked for, one expert's answer, one payment overdue
        assert {k: found["total"]["activity"][k] for k in ("panels", "expert_answers", "overdue_payments")} == {
            "panels": 1, "expert_answers": 1, "overdue_payments": 1}
        assert found["total"]["outcomes"]["settled_in_performance"] == 1
        assert found["total"]["amounts"]["agreed_by_payer"] == {"institution": "86500.50", "insurer": "60000.00",
                                                                "other": "0.00"}
        for group in found["groups"]:
            assert_figures(group, expected([s for s in stories if s.department == group["key"]], period))
        assert {g["key"] for g in found["groups"]} == {s.department for s in stories}

        by_kind = (await api.get("/statistics", params={**params, "group_by": "kind"})).json()
        for group in by_kind["groups"]:
            assert_figures(group, expected([s for s in stories if s.kind == group["key"]], period))

        # The registration's facts are on the case, with their labels
        shown = await case_of(api, a.case_id)
        assert (shown["department"], shown["department_label"], shown["dispute_kind_label"], shown["harm"]) == (
            "obstetrics", "产科", "诊疗", "unknown")

    async def test_the_vocabularies_are_checked_and_the_period_bounded(self, api: httpx.AsyncClient, sessions):
        city = make_city(sessions)
        refused = await api.post("/cases", json=registration(committee_id=city.committee_id, department="astrology"))
        assert refused.status_code == 422 and "obstetrics" in refused.text  # the allowed codes are named
        for bad in ({"harm": "bruise"}, {"dispute_kind": "fees"}, {"institution_level": "fourth"},
                    {"department": "law"}):  # law is in the pool, not a clinical department
            assert (await api.post("/cases", json=registration(committee_id=city.committee_id, **bad))
                    ).status_code == 422, bad
        registered = await api.post("/cases", json=registration(committee_id=city.committee_id,
                                                                institution_level="tertiary", harm="death"))
        assert registered.status_code == 201, registered.text
        assert (registered.json()["institution_level_label"], registered.json()["harm_label"]) == ("三级", "死亡")

        answer = await api.get("/statistics", params={"committee_id": city.committee_id})
        assert answer.status_code == 200, answer.text
        month = today().replace(day=1)
        assert answer.json()["period_from"] == month.isoformat()  # the current month by default
        assert answer.json()["total"]["outcomes"]["applications"] == 1
        for params in ({"from": "2026-03-01", "to": "2026-02-28"}, {"from": "2023-01-01", "to": "2026-01-01"},
                       {"group_by": "weekday"}):
            assert (await api.get("/statistics", params=params)).status_code == 422, params
        assert (await api.get("/statistics", params={"committee_id": "no-such-committee"})).status_code == 404
        assert (await api.get("/statistics", params={"city": "no-such-city"})).status_code == 404
        assert (await api.get("/statistics", params={"committee_id": city.committee_id,
                                                     "city": "no-such-city"})).status_code == 404
        for params in ({"from": "0001-01-01", "to": "0001-01-02"}, {"to": "9999-12-31"}, {"from": "1900-01-01"}):
            refused = await api.get("/statistics", params=params)  # outside the dates a case can name, or too long
            assert refused.status_code == 422 and refused.json()["errors"][0]["message"].startswith(
                "Value error"), params


# ------------------------------------------------------------------ reach ---------------------------------------
class TestReach:
    """A committee's auditor and director count their committee, a city's auditor the committees of their city, an
    admin every one; another committee is 403, and nothing of it is counted (Reg 42)."""

    async def test_an_auditor_counts_only_what_is_within_reach(self, production_api, sessions):  # noqa: F811
        city, elsewhere = make_city(sessions), make_city(sessions)
        first, second = city.committee_id, f"{city.committee_id}b"
        with transaction(sessions) as session:
            session.add(Committee(id=second, name=f"{city.name}第二医疗纠纷人民调解委员会", short_name="二",
                                  city=city.name))
        tag = uuid.uuid4().hex[:6]
        accounts = {
            "intake-1": ("intake", {"committee_id": first}), "intake-2": ("intake", {"committee_id": second}),
            "auditor-1": ("auditor", {"committee_id": first}), "auditor-city": ("auditor", {"city": city.name}),
            "director-2": ("director", {"committee_id": second}), "admin": ("admin", {}),
            "auditor-elsewhere": ("auditor", {"city": elsewhere.name}),
        }
        headers = {}
        for name, (role, scope) in accounts.items():
            add_account(sessions, f"{name}-{tag}", role, **scope)
            headers[name] = await log_in(production_api, f"{name}-{tag}")
        for committee, intake, count in ((first, "intake-1", 2), (second, "intake-2", 1)):
            for _ in range(count):
                made = await production_api.post("/cases", json=registration(committee_id=committee),
                                                  headers=headers[intake])
                assert made.status_code == 201, made.text

        async def figures(who: str, **params: str) -> tuple[int, list[str], dict[str, int]]:
            response = await production_api.get("/statistics", params=params, headers=headers[who])
            assert response.status_code == 200, (who, params, response.text)
            found = response.json()
            return (found["total"]["outcomes"]["applications"], found["committee_ids"],
                    {g["key"]: g["outcomes"]["applications"] for g in found["groups"]})

        async def refused(who: str, **params: str) -> None:
            response = await production_api.get("/statistics", params=params, headers=headers[who])
            assert response.status_code == 403 and response.json()["code"] == "forbidden", (who, params)

        assert await figures("auditor-1") == (2, [first], {})
        assert await figures("auditor-1", city=city.name) == (2, [first], {})  # the city's committees in reach
        await refused("auditor-1", committee_id=second)
        assert await figures("auditor-city", group_by="committee") == (3, sorted([first, second]),
                                                                       {first: 2, second: 1})
        assert await figures("auditor-city", committee_id=second) == (1, [second], {})
        assert await figures("director-2") == (1, [second], {})
        await refused("director-2", committee_id=first)
        await refused("auditor-elsewhere", city=city.name)
        await refused("auditor-elsewhere", committee_id=first)
        assert (await figures("auditor-elsewhere"))[:2] == (0, [elsewhere.committee_id])
        assert await figures("admin", city=city.name, group_by="committee") == (3, sorted([first, second]),
                                                                                {first: 2, second: 1})
        for role in ("intake-1",):  # statistics are the director's, the auditors' and the admins'
            response = await production_api.get("/statistics", headers=headers[role])
            assert response.status_code == 403


class TestACityByCommittee:
    async def test_every_committee_of_the_city_is_listed_none_left_out_for_having_no_case(self, api):
        city = f"测试市{uuid.uuid4().hex[:6]}"
        admin = {"X-Actor-Role": "admin"}
        ids = [f"zz{uuid.uuid4().hex[:8]}" for _ in range(2)]
        for n, committee_id in enumerate(sorted(ids, reverse=True)):  # added in the other order
            created = await api.post("/committees", json={"id": committee_id, "name": f"{city}第{n}医疗纠纷人民调解委员会",
                                                          "short_name": f"测{n}", "city": city}, headers=admin)
            assert created.status_code == 201, created.text
        busy, idle = sorted(ids)[1], sorted(ids)[0]
        made = await api.post("/cases", json=registration(committee_id=busy))
        assert made.status_code == 201, made.text
        answer = await api.get("/statistics", params={"city": city, "group_by": "committee"}, headers=admin)
        assert answer.status_code == 200, answer.text
        groups = answer.json()["groups"]
        assert [g["key"] for g in groups] == sorted(ids)  # by id, the committee without a case included
        assert {g["key"]: g["outcomes"]["applications"] for g in groups} == {busy: 1, idle: 0}
