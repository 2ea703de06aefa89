"""Hardening: security headers on every response, CORS closed unless origins are configured."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Case data is private (Reg 42): no shared cache keeps it. The API serves JSON and PDFs, never pages that run
# scripts, except the interactive docs (api/docs.py: Swagger UI and ReDoc, served from installed files). Their
# policy lets them run their own files and call this API, and nothing else: no inline or foreign script, no
# request to another host. ReDoc also writes its styles into <style> elements and searches in a worker it makes
# from a blob; Swagger UI needs neither.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
SWAGGER_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
REDOC_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_POLICIES = {"/docs": SWAGGER_POLICY, "/docs/oauth2-redirect": SWAGGER_POLICY, "/redoc": REDOC_POLICY}
# The console (api/console): server-rendered pages with one stylesheet of their own and forms posting to
# themselves; no script at all, nothing from another host.
CONSOLE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                  "base-uri 'none'; frame-ancestors 'none'")


def policy_of(path: str) -> str:
    if path == "/console" or path.startswith("/console/"):
        return CONSOLE_POLICY
    return PAGE_POLICIES.get(path, API_POLICY)


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(SecurityHeaders, hsts=not settings.dev_mode)

    if settings.cors_origins:  # closed by default: no browser page of another origin may call the API
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID", "Idempotency-Key",
                           "If-Match"],
            expose_headers=["ETag", "Retry-After", "X-Request-ID"],
        )


class SecurityHeaders:
    """A pure ASGI middleware (no task group around the request, unlike `@app.middleware("http")`, so that an
    error raised while the body is read reaches FastAPI as itself): the headers above on every answer."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope.get("path", ""), scope.get("root_path", "")
        policy = policy_of(path.removeprefix(root) if root else path)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("Cache-Control", "no-store")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, with_headers)
