"""What the committees' routes ask for: add a committee, read one with its numbering, change its names, city or
numbering. Its clock lengths have their own route (PUT /committees/{id}/policy). The patterns are checked by the
request's schema (models/schemas_committees.py) before anything is read."""

from __future__ import annotations

from sqlmodel import Session

from models import repo, repo_committees
from models.schemas_committees import CommitteeCreate, CommitteeDetail, CommitteeUpdate
from models.tables import DEFAULT_NUMBER_PATTERNS, Committee


def detail(committee: Committee) -> CommitteeDetail:
    return CommitteeDetail(
        id=committee.id, name=committee.name, short_name=committee.short_name, city=committee.city,
        policy=committee.policy, case_number_pattern=committee.case_number_pattern,
        number_patterns=dict(committee.number_patterns),
        number_patterns_in_force={kind: committee.number_pattern(kind) for kind in DEFAULT_NUMBER_PATTERNS},
    )


def create(*, session: Session, body: CommitteeCreate) -> CommitteeDetail:
    committee = Committee(id=body.id, name=body.name, short_name=body.short_name, city=body.city,
                          case_number_pattern=body.case_number_pattern, number_patterns=dict(body.number_patterns))
    return detail(repo_committees.create_committee(session=session, committee=committee))


def get(*, session: Session, committee_id: str) -> CommitteeDetail:
    return detail(repo.get_committee(session=session, committee_id=committee_id))


def update(*, session: Session, committee_id: str, body: CommitteeUpdate) -> CommitteeDetail:
    changes = body.changes()
    patterns = changes.pop("number_patterns", None)
    return detail(repo_committees.update_committee(session=session, committee_id=committee_id, changes=changes,
                                                   number_patterns=patterns))
