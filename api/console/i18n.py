"""The console's words, in Chinese (the default) and English. Events, states, fields and values take their
Chinese names from the one catalogue the documents print (domain/labels.py, domain/lifecycle.py); their English
names from the event catalogue's summaries and the field names themselves."""

from __future__ import annotations

from typing import Any

from domain.events import EVENTS
from domain.labels import EVENT_LABELS, FIELD_LABELS, VALUE_LABELS
from domain.lifecycle import REJECT_REASONS, STATE_LABELS

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

ROLE_LABELS = {
    "zh": {"intake": "立案登记", "director": "主任", "mediator": "人民调解员", "expert": "咨询专家",
           "auditor": "审计", "admin": "系统管理员", "dev": "开发模式"},
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
        "not_started": "Starts at acceptance", "timeline": "Timeline", "documents": "Documents",
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
             "specialties": "专业", "question": "咨询事项", "new_scheduled_at": "新的时间"}
    if lang == "zh" and key in extra:
        return extra[key]
    return key.replace("_", " ").capitalize()


def value_label(lang: str, field: str, value: Any) -> str:
    if field == "reasons" and isinstance(value, int):
        return f"{value}. {REJECT_REASONS.get(value, '')}" if lang == "zh" else f"Reason {value}"
    if field == "application_type":
        names = {"joint": ("双方共同申请", "Joint"), "one_side": ("一方申请", "One side"),
                 "oral": ("口头申请", "Oral"), "committee_initiated": ("调解委员会主动调解", "Committee initiated")}
        if value in names:
            return names[value][0 if lang == "zh" else 1]
    if lang == "zh" and isinstance(value, str) and value in VALUE_LABELS:
        return VALUE_LABELS[value]
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)
