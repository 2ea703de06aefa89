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

# Written as people write them: in one run, or in groups with spaces or hyphens between (310101 19800101 1234,
# 138 0013 8000, 021-6321 1234, (021)63211234); full-width digits are read as digits (see `_PLAIN`).
_SEP = r"[ \-]?"
ID_NUMBER = re.compile(
    rf"(?<![\dXx])(?:\d{_SEP}){{17}}[\dXx](?![\dXx])|(?<!\d)\d{{6}}{_SEP}\d{{6}}{_SEP}\d{{3}}(?!\d)"
)
PHONE = re.compile(
    rf"(?<!\d)(?:\+?86{_SEP})?1[3-9]\d(?:{_SEP}\d{{4}}){{2}}(?!\d)"
    rf"|(?:\(0\d{{2,3}}\)|(?<!\d)0\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}\d{{4}}(?!\d)"
)
# Full-width digits, letters X and signs, one for one (the text keeps its length: a match maps back exactly).
_PLAIN = str.maketrans("０１２３４５６７８９Ｘｘ＋－（）　", "0123456789Xx+-() ")


def replace_matches(text: str, pattern: re.Pattern[str], mask: Any) -> str:
    """`text` with every match of `pattern` replaced by `mask(match text)`, full-width digits read as digits."""
    plain = text.translate(_PLAIN)
    out, last = [], 0
    for match in pattern.finditer(plain):
        out += [text[last:match.start()], mask(text[match.start():match.end()])]
        last = match.end()
    return "".join(out) + text[last:]


def hide_numbers(text: str, mask: Any = lambda _: "***") -> str:
    """Identity and phone numbers in `text` replaced, however they are written."""
    return replace_matches(replace_matches(text, ID_NUMBER, mask), PHONE, mask)


def masked_name(name: str) -> str:
    name = name.strip()
    return f"{name[0]}某" if name else "某"


def anonymise(text: str, names: Iterable[str]) -> str:
    """`text` with every given name replaced by surname + 某, and identity and phone numbers hidden."""
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        text = text.replace(name, masked_name(name))
    return hide_numbers(text)


def patient_side_names(registration: dict[str, Any]) -> list[str]:
    patient = registration.get("patient", {})
    return [patient.get("name", ""), *(r.get("name", "") for r in registration.get("patient_representatives", []))]


def age_on(birth: str | None, day: date) -> int | None:
    if not birth:
        return None
    born = date.fromisoformat(birth)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
