"""The console's words, in Chinese (the default) and English. Events, states, fields and values take their
Chinese names from the one catalogue the documents print (domain/labels.py, domain/lifecycle.py); their English
names from the event catalogue's summaries and the field names themselves."""

from __future__ import annotations

from typing import Any

from domain.attachments import PARTIES, kind_label
from domain.deadlines import NOTIFICATION_LABELS
from domain.events import EVENTS
from domain.labels import EVENT_LABELS, FIELD_LABELS, ROLE_WORDS, VALUE_LABELS, value_words
from domain.lifecycle import REJECT_REASONS, STATE_LABELS

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
        "refused": "操作未被接受", "rule": "依据", "done": "已完成", "saved": "已保存", "required": "必填",
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
        "no_file": "Choose a file to upload.",
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
             "consents": "已取得的同意", "patient_representatives": "患方代理人、近亲属", "insurer": "保险机构",
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
             "department": "科室", "dispute_kind": "纠纷类型", "institution_level": "医疗机构等级", "harm": "损害后果"}
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
