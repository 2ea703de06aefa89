"""The expert pool as a file (Reg 35): the CSV a city's pool is kept in, read into typed rows and written
back. Pure: no database.

One row per expert:

    id,city,name,title,specialties,region,active,max_concurrent,phone,email,id_number,affiliations,relatives
    SH-E0001,上海市,张建国,主任医师,产科;妇科,黄浦区,true,3,13800138000,,,HOSP1:2015-01-01:2020-06-30;HOSP2:2021-03-01:,

- `id`, `city`, `name` and `specialties` are required; the other columns may be left out of the file.
- `specialties`: codes or Chinese labels of domain/specialties.py (`obstetrics` or `产科`), separated by
  `;` or `；`.
- `active`: true/false (also 1/0, yes/no, 是/否); empty means true. `max_concurrent`: the cap on concurrent
  assignments, at least 1; empty means 3.
- `affiliations`: `INSTITUTION_ID:START:END` separated by `;`, dates `YYYY-MM-DD`; an empty END means the
  expert still works there (Reg 37 looks back N years).
- `relatives`: the expert's declared close relatives, `name:relation:id_number` separated by `;` (the identity
  number may be left empty), so that the draw recognises a relative of a party (Reg 37).

Every row is checked and every problem reported as (row, field, reason), the header being row 1, as a
spreadsheet shows it. `format_pool_csv` writes rows that `parse_pool_csv` reads back unchanged.

The institutions file: `id,name,city,group_id,group_name,address` (`group_*` for a site of a medical group).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.errors import DomainError
from domain.payloads import EARLIEST, ID_NUMBER, LATEST, PHONE
from domain.specialties import SPECIALTIES

COLUMNS: tuple[str, ...] = (
    "id", "city", "name", "title", "specialties", "region", "active", "max_concurrent",
    "phone", "email", "id_number", "affiliations", "relatives",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "city", "name", "specialties")
INSTITUTION_COLUMNS: tuple[str, ...] = ("id", "name", "city", "group_id", "group_name", "address")
INSTITUTION_REQUIRED: tuple[str, ...] = ("id", "name")

DEFAULT_CAP = 3
MAX_CAP = 50
IDENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # expert, institution and group ids (they appear in URLs)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(PHONE)
_ID_NUMBER = re.compile(ID_NUMBER)
_LIST_SEPARATORS = re.compile(r"[;；]")
_TRUE = {"true", "1", "yes", "y", "是", "在职", "active"}
_FALSE = {"false", "0", "no", "n", "否", "停用", "inactive"}
LIMITS = {"city": 100, "name": 100, "title": 100, "region": 100, "email": 200, "address": 300}

_BY_LABEL = {label: code for code, label in SPECIALTIES.items()}


# ---------------------------------------------------------------- typed rows ---------------------------
@dataclass(frozen=True)
class RowError:
    """One problem in a file: its row (the header is row 1), the column, and why."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class AffiliationRow:
    institution_id: str
    started_on: date | None = None
    ended_on: date | None = None  # None: still there


@dataclass(frozen=True)
class RelativeRow:
    name: str
    relation: str
    id_number: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "relation": self.relation, "id_number": self.id_number}


@dataclass(frozen=True)
class ExpertRow:
    """A checked expert of the pool file; `row` is where it was read (0 when not read from a file)."""

    id: str
    city: str
    name: str
    specialties: tuple[str, ...]  # codes of domain/specialties.py
    title: str = ""
    region: str = ""
    active: bool = True
    max_concurrent: int = DEFAULT_CAP
    phone: str = ""
    email: str = ""
    id_number: str | None = None
    affiliations: tuple[AffiliationRow, ...] = ()
    relatives: tuple[RelativeRow, ...] = ()
    row: int = field(default=0, compare=False)


@dataclass(frozen=True)
class InstitutionRow:
    id: str
    name: str
    city: str = ""
    group_id: str | None = None
    group_name: str = ""
    address: str = ""
    row: int = field(default=0, compare=False)


@dataclass
class Parsed:
    """What a file held: the good rows, and every problem of the others (a bad row is never in `rows`)."""

    rows: list[Any]
    errors: list[RowError]
    total: int  # data rows in the file

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


class PoolRowsRefused(DomainError):
    """Rows of a pool file were refused and nothing was written: every problem is listed with its row."""

    status_code = 422
    code = "invalid_payload"

    def __init__(self, errors: Sequence[RowError], *, what: str = "pool file") -> None:
        rows = len({e.row for e in errors})
        listed = [{**e.to_dict(), "message": str(e)} for e in errors]
        more = f"; and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(
            f"invalid {what}: {rows} row{'s' if rows != 1 else ''} refused, nothing imported: "
            + "; ".join(str(e) for e in errors[:20]) + more,
            errors=listed,
        )
        self.errors = list(errors)


# ---------------------------------------------------------------- small readers -------------------------
class _Row:
    """Collects the problems of one row while its fields are read."""

    def __init__(self, number: int, values: dict[str, str]) -> None:
        self.number = number
        self.values = values
        self.errors: list[RowError] = []

    def error(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.number, column, reason))

    def text(self, column: str, *, required: bool = False, limit: int | None = None) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            self.error(column, "required")
        limit = limit or LIMITS.get(column, 100)
        if len(value) > limit:
            self.error(column, f"at most {limit} characters")
        return value

    def ident(self, column: str, *, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if not value:
            if required:
                self.error(column, "required")
            return value
        if not IDENT.match(value):
            self.error(column, f"{value!r} is not an id: 1 to 64 letters, digits, '_' or '-'")
        return value


def _day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if len(value) != 10 or not EARLIEST <= day <= LATEST:
        raise ValueError(f"{value!r}: dates YYYY-MM-DD from {EARLIEST} to {LATEST} only")
    return day


def _items(value: str) -> list[str]:
    return [item.strip() for item in _LIST_SEPARATORS.split(value) if item.strip()]


def specialty_code(token: str) -> str | None:
    """The code of a specialty given as a code (any case) or as its Chinese label; None if unknown."""
    token = token.strip()
    if token.lower() in SPECIALTIES:
        return token.lower()
    return _BY_LABEL.get(token)


def parse_specialties(value: str) -> tuple[tuple[str, ...], list[str]]:
    """(codes in the order given, without repeats; the unknown tokens)."""
    codes: list[str] = []
    unknown: list[str] = []
    for token in _items(value):
        code = specialty_code(token)
        if code is None:
            unknown.append(token)
        elif code not in codes:
            codes.append(code)
    return tuple(codes), unknown


def parse_affiliations(value: str) -> tuple[tuple[AffiliationRow, ...], list[str]]:
    """(affiliations; the problems found, each a reason)."""
    found: list[AffiliationRow] = []
    problems: list[str] = []
    for item in _items(value):
        parts = [p.strip() for p in item.replace("：", ":").split(":")]
        if len(parts) > 3:
            problems.append(f"{item!r}: expected INSTITUTION_ID:START:END")
            continue
        parts += [""] * (3 - len(parts))
        institution, start, end = parts
        if not IDENT.match(institution):
            problems.append(f"{item!r}: {institution!r} is not an institution id")
            continue
        try:
            started = _day(start) if start else None
            ended = _day(end) if end else None
        except ValueError as err:
            problems.append(f"{institution}: {err}")
            continue
        if started and ended and ended < started:
            problems.append(f"{institution}: ends ({ended}) before it starts ({started})")
            continue
        found.append(AffiliationRow(institution, started, ended))
    return tuple(found), problems


def parse_relatives(value: str) -> tuple[tuple[RelativeRow, ...], list[str]]:
    found: list[RelativeRow] = []
    problems: list[str] = []
    for item in _items(value):
        parts = [p.strip() for p in item.replace("：", ":").split(":")]
        if len(parts) not in (2, 3):
            problems.append(f"{item!r}: expected name:relation:id_number")
            continue
        name, relation, id_number = (parts + [""])[:3]
        if not name or not relation:
            problems.append(f"{item!r}: a relative needs a name and a relation")
            continue
        if len(name) > 100 or len(relation) > 50:
            problems.append(f"{item!r}: name at most 100 characters, relation at most 50")
            continue
        if id_number and not _ID_NUMBER.match(id_number):
            problems.append(f"{name}: {id_number!r} is not an identity number (17 digits and a digit or X)")
            continue
        found.append(RelativeRow(name, relation, id_number.upper() or None))
    return tuple(found), problems


def _reader(text: str, columns: Sequence[str], required: Sequence[str], errors: list[RowError]):
    """A DictReader over `text` once its header is checked, or None when the header is unusable."""
    if not text.strip():
        errors.append(RowError(1, "file", "the file is empty"))
        return None
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as err:
        errors.append(RowError(1, "header", f"not a readable CSV: {err}"))
        return None
    ok = True
    for name in header:
        if name and name not in columns:
            errors.append(RowError(1, name or "header", f"unknown column (known: {', '.join(columns)})"))
            ok = False
    for name in sorted({h for h in header if h and header.count(h) > 1}):
        errors.append(RowError(1, name, "column given twice"))
        ok = False
    for name in required:
        if name not in header:
            errors.append(RowError(1, name, "required column missing"))
            ok = False
    return (header, reader) if ok else None


def _records(header: list[str], reader: Any, errors: list[RowError]) -> Iterable[_Row]:
    for index, values in enumerate(reader):
        number = index + 2
        if not any(v.strip() for v in values):
            continue  # a blank line
        if any(v.strip() for v in values[len(header):]):
            errors.append(RowError(number, "row", f"{len(values)} fields for {len(header)} columns"))
            continue
        yield _Row(number, {h: v for h, v in zip(header, values, strict=False) if h})


# ---------------------------------------------------------------- the pool file -------------------------
def parse_pool_csv(text: str) -> Parsed:
    """Every expert of a pool file, checked (Reg 35): the good rows, and every problem of the others."""
    errors: list[RowError] = []
    opened = _reader(text, COLUMNS, REQUIRED_COLUMNS, errors)
    if opened is None:
        return Parsed([], errors, 0)
    header, reader = opened
    rows: list[ExpertRow] = []
    first_seen: dict[str, int] = {}
    total = 0
    try:
        for record in _records(header, reader, errors):
            total += 1
            row = _expert(record, first_seen)
            errors.extend(record.errors)
            if row is not None:
                rows.append(row)
    except csv.Error as err:
        errors.append(RowError(total + 2, "file", f"not a readable CSV: {err}"))
    bad = {e.row for e in errors}
    return Parsed([r for r in rows if r.row not in bad], errors, total)


def _expert(record: _Row, first_seen: dict[str, int]) -> ExpertRow | None:
    r = record
    expert_id = r.ident("id")
    if expert_id:
        if expert_id in first_seen:
            r.error("id", f"duplicate id {expert_id!r} (first at row {first_seen[expert_id]})")
        else:
            first_seen[expert_id] = r.number
    city, name = r.text("city", required=True), r.text("name", required=True)
    title, region = r.text("title"), r.text("region")

    specialties, unknown = parse_specialties(r.values.get("specialties") or "")
    for token in unknown:
        r.error("specialties", f"unknown specialty {token!r} (GET /pool/specialties lists them)")
    if not specialties and not unknown:
        r.error("specialties", "at least one specialty is required")

    active = True
    raw = (r.values.get("active") or "").strip().lower()
    if raw in _FALSE:
        active = False
    elif raw and raw not in _TRUE:
        r.error("active", f"{raw!r}: expected true or false")

    cap = DEFAULT_CAP
    raw = (r.values.get("max_concurrent") or "").strip()
    if raw:
        try:
            cap = int(raw)
        except ValueError:
            r.error("max_concurrent", f"{raw!r} is not a whole number")
        else:
            if not 1 <= cap <= MAX_CAP:
                r.error("max_concurrent", f"the cap on concurrent assignments is 1 to {MAX_CAP}, not {cap}")

    phone = (r.values.get("phone") or "").strip()
    if phone and not _PHONE.match(phone):
        r.error("phone", f"{phone!r} is not a phone number")
    email = r.text("email")
    if email and not EMAIL.match(email):
        r.error("email", f"{email!r} is not an e-mail address")
    id_number = (r.values.get("id_number") or "").strip().upper() or None
    if id_number and not _ID_NUMBER.match(id_number):
        r.error("id_number", f"{id_number!r} is not an identity number (17 digits and a digit or X)")

    affiliations, problems = parse_affiliations(r.values.get("affiliations") or "")
    for problem in problems:
        r.error("affiliations", problem)
    relatives, problems = parse_relatives(r.values.get("relatives") or "")
    for problem in problems:
        r.error("relatives", problem)

    if r.errors:
        return None
    return ExpertRow(
        id=expert_id, city=city, name=name, specialties=specialties, title=title, region=region,
        active=active, max_concurrent=cap, phone=phone, email=email, id_number=id_number,
        affiliations=affiliations, relatives=relatives, row=r.number,
    )


def _format_day(day: date | None) -> str:
    return day.isoformat() if day else ""


def expert_to_record(row: ExpertRow) -> dict[str, str]:
    return {
        "id": row.id,
        "city": row.city,
        "name": row.name,
        "title": row.title,
        "specialties": ";".join(row.specialties),
        "region": row.region,
        "active": "true" if row.active else "false",
        "max_concurrent": str(row.max_concurrent),
        "phone": row.phone,
        "email": row.email,
        "id_number": row.id_number or "",
        "affiliations": ";".join(
            f"{a.institution_id}:{_format_day(a.started_on)}:{_format_day(a.ended_on)}"
            for a in row.affiliations
        ),
        "relatives": ";".join(f"{p.name}:{p.relation}:{p.id_number or ''}" for p in row.relatives),
    }


def format_pool_csv(rows: Iterable[ExpertRow]) -> str:
    """The pool file of `rows` (every column, codes for specialties): `parse_pool_csv` reads it back."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(expert_to_record(row))
    return out.getvalue()


# ---------------------------------------------------------------- the institutions file -----------------
def parse_institutions_csv(text: str) -> Parsed:
    """Institutions and the medical groups they are sites of: `id,name,city,group_id,group_name,address`."""
    errors: list[RowError] = []
    opened = _reader(text, INSTITUTION_COLUMNS, INSTITUTION_REQUIRED, errors)
    if opened is None:
        return Parsed([], errors, 0)
    header, reader = opened
    rows: list[InstitutionRow] = []
    first_seen: dict[str, int] = {}
    group_names: dict[str, str] = {}
    total = 0
    try:
        for r in _records(header, reader, errors):
            total += 1
            institution_id = r.ident("id")
            if institution_id in first_seen:
                r.error("id", f"duplicate id {institution_id!r} (first at row {first_seen[institution_id]})")
            elif institution_id:
                first_seen[institution_id] = r.number
            name, city = r.text("name", required=True, limit=200), r.text("city")
            address = r.text("address")
            group_id = r.ident("group_id", required=False) or None
            group_name = r.text("group_name", limit=200)
            if group_name and not group_id:
                r.error("group_id", "a group name needs the group's id")
            if group_id and group_name and group_names.setdefault(group_id, group_name) != group_name:
                r.error("group_name", f"group {group_id!r} is named {group_names[group_id]!r} above")
            errors.extend(r.errors)
            if not r.errors:
                rows.append(
                    InstitutionRow(institution_id, name, city, group_id, group_name, address, row=r.number)
                )
    except csv.Error as err:
        errors.append(RowError(total + 2, "file", f"not a readable CSV: {err}"))
    return Parsed(rows, errors, total)
