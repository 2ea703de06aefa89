"""The law of an expert consultation (Reg 33, 35, 37): every state of an invitation, of a seat of the panel and of
the panel itself, and the moves between them, in one place.

Three `StateMachine`s, declared like the case's (domain/lifecycle.py):
- `InvitationLifecycle`: one expert drawn for one seat. Invited, the expert accepts, declines or lets the answer
  clock run out; accepted, they give their part of the opinion once; a conflict recuses them (after their opinion
  it voids that part); the panel closing with the case cancels what is still open.
- `SeatLifecycle`: one seat of the panel's mix (e.g. the second obstetrician), filled by one expert after another:
  drawn, answering, accepted, opinion given; emptied when its expert leaves and drawn again; left unfilled when
  the pool has nobody eligible, until staff draw again.
- `PanelLifecycle`: being drawn, complete (every seat accepted), opinion (every part given), closed.

The states' ids are the values stored in the tables and recorded in workflow histories: never rename one. The
enums below (`InvitationStatus`, `SeatStatus`, `PanelStatus`) are the catalogue every other module names them by.

Each machine is compiled once into a lookup (`Lifecycle`): `next(status, event, **facts)` answers the new status or
refuses — `IllegalTransition` (409) when the event has no move from that status, `RuleViolated` (409) when it has
but a guard refuses — without building a machine per check. Guards take the facts by keyword (`opinion_given`,
`reason`), as the case's do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from statemachine import State, StateMachine

from core.errors import IllegalTransition, RuleViolated


# ---------------------------------------------------------------- the machines --------------------------------
class InvitationLifecycle(StateMachine):
    """One expert drawn for one seat, from the invitation to their part of the opinion."""

    invited = State("待答复", initial=True)
    accepted = State("已接受")
    declined = State("已拒绝", final=True)
    expired = State("逾期未答复", final=True)
    recused = State("已回避", final=True)
    voided = State("意见作废", final=True)
    cancelled = State("已撤销", final=True)

    # The expert answers within the answer clock (2 WD, policy); the case's identity is shown on acceptance
    accept = invited.to(accepted)
    decline = invited.to(declined, cond="reason_given")  # with a reason; a replacement is drawn for the seat
    # Silence until 24:00 of the answer clock's last day (Civil Code 203); a replacement is drawn
    expire = invited.to(expired)
    # Reg 33: each expert gives their part of the opinion (专家咨询意见书) once
    give_opinion = accepted.to.itself(unless="opinion_given", internal=True)
    # Reg 37 (回避): a conflict the expert declares, or a party's objection staff uphold, with its reason. Found after
    # the opinion, it voids that part (kept, marked void) and the opinion is given again.
    recuse = (
        invited.to(recused, cond="reason_given")
        | accepted.to(voided, cond=["opinion_given", "reason_given"])
        | accepted.to(recused, cond="reason_given", unless="opinion_given")
    )
    # The case left mediation: the panel closes, what is still open is cancelled (the expert's load is freed); a
    # part of the opinion already given stays as it is
    cancel = invited.to(cancelled) | accepted.to(cancelled, unless="opinion_given")

    def reason_given(self, reason: str = "", **_: Any) -> bool:
        return bool(reason.strip())

    def opinion_given(self, opinion_given: bool = False, **_: Any) -> bool:
        return opinion_given


class SeatLifecycle(StateMachine):
    """One seat of the panel's mix (a specialty), held by one drawn expert after another."""

    drawing = State("抽取中", initial=True)
    invited = State("待答复")
    accepted = State("已接受")
    opinion = State("已提交意见")
    unfilled = State("无可抽取专家")

    # Reg 35, 37: drawn uniformly among the pool's eligible experts of the seat's specialty, from a recorded seed
    # and snapshot
    fill = drawing.to(invited)
    # Nobody eligible is left: staff are told; the case is never blocked, its clock runs on (Reg 33)
    exhaust = drawing.to(unfilled)
    redraw = unfilled.to(drawing)  # staff draw again (the pool grew, a cap was raised)
    accept = invited.to(accepted)
    give_opinion = accepted.to(opinion)  # Reg 33
    # The expert left (declined, expired, recused; after the opinion, voided, Reg 37): a replacement of the same
    # specialty keeps the panel's mix
    vacate = invited.to(drawing) | accepted.to(drawing) | opinion.to(drawing)


class PanelLifecycle(StateMachine):
    """A consultation panel (专家咨询, Reg 33), a child of its case."""

    drawing = State("组建中", initial=True)
    complete = State("已组成")
    opinion = State("已出具意见")
    closed = State("已结束", final=True)

    # Reg 33: every seat's expert accepted; staff are told to schedule the meeting
    constitute = drawing.to(complete)
    # Every expert gave their part: the case issues the 专家咨询意见书 (a new version after a voided part)
    conclude = complete.to(opinion)
    # Reg 37: an expert left (a conflict, an upheld objection; after the opinion, a voided part): a seat is drawn again
    reopen = complete.to(drawing) | opinion.to(drawing)
    # The meeting is scheduled once every seat has accepted
    schedule_meeting = complete.to.itself(internal=True) | opinion.to.itself(internal=True)
    # The case left mediation (settled, failed, terminated...): the panel closes with it; it never pauses the clock
    close = drawing.to(closed) | complete.to(closed) | opinion.to(closed)


# ---------------------------------------------------------------- the catalogue -------------------------------
class InvitationStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    RECUSED = "recused"
    VOIDED = "voided"
    CANCELLED = "cancelled"


class SeatStatus(StrEnum):
    DRAWING = "drawing"
    INVITED = "invited"
    ACCEPTED = "accepted"
    OPINION = "opinion"
    UNFILLED = "unfilled"


class PanelStatus(StrEnum):
    DRAWING = "drawing"
    COMPLETE = "complete"
    OPINION = "opinion"
    CLOSED = "closed"


# ---------------------------------------------------------------- the compiled lookup ---------------------------
@dataclass(frozen=True)
class _Move:
    target: str
    guards: tuple[tuple[str, bool], ...]  # (guard, the value it must give): `unless` guards must give False


def _guard_name(spec: Any) -> str:
    func = spec.func
    return func if isinstance(func, str) else func.__name__


class Lifecycle:
    """A StateMachine's transitions compiled into a lookup, with its refusals in words.

    Built once per machine at import; each check is a dictionary lookup and, where the move has guards, a call of
    each guard on one shared instance (the guards are pure)."""

    def __init__(
        self,
        machine: type[StateMachine],
        noun: str,
        *,
        rules: Mapping[str, str],
        hints: Mapping[str, str] | None = None,
    ) -> None:
        self.machine = machine
        self.noun = noun
        self.states: tuple[str, ...] = tuple(s.id for s in machine.states)  # type: ignore[attr-defined]
        self.labels: dict[str, str] = {s.id: s.name for s in machine.states}  # type: ignore[attr-defined]
        self.final = frozenset(s.id for s in machine.states if s.final)  # type: ignore[attr-defined]
        self.events: tuple[str, ...] = tuple(e.id for e in machine.events)  # type: ignore[attr-defined]
        self._rules = dict(rules)  # a guard's name, or "not <name>" for an `unless`, -> the rule in words
        self._hints = dict(hints or {})  # an event -> what a refusal of it should add
        self._moves: dict[tuple[str, str], tuple[_Move, ...]] = {}
        for state in machine.states:  # type: ignore[attr-defined]
            for transition in state.transitions:  # in declaration order: the first move whose guards pass wins
                guards = tuple((_guard_name(spec), bool(spec.expected_value)) for spec in transition.cond)
                for event in transition.event.split(" "):
                    key = (state.id, event)
                    self._moves[key] = (*self._moves.get(key, ()), _Move(transition.target.id, guards))
        self._allowed: dict[str, tuple[str, ...]] = {
            status: tuple(e for e in self.events if (status, e) in self._moves) for status in self.states
        }
        self._events_to: dict[tuple[str, str], tuple[str, ...]] = {}
        for (status, event), moves in self._moves.items():
            for move in moves:
                key = (status, move.target)
                if event not in self._events_to.get(key, ()):
                    self._events_to[key] = (*self._events_to.get(key, ()), event)
        initial = next(s.id for s in machine.states if s.initial)  # type: ignore[attr-defined]
        self._guards = machine(start_value=initial)
        self.initial: str = initial
        self.open = frozenset(self.states) - self.final

    def _known(self, status: str) -> None:
        if status not in self._allowed:
            raise ValueError(f"unknown {self.noun} status {status!r}; one of {', '.join(self.states)}")

    def allowed(self, status: str) -> list[str]:
        """The events that have a move from `status`, before any fact is looked at."""
        self._known(status)
        return list(self._allowed[status])

    def _passes(self, move: _Move, facts: Mapping[str, Any]) -> bool:
        return all(bool(getattr(self._guards, name)(**facts)) is expected for name, expected in move.guards)

    def allows(self, status: str, event: str, **facts: Any) -> bool:
        self._known(status)
        return any(self._passes(move, facts) for move in self._moves.get((status, event), ()))

    def next(self, status: str, event: str, **facts: Any) -> str:
        """The status `event` leads to from `status` given its facts; a refusal naming what is allowed."""
        self._known(status)
        moves = self._moves.get((status, event))
        if not moves:
            hint = f": {self._hints[event]}" if event in self._hints else ""
            allowed = list(self._allowed[status])
            raise IllegalTransition(
                f"'{event}' is not allowed when the {self.noun} is {status} ({self.labels[status]}){hint}; "
                f"allowed: {', '.join(allowed) or 'none'}",
                state=status, event=event, allowed=allowed,
            )
        for move in moves:
            if self._passes(move, facts):
                return move.target
        refused = min(  # the guards of the move that came closest (fewest refusals)
            ([self._rule_key(name, expected) for name, expected in move.guards
              if bool(getattr(self._guards, name)(**facts)) is not expected] for move in moves),
            key=len,
        )
        rules = "; ".join(self._rules.get(key, key) for key in refused)
        raise RuleViolated(f"'{event}' refused: {rules}", state=status, event=event, rules=refused)

    @staticmethod
    def _rule_key(name: str, expected: bool) -> str:
        return name if expected else f"not {name}"

    def event_to(self, status: str, target: str, **facts: Any) -> str:
        """The event that moves `status` to `target` given the facts: for a status derived from others (the
        panel's from its seats). Refused as `next` refuses."""
        self._known(status)
        self._known(target)
        for event in self._events_to.get((status, target), ()):
            if any(move.target == target and self._passes(move, facts) for move in self._moves[(status, event)]):
                return event
        allowed = list(self._allowed[status])
        raise IllegalTransition(
            f"the {self.noun} cannot go from {status} ({self.labels[status]}) to {target} ({self.labels[target]}); "
            f"allowed: {', '.join(allowed) or 'none'}",
            state=status, event=f"-> {target}", allowed=allowed,
        )

    def move(self, status: str, target: str, **facts: Any) -> str:
        """`target` (a plain string, as stored), once the lifecycle has a legal move there from `status` (see
        `event_to`)."""
        self.event_to(status, target, **facts)
        return str(target)


INVITATION = Lifecycle(
    InvitationLifecycle, "invitation",
    rules={
        "reason_given": "a decline or a recusal states its reason (Reg 37)",
        "opinion_given": "only a part of the opinion already given can be voided",
        "not opinion_given": "the expert's part of the opinion was already given: a conflict found now voids it "
        "(declare the conflict)",
    },
    hints={
        "accept": "an invitation is answered once, while it waits for the answer",
        "decline": "an invitation is answered once, while it waits for the answer",
        "give_opinion": "the expert accepts the invitation before giving an opinion",
        "recuse": "the expert is no longer on the panel",
        "expire": "only an invitation waiting for its answer expires",
    },
)
SEAT = Lifecycle(
    SeatLifecycle, "seat", rules={},
    hints={"redraw": "only a seat the pool could not fill is drawn again"},
)
PANEL = Lifecycle(
    PanelLifecycle, "panel", rules={},
    hints={"schedule_meeting": "the meeting is scheduled once every expert of the panel has accepted"},
)

# The catalogue and the machines name the same states (checked here, at import).
for _catalogue, _lifecycle in ((InvitationStatus, INVITATION), (SeatStatus, SEAT), (PanelStatus, PANEL)):
    if {s.value for s in _catalogue} != set(_lifecycle.states):
        raise RuntimeError(f"{_catalogue.__name__} and the {_lifecycle.noun}'s lifecycle name different states")

# An invitation that has not ended: it counts against the expert's cap until their opinion is in, and keeps them
# off this panel's later draws.
OPEN_INVITATIONS: tuple[str, ...] = tuple(s for s in INVITATION.states if s not in INVITATION.final)
ENDED_INVITATIONS: tuple[str, ...] = tuple(s for s in INVITATION.states if s in INVITATION.final)

# How the seat follows its expert's invitation: each move of the invitation, the seat's. The invitation's closing
# (`cancel`) leaves the seat as it was: the panel closes around it.
SEAT_EVENT: dict[str, str] = {
    "accept": "accept",
    "give_opinion": "give_opinion",
    "decline": "vacate",
    "expire": "vacate",
    "recuse": "vacate",
}
_INVITATION_OF_SEAT: dict[str, tuple[str, bool]] = {
    SeatStatus.INVITED: (InvitationStatus.INVITED, False),
    SeatStatus.ACCEPTED: (InvitationStatus.ACCEPTED, False),
    SeatStatus.OPINION: (InvitationStatus.ACCEPTED, True),
}


def invitation_of_seat(seat: str) -> tuple[str, bool] | None:
    """The status of the seat's current invitation and whether its opinion is given; None for a seat being drawn
    or left unfilled (nobody holds it)."""
    SEAT._known(seat)
    return _INVITATION_OF_SEAT.get(seat)


def seat_of_invitation(invitation: str | None, *, opinion_given: bool, unfilled: bool) -> str:
    """The seat's status from its latest invitation that has not ended (None: there is none)."""
    if invitation is None or invitation in INVITATION.final:
        return SeatStatus.UNFILLED if unfilled else SeatStatus.DRAWING
    INVITATION._known(invitation)
    if invitation == InvitationStatus.ACCEPTED and opinion_given:
        return SeatStatus.OPINION
    return SeatStatus(invitation)


def panel_status_of(seats: Iterable[str]) -> str:
    """The panel's status its seats call for: opinion when every part is given, complete when every seat has
    accepted, otherwise still drawing."""
    states = set(seats)
    if states == {SeatStatus.OPINION}:
        return PanelStatus.OPINION
    if states <= {SeatStatus.ACCEPTED, SeatStatus.OPINION}:
        return PanelStatus.COMPLETE
    return PanelStatus.DRAWING
