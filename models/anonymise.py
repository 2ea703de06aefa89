"""What an invited expert may see before accepting: the case without the patient's identity (DOMAIN.md,
"Invitations"; procurement draws reveal the project, not the people). Pure.

Names of the patient side become surname + 某 (王小明 → 王某), the way Chinese judgments anonymise people;
identity numbers and phone numbers anywhere in the text become ***.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)|(?<!\d)\d{15}(?!\d)")
PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def masked_name(name: str) -> str:
    name = name.strip()
    return f"{name[0]}某" if name else "某"


def anonymise(text: str, names: Iterable[str]) -> str:
    """`text` with every given name replaced by surname + 某, and identity and phone numbers hidden."""
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        text = text.replace(name, masked_name(name))
    return PHONE.sub("***", ID_NUMBER.sub("***", text))


def patient_side_names(registration: dict[str, Any]) -> list[str]:
    patient = registration.get("patient", {})
    return [patient.get("name", ""), *(r.get("name", "") for r in registration.get("patient_representatives", []))]


def age_on(birth: str | None, day: date) -> int | None:
    if not birth:
        return None
    born = date.fromisoformat(birth)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
