"""A dispute carried through the console in Chromium, as its users would: the clerk registers a one-sided dispute and
gets the other side's consent, the director accepts it and assigns the mediator, the mediator schedules a session,
records its minutes, drafts the agreement and records the parties' and their own signatures, the director applies
the seal; the auditor downloads the agreement and verifies it. On the way: an action the law refuses shows the
rule that refused it, another committee's user cannot open the case by its URL, and a form without its CSRF
token is refused. The tests run in order and share the case (`WORLD`)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from domain.time import SHANGHAI
from tests.console.conftest import PASSWORD, case_in_consultation, log_in, screenshot

WORLD: dict[str, Any] = {}
NOW = datetime.now(SHANGHAI)
YESTERDAY = (NOW - timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)


def act(page: Page, event: str, fill: dict[str, str] | None = None, select: dict[str, str] | None = None,
        check: list[str] | None = None) -> None:
    """Open the event's form on the case page, fill it in by its labels' fields, and submit it."""
    form = page.locator(f"#act-{event}")
    expect(form).to_be_visible()
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    for name, value in (select or {}).items():
        form.locator(f"#f-{event}-{name}").select_option(value)
    for name, value in (fill or {}).items():
        form.locator(f"#f-{event}-{name}").fill(value)
    for label in check or []:
        form.get_by_label(label).check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def status_of(page: Page) -> str:
    return page.locator("h1 .status").inner_text()


def test_the_clerk_registers_a_one_sided_dispute_and_gets_consent(new_page):
    page = new_page()
    log_in(page, "clerk")
    expect(page.locator("h1")).to_contain_text("工作台")
    screenshot(page, "intake-home")
    page.get_by_role("link", name="登记纠纷").first.click()
    page.locator("#f-application_type").select_option("one_side")
    page.locator("#f-applicant_side").select_option("patient")
    page.locator("#f-patient-name").fill("王小明")
    page.locator("#f-patient-id_number").fill("310101198001011234")
    page.locator("#f-patient-phone").fill("13800138000")
    page.locator("#f-institution-name").fill("上海市某区人民医院")
    page.locator("#f-institution-legal_representative").fill("李院长")
    page.locator("#f-facts").fill("患者于2026年10月3日因阑尾炎入院手术，术后切口感染，再次手术。")
    page.locator("#f-claim_amount").fill("120000.00")
    page.locator("#f-requests").fill("要求医方赔偿医疗费、误工费等共计人民币十二万元。")
    with page.expect_navigation():
        page.get_by_role("button", name="登记纠纷").click()
    assert re.search(r"/console/cases/[A-Za-z0-9_-]+\?done=register", page.url), page.locator("main").inner_text()
    WORLD["case_url"] = page.url.split("?")[0]
    WORLD["case_id"] = WORLD["case_url"].rsplit("/", 1)[1]
    WORLD["number"] = page.locator("h1").inner_text().split(" ")[0]
    expect(page.locator("h1 .status")).to_have_text("已登记")

    act(page, "request_consent", select={"method": "phone"})
    expect(page.locator("h1 .status")).to_have_text("待对方同意")
    act(page, "record_consent", fill={"consented_by": "李院长"}, select={"method": "written"})
    # Reg 31¶1: with the other side's consent on file the case goes to the acceptance review
    expect(page.locator("h1 .status")).to_have_text("受理审查")
    timeline = page.locator("ol.timeline").inner_text()
    assert "登记调解申请" in timeline and "登记当事人同意调解" in timeline and "林登记" in timeline
    # each event's details in words, as the 卷宗 prints them: no JSON, no codes (PML 27, rev 2)
    details = page.locator("ol.timeline dl.payload").first.evaluate("node => node.textContent")
    assert "一方申请" in details and "李院长" in details and "{" not in details and "one_side" not in details


def test_the_director_accepts_it_from_the_review_queue_choosing_the_mediator(new_page):
    page = new_page()
    log_in(page, "director")
    queue = page.locator("section", has=page.locator("h2", has_text="待受理审查"))
    expect(queue).to_contain_text(WORLD["number"])
    screenshot(page, "director-home")
    queue.get_by_role("link", name=WORLD["number"]).click()
    act(page, "accept", check=["陈调解员"])
    expect(page.locator("h1 .status")).to_have_text("调解中")
    clock = page.locator("section.clock")
    expect(clock).to_contain_text("剩余工作日")  # Reg 38: the 30 working days run from acceptance
    expect(clock.locator("dd").first).to_contain_text("/ 30")


def test_the_mediator_holds_a_session_drafts_the_agreement_and_collects_signatures(new_page):
    page = new_page()
    log_in(page, "mediator")
    mine = page.locator("section", has=page.locator("h2", has_text="我的案件"))
    expect(mine).to_contain_text(WORLD["number"])
    screenshot(page, "mediator-home")
    mine.get_by_role("link", name=WORLD["number"]).click()
    act(page, "schedule_session", fill={"scheduled_at": YESTERDAY.strftime("%Y-%m-%dT%H:%M"),
                                        "place": "黄浦区医调委第一调解室"})
    expect(page.locator("#sessions-h + ul")).to_contain_text("第一调解室")
    held = YESTERDAY + timedelta(hours=1)
    act(page, "record_minutes", fill={"held_at": held.strftime("%Y-%m-%dT%H:%M"), "recorder": "刘记录员",
                                      "attendees": "王小明\n李院长",
                                      "statements-0-speaker": "王小明（患方）",
                                      "statements-0-text": "我方认为医方术中消毒不规范。",
                                      "statements-1-speaker": "李院长（医方）",
                                      "statements-1-text": "医方同意协商赔偿。"})
    expect(page.locator(".flash")).to_be_visible()

    tomorrow = (NOW + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    act(page, "schedule_session", fill={"scheduled_at": tomorrow.strftime("%Y-%m-%dT%H:%M"), "place": "第二调解室"})
    act(page, "schedule_session", fill={"scheduled_at": (tomorrow + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                                        "place": "第三调解室"})
    expect(page.locator(".warning")).to_contain_text("陈调解员")  # booked twice within two hours: said, not refused
    page.goto(f"/console/calendar?week={tomorrow.date().isoformat()}")
    week = page.locator(".week")
    expect(week.locator(".session.s-scheduled")).to_have_count(2)  # and the one held, in the same week or not
    expect(week).to_contain_text(WORLD["number"])
    screenshot(page, "mediator-calendar")
    page.goto(WORLD["case_url"])
    act(page, "reschedule_session", fill={"scheduled_at": (tomorrow + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
                                          "reason": "医方代理人上午出庭"})
    expect(page.locator("#sessions-h + ul")).to_contain_text("15:00")
    for _ in range(2):
        page.locator("#act-cancel_session summary").click()
        page.locator("#f-cancel_session-session_id").select_option(index=0)
        act(page, "cancel_session", fill={"reason": "双方同意改为书面协商"})
    expect(page.locator("#sessions-h + ul")).to_contain_text("已取消")  # a session's status in words
    due = (NOW + timedelta(days=30)).date().isoformat()
    act(page, "draft_agreement", fill={
        "facts": "患者术后切口感染，再次手术。", "points_in_dispute": "医方诊疗行为是否存在过错及赔偿数额",
        "responsibilities": "医方对患者损害承担主要责任", "terms-0-text": "医方一次性向患方支付赔偿款",
        "terms-0-amount": "80000.00", "terms-0-manner": "银行转账至患方指定账户", "terms-0-deadline": due})
    expect(page.locator("h1 .status")).to_have_text("待签署")
    for signer, name in (("patient", "王小明"), ("institution", "李院长"), ("mediator", "陈调解员")):
        act(page, "sign", select={"signer": signer}, fill={"signed_by": name})
        expect(page.locator(".flash")).to_be_visible()
    screenshot(page, "case-page")


def test_an_action_the_law_refuses_shows_the_rule(new_page):
    page = new_page()
    log_in(page, "mediator")
    page.goto(WORLD["case_url"])
    act(page, "sign", select={"signer": "patient"}, fill={"signed_by": "王小明"})  # signed already
    refusal = page.locator("#refusal")
    expect(refusal).to_be_visible()
    # Reg 39: each signs once. The rule in Chinese, the API's own words under it
    expect(page.locator("#refusal-words")).to_have_text("这项操作不符合法定规则，未予登记")
    expect(refusal.locator(".rules")).to_contain_text("患方、医方、人民调解员各签署一次")
    expect(refusal.locator(".api-words")).to_contain_text("signs once (Reg 39)")
    expect(page.locator("h1 .status")).to_have_text("待签署")


def test_the_director_applies_the_seal_and_the_agreement_takes_effect(new_page):
    page = new_page()
    log_in(page, "director")
    page.goto(WORLD["case_url"])
    act(page, "sign", select={"signer": "committee_seal"}, fill={"signed_by": "赵主任"}, )
    expect(page.locator("h1 .status")).to_have_text("履行中")  # Reg 39: effective once all four signed
    # Reg 38: an effective agreement stops the mediation clock; no working days are counted down any more
    clock = page.locator("section.clock").inner_text()
    assert "调解期限已停止计算" in clock and "剩余" not in clock


def test_the_mediator_follows_performance_term_by_term(new_page):
    # PML 31: performance is supervised term by term; confirming it early names what is still owed
    page = new_page()
    log_in(page, "mediator")
    page.goto(WORLD["case_url"])
    performance = page.locator("#performance")
    expect(performance).to_contain_text("医方一次性向患方支付赔偿款")
    expect(performance.locator("tbody tr")).to_contain_text("未履行完毕")
    act(page, "record_payment", fill={"term": "1", "amount": "30000.00", "paid_on": NOW.date().isoformat(),
                                      "payer": "上海市某医院", "proof": "银行转账回单 0001"})
    expect(page.locator(".flash")).to_be_visible()
    row = performance.locator("tbody tr").first
    expect(row).to_contain_text("30000.00")  # paid
    expect(row).to_contain_text("50000.00")  # still owed
    expect(performance.locator("ul.payments")).to_contain_text("银行转账回单 0001")
    act(page, "confirm_performance")
    expect(page.locator("#refusal .rules")).to_contain_text("尚未履行：第1项 尚欠 50000.00 元")
    expect(page.locator("h1 .status")).to_have_text("履行中")


def _agreement_link(page: Page, text: str):
    return page.locator("ul.documents li", has_text="人民调解协议书").filter(has_not_text="草稿") \
        .filter(has_not_text="已被取代").get_by_role("link", name=text).first


def test_the_auditor_downloads_and_verifies_the_agreement(new_page):
    page = new_page()
    log_in(page, "auditor")
    screenshot(page, "auditor-home")
    page.goto(WORLD["case_url"])
    deadline = time.monotonic() + 120
    while _agreement_link(page, "核验").count() == 0:  # documents are made apart from the action
        assert time.monotonic() < deadline, page.locator("ul.documents").inner_text()
        page.wait_for_timeout(1000)
        page.reload()
    with page.expect_download() as downloading:
        _agreement_link(page, "下载").click()
    pdf = downloading.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    _agreement_link(page, "核验").click()
    assert "核验通过" in page.locator("#verdict").inner_text(), page.locator("main").inner_text()
    for fact in ("#hash-matches", "#seal-signed", "#seal-intact", "#seal-valid"):  # the seal's record in words
        expect(page.locator(fact)).to_have_text("是")
    expect(page.locator("#seal-signer")).not_to_be_empty()
    recorded = page.locator("#sha256-recorded").inner_text()
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == recorded


def test_a_user_of_another_committee_cannot_open_the_case_by_its_url(new_page):
    page = new_page()
    log_in(page, "clerk_xuhui")
    response = page.goto(WORLD["case_url"])
    assert response is not None and response.status == 404  # Reg 42: not even its existence
    expect(page.locator(".refused")).to_be_visible()
    assert WORLD["number"] not in page.content()


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(new_page):
    page = new_page()
    log_in(page, "mediator")
    page.goto(WORLD["case_url"])
    before = page.locator("ol.timeline li").count()
    answer = page.request.post(f"{WORLD['case_url']}/act/record_payment",
                               form={"term": "1", "amount": "100.00", "paid_on": NOW.date().isoformat(),
                                     "payer": "上海市某区人民医院", "proof": "回单"})
    assert answer.status == 403 and "安全令牌" in answer.text()
    forged = page.request.post(f"{WORLD['case_url']}/act/record_payment",
                               form={"csrf_token": "0" * 64, "term": "1", "amount": "100.00",
                                     "paid_on": NOW.date().isoformat(), "payer": "某", "proof": "回单"})
    assert forged.status == 403
    page.reload()
    assert page.locator("ol.timeline li").count() == before


def test_the_mediator_links_the_respondent_from_the_registry_then_may_ask_for_experts(new_page, stack):
    # Reg 37: recusal checks institutions by id, so the respondent is chosen from the pool's registry, not typed
    from tests.console.conftest import case_in_mediation

    case_id = case_in_mediation(stack, "孙小青")
    page = new_page()
    log_in(page, "mediator")
    page.goto(f"/console/cases/{case_id}")
    expect(page.locator("#act-request_consultation")).to_have_count(0)  # a consultation needs the link first
    page.locator("#act-link_respondent summary").click()
    picker = page.locator("#f-link_respondent-institution_id")
    assert picker.input_value() == ""  # never chosen for the mediator
    first = picker.locator("option:not([disabled])").first  # the institution named as the respondent comes first
    expect(first).to_have_text("上海市某区人民医院（上海市，上海市某区医疗集团） · 与本案医方名称相同")
    act(page, "link_respondent", select={"institution_id": "sh-mq-main"})
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#act-request_consultation")).to_have_count(1)
    # Reg 35: two obstetricians on one panel, asked for by their number
    form = page.locator("#act-request_consultation")
    form.locator("summary").click()
    form.locator("input[name='specialties.obstetrics']").fill("2")
    form.locator("textarea[name=question]").fill("医方产后出血的处置有无过错？")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("div.panel li", has_text="产科")).to_have_count(2)


def test_the_clerk_adds_a_relative_who_came_forward_to_the_registered_list(new_page, stack):
    # Civil Code 173: the patient side's representatives are amended, with the reason, not registered again
    from tests.console.conftest import case_in_mediation

    case_id = case_in_mediation(stack, "吴小梅")
    page = new_page()
    log_in(page, "clerk")
    page.goto(f"/console/cases/{case_id}")
    act(page, "amend_parties", fill={"patient_representatives-0-name": "吴大海",
                                     "patient_representatives-0-relation": "患者之父",
                                     "reason": "患者之父到会，补充登记为近亲属"})
    expect(page.locator(".flash")).to_contain_text("更正患方代理人、近亲属")
    expect(page.locator("section[aria-labelledby=parties-h]")).to_contain_text("吴大海（患者之父）")
    expect(page.locator("ol.timeline")).to_contain_text("患者之父到会")


def test_a_partys_request_for_recusal_is_recorded_and_decided_on_the_case_page(new_page, stack):
    # Reg 37: a party may ask that a drawn expert be recused; the committee (its director) decides, and an upheld
    # request recuses the expert and draws another
    from tests.console.conftest import case_in_consultation

    made = case_in_consultation(stack, "周小兰")
    seat = made["seat"]
    page = new_page()
    log_in(page, "mediator")
    page.goto(f"/console/cases/{made['case_id']}")
    panel = page.locator("div.panel")
    expect(panel).to_contain_text(seat["expert_name"])
    expect(panel).to_contain_text("待答复")  # the seat's status in words
    request = panel.locator("details[id^=panel-objection-]")
    request.locator("summary").click()
    request.locator("select[name=invitation_id]").select_option(seat["invitation_id"])
    request.locator("select[name=raised_by]").select_option("patient")
    request.locator("select[name=form]").select_option("written")
    request.locator("textarea[name=reason]").fill("该专家曾在被申请医院进修")
    request.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_contain_text("登记回避申请")
    expect(panel.locator("ul.objections")).to_contain_text("待决定")
    expect(panel.locator("details[id^=panel-decision-]")).to_have_count(0)  # the director decides, not the mediator

    page = new_page()
    log_in(page, "director")
    page.goto(f"/console/cases/{made['case_id']}")
    decision = page.locator("details[id^=panel-decision-]")
    decision.locator("summary").click()
    decision.locator("select[name=decision]").select_option("upheld")
    decision.locator("textarea[name=reason]").fill("申请理由成立")
    decision.locator("button[type=submit]").click()
    page.wait_for_load_state()
    objections = page.locator("div.panel ul.objections")
    expect(objections).to_contain_text("申请成立：专家回避，重新抽取（申请理由成立）")
    expect(objections).not_to_contain_text("待决定")


def test_an_expert_accepts_an_invitation_and_gives_their_opinion(new_page, stack):
    from tests.console.conftest import Account, create_account

    seat = case_in_consultation(stack, "赵小红")["seat"]
    create_account(stack, Account("expert.one", "expert", seat["expert_name"], expert_id=seat["expert_id"]))
    page = new_page()
    log_in(page, Account("expert.one", "expert", seat["expert_name"]))
    expect(page.locator("h1")).to_contain_text("我的咨询邀请")
    screenshot(page, "expert-home")
    row = page.locator("table.list tr", has_text="产科").filter(has_text="赵某")  # this case: its experts may sit on others
    expect(row).to_contain_text("赵某")  # DOMAIN.md: anonymised until accepted
    row.get_by_role("link").click()
    expect(page.locator(".note")).to_contain_text("当事人信息已隐去")
    page.locator("#answer-accept button[type=submit]").click()
    page.wait_for_load_state()
    assert "已接受" in page.locator("#invitation-status").inner_text(), page.locator("main").inner_text()
    expect(page.locator("main")).to_contain_text("赵小红")  # the material, once accepted
    opinion = page.locator("#answer-opinion")
    if opinion.get_attribute("open") is None:
        opinion.locator("summary").click()
    opinion.locator("#f-opinion-fault").fill("医方在产后出血的观察与处置上存在延误")
    opinion.locator("#f-opinion-causation").fill("该延误与损害后果存在因果关系")
    opinion.locator("#f-opinion-liability_percent").fill("60")
    opinion.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_be_visible()  # Reg 33: the expert's part of the opinion, given once
    expect(page.locator("main")).to_contain_text("医方在产后出血的观察与处置上存在延误")
    expect(page.locator("#answer-opinion")).to_have_count(0)


POOL_FILE = (
    "id,city,name,title,specialties,region,active,max_concurrent,phone,email,id_number,affiliations,relatives\n"
    "SH-E9001,上海市,钱新,主任医师,产科,黄浦区,true,3,13916009001,,,sh-fy:2010-08-01:,\n"
    "SH-E9002,上海市,孙错,主任医师,占星学,黄浦区,true,3,13916009002,,,sh-fy:2010-08-01:,\n"
)


def test_the_admin_adds_an_account_and_sees_every_bad_row_of_a_pool_file(new_page, tmp_path):
    page = new_page()
    log_in(page, "admin")
    expect(page.locator("h1")).to_have_text("管理")
    expect(page.locator("#committees-h + table")).to_contain_text("上海市徐汇区医疗纠纷人民调解委员会")
    screenshot(page, "admin-home")

    page.locator("#admin-user summary").click()
    page.locator("#f-user-username").fill("zhou.tiaojie")
    page.locator("#f-user-full_name").fill("周调解员")
    page.locator("#f-user-role").select_option("mediator")
    page.locator("#f-user-password").fill("a long password 9")
    page.locator("#f-user-committee_id").fill("huangpu")
    page.locator("#admin-user button[type=submit]").click()
    expect(page.locator("#users-h + table")).to_contain_text("周调解员")

    pool_file = tmp_path / "pool.csv"
    pool_file.write_text(POOL_FILE, encoding="utf-8")
    page.locator("#pool-file").set_input_files(str(pool_file))
    page.get_by_role("button", name="导入").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("nothing imported")  # all or nothing: one bad row refuses the file
    expect(page.locator("#row-errors")).to_contain_text("占星学")
    expect(page.locator("#row-errors tbody tr")).to_have_count(1)


def test_the_pages_are_styled_by_their_own_stylesheet_and_run_no_script(new_page, stack):
    page = new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    answer = page.goto("/console/login")
    policy = answer.headers["content-security-policy"]
    assert "style-src 'self'" in policy and "script-src" not in policy and "form-action 'self'" in policy
    # the stylesheet applied: the login form sits in a centred column, the button has the accent colour
    assert page.locator("button[type=submit]").first.evaluate("b => getComputedStyle(b).backgroundColor") \
        == "rgb(31, 95, 168)"
    assert blocked == []


def test_the_admin_adds_a_committee_and_sets_its_clock(new_page):
    page = new_page()
    log_in(page, "admin")
    page.locator("#admin-committee summary").click()
    page.locator("#f-committee-id").fill("jingan")
    page.locator("#f-committee-name").fill("上海市静安区医疗纠纷人民调解委员会")
    page.locator("#f-committee-short_name").fill("沪静")
    page.locator("#f-committee-city").fill("上海市")
    page.locator("#admin-committee button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("上海市静安区医疗纠纷人民调解委员会")
    page.locator("#f-policy-mediation_wd").fill("25")  # Reg 38: the committee's own period (local rules differ)
    page.locator("#committee-policy button[type=submit]").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#f-policy-mediation_wd")).to_have_value("25")
    page.locator("#f-edit-short_name").fill("")
    page.locator("#committee-edit button[type=submit]").click()  # nothing given: nothing changes
    expect(page.locator("h1")).to_contain_text("静安区")


def test_the_console_speaks_english_on_request_and_is_usable_from_the_keyboard(new_page):
    page = new_page()
    page.goto("/console/login")
    expect(page.locator("#username")).to_be_focused()  # the username field has the focus (autofocus)
    page.keyboard.type("clerk.hp")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/home")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_contain_text("Home")
    expect(page.get_by_role("link", name="Register a dispute")).to_be_visible()
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_contain_text("工作台")


def test_the_case_page_fits_a_tablet(new_page):
    page = new_page(viewport={"width": 768, "height": 1024}, has_touch=True)
    log_in(page, "mediator")
    page.goto(WORLD["case_url"])
    expect(page.locator("h1")).to_contain_text(WORLD["number"])
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow  # the columns stack: nothing to scroll sideways


def test_the_director_reads_the_statistics_with_charts_and_downloads_the_workbook(new_page):
    page = new_page()
    log_in(page, "director")
    page.get_by_role("link", name="统计报表").click()
    expect(page.locator("#st-summary")).to_be_visible()
    charts = page.locator("svg")
    expect(charts.first).to_be_visible()
    assert page.locator("svg script").count() == 0  # the console runs no script, charts included
    screenshot(page, "director-statistics")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Excel 工作簿").click()
    assert downloading.value.path().read_bytes()[:2] == b"PK"  # a zip: the workbook
