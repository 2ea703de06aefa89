"""The API's documentation works on a network without internet: Swagger UI (/docs) and ReDoc (/redoc) load every
file from the API itself, need no login, run under a policy without inline or foreign scripts, and the OpenAPI
document says how to log in (the OAuth2 password flow, or an API key), so that Swagger's "Authorize" works.

The API runs as production runs it (no dev mode) behind a real socket, and a real browser (Debian's Chromium)
loads the pages with every request to another host refused and recorded."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Page, Route, async_playwright
from sqlalchemy.engine import Engine

from api.main import create_app
from core.security import hash_password
from core.settings import Settings
from models import repo_users

SECRET = "api-docs-secret-of-at-least-thirty-two-characters"
PASSWORD = "docs password 2026"
CHROMIUM = "/usr/bin/chromium"
OAUTH2 = "OAuth2PasswordBearer"
API_KEY = "APIKeyHeader"


# ---------------------------------------------------------------- the API behind a socket, a browser ------
@pytest.fixture(scope="module")
def served(database_url: str, engine: Engine) -> Iterator[str]:
    """The API without dev mode (a request without credentials is 401), served by uvicorn on a free port."""
    app = create_app(Settings(database_url=database_url, dev_mode=False, secret_key=SECRET))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the API did not start"
        assert time.monotonic() < deadline, "the API did not start within 60 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@pytest.fixture
async def http(served: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


class Offline:
    """A page whose requests to any other host than the API are refused (as on a network without internet) and
    recorded, with whatever the page's policy blocked before it was even asked (also an attempt to leave) and the
    script errors."""

    def __init__(self, page: Page, served: str) -> None:
        self.page = page
        self.origin = urlsplit(served).netloc
        self.left: list[str] = []
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def start(self) -> Offline:
        await self.page.route("**/*", self._route)
        await self.page.add_init_script(
            "window.__blocked = []; document.addEventListener('securitypolicyviolation', "
            "e => window.__blocked.push(e.violatedDirective + ' ' + e.blockedURI));")
        return self

    async def _route(self, route: Route) -> None:
        if urlsplit(route.request.url).netloc == self.origin:
            await route.continue_()
        else:
            self.left.append(route.request.url)
            await route.abort("internetdisconnected")

    async def blocked(self) -> list[str]:
        return await self.page.evaluate("window.__blocked")


@pytest.fixture
async def offline(browser: Browser, served: str) -> AsyncIterator[Offline]:
    context = await browser.new_context()
    try:
        yield await Offline(await context.new_page(), served).start()
    finally:
        await context.close()


def operations(spec: dict[str, Any]) -> int:
    return sum(1 for path in spec["paths"].values() for method in path if method != "parameters")


class Files(HTMLParser):
    """The URLs of the scripts, stylesheets and icons a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(found["src"] or "")
        elif tag == "link" and found.get("href"):
            self.urls.append(found["href"] or "")


def files_of(page: str) -> list[str]:
    parser = Files()
    parser.feed(page)
    return parser.urls


# ---------------------------------------------------------------- the OpenAPI document --------------------
class TestTheDocumentSaysHowToLogIn:
    async def test_it_declares_the_password_flow_and_the_api_key(self, http):
        response = await http.get("/openapi.json")  # no login needed
        assert response.status_code == 200
        schemes = response.json()["components"]["securitySchemes"]
        assert schemes[OAUTH2]["type"] == "oauth2"
        assert schemes[OAUTH2]["flows"]["password"] == {"tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh",
                                                        "scopes": {}}
        assert schemes[API_KEY] == {**schemes[API_KEY], "type": "apiKey", "in": "header", "name": "X-API-Key"}

    async def test_every_operation_takes_either_and_logging_in_takes_none(self, http):
        spec = (await http.get("/openapi.json")).json()
        assert spec["security"] == [{OAUTH2: []}, {API_KEY: []}]  # alternatives: one of them
        assert spec["paths"]["/auth/token"]["post"]["security"] == []
        assert spec["paths"]["/auth/refresh"]["post"]["security"] == []
        assert spec["paths"]["/health"]["get"]["security"] == []
        assert "security" not in spec["paths"]["/cases"]["get"]  # the document's: logged in
        assert "security" not in spec["paths"]["/auth/me"]["get"]

    async def test_in_dev_mode_a_request_without_credentials_is_served_too(self, database_url, engine):
        app = create_app(Settings(database_url=database_url, dev_mode=True))
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://d") as dev:
            spec = (await dev.get("/openapi.json")).json()
            assert spec["security"] == [{OAUTH2: []}, {API_KEY: []}, {}]
            assert (await dev.get("/cases")).status_code == 200

    async def test_what_it_says_is_what_the_api_does(self, http):
        assert (await http.get("/cases")).status_code == 401
        assert (await http.get("/cases", headers={"X-API-Key": "not-a-key"})).status_code == 401
        refused = await http.post("/auth/token", data={"username": "nobody", "password": "wrong"})
        assert refused.status_code == 401  # reached without credentials: the answer is about the password


# ---------------------------------------------------------------- the pages and their files ---------------
class TestThePagesNeedNothingFromOutside:
    @pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
    async def test_a_page_loads_only_files_the_api_serves(self, http, served, path):
        response = await http.get(path)  # no credentials: the pages hold no case data
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        urls = files_of(response.text)
        assert urls and not [url for url in urls if urlsplit(urljoin(served + path, url)).netloc
                             != urlsplit(served).netloc]
        assert "<script>" not in response.text  # no inline script: every one is a file
        for url in urls:
            asset = await http.get(urljoin(served + path, url))
            assert asset.status_code == 200, url
            assert asset.content and "text/html" not in asset.headers["content-type"], url
            if url.endswith(".js"):
                assert asset.headers["content-type"].startswith("text/javascript"), url

    async def test_no_file_names_another_host_to_load(self, http):
        """Redocly's logo came from their CDN: ReDoc is served with an empty image in its place."""
        redoc = await http.get("/docs-static/redoc.standalone.js")
        assert b"cdn.redoc.ly" not in redoc.content

    async def test_the_pages_run_no_inline_or_foreign_script_and_the_api_stays_strict(self, http):
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            policy = dict(part.strip().split(" ", 1) for part in
                          (await http.get(path)).headers["content-security-policy"].split(";"))
            assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'", path
            assert policy["connect-src"] == "'self'" and "http" not in str(policy), path
        swagger = (await http.get("/docs")).headers["content-security-policy"]
        assert "unsafe-inline" not in swagger  # ReDoc alone writes <style> elements
        for path in ("/cases", "/openapi.json", "/docs-static/swagger-ui-bundle.js"):
            assert (await http.get(path)).headers["content-security-policy"] == "default-src 'none'; " \
                                                                                  "frame-ancestors 'none'"

    async def test_an_unchanged_file_is_not_sent_again(self, http):
        first = await http.get("/docs-static/swagger-ui-bundle.js")
        again = await http.get("/docs-static/swagger-ui-bundle.js", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and not again.content

    async def test_only_the_pages_files_are_served(self, http):
        for name in ("index.html", "swagger-initializer.js.map", "..%2F..%2Fcore%2Fsettings.py", "favicon-16x16.png"):
            assert (await http.get(f"/docs-static/{name}")).status_code == 404, name


# ---------------------------------------------------------------- in a browser, offline -------------------
class TestInABrowserWithoutInternet:
    async def test_swagger_ui_renders_every_operation(self, offline, http, served):
        spec = (await http.get("/openapi.json")).json()
        await offline.page.goto(f"{served}/docs")
        await offline.page.locator(".opblock").first.wait_for(timeout=30_000)
        assert await offline.page.locator(".opblock").count() == operations(spec)
        assert await offline.page.locator(".swagger-ui button.authorize").count() >= 1  # schemes are declared
        assert offline.left == [] and await offline.blocked() == [] and offline.errors == []

    async def test_swagger_ui_logs_in_with_the_password_flow_and_calls_the_api(self, offline, sessions, served):
        username = f"docs-{uuid.uuid4().hex[:8]}"
        with sessions() as session:
            repo_users.create_user(session=session, username=username, full_name="文档读者", role="director",
                                   committee_id="huangpu", password_hash=hash_password(PASSWORD))
            session.commit()
        page = offline.page
        await page.goto(f"{served}/docs")
        await page.locator("button.btn.authorize").first.click()
        await page.fill("#oauth_username", username)
        await page.fill("#oauth_password", PASSWORD)
        async with page.expect_response(lambda r: r.url.endswith("/auth/token")) as token:
            await page.locator(".auth-container .auth-btn-wrapper button.authorize").first.click()
        assert (await token.value).status == 200
        await page.locator(".auth-container h6", has_text="Authorized").wait_for()
        await page.locator(".modal-ux button.btn-done").first.click()

        me = page.locator(".opblock-get", has=page.locator('.opblock-summary-path[data-path="/auth/me"]'))
        await me.locator(".opblock-summary").click()
        await me.locator("button.try-out__btn").click()
        async with page.expect_response(lambda r: r.url.endswith("/auth/me")) as answer:
            await me.locator("button.execute").click()
        response = await answer.value
        assert (await response.request.all_headers())["authorization"].startswith("Bearer ")
        assert response.status == 200 and (await response.json())["username"] == username
        assert offline.left == [] and await offline.blocked() == [] and offline.errors == []

    async def test_redoc_renders_every_operation(self, offline, http, served):
        spec = (await http.get("/openapi.json")).json()
        await offline.page.goto(f"{served}/redoc")
        await offline.page.locator('[data-section-id^="operation/"]').first.wait_for(timeout=30_000)
        await asyncio.sleep(0.5)  # its images and its search worker, which the policy must let through
        sections = await offline.page.eval_on_selector_all(
            '[data-section-id^="operation/"]', "found => found.map(e => e.getAttribute('data-section-id'))")
        assert len(set(sections)) == operations(spec)
        assert offline.left == [] and await offline.blocked() == [] and offline.errors == []

    async def test_swagger_uis_oauth2_redirect_runs_its_script_from_a_file(self, offline, served):
        await offline.page.goto(f"{served}/docs/oauth2-redirect")
        await offline.page.wait_for_load_state("load")
        # opened by no Swagger window, its script runs and finds no opener: proof it ran (not blocked)
        assert any("swaggerUIRedirectOauth2" in error for error in offline.errors)
        assert offline.left == [] and await offline.blocked() == []
