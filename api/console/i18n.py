"""The console's words, in Chinese (the default) and English. Events, states, fields and values take their
Chinese names from the one catalogue the documents print (domain/labels.py, domain/lifecycle.py); their English
names from the event catalogue's summaries and the field names themselves."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from api.console.forms import field_parts
from domain import refusals
from domain.attachments import PARTIES, kind_label
from domain.deadlines import NOTIFICATION_LABELS
from domain.events import EVENTS
from domain.labels import EVENT_LABELS, FIELD_LABELS, ROLE_WORDS, VALUE_LABELS, value_words
from domain.lifecycle import REJECT_REASONS, STATE_LABELS
from domain.panel_lifecycle import INVITATION, PANEL, SEAT
from domain.time import SHANGHAI

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

ROLE_LABELS = {
    "zh": {role: words for role, words in ROLE_WORDS.items() if role != "system"},
    "en": {"intake": "Intake", "director": "Director", "mediator": "Mediator", "expert": "Expert",
           "auditor": "Auditor", "admin": "Administrator", "dev": "Dev mode"},
}

UI: dict[str, dict[str, str]] = {
    "zh": {
        "app": "医疗纠纷人民调解", "login": "登录", "logout": "退出", "username": "用户名", "password": "密码",
        "dev_picker": "开发模式：选择角色进入（不需要密码）", "enter_as": "进入", "home": "工作台",
        "cases": "案件", "register": "登记纠纷", "calendar": "调解会日程", "invitations": "我的咨询邀请",
        "audit": "审计记录", "admin": "管理", "search": "查找", "search_hint": "案号、当事人姓名、身份证号或电话",
        "number": "案号", "status": "状态", "parties": "当事人", "patient": "患方", "institution": "医方",
        "due": "调解期限", "next_deadline": "最近期限", "registered_at": "登记时间", "none": "无",
        "worklist": "待办事项", "due_today": "今日到期", "this_week": "本周到期", "overdue": "已逾期",
        "review_queue": "待受理审查", "my_cases": "我的案件", "all_cases": "本委员会案件",
        "clock": "调解期限（《医疗纠纷预防和处理条例》第三十八条）", "used_wd": "已用工作日",
        "remaining_wd": "剩余工作日", "due_date": "期满日", "paused": "中止计算（鉴定期间）",
        "provisional": "暂定（所涉年度的工作日安排尚未公布）", "not_started": "受理后开始计算",
        "clock_stopped": "调解期限已停止计算（调解协议已生效，或案件已结束）", "not_accepted": "案件未受理，不计算调解期限",
        "timeline": "经过", "documents": "文书", "sessions": "调解会", "panels": "专家咨询",
        "actions": "可以进行的操作", "no_actions": "当前没有您可以进行的操作", "submit": "提交",
        "download": "下载", "verify": "核验", "preview": "预览", "sha256": "SHA-256",
        "verified": "核验通过：文书未被改动，印章有效", "not_verified": "核验未通过",
        "unsealed": "摘要一致：文书未被改动（此文书未加盖印章）", "pending": "制作中", "failed": "制作失败",
        "refused": "操作未被接受", "rule": "依据", "api_words": "系统原文",
        "panel_objection": "登记回避申请", "panel_decision": "决定回避申请", "panel_redraw": "重新抽取专家",
        "panel_meeting": "安排专家会议", "objections": "回避申请（《医疗纠纷预防和处理条例》第三十七条）",
        "pending_decision": "待决定", "meeting": "专家会议",
        "performance": "协议履行情况（《人民调解法》第三十一条）", "term": "协议项", "term_text": "内容",
        "amount": "金额（元）", "paid": "已履行（元）", "balance": "尚欠（元）", "performed": "已履行完毕",
        "not_performed": "未履行完毕", "payments": "履行记录", "yuan": "元",
        "payment_overdue": "有协议项已过履行期限而未履行完毕：请督促履行，或登记不履行。", "done": "已完成", "saved": "已保存", "required": "必填",
        "csrf": "表单已失效（缺少或错误的安全令牌），请刷新页面后重新提交。", "forbidden": "您的角色不能进行此操作。",
        "not_found": "没有找到。", "login_failed": "用户名或密码错误。", "back": "返回",
        "duplicate": "可能是重复申请：以下案件的患者、医疗机构和诊疗经过相同。",
        "confirm_new": "确认是新的纠纷，并说明理由", "kind": "申请方式", "agreement": "调解协议",
        "signatures": "签署", "accept_invitation": "接受邀请", "decline": "谢绝", "conflict": "申报回避事由",
        "opinion": "提交咨询意见", "invitation": "咨询邀请", "answer_due": "答复期限", "material": "案件材料",
        "week": "周", "prev_week": "上一周", "next_week": "下一周", "place": "地点", "mediators": "调解员",
        "users": "用户", "committees": "调解委员会", "years": "工作日历", "pool": "专家库",
        "import": "导入", "create": "新建", "trail": "审计链", "chain_ok": "审计链完整", "chain_broken": "审计链断裂于",
        "case_file": "卷宗", "allowed": "依法可进行", "version": "版本", "events": "事件",
        "deadlines": "各项期限", "lang_switch": "English", "event_at": "时间", "actor": "操作人",
        "details": "详情", "seats": "席位", "warning": "提示", "total": "合计", "overview": "委员会概况",
        "tasks_none": "暂无待办事项", "statistics": "统计报表", "days_left": "剩余工作日", "expert_anonymised": "接受邀请前，当事人信息已隐去",
        "attachments": "当事人材料", "attachment_kind": "材料类别", "attachment_party": "提交方",
        "received_on": "收到日期", "description": "说明", "file": "文件", "filename": "文件名", "size": "大小",
        "upload": "上传材料", "uploaded_by": "上传人", "withdraw": "撤回", "withdraw_reason": "撤回理由",
        "withdrawn": "已撤回", "attachment_uploaded": "材料已上传", "attachment_withdrawn": "材料已撤回",
        "attachments_total": "本案材料合计", "of_limit": "上限", "upload_hint":
        "接受 PDF、JPEG、PNG、TIFF、OFD 文件（按文件内容判断，不看文件名）",
        "panel_files": "专家组可查阅的材料", "panel_files_none": "暂无可查阅的材料",
        "notifications": "通知", "notifications_failed": "只看发送失败的", "notifications_all": "全部通知",
        "notifications_queued": "只看排队中的", "notifications_sent": "只看已发送的", "notification_kind": "通知类别", "deliveries": "送达情况",
        "recipient": "收件人", "channel": "渠道", "attempts": "尝试次数", "reason": "原因", "sent_at": "发送时间",
        "no_deliveries": "只记入系统日志", "case": "案件", "open_case": "查看案件", "more": "下一页",
        "contact": "联系方式", "email": "电子邮箱", "mobile": "手机号码", "mobile_hint": "中国大陆手机号码，11 位，可加 +86", "notify_by": "通知方式",
        "notify_email": "电子邮件", "notify_sms": "短信", "notify_none": "不选：只在系统中查看通知",
        "contact_hint": "案件的提醒、期限预警和任务会按您选择的方式发送。",
        "refused_file_type": "文件类型不被接受：只接受 PDF、JPEG、PNG、TIFF 或 OFD 文件（按文件内容判断，不看文件名）。",
        "detected": "该文件实际是", "refused_too_large": "文件过大，未保存。",
        "refused_case_full": "本案材料已接近容量上限，未保存。", "limit_bytes": "上限", "left_bytes": "尚可上传",
        "refused_malware": "文件中检测到恶意代码，未保存。", "refused_invalid": "填写的内容有误，未保存。",
        "refused_store": "材料存储暂时不可用，请稍后再试。", "refused_bound": "案件已归档，卷宗已装订，不能再上传或撤回材料。",
        "no_file": "请选择要上传的文件。",
    },
    "en": {
        "app": "Medical dispute mediation", "login": "Log in", "logout": "Log out", "username": "Username",
        "password": "Password", "dev_picker": "Dev mode: enter as a role (no password)", "enter_as": "Enter",
        "home": "Home", "cases": "Cases", "register": "Register a dispute", "calendar": "Sessions calendar",
        "invitations": "My invitations", "audit": "Audit trail", "admin": "Administration", "search": "Search",
        "search_hint": "case number, party name, identity or phone number", "number": "Number",
        "status": "Status", "parties": "Parties", "patient": "Patient side", "institution": "Institution",
        "due": "Mediation period", "next_deadline": "Next deadline", "registered_at": "Registered", "none": "none",
        "worklist": "Open tasks", "due_today": "Due today", "this_week": "Due this week", "overdue": "Overdue",
        "review_queue": "Waiting for review", "my_cases": "My cases", "all_cases": "The committee's cases",
        "clock": "Mediation period (Reg 38)", "used_wd": "Working days used", "remaining_wd": "Working days left",
        "due_date": "Due date", "paused": "Paused (appraisal)",
        "provisional": "Provisional (the year's working days are not published yet)",
        "not_started": "Starts at acceptance",
        "clock_stopped": "The mediation clock has stopped (the agreement took effect, or the case ended)",
        "not_accepted": "The case was not accepted: no mediation clock", "timeline": "Timeline", "documents": "Documents",
        "sessions": "Sessions", "panels": "Expert consultation", "actions": "What you can do now",
        "no_actions": "Nothing you can do on this case now", "submit": "Submit", "download": "Download",
        "verify": "Verify", "preview": "Preview", "sha256": "SHA-256",
        "verified": "Verified: the document is unaltered and its seal is valid",
        "not_verified": "Verification failed", "unsealed": "The hash matches: unaltered (this document is not sealed)",
        "pending": "being made", "failed": "failed", "refused": "Refused", "rule": "Rule", "done": "Done",
        "saved": "Saved", "required": "required",
        "csrf": "This form has expired (its security token is missing or wrong): reload the page and submit again.",
        "forbidden": "Your role may not do this.", "not_found": "Not found.",
        "login_failed": "Wrong username or password.", "back": "Back",
        "duplicate": "Possibly filed before: these cases have the same patient, institution and treatment.",
        "confirm_new": "Confirm it is a new dispute, with the reason", "kind": "Application",
        "agreement": "Agreement", "signatures": "Signatures", "accept_invitation": "Accept",
        "decline": "Decline", "conflict": "Declare a conflict", "opinion": "Submit my opinion",
        "invitation": "Invitation", "answer_due": "Answer by", "material": "Case material", "week": "Week",
        "prev_week": "Previous week", "next_week": "Next week", "place": "Place", "mediators": "Mediators",
        "users": "Users", "committees": "Committees", "years": "Working-day calendar", "pool": "Expert pool",
        "import": "Import", "create": "Create", "trail": "Audit chain", "chain_ok": "The audit chain is whole",
        "chain_broken": "The audit chain breaks at", "case_file": "Case file", "allowed": "Allowed now",
        "version": "Version", "events": "Events", "deadlines": "Deadlines", "lang_switch": "中文",
        "event_at": "At", "actor": "By", "details": "Details", "seats": "Seats", "warning": "Note",
        "total": "Total", "overview": "Committee overview", "tasks_none": "No open tasks", "statistics": "Statistics",
        "days_left": "Working days left", "expert_anonymised": "Parties are anonymised until you accept",
        "attachments": "Parties' files", "attachment_kind": "Kind", "attachment_party": "Given by",
        "received_on": "Received on", "description": "Description", "file": "File", "filename": "File name",
        "size": "Size", "upload": "Upload a file", "uploaded_by": "Uploaded by", "withdraw": "Withdraw",
        "withdraw_reason": "Reason for withdrawing", "withdrawn": "Withdrawn", "attachment_uploaded": "File uploaded",
        "attachment_withdrawn": "File withdrawn", "attachments_total": "The case's files weigh", "of_limit": "limit",
        "upload_hint": "PDF, JPEG, PNG, TIFF or OFD (read from the file's bytes, not its name)",
        "panel_files": "Files given to the panel", "panel_files_none": "No files yet",
        "notifications": "Notifications", "notifications_failed": "Only failed deliveries",
        "notifications_all": "All notifications", "notifications_queued": "Only those still queued",
        "notifications_sent": "Only those sent",
        "notification_kind": "Kind", "deliveries": "Deliveries", "recipient": "Recipient", "channel": "Channel",
        "attempts": "Attempts", "reason": "Reason", "sent_at": "Sent", "no_deliveries": "Written to the log only",
        "case": "Case", "open_case": "Open the case", "more": "Next page",
        "contact": "Contact", "email": "E-mail", "mobile": "Mobile", "mobile_hint": "a mainland mobile number, 11 digits, +86 optional", "notify_by": "Notify me by",
        "notify_email": "E-mail", "notify_sms": "SMS", "notify_none": "None ticked: in the console only",
        "contact_hint": "Reminders, deadline warnings and tasks of your cases are sent the ways you choose.",
        "refused_file_type": "This kind of file is not accepted: PDF, JPEG, PNG, TIFF or OFD only (read from the "
        "file's bytes, not its name).", "detected": "The file is", "refused_too_large": "The file is too large: "
        "nothing was stored.", "refused_case_full": "The case's files would exceed its limit: nothing was stored.",
        "limit_bytes": "limit", "left_bytes": "room left", "refused_malware": "Malware was found in the file: "
        "nothing was stored.", "refused_invalid": "Something is missing or wrong: nothing was stored.",
        "refused_store": "The files' store is unavailable: try again later.",
        "refused_bound": "The case is archived: its file is bound, files are neither added nor withdrawn.",
        "no_file": "Choose a file to upload.", "api_words": "The API's words",
        "panel_objection": "Record a request for recusal", "panel_decision": "Decide the request",
        "panel_redraw": "Draw again", "panel_meeting": "Schedule the experts' meeting",
        "objections": "Requests for recusal (Reg 37)", "pending_decision": "to be decided", "meeting": "Meeting",
        "performance": "Performance of the agreement (PML 31)", "term": "Term", "term_text": "Text",
        "amount": "Amount (yuan)", "paid": "Paid (yuan)", "balance": "Balance (yuan)", "performed": "performed",
        "not_performed": "not performed", "payments": "Payments", "yuan": "yuan",
        "payment_overdue": "A term is past its deadline and not performed: follow it up, or record the "
        "non-performance.",
    },
}


def text(lang: str, key: str) -> str:
    return UI.get(lang, UI[DEFAULT_LANG]).get(key) or UI[DEFAULT_LANG].get(key, key)


def event_label(lang: str, event: str) -> str:
    if lang == "zh":
        return EVENT_LABELS.get(event, event)
    spec = EVENTS.get(event)
    return spec.summary if spec else event.replace("_", " ")


def state_label(lang: str, status: str) -> str:
    return STATE_LABELS.get(status, status) if lang == "zh" else status.replace("_", " ")


def field_label(lang: str, key: str) -> str:
    if lang == "zh" and key in FIELD_LABELS:
        return FIELD_LABELS[key]
    extra = {"committee_id": "调解委员会", "application_type": "申请方式", "applicant_side": "申请方",
             "consents": "已取得的同意", "insurer": "保险机构",
             "treatment_episode": "诊疗经过", "treatment_period": "诊疗期间", "start": "开始", "end": "结束",
             "confirm_new_dispute": "确认新纠纷", "claim_amount": "请求金额（元）", "requests": "调解请求",
             "oral_record": "口头申请笔录", "minor_or_incapacitated": "未成年人或无民事行为能力",
             "heirs": "继承人", "extension": "延长", "days": "工作日", "agreed_on": "约定日期",
             "username": "用户名", "full_name": "姓名", "password": "密码", "city": "城市", "expert_id": "专家编号",
             "id": "编号", "short_name": "简称", "case_number_pattern": "案号格式", "holidays": "放假日期",
             "workdays": "调休上班日期", "consent_wd": "对方答复期限（工作日）",
             "review_reminder_wd": "受理审查提醒（工作日）", "review_escalation_wd": "受理审查上报（再过工作日）",
             "mediation_wd": "调解期限（工作日）", "signing_grace_wd": "签署宽限（工作日）",
             "appraisal_reminder_wd": "鉴定状况提醒（工作日）", "warn_before_wd": "期满前提醒（工作日）",
             "judicial_confirmation_days": "司法确认申请期限（日）", "judicial_reminder_days": "司法确认提醒（日）",
             "case_file_retention_years": "卷宗保管期限（年）", "agreement_seal_image": "协议书印制印章图像",
             "payment_prompt_wd": "履行提醒（工作日）", "followup_days": "回访（日）",
             "expert_answer_wd": "专家答复期限（工作日）", "affiliation_lookback_years": "回避追溯（年）",
             "fault": "过错", "causation": "因果关系", "liability_percent": "责任程度（%）",
             "specialties": "专业", "question": "咨询事项", "new_scheduled_at": "新的时间",
             "department": "科室", "dispute_kind": "纠纷类型", "institution_level": "医疗机构等级", "harm": "损害后果",
             "invitation_id": "专家", "raised_by": "提出方", "form": "形式", "decision": "决定", "at": "时间",
             "material": "提交专家的材料（每行一项）"}
    if lang == "zh" and key in extra:
        return extra[key]
    return key.replace("_", " ").capitalize()


def value_label(lang: str, field: str, value: Any) -> str:
    if field == "reasons" and isinstance(value, int):
        return f"{value}. {REJECT_REASONS.get(value, '')}" if lang == "zh" else f"Reason {value}"
    if field == "application_type" and lang == "en":
        names = {"joint": "Joint", "one_side": "One side", "oral": "Oral", "committee_initiated": "Committee initiated"}
        if value in names:
            return names[value]
    if lang == "zh" and (words := value_words(field, value)):
        return words
    if lang == "zh" and isinstance(value, str) and value in VALUE_LABELS:
        return VALUE_LABELS[value]
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


# ---------------------------------------------------------------- files and notifications -------------------
DELIVERY_STATUS = {"zh": {"queued": "已排队", "sent": "已发送", "failed": "发送失败"},
                   "en": {"queued": "queued", "sent": "sent", "failed": "failed"}}
CHANNELS = {"zh": {"email": "电子邮件", "sms": "短信", "log": "系统日志"},
            "en": {"email": "e-mail", "sms": "SMS", "log": "log"}}
# What a refused file looks like (domain/filetypes.py names it in English), in Chinese.
DETECTED_ZH = {
    "a Windows executable (MZ)": "Windows 可执行程序（MZ）", "an ELF executable": "ELF 可执行程序",
    "a Mach-O or Java class file": "Mach-O 程序或 Java 类文件", "a Mach-O executable": "Mach-O 可执行程序",
    "a script (#!)": "脚本（#!）", "an OLE2 document (old Word or Excel, may hold macros)":
    "OLE2 文档（旧版 Word 或 Excel，可能含宏）", "a RAR archive": "RAR 压缩包", "a 7-Zip archive": "7-Zip 压缩包",
    "a gzip archive": "gzip 压缩包", "a GIF image": "GIF 图片", "a BMP image": "BMP 图片", "an RTF document": "RTF 文档",
    "a ZIP archive without OFD.xml at its root (not OFD)": "ZIP 压缩包（根目录没有 OFD.xml，不是 OFD）",
    "HTML or other markup": "HTML 或其他标记文本", "an empty file": "空文件", "plain text": "纯文本",
    "an unknown binary format": "无法识别的二进制格式",
}


def attachment_kind(lang: str, code: str) -> str:
    return kind_label(code, lang)


def party_label(lang: str, code: str) -> str:
    return PARTIES.get(code, code) if lang == "zh" else code.replace("_", " ")


def notification_kind(lang: str, kind: str) -> str:
    return NOTIFICATION_LABELS.get(kind, kind) if lang == "zh" else kind.replace("_", " ")


def delivery_status(lang: str, status: str) -> str:
    return DELIVERY_STATUS.get(lang, DELIVERY_STATUS["zh"]).get(status, status)


def channel_label(lang: str, channel: str) -> str:
    return CHANNELS.get(lang, CHANNELS["zh"]).get(channel, channel)


def size_label(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def file_refusal(lang: str, status: int, body: Any) -> str | None:
    """The words for an upload or a withdrawal the API refused (413, 415, 422, 409, 503), in the page's language;
    the API's own words are shown under them."""
    found = body if isinstance(body, dict) else {}
    code = found.get("code", "")
    if status == 415 or code == "unsupported_media_type":
        words = text(lang, "refused_file_type")
        if detected := found.get("detected"):
            shown = DETECTED_ZH.get(detected, detected) if lang == "zh" else detected
            words += f"{text(lang, 'detected')}：{shown}" if lang == "zh" else f" {text(lang, 'detected')} {shown}."
        return words
    if status == 413 or code == "payload_too_large":
        full = found.get("left_bytes") is not None
        words = text(lang, "refused_case_full" if full else "refused_too_large")
        parts = []
        if found.get("limit_bytes") is not None:
            parts.append(f"{text(lang, 'limit_bytes')} {size_label(int(found['limit_bytes']))}")
        if full:
            parts.append(f"{text(lang, 'left_bytes')} {size_label(int(found['left_bytes']))}")
        return words + ("（" + "，".join(parts) + "）" if lang == "zh" else " (" + ", ".join(parts) + ")") \
            if parts else words
    if code == "malware_found":
        words = text(lang, "refused_malware")
        return f"{words} {found['signature']}" if found.get("signature") else words
    if status == 422:
        return text(lang, "refused_invalid")
    if status == 409 and code == "illegal_transition":
        return text(lang, "refused_bound")
    if status == 503:
        return text(lang, "refused_store")
    return None


# ---------------------------------------------------------------- refusals ------------------------------------
@dataclass(frozen=True)
class Refusal:
    """What the page says when the API refused: a headline and the rules in the page's language, then the API's
    own words (for whoever supports the committee), its status and code."""

    headline: str
    reasons: tuple[str, ...] = ()
    api_words: str = ""
    code: str = ""
    allowed: tuple[str, ...] = field(default=())


def refusal(lang: str, status: int, body: Any, case: Mapping[str, Any] | None = None,
            file_words: str | None = None) -> Refusal:
    """The API's refusal (`code`, `rules`, `state`, `event`, `allowed_events`) in words; `case` (the case as the
    API returns it) fills in what a rule depends on (its due date, its open terms)."""
    found: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    detail, code = str(found.get("detail") or ""), str(found.get("code") or "")
    allowed = tuple(str(e) for e in found.get("allowed_events") or ())
    if lang != "zh":
        rules = tuple(str(r) for r in found.get("rules") or ())
        return Refusal(file_words or detail or str(status), rules, detail if file_words else "", code, allowed)
    reasons = tuple(refusals.rule_words(str(r), case) or str(r) for r in found.get("rules") or ())
    if file_words:
        headline = file_words
    elif code == "illegal_transition" and found.get("event"):
        headline = (f"案件当前为「{state_label(lang, str(found.get('state', '')))}」，"
                    f"不能进行「{event_label(lang, str(found['event']))}」")
    else:
        headline = refusals.code_words(code) or ("未予处理" if status >= 400 else detail)
    if code == "invalid_payload" and found.get("errors"):
        reasons += tuple(f"{_field_path(lang, str(e.get('field', '')))}：{field_message(lang, e)}"
                         for e in found["errors"] if isinstance(e, Mapping))
    return Refusal(headline, reasons, detail, code, allowed)


def _field_path(lang: str, path: str) -> str:
    parts = field_parts(path)
    return " · ".join(str(int(p) + 1) if p.isdigit() else field_label(lang, p) for p in parts) or path


# Pydantic's messages that say no more than their Chinese words; the others (a bound, a rule of the payload's
# own) keep the API's message after the words.
_SAID_IN_FULL = frozenset({
    "missing", "int_parsing", "int_type", "decimal_parsing", "decimal_type", "float_parsing", "date_parsing",
    "date_from_datetime_parsing", "date_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_type",
    "bool_parsing", "string_type", "list_type", "enum", "literal_error", "json_invalid", "extra_forbidden",
})
_LIMIT = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:characters?|items?|digits?|decimal places)?\s*$")
_BOUNDS = {"greater_than": "应大于 {}", "greater_than_equal": "不能小于 {}", "less_than": "应小于 {}",
           "less_than_equal": "不能大于 {}", "string_too_long": "不能超过 {} 个字", "too_long": "不能超过 {} 项",
           "too_short": "至少需要 {} 项"}


def field_message(lang: str, error: Mapping[str, Any]) -> str:
    """A refused field's message: pydantic's error type in Chinese words (the API's message kept where it adds
    something: a rule of the payload's own)."""
    message, kind = str(error.get("message", "")), str(error.get("type") or "")
    if lang != "zh" or not kind:
        return message
    if kind in _BOUNDS and (limit := _LIMIT.search(message)):
        return _BOUNDS[kind].format(limit.group(1))
    words = refusals.field_words(kind)
    if words is None:
        return message
    if kind in _SAID_IN_FULL:
        return words
    return f"{words}：{message.removeprefix('Value error, ').removeprefix('Assertion failed, ')}"


# ---------------------------------------------------------------- statuses of sessions and panels ------------
SESSION_STATUS = {"zh": {"scheduled": "已安排", "held": "已召开", "cancelled": "已取消"},
                  "en": {"scheduled": "scheduled", "held": "held", "cancelled": "cancelled"}}
_PANEL_LIFECYCLES = {"invitation": INVITATION, "seat": SEAT, "panel": PANEL}


def session_status(lang: str, status: str) -> str:
    return SESSION_STATUS.get(lang, SESSION_STATUS["zh"]).get(status, status)


def panel_status(lang: str, kind: str, status: str) -> str:
    """An invitation's, a seat's or a panel's status: its lifecycle's state name (domain/panel_lifecycle.py)."""
    if lang != "zh":
        return status.replace("_", " ")
    return _PANEL_LIFECYCLES[kind].labels.get(status, status)


def deadline_when(lang: str, due_on: str, at: str) -> str:
    """When a pending deadline is: its day, and for a reminder sent on another day (a warning before the mediation
    period ends, a prompt after a payment's day) the day it is sent, then the day it is about."""
    try:
        due, fires = date.fromisoformat(str(due_on)), datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except ValueError:
        return str(due_on)
    fires = fires.astimezone(SHANGHAI) if fires.tzinfo else fires
    if fires.date() == due or (fires.time() == time(0) and fires.date() == due + timedelta(days=1)):
        return due.isoformat()  # on the day, or at its 24:00
    if lang == "zh":
        return f"{fires.date().isoformat()} 提醒（所涉期限 {due.isoformat()}）"
    return f"reminder on {fires.date().isoformat()} (deadline {due.isoformat()})"


# What a field asks for, under it on a Chinese page. The payload models' descriptions are the API's (English,
# naming codes and paths), shown on English pages; a field without words here has no hint in Chinese.
FIELD_HINTS: dict[str, str] = {
    "applicant_side": "一方申请或口头申请时，由哪一方提出",
    "consents": "主动调解的案件：已经取得的同意，每方一项（何人、何时、以何种方式）；其余的以后逐方登记",
    "authorisation": "授权委托书的编号或说明",
    "acts_for": "患者已死亡时，代理人是哪几位继承人授权的（写继承人姓名，每位继承人须登记为近亲属）",
    "group": "该医院所属的医疗集团",
    "pool_institution_id": "专家库医疗机构名录中的该机构：专家回避按机构核对其人员及所属集团",
    "treatment_period": "该次诊疗的起止日期：同一患者、同一医疗机构且诊疗期间重叠的登记，会被提示可能重复",
    "confirm_new_dispute": "已有相同的案件时仍要登记：请写明为什么这是一个新的纠纷",
    "oral_record": "口头申请的，记录申请内容",
    "consented_at": "表示同意的时间；不填为现在",
    "method": "对方沉默，只有在答复期限届满后才视为拒绝（《人民调解法》第十七条），届时案件自动结束",
    "refused_at": "表示拒绝的时间（来信日期、通话时间）；不填为登记时",
    "mediators": "人民调解员的姓名，按文书上的写法",
    "mediator_ids": "承办本案的人民调解员（本委员会的账户）：他们可以查看和办理本案",
    "reasons": "至少选择一项；选择第 8 项须写明理由",
    "institution_id": "从专家库的医疗机构名录中选择：专家回避按机构核对，不按名称（《医疗纠纷预防和处理条例》第三十七条）",
    "attendees": "每行一人：姓名，或姓名和身份",
    "session_id": "哪一次调解会",
    "specialties": "每个专业需要几名专家；合计一至七名（《医疗纠纷预防和处理条例》第三十五条）",
    "commissioned_by": "双方共同委托，或经双方同意由调解委员会委托（《医疗纠纷预防和处理条例》第三十四条）",
    "patient_consent": "患方同意由调解委员会委托鉴定",
    "institution_consent": "医方同意由调解委员会委托鉴定",
    "fees_advanced": "双方各自预付的鉴定费用（《医疗纠纷预防和处理条例》第三十四条）；调解本身不收费",
    "medical_damage": "是否存在医疗损害",
    "fault": "诊疗行为有无过错",
    "causation": "过错与损害之间有无因果关系",
    "liability_degree": "鉴定意见认定的原因力大小",
    "attachment_ids": "证明这一行为的本案材料",
    "extra_days": "延长的工作日数",
    "approved_by": "代表委员会批准延长的主任",
    "payer": "由谁支付，可以是保险机构",
    "deadline": "履行期限（日期）",
    "deadline_working_days": "履行期限：协议生效之日起的工作日数，系统据此算出日期",
    "copies": "每方当事人一份，委员会至少留存一份；不填即为此数",
    "signer": "患方、医方、人民调解员，或委员会盖章（主任）",
    "for_heir": "患者已死亡、由继承人授权的代理人签署时：为哪位继承人签署",
    "capacity": "以何种身份签署，印在协议书的签署记录中；不填按登记的身份",
    "term": "协议的第几项（1、2、……）",
    "amount": "金钱给付项：不超过尚欠金额；其他项不填",
    "paid_on": "支付或履行的日期",
    "patient_acceptance": "患方书面同意接受少于协议约定的履行（内容和日期）",
    "visited": "回访时与谁交谈",
    "withdrawal_form": "书面：当事人签名的声明；口头：记录并签名",
    "extension": "须经双方当事人同意、主任批准（《医疗纠纷预防和处理条例》第三十八条）",
    "invitation_id": "申请哪一位专家回避",
    "material": "提交专家的材料，每行一项",
}


def field_hint(lang: str, key: str, description: str | None) -> str | None:
    if lang == "zh":
        return FIELD_HINTS.get(key)
    return description
