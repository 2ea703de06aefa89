"""What a refusal says to the committee's staff, in Chinese: the rule each guard stands for (with its article),
each error code's headline, and each kind of invalid field. The API answers in English with the structure a
program reads (`code`, `rules`, `state`, `allowed_events`, `errors[].type`); the console turns that structure
into these words, and shows the API's own text under them.

A rule's words may read the case as the API returns it (`GET /cases/{id}`): the mediation clock's due date, the
agreement's open terms. Without the case they are the rule alone."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.lifecycle import ABANDON_REASONS, TERMINATION_GROUNDS

Case = Mapping[str, Any]


def _due(case: Case) -> str:
    clock = case.get("mediation_clock") or {}
    due = clock.get("due_date")
    if not due:
        return ""
    return f"（期满日 {due}{'，暂定' if clock.get('provisional') else ''}）"


def _held(case: Case) -> str:
    """Rev 2: a provisional due date bounds the acts too; the case waits for its year's calendar."""
    if not (case.get("mediation_clock") or {}).get("provisional"):
        return ""
    return "。该期满日为暂定：所涉年度的工作日安排尚未导入，案件保持原状（暂定日期不会导致调解不成），请管理员导入该年度日历"


def _open_terms(case: Case) -> str:
    left = [b for b in case.get("balances") or () if not b.get("performed")]
    if not left:
        return ""
    shown = "；".join(
        f"第{b['term']}项 尚欠 {b['balance']} 元" if b.get("balance") is not None else f"第{b['term']}项 未履行"
        for b in left)
    return f"。尚未履行：{shown}"


def _representatives(case: Case) -> str:
    patient = (case.get("registration") or {}).get("patient") or {}
    deceased = ("患者已死亡：其近亲属（继承人）是当事人，须至少登记一名近亲属，不设监护人；委托代理人只为授权他的"
                "继承人代理，须注明为哪几位继承人（《民法典》第一百七十三条）")
    minor = "患者未成年或无民事行为能力：须登记监护人"
    if patient.get("deceased"):
        rules = [deceased]
    elif patient.get("minor_or_incapacitated"):
        rules = [minor]
    else:
        rules = [deceased, minor] if not patient else []
    return "；".join(["更正后的患方代理人、近亲属须符合登记时的规则", *rules, "委托代理人须有授权委托书"])


RULE_WORDS: dict[str, str | Callable[[Case], str]] = {
    "representatives_lawful": _representatives,
    # the case's lifecycle (domain/lifecycle.py)
    "enough_copies": "协议书份数不足：每方当事人各执一份，调解委员会留存一份（《人民调解法》第二十九条）",
    "one_sided": "“征求对方意见”只用于一方申请或口头申请；委员会主动调解的案件，请逐方“登记当事人同意调解”"
    "（《医疗纠纷预防和处理条例》第三十一条第一款）",
    "committee_initiated": "只有委员会主动调解的案件，才在征求意见之前登记当事人的同意或拒绝",
    "both_sides_agree": "提交受理审查需要双方共同申请，或主动调解且双方的同意（何人、何时、以何种方式）均已登记；"
    "一方申请的，须先取得另一方的同意（《医疗纠纷预防和处理条例》第三十一条第一款）",
    "consent_missing": "双方的同意均已登记，请直接提交受理审查",
    "side_not_on_file": "主动调解的案件每方登记一次同意：请选择尚未登记同意的一方",
    "other_side": "需要取得的是申请人对方的同意，而不是申请人自己的（《医疗纠纷预防和处理条例》第三十一条第一款）",
    "refusal_stated": "对方沉默，只有在答复期限届满后才视为不同意，届时案件自动结束；期限届满之前，"
    "请登记对方以书面或口头明确表示的拒绝（《人民调解法》第十七条）",
    "respondent_linked": "请先将被申请医疗机构关联到专家库的医疗机构名录：专家回避按机构编号核对，"
    "不按名称（《医疗纠纷预防和处理条例》第三十七条）",
    "one_to_three_mediators": "每个案件指派一至三名人民调解员",
    "has_reject_reason": "不予受理须至少选择一项理由（1–8）；选择第 8 项的，须写明理由",
    "appraisal_commissioned": "鉴定须由双方共同委托，或经双方同意由调解委员会委托"
    "（《医疗纠纷预防和处理条例》第三十四条）",
    "abandonment_explained": "请说明鉴定不能出具意见的原因（" + "、".join(ABANDON_REASONS.values())
    + "；选择“其他”的须写明）",
    "period_running": lambda case: f"调解期限已届满{_due(case)}，不能再延长（《医疗纠纷预防和处理条例》第三十八条）"
    + _held(case),
    "extension_agreed": "延长调解期限须经双方当事人同意、主任批准，并写明延长的工作日数"
    "（《医疗纠纷预防和处理条例》第三十八条）",
    "has_open_session": "本案没有尚待召开的调解会（每次调解会都已登记笔录或已取消）",
    "session_scheduled": "只能为已安排的调解会登记笔录",
    "session_still_scheduled": "该调解会不是本案尚待召开的调解会：已登记笔录或已取消的调解会不能改期或取消",
    "has_pml29_content": "调解协议须写明纠纷事实、争议事项、各方责任，以及履行协议的方式和期限"
    "（《人民调解法》第二十九条）",
    "new_signer": "患方、医方、人民调解员各签署一次，委员会盖章一次（《医疗纠纷预防和处理条例》第三十九条）；"
    "患者已死亡的，由各继承人署名签署，或由继承人授权的代理人注明为哪位继承人签署（《民法典》第一百七十三条）",
    "signed_after_draft": "签署日期不能早于所签协议草稿的日期（《医疗纠纷预防和处理条例》第三十九条）",
    "signed_by_due_date": lambda case: f"调解期限已届满{_due(case)}：只能登记期满日当天或之前的签署"
    "（《医疗纠纷预防和处理条例》第三十八条、第三十九条）" + _held(case),
    "balance_outstanding": "协议的每一项都已全部履行",
    "payment_fits_term": lambda case: "履行记录须写明协议的哪一项；金钱给付项的金额须大于零且不超过尚欠金额，"
    "其他项只登记一次，不写金额" + _open_terms(case),
    "paid_after_effect": lambda case: "协议项下的履行不早于协议生效之日"
    + (f"（{case['effective_on']}）" if case.get("effective_on") else ""),
    "performed_in_full": lambda case: "各项均已全部履行，或患方书面同意接受部分履行的，才能确认履行完毕"
    "（《人民调解法》第三十一条）" + _open_terms(case),
    "panel_requested": "专家咨询须写明一至七名专家的专业，专业取自专家库的专业目录"
    "（《医疗纠纷预防和处理条例》第三十三条、第三十五条）",
    "has_termination_ground": "终止调解须选择法定事由之一：" + "、".join(
        text.split("（")[0] for text in TERMINATION_GROUNDS.values()),
    "entered_from_records": "补录的历史案件：补录的行为须按发生的先后、发生在过去；补录完成之前不能申请专家咨询",
    # an expert's invitation (domain/panel_lifecycle.py)
    "reason_given": "拒绝邀请或申请回避，须说明理由（《医疗纠纷预防和处理条例》第三十七条）",
    "opinion_given": "只有已经提交的专家意见才能作废",
    "not opinion_given": "该专家已提交意见：现在发现的回避事由使其意见作废（请声明回避事由）",
}

CODE_WORDS: dict[str, str] = {
    "illegal_transition": "案件当前的状态不能进行这项操作",
    "rule_violated": "这项操作不符合法定规则，未予登记",
    "stale_version": "案件在您打开页面之后已有新的变化：请刷新页面，核对后再提交",
    "possible_duplicate": "登记内容与已有案件相同（同一患者、医疗机构和诊疗经过）：如确属新的纠纷，请勾选“确认新纠纷”并写明理由",
    "conflict": "与案件（或专家咨询）当前的情况冲突，未予登记",
    "not_found": "未找到：不存在，或不在您所在委员会的范围内",
    "forbidden": "您的角色不能进行这项操作",
    "unauthorized": "登录已失效，请重新登录",
    "too_many_requests": "操作过于频繁，请稍候再试",
    "invalid_payload": "填写的内容有误，请按各栏的提示修改",
    "invalid_json": "提交的内容无法读取，请重新填写",
    "invalid_cursor": "列表的翻页位置已失效，请从第一页重新查看",
    "idempotency_key_reused": "这次提交与之前的一次提交重复，请刷新页面后重新填写",
    "bad_request": "请求有误，未予处理",
    "payload_too_large": "文件过大",
    "unsupported_media_type": "不接受这种类型的文件",
    "malware_found": "文件含有恶意代码，已拒收",
    "document_pending": "文书正在生成和盖章，请稍候再试",
    "document_failed": "文书未能生成（相应的操作已经登记）",
    "unavailable": "系统暂时不可用，未做任何更改，请稍候再试",
    "database_busy": "数据库繁忙，未做任何更改，请稍候再试",
    "action_timed_out": "系统未能及时完成这项操作，它可能稍后生效：请先刷新页面查看案件，不要重复提交",
    "scan_unavailable": "病毒扫描暂时不可用，文件未予接收，请稍候再试",
    "attachment_store_unavailable": "附件存储暂时不可用，文件未予接收，请稍候再试",
    "audit_unavailable": "审计记录暂时无法写入，未做任何更改，请稍候再试",
    "method_not_allowed": "不支持这种操作方式",
    "internal_error": "系统内部错误，已记录，请联系管理员",
}

# A field the API refused (pydantic's error types); the API's own message is shown beside it
FIELD_WORDS: dict[str, str] = {
    "missing": "必填",
    "string_too_short": "不能为空或过短",
    "string_too_long": "过长",
    "too_short": "至少需要一项",
    "too_long": "项数过多",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_max_places": "小数位数过多",
    "greater_than": "应大于下限",
    "greater_than_equal": "不能小于下限",
    "less_than": "应小于上限",
    "less_than_equal": "不能大于上限",
    "date_parsing": "日期格式不正确（年-月-日）",
    "date_from_datetime_parsing": "日期格式不正确（年-月-日）",
    "date_type": "日期格式不正确（年-月-日）",
    "datetime_parsing": "时间格式不正确",
    "datetime_from_date_parsing": "时间格式不正确",
    "datetime_type": "时间格式不正确",
    "enum": "请从列表中选择",
    "literal_error": "请从列表中选择",
    "bool_parsing": "应为“是”或“否”",
    "extra_forbidden": "不接受这一项",
    "value_error": "内容不符合要求",
    "assertion_error": "内容不符合要求",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "dict_type": "格式不正确",
    "model_type": "格式不正确",
    "json_invalid": "无法读取",
    "unknown": "不存在",
}


def rule_words(name: str, case: Case | None = None) -> str | None:
    """The rule `name` stands for, in Chinese; None for a name this catalogue does not know."""
    words = RULE_WORDS.get(name)
    if words is None:
        return None
    return words(case or {}) if callable(words) else words


def code_words(code: str) -> str | None:
    return CODE_WORDS.get(code)


def field_words(kind: str) -> str | None:
    return FIELD_WORDS.get(kind)
