"""What the reports group cases by (issue 17): the kind of dispute, the institution's level and the harm, recorded
at registration; the clinical department is the pool's vocabulary of clinical departments (domain/specialties.py).
Codes are stored; labels are what users and reports print. `unknown` is what a case registered before these facts
were recorded carries (and what a registration that does not know them yet says).

The kinds follow the grouping health commissions and the committees' annual reports use for medical disputes:
diagnosis and treatment (诊疗), nursing (护理), drugs (药品), medical devices (医疗器械), management and service
(管理服务, e.g. communication, waiting, billing, records), other (其他).
"""

from __future__ import annotations

from domain.specialties import CLINICAL

UNKNOWN = "unknown"

DISPUTE_KINDS: dict[str, str] = {
    "diagnosis_treatment": "诊疗",
    "nursing": "护理",
    "drugs": "药品",
    "medical_devices": "医疗器械",
    "management_service": "管理服务",
    "other": "其他",
    UNKNOWN: "未登记",
}

# 医院等级 (the National Health Commission's grading): tertiary, secondary, primary; other (clinics, private
# outpatient departments without a grade).
INSTITUTION_LEVELS: dict[str, str] = {
    "tertiary": "三级",
    "secondary": "二级",
    "primary": "一级",
    "other": "其他",
    UNKNOWN: "未登记",
}

# The outcome of the treatment the dispute is about, as the patient side states it.
HARMS: dict[str, str] = {
    "death": "死亡",
    "disability": "残疾",
    "other_harm": "其他损害",
    UNKNOWN: "未登记",
}

DEPARTMENTS: dict[str, str] = {**CLINICAL, UNKNOWN: "未登记"}


def label(vocabulary: dict[str, str], code: str | None) -> str:
    return vocabulary.get(code or UNKNOWN, code or UNKNOWN)
