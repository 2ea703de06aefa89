"""The API's documentation pages, served from installed packages' files (no CDN), and its security schemes.

Swagger UI at /docs and ReDoc at /redoc work on a network without internet: every script, stylesheet and icon
they load is a file of an installed package, served under /docs-static/ (an allow-list, never a whole directory),
and Swagger's initializer is a served file too, so the pages run under a Content-Security-Policy without inline
scripts (api/hardening.py). The pages, their files and /openapi.json need no login: they hold no case data.

The OpenAPI document declares how to authenticate (components.securitySchemes): the OAuth2 password flow
(`POST /auth/token`, `POST /auth/refresh`) and the API key (`X-API-Key`), either of them, at the top level, so
that Swagger's "Authorize" button logs in and generated clients know how; in dev mode (the embedded stack and
the tests) a request without credentials is served too, so `{}` is listed as a third alternative. Operations
that authenticate nobody (logging in, refreshing, /health) say `security: []`.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastapi_offline
import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.docs import swagger_ui_default_parameters
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.responses import HTMLResponse, Response

from api.auth import current_caller
from core.settings import Settings, get_settings

DOCS = "/docs"
REDOC = "/redoc"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
STATIC = "/docs-static"  # the pages' files (api/hardening.py gives the pages themselves their policy)

OAUTH2 = "OAuth2PasswordBearer"
API_KEY = "APIKeyHeader"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    OAUTH2: {
        "type": "oauth2",
        "description": "Log in with a username and password: `POST /auth/token` (form fields `username` and "
                       "`password`) answers an access token (15 minutes) and a refresh token (7 days); send "
                       "`Authorization: Bearer <access_token>`. `POST /auth/refresh` takes `{\"refresh_token\": …}`"
                       " (JSON) and answers a new pair.",
        "flows": {"password": {"tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh", "scopes": {}}},
    },
    API_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A service account's API key (`POST /auth/api-keys`, admin; shown once).",
    },
}
SIGNED_IN: list[dict[str, list[str]]] = [{OAUTH2: []}, {API_KEY: []}]


# ---------------------------------------------------------------- the files -----------------------------
@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> Asset:
        return cls(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
OFFLINE_DIR = Path(fastapi_offline.__file__).parent / "static"
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

# Reads the page's configuration from its #swagger-ui element (data-config: JSON) and starts Swagger UI.
SWAGGER_INITIALIZER = """\
window.addEventListener("load", function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  var config = JSON.parse(element.getAttribute("data-config"));
  var initOAuth = config.initOAuth;
  delete config.initOAuth;
  config.oauth2RedirectUrl = window.location.origin + config.oauth2RedirectUrl;
  config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
  window.ui = SwaggerUIBundle(config);
  if (initOAuth) {
    window.ui.initOAuth(initOAuth);
  }
});
"""
JS = "text/javascript; charset=utf-8"
REDOC_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'
EMPTY_IMAGE = b'"data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27/%3E"'


def _oauth2_redirect_script() -> bytes:
    """The script of Swagger UI's oauth2-redirect.html, as a file of its own (no inline script on any page)."""
    page = (SWAGGER_DIR / "oauth2-redirect.html").read_text(encoding="utf-8")
    found = _SCRIPT.search(page)
    if found is None:
        raise RuntimeError(f"no script in {SWAGGER_DIR / 'oauth2-redirect.html'}: swagger-ui-bundle changed")
    return found.group(1).strip().encode() + b"\n"


def _redoc_script() -> bytes:
    """ReDoc, whose sidebar would show Redocly's logo from their CDN: an empty image instead (on a network
    without internet it would not load anyway, and the docs' policy refuses it)."""
    return (OFFLINE_DIR / "redoc.standalone.js").read_bytes().replace(REDOC_LOGO, EMPTY_IMAGE)


@cache
def assets() -> dict[str, Asset]:
    """Every file the pages load, by its name under /docs-static/; read once per process. Swagger UI itself is
    fastapi-offline's copy (5.x): swagger-ui-bundle's (4.15.5) refuses an OpenAPI 3.1 document, which FastAPI
    writes ("Unable to render this definition"); its oauth2-redirect script is the one both versions use."""
    return {
        "swagger-ui-bundle.js": Asset.of((OFFLINE_DIR / "swagger-ui-bundle.js").read_bytes(), JS),
        "swagger-ui.css": Asset.of((OFFLINE_DIR / "swagger-ui.css").read_bytes(), "text/css; charset=utf-8"),
        "swagger-initializer.js": Asset.of(SWAGGER_INITIALIZER.encode(), JS),
        "oauth2-redirect.js": Asset.of(_oauth2_redirect_script(), JS),
        "redoc.standalone.js": Asset.of(_redoc_script(), JS),
        "favicon.png": Asset.of((OFFLINE_DIR / "favicon.png").read_bytes(), "image/png"),
    }


def _asset_response(request: Request, name: str) -> Response:
    asset = assets().get(name)
    if asset is None:
        return Response(status_code=404)
    # the files change only when a package does: revalidated (a 304 costs nothing), never served stale
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


# ---------------------------------------------------------------- the pages -----------------------------
def _root(request: Request) -> str:
    """The prefix the API is served under (uvicorn --root-path), for the pages' links."""
    return str(request.scope.get("root_path", ""))


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
{head}
</head>
<body>
{body}
</body>
</html>
""")


def _swagger_page(app: FastAPI, root: str) -> HTMLResponse:
    config: dict[str, Any] = {**swagger_ui_default_parameters, "validatorUrl": None,
                              **(app.swagger_ui_parameters or {})}
    config.update(url=f"{root}{app.openapi_url}", oauth2RedirectUrl=f"{root}{OAUTH2_REDIRECT}")
    if app.swagger_ui_init_oauth:
        config["initOAuth"] = app.swagger_ui_init_oauth
    data = html.escape(json.dumps(jsonable_encoder(config), ensure_ascii=False), quote=True)
    root = html.escape(root, quote=True)
    return _page(
        f"{app.title} - Swagger UI",
        f'<link rel="stylesheet" href="{root}{STATIC}/swagger-ui.css">\n'
        f'<link rel="icon" type="image/png" href="{root}{STATIC}/favicon.png">',
        f'<div id="swagger-ui" data-config="{data}"></div>\n'
        f'<script src="{root}{STATIC}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{root}{STATIC}/swagger-initializer.js"></script>',
    )


def _redoc_page(app: FastAPI, root: str) -> HTMLResponse:
    spec = html.escape(f"{root}{app.openapi_url}", quote=True)
    root = html.escape(root, quote=True)
    return _page(
        f"{app.title} - ReDoc",
        f'<link rel="icon" type="image/png" href="{root}{STATIC}/favicon.png">',
        f'<noscript>ReDoc needs JavaScript.</noscript>\n<redoc spec-url="{spec}"></redoc>\n'
        f'<script src="{root}{STATIC}/redoc.standalone.js"></script>',
    )


def _oauth2_redirect_page(root: str) -> HTMLResponse:
    root = html.escape(root, quote=True)
    return _page("Swagger UI: OAuth2 Redirect", "", f'<script src="{root}{STATIC}/oauth2-redirect.js"></script>')


# ---------------------------------------------------------------- the security schemes ------------------
def _calls(dependant: Dependant, call: Callable[..., Any]) -> bool:
    stack = [dependant]
    while stack:
        node = stack.pop()
        if node.call is call:
            return True
        stack.extend(node.dependencies)
    return False


def public_operations(app: FastAPI) -> list[tuple[str, str]]:
    """(path, method) of the documented operations that authenticate nobody: no current_caller among their
    dependencies (logging in, refreshing a token, /health)."""
    return [(route.path_format, method.lower()) for route in iter_route_contexts(app.routes)
            if isinstance(route.original_route, APIRoute) and route.include_in_schema
            and not _calls(route.dependant, current_caller)
            for method in route.methods or () if method != "HEAD"]


def with_security(schema: dict[str, Any], *, public: list[tuple[str, str]], dev_mode: bool) -> dict[str, Any]:
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    schema["security"] = SIGNED_IN + ([{}] if dev_mode else [])  # dev mode: no credentials, also served
    for path, method in public:
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if operation is not None:
            operation["security"] = []
    return schema


def _settings(app: FastAPI, given: Settings | None) -> Settings:
    """The app's settings: those given, else those the lifespan put in app.state, else (a document asked for
    from an app that never ran) the environment's."""
    settings = given or getattr(app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


# ---------------------------------------------------------------- install -------------------------------
def install(app: FastAPI, settings: Settings | None = None) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, served offline, and the security schemes in /openapi.json."""
    generate = app.openapi  # FastAPI's: made again whenever a route was added since
    decorated: list[dict[str, Any]] = []  # the document last given its security, held

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not decorated or decorated[0] is not schema:
            with_security(schema, public=public_operations(app), dev_mode=_settings(app, settings).dev_mode)
            decorated[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _swagger_page(app, _root(request))

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_oauth2_redirect(request: Request) -> HTMLResponse:
        return _oauth2_redirect_page(_root(request))

    @app.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _redoc_page(app, _root(request))

    @app.get(STATIC + "/{name}", include_in_schema=False)
    async def docs_file(request: Request, name: str) -> Response:
        return _asset_response(request, name)
