"""A refusal as the committee's staff read it (domain/refusals.py, api/console/i18n.py `refusal`): every rule the
law can refuse an act by, every error code, and every invalid field in Chinese words, with the API's own text kept
under them."""

from __future__ import annotations

import core.errors
from api.console import i18n
from domain import refusals
from domain.lifecycle import TRANSITIONS
from domain.panel_lifecycle import INVITATION, PANEL, SEAT


def _codes() -> set[str]:
    found: set[str] = set()
    stack = [core.errors.DomainError]
    while stack:
        kind = stack.pop()
        found.add(kind.code)
        stack.extend(kind.__subclasses__())
    return found


def test_every_rule_of_the_case_and_the_panels_has_chinese_words() -> None:
    guards = {name for moves in TRANSITIONS.values() for _, guards in moves for name, _ in guards}
    guards.discard("completes_signatures")  # decides the state the signature leads to; it never refuses
    panel_rules = {key for machine in (INVITATION, PANEL, SEAT) for key in machine._rules}
    missing = sorted((guards | panel_rules | {"entered_from_records"}) - set(refusals.RULE_WORDS))
    assert missing == []
    for name in refusals.RULE_WORDS:
        words = refusals.rule_words(name)
        assert words and not any("a" <= ch <= "z" for ch in words), (name, words)  # no English left in


def test_every_error_code_has_a_chinese_headline() -> None:
    assert sorted(_codes() - set(refusals.CODE_WORDS)) == []


def test_a_late_signature_is_refused_with_its_due_date_and_article() -> None:
    # Reg 38, 39: only signatures dated by the due date are recorded
    body = {"detail": "'sign' refused: the mediation period ended on 2026-12-31 ...", "code": "rule_violated",
            "state": "signing", "event": "sign", "rules": ["signed_by_due_date"]}
    case = {"mediation_clock": {"due_date": "2026-12-31", "provisional": False}}
    said = i18n.refusal("zh", 409, body, case)
    assert said.headline == "这项操作不符合法定规则，未予登记"
    assert said.reasons == ("调解期限已届满（期满日 2026-12-31）：只能登记期满日当天或之前的签署"
                            "（《医疗纠纷预防和处理条例》第三十八条、第三十九条）",)
    assert said.api_words == body["detail"]  # the API's own words are kept for whoever supports the staff


def test_a_provisional_due_date_says_the_case_waits_for_its_calendar() -> None:
    # Reg 38 (rev 2): nothing fails on a provisional date; the year's calendar makes it exact
    case = {"mediation_clock": {"due_date": "2027-01-20", "provisional": True}}
    words = refusals.rule_words("period_running", case)
    assert words is not None
    assert "期满日 2027-01-20，暂定" in words and "请管理员导入该年度日历" in words


def test_an_unperformed_term_is_named_when_performance_is_confirmed_too_early() -> None:
    # PML 31: performance is confirmed when every term is performed, or the patient side accepts less
    case = {"balances": [{"term": 1, "balance": "20000.00", "performed": False},
                         {"term": 2, "balance": None, "performed": False},
                         {"term": 3, "balance": "0.00", "performed": True}]}
    words = refusals.rule_words("performed_in_full", case)
    assert words is not None and words.endswith("尚未履行：第1项 尚欠 20000.00 元；第2项 未履行")


def test_an_act_the_state_does_not_allow_names_the_state_and_the_act_in_chinese() -> None:
    body = {"detail": "'sign' is not allowed when the case is registered", "code": "illegal_transition",
            "state": "registered", "event": "sign", "allowed_events": ["request_consent"]}
    said = i18n.refusal("zh", 409, body)
    assert said.headline == "案件当前为「已登记」，不能进行「签署调解协议书」"
    assert said.allowed == ("request_consent",)


def test_invalid_fields_are_worded_in_chinese_with_the_bound_they_break() -> None:
    assert i18n.field_message("zh", {"message": "Field required", "type": "missing"}) == "必填"
    assert i18n.field_message("zh", {"message": "Input should be greater than 0", "type": "greater_than"}) == "应大于 0"
    assert i18n.field_message("zh", {"message": "Input should be a valid date or datetime, invalid character in "
                                                "year", "type": "date_from_datetime_parsing"}) == "日期格式不正确（年-月-日）"
    # a rule of the payload's own keeps its words after the Chinese
    assert i18n.field_message("zh", {"message": "Value error, the end is before the start",
                                     "type": "value_error"}) == "内容不符合要求：the end is before the start"
    assert i18n.field_message("en", {"message": "Field required", "type": "missing"}) == "Field required"
    body = {"detail": "invalid request", "code": "invalid_payload",
            "errors": [{"field": "body.patient.name", "message": "Field required", "type": "missing"}]}
    said = i18n.refusal("zh", 422, body)
    assert said.headline == "填写的内容有误，请按各栏的提示修改"
    assert said.reasons == (f"{i18n.field_label('zh', 'patient')} · {i18n.field_label('zh', 'name')}：必填",)


def test_english_pages_keep_the_apis_words() -> None:
    body = {"detail": "'sign' refused: each of patient side ... signs once (Reg 39)", "code": "rule_violated",
            "rules": ["new_signer"]}
    said = i18n.refusal("en", 409, body)
    assert said.headline == body["detail"] and said.reasons == ("new_signer",) and said.api_words == ""


def test_statuses_of_sessions_panels_seats_and_invitations_are_words() -> None:
    assert i18n.session_status("zh", "held") == "已召开"
    assert i18n.panel_status("zh", "invitation", "invited") == "待答复"
    assert i18n.panel_status("zh", "seat", "unfilled") == "无可抽取专家"
    assert i18n.panel_status("zh", "panel", "complete") == "已组成"
    assert i18n.panel_status("en", "seat", "unfilled") == "unfilled"


def test_a_reminder_is_listed_by_the_day_it_is_sent_and_the_deadline_it_is_about() -> None:
    # Reg 38: the warning comes working days before the period ends; staff read both days
    assert i18n.deadline_when("zh", "2026-12-31", "2026-12-28T00:00:00+08:00") == "2026-12-28 提醒（所涉期限 2026-12-31）"
    assert i18n.deadline_when("zh", "2026-12-31", "2027-01-01T00:00:00+08:00") == "2026-12-31"  # its 24:00
    assert i18n.deadline_when("zh", "2026-12-10", "2026-12-10T00:00:00+08:00") == "2026-12-10"  # on the day
    assert i18n.deadline_when("en", "2026-12-31", "2026-12-27T16:00:00Z") == "reminder on 2026-12-28 (deadline 2026-12-31)"


def test_an_amendment_without_an_heir_names_the_rule_of_a_deceased_patient() -> None:
    # Civil Code 173: a deceased patient's heirs are the parties; amended, the list stands as a registration's
    words = refusals.rule_words("representatives_lawful", {"registration": {"patient": {"deceased": True}}})
    assert words is not None and "须至少登记一名近亲属" in words and "第一百七十三条" in words
    living = refusals.rule_words("representatives_lawful", {"registration": {"patient": {"deceased": False}}})
    assert living is not None and "近亲属（继承人）" not in living
