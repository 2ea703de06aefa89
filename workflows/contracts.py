"""What goes in and out of the dispute workflow and its activities: plain dataclasses.

Fields are only ever added (with defaults), so that running workflows keep decoding their history.
Payloads are JSON-ready dicts (amounts as strings, times as ISO 8601), validated by the API's schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_TASK_QUEUE = "disputes"


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


@dataclass
class StaffAction:
    """One lifecycle event asked for by a member of staff (the argument of the `apply_event` Update)."""

    event: str
    payload: dict[str, Any]
    actor: Actor
    request_id: str = ""


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


@dataclass
class DocumentRef:
    id: str
    kind: str
    lang: str
    sha256: str
