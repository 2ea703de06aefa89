"""Who may advise on a case, and the random draw among them (Reg 33, 35, 37). Pure.

Eligibility (Reg 37, recusal 回避). Among the pool's experts of the wanted specialty, an expert is excluded who
- is inactive (`inactive`);
- is a party or a party's representative (`party`), or a declared close relative of one (`relative_of_party`):
  people are the same when their identity numbers match, or, where either has none, their names;
- works, or worked within the last `lookback_years` years (policy, default 3), at the respondent institution or
  at any site of its group (`affiliated`);
- has declared a conflict with this case, or was recused on an upheld objection (`declared_conflict`);
- already declined, let an invitation expire or was recused on this case (`declined`, `expired`, `recused`);
- is already on this panel (`on_this_panel`);
- is at their cap of concurrent assignments (`at_capacity`).
Every exclusion is recorded with its reason; the eligible experts form the draw's snapshot.

The draw is uniform over the snapshot, sorted by id, from a recorded seed, with an algorithm written down here
so that anyone can re-run it: for i = 0, 1, ... take HMAC-SHA256(key=seed, message=str(i)) as a big-endian
integer and keep it when it is below the largest multiple of n that fits in 256 bits (rejection sampling, so
every index is equally likely); its remainder modulo n is the index of the chosen expert in the snapshot.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from domain.panel_lifecycle import InvitationStatus

ALGORITHM = "hmac-sha256-rejection-v1"
LOOKBACK_YEARS = 3  # policy default: an affiliation that ended within 3 years still excludes

REASONS: dict[str, str] = {
    "inactive": "已停用",
    "party": "本案当事人或其代理人",
    "relative_of_party": "当事人的近亲属",
    "affiliated": "与被申请医疗机构（含同一医疗集团的院区）存在现任或近期任职关系",
    "declared_conflict": "已声明或经决定与本案存在利害关系",
    "declined": "已拒绝本案邀请",
    "expired": "本案邀请逾期未答复",
    "recused": "已在本案中回避",
    "on_this_panel": "已在本专家组中",
    "at_capacity": "在办咨询已达上限",
}
# How an invitation that ended on this case keeps its expert out of the case's later draws, by its status
# (domain/panel_lifecycle.py): a part of the opinion voided for a conflict counts as a recusal.
EXCLUDED_BY_STATUS: dict[str, str] = {
    InvitationStatus.DECLINED: "declined",
    InvitationStatus.EXPIRED: "expired",
    InvitationStatus.RECUSED: "recused",
    InvitationStatus.VOIDED: "recused",
}
ANSWERED: tuple[str, ...] = tuple(dict.fromkeys(EXCLUDED_BY_STATUS.values()))  # declined, expired, recused


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str | None = None

    def same_as(self, other: Person) -> bool:
        if self.id_number and other.id_number:
            return self.id_number.upper() == other.id_number.upper()
        return bool(self.name) and self.name.strip() == other.name.strip()


@dataclass(frozen=True)
class Affiliation:
    institution_id: str
    started_on: date | None = None
    ended_on: date | None = None  # None: still there


@dataclass(frozen=True)
class Candidate:
    """An expert as the draw sees them."""

    id: str
    name: str
    specialties: frozenset[str]
    active: bool = True
    load: int = 0  # concurrent assignments now
    cap: int = 3
    id_number: str | None = None
    relatives: tuple[Person, ...] = ()
    affiliations: tuple[Affiliation, ...] = ()


@dataclass(frozen=True)
class CaseFacts:
    """What the draw must know of the case and its panel."""

    institution_ids: frozenset[str]  # the respondent institution and every site of its group
    people: tuple[Person, ...]  # the patient and the patient's representatives
    conflicted: frozenset[str] = frozenset()  # declared conflicts and upheld objections
    answered: dict[str, str] = field(default_factory=dict)  # expert id -> a reason of ANSWERED
    on_this_panel: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Exclusion:
    expert_id: str
    reason: str  # a key of REASONS
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"expert_id": self.expert_id, "reason": self.reason, "label": REASONS[self.reason],
                "detail": self.detail}


@dataclass(frozen=True)
class Eligibility:
    snapshot: tuple[str, ...]  # eligible expert ids, sorted
    exclusions: tuple[Exclusion, ...]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class _Rules:
    """The case's side of the rules, worked out once for a whole pool (`eligibility` runs over tens of
    thousands of experts): the horizon of the lookback, and the parties' identity numbers and names as sets,
    which tell at once whether an expert or a relative of theirs can be the same person as some party."""

    def __init__(self, facts: CaseFacts, *, today: date, lookback_years: int) -> None:
        self.facts = facts
        self.horizon = _years_before(today, lookback_years)
        people = facts.people
        self.ids = {p.id_number.upper() for p in people if p.id_number}
        self.names = {p.name.strip() for p in people}  # matched by whoever has no identity number
        self.names_without_id = {p.name.strip() for p in people if not p.id_number}

    def may_be_a_party(self, name: str, id_number: str | None) -> bool:
        """Whether Person(name, id_number).same_as(p) holds for some party p (exactly, without a Person)."""
        if id_number:
            if id_number.upper() in self.ids:
                return True
            return bool(self.names_without_id) and bool(name) and name.strip() in self.names_without_id
        return bool(name) and name.strip() in self.names

    def exclusion(self, c: Candidate) -> Exclusion | None:
        if not c.active:
            return Exclusion(c.id, "inactive")
        if self.may_be_a_party(c.name, c.id_number) or any(
            self.may_be_a_party(r.name, r.id_number) for r in c.relatives
        ):  # the first match in the order of the rule: each party, the expert then each relative
            me = Person(c.name, c.id_number)
            for person in self.facts.people:
                if me.same_as(person):
                    return Exclusion(c.id, "party", person.name)
                for relative in c.relatives:
                    if relative.same_as(person):
                        return Exclusion(c.id, "relative_of_party", person.name)
        facts, horizon = self.facts, self.horizon
        for a in c.affiliations:
            if a.institution_id in facts.institution_ids and (a.ended_on is None or a.ended_on >= horizon):
                until = "至今" if a.ended_on is None else f"至{a.ended_on.isoformat()}"
                return Exclusion(c.id, "affiliated", f"{a.institution_id}（{until}）")
        if c.id in facts.conflicted:
            return Exclusion(c.id, "declared_conflict")
        if c.id in facts.answered:
            return Exclusion(c.id, facts.answered[c.id])
        if c.id in facts.on_this_panel:
            return Exclusion(c.id, "on_this_panel")
        if c.load >= c.cap:
            return Exclusion(c.id, "at_capacity", f"{c.load}/{c.cap}")
        return None


def exclusion_of(
    candidate: Candidate, facts: CaseFacts, *, today: date, lookback_years: int
) -> Exclusion | None:
    """Why `candidate` may not advise on this case, or None. The first reason found is recorded."""
    return _Rules(facts, today=today, lookback_years=lookback_years).exclusion(candidate)


def eligibility(
    candidates: Iterable[Candidate],
    specialty: str,
    facts: CaseFacts,
    *,
    today: date,
    lookback_years: int = LOOKBACK_YEARS,
) -> Eligibility:
    """The experts of `specialty` who may advise on the case, and why each other one may not."""
    rules = _Rules(facts, today=today, lookback_years=lookback_years)
    eligible: list[str] = []
    excluded: list[Exclusion] = []
    for candidate in candidates:
        if specialty not in candidate.specialties:
            continue
        why = rules.exclusion(candidate)
        if why is None:
            eligible.append(candidate.id)
        else:
            excluded.append(why)
    return Eligibility(tuple(sorted(eligible)), tuple(sorted(excluded, key=lambda e: e.expert_id)))


def pick_index(seed: str, n: int) -> int:
    """A uniform index in range(n) from `seed` (the algorithm of the module docstring)."""
    if n < 1:
        raise ValueError("nobody to draw from")
    key = seed.encode()
    bound = (1 << 256) - ((1 << 256) % n)  # the largest multiple of n that fits: no index is favoured
    i = 0
    while True:
        value = int.from_bytes(hmac.new(key, str(i).encode(), hashlib.sha256).digest(), "big")
        if value < bound:
            return value % n
        i += 1


def draw(snapshot: Sequence[str], seed: str) -> str | None:
    """The expert drawn from `snapshot` with `seed`; None when the snapshot is empty."""
    ordered = sorted(snapshot)
    return ordered[pick_index(seed, len(ordered))] if ordered else None
