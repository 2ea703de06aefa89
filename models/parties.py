"""Who the parties of a case are (shared/DOMAIN.md, edge cases): the patient, or, when the patient has died, each
close relative who applied (the heirs are parties in their own right, Civil Code 173), and the institution."""

from __future__ import annotations

from typing import Any


def heirs_of(registration: dict[str, Any]) -> list[dict[str, Any]]:
    """A deceased patient's close relatives who applied (role "relative"); none while the patient lives."""
    if not registration["patient"].get("deceased"):
        return []
    return [rep for rep in registration.get("patient_representatives", []) if rep.get("role", "relative") == "relative"]


def party_count(registration: dict[str, Any]) -> int:
    """The parties an agreement names: each heir (or the patient), and the institution."""
    return max(len(heirs_of(registration)), 1) + 1


def copies_needed(registration: dict[str, Any]) -> int:
    """PML 29: one copy of the agreement per party, and one for the committee."""
    return party_count(registration) + 1
