"""The clock projection: what a case row shows of its clocks, and what it keeps to recompute them. Pure.

The case's workflow (workflows/dispute.py) writes `project(...)` to the row whenever its clocks, its fired timers
or its calendar change, and staff read the deadlines from there. The projection also keeps what it was computed
from, so that loading a calendar year recomputes every open case's deadlines in one batch from the database
(api/services/calendar.py `load`), without replaying thousands of workflows:

| Key | What |
|---|---|
| `ledger`, `due_date`, `provisional`, `paused`, `deadlines`, `payment_overdue`, `effective_on` | what staff read |
| `case_clocks` | the case's clocks (`CaseClocks.to_dict`) |
| `fired` | the keys of the timers already fired (a fired timer never fires twice) |
| `hold_provisional` | a provisional deadline holds the case (rev 2); false for cases started before rev 2 |
| `policy` | the clock lengths the case started with (a running case keeps them, domain/policy.py) |
| `next_timer` | the earliest pending timer, `{"key", "at"}`: the one the workflow sleeps until |

Only the workflows whose `next_timer` moved (another key, or another instant) must be told of a loaded year; the
others wake at the instant they already sleep until, and refresh their calendar then. The row's `clock` column
holds the ledger and these keys (`columns`), so a row written before they existed is recognised (`stored` is None)
and its workflow is told as before.

`columns` also gives the row its `next_deadline`: the soonest day among the pending deadlines, whatever their kind
(the worklists' order, api/services/worklist.py). It is derived from `deadlines` where the columns are made, not
kept in the projection itself, so every path that writes the clock columns (the workflow's projection through
models/repo.py, the calendar's batch through models/repo_clocks.py) writes it in step, and the projection the
workflow compares with the one it wrote last is unchanged for the cases already running.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.clock import WorkingDayCalendar
from domain.deadlines import CaseClocks, Timer, timers
from domain.policy import ClockPolicy

# What the row keeps, beside the ledger, to recompute the projection without the workflow.
RECOMPUTE_KEYS = ("case_clocks", "fired", "hold_provisional", "policy", "next_timer")


def pending(
    clocks: CaseClocks, *, fired: Collection[str], calendar: WorkingDayCalendar, policy: ClockPolicy,
    hold_provisional: bool, grace_wording: bool = True,
) -> list[Timer]:
    """The timers not fired yet, earliest first: what the workflow sleeps on."""
    every = timers(clocks, calendar=calendar, policy=policy, hold_provisional=hold_provisional,
                   grace_wording=grace_wording)
    return [t for t in every if t.key not in fired]


def earliest(
    clocks: CaseClocks, *, fired: Collection[str], calendar: WorkingDayCalendar, policy: ClockPolicy,
    hold_provisional: bool,
) -> tuple[str, datetime] | None:
    """The earliest pending timer, (key, at), or None when nothing is pending."""
    left = pending(clocks, fired=fired, calendar=calendar, policy=policy, hold_provisional=hold_provisional)
    return (left[0].key, left[0].at) if left else None


def project(
    clocks: CaseClocks, *, fired: Collection[str], calendar: WorkingDayCalendar, policy: ClockPolicy,
    hold_provisional: bool, payment_overdue: bool, grace_wording: bool = True,
) -> dict[str, Any]:
    """What the case row shows of the clocks (the ledger, the due date, every pending deadline) and what it keeps
    to recompute them. JSON-safe and deterministic: the workflow compares it with the one it wrote last, so a
    case started before "grace-wording" projects exactly as it did (no `grace_wording` key)."""
    due = clocks.mediation.due_date(calendar)
    left = pending(clocks, fired=fired, calendar=calendar, policy=policy, hold_provisional=hold_provisional,
                   grace_wording=grace_wording)
    deadlines = [t.to_dict() for t in left]
    return ({"grace_wording": True} if grace_wording else {}) | {
        "ledger": clocks.mediation.to_dict(),
        "due_date": due.date.isoformat() if due else None,
        "provisional": any(d["provisional"] for d in deadlines),  # a pending deadline in an unknown year
        "paused": clocks.mediation.paused,
        "deadlines": deadlines,
        "payment_overdue": payment_overdue,
        "effective_on": clocks.effective_on.isoformat() if clocks.effective_on else None,
        "case_clocks": clocks.to_dict(),
        "fired": sorted(fired),
        "hold_provisional": hold_provisional,
        "policy": policy.to_dict(),
        "next_timer": {"key": left[0].key, "at": left[0].at.isoformat()} if left else None,
    }


def columns(projection: Mapping[str, Any]) -> dict[str, Any]:
    """The case row's columns for a projection (models/tables.py Case): `clock` holds the ledger and, when the
    projection has them, the keys that recompute it."""
    return {
        "clock": {**projection["ledger"],
                  **{k: projection[k] for k in (*RECOMPUTE_KEYS, "grace_wording") if k in projection}},
        "due_date": _date(projection.get("due_date")),
        "due_provisional": bool(projection.get("provisional")),
        "clock_paused": bool(projection.get("paused")),
        "deadlines": list(projection.get("deadlines", [])),
        "payment_overdue": bool(projection.get("payment_overdue")),
        "effective_on": _date(projection.get("effective_on")),
        "next_deadline": next_deadline(projection.get("deadlines", [])),
    }


def next_deadline(deadlines: Iterable[Mapping[str, Any]]) -> date | None:
    """The soonest day among pending deadlines (`Timer.to_dict`'s `due_on`), whatever their kind; None when there
    are none. A reminder names the day of the deadline it is about (a warning names the due date), so this is the
    day the nearest deadline falls on, not the day a reminder fires."""
    days = [date.fromisoformat(d["due_on"]) for d in deadlines if d.get("due_on")]
    return min(days, default=None)


@dataclass(frozen=True)
class Stored:
    """What a case row keeps to recompute its projection."""

    clocks: CaseClocks
    fired: frozenset[str]
    hold_provisional: bool
    policy: ClockPolicy
    next_timer: Mapping[str, Any] | None
    payment_overdue: bool
    grace_wording: bool = False  # absent from a row its workflow wrote before "grace-wording"

    def project(self, calendar: WorkingDayCalendar) -> dict[str, Any]:
        return project(self.clocks, fired=self.fired, calendar=calendar, policy=self.policy,
                       hold_provisional=self.hold_provisional, payment_overdue=self.payment_overdue,
                       grace_wording=self.grace_wording)


def stored(clock: Mapping[str, Any] | None, *, payment_overdue: bool) -> Stored | None:
    """What the row's `clock` column keeps to recompute its projection; None for a row written before it kept it
    (its workflow recomputes). A corrupt record raises `ClockError` (a ValueError)."""
    if not clock or any(k not in clock for k in RECOMPUTE_KEYS):
        return None
    fired = clock["fired"]
    if not isinstance(fired, list) or not all(isinstance(k, str) for k in fired):
        raise ValueError(f"not a list of fired timers: {fired!r}")
    return Stored(
        clocks=CaseClocks.from_dict(clock["case_clocks"]),
        fired=frozenset(fired),
        hold_provisional=bool(clock["hold_provisional"]),
        policy=ClockPolicy.from_dict(clock["policy"]),
        next_timer=clock["next_timer"],
        payment_overdue=payment_overdue,
        grace_wording=bool(clock.get("grace_wording", False)),
    )


def next_timer_moved(before: Mapping[str, Any] | None, projection: Mapping[str, Any]) -> bool:
    """The earliest pending timer is another one, or at another instant: its workflow must be told."""
    after = projection.get("next_timer")
    if before is None or after is None:
        return before != after
    if before.get("key") != after["key"]:
        return True
    try:
        return datetime.fromisoformat(before["at"]) != datetime.fromisoformat(after["at"])
    except (KeyError, TypeError, ValueError):
        return True


def _date(text: Any) -> date | None:
    return date.fromisoformat(text) if text else None
