"""Committees are added and changed through the API (admins), read by everyone: their names, city and numbering.
A numbering pattern is checked when it is sent, so that no case or document is ever refused a number later; the
id never changes; every change is in the audit trail."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.main import create_app
from core.security import hash_password
from core.settings import Settings
from models import repo_users
from models.tables import DEFAULT_NUMBER_PATTERNS
from tests.factories import registration

SECRET = "committees-secret-of-at-least-thirty-two-characters"
PASSWORD = "committees password 2026"
ROLES = ("admin", "intake", "mediator", "director", "expert", "auditor")
DEFAULT_CASE_PATTERN = "〔{year}〕{short}医调字第{seq}号"


def new_id() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


def committee(**changes: Any) -> dict[str, Any]:
    return {"id": new_id(), "name": "上海市静安区医疗纠纷人民调解委员会", "short_name": "沪静", "city": "上海市",
            **changes}


@pytest.fixture
async def dev(database_url: str, engine: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API in dev mode (no credentials: every permission), without Temporal: committees need none."""
    app = create_app(Settings(database_url=database_url))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def locked(database_url: str, engine: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API as production runs it: logged-in users with tokens."""
    app = create_app(Settings(database_url=database_url, dev_mode=False, secret_key=SECRET))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def logged_in(locked: httpx.AsyncClient, sessions: Any) -> dict[str, dict[str, str]]:
    """A logged-in account of each role (of the committee huangpu; the expert of no committee)."""
    headers = {}
    tag = uuid.uuid4().hex[:6]
    with sessions() as session:
        for role in ROLES:
            scope = {} if role in ("admin", "expert") else {"committee_id": "huangpu"}
            repo_users.create_user(session=session, username=f"{role}-{tag}", full_name=f"{role}账号", role=role,
                                   password_hash=hash_password(PASSWORD), **scope)
        session.commit()
    for role in ROLES:
        response = await locked.post("/auth/token", data={"username": f"{role}-{tag}", "password": PASSWORD})
        assert response.status_code == 200, response.text
        headers[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return headers


def refused_field(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_payload"
    return response.json()["errors"][0]["field"]


# ---------------------------------------------------------------- adding ----------------------------------
class TestAddingACommittee:
    async def test_an_added_committee_is_read_back_with_its_numbering(self, dev):
        body = committee(number_patterns={"agreement": "〔{year}〕{short}医调协字第{seq:03d}号"})
        created = await dev.post("/committees", json=body)
        assert created.status_code == 201, created.text
        detail = created.json()
        assert {key: detail[key] for key in ("id", "name", "short_name", "city")} == {
            key: body[key] for key in ("id", "name", "short_name", "city")}
        assert detail["case_number_pattern"] == DEFAULT_CASE_PATTERN  # the default when none is given
        assert detail["number_patterns"] == body["number_patterns"]
        assert detail["number_patterns_in_force"] == {**DEFAULT_NUMBER_PATTERNS, **body["number_patterns"]}
        assert detail["policy"]["mediation_wd"] == 30  # the rule book's until set

        read = await dev.get(f"/committees/{body['id']}")
        assert read.status_code == 200 and read.json() == detail
        listed = {c["id"]: c for c in (await dev.get("/committees")).json()}
        assert listed[body["id"]]["short_name"] == "沪静"

    async def test_a_taken_id_is_409_and_the_committee_stays_as_it_was(self, dev):
        response = await dev.post("/committees", json=committee(id="huangpu", name="另一个委员会"))
        assert response.status_code == 409 and response.json()["code"] == "conflict"
        assert "huangpu" in response.json()["detail"]
        assert (await dev.get("/committees/huangpu")).json()["name"] == "上海市黄浦区医疗纠纷人民调解委员会"

    @pytest.mark.parametrize(("changes", "field"), [
        ({"id": "a b"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"name": ""}, "name"),
        ({"short_name": "沪" * 21}, "short_name"),
        ({"city": ""}, "city"),
        ({"policy": {"consent_wd": 3}}, "policy"),  # clock lengths: PUT /committees/{id}/policy
    ])
    async def test_a_bad_field_is_422_naming_it(self, dev, changes, field):
        assert refused_field(await dev.post("/committees", json=committee(**changes))) == field

    async def test_name_short_name_and_city_are_required(self, dev):
        for missing in ("name", "short_name", "city"):
            body = committee()
            del body[missing]
            assert refused_field(await dev.post("/committees", json=body)) == missing


class TestNumberPatterns:
    @pytest.mark.parametrize(("pattern", "why"), [
        ("〔{year}〕{short}医调字第号", "{seq} missing"),
        ("{short}医调字第{seq}号", "{year} missing"),
        ("〔{year}〕{short}医调字第{seq}号{", "brace"),
        ("〔{year}〕{month}第{seq}号", "{month} is not a field"),
        ("〔{}〕第{seq}号", "names no field"),
        ("〔{year.real}〕第{seq}号", "{year.real} is not a field"),
        ("〔{year}〕{short!r}第{seq}号", "no conversion"),
        ("〔{year}〕{short:>9}第{seq}号", "{short} takes no format"),
        ("〔{year}〕第{seq:0999999999d}号", "only a width"),
        ("〔{year}〕{short}" + "医" * 70 + "第{seq}号", "at most 100"),
    ])
    async def test_a_pattern_that_could_not_number_is_422_saying_why(self, dev, pattern, why):
        for body, field in ((committee(case_number_pattern=pattern), "case_number_pattern"),
                            (committee(number_patterns={"agreement": pattern}), "number_patterns.agreement")):
            response = await dev.post("/committees", json=body)
            assert refused_field(response) == field
            assert why in response.json()["errors"][0]["message"]
            assert (await dev.get(f"/committees/{body['id']}")).status_code == 404  # nothing added

    async def test_a_zero_padded_sequence_and_literal_braces_are_fine(self, dev):
        body = committee(case_number_pattern="{{{year}}}{short}-{seq:05d}")
        response = await dev.post("/committees", json=body)
        assert response.status_code == 201, response.text

    async def test_only_the_kinds_of_document_the_committee_numbers_take_a_pattern(self, dev):
        response = await dev.post("/committees", json=committee(number_patterns={"invoice": "{year}-{seq}"}))
        assert refused_field(response) == "number_patterns.invoice.[key]"

    async def test_cases_are_numbered_by_the_committees_pattern_and_short_name(self, api):
        body = committee(short_name="沪静", case_number_pattern="（{year}）{short}调{seq:03d}号")
        assert (await api.post("/committees", json=body)).status_code == 201
        first = await api.post("/cases", json=registration(committee_id=body["id"]))
        assert first.status_code == 201, first.text
        assert re.fullmatch(r"（\d{4}）沪静调001号", first.json()["number"]), first.json()["number"]

        changed = await api.patch(f"/committees/{body['id']}", json={"short_name": "静安",
                                                                      "case_number_pattern": "{year}{short}{seq}"})
        assert changed.status_code == 200, changed.text
        second = await api.post("/cases", json=registration(committee_id=body["id"]))
        assert re.fullmatch(r"\d{4}静安2", second.json()["number"]), second.json()["number"]  # the sequence goes on
        assert (await api.get(f"/cases/{first.json()['id']}")).json()["number"] == first.json()["number"]


# ---------------------------------------------------------------- changing --------------------------------
class TestChangingACommittee:
    async def test_only_the_fields_given_change(self, dev):
        body = committee(number_patterns={"agreement": "{year}协{seq}"})
        await dev.post("/committees", json=body)
        await dev.put(f"/committees/{body['id']}/policy", json={"consent_wd": 7})
        response = await dev.patch(f"/committees/{body['id']}", json={"name": "上海市静安区医调委", "city": "上海"})
        assert response.status_code == 200, response.text
        changed = response.json()
        assert (changed["name"], changed["city"]) == ("上海市静安区医调委", "上海")
        assert (changed["short_name"], changed["case_number_pattern"]) == ("沪静", DEFAULT_CASE_PATTERN)
        assert changed["number_patterns"] == {"agreement": "{year}协{seq}"}
        assert changed["policy"]["consent_wd"] == 7  # the policy is the policy route's
        assert (await dev.get(f"/committees/{body['id']}")).json() == changed

    async def test_number_patterns_are_merged_and_null_returns_a_kind_to_the_default(self, dev):
        body = committee(number_patterns={"agreement": "{year}协{seq}", "session_minutes": "{year}笔{seq}"})
        await dev.post("/committees", json=body)
        response = await dev.patch(f"/committees/{body['id']}", json={"number_patterns": {
            "agreement": None, "failure_notice": "{year}不成{seq}"}})
        assert response.status_code == 200, response.text
        patterns = response.json()["number_patterns"]
        assert patterns == {"session_minutes": "{year}笔{seq}", "failure_notice": "{year}不成{seq}"}
        assert response.json()["number_patterns_in_force"]["agreement"] == DEFAULT_NUMBER_PATTERNS["agreement"]

    async def test_the_id_never_changes(self, dev):
        body = committee()
        await dev.post("/committees", json=body)
        assert refused_field(await dev.patch(f"/committees/{body['id']}", json={"id": new_id()})) == "id"
        assert (await dev.get(f"/committees/{body['id']}")).status_code == 200

    async def test_a_required_field_cannot_be_cleared_and_a_bad_pattern_changes_nothing(self, dev):
        body = committee()
        await dev.post("/committees", json=body)
        for field in ("name", "short_name", "city", "case_number_pattern", "number_patterns"):
            response = await dev.patch(f"/committees/{body['id']}", json={field: None})
            assert response.status_code == 422 and "cannot be cleared" in response.json()["detail"], field
        response = await dev.patch(f"/committees/{body['id']}", json={"name": "新名称",
                                                                       "case_number_pattern": "{short}{seq}"})
        assert refused_field(response) == "case_number_pattern"
        assert (await dev.get(f"/committees/{body['id']}")).json()["name"] == body["name"]

    async def test_an_unknown_committee_is_404(self, dev):
        for response in (await dev.get("/committees/atlantis"),
                         await dev.patch("/committees/atlantis", json={"name": "亚特兰蒂斯"})):
            assert response.status_code == 404 and response.json()["code"] == "not_found"


# ---------------------------------------------------------------- who may, and the trail -------------------
class TestWhoMay:
    async def test_admins_add_and_change_committees_and_everyone_reads_them(self, locked, logged_in):
        body = committee()
        for role in ROLES:
            if role == "admin":
                continue
            assert (await locked.post("/committees", json=body, headers=logged_in[role])).status_code == 403, role
            assert (await locked.patch("/committees/huangpu", json={"name": "x"},
                                       headers=logged_in[role])).status_code == 403, role
        assert (await locked.post("/committees", json=body, headers=logged_in["admin"])).status_code == 201
        assert (await locked.patch(f"/committees/{body['id']}", json={"city": "上海"},
                                   headers=logged_in["admin"])).status_code == 200
        for role in ROLES:
            read = await locked.get(f"/committees/{body['id']}", headers=logged_in[role])
            assert read.status_code == 200 and read.json()["city"] == "上海", role
        assert (await locked.get("/committees/huangpu")).status_code == 401  # no credentials, no committees


class TestAuditTrail:
    async def test_adding_and_changing_are_recorded_with_refused_attempts(self, locked, logged_in):
        body = committee()
        await locked.post("/committees", json=body, headers=logged_in["director"])  # refused: 403
        await locked.post("/committees", json=body, headers=logged_in["admin"])
        await locked.patch(f"/committees/{body['id']}", json={"name": "改名"}, headers=logged_in["admin"])
        trail = await locked.get("/audit", params={"committee_id": body["id"]}, headers=logged_in["admin"])
        assert trail.status_code == 200, trail.text
        entries = sorted(trail.json()["items"], key=lambda entry: entry["id"])
        assert [(e["action"], e["status_code"], e["actor_role"]) for e in entries] == [
            ("POST /committees", 201, "admin"), ("PATCH /committees/{committee_id}", 200, "admin")]
        assert entries[0]["target_id"] == entries[1]["target_id"] == body["id"]
        refused = await locked.get("/audit", params={"action": "POST /committees"}, headers=logged_in["admin"])
        assert any(e["status_code"] == 403 and e["actor_role"] == "director" for e in refused.json()["items"])


def test_the_operations_are_documented_with_their_errors():
    paths = create_app().openapi()["paths"]
    assert {"201", "403", "409", "422"} <= set(paths["/committees"]["post"]["responses"])
    assert {"200", "403", "404", "422"} <= set(paths["/committees/{committee_id}"]["patch"]["responses"])
    assert "200" in paths["/committees/{committee_id}"]["get"]["responses"]
