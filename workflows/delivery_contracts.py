"""What goes in and out of the delivery workflow (workflows/delivery.py): plain dataclasses, fields only added."""

from __future__ import annotations

from dataclasses import dataclass

DELIVERY_WORKFLOW = "DeliveryWorkflow"


def delivery_workflow_id(notification_id: str) -> str:
    """One delivery workflow per notification: a second start with this id is refused (never sent twice)."""
    return f"delivery-{notification_id}"


@dataclass
class DeliveryRequest:
    notification_id: str
    case_id: str
    max_attempts: int = 8  # tries per delivery, the first one included
    first_retry_seconds: float = 10.0  # then doubling, at most an hour apart


@dataclass
class DeliveryFailure:
    delivery_id: str
    reason: str


@dataclass
class DeliveryOutcome:
    notification_id: str
    sent: int
    failed: int
