"""What a case's events and their details are called in Chinese: the one catalogue the documents (the 卷宗's
history) and the console print, so that nobody reads `submit_for_review` in a Chinese file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from domain.lifecycle import ABANDON_REASONS, TERMINATION_GROUNDS
from domain.specialties import SPECIALTIES
from domain.taxonomy import DEPARTMENTS, DISPUTE_KINDS, HARMS, INSTITUTION_LEVELS
from domain.time import SHANGHAI

EVENT_LABELS: dict[str, str] = {
    "register": "登记调解申请",
    "request_consent": "征求对方当事人意见",
    "record_consent": "登记当事人同意调解",
    "record_refusal": "登记当事人拒绝调解",
    "consent_expired": "对方当事人逾期未答复（视为拒绝）",
    "submit_for_review": "提交受理审查",
    "accept": "受理",
    "reject": "不予受理",
    "link_respondent": "关联被申请医疗机构",
    "amend_parties": "更正患方代理人、近亲属",
    "schedule_session": "安排调解会",
    "reschedule_session": "调解会改期",
    "cancel_session": "取消调解会",
    "reassign_mediators": "变更人民调解员",
    "record_minutes": "登记调解笔录",
    "start_appraisal": "委托医疗损害鉴定（调解期限中止）",
    "finish_appraisal": "收到鉴定意见（调解期限继续计算）",
    "abandon_appraisal": "鉴定终止（调解期限继续计算）",
    "extend_deadline": "延长调解期限",
    "request_consultation": "申请专家咨询",
    "record_expert_opinion": "收到专家咨询意见",
    "draft_agreement": "制作调解协议书草稿",
    "revise_agreement": "调解协议书草稿作废，继续调解",
    "sign": "签署调解协议书",
    "record_payment": "登记履行",
    "confirm_performance": "确认履行完毕",
    "record_nonperformance": "登记未履行",
    "record_judicial_confirmation": "登记司法确认",
    "record_followup": "登记回访",
    "declare_failed": "调解不成",
    "deadline_expired": "调解期限届满（视为调解不成）",
    "terminate": "终止调解",
    "archive": "归档",
}

FIELD_LABELS: dict[str, str] = {
    "note": "备注", "method": "方式", "side": "当事人一方", "consented_by": "同意人", "consented_at": "同意时间", "refused_at": "拒绝时间",
    "refused_by": "拒绝人", "mediators": "人民调解员", "reasons": "不予受理理由", "reason_text": "理由说明",
    "reason": "理由", "scheduled_at": "时间", "place": "地点", "attendees": "参加人", "held_at": "时间",
    "recorder": "记录人", "statements": "陈述", "summary": "摘要", "institution": "机构",
    "commissioned_by": "委托方", "matters": "鉴定事项", "fees_advanced": "预交鉴定费", "opinion_number": "意见书编号",
    "medical_damage": "医疗损害", "fault": "过错", "causation": "因果关系", "liability_degree": "责任程度",
    "extra_days": "延长工作日", "patient_consent": "患方同意", "institution_consent": "医方同意",
    "approved_by": "批准人", "specialties": "专业", "question": "咨询事项", "facts": "纠纷事实",
    "points_in_dispute": "争议事项", "responsibilities": "责任", "terms": "协议内容", "copies": "份数",
    "refused_by_side": "拒签方", "signer": "签署方", "signed_by": "签署人", "signed_at": "签署时间",
    "capacity": "身份", "term": "协议条款", "amount": "金额（元）", "paid_on": "履行日期", "payer": "履行人",
    "proof": "凭证", "patient_acceptance": "患方书面接受", "text": "内容", "accepted_by": "接受人",
    "accepted_on": "接受日期", "referred_to_court": "告知向人民法院起诉", "ground": "终止理由", "detail": "具体情况",
    "withdrawn_by_side": "撤回方", "withdrawn_by": "撤回人", "withdrawal_form": "撤回形式", "withdrawn_on": "撤回日期",
    "body": "受理机关", "body_case_number": "受理案号", "body_accepted_on": "受理日期", "applied": "已申请",
    "applied_on": "申请日期", "court": "人民法院", "result": "结果", "ruled_on": "裁定日期", "visitor": "回访人",
    "visited_at": "回访时间", "visited": "受访人", "performance": "履行情况", "satisfaction": "满意度",
    "later_lawsuit": "其后起诉", "institution_id": "机构编号", "due_date": "调解期限", "deemed_at": "视为调解不成时间",
    "provisional": "暂定", "version": "版本", "panel_id": "专家组", "mediator_ids": "调解员账号",
    "performance_detail": "履行说明", "lawsuit_detail": "诉讼说明", "speaker": "陈述人", "manner": "履行方式",
    "deadline": "履行期限", "deadline_text": "履行期限（约定）", "deadline_working_days": "生效后工作日",
    "patient": "患方", "drafted_at": "制作时间", "session_id": "调解会", "document_id": "文书编号",
    "document_sha256": "文书摘要", "name": "名称", "relation": "关系", "address": "地址", "agent": "委托代理人",
    "agent_title": "职务", "legal_representative": "法定代表人", "gender": "性别", "birth_date": "出生日期",
    "id_number": "身份证号码", "phone": "电话", "role": "身份", "authorisation": "授权委托", "deceased": "已故",
    "start": "开始", "end": "结束", "heirs_signed": "已签署的继承人", "for_heir": "被代理的继承人", "acts_for": "被代理人", "heir_acts": "继承人的签署", "copies_needed": "应备份数",
    "group": "所属医疗集团", "pool_institution_id": "机构库编号", "policy_number": "保单号",
    "patient_representatives": "患方代理人、近亲属",
}

VALUE_LABELS: dict[str, str] = {
    "written": "书面", "oral": "口头", "silence": "沉默（逾期未答复）", "phone": "电话", "letter": "信函",
    "in_person": "当面", "sms": "短信", "other": "其他", "patient": "患方", "institution": "医方",
    "mediator": "人民调解员", "committee_seal": "人民调解委员会印章", "insurer": "保险机构", "signature": "签名",
    "seal": "盖章", "fingerprint": "捺印", "both_parties": "双方当事人共同委托", "committee": "调解委员会委托",
    "pending": "审查中", "confirmed": "已确认", "rejected": "已驳回", "visit": "上门", "performed": "已履行完毕",
    "partly_performed": "部分履行", "not_performed": "未履行", "satisfied": "满意", "basically_satisfied": "基本满意",
    "dissatisfied": "不满意", "male": "男", "female": "女", "relative": "近亲属", "agent": "委托代理人",
    "guardian": "监护人",
    **ABANDON_REASONS,
    **{ground: text.split("（")[0] for ground, text in TERMINATION_GROUNDS.items()},
}

# Who acted, as the file and the console name the roles
ROLE_WORDS: dict[str, str] = {"intake": "立案登记", "director": "主任", "mediator": "人民调解员", "expert": "咨询专家",
                              "auditor": "审计", "admin": "系统管理员", "dev": "开发模式", "system": "系统"}

# 原因力大小 of an appraisal's findings (FinishAppraisal.liability_degree)
LIABILITY_DEGREES: dict[str, str] = {
    "full": "全部责任", "main": "主要责任", "equal": "同等责任", "secondary": "次要责任", "minor": "轻微责任",
    "none": "无责任",
}
APPLICATION_TYPES: dict[str, str] = {"joint": "双方共同申请", "one_side": "一方申请", "oral": "口头申请",
                                     "committee_initiated": "调解委员会主动调解"}
# Codes whose words depend on the field they are in (a bare "main" or "none" means nothing on its own)
_FIELD_VALUES: dict[str, Mapping[str, str]] = {
    "application_type": APPLICATION_TYPES, "applicant_side": {"patient": "患方", "institution": "医方"},
    "liability_degree": LIABILITY_DEGREES, "specialties": SPECIALTIES, "department": DEPARTMENTS,
    "dispute_kind": DISPUTE_KINDS, "institution_level": INSTITUTION_LEVELS, "harm": HARMS,
    "raised_by": {"patient": "患方", "institution": "医方"},  # a request for an expert's recusal (Reg 37)
    "decision": {"upheld": "申请成立：专家回避，重新抽取", "rejected": "驳回申请"},
}


def value_words(field: str, value: Any) -> str | None:
    """The words of a code that means something only in its field (a degree of liability, a specialty, what the
    reports group by); None for any other."""
    return _FIELD_VALUES.get(field, {}).get(value) if isinstance(value, str) else None
# A nested field's own names where they differ from the file's usual ones (the sides who advance a fee)
_NESTED_LABELS: dict[str, Mapping[str, str]] = {"fees_advanced": {"patient": "患方", "institution": "医方"},
                                                "patient_representatives": {"name": "姓名"}}

# Details that belong to the machinery, not to the file: ids, digests and the workflow's own bookkeeping
HIDDEN_FIELDS = frozenset({"session_id", "panel_id", "document_id", "document_sha256", "mediator_ids", "request_digest",
                           "institution_id", "version", "attachment_ids"})  # the files: listed with their event


# who and what first, then how and when; the other details in the order of FIELD_LABELS
_FIRST = ("side", "signer", "ground", "consented_by", "refused_by", "signed_by", "capacity", "withdrawn_by_side",
          "withdrawn_by", "method", "withdrawal_form")
_ORDER = {key: index for index, key in reversed(list(enumerate((*_FIRST, *FIELD_LABELS))))}  # the first place wins
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _when(text: str) -> str | None:
    """An ISO time or day as the file prints it (Asia/Shanghai): 2026年11月20日 09:30, 2026年11月20日."""
    if _ISO_DAY.match(text):
        day = date.fromisoformat(text)
        return f"{day.year}年{day.month}月{day.day}日"
    if _ISO_TIME.match(text):
        moment = datetime.fromisoformat(text)
        moment = moment.astimezone(SHANGHAI) if moment.tzinfo else moment
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
    return None


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event)


def _value(value: Any, field: str = "") -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Mapping):
        names = _NESTED_LABELS.get(field, {})
        return "；".join(f"{names.get(k) or FIELD_LABELS.get(k, k)}：{_value(v, k)}" for k, v in value.items()
                        if v not in (None, "", [], {}) and k not in HIDDEN_FIELDS)
    if isinstance(value, (list, tuple)):
        if len(value) > 1 and all(isinstance(v, Mapping) for v in value):  # rows: each one numbered, (1) (2)
            return " ".join(f"（{i}）{_value(v, field)}" for i, v in enumerate(value, 1))
        return "；".join(_value(v, field) for v in value)
    text = str(value)
    return _FIELD_VALUES.get(field, {}).get(text) or VALUE_LABELS.get(text) or _when(text) or text


def details(payload: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """An event's payload as (label, value) pairs in Chinese, without the machinery's ids and empty values."""
    shown = [key for key, value in payload.items()
             if not key.startswith("_") and key not in HIDDEN_FIELDS and value not in (None, "", [], {})]
    return tuple((FIELD_LABELS.get(key, key), _value(payload[key], key))
                 for key in sorted(shown, key=lambda key: _ORDER.get(key, len(_ORDER))))
