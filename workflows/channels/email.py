"""E-mail by SMTP (aiosmtplib): STARTTLS or implicit TLS as configured, a login when a user is set.

The message is in Chinese, plain text with an HTML alternative, From the committee's sender. Its Message-ID is
`<delivery id>@<the sender's domain>`: a message sent again after a crash between the server's acceptance and
our record of it carries the same id, so that a mail server or catcher that de-duplicates by Message-ID keeps
one (docs/notifications.md says what remains of that gap).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from pathlib import Path
from typing import TYPE_CHECKING

import aiosmtplib

from workflows.channels import Outgoing, PermanentRefusal

if TYPE_CHECKING:
    from core.settings import Settings


def _permanent(code: int) -> bool:
    return 500 <= code < 600


@dataclass
class SmtpSender:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str | None = None
    starttls: bool = True
    tls: bool = False
    ca_path: Path | None = None
    timeout: float = 20.0
    name: str = "email"

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        return cls(host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_sender,
                   user=settings.smtp_user, password=settings.smtp_password, starttls=settings.smtp_starttls,
                   tls=settings.smtp_tls, ca_path=settings.smtp_ca_path, timeout=settings.smtp_timeout_seconds)

    @property
    def domain(self) -> str:
        [(_, address)] = getaddresses([self.sender]) or [("", "")]
        return address.rpartition("@")[2] or "mediation.invalid"

    def message_id(self, delivery_id: str) -> str:
        return f"<{delivery_id}@{self.domain}>"

    def compose(self, message: Outgoing) -> EmailMessage:
        notice = message.notice
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = Address(display_name=message.recipient_name, addr_spec=message.address)
        mail["Subject"] = notice.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = self.message_id(message.delivery_id)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
        mail.set_content(notice.text, charset="utf-8")
        mail.add_alternative(notice.html, subtype="html", charset="utf-8")
        return mail

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.ca_path is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_path))

    async def send(self, message: Outgoing) -> str:
        mail = self.compose(message)
        try:
            await aiosmtplib.send(
                mail, hostname=self.host, port=self.port, username=self.user or None, password=self.password,
                use_tls=self.tls, start_tls=self.starttls and not self.tls, tls_context=self._tls_context(),
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            reason = "; ".join(f"SMTP {r.code} {r.message}" for r in refused.recipients)
            if all(_permanent(code) for code in codes):
                raise PermanentRefusal(reason) from refused
            raise ConnectionError(reason) from refused
        except aiosmtplib.SMTPResponseException as refused:
            reason = f"SMTP {refused.code} {refused.message}"
            if _permanent(refused.code) and not isinstance(refused, aiosmtplib.SMTPAuthenticationError):
                raise PermanentRefusal(reason) from refused
            raise ConnectionError(reason) from refused  # 4xx (and a login refused: fixed by the operator)
        return mail["Message-ID"]
