"""The tamper-evident audit trail, as pure rules: the canonical form of an entry, its hash, and the check of a
chain of entries.

Each entry carries the hash of the one before it (`prev_hash`; the first one carries GENESIS) and its own
`hash = sha256(prev_hash + canonical(fields))`. Altering a stored entry breaks its own hash; deleting,
inserting or reordering entries breaks the link of the entry that follows. Removing entries at the end leaves
no broken link: compare the head hash with one noted earlier for that.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The hashed fields of an entry, in no particular order (the canonical form sorts them). The id is not among
# them: it is the chain's order, which the links protect.
FIELDS = (
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "committee_id",
    "action",
    "target_type",
    "target_id",
    "request_id",
    "status_code",
    "payload_sha256",
)

ALTERED = "the row's hash does not match its content (the row was altered)"
UNLINKED = ("the row's prev_hash does not match the previous row's hash "
            "(a row was deleted, inserted or reordered)")


def _value(name: str, value: Any) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name}: naive datetime; give every time with its offset")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, float):
        raise TypeError(f"{name}: no floats in an audit entry (their text form is not canonical)")
    if isinstance(value, (str, int)):  # a subclass (an enum member): its plain value
        return str(value) if isinstance(value, str) else int(value)
    raise TypeError(f"{name}: {type(value).__name__} has no canonical form")


_SORTED_FIELDS = tuple(sorted(FIELDS))
_attributes = operator.attrgetter(*_SORTED_FIELDS)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


def canonical(fields: Mapping[str, Any]) -> bytes:
    """Sorted-key, compact JSON in UTF-8; times in UTC ISO 8601 with microseconds; no floats."""
    missing = [name for name in FIELDS if name not in fields]
    if missing:
        raise ValueError(f"audit entry without {', '.join(missing)}")
    return _ENCODER.encode({name: _value(name, fields[name]) for name in _SORTED_FIELDS}).encode("utf-8")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(fields)).hexdigest()


def payload_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fields_of(entry: Any) -> dict[str, Any]:
    """The hashed fields of a stored entry (any object with those attributes: a row, a named tuple)."""
    return dict(zip(_SORTED_FIELDS, _attributes(entry), strict=True))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int  # entries read, up to and including the first broken one
    first_broken: tuple[int, str] | None  # (id, reason)
    head_hash: str  # the hash of the last entry read (GENESIS for an empty chain)


def _content_matches(entry: Any) -> bool:
    try:
        return entry_hash(entry.prev_hash, fields_of(entry)) == entry.hash
    except (TypeError, ValueError):  # a value altered into something no entry can hold (a float, a bad hash)
        return False


def verify_chain(entries: Iterable[Any]) -> ChainReport:
    """Check entries given in chain order (objects with id, prev_hash, hash and the FIELDS); stop at the first
    broken one. Takes any iterable, so a caller can stream rows."""
    expected_prev = GENESIS
    checked = 0
    for entry in entries:
        checked += 1
        reasons = []
        if entry.prev_hash != expected_prev:
            reasons.append(UNLINKED)
        if not _content_matches(entry):
            reasons.append(ALTERED)
        if reasons:
            return ChainReport(ok=False, checked=checked, first_broken=(entry.id, "; ".join(reasons)),
                               head_hash=expected_prev)
        expected_prev = entry.hash
    return ChainReport(ok=True, checked=checked, first_broken=None, head_hash=expected_prev)
