"""Who is using the console: the same accounts and tokens as the API, carried in cookies.

- `mc_access` / `mc_refresh`: the token pair of POST /auth/token, `HttpOnly`, `SameSite=Lax` (and `Secure` outside
  dev mode), so that no script of the page can read them; the access token is refreshed when the API answers 401.
- `mc_dev`: dev mode only, the role picked on the login page (signed): the console calls the API with the
  X-Actor-* headers the API accepts in dev mode, and nothing else.
- `mc_sid`: a random value set at the first visit; every form carries `csrf_token`, an HMAC of it under the
  installation's secret, and a POST without the right one is refused (403) before anything is done.
- `mc_lang`: zh (the default) or en.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from api.console.i18n import DEFAULT_LANG, LANGS
from core.settings import Settings

ACCESS, REFRESH, DEV, SID, LANG = "mc_access", "mc_refresh", "mc_dev", "mc_sid", "mc_lang"
PATH = "/console"
DEV_ROLES = ("intake", "director", "mediator", "auditor", "admin")
DEV_NAMES = {"intake": "立案登记员（开发模式）", "director": "主任（开发模式）", "mediator": "调解员（开发模式）",
             "auditor": "审计员（开发模式）", "admin": "管理员（开发模式）"}


class CsrfRefused(Exception):
    """A form without its token, or with another session's."""


@dataclass(frozen=True)
class Login:
    access: str | None = None
    refresh: str | None = None
    dev_role: str | None = None

    @property
    def present(self) -> bool:
        return bool(self.access or self.refresh or self.dev_role)


def _sign(settings: Settings, purpose: str, value: str) -> str:
    key = hashlib.sha256(f"console:{purpose}:{settings.effective_secret_key}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def login_of(request: Request, settings: Settings) -> Login:
    dev_role = None
    if settings.dev_mode and (raw := request.cookies.get(DEV)):
        role, _, signature = raw.partition(".")
        if role in DEV_ROLES and hmac.compare_digest(signature, _sign(settings, "dev", role)):
            dev_role = role
    return Login(access=request.cookies.get(ACCESS), refresh=request.cookies.get(REFRESH), dev_role=dev_role)


def _cookie(response: Response, settings: Settings, name: str, value: str, *, max_age: int | None = None,
            http_only: bool = True) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=http_only, samesite="lax",
                        secure=not settings.dev_mode)


def keep_tokens(response: Response, settings: Settings, tokens: dict[str, Any]) -> None:
    _cookie(response, settings, ACCESS, tokens["access_token"], max_age=int(tokens.get("refresh_expires_in", 0))
            or None)
    _cookie(response, settings, REFRESH, tokens["refresh_token"], max_age=int(tokens.get("refresh_expires_in", 0))
            or None)
    response.delete_cookie(DEV, path=PATH)


def keep_dev_role(response: Response, settings: Settings, role: str) -> None:
    _cookie(response, settings, DEV, f"{role}.{_sign(settings, 'dev', role)}")
    response.delete_cookie(ACCESS, path=PATH)
    response.delete_cookie(REFRESH, path=PATH)


def forget(response: Response) -> None:
    for name in (ACCESS, REFRESH, DEV):
        response.delete_cookie(name, path=PATH)


def session_id(request: Request) -> str | None:
    return request.cookies.get(SID)


def ensure_session_id(request: Request, response: Response, settings: Settings) -> str:
    """The browser's session id, set now if it has none (the login form needs a CSRF token too)."""
    sid = session_id(request) or getattr(request.state, "new_sid", None)
    if sid is None:
        sid = secrets.token_urlsafe(32)
        request.state.new_sid = sid
    if session_id(request) is None:
        _cookie(response, settings, SID, sid)
    return sid


def csrf_token(settings: Settings, sid: str) -> str:
    return _sign(settings, "csrf", sid)


def check_csrf(request: Request, settings: Settings, submitted: str | None) -> None:
    sid = session_id(request)
    if not sid or not submitted or not hmac.compare_digest(submitted, csrf_token(settings, sid)):
        raise CsrfRefused()


def lang_of(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get(LANG) or DEFAULT_LANG
    return wanted if wanted in LANGS else DEFAULT_LANG


def keep_lang(response: Response, settings: Settings, lang: str) -> None:
    _cookie(response, settings, LANG, lang, max_age=365 * 86400, http_only=False)
