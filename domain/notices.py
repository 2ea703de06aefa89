"""What a notification says on each channel, and how contacts are shown: pure.

One catalogue, per notification kind (domain/deadlines.py NOTIFICATION_LABELS): the e-mail's subject, its plain
text and HTML bodies (the notification's own message, the case's number, the committee), and the SMS. An SMS says
only that a case needs attention: the case's number and what kind of notice it is, never a name, an identity
or phone number, or an amount (DOMAIN.md privacy; Reg 42): the rest is read after logging in. The SMS goes out
through a provider's registered template (a Chinese SMS provider sends only approved templates), whose variables
are `SMS_PARAMS`; `sms_text` is what the recipient reads with the default template's wording.

Contacts are masked wherever they are listed: 138****5678, c***@example.cn.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date

from domain.deadlines import NOTIFICATION_LABELS

CHANNELS: tuple[str, ...] = ("email", "sms")  # the channels a person may choose (the log channel always runs)
CHANNEL_LABELS: dict[str, str] = {"email": "电子邮件", "sms": "短信", "log": "系统日志"}
DELIVERY_STATUSES: tuple[str, ...] = ("queued", "sent", "failed")
DELIVERY_STATUS_LABELS: dict[str, str] = {"queued": "待发送", "sent": "已发送", "failed": "发送失败"}
SUBJECT_PREFIX = "【医调委】"

# Mainland mobile numbers (an optional +86 / 0086 prefix), and a plain e-mail address.
MOBILE = re.compile(r"^(?:\+?86|0086)?-?(1[3-9]\d{9})$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")

# What an SMS must never carry (DOMAIN.md privacy): a resident identity number (18 characters, or the old 15
# digits), a phone number (a mobile's 11 digits, a landline with its area code), an amount of money.
_ID_NUMBER = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15})(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_AMOUNT = re.compile(r"(\d[\d,，]*(\.\d+)?\s*(元|万元|块|圆))|([¥￥]\s*\d)|(人民币\s*\d)")

# The variables of the provider's SMS template (register it with this wording, or any wording with the two):
# 您有一件医疗纠纷调解案件（案号${number}）待处理：${item}，请登录系统查看。
SMS_PARAMS: tuple[str, ...] = ("number", "item")
SMS_WORDING = "您有一件医疗纠纷调解案件（案号{number}）待处理：{item}，请登录系统查看。"


def normalise_mobile(value: str) -> str | None:
    """The 11 digits of a mainland mobile number, or None when `value` is not one."""
    found = MOBILE.match(value.strip().replace(" ", ""))
    return found.group(1) if found else None


def valid_email(value: str) -> bool:
    return bool(EMAIL.match(value.strip())) and len(value) <= 200


def mask_mobile(value: str) -> str:
    """138****5678: the first three and the last four digits."""
    digits = normalise_mobile(value) or re.sub(r"\D", "", value)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_email(value: str) -> str:
    """c***@example.cn: the first character of the mailbox and the domain."""
    local, at, domain = value.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_address(channel: str, address: str) -> str:
    if not address:
        return ""
    return mask_mobile(address) if channel == "sms" else mask_email(address) if channel == "email" else address


def personal_numbers(text: str) -> list[str]:
    """What in `text` an SMS must not carry: identity and phone numbers, amounts."""
    return [m.group(0) for pattern in (_ID_NUMBER, _PHONE, _AMOUNT) for m in pattern.finditer(text)]


class UnsafeSms(ValueError):
    """An SMS would carry a personal number: it is not sent (a permanent failure, with this reason)."""


@dataclass(frozen=True)
class Notice:
    """A notification as one recipient receives it."""

    kind: str
    label: str
    subject: str
    text: str  # the e-mail's plain text
    html: str  # the e-mail's HTML alternative
    sms_params: dict[str, str] = field(default_factory=dict)  # the SMS template's variables

    @property
    def sms_text(self) -> str:
        return SMS_WORDING.format(**self.sms_params)


def label_of(kind: str) -> str:
    return NOTIFICATION_LABELS.get(kind, "案件通知")


def sms_params(kind: str, case_number: str) -> dict[str, str]:
    """The SMS template's variables; refuses (UnsafeSms) a value carrying a personal number."""
    params = {"number": case_number or "待编号", "item": label_of(kind)}
    for name, value in params.items():
        if found := personal_numbers(value):
            raise UnsafeSms(f"the SMS variable {name} would carry a personal number ({len(found)} found)")
    return params


def compose(*, kind: str, case_number: str, committee: str, message: str, recipient_name: str = "",
            due_on: date | None = None) -> Notice:
    """The notice of one notification for one recipient, in Chinese."""
    label = label_of(kind)
    number = case_number or "待编号"
    greeting = f"{recipient_name}：" if recipient_name else "您好："
    due = f"{due_on.year}年{due_on.month}月{due_on.day}日" if due_on else ""
    lines = [
        greeting,
        "",
        f"{committee or '医疗纠纷人民调解委员会'}通知：{label}。",
        f"案号：{number}",
        *([f"期限：{due}"] if due else []),
        f"事项：{message}",
        "",
        "请登录医疗纠纷调解系统查看并办理。本邮件由系统自动发送，请勿直接回复。",
    ]
    text = "\n".join(lines) + "\n"
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                   for k, v in (("通知", label), ("案号", number), *((("期限", due),) if due else ()),
                                ("事项", message)))
    body = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>'
        f"{html.escape(SUBJECT_PREFIX + label)}</title></head><body>"
        f"<p>{html.escape(greeting)}</p>"
        f"<p>{html.escape(committee or '医疗纠纷人民调解委员会')}通知：{html.escape(label)}。</p>"
        f"<table>{rows}</table>"
        "<p>请登录医疗纠纷调解系统查看并办理。本邮件由系统自动发送，请勿直接回复。</p></body></html>"
    )
    return Notice(kind=kind, label=label, subject=f"{SUBJECT_PREFIX}{label}：{number}", text=text, html=body,
                  sms_params=sms_params(kind, case_number))
