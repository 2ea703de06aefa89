"""How a notification reaches a person outside the product: e-mail (SMTP) and SMS (a provider's HTTP API).

A sender takes one `Outgoing` message and returns the id its server gave it (the e-mail's Message-ID, the SMS
provider's id), or raises: `PermanentRefusal` when trying again cannot help (an SMTP 5xx, an invalid number, a
template the provider refuses), any other error when it may (a connection refused, a 4xx, the provider's flow
control). `Senders` are the ones the installation runs, built from the settings (`senders_from_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from domain.notices import Notice

if TYPE_CHECKING:
    from core.settings import Settings


class PermanentRefusal(Exception):
    """The server refused for good: the delivery fails with this reason, without another attempt."""


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    channel: str
    address: str  # the e-mail address, the mobile number
    recipient_name: str
    notice: Notice


class Sender(Protocol):
    name: str

    async def send(self, message: Outgoing) -> str: ...


@dataclass
class Senders:
    """The channels this installation runs, and how their deliveries are retried."""

    by_channel: dict[str, Sender] = field(default_factory=dict)
    max_attempts: int = 8
    first_retry_seconds: float = 10.0

    @property
    def channels(self) -> list[str]:
        return [name for name in ("email", "sms") if name in self.by_channel]


def senders_from_settings(settings: Settings) -> Senders:
    from workflows.channels.email import SmtpSender
    from workflows.channels.sms import AliyunSms, SmsSender

    found: dict[str, Sender] = {}
    if settings.smtp_host:
        found["email"] = SmtpSender.from_settings(settings)
    if settings.sms_provider == "aliyun":
        found["sms"] = SmsSender(AliyunSms.from_settings(settings), template_code=settings.sms_template_code,
                                 templates=settings.sms_templates or {})
    return Senders(found, max_attempts=settings.delivery_max_attempts,
                   first_retry_seconds=settings.delivery_first_retry_seconds)
