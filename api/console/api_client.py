"""The console calls the API itself, in process (an ASGI transport: no socket, no second server), with the user's
own credentials. Every rule, every access check, every validation message and every audit entry is therefore the
API's: the console has no second implementation of any of them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request

from api.console.session import DEV_NAMES, Login

INTERNAL_BASE = "http://console.internal"


@dataclass
class Answer:
    status: int
    body: Any  # the JSON, or the bytes of anything else
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        return str(self.body.get("detail", "")) if isinstance(self.body, dict) else ""


@dataclass
class ConsoleApi:
    request: Request
    login: Login
    renewed: dict[str, Any] | None = None  # a token pair refreshed on the way: the page keeps it
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if request_id := self.request.headers.get("x-request-id"):
            headers["X-Request-ID"] = request_id
        access = self.renewed["access_token"] if self.renewed else self.login.access
        if access:
            headers["Authorization"] = f"Bearer {access}"
        elif self.login.dev_role:
            headers["X-Actor-Role"] = self.login.dev_role
            headers["X-Actor-Id"] = f"console-{self.login.dev_role}"
            headers["X-Actor-Name"] = _rfc8187(DEV_NAMES[self.login.dev_role])
        return headers

    def _client(self) -> httpx.AsyncClient:
        client = self.request.client
        transport = httpx.ASGITransport(app=self.request.app,
                                        client=(client.host, client.port) if client else ("127.0.0.1", 0))
        return httpx.AsyncClient(transport=transport, base_url=INTERNAL_BASE, timeout=120)

    async def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                   data: dict[str, Any] | None = None, content: bytes | None = None,
                   headers: dict[str, str] | None = None, anonymous: bool = False) -> Answer:
        answer = await self._send(method, path, json=json, params=params, data=data, content=content,
                                  headers=headers, anonymous=anonymous)
        if answer.status == 401 and not anonymous and self.login.refresh and self.renewed is None:
            async with self._lock:
                if self.renewed is None:
                    refreshed = await self._send("POST", "/auth/refresh", json={"refresh_token": self.login.refresh},
                                                 anonymous=True)
                    if refreshed.ok:
                        self.renewed = refreshed.body
            if self.renewed is not None:
                answer = await self._send(method, path, json=json, params=params, data=data, content=content,
                                          headers=headers, anonymous=anonymous)
        return answer

    async def _send(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                    data: dict[str, Any] | None = None, content: bytes | None = None,
                    headers: dict[str, str] | None = None, anonymous: bool = False) -> Answer:
        sent = {} if anonymous else self._headers()
        sent.update(headers or {})
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        async with self._client() as client:
            response = await client.request(method, path, json=json, params=clean, data=data, content=content,
                                             headers=sent)
        kind = response.headers.get("content-type", "")
        body: Any = response.json() if "json" in kind and response.content else response.content
        return Answer(response.status_code, body, response.headers)

    async def get(self, path: str, **params: Any) -> Answer:
        return await self.call("GET", path, params=params)


def _rfc8187(text: str) -> str:
    return "UTF-8''" + quote(text, safe="")
