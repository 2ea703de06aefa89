"""Every endpoint × every role (DOMAIN.md "Who uses the product"; Reg 42: cases are private).

The expected roles are written out here, endpoint by endpoint, from the rule book — not read from the
product's permission table. An allowed role is served (2xx, the request done for real: a case brought to the
state where the event is legal, a real document, panel, draw and invitation); any other role is 403 and
changes nothing. The API runs as production runs it: logged-in users with tokens, no dev-mode headers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from api.access import operation_of
from api.main import ROUTERS, create_app
from core.security import hash_password
from core.settings import Settings
from domain.time import SHANGHAI
from models import repo_users
from tests.api.test_expert_consultation_api import QUESTION, eventually
from tests.factories import (
    APPRAISAL,
    EXTENSION,
    FOLLOWUP,
    OPINION,
    SIGNATURES,
    WITHDRAWAL,
    agreement,
    as_of_now,
    linked_to,
    payment,
    registration,
)
from tests.pools import City, add_expert, make_city

SECRET = "role-matrix-secret-of-at-least-thirty-two-characters"
PASSWORD = "matrix password 2026"
ROLES = ("admin", "intake", "mediator", "director", "expert", "auditor")

EVERYONE = set(ROLES)
STAFF = {"intake", "mediator", "director"}
CASE_READERS = STAFF | {"auditor"}
ADMIN = {"admin"}
INTAKE = {"intake", "director"}  # DOMAIN.md "staff": record applications, chase consent
MEDIATOR = {"mediator"}
DIRECTOR = {"director"}
EXPERT = {"expert"}
POOL_READERS = {"admin", "director", "auditor"}
STATISTICS = {"director", "auditor", "admin"}  # in reach: a committee, or a city

JOINT = {"application_type": "joint", "applicant_side": None}
ONE_SIDE = {}
PUBLIC = {("POST", "/auth/token"), ("POST", "/auth/refresh")}  # and GET /health, outside the routers


@dataclass
class World:
    """One committee of a city of its own: an account per role, a small pool, and a case with everything."""

    api: httpx.AsyncClient
    sessions: Any
    city: City
    tag: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # the shared things GETs read
    invitations: list[str] = field(default_factory=list)  # the expert's, for the portal's POSTs
    registered: dict[str, dict[str, Any]] = field(default_factory=dict)  # each case's registration, by case id

    def as_(self, role: str) -> dict[str, str]:
        return self.headers[role]

    async def act(self, case_id: str, event: str, body: dict[str, Any], role: str) -> dict[str, Any]:
        response = await self.api.post(f"/cases/{case_id}/{event.replace('_', '-')}", json=body,
                                        headers=self.as_(role))
        assert response.status_code == 200, (event, role, response.text)
        return response.json()

    async def case(self, changes: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]) -> str:
        """A new case of the committee, brought through `steps` by the role each event belongs to."""
        body = linked_to(self.city.respondent, committee_id=self.city.committee_id, **changes)
        response = await self.api.post("/cases", json=body, headers=self.as_("intake"))
        assert response.status_code == 201, response.text
        case_id = response.json()["id"]
        self.registered[case_id] = body
        for event, body in steps:
            if event == "accept" and not body:
                body = accept_with(self)
            await self.act(case_id, event, as_of_now(event, body), BY[event])
        return case_id

    async def panel(self, specialty: str) -> dict[str, Any]:
        case_id = await self.case(JOINT, IN_MEDIATION)
        made = await self.act(case_id, "request_consultation", {"specialties": [specialty], "question": QUESTION},
                              "mediator")
        panel_id = made["panel_id"]

        async def drawn() -> bool:
            panel = (await self.api.get(f"/panels/{panel_id}", headers=self.as_("director"))).json()
            return all(s["status"] != "drawing" for s in panel["slots"])

        await eventually(drawn, "the draw")
        return (await self.api.get(f"/panels/{panel_id}", headers=self.as_("director"))).json()


def accept_with(world: World) -> dict[str, Any]:
    return {"mediator_ids": [world.usernames["mediator"]]}


CONSENT = ("request_consent", {"method": "letter"})
REVIEW = ("submit_for_review", {})
ACCEPT = ("accept", {})  # filled in with the mediator's account by World.case
APPRAISAL_STEP = ("start_appraisal", APPRAISAL)
DRAFT = ("draft_agreement", agreement())
SIGNED = [("sign", s) for s in SIGNATURES]
PAID = ("record_payment", payment())
PERFORMED = [PAID, ("confirm_performance", {})]
REJECTED = ("reject", {"reasons": [2]})
IN_MEDIATION = [REVIEW, ACCEPT]
BY = {
    "request_consent": "intake", "submit_for_review": "intake", "accept": "director", "reject": "director",
    "start_appraisal": "mediator", "draft_agreement": "mediator", "confirm_performance": "mediator",
    "record_payment": "mediator",
    "schedule_session": "mediator", "archive": "intake", "terminate": "director",
    # each signature by whoever records it: the seal by the director (Reg 39)
    "sign": "director",
}
SESSION = {"scheduled_at": "2026-11-25T09:30:00+08:00", "place": "第一调解室", "mediators": ["陈调解员"]}


def minutes(session_id: str) -> dict[str, Any]:
    return {"session_id": session_id, "held_at": "2026-11-20T09:30:00", "recorder": "刘记录员",
            "attendees": ["王大明"], "statements": [{"speaker": "王大明（患方）", "text": "要求赔偿十二万元。"}]}


def judicial_confirmation() -> dict[str, Any]:
    return {"applied": True, "applied_on": datetime.now(SHANGHAI).date().isoformat(), "court": "上海市黄浦区人民法院",
            "result": "pending"}


# How to make a served request of each event: the state it needs (registration changes and steps) and a body.
EVENTS: dict[str, tuple[set[str], dict[str, Any], list[tuple[str, dict[str, Any]]], Any]] = {
    # event: (allowed roles, registration changes, steps, body — or a function of the case that makes one)
    "request_consent": (INTAKE, ONE_SIDE, [], {"method": "letter"}),
    "record_consent": (INTAKE, ONE_SIDE, [CONSENT], {"consented_by": "李院长", "method": "written"}),
    "record_refusal": (INTAKE, ONE_SIDE, [CONSENT], {"refused_by": "李院长", "method": "written"}),
    "submit_for_review": (INTAKE, JOINT, [], {}),
    "accept": (DIRECTOR, JOINT, [REVIEW], "accept"),
    "reject": (DIRECTOR, JOINT, [REVIEW], {"reasons": [6, 8], "reason_text": "患方已向法院起诉"}),
    "schedule_session": (MEDIATOR, JOINT, IN_MEDIATION, SESSION),
    "record_minutes": (MEDIATOR, JOINT, IN_MEDIATION, "minutes"),
    "reschedule_session": (MEDIATOR, JOINT, IN_MEDIATION, "reschedule"),
    "cancel_session": (MEDIATOR, JOINT, IN_MEDIATION, "cancel"),
    "reassign_mediators": (DIRECTOR, JOINT, IN_MEDIATION, "reassign"),
    "start_appraisal": (MEDIATOR, JOINT, IN_MEDIATION, APPRAISAL),
    "finish_appraisal": (MEDIATOR, JOINT, [*IN_MEDIATION, APPRAISAL_STEP], OPINION),
    "abandon_appraisal": (MEDIATOR, JOINT, [*IN_MEDIATION, APPRAISAL_STEP], {"reason": "fee_not_advanced"}),
    "extend_deadline": (DIRECTOR, JOINT, IN_MEDIATION, EXTENSION),
    "request_consultation": (MEDIATOR, JOINT, IN_MEDIATION, {"specialties": ["law"], "question": QUESTION}),
    "draft_agreement": (MEDIATOR, JOINT, IN_MEDIATION, agreement()),
    "revise_agreement": (MEDIATOR, JOINT, [*IN_MEDIATION, DRAFT], {"reason": "医方对数额有异议",
                                                                   "refused_by": "institution"}),
    "sign": (STAFF, JOINT, [*IN_MEDIATION, DRAFT], "sign"),
    "record_payment": (MEDIATOR, JOINT, [*IN_MEDIATION, DRAFT, *SIGNED], payment(amount="1000.00")),
    "confirm_performance": (MEDIATOR, JOINT, [*IN_MEDIATION, DRAFT, *SIGNED, PAID], {}),
    "record_nonperformance": (MEDIATOR, JOINT, [*IN_MEDIATION, DRAFT, *SIGNED], {"reason": "医方逾期未付款"}),
    "record_judicial_confirmation": (MEDIATOR, JOINT, [*IN_MEDIATION, DRAFT, *SIGNED], "judicial"),
    "record_followup": (MEDIATOR, JOINT, [*IN_MEDIATION, DRAFT, *SIGNED, *PERFORMED], FOLLOWUP),
    "declare_failed": (MEDIATOR, JOINT, IN_MEDIATION, {"reason": "双方对赔偿数额分歧过大"}),
    "terminate": (STAFF, JOINT, IN_MEDIATION, WITHDRAWAL),
    "amend_parties": (STAFF, JOINT, IN_MEDIATION, {"patient_representatives": [
        {"name": "王大明", "relation": "患者之父"}], "reason": "补充登记近亲属"}),
    "archive": (INTAKE, JOINT, [REVIEW, REJECTED], {}),
}
SIGNER_BY_ROLE = {"intake": SIGNATURES[0], "mediator": SIGNATURES[1], "director": SIGNATURES[3]}

Request = tuple[str, str, dict[str, Any]]  # method, url, httpx keyword arguments
Maker = Callable[[World, str], Awaitable[Request]]


def fixed(method: str, url: str, **kwargs: Any) -> Maker:
    async def make(world: World, role: str) -> Request:
        return method, url.format(**world.ids), kwargs

    return make


async def new_api_key(world: World, role: str) -> Request:
    return "POST", "/auth/api-keys", {"json": {"username": world.usernames["intake"], "name": f"export {role}"}}


async def revoke_api_key(world: World, role: str) -> Request:
    created = await world.api.post("/auth/api-keys", json={"username": world.usernames["intake"], "name": "k"},
                                   headers=world.as_("admin"))
    return "DELETE", f"/auth/api-keys/{created.json()['id']}", {}


async def register(world: World, role: str) -> Request:
    return "POST", "/cases", {"json": registration(committee_id=world.city.committee_id)}


async def complete_entry(world: World, role: str) -> Request:
    """A case entered from paper records (registered at a past time), whose entry is then completed."""
    created = await world.api.post("/cases", json=registration(committee_id=world.city.committee_id),
                                   headers={**world.as_("intake"), "X-Occurred-At": "2025-05-06T09:00:00+08:00"})
    assert created.status_code == 201, created.text
    return "POST", f"/cases/{created.json()['id']}/complete-entry", {}


async def link_respondent(world: World, role: str) -> Request:
    case_id = await world.case(JOINT, IN_MEDIATION)  # a mediator reaches the cases assigned at acceptance
    return "PUT", f"/cases/{case_id}/respondent-institution", {"json": {"institution_id": world.city.branch}}


async def new_expert(world: World, role: str) -> Request:
    return "POST", "/pool/experts", {"json": {
        "id": f"{world.tag}-{uuid.uuid4().hex[:6]}", "name": "钱专家", "title": "主任医师", "city": world.city.name,
        "specialties": ["dermatology"]}}  # not law: the unfilled law seat stays unfilled for both redraws


async def new_user(world: World, role: str) -> Request:
    return "POST", "/users", {"json": {
        "username": f"{world.tag}-{role}-{uuid.uuid4().hex[:6]}", "full_name": "新用户", "role": "auditor",
        "password": "a long password 3", "committee_id": world.city.committee_id}}


async def user_contact(world: World, role: str) -> Request:
    with world.sessions() as session:
        user = repo_users.find_user(session=session, username=world.usernames["mediator"])
    world.ids["user_id"] = user.id
    return "PATCH", f"/users/{user.id}/contact", {"json": {"email": "med@example.cn", "notify_by": ["email"]}}


async def new_committee(world: World, role: str) -> Request:
    return "POST", "/committees", {"json": {"id": f"c{uuid.uuid4().hex[:10]}", "name": "某市新区医疗纠纷人民调解委员会",
                                            "short_name": "新区", "city": world.city.name}}


async def new_group(world: World, role: str) -> Request:
    return "POST", "/pool/groups", {"json": {"id": f"g{uuid.uuid4().hex[:8]}", "name": f"{world.city.name}新集团",
                                             "city": world.city.name}}


async def new_institution(world: World, role: str) -> Request:
    return "POST", "/pool/institutions", {"json": {"id": f"i{uuid.uuid4().hex[:8]}", "name": "某新医院",
                                                   "city": world.city.name}}


async def pool_csv(world: World, role: str) -> Request:
    export = await world.api.get("/pool/experts/export", params={"city": world.city.name},
                                 headers=world.as_("admin"))
    return "POST", "/pool/experts/import", {"content": export.content, "headers": {"content-type": "text/csv"}}


async def objection(world: World, role: str) -> Request:
    return "POST", f"/panels/{world.ids['panel_id']}/objections", {"json": {
        "invitation_id": world.ids["invitation_id"], "raised_by": "patient", "form": "oral", "reason": "师生关系"}}


async def decision(world: World, role: str) -> Request:
    recorded = await world.api.post(f"/panels/{world.ids['panel_id']}/objections", headers=world.as_("intake"),
                                    json={"invitation_id": world.ids["invitation_id"], "raised_by": "institution",
                                          "form": "written", "reason": "同事关系"})
    assert recorded.status_code == 201, recorded.text
    return "POST", f"/panels/{world.ids['panel_id']}/objections/{recorded.json()['id']}/decision", {
        "json": {"decision": "rejected", "reason": "无影响公正的关系"}}


def pdf_upload() -> dict[str, Any]:
    """A medical record (a PDF by its bytes) as the multipart form POST /cases/{id}/attachments takes."""
    return {"files": {"file": ("住院病历.pdf", b"%PDF-1.7\n" + os.urandom(4000), "application/pdf")},
            "data": {"kind": "medical_record", "party": "patient", "received_on": "2026-11-20"}}


async def new_attachment(world: World, role: str) -> Request:
    return "POST", f"/cases/{world.ids['case_id']}/attachments", pdf_upload()


async def attach(world: World, case_id: str) -> str:
    made = await world.api.post(f"/cases/{case_id}/attachments", headers=world.as_("intake"), **pdf_upload())
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def withdraw_attachment(world: World, role: str) -> Request:
    return "POST", f"/attachments/{await attach(world, world.ids['case_id'])}/withdraw", {"json": {"reason": "错交"}}


def portal(action: str, body: dict[str, Any]) -> Maker:
    """The expert's answers: each on an invitation of their own, in the state the answer needs."""

    async def make(world: World, role: str) -> Request:
        invitation = world.ids["accepted_invitation"] if action == "opinion" else world.invitations.pop()
        return "POST", f"/me/invitations/{invitation}/{action}", {"json": body}

    return make


def event(name: str) -> Maker:
    roles, changes, steps, body = EVENTS[name]

    async def make(world: World, role: str) -> Request:
        case_id = await world.case(changes, steps)
        world.ids["last_case"] = case_id
        if body == "accept":
            payload = accept_with(world)
        elif body == "minutes":
            scheduled = await world.act(case_id, "schedule_session", SESSION, "mediator")
            payload = minutes(scheduled["session_id"])
        elif body in ("reschedule", "cancel"):
            scheduled = await world.act(case_id, "schedule_session", SESSION, "mediator")
            payload = {"session_id": scheduled["session_id"], "reason": "患方申请改期"}
            if body == "reschedule":
                payload["scheduled_at"] = "2026-11-26T14:00:00+08:00"
        elif body == "reassign":
            payload = {**accept_with(world), "reason": "调解员工作调整"}
        elif body == "sign":
            payload = SIGNER_BY_ROLE.get(role, SIGNATURES[0])
        elif body == "judicial":
            payload = judicial_confirmation()
        else:
            payload = as_of_now(name, body)
        return "POST", f"/cases/{case_id}/{name.replace('_', '-')}", {"json": payload}

    return make


# (method, path) → (allowed roles, how to make a served request)
MATRIX: dict[tuple[str, str], tuple[set[str], Maker]] = {
    ("GET", "/auth/me"): (EVERYONE, fixed("GET", "/auth/me")),
    ("POST", "/auth/api-keys"): (ADMIN, new_api_key),
    ("DELETE", "/auth/api-keys/{key_id}"): (ADMIN, revoke_api_key),
    ("POST", "/cases"): (INTAKE, register),
    ("POST", "/cases/{case_id}/complete-entry"): (INTAKE, complete_entry),
    ("GET", "/cases"): (CASE_READERS, fixed("GET", "/cases")),
    ("GET", "/cases/{case_id}"): (CASE_READERS, fixed("GET", "/cases/{case_id}")),
    ("GET", "/cases/{case_id}/history"): (CASE_READERS, fixed("GET", "/cases/{case_id}/history")),
    ("GET", "/cases/{case_id}/allowed-events"): (CASE_READERS, fixed("GET", "/cases/{case_id}/allowed-events")),
    ("GET", "/cases/{case_id}/sessions"): (CASE_READERS, fixed("GET", "/cases/{case_id}/sessions")),
    ("GET", "/sessions"): (CASE_READERS, fixed("GET", "/sessions")),
    ("GET", "/worklist"): (STAFF, fixed("GET", "/worklist")),
    ("GET", "/users"): ({"admin", "director"}, fixed("GET", "/users")),  # a director: their committee's
    ("POST", "/users"): (ADMIN, new_user),
    ("PATCH", "/users/{user_id}/contact"): (ADMIN, user_contact),
    ("POST", "/committees"): (ADMIN, new_committee),
    ("GET", "/statistics/export.csv"): (STATISTICS, fixed("GET", "/statistics/export.csv")),
    ("GET", "/statistics/export.xlsx"): (STATISTICS, fixed("GET", "/statistics/export.xlsx")),
    ("GET", "/statistics/report.pdf"): (STATISTICS, fixed("GET", "/statistics/report.pdf")),
    ("GET", "/committees/{committee_id}"): (EVERYONE, fixed("GET", "/committees/{committee_id}")),
    ("PATCH", "/committees/{committee_id}"): (ADMIN, fixed("PATCH", "/committees/{committee_id}",
                                                          json={"number_patterns": {}})),  # changes nothing
    **{("POST", f"/cases/{{case_id}}/{name.replace('_', '-')}"): (roles, event(name))
       for name, (roles, *_rest) in EVENTS.items()},
    ("PUT", "/cases/{case_id}/respondent-institution"): (STAFF, link_respondent),
    ("GET", "/cases/{case_id}/documents"): (CASE_READERS, fixed("GET", "/cases/{case_id}/documents")),
    # Reg 42: the parties' files; an expert reads a medical record of the case whose panel seat they accepted
    ("POST", "/cases/{case_id}/attachments"): (STAFF, new_attachment),
    ("GET", "/cases/{case_id}/attachments"): (CASE_READERS, fixed("GET", "/cases/{case_id}/attachments")),
    ("GET", "/attachments/{attachment_id}"): (CASE_READERS | EXPERT, fixed("GET", "/attachments/{attachment_id}")),
    ("GET", "/attachments/{attachment_id}/content"): (CASE_READERS | EXPERT,
                                                      fixed("GET", "/attachments/{attachment_id}/content")),
    ("POST", "/attachments/{attachment_id}/withdraw"): (STAFF, withdraw_attachment),
    ("GET", "/me/invitations/{invitation_id}/attachments"): (EXPERT, fixed(
        "GET", "/me/invitations/{accepted_invitation}/attachments")),
    ("GET", "/cases/{case_id}/case-file"): (CASE_READERS, fixed("GET", "/cases/{archived_case}/case-file")),
    ("GET", "/cases/{case_id}/case-file/manifest"): (CASE_READERS,
                                                     fixed("GET", "/cases/{archived_case}/case-file/manifest")),
    ("GET", "/documents/{document_id}"): (CASE_READERS, fixed("GET", "/documents/{document_id}")),
    ("GET", "/documents/{document_id}/verify"): (CASE_READERS, fixed("GET", "/documents/{document_id}/verify")),
    ("GET", "/documents/{document_id}/pdf"): (CASE_READERS, fixed("GET", "/documents/{document_id}/pdf")),
    ("GET", "/notifications"): (STAFF | ADMIN, fixed("GET", "/notifications")),  # admins: escalations only
    ("GET", "/cases/{case_id}/notifications"): (STAFF, fixed("GET", "/cases/{case_id}/notifications")),
    ("GET", "/me/contact"): (EVERYONE, fixed("GET", "/me/contact")),  # one's own, whatever the role
    ("PUT", "/me/contact"): (EVERYONE, fixed("PUT", "/me/contact", json={"mobile": "13812345678"})),
    ("GET", "/calendar/days/{day}"): (EVERYONE, fixed("GET", "/calendar/days/2026-10-01")),
    ("GET", "/calendar/working-days-later"): (EVERYONE, fixed("GET", "/calendar/working-days-later",
                                                              params={"start": "2026-11-02", "working_days": 3})),
    ("GET", "/calendar/years"): (EVERYONE, fixed("GET", "/calendar/years")),
    ("GET", "/calendar/years/{year}"): (EVERYONE, fixed("GET", "/calendar/years/2026")),
    ("PUT", "/calendar/years/{year}"): (ADMIN, fixed("PUT", "/calendar/years/2031", json={
        "holidays": ["2031-01-01"], "workdays": []})),
    ("PUT", "/calendar/years/{year}/csv"): (ADMIN, fixed("PUT", "/calendar/years/2032/csv", content=(
        "date,kind,name\n2032-01-01,holiday,元旦\n").encode(), headers={"content-type": "text/csv"})),
    ("GET", "/calendar/provisional"): (ADMIN, fixed("GET", "/calendar/provisional")),
    ("GET", "/committees"): (EVERYONE, fixed("GET", "/committees")),
    ("PUT", "/committees/{committee_id}/policy"): (ADMIN, fixed("PUT", "/committees/{committee_id}/policy",
                                                                json={"consent_wd": 5})),
    ("GET", "/pool/specialties"): (EVERYONE, fixed("GET", "/pool/specialties")),
    ("POST", "/pool/experts"): (ADMIN, new_expert),
    ("GET", "/pool/experts"): (POOL_READERS, fixed("GET", "/pool/experts")),
    ("POST", "/pool/experts/import"): (ADMIN, pool_csv),
    ("GET", "/pool/experts/export"): (ADMIN, fixed("GET", "/pool/experts/export")),
    ("GET", "/pool/experts/{expert_id:expert_id}"): (POOL_READERS, fixed("GET", "/pool/experts/{expert_id}")),
    ("PATCH", "/pool/experts/{expert_id:expert_id}"): (ADMIN, fixed("PATCH", "/pool/experts/{spare_expert}",
                                                                    json={"title": "副主任医师"})),
    ("POST", "/pool/experts/{expert_id:expert_id}/deactivate"): (
        ADMIN, fixed("POST", "/pool/experts/{spare_expert}/deactivate")),
    ("POST", "/pool/experts/{expert_id:expert_id}/activate"): (
        ADMIN, fixed("POST", "/pool/experts/{spare_expert}/activate")),
    ("GET", "/pool/groups"): (STAFF | {"admin", "auditor"}, fixed("GET", "/pool/groups")),
    ("POST", "/pool/groups"): (ADMIN, new_group),
    ("GET", "/pool/institutions"): (STAFF | {"admin", "auditor"}, fixed("GET", "/pool/institutions")),
    ("POST", "/pool/institutions"): (ADMIN, new_institution),
    ("GET", "/pool/institutions/{institution_id}"): (STAFF | {"admin", "auditor"},
                                                     fixed("GET", "/pool/institutions/{institution_id}")),
    ("GET", "/cases/{case_id}/panels"): (CASE_READERS, fixed("GET", "/cases/{panel_case}/panels")),
    ("GET", "/panels/{panel_id}"): (CASE_READERS, fixed("GET", "/panels/{panel_id}")),
    ("POST", "/panels/{panel_id}/slots/{slot}/redraw"): ({"mediator", "director"},
                                                         fixed("POST", "/panels/{unfilled_panel}/slots/0/redraw", json={})),
    ("POST", "/panels/{panel_id}/meeting"): ({"mediator", "director"}, fixed(
        "POST", "/panels/{accepted_panel}/meeting", json={"at": "2026-12-03T14:00:00+08:00", "place": "第二会议室"})),
    ("GET", "/panels/{panel_id}/objections"): (CASE_READERS, fixed("GET", "/panels/{panel_id}/objections")),
    ("POST", "/panels/{panel_id}/objections"): (STAFF, objection),
    ("POST", "/panels/{panel_id}/objections/{objection_id}/decision"): (DIRECTOR, decision),
    ("GET", "/draws/{draw_id}"): (CASE_READERS, fixed("GET", "/draws/{draw_id}")),
    ("GET", "/draws/{draw_id}/verify"): (CASE_READERS, fixed("GET", "/draws/{draw_id}/verify")),
    ("GET", "/pool/figures/experts"): (POOL_READERS, fixed("GET", "/pool/figures/experts")),
    ("GET", "/pool/figures/specialties"): (POOL_READERS, fixed("GET", "/pool/figures/specialties")),
    ("GET", "/me/invitations"): (EXPERT, fixed("GET", "/me/invitations")),
    ("GET", "/me/invitations/{invitation_id}"): (EXPERT, fixed("GET", "/me/invitations/{invitation_id}")),
    ("POST", "/me/invitations/{invitation_id}/accept"): (EXPERT, portal("accept", {})),
    ("POST", "/me/invitations/{invitation_id}/decline"): (EXPERT, portal("decline", {"reason": "出差"})),
    ("POST", "/me/invitations/{invitation_id}/conflict"): (EXPERT, portal("conflict", {"reason": "配偶在该院"})),
    ("POST", "/me/invitations/{invitation_id}/opinion"): (EXPERT, portal("opinion", {
        "fault": "存在延误", "causation": "有因果关系", "liability_percent": 60})),
    ("GET", "/statistics"): ({"director", "auditor", "admin"}, fixed("GET", "/statistics")),  # in reach
    ("GET", "/audit"): ({"auditor", "admin"}, fixed("GET", "/audit")),
    ("GET", "/audit/verify"): ({"auditor", "admin"}, fixed("GET", "/audit/verify")),
}


def api_routes() -> dict[tuple[str, str], Any]:
    return {(method, route.path): route for router in ROUTERS for route in router.routes
            for method in route.methods - {"HEAD"}}


def operations_of(route: Any) -> list[str]:
    stack, ops = list(route.dependant.dependencies), []
    while stack:
        dependant = stack.pop()
        if dependant.call is not None and (op := operation_of(dependant.call)):
            ops.append(op)
        stack.extend(dependant.dependencies)
    return ops


@pytest.fixture
async def production_api(temporal_env, database_url, worker, seal_paths, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, task_queue=worker, dev_mode=False, secret_key=SECRET,
                        seal_key_path=seal_paths[0], seal_cert_path=seal_paths[1],
                        data_dir=tmp_path)  # the attachments' files (the filesystem store) in the test's folder
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            yield client


def add_account(sessions: Any, username: str, role: str, **scope: Any) -> None:
    with sessions() as session:
        repo_users.create_user(session=session, username=username, full_name=f"{role}账号", role=role,
                               password_hash=hash_password(PASSWORD), **scope)
        session.commit()


async def log_in(api: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await api.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def build_world(api: httpx.AsyncClient, sessions: Any, *, portal: bool = True) -> World:
    city = make_city(sessions)
    world = World(api=api, sessions=sessions, city=city, tag=city.committee_id)
    expert = add_expert(sessions, city, "ob", ["obstetrics"], max_concurrent=50)
    spare = add_expert(sessions, city, "spare", ["dermatology"])
    for role in ROLES:
        username = f"{role}-{world.tag}"
        scope = {"expert_id": expert.id} if role == "expert" else (
            {"city": city.name} if role == "admin" else {"committee_id": city.committee_id})
        add_account(sessions, username, role, **scope)
        world.usernames[role] = username
        world.headers[role] = await log_in(api, username)

    # What the GETs read: a case in mediation with a session and a notice, a panel with a draw and an invitation.
    case_id = await world.case(JOINT, IN_MEDIATION)
    await world.act(case_id, "schedule_session", SESSION, "mediator")
    documents = (await api.get(f"/cases/{case_id}/documents", headers=world.as_("director"))).json()
    panel = await world.panel("obstetrics")
    world.ids.update(case_id=case_id, document_id=documents[0]["id"], panel_id=panel["id"],
                     panel_case=panel["case_id"], draw_id=panel["draw_ids"][0],
                     invitation_id=panel["slots"][0]["invitation_id"], expert_id=expert.id, spare_expert=spare.id,
                     institution_id=city.respondent, committee_id=city.committee_id,
                     unfilled_panel=(await world.panel("law"))["id"],
                     archived_case=await world.case(JOINT, [*IN_MEDIATION, ("terminate", WITHDRAWAL),
                                                            ("archive", {})]))
    world.ids["attachment_id"] = await attach(world, case_id)
    if not portal:
        return world
    # The expert's answers each need an invitation of their own; the opinion and the meeting an accepted one.
    accepted = await world.panel("obstetrics")
    world.ids["accepted_invitation"] = accepted["slots"][0]["invitation_id"]
    response = await api.post(f"/me/invitations/{world.ids['accepted_invitation']}/accept", json={},
                              headers=world.as_("expert"))
    assert response.status_code == 200, response.text
    world.ids["accepted_panel"] = accepted["id"]
    world.ids["attachment_id"] = await attach(world, accepted["case_id"])  # what the accepted expert may read
    for _ in range(3):  # accept, decline, conflict
        world.invitations.append((await world.panel("obstetrics"))["slots"][0]["invitation_id"])
    return world


def test_every_endpoint_is_in_the_matrix_and_names_its_operation():
    routes = api_routes()
    assert set(routes) - PUBLIC == set(MATRIX), "an endpoint was added or removed: put it in the matrix"
    unnamed = [key for key, route in routes.items() if key not in PUBLIC and not operations_of(route)]
    assert unnamed == []


async def test_each_role_is_served_where_allowed_and_refused_everywhere_else(production_api, sessions):
    world = await build_world(production_api, sessions)
    served, refused = [], []
    for (method, path), (allowed, make) in MATRIX.items():
        for role in ROLES:
            if role not in allowed:
                continue
            verb, url, kwargs = await make(world, role)
            headers = {**kwargs.pop("headers", {}), **world.as_(role)}
            response = await production_api.request(verb, url, headers=headers, **kwargs)
            served.append((method, path, role, response.status_code, response.text[:300]))
    wrong = [s for s in served if not 200 <= s[3] < 300]
    assert wrong == [], "allowed roles not served"

    # Refused: the same requests (on the shared case, panel and invitation) from every other role are 403,
    # whatever their body, and leave the case as it was.
    before = (await production_api.get(f"/cases/{world.ids['case_id']}/history",
                                       headers=world.as_("director"))).json()
    for (method, path), (allowed, _make) in MATRIX.items():
        path = path.replace("{user_id}", world.ids.get("user_id", "someone"))  # the account PATCHed above
        url = path.replace("{expert_id:expert_id}", "{expert_id}").replace("{slot}", "0").format(
            case_id=world.ids["case_id"], document_id=world.ids["document_id"], panel_id=world.ids["panel_id"],
            draw_id=world.ids["draw_id"], invitation_id=world.ids["invitation_id"], key_id="k1",
            day="2026-10-01", year="2026", committee_id=world.ids["committee_id"],
            expert_id=world.ids["expert_id"], institution_id=world.ids["institution_id"], objection_id="o1",
            attachment_id=world.ids["attachment_id"])
        for role in ROLES:
            if role in allowed:
                continue
            body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = await production_api.request(method, url, headers=world.as_(role), **body)
            refused.append((method, path, role, response.status_code, response.json().get("code")))
    wrong = [r for r in refused if r[3] != 403 or r[4] != "forbidden"]
    assert wrong == [], "refused roles not answered 403"
    after = (await production_api.get(f"/cases/{world.ids['case_id']}/history",
                                      headers=world.as_("director"))).json()
    assert after == before
    assert len(served) + len(refused) == len(MATRIX) * len(ROLES)


# ------------------------------------------------------------------ committees, assignments, privacy ------
CASE_SCOPED = [key for key in MATRIX if any(p in key[1] for p in ("{case_id}", "{document_id}", "{panel_id}",
                                                                   "{draw_id}", "{attachment_id}"))]


async def outsider(world: World, role: str, **scope: Any) -> dict[str, str]:
    username = f"{role}-out-{uuid.uuid4().hex[:6]}"
    add_account(world.sessions, username, role, **scope)
    return await log_in(world.api, username)


class TestCommitteesAndAssignments:
    """Staff and directors act on their committee's cases, a mediator on the cases assigned to them, auditors
    on their committee's or their city's; for anyone else the case does not exist (Reg 42)."""

    async def test_another_committees_case_and_all_of_its_parts_are_not_found(self, production_api, sessions):
        world = await build_world(production_api, sessions, portal=False)
        other = make_city(sessions)
        strangers = {
            "director of another committee": await outsider(world, "director", committee_id=other.committee_id),
            "intake of another committee": await outsider(world, "intake", committee_id=other.committee_id),
            "auditor of another committee": await outsider(world, "auditor", committee_id=other.committee_id),
            "auditor of another city": await outsider(world, "auditor", city=other.name),
            "mediator not assigned": await outsider(world, "mediator", committee_id=world.city.committee_id),
        }
        answers = []
        for method, path in CASE_SCOPED:
            url = path.replace("{slot}", "0").replace("{objection_id}", "o1").format(**world.ids)
            for who, headers in strangers.items():
                if who.split()[0] not in MATRIX[(method, path)][0]:
                    continue  # the role itself is refused: 403, tested above
                body = {"json": {}} if method == "POST" else {}
                response = await production_api.request(method, url, headers=headers, **body)
                answers.append((method, path, who, response.status_code))
        assert answers and all(status == 404 for *_, status in answers), [a for a in answers if a[3] != 404]
        # and a missing case reads the same as a hidden one
        hidden = await production_api.get(f"/cases/{world.ids['case_id']}", headers=strangers["director of another "
                                                                                              "committee"])
        missing = await production_api.get("/cases/no-such-case", headers=world.as_("director"))
        assert hidden.json()["detail"].replace(world.ids["case_id"], "X") == missing.json()["detail"].replace(
            "no-such-case", "X")

    async def test_lists_hold_only_the_cases_within_reach(self, production_api, sessions):
        world = await build_world(production_api, sessions, portal=False)
        unassigned = await outsider(world, "mediator", committee_id=world.city.committee_id)
        city_auditor = await outsider(world, "auditor", city=world.city.name)
        elsewhere = await outsider(world, "director", committee_id=make_city(sessions).committee_id)

        async def listed(headers: dict[str, str]) -> set[str]:
            response = await production_api.get("/cases", params={"limit": 200}, headers=headers)
            assert response.status_code == 200, response.text
            return {c["id"] for c in response.json()["items"]}

        committee_cases = await listed(world.as_("director"))
        assert world.ids["case_id"] in committee_cases
        assert {c["committee_id"] for c in (await production_api.get(
            "/cases", headers=world.as_("director"))).json()["items"]} == {world.city.committee_id}
        assert await listed(world.as_("intake")) == committee_cases
        assert await listed(world.as_("auditor")) == committee_cases
        assert await listed(city_auditor) == committee_cases  # the city has this one committee
        assert world.ids["case_id"] in await listed(world.as_("mediator"))  # assigned at acceptance
        assert await listed(unassigned) == set()
        assert await listed(elsewhere) == set()
        outbox = await production_api.get("/notifications", headers=elsewhere)
        assert outbox.status_code == 200 and outbox.json()["items"] == []
        named = await production_api.get("/notifications", params={"case_id": world.ids["case_id"]}, headers=elsewhere)
        assert named.status_code == 404  # naming another committee's case does not confirm it exists

    async def test_staff_register_for_their_own_committee_only(self, production_api, sessions):
        world = await build_world(production_api, sessions, portal=False)
        other = make_city(sessions)
        response = await production_api.post("/cases", json=registration(committee_id=other.committee_id),
                                              headers=world.as_("intake"))
        assert response.status_code == 403 and other.committee_id in response.json()["detail"]

    async def test_only_the_director_applies_the_committee_seal(self, production_api, sessions):  # Reg 39
        world = await build_world(production_api, sessions, portal=False)
        case_id = await world.case(JOINT, [*IN_MEDIATION, DRAFT])
        for role in ("intake", "mediator"):
            response = await production_api.post(f"/cases/{case_id}/sign", json=SIGNATURES[3],
                                                  headers=world.as_(role))
            assert response.status_code == 403, response.text
        sealed = await production_api.post(f"/cases/{case_id}/sign", json=SIGNATURES[3],
                                            headers=world.as_("director"))
        assert sealed.status_code == 200 and sealed.json()["status"] == "signing"

    async def test_accepting_assigns_mediators_of_the_committee_by_account(self, production_api, sessions):
        world = await build_world(production_api, sessions, portal=False)
        case_id = await world.case(JOINT, [REVIEW])
        stranger = f"mediator-{make_city(sessions).committee_id}"
        add_account(sessions, stranger, "mediator", committee_id="huangpu")
        refused = await production_api.post(f"/cases/{case_id}/accept", json={"mediator_ids": [stranger]},
                                            headers=world.as_("director"))
        assert refused.status_code == 422 and stranger in refused.json()["detail"]
        names_only = await production_api.post(f"/cases/{case_id}/accept", json={"mediators": ["陈调解员"]},
                                               headers=world.as_("director"))
        assert names_only.status_code == 422  # no mediator account would reach the case
        accepted = await world.act(case_id, "accept", accept_with(world), "director")
        case = (await production_api.get(f"/cases/{case_id}", headers=world.as_("mediator"))).json()
        assert accepted["status"] == "in_mediation" and case["mediators"] == ["mediator账号"]


class TestPersonalInformation:
    """DOMAIN.md "Privacy": identity and phone numbers are masked for every role that does not need them and
    shown in full only in case detail to the staff of the case's committee."""

    async def test_staff_see_the_numbers_and_auditors_see_them_masked(self, production_api, sessions):
        world = await build_world(production_api, sessions, portal=False)
        case_id = world.ids["case_id"]
        registered = world.registered[case_id]["patient"]["id_number"]
        for role in ("intake", "mediator", "director"):
            patient = (await production_api.get(f"/cases/{case_id}", headers=world.as_(role))).json()[
                "registration"]["patient"]
            assert (patient["id_number"], patient["phone"]) == (registered, "13800138000")
        audited = await production_api.get(f"/cases/{case_id}", headers=world.as_("auditor"))
        patient = audited.json()["registration"]["patient"]
        assert (patient["id_number"], patient["phone"]) == ("310101********1234", "138****8000")
        assert registered not in audited.text and "13800138000" not in audited.text
        history = await production_api.get(f"/cases/{case_id}/history", headers=world.as_("auditor"))
        assert history.status_code == 200 and registered not in history.text
        assert "13800138000" not in history.text

    async def test_lists_carry_no_identity_or_phone_numbers(self, production_api, sessions):
        world = await build_world(production_api, sessions, portal=False)
        listed = await production_api.get("/cases", headers=world.as_("director"))
        assert listed.status_code == 200 and listed.json()["items"]
        numbers = [r["patient"]["id_number"] for r in world.registered.values()]
        assert numbers and not any(n in listed.text for n in numbers) and "13800138000" not in listed.text
