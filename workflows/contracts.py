"""What goes in and out of the dispute workflow and its activities: plain dataclasses.

Fields are only ever added (with defaults), so that running workflows keep decoding their history.
Payloads are JSON-ready dicts (amounts as strings, times as ISO 8601), validated by the API's schemas.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_TASK_QUEUE = "disputes"


def documents_queue(task_queue: str) -> str:
    """Documents are rendered and sealed on a task queue of their own, by workers apart from the cases' (a
    process pool in the embedded stack): an action never waits for a PDF."""
    return f"{task_queue}-documents"


# The names callers use, so that the API starts without importing the workflows' code (and what they import:
# the PDF renderer). tests/unit/test_workflow_names.py checks them against the definitions.
DISPUTE_WORKFLOW = "DisputeWorkflow"
APPLY_EVENT = "apply_event"
SNAPSHOT = "snapshot"
COMPLETE_ENTRY = "complete_entry"  # a case entered from records joins the present
CALENDAR_LOADED = "calendar_loaded"
PANEL_UPDATES = ("redraw_slot", "schedule_meeting", "recuse", "answer", "submit_opinion")


def workflow_id(case_id: str) -> str:
    return f"dispute-{case_id}"


@dataclass
class Actor:
    id: str
    name: str
    role: str = "staff"

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


SYSTEM = Actor(id="system", name="系统", role="system")


@dataclass
class OpenDispute:
    """Starts a DisputeWorkflow: the registration (Reg 31¶2–3) as the API validated it."""

    case_id: str
    registration: dict[str, Any]
    actor: Actor
    request_id: str = ""
    policy: dict[str, Any] = field(default_factory=dict)  # the committee's ClockPolicy
    calendar: dict[str, Any] = field(default_factory=dict)  # the loaded year tables (WorkingDayCalendar)
    # A run continued from an earlier one (its history grew long): the case as that run left it.
    carried: CarriedCase | None = None
    # Continue as new after this many history events (0: when the server suggests it, ~4k events / ~4 MB).
    history_limit: int = 0
    # A case entered from paper records after the fact (历史案件补录): the moment it was registered. Its clock is
    # the time of its last recorded act until the entry is completed (see DisputeWorkflow).
    entered_at: datetime | None = None


def action_digest(event: str, payload: dict[str, Any]) -> str:
    """What identifies a request's content: the same event with the same payload gives the same digest."""
    canonical = json.dumps([event, payload], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class StaffAction:
    """One lifecycle event asked for by a member of staff (the argument of the `apply_event` Update).

    rev 2, every action safe to repeat and to race:
    - `idempotency_key`: the client's Idempotency-Key; the same key returns the first answer and changes nothing,
      the same key with another request (`digest`) is refused;
    - `expected_version`: the client's If-Match; the action applies only to that version of the case;
    - `seen_version`: the version the API read when it pre-checked; an action of the same kind (a self-loop)
      recorded since then makes this one a repeat (same digest: the first answer) or a conflict (409).
    """

    event: str
    payload: dict[str, Any]
    actor: Actor
    request_id: str = ""
    idempotency_key: str = ""
    digest: str = ""  # action_digest of what the client sent; computed from event and payload when empty
    expected_version: int | None = None
    seen_version: int | None = None
    # The moment the act took place, for a case entered from paper records (X-Occurred-At); None: now.
    occurred_at: datetime | None = None
    # The stored calendar's digest as the API read it when it pre-checked (calendar_digest): the workflow reads the
    # year tables again before the act only when it knows other tables ("" for acts not asked through the API).
    calendar: str = ""


@dataclass
class ActionResult:
    case_id: str
    event: str
    from_status: str
    status: str
    seq: int
    at: datetime
    allowed_events: list[str]
    document_ids: list[str] = field(default_factory=list)
    session_id: str | None = None
    panel_id: str | None = None
    repeated: bool = False  # the answer to an earlier, identical request (nothing changed this time)


@dataclass
class CaseSnapshot:
    case_id: str
    status: str
    seq: int
    allowed_events: list[str]


@dataclass
class DisputeOutcome:
    case_id: str
    status: str
    seq: int


@dataclass
class RegistrationRecord:
    case_id: str
    registration: dict[str, Any]
    actor: Actor
    at: datetime
    clock: dict[str, Any] | None = None  # the clocks' projection (see ClockProjection)


@dataclass
class TransitionRecord:
    case_id: str
    seq: int
    event: str
    from_status: str
    to_status: str
    actor: Actor
    at: datetime
    payload: dict[str, Any]
    request_id: str = ""
    clock: dict[str, Any] | None = None  # the clocks after the event (see ClockProjection)
    idempotency_key: str | None = None
    request_digest: str | None = None
    # The documents the event issues, recorded as pending with the transition: the action answers with their
    # ids, and they are rendered apart (RenderRequest.document_ids).
    documents: list[DocumentOrder] = field(default_factory=list)
    # The stored calendar's digest the act was decided on, when the workflow took it from the action instead of
    # reading the year tables (StaffAction.calendar): the write checks it in its own transaction and refuses
    # (CALENDAR_CHANGED, with the stored tables) when a year was loaded since. "": nothing to check.
    calendar: str = ""


# The error type of a transition's write refused because a calendar year was loaded since the act was decided.
CALENDAR_CHANGED = "CalendarChanged"


@dataclass
class DocumentOrder:
    """A document an event issues, named before it is rendered: its id (one per language), kind and language."""

    id: str
    kind: str
    lang: str


@dataclass
class ClockProjection:
    """What the case row shows of the clocks: the mediation clock's ledger, its due date, whether it is paused
    or provisional, every pending deadline, and the payment-overdue flag (written by the workflow)."""

    case_id: str
    clock: dict[str, Any]


@dataclass
class NotificationRecord:
    id: str
    case_id: str
    kind: str
    recipient_role: str
    recipients: list[str]
    message: str
    at: datetime
    due_on: str | None = None  # the day the deadline names (ISO)


@dataclass
class RenderRequest:
    case_id: str
    kind: str
    source_seq: int
    at: datetime
    document_ids: dict[str, str] = field(default_factory=dict)  # per language, named by the workflow (else new)


@dataclass
class DocumentRef:
    id: str
    kind: str
    lang: str
    sha256: str


# ---------------------------------------------------------------- the expert panel (Reg 33, 35, 37) -------
def panel_workflow_id(panel_id: str) -> str:
    return f"panel-{panel_id}"


@dataclass
class OpenPanel:
    """Starts an ExpertPanelWorkflow, a child of the case's DisputeWorkflow."""

    panel_id: str
    case_id: str
    specialties: list[str]  # one per slot
    actor: Actor
    policy: dict[str, Any] = field(default_factory=dict)  # the case's ClockPolicy (answer clock, lookback)
    calendar: dict[str, Any] = field(default_factory=dict)  # the working-day calendar's loaded years
    mediators: list[str] = field(default_factory=list)


@dataclass
class DrawRequest:
    """Draw one expert for one slot: attempt 1 is the slot's first draw, attempt 2 its first replacement..."""

    panel_id: str
    case_id: str
    slot: int
    attempt: int
    specialty: str
    at: datetime
    answer_due_at: datetime
    lookback_years: int = 3


@dataclass
class DrawOutcome:
    draw_id: str
    slot: int
    attempt: int
    expert_id: str | None  # None: nobody of the specialty is eligible
    invitation_id: str | None
    eligible: int
    answer_due_at: datetime | None = None


@dataclass
class ExpertReply:
    """An invited expert's answer: accept, decline (with a reason) or declare a conflict (Reg 37)."""

    invitation_id: str
    expert_id: str
    reply: str  # accept | decline | conflict
    reason: str = ""


@dataclass
class OpinionPart:
    """One expert's part of the panel's opinion (专家咨询意见书)."""

    invitation_id: str
    expert_id: str
    fault: str
    causation: str
    liability_percent: int
    text: str


@dataclass
class Recusal:
    """Staff upheld a party's objection (回避申请, Reg 37): the expert leaves the panel and is replaced."""

    invitation_id: str
    objection_id: str
    reason: str
    actor: Actor


@dataclass
class SlotRedraw:
    """Staff ask again for a slot the pool could not fill (after the pool grew, say)."""

    slot: int
    actor: Actor


@dataclass
class MeetingPlan:
    at: datetime
    place: str
    actor: Actor
    material: list[str] = field(default_factory=list)


@dataclass
class InvitationChange:
    """What the panel writes about one invitation; idempotent (the same change twice writes once)."""

    panel_id: str
    invitation_id: str
    status: str  # accepted | declined | expired | recused | voided | cancelled
    at: datetime
    reason: str = ""
    conflict_source: str | None = None  # declared | objection: the expert is in conflict with the case
    objection_id: str | None = None
    opinion: dict[str, Any] | None = None


@dataclass
class PanelState:
    """The panel's row: its status, the slots nobody could fill, the meeting, the opinion's version."""

    panel_id: str
    status: str
    unfilled_slots: list[int]
    at: datetime
    meeting: dict[str, Any] | None = None
    opinion_version: int = 0


@dataclass
class PanelSlot:
    slot: int
    specialty: str
    attempt: int
    status: str  # invited | accepted | opinion | unfilled
    invitation_id: str | None = None
    expert_id: str | None = None
    answer_due_at: datetime | None = None


@dataclass
class PanelView:
    panel_id: str
    status: str
    slots: list[PanelSlot]
    opinion_version: int = 0


@dataclass
class OpinionReady:
    """Sent by the panel to its case: every slot's expert has given an opinion; the document can be issued."""

    panel_id: str
    version: int


@dataclass
class CarriedAnswer:
    """An answer the case gave, kept across runs: the first answer to an Idempotency-Key (key: the key), or the
    last self-loop action of a kind (key: the kind), with the request's digest."""

    key: str
    digest: str
    seq: int
    result: ActionResult


@dataclass
class CarriedCase:
    """What a case's workflow hands to its next run when its history grows long (continue-as-new): everything
    its rules, clocks and repeats read, nothing the database does not already hold twice."""

    status: str
    seq: int
    state: dict[str, Any]  # domain.case_state.CaseState.to_dict()
    clocks: dict[str, Any]  # domain.deadlines.CaseClocks.to_dict()
    fired: list[str]
    payment_overdue: bool
    projected: dict[str, Any] | None
    agreement: DocumentRef | None
    answers: list[CarriedAnswer]
    last_of_kind: list[CarriedAnswer]
    rev2: bool  # the rule book the case started under
    history_at: datetime | None = None  # a case still being entered from records: its last act's time
