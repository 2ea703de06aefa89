"""Payloads a committee's staff would send, in Chinese, for the tests."""

from __future__ import annotations

import copy
import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from api.routes.cases import REGISTRATION_EXAMPLE

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The registration the OpenAPI docs show, with the institution's agent added.
REGISTRATION: dict[str, Any] = copy.deepcopy(REGISTRATION_EXAMPLE)
REGISTRATION["institution"].update(agent="张律师", agent_title="医院法律顾问")

AGREEMENT: dict[str, Any] = {
    "facts": "患者术后切口感染，经再次手术治愈。",
    "points_in_dispute": "医方诊疗行为是否存在过错及赔偿数额。",
    "responsibilities": "医方对患者切口感染承担主要责任，患方对术后护理不当承担次要责任。",
    "terms": [
        {
            "text": "医方一次性向患方支付医疗费、误工费、护理费等各项损失",
            "amount": "86500.50",
            "payer": "上海市某区人民医院",
            "manner": "银行转账至患方指定账户",
            "deadline": "2026-12-31",
        }
    ],
}


def new_patient_id() -> str:
    """A patient of one's own (310101********1234 once masked, like the example): two registrations of the same
    patient and institution are a possible duplicate (rev 2), so each test's case names another patient."""
    return f"310101{secrets.randbelow(10**8):08d}1234"


def registration(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(REGISTRATION)
    data["patient"]["id_number"] = new_patient_id()
    data.update(changes)
    return data


def agreement(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(AGREEMENT)
    data.update(changes)
    return data


SIGNATURES = [
    {"signer": "patient", "signed_by": "王大明", "method": "signature"},
    {"signer": "institution", "signed_by": "上海市某区人民医院", "method": "seal"},
    {"signer": "mediator", "signed_by": "陈调解员"},
    {"signer": "committee_seal", "signed_by": "赵主任", "method": "seal"},
]

# Reg 34: an appraisal both sides commission, and its opinion (Reg 36)
APPRAISAL = {
    "institution": "上海市某司法鉴定中心",
    "commissioned_by": "both_parties",
    "matters": "诊疗行为有无过错、与损害后果的因果关系及原因力大小",
    "fees_advanced": {"patient": "3000.00", "institution": "3000.00"},
}
OPINION = {
    "opinion_number": "沪某司鉴所〔2026〕临鉴字第88号",
    "medical_damage": True,
    "fault": True,
    "causation": True,
    "liability_degree": "main",
    "summary": "医方术中消毒不规范，与切口感染存在因果关系，系主要原因。",
}
# PML 23 (rev 2 of the documents): a withdrawal names the side, who withdrew and how
WITHDRAWAL = {"ground": "party_withdrew", "withdrawn_by_side": "patient", "withdrawn_by": "王大明",
              "withdrawal_form": "written", "detail": "患方书面撤回调解申请"}
COURT_ACCEPTED = {"ground": "court_accepted", "body": "上海市黄浦区人民法院", "body_case_number": "（2026）沪0101民初12345号",
                  "body_accepted_on": "2026-11-18", "detail": "某区人民法院已立案受理"}
EXTENSION = {"extra_days": 15, "patient_consent": True, "institution_consent": True, "approved_by": "赵主任",
             "reason": "双方同意延长调解期限，以便补充提交病历资料"}
FOLLOWUP = {"visitor": "周调解员", "visited_at": "2026-11-20T10:00:00+08:00", "method": "phone",
            "visited": "王大明（患者之子）", "performance": "performed", "satisfaction": "satisfied"}


def payment(**changes: Any) -> dict[str, Any]:
    """PML 31: the whole of the agreement's one monetary term, paid today (as record-payment takes it)."""
    term = AGREEMENT["terms"][0]
    data = {"term": 1, "amount": term["amount"], "paid_on": datetime.now(SHANGHAI).date().isoformat(),
            "payer": term["payer"], "proof": "银行转账回单 No. 2026121000001"}
    data.update(changes)
    return data


def as_of_now(event: str, body: dict[str, Any]) -> dict[str, Any]:
    """A step's body as sent now: a payment made at import is paid today, when it is recorded (a suite that runs
    across midnight in Shanghai signs the agreement on the next day, and a payment is never before it)."""
    if event in ("record_payment", "record-payment") and "paid_on" in body:
        return {**body, "paid_on": datetime.now(SHANGHAI).date().isoformat()}
    return body


def linked_to(institution_id: str, **changes: Any) -> dict[str, Any]:
    """A registration whose respondent is linked to the pool's registry (Reg 37: recusal by id)."""
    data = registration(**changes)
    data["institution"] = {**data["institution"], "pool_institution_id": institution_id}
    return data
