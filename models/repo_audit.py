"""The audit trail's data access: append to the chain (serialised, so that it never forks), list, verify.

Appends are serialised per database: PostgreSQL takes a transaction-scoped advisory lock before reading the
last hash; SQLite takes the database's write lock first (BEGIN IMMEDIATE). The unique prev_hash is the backstop:
a fork is refused by the database whatever happens, and `record_batch` retries such an append.

A batch (`append_batch`, `record_batch`: the API's writer hands over whatever requests have queued, api/audit.py)
takes the lock once, reads the last hash once and links its entries one after the other in the order given; it
is committed whole or not at all. Each API process may have its own writer: the lock is per transaction, so the
batches of several processes interleave whole, and the chain stays one.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.db import SessionFactory, transaction
from domain.audit import FIELDS, GENESIS, ChainReport, entry_hash, verify_chain
from models.paging import Keyset, Slice, page
from models.tables import Attachment, AuditEntry, Case, Document, Draw, Invitation, Panel

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the audit chain: any constant no other lock uses ("audit" in ASCII).
PG_LOCK_KEY = 0x6175646974
VERIFY_BATCH = 5000

# Things of a case, by the path parameter that names them: their committee is their case's.
_OF_A_CASE: dict[str, Any] = {
    "document_id": Document,
    "panel_id": Panel,
    "invitation_id": Invitation,
    "draw_id": Draw,
    "attachment_id": Attachment,  # an expert's or an auditor's read of a file the parties brought (Reg 42)
}


def _clip(value: str | None, column: str) -> str | None:
    """A value cut to its column's length (PostgreSQL refuses longer ones), a NUL character replaced by U+FFFD
    (PostgreSQL's text cannot hold one; a path parameter such as `/cases/x%00/accept` carries it): the trail
    records such a request rather than losing it. Done before hashing, so the hash covers what is stored."""
    if value is None:
        return None
    value = value.replace("\x00", "\ufffd")
    limit = AuditEntry.__table__.c[column].type.length  # type: ignore[attr-defined]
    return value[:limit] if limit else value


_OPTIONAL: dict[str, Any] = {"actor_name": "", "actor_role": "", "committee_id": None, "target_type": None,
                             "target_id": None, "request_id": "", "status_code": None}
_TEXT = ("actor_id", "actor_name", "actor_role", "committee_id", "action", "target_type", "target_id",
         "request_id")


def _storable(given: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields of an entry (domain/audit.py FIELDS) as they will be stored; `at`, `actor_id`, `action`
    and `payload_sha256` are required."""
    fields = {name: given.get(name, _OPTIONAL[name]) if name in _OPTIONAL else given[name] for name in FIELDS}
    for name in _TEXT:
        fields[name] = _clip(fields[name], name)
    return fields


def _lock_chain(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Held until this transaction ends; each later statement (READ COMMITTED) sees the last committed row.
        session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": PG_LOCK_KEY})
    elif bind.dialect.name == "sqlite":
        # pysqlite begins a transaction only before a write; start one that holds the write lock now, so that
        # no other append reads the same last hash. Already in a write transaction: the lock is held.
        raw = session.connection().connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            session.execute(text("BEGIN IMMEDIATE"))


def append(
    *,
    session: Session,
    at: datetime,
    actor_id: str,
    actor_name: str = "",
    actor_role: str = "",
    committee_id: str | None = None,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    request_id: str = "",
    status_code: int | None = None,
    payload_sha256: str,
) -> int:
    """Append one entry after the last one and give its id. Call it in a transaction of its own (as
    `record_batch` does) and commit soon: the chain is locked until then."""
    [entry_id] = append_batch(session=session, entries=[{
        "at": at, "actor_id": actor_id, "actor_name": actor_name, "actor_role": actor_role,
        "committee_id": committee_id, "action": action, "target_type": target_type, "target_id": target_id,
        "request_id": request_id, "status_code": status_code, "payload_sha256": payload_sha256,
    }])
    return entry_id


def append_batch(*, session: Session, entries: Sequence[Mapping[str, Any]]) -> list[int]:
    """Append `entries` after the last one, in the order given, and give their ids: one lock and one read of the
    last hash for them all, each entry linked to the one before it, inserted in their order (PostgreSQL: one
    statement; SQLite: a statement a row, which costs no round trip). Call it in a transaction of its own and
    commit soon."""
    if not entries:
        return []
    _lock_chain(session)
    prev_hash = session.exec(select(AuditEntry.hash).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    prev_hash = prev_hash or GENESIS
    rows = []
    for given in entries:
        fields = _storable(given)
        rows.append({**fields, "prev_hash": prev_hash, "hash": entry_hash(prev_hash, fields)})
        prev_hash = rows[-1]["hash"]
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    inserted = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    ids = list(inserted.scalars())
    # A row's id is its place in the chain: the ids must rise in the order the entries were linked. The INSERT
    # makes them so (rows in parameter order); checked, because a chain out of order would not verify.
    if any(later <= earlier for earlier, later in itertools.pairwise(ids)):
        raise RuntimeError(f"audit entries were given ids out of their chain order: {ids}")
    return ids


def record_batch(*, sessions: SessionFactory, entries: Sequence[Mapping[str, Any]], attempts: int = 5) -> list[int]:
    """Append `entries` in one transaction of their own and commit them: all of them or none. A fork refused by
    the unique prev_hash (which the lock should make impossible) is retried whole on the new last entry; any
    other error goes on up, and nothing of the batch is stored."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction(sessions) as session:
                return append_batch(session=session, entries=entries)
        except IntegrityError:
            if attempt == attempts:
                raise
            log.warning("audit append raced another one (attempt %d); retrying", attempt)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def record(*, sessions: SessionFactory, attempts: int = 5, **fields: Any) -> int:
    """Append one entry in a transaction of its own, commit it and give its id (`record_batch` of one)."""
    [entry_id] = record_batch(sessions=sessions, entries=[fields], attempts=attempts)
    return entry_id


def committees_of(*, session: Session, targets: Iterable[tuple[str | None, str | None]]
                  ) -> dict[tuple[str | None, str | None], str | None]:
    """`committee_of` for each (target_type, target_id), each distinct target read once (an id no column can
    hold, such as one with a NUL, names nothing stored: looked up as stored)."""
    return {target: committee_of(session=session, target_type=target[0], target_id=_clip(target[1], "target_id"))
            for target in dict.fromkeys(targets)}


def committee_of(*, session: Session, target_type: str | None, target_id: str | None) -> str | None:
    """The committee of a case, or of a document, panel, invitation or draw through its case; None for
    anything else (an expert of the city's pool, a calendar year) or an unknown id. One indexed read."""
    if not target_id:
        return None
    if target_type == "committee_id":
        return target_id
    if target_type == "case_id":
        return session.exec(select(Case.committee_id).where(Case.id == target_id)).first()
    table = _OF_A_CASE.get(target_type or "")
    if table is None:
        return None
    return session.exec(
        select(Case.committee_id).join(table, table.case_id == Case.id).where(table.id == target_id)
    ).first()


def entries_of_case(*, session: Session, case_id: str) -> Sequence[AuditEntry]:
    """Every entry about the case or a thing of it (its documents, panels, invitations, draws), in chain order."""
    targets = {case_id}
    for model in _OF_A_CASE.values():
        targets.update(session.exec(select(model.id).where(model.case_id == case_id)).all())
    return session.exec(
        select(AuditEntry).where(col(AuditEntry.target_id).in_(sorted(targets))).order_by(col(AuditEntry.id))
    ).all()


def head_hash(*, session: Session) -> str:
    """The hash of the last entry of the trail (GENESIS when it is empty)."""
    last = session.exec(select(AuditEntry.hash).order_by(col(AuditEntry.id).desc()).limit(1)).first()
    return last or GENESIS


AUDIT_ORDER = Keyset("audit", (col(AuditEntry.id),), ("int",), descending=True)  # the chain's order, newest first


def list_entries(
    *,
    session: Session,
    actor_id: str | None = None,
    target_id: str | None = None,
    committee_id: str | None = None,
    committee_ids: Collection[str] | None = None,
    action_contains: str | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
    count: bool = False,
) -> Slice:
    """Entries newest first, a page after `cursor`. `since` is inclusive, `until` exclusive."""
    conditions: list[Any] = []
    if actor_id:
        conditions.append(col(AuditEntry.actor_id) == actor_id)
    if target_id:
        conditions.append(col(AuditEntry.target_id) == target_id)
    if committee_id:
        conditions.append(col(AuditEntry.committee_id) == committee_id)
    if committee_ids is not None:  # the reach of a committee- or city-level auditor
        conditions.append(col(AuditEntry.committee_id).in_(sorted(committee_ids) or [""]))
    if action_contains:
        conditions.append(col(AuditEntry.action).contains(action_contains, autoescape=True))
    if request_id:
        conditions.append(col(AuditEntry.request_id) == request_id)
    if since is not None:
        conditions.append(col(AuditEntry.at) >= since)
    if until is not None:
        conditions.append(col(AuditEntry.at) < until)
    return page(session, select(AuditEntry).where(*conditions), AUDIT_ORDER, limit=limit, cursor=cursor,
                offset=offset, count=count, unfiltered=None if conditions else AuditEntry.__tablename__)


def _in_chain_order(session: Session, batch: int) -> Iterator[Any]:
    """Every entry in id order, as plain rows, read in batches by id (no ORM objects, no long cursor)."""
    columns = AuditEntry.__table__.c  # type: ignore[attr-defined]
    after = None
    while True:
        query = select(*columns).order_by(columns.id).limit(batch)
        if after is not None:
            query = query.where(columns.id > after)
        rows = session.execute(query).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def verify(*, session: Session, batch: int = VERIFY_BATCH) -> ChainReport:
    return verify_chain(_in_chain_order(session, batch))
