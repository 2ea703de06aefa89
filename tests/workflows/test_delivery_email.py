"""Notifications by e-mail, against a real SMTP server the test starts (aiosmtpd): the message arrives once, in
Chinese, to the right person; a server that refuses the first attempt with a 4xx gets another; a 5xx is a
permanent refusal, not retried; STARTTLS when configured; what the clerk sees in GET /notifications."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.client import Client

from core.db import SessionFactory
from tests.delivery_harness import delivery_desk, register
from workflows.channels import Senders
from workflows.channels.email import SmtpSender

SENDER = "上海市黄浦区医疗纠纷人民调解委员会 <noreply@tiaojie.example.cn>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An SMTP server's handler: keeps what it accepts; can answer the first DATA commands with 451, or refuse
    every recipient with 550."""

    def __init__(self, *, busy_first: int = 0, refuse_recipients: bool = False) -> None:
        self.busy_left = busy_first
        self.refuse_recipients = refuse_recipients
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.data_commands = 0
        self.tls: list[bool] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 <%s>: Recipient address rejected: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        if self.busy_left:
            self.busy_left -= 1
            return "451 4.3.0 Mail server temporarily busy, try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        self.tls.append(session.ssl is not None)
        return "250 2.0.0 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def senders_for(port: int, **options: Any) -> Senders:
    return Senders({"email": SmtpSender(host="127.0.0.1", port=port, sender=SENDER, starttls=False, timeout=10,
                                        **options)}, max_attempts=4, first_retry_seconds=0.2)


def plain(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


class TestDeliveredOnce:
    async def test_the_mail_arrives_once_in_chinese_to_the_mediator_and_is_sent_in_the_outbox(
        self, api: httpx.AsyncClient, client: Client, sessions: SessionFactory, smtp: tuple[Controller, Inbox]
    ):
        controller, inbox = smtp
        case_id = await register(api)
        async with delivery_desk(client, sessions, senders_for(controller.port)) as desk:
            mediator = desk.account(case_id, email="chen.tiaojie@example.cn", mobile="13812345678",
                                    notify_by=("email",))
            desk.account(case_id, email="other@example.cn")  # a colleague of the committee, not named
            record = await desk.notify(case_id, recipients=[mediator])
            outcome = await desk.delivered(record)
            again = await desk.notify(case_id, recipients=[mediator], key=record.id.split(":", 1)[1])  # a retry
            assert again.id == record.id
            await desk.delivered(record)

        assert (outcome.sent, outcome.failed) == (1, 0)
        assert len(inbox.received) == 1 and inbox.data_commands == 1  # once, even when notified again
        [(rcpt_tos, message)] = inbox.received
        assert rcpt_tos == ["chen.tiaojie@example.cn"]
        assert message["To"].addresses[0].addr_spec == "chen.tiaojie@example.cn"
        assert message["Subject"].startswith("【医调委】调解期限预警")
        case = (await api.get(f"/cases/{case_id}")).json()
        assert case["number"] in message["Subject"]
        body = plain(message)
        assert "陈调解员" in body and "调解期限将于2026年12月31日届满" in body and case["number"] in body
        assert "2026年12月31日" in body and "请登录" in body
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "调解期限预警" in html
        [email_delivery] = desk.deliveries(record, "email")
        assert message["Message-ID"] == f"<{email_delivery.id}@tiaojie.example.cn>"
        assert email_delivery.provider_id == message["Message-ID"]

        outbox = (await api.get("/notifications", params={"case_id": case_id})).json()
        [item] = [n for n in outbox["items"] if n["id"] == record.id]
        by_channel = {d["channel"]: d for d in item["deliveries"]}
        assert set(by_channel) == {"email", "log"}
        sent = by_channel["email"]
        assert sent["status"] == "sent" and sent["attempts"] == 1 and sent["reason"] is None
        assert sent["recipient_id"] == mediator and sent["address"] == "c***@example.cn"  # masked in the list
        assert sent["sent_at"] is not None
        of_case = (await api.get(f"/cases/{case_id}/notifications", params={"status": "sent"})).json()
        assert record.id in {n["id"] for n in of_case["items"]}
        failed = (await api.get(f"/cases/{case_id}/notifications", params={"status": "failed"})).json()
        assert record.id not in {n["id"] for n in failed["items"]}

    async def test_without_a_name_the_committees_accounts_of_the_role_receive_it(
        self, api: httpx.AsyncClient, client: Client, sessions: SessionFactory, smtp: tuple[Controller, Inbox]
    ):
        controller, inbox = smtp
        case_id = await register(api)
        async with delivery_desk(client, sessions, senders_for(controller.port)) as desk:
            director = desk.account(case_id, "director", email="zhuren@example.cn", full_name="王主任")
            desk.account(case_id, "intake", email="dengji@example.cn")  # another role: not told
            record = await desk.notify(case_id, recipients=[], role="director", kind="review_reminder",
                                       message="案件待受理审查")
            await desk.delivered(record)
        assert [rcpt for rcpt, _ in inbox.received] == [["zhuren@example.cn"]]
        assert [d.recipient_id for d in desk.deliveries(record, "email")] == [director]


class TestRetries:
    async def test_a_server_busy_at_the_first_attempt_gets_a_second_and_the_mail_arrives_once(
        self, api: httpx.AsyncClient, client: Client, sessions: SessionFactory, smtp: tuple[Controller, Inbox]
    ):
        controller, inbox = smtp
        inbox.busy_left = 1  # 451 to the first DATA
        case_id = await register(api)
        async with delivery_desk(client, sessions, senders_for(controller.port)) as desk:
            mediator = desk.account(case_id, email="zhou@example.cn", notify_by=("email",))
            record = await desk.notify(case_id, recipients=[mediator])
            outcome = await desk.delivered(record)
        assert outcome.sent == 1 and inbox.data_commands == 2 and len(inbox.received) == 1
        [delivery] = desk.deliveries(record, "email")
        assert delivery.status == "sent" and delivery.attempts == 2 and delivery.reason is None

    async def test_a_permanent_refusal_is_not_retried_and_the_clerk_sees_why(
        self, api: httpx.AsyncClient, client: Client, sessions: SessionFactory, smtp: tuple[Controller, Inbox]
    ):
        controller, inbox = smtp
        inbox.refuse_recipients = True  # 550 to RCPT
        case_id = await register(api)
        async with delivery_desk(client, sessions, senders_for(controller.port)) as desk:
            mediator = desk.account(case_id, email="gone@example.cn", notify_by=("email",))
            record = await desk.notify(case_id, recipients=[mediator])
            outcome = await desk.delivered(record)
        assert (outcome.sent, outcome.failed) == (0, 1) and inbox.received == []
        [delivery] = desk.deliveries(record, "email")
        assert delivery.status == "failed" and delivery.attempts == 1 and "550" in (delivery.reason or "")
        failed = (await api.get("/notifications", params={"case_id": case_id, "status": "failed"})).json()
        [item] = [n for n in failed["items"] if n["id"] == record.id]
        [shown] = [d for d in item["deliveries"] if d["channel"] == "email"]
        assert shown["status"] == "failed" and "550" in shown["reason"]

    async def test_a_server_that_never_answers_is_given_up_after_the_attempts_with_the_last_reason(
        self, api: httpx.AsyncClient, client: Client, sessions: SessionFactory
    ):
        case_id = await register(api)
        senders = senders_for(free_port())  # nobody listens there
        senders.max_attempts = 3
        async with delivery_desk(client, sessions, senders) as desk:
            mediator = desk.account(case_id, email="li@example.cn", notify_by=("email",))
            record = await desk.notify(case_id, recipients=[mediator])
            outcome = await desk.delivered(record)
        assert outcome.failed == 1
        [delivery] = desk.deliveries(record, "email")
        assert delivery.status == "failed" and delivery.attempts == 3 and delivery.reason


class TestContacts:
    async def test_a_chosen_channel_without_an_address_fails_at_once_and_one_not_chosen_is_not_used(
        self, api: httpx.AsyncClient, client: Client, sessions: SessionFactory, smtp: tuple[Controller, Inbox]
    ):
        controller, inbox = smtp
        case_id = await register(api)
        async with delivery_desk(client, sessions, senders_for(controller.port)) as desk:
            without = desk.account(case_id, email="", notify_by=("email",))
            declined = desk.account(case_id, email="sms.only@example.cn", notify_by=("sms",))
            record = await desk.notify(case_id, recipients=[without, declined, "nobody-here"])
        by_recipient = {d.recipient_id: d for d in desk.deliveries(record, "email")}
        assert set(by_recipient) == {without, "nobody-here"}  # the one who chose SMS only gets no e-mail
        assert by_recipient[without].status == "failed" and "无电子邮箱" in (by_recipient[without].reason or "")
        assert by_recipient["nobody-here"].status == "failed"
        assert inbox.received == []


# ------------------------------------------------------------------ STARTTLS ---------------------------
def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_starttls_when_configured_against_a_server_that_requires_it(
    api: httpx.AsyncClient, client: Client, sessions: SessionFactory, tmp_path: Path
):
    cert_path, key_path = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True)
    controller.start()
    try:
        case_id = await register(api)
        senders = senders_for(controller.port)
        senders.by_channel["email"] = SmtpSender(host="127.0.0.1", port=controller.port, sender=SENDER,
                                                 starttls=True, ca_path=cert_path, timeout=10)
        async with delivery_desk(client, sessions, senders) as desk:
            mediator = desk.account(case_id, email="tls@example.cn", notify_by=("email",))
            record = await desk.notify(case_id, recipients=[mediator])
            await desk.delivered(record)
    finally:
        controller.stop()
    assert len(inbox.received) == 1 and inbox.tls == [True]
    assert desk.deliveries(record, "email")[0].status == "sent"
