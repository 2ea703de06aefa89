"""A re-filed dispute (shared/DOMAIN.md edge cases, rev 2; reject reason 7, "already mediated by a committee"). Pure.

A registration is a possible duplicate of an earlier case when it names the same patient (the same identity number,
or the same name and birth date), the same institution, and treatment periods that overlap. A period that was not
given overlaps every period: staff then confirm, with a reason, that the dispute is a new one.

The patient is compared by keys: SHA-256 digests of the normalised identity number and of name plus birth date, so
that the indexed columns carry no identity number. The institution is compared by its pool registry id when both
cases are linked, otherwise by its name, normalised (full-width forms and spaces folded).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

_NAMESPACE = "mediation.duplicates.v1"


def _digest(kind: str, text: str) -> str:
    return hashlib.sha256(f"{_NAMESPACE}:{kind}:{text}".encode()).hexdigest()


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def patient_keys(patient: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(identity-number key, name-and-birth-date key); a key is None when its parts were not given."""
    id_number = (patient.get("id_number") or "").strip().upper()
    name, born = _fold(patient.get("name") or ""), patient.get("birth_date")
    return (
        _digest("id", id_number) if id_number else None,
        _digest("name-born", f"{name}|{born}") if name and born else None,
    )


def institution_key(institution: Mapping[str, Any]) -> str:
    return _fold(institution.get("name") or "")


def same_institution(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    linked_a, linked_b = a.get("pool_institution_id"), b.get("pool_institution_id")
    if linked_a and linked_b:
        return bool(linked_a == linked_b)
    return institution_key(a) == institution_key(b)


def _period(registration: Mapping[str, Any]) -> tuple[date, date] | None:
    period = registration.get("treatment_period")
    if not period:
        return None
    start = date.fromisoformat(str(period["start"]))
    return start, date.fromisoformat(str(period["end"])) if period.get("end") else start


def periods_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """The treatment periods of two registrations overlap; an unknown period may overlap anything."""
    first, second = _period(a), _period(b)
    if first is None or second is None:
        return True
    return first[0] <= second[1] and second[0] <= first[1]


def is_possible_duplicate(new: Mapping[str, Any], earlier: Mapping[str, Any]) -> bool:
    """Two registrations (as CaseCreate dumps them) name the same patient, institution and treatment."""
    keys_new, keys_earlier = patient_keys(new["patient"]), patient_keys(earlier["patient"])
    same_patient = any(k is not None and k == e for k, e in zip(keys_new, keys_earlier, strict=True))
    return same_patient and same_institution(new["institution"], earlier["institution"]) and periods_overlap(new, earlier)
