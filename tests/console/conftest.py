"""The console in a real browser: Debian's Chromium driven by Playwright, against the embedded stack as a user
starts it (`mediation run`: the Temporal dev server, the workers, the API with the console), with real accounts
made by `mediation users create`.

CONSOLE_SCREENSHOTS=<folder> saves each role's landing page and the case page there (`make screenshots`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import MEDIATION, Stack, make_stack

PASSWORD = "console password 1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    name: str
    committee: str | None = None
    expert_id: str | None = None


ACCOUNTS = {
    "clerk": Account("clerk.hp", "intake", "林登记", "huangpu"),
    "director": Account("director.hp", "director", "赵主任", "huangpu"),
    "mediator": Account("mediator.hp", "mediator", "陈调解员", "huangpu"),
    "auditor": Account("auditor.hp", "auditor", "钱审计", "huangpu"),
    "admin": Account("admin", "admin", "系统管理员"),
    "clerk_xuhui": Account("clerk.xh", "intake", "徐登记", "xuhui"),
}


def create_account(stack: Stack, account: Account) -> None:
    args = [MEDIATION, "users", "create", account.username, "--role", account.role, "--name", account.name,
            "--password-stdin"]
    if account.committee:
        args += ["--committee", account.committee]
    if account.expert_id:
        args += ["--expert-id", account.expert_id]
    done = subprocess.run(args, env=stack.env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = make_stack(tmp_path_factory.mktemp("console-stack"))
    try:
        running.start(seconds=150)
        for account in ACCOUNTS.values():
            create_account(running, account)
        yield running
        running.ctrl_c()
    finally:
        running.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_page(browser: Browser, stack: Stack) -> Iterator[callable]:
    """A page in a browser context of its own (its own cookies: one user each), at 1280×800."""
    contexts = []

    def make(**options: object) -> Page:
        settings: dict[str, object] = {"viewport": VIEWPORT, "locale": "zh-CN", "base_url": stack.base,
                                       "accept_downloads": True, **options}
        context = browser.new_context(**settings)
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, who: str) -> None:
    """The login form, as a user fills it in."""
    account = ACCOUNTS[who] if who in ACCOUNTS else who
    page.goto("/console/login")
    page.get_by_label("用户名").fill(account.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/console/**")
    assert "/console/login" not in page.url, page.content()


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def dev_headers(role: str) -> dict[str, str]:
    return {"X-Actor-Role": role, "X-Actor-Id": f"setup-{role}"}  # the embedded stack is in dev mode


def case_in_mediation(stack: Stack, patient: str) -> str:
    """A joint application against 上海市某区人民医院 accepted with 陈调解员 as its mediator, set up through the API;
    its id. Its respondent is not linked to the pool's registry yet."""
    import httpx

    with httpx.Client(base_url=stack.base, timeout=120) as api:
        case = api.post("/cases", headers=dev_headers("intake"), json={
            "committee_id": "huangpu", "application_type": "joint",
            "patient": {"name": patient, "gender": "female"},
            "institution": {"name": "上海市某区人民医院", "legal_representative": "李院长"},
            "facts": "产妇分娩后大出血，患方认为医方处置不及时。", "claim_amount": "200000.00",
            "requests": "要求医方赔偿。"}).json()
        for path, role, body in (("submit-for-review", "intake", {}),
                                 ("accept", "director", {"mediators": ["陈调解员"], "mediator_ids": ["mediator.hp"]})):
            answer = api.post(f"/cases/{case['id']}/{path}", json=body, headers=dev_headers(role))
            assert answer.status_code == 200, answer.text
    return str(case["id"])


def case_in_consultation(stack: Stack, patient: str) -> dict[str, Any]:
    """A case in mediation (its mediator 陈调解员) whose mediator asked for one obstetrician, set up through the
    API; its id and the panel's first seat once its invitation is out."""
    import httpx

    case_id = case_in_mediation(stack, patient)
    with httpx.Client(base_url=stack.base, timeout=120) as api:
        for method, path, body in (
                ("PUT", "respondent-institution", {"institution_id": "sh-mq-main"}),
                ("POST", "request-consultation", {"specialties": ["obstetrics"], "question": "医方处置有无过错？"})):
            answer = api.request(method, f"/cases/{case_id}/{path}", json=body, headers=dev_headers("mediator"))
            assert answer.status_code == 200, answer.text
        panel_id = answer.json()["panel_id"]
        deadline = time.monotonic() + 60
        while not (panel := api.get(f"/panels/{panel_id}", headers=dev_headers("mediator")).json())["slots"][0][
                "invitation_id"]:
            assert time.monotonic() < deadline, panel
            time.sleep(0.5)
    return {"case_id": case_id, "seat": panel["slots"][0]}
