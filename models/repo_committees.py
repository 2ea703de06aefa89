"""Data access for the committees of the installation: add one, change one. Keyword-only functions; the caller
commits once (reads: models/repo.py `get_committee`, `list_committees`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.errors import Conflict, NotFound
from models.tables import Committee

CHANGEABLE = frozenset({"name", "short_name", "city", "case_number_pattern"})


def create_committee(*, session: Session, committee: Committee) -> Committee:
    """Add a committee; its id must be new (409 otherwise, also when another request added it meanwhile)."""
    if session.get(Committee, committee.id) is not None:
        raise Conflict(f"committee {committee.id!r} already exists")
    session.add(committee)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"committee {committee.id!r} already exists") from None
    return committee


def update_committee(
    *, session: Session, committee_id: str, changes: Mapping[str, Any],
    number_patterns: Mapping[str, str | None] | None = None,
) -> Committee:
    """Change the given fields (never the id), and merge `number_patterns` into the committee's (a kind given None
    returns to the default). The row is locked while it changes (PostgreSQL: FOR UPDATE), so that two changes of
    its numbering at once are merged one after the other, neither lost."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not a changeable field of a committee: {', '.join(sorted(unknown))}")
    committee = session.get(Committee, committee_id, with_for_update=True, populate_existing=True)
    if committee is None:
        raise NotFound(f"committee {committee_id!r} not found")
    for name, value in changes.items():
        setattr(committee, name, value)
    if number_patterns is not None:
        merged = {**committee.number_patterns, **number_patterns}
        committee.number_patterns = {kind: pattern for kind, pattern in merged.items() if pattern is not None}
    session.add(committee)
    session.flush()
    return committee
