"""The parties' files and the notifications' delivery in the console, in Chromium against `mediation run`.

The stack of this module sends e-mail to a mail server that is not there (nothing listens on its port) and tries
each delivery once: every notification to a person fails, with its reason, as the clerk must be able to see. The
case is set up through the API (dev mode): in mediation, with a panel of one obstetrician whose seat is drawn."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.console.conftest import (
    ACCOUNTS,
    Account,
    case_in_consultation,
    create_account,
    log_in,
    screenshot,
)
from tests.e2e.conftest import Stack, free_port, make_stack

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200  # a .pdf that is a .exe


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = make_stack(tmp_path_factory.mktemp("console-files-stack"))
    running.env.update({"MEDIATION_SMTP_HOST": "127.0.0.1", "MEDIATION_SMTP_PORT": str(free_port()),
                        "MEDIATION_SMTP_STARTTLS": "false", "MEDIATION_DELIVERY_MAX_ATTEMPTS": "1"})
    try:
        running.start(seconds=150)
        for who in ("clerk", "mediator"):
            create_account(running, ACCOUNTS[who])
        yield running
        running.ctrl_c()
    finally:
        running.kill()


@pytest.fixture(scope="module")
def consultation(stack: Stack) -> dict[str, Any]:
    """A case in mediation (its mediator: the account mediator.hp) whose mediator asked for an obstetrician."""
    made = case_in_consultation(stack, "周小梅")
    return {**made, "case_url": f"/console/cases/{made['case_id']}"}


def _upload(page: Page, name: str, data: bytes, kind: str, description: str) -> Any:
    upload = page.locator("#upload")
    if upload.get_attribute("open") is None:
        upload.locator("summary").click()
    page.locator("#upload-file").set_input_files({"name": name, "mimeType": "application/pdf", "buffer": data})
    page.locator("#upload-kind").select_option(kind)
    page.locator("#upload-party").select_option("patient")
    page.locator("#upload-description").fill(description)
    with page.expect_navigation() as navigating:
        upload.locator("button[type=submit]").click()
    return navigating.value


def test_the_clerk_uploads_a_file_the_expert_reads_it_once_accepted_and_the_clerk_withdraws_it(
        new_page, stack, consultation):
    page = new_page()
    log_in(page, "clerk")
    page.goto(consultation["case_url"])
    expect(page.locator("#attachments-h")).to_have_text("当事人材料")

    # A file whose bytes are an executable is refused whatever its name says (415), in Chinese, and not listed.
    refused = _upload(page, "病历.pdf", EXECUTABLE, "medical_record", "伪装成 PDF 的程序")
    assert refused is not None and refused.status == 415
    expect(page.locator("#refusal-words")).to_contain_text("文件类型不被接受")
    expect(page.locator("#refusal-words")).to_contain_text("Windows 可执行程序")
    expect(page.locator("#attachments-list")).to_have_count(0)

    _upload(page, "入院记录.pdf", PDF, "medical_record", "患方提交的入院记录复印件")
    expect(page.locator(".flash")).to_contain_text("材料已上传")
    row = page.locator("#attachments-list tbody tr").first
    digest = hashlib.sha256(PDF).hexdigest()
    expect(row).to_contain_text("病历资料")
    expect(row).to_contain_text("患方")
    expect(row).to_contain_text("入院记录.pdf")
    expect(row.locator("code.hash")).to_have_attribute("title", digest)
    expect(row.locator("code.hash")).to_contain_text(digest[:12])
    page.locator("#attachments").scroll_into_view_if_needed()
    screenshot(page, "case-files")

    link = row.get_by_role("link", name="入院记录.pdf")
    with page.expect_download() as downloading:
        link.click()
    assert downloading.value.path().read_bytes() == PDF
    answer = page.request.get(link.get_attribute("href"))
    assert answer.body() == PDF
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-content-sha256"] == digest

    # Reg 42: the expert is given the medical record only once they accepted their seat.
    seat = consultation["seat"]
    create_account(stack, Account("expert.files", "expert", seat["expert_name"], expert_id=seat["expert_id"]))
    expert = new_page()
    log_in(expert, Account("expert.files", "expert", seat["expert_name"]))
    expert.goto(f"/console/invitations/{seat['invitation_id']}")
    expect(expert.locator("#panel-files")).to_have_count(0)
    assert "入院记录.pdf" not in expert.content()
    expert.locator("#answer-accept button[type=submit]").click()
    expert.wait_for_load_state()
    files = expert.locator("#panel-files")
    expect(files).to_contain_text("入院记录.pdf")
    with expert.expect_download() as downloading:
        files.get_by_role("link", name="入院记录.pdf").click()
    assert downloading.value.path().read_bytes() == PDF

    row.locator("details.withdraw summary").click()
    row.get_by_label("撤回理由").fill("患方提交有误，已另行提交更正后的病历")
    row.locator("details.withdraw button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_contain_text("材料已撤回")
    row = page.locator("#attachments-list tbody tr").first
    expect(row).to_have_class("withdrawn")
    expect(row.locator(".withdrawal")).to_contain_text("患方提交有误，已另行提交更正后的病历")
    expect(row.locator("details.withdraw")).to_have_count(0)
    expert.reload()  # Reg 42: a withdrawn file is not the expert's any more
    expect(expert.locator("#panel-files")).not_to_contain_text("入院记录.pdf")


def test_the_clerk_sees_whom_a_notification_did_not_reach_and_edits_their_own_contact(new_page, consultation):
    page = new_page()
    log_in(page, "clerk")
    page.goto(consultation["case_url"])
    notices = page.locator("#notices")
    deadline = time.monotonic() + 90
    while notices.locator("tr.d-failed").count() == 0:  # sent apart from the action, by the delivery workflow
        assert time.monotonic() < deadline, notices.inner_text()
        page.wait_for_timeout(1000)
        page.reload()
    expect(notices).to_contain_text("专家咨询邀请")
    failed = notices.locator("tr.d-failed").first
    expect(failed).to_contain_text("发送失败")
    expect(failed.locator(".reason")).not_to_be_empty()

    notices.get_by_role("link", name="只看发送失败的").click()
    expect(page.locator("h1")).to_have_text("通知")
    screenshot(page, "notifications-failed")
    listed = page.locator("ul.notices > li")
    expect(listed.first).to_be_visible()
    for index in range(listed.count()):  # the filter: each one listed has a delivery that failed
        expect(listed.nth(index).locator("tr.d-failed").first).to_contain_text("发送失败")

    page.get_by_role("navigation").get_by_role("link", name="联系方式").click()  # the top bar's link
    page.get_by_label("手机号码").fill("12345")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#contact-form .error")).to_be_visible()  # the API's 422, next to its field
    page.get_by_label("电子邮箱").fill("lin@example.cn")
    page.get_by_label("手机号码").fill("+86 13812345678")
    page.get_by_label("短信").uncheck()
    page.get_by_label("电子邮件", exact=True).check()
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.get_by_label("电子邮箱")).to_have_value("lin@example.cn")
    expect(page.get_by_label("手机号码")).to_have_value("13812345678")
    expect(page.get_by_label("电子邮件", exact=True)).to_be_checked()
    expect(page.get_by_label("短信")).not_to_be_checked()
