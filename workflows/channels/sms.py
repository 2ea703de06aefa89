"""SMS through a provider's HTTP API: the provider interface, and Alibaba Cloud SMS (dysmsapi, SendSms).

A Chinese SMS provider sends only a registered signature (签名) with a registered template (模板) whose variables
we fill: the template's code per notification kind (a default, and a code per kind where a committee registered
its own), the variables of domain/notices.py (`number`, `item`), never a name or a number of a person.

Alibaba Cloud's RPC API (version 2017-05-25): the request's parameters, sorted by name, percent-encoded
(RFC 3986: only A–Z a–z 0–9 - _ . ~ left as they are, a space as %20) and joined as a query; the string to sign
is `POST&%2F&` + the encoded query; the signature is Base64(HMAC-SHA1(secret + "&", that string)), sent as the
`Signature` parameter with SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, a fresh SignatureNonce and the UTC
Timestamp. The answer is JSON: `Code` "OK" and a `BizId`, or an error code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import httpx

from workflows.channels import Outgoing, PermanentRefusal

if TYPE_CHECKING:
    from core.settings import Settings


class SmsProvider(Protocol):
    name: str

    async def send(self, *, mobile: str, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        """Sends one templated SMS; returns the provider's id for it."""
        ...


@dataclass
class SmsSender:
    """The `sms` channel: the notice's template variables, through the provider."""

    provider: SmsProvider
    template_code: str = ""
    templates: dict[str, str] = field(default_factory=dict)
    name: str = "sms"

    def template_for(self, kind: str) -> str:
        code = self.templates.get(kind) or self.template_code
        if not code:
            raise PermanentRefusal(f"no SMS template is configured for {kind} (MEDIATION_SMS_TEMPLATE_CODE)")
        return code

    async def send(self, message: Outgoing) -> str:
        return await self.provider.send(mobile=message.address, template_code=self.template_for(message.notice.kind),
                                        params=message.notice.sms_params, out_id=message.delivery_id)


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8, as Alibaba Cloud's signature wants it."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(secret: str, method: str, params: Mapping[str, str]) -> str:
    """The RPC signature (v1.0, HMAC-SHA1) of `params` (without `Signature`)."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Error codes after which another attempt cannot succeed (the number, the template, the signature, the keys).
PERMANENT_CODES = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.INVALID_PARAMETERS",
    "isv.INVALID_JSON_PARAM", "isv.PARAM_LENGTH_LIMIT", "isv.PARAM_NOT_SUPPORT_URL", "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.SMS_SIGN_ILLEGAL", "isv.SMS_CONTENT_ILLEGAL", "isv.DENY_IP_RANGE", "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL", "isv.PRODUCT_UN_SUBSCRIPT", "isv.PRODUCT_UNSUBSCRIBE",
    "SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive",
    "IncompleteSignature", "MissingParameter", "InvalidTimeStamp.Format",
})


@dataclass
class AliyunSms:
    access_key_id: str
    access_key_secret: str
    sign_name: str
    endpoint: str = "https://dysmsapi.aliyuncs.com/"
    region: str = "cn-hangzhou"
    timeout: float = 10.0
    name: str = "aliyun"

    @classmethod
    def from_settings(cls, settings: Settings) -> AliyunSms:
        return cls(access_key_id=settings.sms_access_key_id, access_key_secret=settings.sms_access_key_secret or "",
                   sign_name=settings.sms_sign_name, endpoint=settings.sms_endpoint, region=settings.sms_region,
                   timeout=settings.sms_timeout_seconds)

    def request_params(self, *, mobile: str, template_code: str, params: Mapping[str, str], out_id: str,
                       nonce: str | None = None, now: datetime | None = None) -> dict[str, str]:
        """The signed parameters of a SendSms request."""
        signed = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            "PhoneNumbers": mobile,
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
            "OutId": out_id,
        }
        return {**signed, "Signature": sign(self.access_key_secret, "POST", signed)}

    async def send(self, *, mobile: str, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        form = self.request_params(mobile=mobile, template_code=template_code, params=params, out_id=out_id)
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.endpoint, content=canonical_query(form).encode(),
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        except httpx.HTTPError as failed:
            raise ConnectionError(f"SMS provider unreachable: {type(failed).__name__}") from failed
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        code = str(answer.get("Code") or "")
        if response.status_code == 200 and code == "OK":
            return str(answer.get("BizId") or answer.get("RequestId") or "")
        reason = f"SMS {code or response.status_code}: {answer.get('Message') or response.reason_phrase}"
        if code in PERMANENT_CODES:
            raise PermanentRefusal(reason)
        raise ConnectionError(reason)  # flow control, the provider's own errors, a 5xx: later
