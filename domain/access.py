"""Who may do what, and on which cases: the roles of DOMAIN.md ("Who uses the product") as one table. Pure.

Two questions, in this order:
1. May this role use this operation at all? (`allows`) — no: 403.
2. Is this case within the caller's reach? (`reaches`) — no: 404, because even the existence of another
   committee's case is private (Reg 42).

Reach: intake staff and directors reach their committee's cases; a mediator reaches the cases assigned to them
at acceptance; a committee-level auditor reaches the committee's cases, a city-level auditor the cases of every
committee of the city. Experts never reach a case here: they see their invitations in the portal. `dev` is the
caller of the embedded stack's dev mode (no credentials): every operation but the experts' portal, every case.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import Forbidden, NotFound
from domain.anonymise import ID_NUMBER, PHONE, replace_matches
from domain.events import EVENT_ROLES, roles_for

DEV = "dev"
STAFF = frozenset({"intake", "mediator", "director"})
CASE_READERS = STAFF | {"auditor"}
EVERYONE = STAFF | {"admin", "expert", "auditor"}
ADMIN = frozenset({"admin"})

# Operation → the roles that may use it. Every route names one (api/access.py); a route without one is refused
# by tests/unit/test_layers.py.
PERMISSIONS: dict[str, frozenset[str]] = {
    "me": EVERYONE,
    "api_keys.manage": ADMIN,
    "cases.read": CASE_READERS,
    "documents.read": CASE_READERS,
    # The parties' files (Reg 42): staff who reach the case upload and withdraw them; they and its auditors read
    # them; an expert reads the medical records and appraisal reports of a case only while holding an accepted
    # seat of one of its open panels (api/services/attachments.py), else they are not found.
    "attachments.list": CASE_READERS,  # a case's list; an expert's is by invitation, in the portal
    "attachments.read": CASE_READERS | {"expert"},
    "attachments.write": STAFF,
    "notifications.read": STAFF | ADMIN,  # an admin: only what is addressed to admins (escalations)
    "notifications.case": STAFF,
    "calendar.read": EVERYONE,
    "calendar.load": ADMIN,
    "calendar.provisional": ADMIN,
    "committees.read": EVERYONE,
    "committees.policy": ADMIN,
    "committees.manage": ADMIN,  # create a committee, edit its name, city and numbering
    "worklist.read": STAFF,  # the caller's own open tasks
    "sessions.read": CASE_READERS,  # the calendar of sessions across the cases in reach
    "users.read": frozenset({"admin", "director"}),  # a director: their committee's accounts (choosing mediators)
    "users.manage": ADMIN,
    "statistics.read": frozenset({"director", "auditor", "admin"}),  # in reach: a committee, or a city
    "pool.vocabulary": EVERYONE,
    "pool.registry": STAFF | {"admin", "auditor"},  # institutions and groups: the respondent of a case
    "pool.read": frozenset({"admin", "director", "auditor"}),
    "pool.manage": ADMIN,
    "pool.figures": frozenset({"admin", "director", "auditor"}),
    "panels.read": CASE_READERS,
    "panels.manage": frozenset({"mediator", "director"}),  # redraw a seat, schedule the meeting
    "panels.object": STAFF,  # record a party's request for recusal (回避申请)
    "panels.decide": frozenset({"director"}),  # the committee decides on it
    "portal": frozenset({"expert"}),
    "audit.read": frozenset({"auditor", "admin"}),
    # A case entered from paper records after the fact (历史案件补录): registered and its acts recorded at their own
    # times (X-Occurred-At; each act by the role the law gives it), then the entry completed.
    "history.enter": STAFF,
    "history.complete": frozenset({"intake", "director"}),
    **{f"event.{event}": frozenset(roles) for event, roles in EVENT_ROLES.items()},
}
# Operations that need an identity of the role itself (an expert of the pool): not even dev mode stands in.
NEEDS_OWN_IDENTITY = frozenset({"portal"})
# Operations whose callers are served a case's personal information in full (DOMAIN.md "Privacy").
SEES_PERSONAL_INFORMATION = STAFF | {DEV}


@dataclass(frozen=True)
class Caller:
    """Who is asking, with what reach: from their account (or, in dev mode, the X-Actor-* headers)."""

    user_id: str  # the username; an expert's pool id
    name: str
    role: str
    committee_id: str | None = None
    city: str | None = None
    expert_id: str | None = None
    checks_reach: bool = True  # False for dev-mode callers named by headers: roles apply, committees do not

    @property
    def is_dev(self) -> bool:
        return self.role == DEV


@dataclass(frozen=True)
class CaseScope:
    """What a list of cases is narrowed to: None means no narrowing on that column."""

    committee_ids: frozenset[str] | None = None
    mediator_id: str | None = None

    @property
    def empty(self) -> bool:
        return self.committee_ids is not None and not self.committee_ids


def allows(caller: Caller, operation: str) -> bool:
    roles = PERMISSIONS[operation]
    return caller.role in roles or (caller.is_dev and operation not in NEEDS_OWN_IDENTITY)


def require(caller: Caller, operation: str) -> None:
    if not allows(caller, operation):
        who = "dev mode" if caller.is_dev else f"the role {caller.role!r}"
        wanted = ", ".join(sorted(PERMISSIONS[operation]))
        raise Forbidden(f"{who} may not do this ({operation}); it is for: {wanted}",
                        operation=operation, roles=sorted(PERMISSIONS[operation]))


def require_event(caller: Caller, event: str, payload: Mapping[str, Any]) -> None:
    """The roles of the event as its payload asks for it (events.roles_for), past those of its endpoint."""
    roles = roles_for(event, payload)
    if caller.role in roles or caller.is_dev:
        return
    if roles != roles_for(event, {}):  # the payload asks for more than the event: the committee seal
        raise Forbidden(f"only the committee seal is the director's (Reg 39): the role {caller.role!r} records the "
                        "signatures of the parties and the mediator, not the seal", operation=f"event.{event}",
                        roles=sorted(roles))
    raise Forbidden(f"the role {caller.role!r} may not do this ({event}); it is for: {', '.join(roles)}",
                    operation=f"event.{event}", roles=sorted(roles))


def case_scope(caller: Caller, committees_by_city: Mapping[str, Collection[str]]) -> CaseScope:
    """The cases a caller reaches, as filters for a list."""
    if caller.is_dev or not caller.checks_reach or caller.role == "admin":
        return CaseScope()
    if caller.role == "auditor" and caller.committee_id is None:
        return CaseScope(committee_ids=frozenset(committees_by_city.get(caller.city or "", ())))
    committees = frozenset({caller.committee_id} if caller.committee_id else set())
    return CaseScope(committee_ids=committees, mediator_id=caller.user_id if caller.role == "mediator" else None)


def reaches(caller: Caller, *, committee_id: str, committee_city: str, mediator_ids: Collection[str]) -> bool:
    if caller.is_dev or not caller.checks_reach:
        return True
    if caller.role == "auditor":
        return committee_id == caller.committee_id if caller.committee_id else committee_city == caller.city
    if caller.role in STAFF and committee_id == caller.committee_id:
        return caller.role != "mediator" or caller.user_id in mediator_ids
    return False


def require_reach(caller: Caller, *, kind: str, ident: str, committee_id: str, committee_city: str,
                  mediator_ids: Collection[str]) -> None:
    """404 with the words of a missing record: another committee's case is not confirmed to exist."""
    if not reaches(caller, committee_id=committee_id, committee_city=committee_city, mediator_ids=mediator_ids):
        raise NotFound(f"{kind} {ident!r} not found")


# ------------------------------------------------------------------ personal information -----------------
_PERSONAL_KEYS = frozenset({"id_number", "phone"})


def mask_value(key: str, value: str) -> str:
    """310101198001011234 → 310101********1234; 13800138000 → 138****8000."""
    if key == "id_number":
        return value[:6] + "*" * max(0, len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)
    return value[:3] + "*" * max(0, len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def _names_a_record(key: str) -> bool:
    """Keys whose values are ids, hashes or numbers of the system's own: never personal, never masked."""
    return key in ("id", "number", "hash", "prev_hash") or key.endswith(("_id", "_ids", "sha256", "_hash", "_seq",
                                                                        "_number"))


_HEX = re.compile(r"[0-9a-f]{16,}")


def mask_personal(data: Any, key: str = "") -> Any:
    """`data` with every identity and phone number masked, in structured fields and in free text; ids, hashes
    and document numbers of the system are left as they are."""
    if isinstance(data, dict):
        return {k: mask_value(k, v) if k in _PERSONAL_KEYS and isinstance(v, str) else mask_personal(v, k)
                for k, v in data.items()}
    if isinstance(data, list):
        return [mask_personal(v, key) for v in data]
    if isinstance(data, str) and not _names_a_record(key) and not _HEX.fullmatch(data):
        text = replace_matches(data, ID_NUMBER, lambda found: mask_value("id_number", found))
        return replace_matches(text, PHONE, lambda found: mask_value("phone", found))
    return data


def sees_personal_information(caller: Caller) -> bool:
    return caller.role in SEES_PERSONAL_INFORMATION
