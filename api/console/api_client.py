"""The console calls the API itself, in process (an ASGI transport: no socket, no second server), with the user's
own credentials. Every rule, every access check, every validation message and every audit entry is therefore the
API's: the console has no second implementation of any of them.

A file (an attachment's upload) goes to the API as multipart from the file object Starlette spooled (httpx reads
it in chunks); a download (`ConsoleApi.download`) comes back through a transport that hands the API's body on as
it is sent (httpx's own ASGI transport collects a whole body before answering), so that neither is held whole in
the console's memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import quote

import httpx
from fastapi import Request
from starlette.types import ASGIApp, Message

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
                   files: dict[str, tuple[str, IO[bytes], str]] | None = None,
                   headers: dict[str, str] | None = None, anonymous: bool = False) -> Answer:
        """`files`: multipart parts (name → (filename, file object, content type)), read in chunks."""
        answer = await self._send(method, path, json=json, params=params, data=data, content=content, files=files,
                                  headers=headers, anonymous=anonymous)
        if answer.status == 401 and not anonymous and await self._renew():
            for _, handle, _ in (files or {}).values():
                handle.seek(0)  # sent again from its start
            answer = await self._send(method, path, json=json, params=params, data=data, content=content,
                                      files=files, headers=headers, anonymous=anonymous)
        return answer

    async def _renew(self) -> bool:
        """The access token expired: a new pair from the refresh token, once per page."""
        if not self.login.refresh:
            return False
        async with self._lock:
            if self.renewed is None:
                refreshed = await self._send("POST", "/auth/refresh", json={"refresh_token": self.login.refresh},
                                             anonymous=True)
                if refreshed.ok:
                    self.renewed = refreshed.body
        return self.renewed is not None

    async def _send(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                    data: dict[str, Any] | None = None, content: bytes | None = None,
                    files: dict[str, tuple[str, IO[bytes], str]] | None = None,
                    headers: dict[str, str] | None = None, anonymous: bool = False) -> Answer:
        sent = {} if anonymous else self._headers()
        sent.update(headers or {})
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        async with self._client() as client:
            response = await client.request(method, path, json=json, params=clean, data=data, content=content,
                                             files=files, headers=sent)
        kind = response.headers.get("content-type", "")
        body: Any = response.json() if "json" in kind and response.content else response.content
        return Answer(response.status_code, body, response.headers)

    async def get(self, path: str, **params: Any) -> Answer:
        return await self.call("GET", path, params=params)

    async def download(self, path: str) -> Answer | Download:
        """GET a file: its body handed on as the API sends it (a `Download`), or, when refused, the `Answer`."""
        opened = await self._open(path)
        if opened.status_code == 401 and self.renewed is None and await self._renew():
            await opened.aclose()
            opened = await self._open(path)
        if not 200 <= opened.status_code < 300:
            raw = await opened.aread()
            await opened.aclose()
            body: Any = raw
            if "json" in opened.headers.get("content-type", "") and raw:
                body = opened.json()
            return Answer(opened.status_code, body, opened.headers)
        return Download(opened.status_code, opened.headers, opened)

    async def _open(self, path: str) -> httpx.Response:
        client = self.request.client
        transport = StreamingASGITransport(self.request.app,
                                           client=(client.host, client.port) if client else ("127.0.0.1", 0))
        http = httpx.AsyncClient(transport=transport, base_url=INTERNAL_BASE, timeout=120)
        try:
            response = await http.send(http.build_request("GET", path, headers=self._headers()), stream=True)
        except BaseException:
            await http.aclose()
            raise
        response.extensions["console_client"] = http
        return response


@dataclass
class Download:
    """A file the API is sending: its status and headers now, its body as it comes (`chunks`, then closed)."""

    status: int
    headers: httpx.Headers
    response: httpx.Response

    ok = True

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_raw():
                yield chunk
        finally:
            await self.close()

    async def close(self) -> None:
        await self.response.aclose()
        http = self.response.extensions.get("console_client")
        if http is not None:
            await http.aclose()


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """The API called in process, its answer handed on chunk by chunk as the app sends it (a queue of a few
    chunks: the app waits while the reader is behind), instead of collected whole first."""

    DEPTH = 4

    def __init__(self, app: ASGIApp, *, client: tuple[str, int]) -> None:
        self.app, self.client = app, client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw], "scheme": request.url.scheme,
            "path": request.url.path, "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query, "server": (request.url.host, request.url.port),
            "client": self.client, "root_path": "",
        }
        body_chunks = request.stream.__aiter__()
        request_complete = False
        gone = asyncio.Event()
        started: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] = asyncio.get_running_loop().create_future()
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=self.DEPTH)

        async def receive() -> Message:
            nonlocal request_complete
            if request_complete:
                await gone.wait()
                return {"type": "http.disconnect"}
            try:
                body = await body_chunks.__anext__()
            except StopAsyncIteration:
                request_complete = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": body, "more_body": True}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start" and not started.done():
                started.set_result((message["status"], list(message.get("headers", []))))
            elif message["type"] == "http.response.body":
                if body := message.get("body", b""):
                    await queue.put(body)
                if not message.get("more_body", False):
                    await queue.put(None)

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except Exception as error:
                if not started.done():
                    started.set_exception(error)
                else:
                    await queue.put(error)
            else:
                if not started.done():
                    started.set_exception(RuntimeError("the API answered nothing"))

        task = asyncio.create_task(run())
        try:
            status, headers = await started
        except BaseException:
            gone.set()
            task.cancel()
            with suppress(BaseException):
                await task
            raise
        return httpx.Response(status, headers=headers, stream=_QueuedBody(queue, task, gone))


class _QueuedBody(httpx.AsyncByteStream):
    def __init__(self, queue: asyncio.Queue[bytes | BaseException | None], task: asyncio.Task[None],
                 gone: asyncio.Event) -> None:
        self.queue, self.task, self.gone = queue, task, gone
        self.finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is None:
                self.finished = True
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def aclose(self) -> None:
        self.gone.set()  # the app sees a disconnect
        if not self.finished and not self.task.done():
            self.task.cancel()  # the reader left before the end: the app is stopped
        with suppress(BaseException):
            await self.task


def _rfc8187(text: str) -> str:
    return "UTF-8''" + quote(text, safe="")
