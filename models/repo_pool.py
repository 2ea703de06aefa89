"""Data access of the expert pool (Reg 35): experts, their affiliations, institutions and medical groups.
Keyword-only functions; the caller commits once, at the boundary of its unit of work (core/db.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, Text, cast, delete, insert, or_, text, update
from sqlmodel import Session, col, select

from core.errors import Conflict, InvalidField, NotFound
from domain.pool import AffiliationRow, ExpertRow, InstitutionRow, PoolRowsRefused, RelativeRow, RowError
from models.paging import Keyset, Slice, page
from models.tables import Affiliation, Expert, Institution, InstitutionGroup, utcnow

CHUNK = 500  # ids per IN (...) and experts per flush
POOL_IMPORT_LOCK = 7_061_527_002  # PostgreSQL advisory lock: one pool import at a time
EXPERTS: Table = Expert.__table__  # type: ignore[attr-defined]  # Core inserts: one executemany per chunk
AFFILIATIONS: Table = Affiliation.__table__  # type: ignore[attr-defined]


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---------------------------------------------------------------- groups and institutions ---------------
def list_groups(*, session: Session, city: str | None = None) -> Sequence[InstitutionGroup]:
    query = select(InstitutionGroup)
    if city:
        query = query.where(col(InstitutionGroup.city) == city)
    return session.exec(query.order_by(col(InstitutionGroup.id))).all()


def get_group(*, session: Session, group_id: str) -> InstitutionGroup:
    group = session.get(InstitutionGroup, group_id)
    if group is None:
        raise NotFound(f"institution group {group_id!r} not found")
    return group


def create_group(*, session: Session, group_id: str, name: str, city: str = "") -> InstitutionGroup:
    if session.get(InstitutionGroup, group_id) is not None:
        raise Conflict(f"institution group {group_id!r} already exists")
    group = InstitutionGroup(id=group_id, name=name, city=city)
    session.add(group)
    session.flush()
    return group


def list_institutions(
    *, session: Session, city: str | None = None, group_id: str | None = None, q: str | None = None
) -> Sequence[Institution]:
    query = select(Institution)
    if city:
        query = query.where(col(Institution.city) == city)
    if group_id:
        query = query.where(col(Institution.group_id) == group_id)
    if q:
        query = query.where(col(Institution.name).icontains(q.strip(), autoescape=True))
    return session.exec(query.order_by(col(Institution.id))).all()


def get_institution(*, session: Session, institution_id: str) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"institution {institution_id!r} not found")
    return institution


def create_institution(
    *, session: Session, institution_id: str, name: str, city: str = "", group_id: str | None = None,
    address: str = "",
) -> Institution:
    if session.get(Institution, institution_id) is not None:
        raise Conflict(f"institution {institution_id!r} already exists")
    if group_id is not None and session.get(InstitutionGroup, group_id) is None:
        raise InvalidField("group_id", f"unknown institution group {group_id!r} (create it first)")
    institution = Institution(id=institution_id, name=name, city=city, group_id=group_id, address=address)
    session.add(institution)
    session.flush()
    return institution


def group_sites(*, session: Session, group_ids: Iterable[str]) -> dict[str, list[Institution]]:
    """The sites of each group, by group id."""
    wanted = sorted(set(group_ids))
    sites: dict[str, list[Institution]] = {g: [] for g in wanted}
    for part in _chunks(wanted):
        query = select(Institution).where(col(Institution.group_id).in_(part)).order_by(col(Institution.id))
        for site in session.exec(query):
            sites[site.group_id or ""].append(site)
    return sites


def conflict_set(*, session: Session, institution_id: str) -> set[str]:
    """The institution and every site of its group: Reg 37 treats them as one."""
    institution = get_institution(session=session, institution_id=institution_id)
    if institution.group_id is None:
        return {institution.id}
    sites = group_sites(session=session, group_ids=[institution.group_id])[institution.group_id]
    return {site.id for site in sites}


@dataclass
class InstitutionImport:
    imported: int = 0
    updated: int = 0
    groups_created: int = 0


def import_institutions(*, session: Session, rows: Sequence[InstitutionRow]) -> InstitutionImport:
    """Upsert institutions by id, creating their groups as needed. A row naming an unknown group without
    its name is refused, and then nothing is written."""
    known_groups = {g.id: g for g in session.exec(select(InstitutionGroup))}
    errors = [
        RowError(r.row, "group_name", f"group {r.group_id!r} is unknown: give its name to create it")
        for r in rows if r.group_id and r.group_id not in known_groups and not r.group_name
        and not any(o.group_id == r.group_id and o.group_name for o in rows)
    ]
    if errors:
        raise PoolRowsRefused(errors, what="institutions file")
    result = InstitutionImport()
    for r in rows:
        if r.group_id:
            group = known_groups.get(r.group_id)
            if group is None:
                group = InstitutionGroup(id=r.group_id, name=r.group_name, city=r.city)
                known_groups[r.group_id] = group
                result.groups_created += 1
                session.add(group)
            elif r.group_name and group.name != r.group_name:
                group.name = r.group_name
                session.add(group)
    session.flush()
    for part in _chunks(list(rows)):
        existing = {i.id: i for i in session.exec(
            select(Institution).where(col(Institution.id).in_([r.id for r in part])))}
        for r in part:
            institution = existing.get(r.id)
            if institution is None:
                institution = Institution(id=r.id)
                result.imported += 1
            else:
                result.updated += 1
            institution.name, institution.city = r.name, r.city
            institution.group_id, institution.address = r.group_id, r.address
            session.add(institution)
        session.flush()
    return result


# ---------------------------------------------------------------- experts --------------------------------
def get_expert(*, session: Session, expert_id: str) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound(f"expert {expert_id!r} not found")
    return expert


def _unknown_institutions(*, session: Session, ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(ids))
    known: set[str] = set()
    for part in _chunks(wanted):
        known.update(session.exec(select(Institution.id).where(col(Institution.id).in_(part))))
    return set(wanted) - known


def unknown_institution_errors(*, session: Session, rows: Sequence[ExpertRow]) -> list[RowError]:
    """An error for each affiliation of `rows` with an institution the database does not know."""
    ids = (a.institution_id for r in rows for a in r.affiliations)
    unknown = _unknown_institutions(session=session, ids=ids)
    return [
        RowError(r.row, "affiliations",
                 f"unknown institution {a.institution_id!r} (import the institutions first)")
        for r in rows for a in r.affiliations if a.institution_id in unknown
    ]


def _values(row: ExpertRow, at: datetime) -> dict[str, Any]:
    return {
        "id": row.id, "city": row.city, "name": row.name, "title": row.title, "specialties": list(row.specialties),
        "region": row.region, "active": row.active, "max_concurrent": row.max_concurrent, "phone": row.phone,
        "email": row.email, "id_number": row.id_number, "relatives": [r.to_dict() for r in row.relatives],
        "updated_at": at,
    }


def _fill(expert: Expert, row: ExpertRow, at: datetime) -> None:
    expert.city, expert.name, expert.title = row.city, row.name, row.title
    expert.specialties = list(row.specialties)
    expert.region, expert.active, expert.max_concurrent = row.region, row.active, row.max_concurrent
    expert.phone, expert.email, expert.id_number = row.phone, row.email, row.id_number
    expert.relatives = [r.to_dict() for r in row.relatives]
    expert.updated_at = at


def _affiliation_rows(expert_id: str, affiliations: Iterable[AffiliationRow]) -> list[Affiliation]:
    return [Affiliation(expert_id=expert_id, institution_id=a.institution_id, started_on=a.started_on,
                        ended_on=a.ended_on) for a in affiliations]


def _replace_affiliations(
    *, session: Session, expert_id: str, affiliations: Sequence[AffiliationRow]
) -> None:
    session.execute(delete(Affiliation).where(col(Affiliation.expert_id) == expert_id))
    session.add_all(_affiliation_rows(expert_id, affiliations))


def create_expert(*, session: Session, row: ExpertRow, at: datetime | None = None) -> Expert:
    """Add an expert to the pool. Their id must be new and their institutions known."""
    if session.get(Expert, row.id) is not None:
        raise Conflict(f"expert {row.id!r} already exists")
    unknown = _unknown_institutions(session=session, ids=(a.institution_id for a in row.affiliations))
    if unknown:
        raise InvalidField("affiliations", f"unknown institution {min(unknown)!r}")
    at = at or utcnow()
    expert = Expert(id=row.id, city=row.city, name=row.name, created_at=at, updated_at=at)
    _fill(expert, row, at)
    session.add(expert)
    session.flush()
    session.add_all(_affiliation_rows(expert.id, row.affiliations))
    session.flush()
    return expert


def update_expert(
    *, session: Session, expert_id: str, changes: dict[str, Any], at: datetime | None = None
) -> Expert:
    """Change the given fields; `affiliations` (AffiliationRow items), when given, replace the old ones."""
    expert = get_expert(session=session, expert_id=expert_id)
    changes = dict(changes)
    if "affiliations" in changes:
        affiliations = list(changes.pop("affiliations") or [])
        unknown = _unknown_institutions(session=session, ids=(a.institution_id for a in affiliations))
        if unknown:
            raise InvalidField("affiliations", f"unknown institution {min(unknown)!r}")
        _replace_affiliations(session=session, expert_id=expert_id, affiliations=affiliations)
    if "relatives" in changes:
        changes["relatives"] = [r.to_dict() if isinstance(r, RelativeRow) else dict(r)
                                for r in changes["relatives"] or []]
    if "specialties" in changes:
        changes["specialties"] = list(changes["specialties"])
    for name in ("title", "region", "phone", "email"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    for name, value in changes.items():
        if name not in Expert.model_fields or name in ("id", "created_at", "updated_at"):
            raise ValueError(f"not a field of an expert: {name}")
        setattr(expert, name, value)
    expert.updated_at = at or utcnow()
    session.add(expert)
    session.flush()
    return expert


def set_active(*, session: Session, expert_id: str, active: bool, at: datetime | None = None) -> Expert:
    """Deactivate (never drawn again) or reactivate an expert; their history stays."""
    expert = get_expert(session=session, expert_id=expert_id)
    if expert.active != active:
        expert.active = active
        expert.updated_at = at or utcnow()
        session.add(expert)
        session.flush()
    return expert


def affiliations_of(
    *, session: Session, expert_ids: Iterable[str]
) -> dict[str, list[tuple[Affiliation, Institution]]]:
    """Each expert's affiliations with their institution, in the order they were given."""
    wanted = sorted(set(expert_ids))
    found: dict[str, list[tuple[Affiliation, Institution]]] = {e: [] for e in wanted}
    for part in _chunks(wanted):
        query = (
            select(Affiliation, Institution)
            .join(Institution, col(Institution.id) == col(Affiliation.institution_id))
            .where(col(Affiliation.expert_id).in_(part))
            .order_by(col(Affiliation.expert_id), col(Affiliation.id))
        )
        for affiliation, institution in session.exec(query):
            found[affiliation.expert_id].append((affiliation, institution))
    return found


EXPERTS_ORDER = Keyset("experts", (col(Expert.id),), ("text",), descending=False)


def search_experts(
    *,
    session: Session,
    q: str | None = None,
    specialty: str | None = None,
    city: str | None = None,
    region: str | None = None,
    active: bool | None = None,
    institution_id: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    offset: int = 0,
    count: bool = False,
) -> Slice:
    """Experts matching every given filter, by id, a page after `cursor`. `q` looks in the name, the title
    and the names of the institutions the expert works or worked at; `institution_id` keeps the experts who
    work or worked there."""
    filters: list[Any] = []
    if q and q.strip():
        text = q.strip()
        at_institution = (
            select(Affiliation.expert_id)
            .join(Institution, col(Institution.id) == col(Affiliation.institution_id))
            .where(col(Institution.name).icontains(text, autoescape=True))
        )
        filters.append(or_(
            col(Expert.name).icontains(text, autoescape=True),
            col(Expert.title).icontains(text, autoescape=True),
            col(Expert.id).in_(at_institution),
        ))
    if specialty:
        # the JSON list as text: '["obstetrics", "law"]'; codes are [a-z_], so '"code"' is one whole item
        filters.append(cast(col(Expert.specialties), Text).contains(f'"{specialty}"', autoescape=True))
    if city:
        filters.append(col(Expert.city) == city)
    if region:
        filters.append(col(Expert.region) == region)
    if active is not None:
        filters.append(col(Expert.active) == active)
    if institution_id:
        filters.append(col(Expert.id).in_(
            select(Affiliation.expert_id).where(col(Affiliation.institution_id) == institution_id)))
    return page(session, select(Expert).where(*filters), EXPERTS_ORDER, limit=limit, cursor=cursor, offset=offset,
                count=count, unfiltered=None if filters else Expert.__tablename__)


# ---------------------------------------------------------------- import and export ----------------------
@dataclass
class ExpertImport:
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)


def import_experts(
    *,
    session: Session,
    rows: Sequence[ExpertRow],
    skip_invalid: bool = False,
    at: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExpertImport:
    """Upsert `rows` by id; an expert's affiliations are replaced by their row's. A row whose institution is
    unknown is an error: with `skip_invalid` it is left out and reported, otherwise nothing is written
    (`PoolRowsRefused`). `on_progress(done, total)` is called after each chunk."""
    if session.get_bind().dialect.name == "postgresql":  # one import at a time across processes
        session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": POOL_IMPORT_LOCK})
    errors = unknown_institution_errors(session=session, rows=rows)
    if errors and not skip_invalid:
        raise PoolRowsRefused(errors)
    bad = {e.row for e in errors}
    good = [r for r in rows if r.row not in bad]
    result = ExpertImport(skipped=len(bad), errors=errors)
    at = at or utcnow()
    done = 0
    for part in _chunks(good):
        # Bulk statements, not one ORM object per expert: a city's pool is tens of thousands of rows.
        ids = [r.id for r in part]
        existing = set(session.exec(select(Expert.id).where(col(Expert.id).in_(ids))))
        values = [_values(row, at) for row in part]
        new = [{**v, "created_at": at} for v in values if v["id"] not in existing]
        old = [v for v in values if v["id"] in existing]
        if new:
            session.execute(insert(EXPERTS), new)
        if old:
            session.execute(update(Expert), old)
        session.execute(delete(Affiliation).where(col(Affiliation.expert_id).in_(ids)))
        affiliations = [
            {"expert_id": row.id, "institution_id": a.institution_id, "started_on": a.started_on,
             "ended_on": a.ended_on}
            for row in part for a in row.affiliations
        ]
        if affiliations:
            session.execute(insert(AFFILIATIONS), affiliations)
        result.imported += len(new)
        result.updated += len(old)
        done += len(part)
        if on_progress is not None:
            on_progress(done, len(good))
    if on_progress is not None and not good:
        on_progress(0, 0)
    return result


def expert_row(expert: Expert, affiliations: Iterable[Affiliation]) -> ExpertRow:
    return ExpertRow(
        id=expert.id, city=expert.city, name=expert.name, specialties=tuple(expert.specialties),
        title=expert.title, region=expert.region, active=expert.active, max_concurrent=expert.max_concurrent,
        phone=expert.phone, email=expert.email, id_number=expert.id_number,
        affiliations=tuple(AffiliationRow(a.institution_id, a.started_on, a.ended_on) for a in affiliations),
        relatives=tuple(RelativeRow(r.get("name", ""), r.get("relation", ""), r.get("id_number") or None)
                        for r in expert.relatives),
    )


def export_experts(*, session: Session, city: str | None = None) -> list[ExpertRow]:
    """The pool (or a city's), by id, as rows of the pool file (domain/pool.py format_pool_csv)."""
    experts = select(Expert).order_by(col(Expert.id))
    affiliations = (
        select(Affiliation)
        .join(Expert, col(Expert.id) == col(Affiliation.expert_id))
        .order_by(col(Affiliation.expert_id), col(Affiliation.id))
    )
    if city:
        experts = experts.where(col(Expert.city) == city)
        affiliations = affiliations.where(col(Expert.city) == city)
    by_expert: dict[str, list[Affiliation]] = {}
    for affiliation in session.exec(affiliations):
        by_expert.setdefault(affiliation.expert_id, []).append(affiliation)
    return [expert_row(e, by_expert.get(e.id, [])) for e in session.exec(experts)]
