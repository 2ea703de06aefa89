"""What a notification says (domain/notices.py): the Chinese templates of every kind, the masked contacts, an SMS
that never carries a personal number, and the SMS provider's request signature (workflows/channels/sms.py)
checked against the provider's published example."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, date, datetime

import pytest

from domain.deadlines import NOTIFICATION_LABELS
from domain.notices import (
    SMS_PARAMS,
    SUBJECT_PREFIX,
    UnsafeSms,
    compose,
    mask_address,
    mask_email,
    mask_mobile,
    normalise_mobile,
    personal_numbers,
    sms_params,
    valid_email,
)
from workflows.channels import Outgoing, PermanentRefusal
from workflows.channels.email import SmtpSender
from workflows.channels.sms import AliyunSms, SmsSender, canonical_query, percent_encode, sign, string_to_sign

NUMBER = "〔2026〕沪黄医调字第12号"


@pytest.mark.parametrize("kind", sorted(NOTIFICATION_LABELS))
def test_every_kind_has_its_chinese_subject_text_html_and_sms(kind: str):
    notice = compose(kind=kind, case_number=NUMBER, committee="上海市黄浦区医疗纠纷人民调解委员会",
                     message="调解期限将于2026年12月31日届满", recipient_name="陈调解员", due_on=date(2026, 12, 31))
    label = NOTIFICATION_LABELS[kind]
    assert notice.subject == f"{SUBJECT_PREFIX}{label}：{NUMBER}"
    assert notice.text.startswith("陈调解员：") and label in notice.text and NUMBER in notice.text
    assert "2026年12月31日" in notice.text and "请登录" in notice.text
    assert '<html lang="zh-CN">' in notice.html and label in notice.html
    assert set(notice.sms_params) == set(SMS_PARAMS) and notice.sms_params["item"] == label
    assert notice.sms_text == f"您有一件医疗纠纷调解案件（案号{NUMBER}）待处理：{label}，请登录系统查看。"


def test_the_html_alternative_escapes_what_the_message_carries():
    notice = compose(kind="followup_due", case_number=NUMBER, committee="某调委会", message="<script>x</script>")
    assert "<script>" not in notice.html and "&lt;script&gt;" in notice.html


def test_an_sms_carries_no_personal_number_whatever_the_notification_says():
    # DOMAIN.md privacy, Reg 42: no identity or phone number, no amount in a text message
    notice = compose(kind="payment_overdue", case_number=NUMBER, committee="某调委会",
                     message="患者张三（身份证号310101199001011234，电话13812345678）应付86,500.50元",
                     recipient_name="陈调解员")
    assert personal_numbers(notice.sms_text) == []
    assert "310101199001011234" not in notice.sms_text and "13812345678" not in notice.sms_text
    assert "张三" not in notice.sms_text and "陈调解员" not in notice.sms_text


@pytest.mark.parametrize("text", ["310101199001011234", "31010119900101123X", "13812345678", "021-63211234",
                                  "赔偿86500.50元", "￥3000", "人民币5万元"])
def test_personal_numbers_are_found(text: str):
    assert personal_numbers(f"案件{text}待处理")


def test_a_case_number_that_would_carry_one_is_refused_rather_than_sent():  # Reg 42
    with pytest.raises(UnsafeSms):
        sms_params("review_reminder", "13812345678")
    assert personal_numbers(NUMBER) == []


def test_mobile_numbers_are_masked_and_normalised():
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("+86 138 1234 5678") == "138****5678"
    assert normalise_mobile("+86-13812345678") == "13812345678" and normalise_mobile("0086 13812345678")
    assert normalise_mobile("12812345678") is None and normalise_mobile("1381234567") is None
    assert mask_address("sms", "13812345678") == "138****5678"


def test_email_addresses_are_masked_and_checked():
    assert mask_email("chen.tiaojie@example.cn") == "c***@example.cn"
    assert mask_address("email", "a@b.cn") == "a***@b.cn" and mask_address("log", "") == ""
    assert valid_email("chen@example.cn") and not valid_email("chen@") and not valid_email("陈@例子")


# ------------------------------------------------------------------ the SMS provider's signature --------
def test_the_signature_matches_the_providers_published_example():
    # Alibaba Cloud's RPC signature documentation: DescribeRegions with AccessKey testid / testsecret
    params = {"TimeStamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
              "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Version": "2014-05-26",
              "SignatureVersion": "1.0"}
    assert string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
        "%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26")
    assert sign("testsecret", "GET", params) == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_percent_encoding_is_rfc_3986_on_utf_8():
    assert percent_encode("a b*c~d/中") == "a%20b%2Ac~d%2F%E4%B8%AD"
    assert canonical_query({"b": "2", "a": "1 1"}) == "a=1%201&b=2"


def test_a_sendsms_request_is_signed_over_every_parameter():
    provider = AliyunSms(access_key_id="id", access_key_secret="secret", sign_name="某市医调委")
    params = provider.request_params(mobile="13812345678", template_code="SMS_1",
                                     params={"number": NUMBER, "item": "回访"}, out_id="d1", nonce="n1",
                                     now=datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    signature = params.pop("Signature")
    assert signature == sign("secret", "POST", params)
    assert params["Timestamp"] == "2026-11-26T08:00:00Z" and params["Action"] == "SendSms"
    assert params["Version"] == "2017-05-25" and params["SignatureNonce"] == "n1"
    assert json.loads(params["TemplateParam"]) == {"number": NUMBER, "item": "回访"}


def test_a_kind_takes_its_own_template_else_the_default_and_none_is_a_permanent_refusal():
    sender = SmsSender(provider=None, template_code="SMS_DEFAULT", templates={"expert_invitation": "SMS_E"})  # type: ignore[arg-type]
    assert sender.template_for("expert_invitation") == "SMS_E" and sender.template_for("followup_due") == "SMS_DEFAULT"
    with pytest.raises(PermanentRefusal):
        SmsSender(provider=None).template_for("followup_due")  # type: ignore[arg-type]


# ------------------------------------------------------------------ the e-mail -------------------------
def test_the_mail_is_chinese_plain_text_with_an_html_alternative_and_a_message_id_of_the_delivery():
    sender = SmtpSender(host="mail", port=25, sender="某市医调委 <noreply@tiaojie.example.cn>")
    notice = compose(kind="review_escalation", case_number=NUMBER, committee="某市医调委", message="请尽快审查",
                     recipient_name="王主任")
    mail = sender.compose(Outgoing(delivery_id="abc123", channel="email", address="wang@example.cn",
                                   recipient_name="王主任", notice=notice))
    parsed = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == f"【医调委】受理审查督办：{NUMBER}"
    assert parsed["To"].addresses[0].display_name == "王主任"
    assert parsed["Message-ID"] == "<abc123@tiaojie.example.cn>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_body(("plain",)).get_content().startswith("王主任：")  # type: ignore[union-attr]
    assert "受理审查督办" in parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
