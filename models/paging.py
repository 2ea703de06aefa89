"""Lists a page at a time, by keyset: every list is sorted on columns whose last one is unique, and a page asks for
the rows after the last one the client saw. The database reads one page's rows from an index whatever the page's
depth (an offset reads and throws away every row before it), and a row added or removed meanwhile never shifts a
later page.

The client sees an opaque cursor: the last row's sort key, as URL-safe base64 of a small JSON array named after its
list, with a check digest. A cursor that was altered, cut short or made for another list answers 422
(`invalid_cursor`). The digest is a check, not a secret: a forged cursor could only start a page elsewhere, and the
caller's filters and reach apply to every page all the same.

No page counts every matching row (an exact count(*) reads them all). On request (`count=estimate`) a page carries
an estimate: on PostgreSQL the planner's row estimate for the filtered query, or the table's `reltuples` when
nothing is filtered; on SQLite, the embedded database of one installation, the exact count.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, literal, select, text, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session

from core.errors import InvalidCursor

T = TypeVar("T")
_DIGEST_KEY = b"mediation-list-cursor-v1"
_DIGEST_SIZE = 8
MAX_CURSOR_LENGTH = 400  # the longest key (a time and a 64-character id) encodes in about 190


class Page(BaseModel, Generic[T]):
    """One page of a list. Follow `next_cursor` (pass it as `cursor`, with the same filters) until `has_more` is
    false."""

    items: list[T]
    limit: int = Field(description="the most items a page holds, as asked")
    has_more: bool = Field(default=False, description="more items follow this page")
    next_cursor: str | None = Field(
        default=None, description="pass it as `cursor` for the next page; null on the last page")
    estimated_total: int | None = Field(
        default=None, description="only with count=estimate: an ESTIMATE of the items that match every filter, "
        "never exact on PostgreSQL (the planner's row estimate; it can be off by a large factor for narrow filters), "
        "exact on SQLite. For showing the size of a result, not for arithmetic over pages")


@dataclass(frozen=True)
class Keyset:
    """How a list is sorted: `columns` (the last one unique), all ascending or all descending, named `name` in its
    cursors. `kinds` says how each column's value is written in a cursor: "time", "day", "text" or "int"."""

    name: str
    columns: tuple[ColumnElement[Any], ...]
    kinds: tuple[str, ...]
    descending: bool

    def order_by(self) -> list[Any]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, key: Sequence[Any]) -> ColumnElement[bool]:
        """The rows that come after `key` in this order: one row comparison, which a btree index on the columns
        answers as a range (scanned backwards for a descending list)."""
        if len(self.columns) == 1:
            column = self.columns[0]
            return column < key[0] if self.descending else column > key[0]
        left = tuple_(*self.columns)
        right = tuple_(*(_typed(column, value) for column, value in zip(self.columns, key, strict=True)))
        return left < right if self.descending else left > right

    def encode(self, key: Sequence[Any]) -> str:
        values = [_write(kind, value) for kind, value in zip(self.kinds, key, strict=True)]
        payload = json.dumps([self.name, *values], ensure_ascii=False, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload + _digest(payload)).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The key a cursor of this list holds; InvalidCursor (422) for anything this API did not give."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor("not a cursor: pass the next_cursor of the previous page unchanged") from None
        payload, digest = raw[:-_DIGEST_SIZE], raw[-_DIGEST_SIZE:]
        if len(raw) <= _DIGEST_SIZE or digest != _digest(payload):
            raise InvalidCursor("the cursor was altered or cut short: pass the next_cursor of the previous page "
                                "unchanged") from None
        try:
            name, *values = json.loads(payload)
        except (ValueError, TypeError):
            raise InvalidCursor("the cursor was altered: pass the next_cursor of the previous page unchanged") from None
        if name != self.name:
            raise InvalidCursor(f"a cursor of another list ({name!r}): this list is {self.name!r}")
        if len(values) != len(self.kinds):
            raise InvalidCursor("the cursor was altered: pass the next_cursor of the previous page unchanged")
        try:
            return tuple(_read(kind, value) for kind, value in zip(self.kinds, values, strict=True))
        except (ValueError, TypeError):
            raise InvalidCursor("the cursor was altered: pass the next_cursor of the previous page unchanged") from None


def _typed(column: ColumnElement[Any], value: Any) -> Any:
    return literal(value, type_=column.type)


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_DIGEST_SIZE, key=_DIGEST_KEY).digest()


def _write(kind: str, value: Any) -> Any:
    if kind in ("time", "day"):
        return value.isoformat()
    return value


def _read(kind: str, value: Any) -> Any:
    if kind == "time":
        found = datetime.fromisoformat(value)
        if found.tzinfo is None:
            raise ValueError("a time without its offset")
        return found
    if kind == "day":
        return date.fromisoformat(value)
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "text" and isinstance(value, str):
        return value
    raise TypeError(f"not a {kind}")


@dataclass(frozen=True)
class Slice:
    """The rows of one page, the cursor of the next (None at the end) and, on request, the estimated total."""

    rows: list[Any]
    has_more: bool
    next_cursor: str | None
    estimated_total: int | None


def page(
    session: Session,
    query: Select[Any] | Callable[[tuple[Any, ...] | None], Select[Any]],
    keyset: Keyset,
    *,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
    count: bool = False,
    key_of: Any = None,
    unfiltered: str | None = None,
) -> Slice:
    """One page of `query` (its filters, no order) in `keyset`'s order: the rows after `cursor`, `offset` more
    skipped (deprecated; bounded by the API), at most `limit`. `query` may also be a function of the key the page
    starts after (None for the first page) that places that condition itself. A query of one entity
    (select(Expert)) gives entities, any other rows. `key_of(row)` gives a row's sort key (by default the attributes
    named like the keyset's columns). `unfiltered`: the table's name when `query` filters nothing, so that an
    estimate reads the table's statistics alone."""
    after = keyset.decode(cursor) if cursor else None  # a bad cursor is refused before anything is read
    if isinstance(query, Select):
        plain = query
        build: Callable[[tuple[Any, ...] | None], Select[Any]] = (
            lambda key: plain.where(keyset.after(key)) if key is not None else plain)
    else:
        build = query
    counted = estimated_count(session, build(None), unfiltered=unfiltered) if count else None
    query = build(after).order_by(*keyset.order_by()).limit(limit + 1)
    if offset:
        query = query.offset(offset)
    entity = len(query.column_descriptions) == 1 and query.column_descriptions[0].get("entity") is not None \
        and query.column_descriptions[0].get("expr") is query.column_descriptions[0].get("entity")
    rows = list(session.scalars(query).all() if entity else session.execute(query).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    key_of = key_of or (lambda row: tuple(getattr(row, c.key) for c in keyset.columns))
    next_cursor = keyset.encode(key_of(rows[-1])) if has_more else None
    return Slice(rows=rows, has_more=has_more, next_cursor=next_cursor, estimated_total=counted)


# ---------------------------------------------------------------- estimates -------------------------------
class _Explain(Executable, ClauseElement):
    """EXPLAIN (FORMAT JSON) of a query, its parameters bound as the query's own would be."""

    inherit_cache = False

    def __init__(self, query: Select[Any]) -> None:
        self.query = query


@compiles(_Explain, "postgresql")
def _explain_postgresql(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.query, **kw)


def estimated_count(session: Session, query: Select[Any], *, unfiltered: str | None = None) -> int:
    """How many rows `query` would give: estimated on PostgreSQL, counted on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        return int(session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one())
    if unfiltered is not None:
        tuples = session.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                                 {"name": unfiltered}).scalar()
        if tuples is not None and tuples >= 0:  # -1: never analysed yet
            return int(tuples)
    plan = session.execute(_Explain(query.order_by(None))).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])
