"""Notifications by SMS through Alibaba Cloud SMS (SendSms), against a local fake of the provider's HTTP API that
checks each request the way the provider does (the RPC signature v1 with the account's secret, the timestamp, a
nonce never seen before, the action and version) and keeps what it was asked to send: the number, the
registered signature, the template and its variables, never a personal number (DOMAIN.md privacy; Reg 42)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from temporalio.client import Client

from core.db import SessionFactory
from domain.notices import personal_numbers
from tests.delivery_harness import delivery_desk, register
from tests.pools import add_expert, make_city
from workflows.channels import Senders
from workflows.channels.sms import AliyunSms, SmsSender, sign

KEY_ID, SECRET = "LTAI-test-key", "test-secret-of-the-account"
SIGN_NAME, TEMPLATE = "某市医调委", "SMS_300000001"


class FakeAliyun:
    """dysmsapi's SendSms as the provider answers it: 200 {"Code": "OK", "BizId"} for a well-signed request,
    its error codes otherwise. `answers` are given to the next requests first (then OK)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.bodies: list[str] = []
        self.refused: list[str] = []
        self.nonces: set[str] = set()
        self.answers: list[dict[str, str]] = []
        self.invalid_numbers: set[str] = set()
        self.lock = threading.Lock()

    def answer(self, method: str, body: str) -> tuple[int, dict[str, str]]:
        params = dict(parse_qsl(body, keep_blank_values=True, strict_parsing=True))
        signature = params.pop("Signature", "")
        with self.lock:
            self.bodies.append(body)
            if params.get("AccessKeyId") != KEY_ID:
                return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
            if signature != sign(SECRET, method, params):
                return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
            if (params.get("SignatureMethod"), params.get("SignatureVersion")) != ("HMAC-SHA1", "1.0"):
                return 400, {"Code": "InvalidParameter", "Message": "signature method"}
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
                return 400, {"Code": "InvalidTimeStamp.Expired", "Message": "timestamp expired"}
            if params["SignatureNonce"] in self.nonces:
                return 400, {"Code": "SignatureNonceUsed", "Message": "Specified signature nonce was used already."}
            self.nonces.add(params["SignatureNonce"])
            if (params.get("Action"), params.get("Version"), params.get("Format")) != ("SendSms", "2017-05-25", "JSON"):
                return 400, {"Code": "InvalidAction", "Message": "action"}
            if params["PhoneNumbers"] in self.invalid_numbers:
                return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "r-bad"}
            if self.answers:
                return 200, self.answers.pop(0)
            self.sent.append(params)
            return 200, {"Code": "OK", "Message": "OK", "BizId": f"biz-{len(self.sent)}", "RequestId": "r-ok"}


@pytest.fixture
def aliyun() -> Iterator[tuple[str, FakeAliyun]]:
    fake = FakeAliyun()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            assert self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
            status, answer = fake.answer("POST", body)
            payload = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", fake
    finally:
        server.shutdown()
        server.server_close()


def sms_senders(endpoint: str, *, secret: str = SECRET, templates: dict[str, str] | None = None) -> Senders:
    provider = AliyunSms(access_key_id=KEY_ID, access_key_secret=secret, sign_name=SIGN_NAME, endpoint=endpoint,
                         timeout=5)
    return Senders({"sms": SmsSender(provider, template_code=TEMPLATE, templates=templates or {})},
                   max_attempts=4, first_retry_seconds=0.2)


async def test_the_provider_gets_a_signed_sendsms_with_the_template_and_no_personal_number(
    api: httpx.AsyncClient, client: Client, sessions: SessionFactory, aliyun: tuple[str, FakeAliyun]
):  # Reg 42, DOMAIN.md privacy: an SMS names the case's number and the notice, nothing of a person
    endpoint, fake = aliyun
    case_id = await register(api)
    case = (await api.get(f"/cases/{case_id}")).json()
    async with delivery_desk(client, sessions, sms_senders(endpoint)) as desk:
        mediator = desk.account(case_id, mobile="+86 138 1234 5678", notify_by=("sms",))
        # the message itself names a party's identity number, phone and an amount: none of it goes by SMS
        message = f"患者{case['patient_name']}（身份证号310101199001011234，电话13900001111）要求赔偿86500.50元"
        record = await desk.notify(case_id, recipients=[mediator], kind="payment_overdue", message=message)
        outcome = await desk.delivered(record)
        await desk.notify(case_id, recipients=[mediator], kind="payment_overdue", message=message,
                          key=record.id.split(":", 1)[1])  # the activity again: nothing sent twice
        await desk.delivered(record)

    assert outcome.sent == 1 and len(fake.sent) == 1 and fake.refused == []
    [request] = fake.sent
    assert request["PhoneNumbers"] == "13812345678"  # normalised: 11 digits
    assert request["SignName"] == SIGN_NAME and request["TemplateCode"] == TEMPLATE
    assert request["RegionId"] == "cn-hangzhou"
    params = json.loads(request["TemplateParam"])
    assert params == {"number": case["number"], "item": "逾期未履行"}
    assert personal_numbers(" ".join(params.values())) == []
    body = fake.bodies[0]
    for secret in ("310101199001011234", "13900001111", "86500", case["patient_name"]):
        assert secret not in body and secret not in json.dumps(params, ensure_ascii=False)
    [delivery] = desk.deliveries(record, "sms")
    assert delivery.status == "sent" and delivery.provider_id == "biz-1" and delivery.attempts == 1
    assert request["OutId"] == delivery.id  # the provider's receipts name our delivery

    outbox = (await api.get(f"/cases/{case_id}/notifications")).json()
    [item] = [n for n in outbox["items"] if n["id"] == record.id]
    [shown] = [d for d in item["deliveries"] if d["channel"] == "sms"]
    assert shown["address"] == "138****5678" and shown["status"] == "sent"  # masked (DOMAIN.md privacy)


async def test_flow_control_is_retried_and_an_invalid_number_is_refused_for_good(
    api: httpx.AsyncClient, client: Client, sessions: SessionFactory, aliyun: tuple[str, FakeAliyun]
):
    endpoint, fake = aliyun
    fake.answers.append({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"})
    fake.invalid_numbers.add("13000000000")
    case_id = await register(api)
    async with delivery_desk(client, sessions, sms_senders(endpoint)) as desk:
        good = desk.account(case_id, mobile="13812345678", notify_by=("sms",))
        bad = desk.account(case_id, mobile="13000000000", notify_by=("sms",))
        record = await desk.notify(case_id, recipients=[good, bad])
        outcome = await desk.delivered(record)
    assert (outcome.sent, outcome.failed) == (1, 1)
    by_recipient = {d.recipient_id: d for d in desk.deliveries(record, "sms")}
    assert by_recipient[good].status == "sent" and by_recipient[good].attempts == 2
    assert by_recipient[bad].status == "failed" and by_recipient[bad].attempts == 1
    assert "isv.MOBILE_NUMBER_ILLEGAL" in (by_recipient[bad].reason or "")
    assert [r["PhoneNumbers"] for r in fake.sent] == ["13812345678"]


async def test_a_wrong_secret_is_refused_by_the_provider_and_not_retried(
    api: httpx.AsyncClient, client: Client, sessions: SessionFactory, aliyun: tuple[str, FakeAliyun]
):
    endpoint, fake = aliyun
    case_id = await register(api)
    async with delivery_desk(client, sessions, sms_senders(endpoint, secret="not-the-secret")) as desk:
        mediator = desk.account(case_id, mobile="13812345678", notify_by=("sms",))
        record = await desk.notify(case_id, recipients=[mediator])
        await desk.delivered(record)
    [delivery] = desk.deliveries(record, "sms")
    assert delivery.status == "failed" and "SignatureDoesNotMatch" in (delivery.reason or "")
    assert delivery.attempts == 1 and fake.sent == []


async def test_an_expert_is_texted_at_the_pools_number_with_the_kinds_own_template(
    api: httpx.AsyncClient, client: Client, sessions: SessionFactory, aliyun: tuple[str, FakeAliyun]
):
    endpoint, fake = aliyun
    expert = add_expert(sessions, make_city(sessions), "sms", ["obstetrics"], phone="13712345678")
    case_id = await register(api)
    senders = sms_senders(endpoint, templates={"expert_invitation": "SMS_300000009"})
    async with delivery_desk(client, sessions, senders) as desk:
        record = await desk.notify(case_id, recipients=[expert.id], role="expert", kind="expert_invitation",
                                   message="您被抽取为产科咨询专家，请于2026年12月3日24时前答复是否接受")
        await desk.delivered(record)
    [request] = fake.sent
    assert request["PhoneNumbers"] == "13712345678" and request["TemplateCode"] == "SMS_300000009"
    assert json.loads(request["TemplateParam"])["item"] == "专家咨询邀请"
    [delivery] = desk.deliveries(record, "sms")
    assert (delivery.recipient_type, delivery.recipient_id, delivery.status) == ("expert", expert.id, "sent")
