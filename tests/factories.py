"""Payloads a committee's staff would send, in Chinese, for the tests."""

from __future__ import annotations

import copy
from typing import Any

from api.routes.cases import REGISTRATION_EXAMPLE

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
            "deadline_text": "协议生效之日起10个工作日内",
        }
    ],
    "copies": 3,
}


def registration(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(REGISTRATION)
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
