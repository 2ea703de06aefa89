"""Who the parties of a case are (shared/DOMAIN.md, edge cases): the patient, or, when the patient has died, each
close relative who applied (the heirs are parties in their own right, Civil Code 173), and the institution."""

from __future__ import annotations

import unicodedata
from typing import Any


def heirs_of(registration: dict[str, Any]) -> list[dict[str, Any]]:
    """A deceased patient's close relatives who applied (role "relative"); none while the patient lives."""
    if not registration["patient"].get("deceased"):
        return []
    return [rep for rep in registration.get("patient_representatives", []) if rep.get("role", "relative") == "relative"]


def agents_of_heirs(registration: dict[str, Any]) -> list[tuple[str, str]]:
    """(agent, heir): who may sign for which of a deceased patient's heirs. An agent (role agent, with an
    authorisation) acts only for the heirs who authorised it (`acts_for`, Civil Code 161-165); none while the
    patient lives, nor for an agent registered without `acts_for` (before it existed)."""
    heirs = {heir["name"] for heir in heirs_of(registration)}
    return [(rep["name"], heir) for rep in registration.get("patient_representatives", [])
            if rep.get("role") == "agent" and rep.get("authorisation")
            for heir in rep.get("acts_for") or [] if heir in heirs]


def representatives_refused(*, deceased: bool, minor_or_incapacitated: bool,
                            representatives: list[dict[str, Any]]) -> str | None:
    """Why the patient side's representatives cannot stand as they are, or None (Civil Code 173, 161-165): a
    deceased patient's close relatives (heirs) are the parties and an agent acts for the heirs who authorised
    it, never for the deceased; a deceased patient has no guardian; a living minor or incapacitated patient has
    one; an agent holds an authorisation. The registration and its amendments are held to the same rules."""
    roles = [rep.get("role", "relative") for rep in representatives]
    if deceased and not representatives:
        return "patient_representatives: a deceased patient's relatives apply through representatives"
    if deceased and "relative" not in roles:
        return ("patient_representatives: a deceased patient's close relatives (heirs) are the parties: name at "
                "least one with role relative; an agent acts for them, never for the deceased (Civil Code 173)")
    if deceased and "guardian" in roles:
        return ("patient_representatives: a deceased patient has no guardian; name the close relatives (heirs) "
                "with role relative (Civil Code 173)")
    if minor_or_incapacitated and not deceased and "guardian" not in roles:
        return "patient_representatives: a minor or incapacitated patient needs a guardian"
    heirs = {rep["name"] for rep, role in zip(representatives, roles) if role == "relative"}
    for rep, role in zip(representatives, roles):
        if role == "agent" and not rep.get("authorisation"):
            return f"patient_representatives: agent {rep['name']} needs an authorisation (授权委托书)"
        if rep.get("acts_for") and role != "agent":
            return f"patient_representatives: acts_for is for an agent; {rep['name']} is a {role}"
        if deceased and role == "agent" and not (rep.get("acts_for") and set(rep["acts_for"]) <= heirs):
            return (f"patient_representatives: agent {rep['name']} acts for the heirs who authorised it, never for "
                    "the deceased: name them in acts_for, each a representative with role relative (Civil Code 173)")
    return None


def party_count(registration: dict[str, Any]) -> int:
    """The parties an agreement names: each heir (or the patient), and the institution."""
    return max(len(heirs_of(registration)), 1) + 1


def copies_needed(registration: dict[str, Any]) -> int:
    """PML 29: one copy of the agreement per party, and one for the committee."""
    return party_count(registration) + 1


# ---------------------------------------------------------------- names, as searched ------------------------
_DOTS = ("•", "・", "‧", "∙", ".")  # written for the interpunct of a transcribed name (阿依古丽·买买提)


def normalise_name(name: str) -> str:
    """A name as it is stored for search and as a search for it is read: NFKC (full-width letters and digits as
    their plain forms), every space removed (王 芳 is 王芳), the interpuncts of transcribed names as one (·), and
    Latin letters in lower case."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if not ch.isspace())
    for dot in _DOTS:
        text = text.replace(dot, "·")
    return text.casefold()


def party_names(registration: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, normalised name) of everyone a registration names as a party or for one: the patient, each heir
    or other representative, the institution, an insurer. A registration without some of them (one made before
    a field existed) gives what it has."""
    found: list[tuple[str, str]] = []
    patient = registration.get("patient") or {}
    institution = registration.get("institution") or {}
    insurer = registration.get("insurer") or {}
    found.append(("patient", patient.get("name", "")))
    heirs = heirs_of(registration) if patient else []
    for rep in registration.get("patient_representatives") or []:
        found.append(("heir" if any(rep is heir for heir in heirs) else "representative", rep.get("name", "")))
    found.append(("institution", institution.get("name", "")))
    found.append(("insurer", insurer.get("name", "")))
    seen: set[tuple[str, str]] = set()
    names = []
    for role, name in found:
        key = (role, normalise_name(name or "")[:200])
        if key[1] and key not in seen:
            seen.add(key)
            names.append(key)
    return names
