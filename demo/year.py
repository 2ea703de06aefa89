"""A year of a city's medical disputes, planned act by act (`mediation demo year`): what each case was, what
happened to it and when. Pure and seeded: the same arguments plan the same year. demo/entry.py enters the plan
through the API as cases entered from paper records (X-Occurred-At), so that every case runs through its real
workflow and the reports read back what was planned.

The stated distributions (shares of the accepted cases unless said otherwise), close to what Shanghai's and
Tianjin's committees report (DOMAIN.md "Volumes"):

| What | Distribution |
|---|---|
| Settled (调解成功) | `settled_share` (0.83 for Shanghai) of the accepted cases, exactly (rounded) |
| The others | declared failed 45%, terminated 30%, failed by the deadline (Reg 38) 25% |
| Settled, then | performance confirmed 90%, nonperformance referred to court 4%, still being performed 6% |
| Rejected applications | 6% as many as the accepted ones, on top (reasons 6 and 8: before a court, out of scope) |
| Appraisal (Reg 34) | 12% of the accepted cases pause their clock for 10–25 working days |
| Extension (Reg 38) | 8% of the settled and declared failed cases, 15 working days |
| Working days to the end | settled: 8–28; declared failed: 10–29; terminated: 3–20 |
| Department | weighted: general surgery, obstetrics, orthopedics, emergency, internal medicine first |
| Kind of dispute | 诊疗 68%, 护理 9%, 管理服务 9%, 药品 6%, 医疗器械 4%, 其他 4% |
| Institution's level | 三级 52%, 二级 33%, 一级 8%, 其他 7% |
| Harm | death 14%, disability 31%, other harm 55% |
| Claimed | log-normal, median ¥150,000; agreed: 25–70% of the claim; an insurer pays 35% of agreements |

Registrations fall on working days from 2 January to the end of August, so that every case that ends, ends in
the year; each committee's share follows its district's size.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.clock import WorkingDayCalendar
from domain.time import SHANGHAI

# The committees of Shanghai: one per district, and the city's own (17), with each one's weight in the year.
DISTRICTS: tuple[tuple[str, str, str, int], ...] = (
    ("huangpu", "黄浦区", "沪黄", 6), ("xuhui", "徐汇区", "沪徐", 9), ("changning", "长宁区", "沪长", 5),
    ("jingan", "静安区", "沪静", 7), ("putuo", "普陀区", "沪普", 6), ("hongkou", "虹口区", "沪虹", 5),
    ("yangpu", "杨浦区", "沪杨", 7), ("minhang", "闵行区", "沪闵", 9), ("baoshan", "宝山区", "沪宝", 7),
    ("jiading", "嘉定区", "沪嘉", 5), ("pudong", "浦东新区", "沪浦", 14), ("jinshan", "金山区", "沪金", 3),
    ("songjiang", "松江区", "沪松", 5), ("qingpu", "青浦区", "沪青", 3), ("fengxian", "奉贤区", "沪奉", 3),
    ("chongming", "崇明区", "沪崇", 2), ("shanghai", "市级", "沪市", 4),
)
OTHERS = {"failed_declared": 45, "terminated": 30, "failed_deadline": 25}
AFTER_SETTLEMENT = {"performed": 90, "referred_to_court": 4, "in_performance": 6}
DEPARTMENTS = {"general_surgery": 14, "obstetrics": 12, "orthopedics": 12, "emergency": 8, "internal_medicine": 7,
               "gynecology": 5, "pediatrics": 5, "neurosurgery": 4, "cardiology": 4, "oncology": 4, "urology": 3,
               "ophthalmology": 3, "stomatology": 3, "plastic_surgery": 3, "cardiothoracic_surgery": 3,
               "critical_care": 2, "anesthesiology": 2, "neonatology": 2, "traditional_chinese_medicine": 2,
               "respiratory": 2}
KINDS = {"diagnosis_treatment": 68, "nursing": 9, "management_service": 9, "drugs": 6, "medical_devices": 4,
         "other": 4}
LEVELS = {"tertiary": 52, "secondary": 33, "primary": 8, "other": 7}
HARMS = {"death": 14, "disability": 31, "other_harm": 55}
HOSPITALS = {"tertiary": ("中心医院", "第一人民医院", "中医医院"), "secondary": ("人民医院", "妇幼保健院", "中西医结合医院"),
             "primary": ("社区卫生服务中心",), "other": ("门诊部", "口腔诊所")}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("建国", "秀英", "志强", "丽华", "伟", "敏", "军", "静", "磊", "芳", "洋", "娟", "勇", "艳", "杰", "霞")


@dataclass(frozen=True)
class Act:
    """One act of a case as the records give it: the endpoint (`register`, or an action's path), its time, its
    body and the role of who did it."""

    action: str
    at: datetime
    body: dict[str, Any] = field(default_factory=dict)
    role: str = "intake"


@dataclass(frozen=True)
class PlannedCase:
    committee_id: str
    outcome: str  # settled_performed, settled_referred_to_court, settled_in_performance, failed_declared,
    # failed_deadline, terminated, rejected
    acts: tuple[Act, ...]
    agreed: Decimal = Decimal(0)
    appraisal: bool = False


@dataclass(frozen=True)
class YearPlan:
    year: int
    city: str
    committees: tuple[tuple[str, str, str], ...]  # id, name, short name
    cases: tuple[PlannedCase, ...]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for case in self.cases:
            found[case.outcome] = found.get(case.outcome, 0) + 1
        return found


def plan_year(*, year: int, accepted: int, settled: int | None = None, settled_share: float = 0.83,
              seed: int = 2025, calendar: WorkingDayCalendar | None = None) -> YearPlan:
    """`accepted` cases accepted in `year`, `settled` of them settled (by default `round(accepted * settled_share)`),
    and 6% as many applications rejected."""
    if accepted < 1:
        raise ValueError("a year has at least one accepted case")
    if not 0 <= settled_share <= 1:
        raise ValueError("the settled share is between 0 and 1")
    settled = round(accepted * settled_share) if settled is None else settled
    if not 0 <= settled <= accepted:
        raise ValueError("the settled cases are some of the accepted ones")
    rng = random.Random(seed)
    calendar = calendar or WorkingDayCalendar()
    outcomes = _settled_outcomes(rng, settled) + _apportion(rng, OTHERS, accepted - settled)
    outcomes += ["rejected"] * round(accepted * 0.06)
    rng.shuffle(outcomes)
    days = [d for d in _days(date(year, 1, 2), date(year, 8, 31)) if calendar.is_working_day(d).working]
    committees = tuple((cid, f"上海市{district}医疗纠纷人民调解委员会" if cid != "shanghai" else "上海市医疗纠纷人民调解委员会",
                        short) for cid, district, short, _ in DISTRICTS)
    weights = [w for *_, w in DISTRICTS]
    cases = tuple(_plan_case(rng, calendar, outcome, committee=rng.choices(DISTRICTS, weights)[0],
                             registered_on=rng.choice(days), number=n)
                  for n, outcome in enumerate(outcomes))
    return YearPlan(year=year, city="上海市", committees=committees, cases=cases)


def _settled_outcomes(rng: random.Random, settled: int) -> list[str]:
    return [f"settled_{kind}" for kind in _apportion(rng, AFTER_SETTLEMENT, settled)]


def _apportion(rng: random.Random, weights: dict[str, int], total: int) -> list[str]:
    """`total` outcomes in the weights' proportions (largest remainders), exactly `total` of them."""
    whole = sum(weights.values())
    shares = {k: total * w / whole for k, w in weights.items()}
    counts = {k: math.floor(v) for k, v in shares.items()}
    for k in sorted(shares, key=lambda k: shares[k] - counts[k], reverse=True)[: total - sum(counts.values())]:
        counts[k] += 1
    return [k for k, n in counts.items() for _ in range(n)]


def _days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _yuan(value: float) -> Decimal:
    return Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def _plan_case(rng: random.Random, calendar: WorkingDayCalendar, outcome: str, *,
               committee: tuple[str, str, str, int], registered_on: date, number: int) -> PlannedCase:
    committee_id, district, _, _ = committee
    level = _pick(rng, LEVELS)
    institution = f"上海市{district}{rng.choice(HOSPITALS[level])}" if committee_id != "shanghai" else \
        f"上海市{rng.choice(('第六', '第九', '第十'))}人民医院"
    patient = rng.choice(SURNAMES) + rng.choice(GIVEN)
    claim = _yuan(min(3_000_000, max(5_000, rng.lognormvariate(math.log(150_000), 0.9))))
    department = _pick(rng, DEPARTMENTS)
    registration = {
        "committee_id": committee_id,
        "application_type": "joint",
        "patient": {"name": patient, "id_number": f"3101{number:010d}{rng.randrange(1000, 9999)}"[:18],
                    "gender": rng.choice(("male", "female"))},
        "institution": {"name": institution, "legal_representative": "院长"},
        "treatment_episode": f"{registered_on.year}年在{institution}就诊",
        "facts": "患方认为医方诊疗行为存在过错，造成损害后果，双方共同申请调解。",
        "claim_amount": str(claim),
        "requests": f"要求医方赔偿各项损失共计人民币{claim}元。",
        "department": department,
        "dispute_kind": _pick(rng, KINDS),
        "institution_level": level,
        "harm": _pick(rng, HARMS),
    }
    insured = rng.random() < 0.35
    if insured:
        registration["insurer"] = {"name": "某财产保险股份有限公司上海分公司"}
    acts = [Act("register", _moment(registered_on, 9, rng.randrange(60)), registration),
            Act("submit-for-review", _moment(registered_on, 10))]
    review_day = calendar.add_working_days(registered_on, rng.randrange(1, 5)).date
    if outcome == "rejected":
        acts.append(Act("reject", _moment(review_day, 15), {"reasons": [rng.choice((6, 8))],
                                                            "reason_text": "经审查不符合受理条件"}, "director"))
        return PlannedCase(committee_id, outcome, tuple(acts))
    mediator = f"{rng.choice(SURNAMES)}调解员"
    acts.append(Act("accept", _moment(review_day, 15), {"mediators": [mediator]}, "director"))
    # Reg 38: 30 working days from acceptance, paused for an appraisal, lengthened by an agreed extension; every
    # case that ends within it plans its acts inside it, a working day to spare
    day, used, budget = review_day, 0, 29
    appraisal = outcome != "failed_deadline" and rng.random() < 0.12
    if appraisal:
        used = rng.randrange(2, 6)
        start = calendar.add_working_days(day, used).date
        acts.append(Act("start-appraisal", _moment(start, 11), {
            "institution": "上海市某司法鉴定中心", "commissioned_by": "both_parties",
            "matters": "诊疗行为有无过错、与损害后果的因果关系及原因力大小",
            "fees_advanced": {"patient": "3000.00", "institution": "3000.00"}}, "mediator"))
        end = calendar.add_working_days(start, rng.randrange(10, 26)).date
        acts.append(Act("finish-appraisal", _moment(end, 11), {
            "opinion_number": f"沪某司鉴所〔{end.year}〕临鉴字第{number + 1}号", "medical_damage": True, "fault": True,
            "causation": True, "liability_degree": rng.choice(("main", "secondary", "equal", "minor")),
            "summary": "医方诊疗行为存在过错，与损害后果存在因果关系。"}, "mediator"))
        day = end
    if outcome == "failed_deadline":  # the records stop; the deadline runs out once the entry is completed
        return PlannedCase(committee_id, outcome, tuple(acts))
    extended = outcome in ("failed_declared",) or outcome.startswith("settled")
    if extended and rng.random() < 0.08:
        step = rng.randrange(10, budget - used - 5)
        day, used, budget = calendar.add_working_days(day, step).date, used + step, budget + 15
        acts.append(Act("extend-deadline", _moment(day, 10), {
            "extra_days": 15, "patient_consent": True, "institution_consent": True, "approved_by": "主任",
            "reason": "双方同意延长调解期限"}, "director"))
    if outcome == "terminated":
        end = calendar.add_working_days(day, rng.randrange(1, min(20, budget - used))).date
        acts.append(Act("terminate", _moment(end, 16), {
            "ground": "party_withdrew", "withdrawn_by_side": "patient", "withdrawn_by": patient,
            "withdrawal_form": "written", "detail": "患方书面撤回调解申请"}, "mediator"))
        return PlannedCase(committee_id, outcome, tuple(acts), appraisal=appraisal)
    if outcome == "failed_declared":
        end = calendar.add_working_days(day, rng.randrange(min(10, budget - used - 1), budget - used)).date
        acts.append(Act("declare-failed", _moment(end, 16), {"reason": "双方对赔偿数额分歧较大，调解不成"}, "mediator"))
        return PlannedCase(committee_id, outcome, tuple(acts), appraisal=appraisal)
    # settled: drafted, signed by the four, then performed, referred to court or still being performed
    agreed = _yuan(float(claim) * rng.uniform(0.25, 0.7))
    payer = registration["insurer"]["name"] if insured else institution
    drafted = calendar.add_working_days(day, rng.randrange(3, min(19, budget - used - 3))).date
    signed = calendar.add_working_days(drafted, rng.randrange(1, 4)).date
    due = signed + timedelta(days=30)
    acts.append(Act("draft-agreement", _moment(drafted, 14), {
        "facts": "患方认为医方诊疗行为存在过错，造成损害后果。", "points_in_dispute": "医方有无过错及赔偿数额。",
        "responsibilities": "医方承担相应赔偿责任。",
        "terms": [{"text": "一次性赔偿患方各项损失", "amount": str(agreed), "payer": payer,
                   "manner": "银行转账至患方指定账户", "deadline": due.isoformat()}]}, "mediator"))
    signatures = (("patient", patient, "signature", "mediator"), ("institution", institution, "seal", "mediator"),
                  ("mediator", mediator, None, "mediator"), ("committee_seal", "主任", "seal", "director"))
    for n, (signer, by, method, role) in enumerate(signatures):
        body = {"signer": signer, "signed_by": by, **({"method": method} if method else {})}
        acts.append(Act("sign", _moment(signed, 10, n), body, role))
    kind = outcome.removeprefix("settled_")
    if kind == "performed":
        paid = signed + timedelta(days=rng.randrange(3, 28))
        acts.append(Act("record-payment", _moment(paid, 11), {
            "term": 1, "amount": str(agreed), "paid_on": paid.isoformat(), "payer": payer,
            "proof": f"银行转账回单 No. {number:08d}"}, "mediator"))
        acts.append(Act("confirm-performance", _moment(paid, 15), {}, "mediator"))
    elif kind == "referred_to_court":
        late = due + timedelta(days=rng.randrange(3, 20))
        acts.append(Act("record-nonperformance", _moment(late, 15), {"reason": "义务方逾期未履行，告知患方可向法院起诉"},
                        "mediator"))
    return PlannedCase(committee_id, outcome, tuple(acts), agreed=agreed, appraisal=appraisal)
