"""The console's pages. Each page reads and acts through the API (api/console/api_client.py) with the user's own
credentials, then renders a template; each form posts here, is checked for its CSRF token, and is sent on to the
API as the JSON its payload model takes. An answer of the API that refuses something is shown on the page it came
from, with the API's own words (the rule that refused it)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from api.console import i18n
from api.console import statistics as statistics_page
from api.console.api_client import Answer, ConsoleApi, Download
from api.console.forms import FormField, bool_mark, field_errors, fields_of, payload_of
from api.console.session import (
    DEV_ROLES,
    CsrfRefused,
    Login,
    check_csrf,
    csrf_token,
    ensure_session_id,
    forget,
    keep_dev_role,
    keep_lang,
    keep_tokens,
    lang_of,
    login_of,
)
from api.limits import BodyTooLarge
from api.routes.expert_portal import AcceptIn
from api.routes.users import UserCreate
from core.settings import Settings
from domain import access, labels
from domain.attachments import KINDS, PARTIES
from domain.events import EVENTS
from domain.lifecycle import MEDIATION_CLOCK_STATES
from domain.payloads import CaseCreate
from domain.time import SHANGHAI
from models.schemas import ClockPolicyIn, YearTableIn
from models.schemas_committees import CommitteeCreate, CommitteeUpdate
from models.schemas_panels import (
    ConflictIn,
    DeclineIn,
    MeetingIn,
    ObjectionDecisionIn,
    ObjectionIn,
    OpinionIn,
    SlotRedrawIn,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)

CONSOLE = "/console"
HOME_OF_ROLE = {"expert": "/console/invitations", "auditor": "/console/home", "admin": "/console/admin"}
INVITATION_FORMS: dict[str, type[BaseModel]] = {
    "accept": AcceptIn, "decline": DeclineIn, "conflict": ConflictIn, "opinion": OpinionIn}
# What staff do on a case's expert panel (Reg 33, 37): the form, the API's path
PANEL_FORMS: dict[str, type[BaseModel]] = {
    "objection": ObjectionIn, "decision": ObjectionDecisionIn, "redraw": SlotRedrawIn, "meeting": MeetingIn}
REGISTRATION_SKIP = frozenset({"confirm_new_dispute"})
# Lists whose choices may repeat, asked as how many of each: experts of one specialty (Reg 35: one to seven)
COUNTED: dict[str, frozenset[str]] = {"request_consultation": frozenset({"specialties"})}
ASSIGNING = ("accept", "reassign_mediators")
OVERVIEW_STATES = ("registered", "awaiting_consent", "under_review", "in_mediation", "appraisal", "signing",
                   "performance")  # events whose form chooses the committee's mediators


class Visit:
    """One request to the console: who, in which language, their API client and the page's CSRF token."""

    def __init__(self, request: Request, settings: Settings, login: Login, me: dict[str, Any] | None) -> None:
        self.request, self.settings, self.login, self.me = request, settings, login, me
        self.lang = lang_of(request)
        self.api = ConsoleApi(request, login)
        self.response_cookies: list[tuple[str, str]] = []

    @property
    def role(self) -> str:
        return (self.me or {}).get("role", "")

    def may(self, operation: str) -> bool:
        if self.role == access.DEV or (self.login.dev_role and not self.login.access):
            return operation != "portal"
        return self.role in access.PERMISSIONS.get(operation, frozenset())

    def t(self, key: str) -> str:
        return i18n.text(self.lang, key)

    def field_message(self, error: Mapping[str, Any]) -> str:
        return i18n.field_message(self.lang, error)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _visit(request: Request) -> Visit:
    settings = _settings(request)
    login = login_of(request, settings)
    visit = Visit(request, settings, login, None)
    if login.dev_role and not login.access:
        visit.me = {"role": login.dev_role, "full_name": i18n.ROLE_LABELS[visit.lang][login.dev_role],
                    "username": f"console-{login.dev_role}", "committee_id": None, "dev": True}
    elif login.present:
        answer = await visit.api.get("/auth/me")
        if answer.ok:
            visit.me = answer.body
    return visit


def _finish(visit: Visit, response: Response) -> Response:
    ensure_session_id(visit.request, response, visit.settings)
    if visit.api.renewed:
        keep_tokens(response, visit.settings, visit.api.renewed)
    if "lang" in visit.request.query_params and visit.request.query_params["lang"] in i18n.LANGS:
        keep_lang(response, visit.settings, visit.lang)
    return response


def _render(visit: Visit, template: str, status_code: int = 200, **values: Any) -> Response:
    sid = ensure_session_id(visit.request, Response(), visit.settings)
    context = {
        "v": visit, "t": visit.t, "lang": visit.lang, "me": visit.me, "csrf": csrf_token(visit.settings, sid),
        "event_label": lambda e: i18n.event_label(visit.lang, e),
        "state_label": lambda s: i18n.state_label(visit.lang, s),
        "field_label": lambda k: i18n.field_label(visit.lang, k),
        "field_hint": lambda k, description: i18n.field_hint(visit.lang, k, description),
        "value_label": lambda f, x: i18n.value_label(visit.lang, f, x),
        "payload_details": lambda payload: tuple((i18n.field_label("zh", label), shown)
                                                 for label, shown in labels.details(payload)),
        "role_label": lambda r: i18n.ROLE_LABELS[visit.lang].get(r, r),
        "kind_label": lambda k: i18n.attachment_kind(visit.lang, k),
        "party_label": lambda p: i18n.party_label(visit.lang, p),
        "notification_kind": lambda k: i18n.notification_kind(visit.lang, k),
        "delivery_status": lambda x: i18n.delivery_status(visit.lang, x),
        "channel_label": lambda c: i18n.channel_label(visit.lang, c), "size_label": i18n.size_label,
        "refusal": lambda answer, case=None, file_words=None: i18n.refusal(visit.lang, answer.status, answer.body,
                                                                           case, file_words),
        "session_status": lambda s: i18n.session_status(visit.lang, s), "local_time": _local_time,
        "deadline_when": lambda due_on, at: i18n.deadline_when(visit.lang, due_on, at),
        "panel_status": lambda kind, s: i18n.panel_status(visit.lang, kind, s),
        "bool_mark": bool_mark, "path": visit.request.url.path, "query": str(visit.request.url.query),
        "dev_mode": visit.settings.dev_mode, "flash": _flash(visit, values.pop("done", None)
                                                             or visit.request.query_params.get("done")),
        **values,
    }
    response = templates.TemplateResponse(visit.request, template, context, status_code=status_code)
    return _finish(visit, response)


def _local_time(text: str | None) -> str:
    """An instant the API gives (ISO 8601, any offset) as Shanghai's clock shows it: 2026-11-27 12:10."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    return (moment.astimezone(SHANGHAI) if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M")


def _flash(visit: Visit, done: str | None) -> str | None:
    """What was just done, in words: an event's name, or an expert's answer."""
    if not done:
        return None
    if done in EVENTS:  # a case's event (an expert's answer to an invitation is named apart: its accept is not
        return i18n.event_label(visit.lang, done)  # the case's acceptance)
    answers = {"invitation-accept": "accept_invitation", "invitation-decline": "decline",
               "invitation-conflict": "conflict", "invitation-opinion": "opinion",
               "uploaded": "attachment_uploaded", "withdrawn": "attachment_withdrawn",
               **{f"panel-{kind}": f"panel_{kind}" for kind in PANEL_FORMS}}
    return visit.t(answers.get(done, "saved"))


def _redirect(visit: Visit, to: str) -> Response:
    return _finish(visit, RedirectResponse(to, status_code=303))


def _login_page(visit: Visit) -> Response:
    return _redirect(visit, f"{CONSOLE}/login?next={quote(visit.request.url.path)}")


def _refused(visit: Visit, answer: Answer, back: str) -> Response:
    """A page for an API answer that is not a success: its status, its words, the rule."""
    if answer.status == 401:
        return _login_page(visit)
    return _render(visit, "refused.html", status_code=answer.status, answer=answer, back=back)


async def _checked_form(request: Request, visit: Visit) -> Any:
    form = await request.form()
    check_csrf(request, visit.settings, str(form.get("csrf_token") or ""))
    return form


# ---------------------------------------------------------------- logging in -----------------------------
@router.get("", response_class=HTMLResponse)
async def start(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _redirect(visit, f"{CONSOLE}/login")
    return _redirect(visit, HOME_OF_ROLE.get(visit.role, f"{CONSOLE}/home"))


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    visit = await _visit(request)
    return _render(visit, "login.html", dev_roles=DEV_ROLES if visit.settings.dev_mode else (), error=None,
                   next=request.query_params.get("next", ""))


def _safe_next(target: str | None) -> str | None:
    return target if target and target.startswith(f"{CONSOLE}/") and "//" not in target else None


@router.post("/login", response_class=HTMLResponse)
async def log_in(request: Request, username: Annotated[str, Form(max_length=100)] = "",
                 password: Annotated[str, Form(max_length=200)] = "") -> Response:
    visit = await _visit(request)
    form = await _checked_form(request, visit)
    answer = await visit.api.call("POST", "/auth/token", data={"username": username, "password": password},
                                  anonymous=True)
    if not answer.ok:
        error = visit.t("login_failed") if answer.status in (401, 422) else answer.detail
        return _render(visit, "login.html", status_code=answer.status, error=error,
                       dev_roles=DEV_ROLES if visit.settings.dev_mode else (), next=form.get("next", ""))
    visit.api.renewed = None
    me = await ConsoleApi(request, Login(access=answer.body["access_token"])).get("/auth/me")
    role = me.body.get("role", "") if me.ok else ""
    response = RedirectResponse(_safe_next(str(form.get("next") or "")) or HOME_OF_ROLE.get(role, f"{CONSOLE}/home"),
                                status_code=303)
    keep_tokens(response, visit.settings, answer.body)
    return _finish(visit, response)


@router.post("/login/dev", response_class=HTMLResponse)
async def log_in_dev(request: Request, role: Annotated[str, Form(max_length=32)]) -> Response:
    visit = await _visit(request)
    await _checked_form(request, visit)
    if not visit.settings.dev_mode or role not in DEV_ROLES:
        return _render(visit, "refused.html", status_code=403, answer=None, message=visit.t("forbidden"),
                       back=f"{CONSOLE}/login")
    response = RedirectResponse(HOME_OF_ROLE.get(role, f"{CONSOLE}/home"), status_code=303)
    keep_dev_role(response, visit.settings, role)
    return _finish(visit, response)


@router.post("/logout")
async def log_out(request: Request) -> Response:
    visit = await _visit(request)
    await _checked_form(request, visit)
    response = RedirectResponse(f"{CONSOLE}/login", status_code=303)
    forget(response)
    return _finish(visit, response)


@router.get("/lang/{lang}")
async def switch_language(request: Request, lang: str) -> Response:
    visit = await _visit(request)
    response = RedirectResponse(_safe_next(request.query_params.get("next")) or f"{CONSOLE}", status_code=303)
    if lang in i18n.LANGS:
        keep_lang(response, visit.settings, lang)
    return _finish(visit, response)


# ---------------------------------------------------------------- home: each role's page -------------------
def _week(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def today() -> date:
    return datetime.now(SHANGHAI).date()


@router.get("/home", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    role = visit.role
    calls: dict[str, Any] = {}
    if visit.may("worklist.read"):
        calls["worklist"] = visit.api.get("/worklist")
    if visit.may("cases.read"):
        if role in ("director", "dev"):
            calls["review"] = visit.api.get("/cases", status="under_review", limit=50)
            for status in OVERVIEW_STATES:  # the committee overview: how many cases in each state
                calls[f"count:{status}"] = visit.api.get("/cases", status=status, limit=1, count="estimate")
        if role == "intake":
            calls["awaiting"] = visit.api.get("/cases", status="awaiting_consent", limit=50)
            calls["registered"] = visit.api.get("/cases", status="registered", limit=50)
        calls["cases"] = visit.api.get("/cases", limit=50, sort="next_deadline" if role == "mediator" else None)
        if role == "mediator":  # by urgency, then the cases with no pending deadline
            calls["undated"] = visit.api.get("/cases", limit=50)
    names = list(calls)
    answers = dict(zip(names, await asyncio.gather(*calls.values()), strict=True))
    pages = {name: (a.body if a.ok else None) for name, a in answers.items()}
    overview = {name.split(":", 1)[1]: page.get("estimated_total") for name, page in pages.items()
                if name.startswith("count:") and page}
    if pages.get("cases") and pages.get("undated"):
        dated = {c["id"] for c in pages["cases"]["items"]}
        pages["cases"]["items"] += [c for c in pages["undated"]["items"] if c["id"] not in dated]
    monday, sunday = _week(today())
    return _render(visit, "home.html", pages=pages, today=today(), week_end=sunday, role=role, overview=overview)


# ---------------------------------------------------------------- cases ------------------------------------
@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    query = request.query_params
    q = (query.get("q") or "").strip()
    params: dict[str, Any] = {"limit": 50, "status": query.get("status"), "cursor": query.get("cursor"),
                              "due_to": query.get("due_to"), "mediator_id": query.get("mediator_id")}
    if q:
        params[_search_kind(q)] = q
    answer = await visit.api.get("/cases", **params)
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/home")
    return _render(visit, "cases.html", page=answer.body, q=q, status=query.get("status") or "",
                   statuses=[s for s in i18n.STATE_LABELS if s != "new"])


def _search_kind(q: str) -> str:
    """What a search box's text is: an identity number, a phone number, a name (the name index) or other text (a
    case number, words of the facts)."""
    if re.fullmatch(r"\d{17}[\dXx]", q):
        return "identity"
    if re.fullmatch(r"\+?[\d\- ]{5,20}", q):
        return "phone"
    if any(ch.isdigit() or ch in "〔〕[]" for ch in q):
        return "q"
    return "party"


def _registration_fields(values: dict[str, Any], committee_id: str | None,
                         committees: list[dict[str, Any]]) -> list[FormField]:
    shown = dict(values)
    if committee_id and "committee_id" not in shown:
        shown["committee_id"] = committee_id
    shown.setdefault("application_type", "one_side")
    fields = fields_of(CaseCreate, shown, skip=REGISTRATION_SKIP)
    if (committee := _find(fields, "committee_id")) is not None and committees:
        committee.kind, committee.options = "select", [c["id"] for c in committees]
        committee.labels = {c["id"]: c["name"] for c in committees}
    return fields


@router.get("/cases/new", response_class=HTMLResponse)
async def registration_form(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    committees = await visit.api.get("/committees")
    listed = committees.body if committees.ok else []
    return _render(visit, "register.html", fields=_registration_fields({}, (visit.me or {}).get("committee_id"), listed),
                   errors={}, duplicates=None, committees=committees.body if committees.ok else [], answer=None)


@router.post("/cases/new", response_class=HTMLResponse)
async def register(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    payload = payload_of(CaseCreate, form.getlist)
    if form.get("confirm_reason"):
        payload["confirm_new_dispute"] = {"reason": str(form.get("confirm_reason"))}
    answer = await visit.api.call("POST", "/cases", json=payload,
                                  headers={"Idempotency-Key": str(form.get("idempotency_key") or "")} if
                                  form.get("idempotency_key") else None)
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/cases/{answer.body['id']}?done=register")
    if answer.status == 401:
        return _login_page(visit)
    committees = await visit.api.get("/committees")
    duplicates = answer.body.get("matches") if isinstance(answer.body, dict) and \
        answer.body.get("code") == "possible_duplicate" else None
    listed = committees.body if committees.ok else []
    return _render(visit, "register.html", status_code=answer.status, fields=_registration_fields(payload, None, listed),
                   errors=field_errors(answer.body, visit.field_message) if isinstance(answer.body, dict) else {},
                   duplicates=duplicates, committees=committees.body if committees.ok else [], answer=answer)


def _action_path(case_id: str, event: str) -> tuple[str, str]:
    if event == "link_respondent":
        return "PUT", f"/cases/{case_id}/respondent-institution"
    return "POST", f"/cases/{case_id}/{event.replace('_', '-')}"


def _find(fields: list[FormField], key: str) -> FormField | None:
    return next((f for f in fields if f.key == key), None)


def _tailor(event: str, fields: list[FormField], case: dict[str, Any], sessions: list[dict[str, Any]],
            mediators: list[dict[str, Any]], institutions: list[dict[str, Any]]) -> list[FormField]:
    """What the case already knows, offered as choices: its open sessions, the committee's mediators, its
    mediators' names, the pool registry's institutions (those named as the respondent first, never chosen for
    the clerk). The API still decides on whatever is sent."""
    if (session_field := _find(fields, "session_id")) is not None:
        open_sessions = [s for s in sessions if not s.get("minutes") and s.get("status", "scheduled") == "scheduled"]
        session_field.kind, session_field.options = "select", [s["id"] for s in open_sessions]
        session_field.labels = {s["id"]: f"{str(s['scheduled_at'])[:16].replace('T', ' ')} {s['place']}"
                                for s in open_sessions}
        if open_sessions and session_field.value is None:
            session_field.value = open_sessions[-1]["id"]
    if (accounts := _find(fields, "mediator_ids")) is not None and mediators:
        accounts.kind, accounts.options = "choices", [m["username"] for m in mediators]
        accounts.labels = {m["username"]: m["full_name"] for m in mediators}
        accounts.value = accounts.value if isinstance(accounts.value, list) else []
    if event == "link_respondent" and (linked := _find(fields, "institution_id")) is not None and institutions:
        named = str(case.get("institution_name", ""))
        ordered = sorted(institutions, key=lambda i: (i["name"] != named, named not in i["name"], i["name"]))
        linked.kind, linked.options = "select", [i["id"] for i in ordered]
        linked.labels = {i["id"]: _institution_words(i, named) for i in ordered}
    if event == "schedule_session" and (names := _find(fields, "mediators")) is not None and not names.value:
        names.value = "\n".join(case.get("mediators", []))
    return fields


def _forms(visit: Visit, case: dict[str, Any], sessions: list[dict[str, Any]], mediators: list[dict[str, Any]],
           sent: dict[str, Any] | None = None, failed_event: str | None = None,
           institutions: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A form for each event the law allows now and the caller's role may ask for."""
    forms = []
    for event in case.get("allowed_events", []):
        spec = EVENTS.get(event)
        if spec is None or spec.route == "none" or spec.payload is None or not visit.may(f"event.{event}"):
            continue
        values = sent if event == failed_event else None
        if values is None and event == "amend_parties":  # the representatives as registered, to be corrected
            values = {"patient_representatives": case.get("registration", {}).get("patient_representatives", [])}
        fields = _tailor(event, fields_of(spec.payload, values, form=event,
                                          counted=COUNTED.get(event, frozenset())), case, sessions, mediators,
                         institutions or [])
        forms.append({"event": event, "fields": fields, "open": event == failed_event})
    return forms


def _panel_forms(visit: Visit, panel: dict[str, Any], sent: tuple[str, dict[str, Any]] | None = None
                 ) -> dict[str, Any]:
    """The forms the caller may use on one panel now (Reg 33, 37): a party's request that an expert be recused,
    the director's decision on each request pending, a new draw for each seat the pool could not fill, the
    experts' meeting once every seat has accepted. `sent`: a form the API refused (its name, what was typed),
    shown again as typed. The API decides on whatever is sent."""
    if panel.get("status") == "closed":
        return {}

    def form(model: type[BaseModel], name: str) -> list[FormField]:
        return fields_of(model, sent[1] if sent and sent[0] == name else None, form=name)

    found: dict[str, Any] = {}
    held = [s for s in panel.get("slots", []) if s.get("invitation_id") and s.get("expert_name")
            and s.get("status") in ("invited", "accepted", "opinion")]
    if visit.may("panels.object") and held:
        fields = form(ObjectionIn, f"objection-{panel['id']}")
        if (expert := _find(fields, "invitation_id")) is not None:
            expert.kind, expert.options = "select", [s["invitation_id"] for s in held]
            expert.labels = {s["invitation_id"]: f"{visit.t('seats')} {s['slot']} · "
                             f"{s.get('specialty_label') or s['specialty']} · {s['expert_name']}" for s in held}
        found["objection"] = fields
    if visit.may("panels.decide"):
        found["decisions"] = [(o, form(ObjectionDecisionIn, f"decision-{o['id']}"))
                              for o in panel.get("objections", []) if o.get("decision") is None]
    if visit.may("panels.manage"):
        found["redraws"] = [(s, form(SlotRedrawIn, f"redraw-{panel['id']}-{s['slot']}"))
                            for s in panel.get("slots", []) if s.get("status") == "unfilled"]
        if panel.get("status") in ("complete", "opinion"):
            found["meeting"] = form(MeetingIn, f"meeting-{panel['id']}")
    return found


def _institution_words(institution: dict[str, Any], respondent: str) -> str:
    group = (institution.get("group") or {}).get("name")
    words = f"{institution['name']}（{institution['city']}{'，' + group if group else ''}）"
    return f"{words} · 与本案医方名称相同" if institution["name"] == respondent else words


async def _nothing() -> None:
    return None


async def _case_page(visit: Visit, case_id: str, *, status_code: int = 200, sent: dict[str, Any] | None = None,
                     failed: Answer | None = None, failed_event: str | None = None,
                     warnings: list[dict[str, Any]] | None = None, done: str | None = None,
                     failed_title: str | None = None, upload_sent: dict[str, Any] | None = None,
                     panel_sent: tuple[str, dict[str, Any]] | None = None) -> Response:
    api = visit.api
    case, history, documents, sessions, panels, files, notices = await asyncio.gather(
        api.get(f"/cases/{case_id}"), api.get(f"/cases/{case_id}/history"),
        api.get(f"/cases/{case_id}/documents", wait=0), api.get(f"/cases/{case_id}/sessions"),
        api.get(f"/cases/{case_id}/panels"),
        api.get(f"/cases/{case_id}/attachments") if visit.may("attachments.list") else _nothing(),
        api.get(f"/cases/{case_id}/notifications", limit=20) if visit.may("notifications.case") else _nothing())
    if not case.ok:
        return _refused(visit, case, back=f"{CONSOLE}/cases")
    mediators: list[dict[str, Any]] = []
    if visit.may("users.read") and any(e in case.body.get("allowed_events", []) for e in ASSIGNING):
        found = await api.get("/users", role="mediator", committee_id=case.body["committee_id"])
        mediators = found.body if found.ok else []
    institutions: list[dict[str, Any]] = []
    if visit.may("pool.registry") and "link_respondent" in case.body.get("allowed_events", []):
        registry = await api.get("/pool/institutions")
        institutions = registry.body if registry.ok else []
    forms = _forms(visit, case.body, sessions.body if sessions.ok else [], mediators, sent, failed_event,
                   institutions)
    return _render(visit, "case.html", status_code=status_code, case=case.body, clock_states=MEDIATION_CLOCK_STATES,
                   history=history.body if history.ok else [],
                   documents=documents.body if documents.ok else [], sessions=sessions.body if sessions.ok else [],
                   panels=panels.body if panels.ok else [], forms=forms,
                   panel_forms={p["id"]: _panel_forms(visit, p, panel_sent) for p in (panels.body if panels.ok else [])},
                   panel_failed=panel_sent[0] if panel_sent else None, failed=failed, failed_event=failed_event,
                   warnings=warnings or [], done=done,
                   errors=field_errors(failed.body, visit.field_message) if failed is not None and isinstance(failed.body, dict) else {},
                   files=files.body if files is not None and files.ok else None,
                   notices=notices.body if notices is not None and notices.ok else None,
                   may_upload=visit.may("attachments.write"), kinds=list(KINDS), parties=list(PARTIES),
                   upload_sent=upload_sent or {"received_on": today().isoformat()}, failed_title=failed_title,
                   refusal_words=i18n.file_refusal(visit.lang, failed.status, failed.body)
                   if failed is not None and failed_title else None)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    return await _case_page(visit, case_id)


@router.post("/cases/{case_id}/act/{event}", response_class=HTMLResponse)
async def act(request: Request, case_id: str, event: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    spec = EVENTS.get(event)
    if spec is None or spec.payload is None or spec.route == "none":
        return _render(visit, "refused.html", status_code=404, answer=None, message=visit.t("not_found"),
                       back=f"{CONSOLE}/cases/{case_id}")
    payload = payload_of(spec.payload, form.getlist, COUNTED.get(event, frozenset()))
    method, path = _action_path(case_id, event)
    headers = {"If-Match": f'"{form.get("version")}"'} if form.get("version") else {}
    answer = await visit.api.call(method, path, json=payload, headers=headers)
    if answer.ok and isinstance(answer.body, dict) and answer.body.get("warnings"):
        return await _case_page(visit, case_id, warnings=answer.body["warnings"], done=event)  # e.g. double booked
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/cases/{case_id}?done={event}")
    if answer.status == 401:
        return _login_page(visit)
    return await _case_page(visit, case_id, status_code=answer.status, sent=payload, failed=answer,
                            failed_event=event)


# ---------------------------------------------------------------- the parties' files ----------------------
UPLOAD_FIELDS = ("kind", "party", "received_on", "description")


@router.post("/cases/{case_id}/attachments", response_class=HTMLResponse)
async def upload_attachment(request: Request, case_id: str) -> Response:
    """The file goes on to the API as it was spooled by Starlette (to disk past 1 MiB), read in chunks. This
    path ends with /attachments, so the API's body limit for attachments holds here too (api/limits.py)."""
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    title = visit.t("upload")
    try:
        form = await _checked_form(request, visit)
    except BodyTooLarge as error:  # past the limit while it streamed: nothing is sent on
        refused = Answer(413, {"detail": error.detail, "code": "payload_too_large"}, httpx.Headers())
        return await _case_page(visit, case_id, status_code=413, failed=refused, failed_title=title)
    fields = {name: str(form.get(name) or "") for name in UPLOAD_FIELDS}
    upload = form.get("file")
    files = None
    if isinstance(upload, UploadFile) and upload.filename:
        files = {"file": (upload.filename, upload.file, upload.content_type or "application/octet-stream")}
    try:
        answer = await visit.api.call("POST", f"/cases/{case_id}/attachments", data=fields, files=files)
    finally:
        await form.close()
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/cases/{case_id}?done=uploaded#attachments-h")
    if answer.status == 401:
        return _login_page(visit)
    return await _case_page(visit, case_id, status_code=answer.status, failed=answer, failed_title=title,
                            upload_sent=fields)


@router.post("/cases/{case_id}/attachments/{attachment_id}/withdraw", response_class=HTMLResponse)
async def withdraw_attachment(request: Request, case_id: str, attachment_id: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    answer = await visit.api.call("POST", f"/attachments/{quote(attachment_id, safe='')}/withdraw",
                                  json={"reason": str(form.get("reason") or "").strip()})
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/cases/{case_id}?done=withdrawn#attachments-h")
    if answer.status == 401:
        return _login_page(visit)
    return await _case_page(visit, case_id, status_code=answer.status, failed=answer, failed_title=visit.t("withdraw"))


DOWNLOAD_HEADERS = ("content-type", "content-length", "content-disposition", "x-content-type-options",
                    "content-security-policy", "x-content-sha256")


@router.get("/attachments/{attachment_id}/content")
async def attachment_content(request: Request, attachment_id: str) -> Response:
    """The API's download handed on as it comes, with its headers: always a download (Content-Disposition:
    attachment), never sniffed, never run (the API's sandboxed policy). Its read is the API's to record (Reg 42)."""
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    answer = await visit.api.download(f"/attachments/{quote(attachment_id, safe='')}/content")
    if not isinstance(answer, Download):
        if answer.status == 401:
            return _login_page(visit)
        return _refused(visit, answer, back=request.headers.get("referer") or f"{CONSOLE}/home")
    headers = {name: answer.headers[name] for name in DOWNLOAD_HEADERS if name in answer.headers}
    media_type = headers.pop("content-type", "application/octet-stream")
    response = StreamingResponse(answer.chunks(), status_code=answer.status, media_type=media_type, headers=headers)
    return _finish(visit, response)


# ---------------------------------------------------------------- notifications and contact ----------------
@router.post("/cases/{case_id}/panels/{panel_id}/{kind}", response_class=HTMLResponse)
async def panel_act(request: Request, case_id: str, panel_id: str, kind: str) -> Response:
    """A form of the case's expert panel (`PANEL_FORMS`), sent to the API; refused, the case page says why."""
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    which = request.query_params
    paths = {"objection": f"/panels/{quote(panel_id)}/objections",
             "decision": f"/panels/{quote(panel_id)}/objections/{quote(which.get('objection', ''))}/decision",
             "redraw": f"/panels/{quote(panel_id)}/slots/{quote(which.get('slot', ''))}/redraw",
             "meeting": f"/panels/{quote(panel_id)}/meeting"}
    if kind not in PANEL_FORMS:
        return _render(visit, "refused.html", status_code=404, answer=None, message=visit.t("not_found"),
                       back=f"{CONSOLE}/cases/{quote(case_id)}")
    payload = payload_of(PANEL_FORMS[kind], form.getlist)
    answer = await visit.api.call("POST", paths[kind], json=payload)
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/cases/{quote(case_id)}?done=panel-{kind}#panels-h")
    if answer.status == 401:
        return _login_page(visit)
    name = {"objection": f"objection-{panel_id}", "decision": f"decision-{which.get('objection', '')}",
            "redraw": f"redraw-{panel_id}-{which.get('slot', '')}", "meeting": f"meeting-{panel_id}"}[kind]
    return await _case_page(visit, case_id, status_code=answer.status, failed=answer,
                            failed_title=visit.t(f"panel_{kind}"), panel_sent=(name, payload))


DELIVERY_FILTERS = ("failed", "queued", "sent")


@router.get("/notifications", response_class=HTMLResponse)
async def notifications(request: Request) -> Response:
    """The outbox of the cases in reach, each notification with its deliveries; `status=failed`: whom it did not
    reach, and why."""
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    query = request.query_params
    status = query.get("status") if query.get("status") in DELIVERY_FILTERS else ""
    case_id = query.get("case_id") or ""
    answer = await visit.api.get("/notifications", status=status, case_id=case_id, cursor=query.get("cursor"),
                                 limit=50)
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/home")
    return _render(visit, "notifications.html", page=answer.body, status=status, case_id=case_id)


CONTACT_CHANNELS = ("email", "sms")


async def _contact_page(visit: Visit, *, status_code: int = 200, failed: Answer | None = None,
                        sent: dict[str, Any] | None = None) -> Response:
    answer = await visit.api.get("/me/contact")
    if not answer.ok:
        return _refused(visit, answer, back=CONSOLE)
    return _render(visit, "contact.html", status_code=status_code, contact=sent or answer.body, failed=failed,
                   channels=CONTACT_CHANNELS,
                   errors=field_errors(failed.body, visit.field_message) if failed is not None and isinstance(failed.body, dict) else {})


@router.get("/contact", response_class=HTMLResponse)
async def contact(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    return await _contact_page(visit)


@router.post("/contact", response_class=HTMLResponse)
async def save_contact(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    payload = {"email": str(form.get("email") or "").strip(), "mobile": str(form.get("mobile") or "").strip(),
               "notify_by": [c for c in form.getlist("notify_by") if c in CONTACT_CHANNELS]}
    answer = await visit.api.call("PUT", "/me/contact", json=payload)
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/contact?done=saved")
    if answer.status == 401:
        return _login_page(visit)
    return await _contact_page(visit, status_code=answer.status, failed=answer, sent=payload)


# ---------------------------------------------------------------- documents -------------------------------
@router.get("/documents/{document_id}/pdf")
async def document_pdf(request: Request, document_id: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    answer = await visit.api.get(f"/documents/{document_id}/pdf", lang=request.query_params.get("lang"))
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/home")
    disposition = "attachment" if request.query_params.get("download") else "inline"
    _, _, filename = answer.headers.get("content-disposition", "").partition(";")
    response = Response(answer.body, media_type="application/pdf")
    response.headers["Content-Disposition"] = f"{disposition};{filename}" if filename else disposition
    if digest := answer.headers.get("x-content-sha256"):
        response.headers["X-Content-SHA256"] = digest
    return _finish(visit, response)


@router.get("/documents/{document_id}/verify", response_class=HTMLResponse)
async def document_verify(request: Request, document_id: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    metadata, verification = await asyncio.gather(visit.api.get(f"/documents/{document_id}"),
                                                  visit.api.get(f"/documents/{document_id}/verify"))
    if not metadata.ok:
        return _refused(visit, metadata, back=f"{CONSOLE}/home")
    return _render(visit, "verify.html", document=metadata.body,
                   verification=verification.body if verification.ok else None, answer=verification)


@router.get("/cases/{case_id}/case-file")
async def case_file(request: Request, case_id: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    answer = await visit.api.get(f"/cases/{case_id}/case-file")
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/cases/{case_id}")
    response = Response(answer.body, media_type=answer.headers.get("content-type", "application/pdf"))
    if disposition := answer.headers.get("content-disposition"):
        response.headers["Content-Disposition"] = disposition
    return _finish(visit, response)


# ---------------------------------------------------------------- sessions' calendar -----------------------
@router.get("/calendar", response_class=HTMLResponse)
async def calendar(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    try:
        day = date.fromisoformat(request.query_params.get("week") or "")
    except ValueError:
        day = today()
    monday, sunday = _week(day)
    answer = await visit.api.get("/sessions", **{"from": monday.isoformat(), "to": sunday.isoformat()})
    items = answer.body if answer.ok else []
    items = items.get("items", []) if isinstance(items, dict) else items
    days = [monday + timedelta(days=i) for i in range(7)]
    by_day: dict[str, list[Any]] = {d.isoformat(): [] for d in days}
    for item in items:
        by_day.setdefault(str(item.get("scheduled_at", ""))[:10], []).append(item)
    return _render(visit, "calendar.html", days=days, by_day=by_day, monday=monday,
                   previous=(monday - timedelta(days=7)).isoformat(), following=(monday + timedelta(days=7)).isoformat(),
                   answer=answer)


# ---------------------------------------------------------------- the expert's invitations -----------------
@router.get("/invitations", response_class=HTMLResponse)
async def invitations(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    answer = await visit.api.get("/me/invitations", limit=50)
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/home")
    return _render(visit, "invitations.html", page=answer.body)


async def _invitation_page(visit: Visit, invitation_id: str, *, status_code: int = 200, failed: Answer | None = None,
                           failed_form: str | None = None, sent: dict[str, Any] | None = None) -> Response:
    answer = await visit.api.get(f"/me/invitations/{invitation_id}")
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/invitations")
    forms = {name: fields_of(model, sent if name == failed_form else None, form=name)
             for name, model in INVITATION_FORMS.items()}
    files = None  # Reg 42: the panel's files only once the expert accepted (the API holds to it too)
    if answer.body.get("status") == "accepted":
        given = await visit.api.get(f"/me/invitations/{invitation_id}/attachments")
        files = given.body if given.ok else []
    return _render(visit, "invitation.html", status_code=status_code, invitation=answer.body, forms=forms, files=files,
                   failed=failed, failed_form=failed_form,
                   errors=field_errors(failed.body, visit.field_message) if failed is not None and isinstance(failed.body, dict) else {})


@router.get("/invitations/{invitation_id}", response_class=HTMLResponse)
async def invitation(request: Request, invitation_id: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    return await _invitation_page(visit, invitation_id)


@router.post("/invitations/{invitation_id}/{answer_kind}", response_class=HTMLResponse)
async def answer_invitation(request: Request, invitation_id: str, answer_kind: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    if answer_kind not in INVITATION_FORMS:
        return _render(visit, "refused.html", status_code=404, answer=None, message=visit.t("not_found"),
                       back=f"{CONSOLE}/invitations")
    model = INVITATION_FORMS[answer_kind]
    payload = payload_of(model, form.getlist)
    answer = await visit.api.call("POST", f"/me/invitations/{invitation_id}/{answer_kind}", json=payload)
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/invitations/{invitation_id}?done=invitation-{answer_kind}")
    if answer.status == 401:
        return _login_page(visit)
    return await _invitation_page(visit, invitation_id, status_code=answer.status, failed=answer,
                                  failed_form=answer_kind, sent=payload)


# ---------------------------------------------------------------- statistics --------------------------------
@router.get("/statistics", response_class=HTMLResponse)
async def statistics(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    page = await statistics_page.statistics_page(visit.api, request.query_params, lang=visit.lang, today=today(),
                                                 committee_id=(visit.me or {}).get("committee_id"))
    if page.refused is not None:
        return _refused(visit, page.refused, back=f"{CONSOLE}/home")
    return _render(visit, "statistics.html", **page.values)


@router.get("/statistics/{name}")
async def statistics_file(request: Request, name: str) -> Response:
    """export.csv, export.xlsx, report.pdf (any other name: 404)."""
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    answer = await statistics_page.statistics_file(visit.api, name, request.query_params)
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/statistics")
    return _finish(visit, statistics_page.file_response(answer))


# ---------------------------------------------------------------- the auditor ------------------------------
@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    query = request.query_params
    entries, chain = await asyncio.gather(
        visit.api.get("/audit", limit=100, target_id=query.get("target_id"), actor_id=query.get("actor_id")),
        visit.api.get("/audit/verify"))
    if not entries.ok:
        return _refused(visit, entries, back=f"{CONSOLE}/home")
    return _render(visit, "audit.html", entries=entries.body, chain=chain.body if chain.ok else None)


# ---------------------------------------------------------------- the administrator ------------------------
ADMIN_FORMS: dict[str, tuple[type[BaseModel], frozenset[str]]] = {
    "user": (UserCreate, frozenset()),
    "year": (YearTableIn, frozenset({"names"})),
    "committee": (CommitteeCreate, frozenset({"number_patterns"})),
}


async def _admin_page(visit: Visit, *, status_code: int = 200, report: Answer | None = None,
                      failed: Answer | None = None, failed_form: str | None = None,
                      sent: dict[str, Any] | None = None) -> Response:
    api = visit.api
    users, committees, years, provisional = await asyncio.gather(
        api.get("/users"), api.get("/committees"), api.get("/calendar/years"), api.get("/calendar/provisional"))
    forms = {name: fields_of(model, sent if name == failed_form else None, skip=skip, form=name)
             for name, (model, skip) in ADMIN_FORMS.items()}
    if (role := _find(forms["user"], "role")) is not None:
        role.kind, role.options = "select", list(i18n.ROLE_LABELS["zh"].keys() - {"dev"})
        role.labels = {r: i18n.ROLE_LABELS[visit.lang][r] for r in role.options}
    return _render(visit, "admin.html", status_code=status_code, users=users.body if users.ok else [],
                   committees=committees.body if committees.ok else [], years=years.body if years.ok else [],
                   provisional=provisional.body if provisional.ok else None, report=report, forms=forms,
                   failed=failed, failed_form=failed_form,
                   errors=field_errors(failed.body, visit.field_message) if failed is not None and isinstance(failed.body, dict) else {},
                   next_year=today().year + 1)


@router.get("/admin", response_class=HTMLResponse)
async def admin(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    return await _admin_page(visit)


@router.post("/admin/users", response_class=HTMLResponse)
async def admin_create_user(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    payload = payload_of(UserCreate, form.getlist)
    answer = await visit.api.call("POST", "/users", json=payload)
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/admin?done=saved#users-h")
    payload.pop("password", None)  # never shown back
    return await _admin_page(visit, status_code=answer.status, failed=answer, failed_form="user", sent=payload)


@router.post("/admin/committees", response_class=HTMLResponse)
async def admin_create_committee(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    payload = payload_of(CommitteeCreate, form.getlist)
    answer = await visit.api.call("POST", "/committees", json=payload)
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/admin/committees/{answer.body['id']}?done=saved")
    return await _admin_page(visit, status_code=answer.status, failed=answer, failed_form="committee", sent=payload)


async def _committee_page(visit: Visit, committee_id: str, *, status_code: int = 200, failed: Answer | None = None,
                          failed_form: str | None = None, sent: dict[str, Any] | None = None) -> Response:
    answer = await visit.api.get(f"/committees/{quote(committee_id, safe='')}")
    if not answer.ok:
        return _refused(visit, answer, back=f"{CONSOLE}/admin")
    committee = answer.body
    shown = {"edit": {k: committee.get(k) for k in ("name", "short_name", "city", "case_number_pattern")},
             "policy": committee.get("policy") or {}}
    if failed_form and sent is not None:
        shown[failed_form] = sent
    forms = {"edit": fields_of(CommitteeUpdate, shown["edit"], skip=frozenset({"number_patterns"}), form="edit"),
             "policy": fields_of(ClockPolicyIn, shown["policy"], form="policy")}
    return _render(visit, "committee.html", status_code=status_code, committee=committee, forms=forms,
                   failed=failed, failed_form=failed_form,
                   errors=field_errors(failed.body, visit.field_message) if failed is not None and isinstance(failed.body, dict) else {})


@router.get("/admin/committees/{committee_id}", response_class=HTMLResponse)
async def admin_committee(request: Request, committee_id: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    return await _committee_page(visit, committee_id)


@router.post("/admin/committees/{committee_id}/{part}", response_class=HTMLResponse)
async def admin_change_committee(request: Request, committee_id: str, part: str) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    target = f"/committees/{quote(committee_id, safe='')}"
    if part == "edit":
        payload = payload_of(CommitteeUpdate, form.getlist)
        answer = await visit.api.call("PATCH", target, json=payload)
    elif part == "policy":
        payload = payload_of(ClockPolicyIn, form.getlist)
        answer = await visit.api.call("PUT", f"{target}/policy", json=payload)
    else:
        return _render(visit, "refused.html", status_code=404, answer=None, message=visit.t("not_found"),
                       back=f"{CONSOLE}/admin")
    if answer.ok:
        return _redirect(visit, f"{CONSOLE}/admin/committees/{committee_id}?done=saved")
    return await _committee_page(visit, committee_id, status_code=answer.status, failed=answer, failed_form=part,
                                 sent=payload)


@router.post("/admin/calendar", response_class=HTMLResponse)
async def admin_load_year(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    payload = payload_of(YearTableIn, form.getlist)
    year = str(form.get("year") or "").strip()
    answer = await visit.api.call("PUT", f"/calendar/years/{year}", json=payload)
    if answer.ok:
        return await _admin_page(visit, report=answer)
    return await _admin_page(visit, status_code=answer.status, failed=answer, failed_form="year", sent=payload)


@router.post("/admin/pool/import", response_class=HTMLResponse)
async def pool_import(request: Request) -> Response:
    visit = await _visit(request)
    if visit.me is None:
        return _login_page(visit)
    form = await _checked_form(request, visit)
    upload = form.get("file")
    content = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    answer = await visit.api.call("POST", "/pool/experts/import", content=content,
                                  headers={"Content-Type": "text/csv; charset=utf-8"},
                                  params={"skip_invalid": "true" if form.get("skip_invalid") else None})
    return await _admin_page(visit, status_code=answer.status, report=answer)


def install_errors(app: Any) -> None:
    """A console form without its CSRF token: 403 with a page that says so, nothing done."""
    from starlette.requests import Request as StarletteRequest

    async def csrf_refused(request: StarletteRequest, exc: Exception) -> Response:
        visit = await _visit(request)  # type: ignore[arg-type]
        return _render(visit, "refused.html", status_code=403, answer=None, message=visit.t("csrf"),
                       back=request.headers.get("referer") or CONSOLE)

    app.add_exception_handler(CsrfRefused, csrf_refused)
