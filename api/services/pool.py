"""What the pool routes ask for (Reg 35): experts, institutions and groups, the pool file in and out.

The pool is kept at city level and shared by the committees of the city. Importing a file is all or nothing
unless `skip_invalid` is asked for: then the good rows are written and every bad one is reported.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlmodel import Session

from core.errors import DatabaseBusy, InvalidField
from domain import pool
from domain.specialties import CLINICAL, SPECIALTIES
from domain.time import SHANGHAI
from models import repo_pool
from models.schemas_pool import (
    AffiliationIn,
    AffiliationPublic,
    ExpertCreate,
    ExpertPublic,
    ExpertsPublic,
    ExpertUpdate,
    InstitutionCreate,
    InstitutionGroupCreate,
    InstitutionGroupPublic,
    InstitutionPublic,
    InstitutionSummary,
    PoolImportReport,
    PoolRowErrorPublic,
    RelativeIn,
    RelativePublic,
    SpecialtyPublic,
)
from models.tables import Affiliation, Expert, Institution, InstitutionGroup

MAX_CSV_BYTES = 32 * 1024 * 1024  # a pool of tens of thousands of experts


# ---------------------------------------------------------------- shapes ---------------------------------
def specialties() -> list[SpecialtyPublic]:
    return [SpecialtyPublic(code=code, label=label, kind="clinical" if code in CLINICAL else "non_clinical")
            for code, label in SPECIALTIES.items()]


def mask_id_number(value: str | None) -> str | None:
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if value and len(value) > 10 else value


def mask_phone(value: str) -> str:
    digits = value.replace(" ", "").replace("-", "")
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:] if len(digits) > 7 else value


def expert_public(
    expert: Expert, affiliations: Iterable[tuple[Affiliation, Institution]], *, masked: bool = False,
    today: date | None = None,
) -> ExpertPublic:
    """An expert as staff see them; in lists, identity and phone numbers are masked (personal information)."""
    today = today or datetime.now(SHANGHAI).date()
    hide_id = mask_id_number if masked else (lambda v: v)
    return ExpertPublic(
        id=expert.id, city=expert.city, name=expert.name, title=expert.title,
        specialties=list(expert.specialties),
        specialty_labels=[SPECIALTIES.get(code, code) for code in expert.specialties],
        region=expert.region, active=expert.active, max_concurrent=expert.max_concurrent,
        phone=mask_phone(expert.phone) if masked else expert.phone,
        email=expert.email, id_number=hide_id(expert.id_number),
        relatives=[RelativePublic(name=r.get("name", ""), relation=r.get("relation", ""),
                                  id_number=hide_id(r.get("id_number"))) for r in expert.relatives],
        affiliations=[
            AffiliationPublic(
                institution_id=a.institution_id, institution_name=i.name, group_id=i.group_id,
                started_on=a.started_on, ended_on=a.ended_on,
                current=a.ended_on is None or a.ended_on >= today,
            )
            for a, i in affiliations
        ],
        created_at=expert.created_at, updated_at=expert.updated_at,
    )


def _one(*, session: Session, expert: Expert, masked: bool = False) -> ExpertPublic:
    found = repo_pool.affiliations_of(session=session, expert_ids=[expert.id])
    return expert_public(expert, found[expert.id], masked=masked)


def _affiliations(items: Iterable[AffiliationIn]) -> tuple[pool.AffiliationRow, ...]:
    return tuple(pool.AffiliationRow(a.institution_id, a.started_on, a.ended_on) for a in items)


def _relatives(items: Iterable[RelativeIn]) -> tuple[pool.RelativeRow, ...]:
    return tuple(
        pool.RelativeRow(r.name, r.relation, r.id_number.upper() if r.id_number else None) for r in items
    )


# ---------------------------------------------------------------- experts --------------------------------
def create_expert(*, session: Session, body: ExpertCreate) -> ExpertPublic:
    row = pool.ExpertRow(
        id=body.id or f"E{uuid.uuid4().hex[:12]}", city=body.city, name=body.name,
        specialties=tuple(dict.fromkeys(body.specialties)), title=body.title, region=body.region,
        active=body.active, max_concurrent=body.max_concurrent,
        phone=body.phone or "", email=body.email or "",
        id_number=body.id_number.upper() if body.id_number else None,
        affiliations=_affiliations(body.affiliations), relatives=_relatives(body.relatives),
    )
    return _one(session=session, expert=repo_pool.create_expert(session=session, row=row))


def get_expert(*, session: Session, expert_id: str, masked: bool) -> ExpertPublic:
    """Identity and phone numbers in full for the pool's administrators only."""
    return _one(session=session, expert=repo_pool.get_expert(session=session, expert_id=expert_id), masked=masked)


def update_expert(*, session: Session, expert_id: str, body: ExpertUpdate) -> ExpertPublic:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "affiliations" in changes:
        changes["affiliations"] = _affiliations(body.affiliations or [])
    if "relatives" in changes:
        changes["relatives"] = _relatives(body.relatives or [])
    if "specialties" in changes:
        changes["specialties"] = list(dict.fromkeys(body.specialties or []))
    if changes.get("id_number"):
        changes["id_number"] = changes["id_number"].upper()
    expert = repo_pool.update_expert(session=session, expert_id=expert_id, changes=changes)
    return _one(session=session, expert=expert)


def set_active(*, session: Session, expert_id: str, active: bool) -> ExpertPublic:
    expert = repo_pool.set_active(session=session, expert_id=expert_id, active=active)
    return _one(session=session, expert=expert)


def search(
    *,
    session: Session,
    q: str | None,
    specialty: str | None,
    city: str | None,
    region: str | None,
    active: bool | None,
    institution_id: str | None,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
    count: bool = False,
) -> ExpertsPublic:
    found = repo_pool.search_experts(
        session=session, q=q, specialty=specialty, city=city, region=region, active=active,
        institution_id=institution_id, limit=limit, cursor=cursor, offset=offset, count=count,
    )
    affiliations = repo_pool.affiliations_of(session=session, expert_ids=[e.id for e in found.rows])
    today = datetime.now(SHANGHAI).date()
    return ExpertsPublic(
        items=[expert_public(e, affiliations[e.id], masked=True, today=today) for e in found.rows],
        limit=limit, has_more=found.has_more, next_cursor=found.next_cursor, estimated_total=found.estimated_total,
    )


# ---------------------------------------------------------------- the pool file --------------------------
def decode_csv(raw: bytes) -> str:
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidField("body", f"a pool file is at most {MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidField("body", "the CSV must be UTF-8") from None


def import_text(
    *,
    session: Session,
    text: str,
    skip_invalid: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> PoolImportReport:
    """Read a pool file and upsert its experts by id. Every problem of every row is found first (the file's,
    then the institutions the database does not know). Any problem and no `skip_invalid`: nothing is written
    and `PoolRowsRefused` (422) lists them all. A problem with the file itself (header) always refuses it."""
    if not _ONE_IMPORT_AT_A_TIME.acquire(timeout=IMPORT_WAIT_SECONDS):
        raise DatabaseBusy("another pool import is running; repeat this one in a minute", retry_after=60)
    try:
        return _import_text(session=session, text=text, skip_invalid=skip_invalid, on_progress=on_progress)
    finally:
        _ONE_IMPORT_AT_A_TIME.release()


def _import_text(
    *, session: Session, text: str, skip_invalid: bool, on_progress: Callable[[int, int], None] | None
) -> PoolImportReport:
    parsed = pool.parse_pool_csv(text)
    errors = sorted(
        parsed.errors + repo_pool.unknown_institution_errors(session=session, rows=parsed.rows),
        key=lambda e: e.row,
    )
    file_level = [e for e in errors if e.row == 1 or e.field == "file"]
    if file_level or (errors and not skip_invalid):
        raise pool.PoolRowsRefused(file_level or errors)
    bad = {e.row for e in errors}
    result = repo_pool.import_experts(
        session=session, rows=[r for r in parsed.rows if r.row not in bad], on_progress=on_progress
    )
    return PoolImportReport(
        imported=result.imported, updated=result.updated, skipped=len(bad),
        errors=[PoolRowErrorPublic(**e.to_dict()) for e in errors],
    )


def import_csv(*, session: Session, raw: bytes, skip_invalid: bool) -> PoolImportReport:
    return import_text(session=session, text=decode_csv(raw), skip_invalid=skip_invalid)


# Imports run one at a time: each upserts the whole file in one transaction (all or nothing), and two at once
# would only fight over the database's write lock. Across processes the database serialises them
# (repo_pool.import_experts takes PostgreSQL's advisory lock; SQLite's write lock waits its busy timeout).
_ONE_IMPORT_AT_A_TIME = threading.Lock()
IMPORT_WAIT_SECONDS = 120


def export_csv(*, session: Session, city: str | None = None) -> str:
    return pool.format_pool_csv(repo_pool.export_experts(session=session, city=city))


# ---------------------------------------------------------------- institutions and groups ----------------
def _group_public(group: InstitutionGroup, sites: Iterable[Institution]) -> InstitutionGroupPublic:
    return InstitutionGroupPublic(
        id=group.id, name=group.name, city=group.city,
        sites=[InstitutionSummary.model_validate(s) for s in sites],
    )


def list_groups(*, session: Session, city: str | None = None) -> list[InstitutionGroupPublic]:
    groups = repo_pool.list_groups(session=session, city=city)
    sites = repo_pool.group_sites(session=session, group_ids=[g.id for g in groups])
    return [_group_public(g, sites[g.id]) for g in groups]


def create_group(*, session: Session, body: InstitutionGroupCreate) -> InstitutionGroupPublic:
    group = repo_pool.create_group(session=session, group_id=body.id, name=body.name, city=body.city)
    return _group_public(group, [])


def institution_public(*, session: Session, institution: Institution) -> InstitutionPublic:
    group = None
    others: list[InstitutionSummary] = []
    if institution.group_id is not None:
        row = repo_pool.get_group(session=session, group_id=institution.group_id)
        sites = repo_pool.group_sites(session=session, group_ids=[row.id])[row.id]
        group = _group_public(row, sites)
        others = [InstitutionSummary.model_validate(s) for s in sites if s.id != institution.id]
    return InstitutionPublic(
        id=institution.id, name=institution.name, city=institution.city, address=institution.address,
        group=group, other_sites=others,
    )


def list_institutions(
    *, session: Session, city: str | None = None, group_id: str | None = None, q: str | None = None
) -> list[InstitutionPublic]:
    rows = repo_pool.list_institutions(session=session, city=city, group_id=group_id, q=q)
    groups = {g.id: g for g in repo_pool.list_groups(session=session)}
    sites = repo_pool.group_sites(session=session, group_ids={r.group_id for r in rows if r.group_id})
    answer = []
    for r in rows:
        group = _group_public(groups[r.group_id], sites[r.group_id]) if r.group_id in groups else None
        others = [InstitutionSummary.model_validate(s)
                  for s in sites.get(r.group_id or "", []) if s.id != r.id]
        answer.append(InstitutionPublic(id=r.id, name=r.name, city=r.city, address=r.address, group=group,
                                        other_sites=others))
    return answer


def get_institution(*, session: Session, institution_id: str) -> InstitutionPublic:
    institution = repo_pool.get_institution(session=session, institution_id=institution_id)
    return institution_public(session=session, institution=institution)


def create_institution(*, session: Session, body: InstitutionCreate) -> InstitutionPublic:
    institution = repo_pool.create_institution(
        session=session, institution_id=body.id, name=body.name, city=body.city, group_id=body.group_id,
        address=body.address,
    )
    return institution_public(session=session, institution=institution)
