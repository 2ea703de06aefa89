"""The API's bounds and its answer under contention: every list's cursor, limit and deprecated offset are bounded
(422, never a 500), request bodies are limited before anything reads them (413 `payload_too_large`), a body that is not JSON
is 422 `invalid_json` with its position, the audit trail still hashes what was sent, a busy database answers
503 `database_busy` with Retry-After, pool imports run one at a time, and the experts' portal never shows the
patient's name, identity number or phone number in the panel's question before the expert accepts.

The database is shared by the test session: each test finds its own rows by ids and markers of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, Self
from urllib.parse import quote

import httpx
import pytest

from api.main import create_app
from core.settings import Settings
from domain.pool import COLUMNS
from domain.time import SHANGHAI
from tests.factories import linked_to, registration
from tests.http import eventually
from tests.pools import add_expert, make_city

MIB = 1024 * 1024
BODY_LIMIT = MIB  # MEDIATION_MAX_BODY_BYTES, default
HUGE_OFFSET = "99999999999999999999"  # past any integer the database takes
ADMIN = {"X-Actor-Id": "admin-1", "X-Actor-Role": "admin"}
AUDITOR = {"X-Actor-Id": "au-1", "X-Actor-Name": quote("孙审计"), "X-Actor-Role": "auditor"}
DIRECTOR = {"X-Actor-Id": "d1", "X-Actor-Name": quote("赵主任"), "X-Actor-Role": "director"}
MEDIATOR = {"X-Actor-Id": "m1", "X-Actor-Name": quote("陈调解员"), "X-Actor-Role": "mediator"}
JSON = {"content-type": "application/json"}
CSV = {"content-type": "text/csv"}


def as_expert(expert_id: str) -> dict[str, str]:
    return {"X-Actor-Id": expert_id, "X-Actor-Name": quote("专家"), "X-Actor-Role": "expert"}


def marker() -> str:
    return f"标记{uuid.uuid4().hex}"


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON followed by spaces up to `size` bytes: still valid JSON, the same registration."""
    raw = encoded(body)
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def cases_mentioning(api: httpx.AsyncClient, text: str) -> int:
    response = await api.get("/cases", params={"q": text})
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


def pool_file(*rows: dict[str, str]) -> str:
    lines = [",".join(COLUMNS)]
    for fields in rows:
        values = {"title": "主任医师", "specialties": "产科", "region": "黄浦区", "active": "true",
                  "max_concurrent": "3", "phone": "", "email": "", "id_number": "", "affiliations": "",
                  "relatives": "", **fields}
        lines.append(",".join(values[c] for c in COLUMNS))
    return "\n".join(lines) + "\n"


def an_expert(sessions: Any) -> str:
    city = make_city(sessions)
    return add_expert(sessions, city, "bounds", ["law"]).id


# ---------------------------------------------------------------- bounded lists ------------------------
LISTS = [  # (path, who may read it)
    ("/cases", {}),
    ("/audit", AUDITOR),
    ("/notifications", {}),
    ("/calendar/provisional", ADMIN),
    ("/pool/experts", ADMIN),
]


class TestEveryListIsBounded:
    @pytest.mark.parametrize(("path", "headers"), LISTS)
    async def test_an_offset_past_any_integer_is_422_naming_offset_never_500(self, api, path, headers):
        response = await api.get(path, params={"offset": HUGE_OFFSET}, headers=headers)
        assert response.status_code == 422, response.text
        assert "offset" in [e["field"] for e in response.json()["errors"]]

    @pytest.mark.parametrize(("path", "headers"), LISTS)
    async def test_a_deprecated_offset_of_10000_is_accepted_past_it_not_nor_a_limit_of_100000(
            self, api, path, headers):
        accepted = await api.get(path, params={"offset": 10_000}, headers=headers)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["items"] == [] and accepted.json()["has_more"] is False
        assert (await api.get(path, params={"offset": 10_001}, headers=headers)).status_code == 422
        too_many = await api.get(path, params={"limit": 100_000}, headers=headers)
        assert too_many.status_code == 422, too_many.text
        assert "limit" in [e["field"] for e in too_many.json()["errors"]]

    @pytest.mark.parametrize(("path", "headers"), LISTS)
    async def test_a_cursor_no_page_gave_is_422_naming_the_cursor(self, api, path, headers):
        for cursor in ("not-a-cursor", "x" * 401):
            response = await api.get(path, params={"cursor": cursor}, headers=headers)
            assert response.status_code == 422, response.text
            assert "cursor" in [e["field"] for e in response.json()["errors"]]

    async def test_an_experts_invitations_are_bounded_too(self, api, sessions):
        me = as_expert(an_expert(sessions))
        huge = await api.get("/me/invitations", params={"offset": HUGE_OFFSET}, headers=me)
        assert huge.status_code == 422, huge.text
        assert "offset" in [e["field"] for e in huge.json()["errors"]]
        accepted = await api.get("/me/invitations", params={"offset": 10_000}, headers=me)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["items"] == []
        too_many = await api.get("/me/invitations", params={"limit": 100_000}, headers=me)
        assert too_many.status_code == 422 and "limit" in too_many.text
        wrong = await api.get("/me/invitations", params={"cursor": "not-a-cursor"}, headers=me)
        assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_cursor"

    async def test_the_openapi_declares_a_bound_for_every_cursor_limit_and_offset(self, api):
        spec = (await api.get("/openapi.json")).json()
        bounded, unbounded = [], []
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") != "query" or parameter["name"] not in ("offset", "limit", "cursor"):
                        continue
                    where = f"{method.upper()} {path} {parameter['name']}"
                    schemas = [parameter.get("schema", {}), *parameter.get("schema", {}).get("anyOf", [])]
                    limited = any("maximum" in s or "maxLength" in s for s in schemas)
                    (bounded if limited else unbounded).append(where)
                    if parameter["name"] == "offset":
                        assert parameter.get("deprecated") is True, where  # follow next_cursor instead
        assert unbounded == []
        for path in ("/cases", "/audit", "/notifications", "/calendar/provisional", "/me/invitations",
                     "/pool/experts", "/cases/{case_id}/notifications"):
            for name in ("cursor", "limit", "offset"):
                assert f"GET {path} {name}" in bounded


# ---------------------------------------------------------------- request bodies -----------------------
class TestBodiesAreLimitedBeforeTheyAreRead:
    async def test_a_2_mib_registration_is_413_and_registers_nothing(self, api):
        mark = marker()
        body = padded(registration(facts=f"{mark}：患者术后切口感染。"), 2 * MIB)
        response = await api.post("/cases", content=body, headers=JSON)
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "payload_too_large"
        assert "larger than 1048576 bytes" in response.json()["detail"]
        assert await cases_mentioning(api, mark) == 0

    async def test_a_2_mib_body_streamed_without_a_length_is_413_before_it_is_all_read(self, api):
        mark = marker()
        body = padded(registration(facts=f"{mark}：患者术后切口感染。"), 2 * MIB)
        chunk = 64 * 1024
        pulled = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal pulled
            for start in range(0, len(body), chunk):
                pulled += 1
                yield body[start:start + chunk]

        response = await api.post("/cases", content=chunks(), headers=JSON)
        assert "content-length" not in response.request.headers
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "payload_too_large"
        assert pulled < len(body) // chunk  # stopped at the limit, the rest never read
        assert await cases_mentioning(api, mark) == 0

    async def test_a_body_of_exactly_the_limit_is_read(self, api):
        mark = marker()
        response = await api.post("/cases", content=padded(registration(facts=f"{mark}：患者术后切口感染。"),
                                                          BODY_LIMIT), headers=JSON)
        assert response.status_code == 201, response.text
        assert await cases_mentioning(api, mark) == 1

    async def test_a_one_byte_larger_body_is_413(self, api):
        response = await api.post("/cases", content=padded(registration(), BODY_LIMIT + 1), headers=JSON)
        assert response.status_code == 413 and response.json()["code"] == "payload_too_large"

    async def test_a_console_upload_declared_too_large_gets_a_page_in_chinese_not_json(self, api):
        # a clerk's scan past the attachment limit: the console's form is answered with a page that says so and
        # leads back to the case, the file unread
        response = await api.post("/console/cases/some-case/attachments", content=b"x" * 1024,
                                  headers={"content-type": "multipart/form-data; boundary=x",
                                           "content-length": str(10 ** 10)})
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        assert "文件过大，未保存" in response.text and 'href="/console/cases/some-case"' in response.text

    @pytest.mark.parametrize("declared", ["text/csv", "application/octet-stream"])
    async def test_a_pool_file_of_1_5_mib_is_within_the_upload_limit(self, api, sessions, declared):
        # the file routes take the upload limit whatever content type the client declares (curl --data-binary)
        city = make_city(sessions)
        expert_id = f"{city.committee_id}-csv"
        text = pool_file({"id": expert_id, "city": city.name, "name": "吴海燕"})
        blank = " " * 1023 + "\n"  # blank lines: skipped by the import
        text += blank * ((3 * MIB // 2 - len(text.encode())) // len(blank) + 1)
        assert len(text.encode()) > 3 * MIB // 2
        response = await api.post("/pool/experts/import", content=text.encode(),
                                  headers={"content-type": declared, **ADMIN})
        assert response.status_code != 413, response.text
        assert response.status_code == 200, response.text
        assert response.json()["imported"] == 1
        assert (await api.get(f"/pool/experts/{expert_id}", headers=ADMIN)).status_code == 200


class TestABodyThatIsNotJson:
    async def test_is_422_invalid_json_with_the_position_and_no_field_named_by_a_number(self, api):
        raw = b'{"committee_id": '
        with pytest.raises(json.JSONDecodeError) as decoded:
            json.loads(raw)
        response = await api.post("/cases", content=raw, headers=JSON)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "invalid_json"
        assert "not valid JSON" in body["detail"]
        assert re.search(rf"at position {decoded.value.pos}\b", body["detail"]), body["detail"]
        fields = [e["field"] for e in body.get("errors", [])]
        assert not any(re.fullmatch(r"[\d.]+", f) for f in fields), fields
        assert "40" not in fields and str(decoded.value.pos) not in fields


class TestABirthDateInTheFuture:
    async def test_is_422_naming_patient_birth_date(self, api):
        mark = marker()
        body = registration(facts=f"{mark}：患者术后切口感染。")
        body["patient"]["birth_date"] = (datetime.now(SHANGHAI).date() + timedelta(days=1)).isoformat()
        response = await api.post("/cases", json=body)
        assert response.status_code == 422, response.text
        assert "patient.birth_date" in [e["field"] for e in response.json()["errors"]]
        assert await cases_mentioning(api, mark) == 0


# ---------------------------------------------------------------- the audit trail ----------------------
async def entry_of(api: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    response = await api.get("/audit", params={"request_id": request_id}, headers=AUDITOR)
    assert response.status_code == 200, response.text
    found = response.json()
    assert len(found["items"]) == 1, found
    return found["items"][0]


class TestTheAuditTrailHashesTheStreamedBody:
    async def test_a_registrations_entry_holds_the_sha256_of_the_exact_bytes_sent(self, api):
        body = encoded(registration()) + b"\n  "  # whitespace too: the bytes, not the parsed value
        request_id = f"test-{uuid.uuid4().hex}"
        response = await api.post("/cases", content=body, headers={**JSON, "X-Request-ID": request_id})
        assert response.status_code == 201, response.text
        entry = await entry_of(api, request_id)
        assert entry["payload_sha256"] == hashlib.sha256(body).hexdigest()
        assert (entry["status_code"], entry["target_id"]) == (201, response.json()["id"])

    async def test_a_streamed_registration_is_hashed_whole(self, api):
        body = encoded(registration())
        request_id = f"test-{uuid.uuid4().hex}"

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 100):
                yield body[start:start + 100]

        response = await api.post("/cases", content=chunks(), headers={**JSON, "X-Request-ID": request_id})
        assert response.status_code == 201, response.text
        assert (await entry_of(api, request_id))["payload_sha256"] == hashlib.sha256(body).hexdigest()

    async def test_a_body_refused_for_its_size_is_recorded_with_status_413(self, api):
        request_id = f"test-{uuid.uuid4().hex}"
        response = await api.post("/cases", content=padded(registration(), 2 * MIB),
                                  headers={**JSON, "X-Request-ID": request_id})
        assert response.status_code == 413
        entry = await entry_of(api, request_id)
        assert (entry["status_code"], entry["action"]) == (413, "POST /cases")


# ---------------------------------------------------------------- contention ---------------------------
class Locker:
    """SQLite's write lock, held from a connection of its own (`BEGIN EXCLUSIVE`) for `seconds` at most,
    whatever the test awaits meanwhile; released at once by `release()` or on leaving the block."""

    def __init__(self, database_url: str, seconds: float) -> None:
        self.path = database_url.split("///", 1)[1]
        self.seconds = seconds
        self.connection: sqlite3.Connection | None = None
        self.released: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self.connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        self.connection.execute("BEGIN EXCLUSIVE")
        self.released = asyncio.get_running_loop().create_task(self._release_later())
        return self

    async def _release_later(self) -> None:
        try:
            await asyncio.sleep(self.seconds)
        finally:
            assert self.connection is not None
            self.connection.execute("ROLLBACK")
            self.connection.close()

    @property
    def held(self) -> bool:
        return self.released is not None and not self.released.done()

    async def release(self) -> None:
        """Release the lock now (if it still is held) and wait until it is."""
        assert self.released is not None
        self.released.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.released

    async def __aexit__(self, *_: object) -> None:
        await self.release()


@pytest.fixture
async def busy_api(temporal_env, database_url, worker, seal_paths) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose SQLite connections wait 0.5 s for another's write lock."""
    if not database_url.startswith("sqlite"):
        pytest.skip("holds SQLite's write lock from another connection")
    settings = Settings(database_url=database_url, task_queue=worker, db_busy_timeout_seconds=0.5,
                        seal_key_path=seal_paths[0], seal_cert_path=seal_paths[1])
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def assert_busy(response: httpx.Response, *codes: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.json()["code"] in (codes or ("database_busy",)), response.text
    assert int(response.headers["retry-after"]) > 0


class TestABusyDatabaseIs503NotA500:
    async def test_a_write_locked_past_the_busy_timeout_is_503_database_busy_then_succeeds(
        self, busy_api, database_url, sessions
    ):
        city = make_city(sessions)
        group = {"id": f"g-{uuid.uuid4().hex[:8]}", "name": "某医疗集团", "city": city.name}
        async with Locker(database_url, seconds=6) as lock:
            refused = await asyncio.wait_for(busy_api.post("/pool/groups", json=group, headers=ADMIN), 15)
            assert lock.held  # answered while the lock was still held, not after waiting it out
            assert_busy(refused)
            await lock.release()
        created = await asyncio.wait_for(busy_api.post("/pool/groups", json=group, headers=ADMIN), 15)
        assert created.status_code == 201, created.text

    async def test_a_pool_import_tried_again_while_locked_is_503_database_busy_then_succeeds(
        self, busy_api, database_url, sessions
    ):
        city = make_city(sessions)
        expert_id = f"{city.committee_id}-busy"
        text = pool_file({"id": expert_id, "city": city.name, "name": "郑医生"}).encode()
        async with Locker(database_url, seconds=6) as lock:
            refused = await asyncio.wait_for(busy_api.post("/pool/experts/import", content=text,
                                                           headers={**CSV, **ADMIN}), 15)
            assert lock.held
            assert_busy(refused)
            await lock.release()
        assert (await busy_api.get(f"/pool/experts/{expert_id}", headers=ADMIN)).status_code == 404
        imported = await asyncio.wait_for(busy_api.post("/pool/experts/import", content=text,
                                                        headers={**CSV, **ADMIN}), 15)
        assert imported.status_code == 200 and imported.json()["imported"] == 1, imported.text

    async def test_a_registration_during_a_lock_is_never_a_500_and_repeated_after_it_registers_once(
        self, busy_api, database_url
    ):
        mark = marker()
        body = registration(facts=f"{mark}：患者术后切口感染。")
        headers = {"Idempotency-Key": f"busy-{uuid.uuid4().hex}"}
        async with Locker(database_url, seconds=3):
            during = await asyncio.wait_for(busy_api.post("/cases", json=body, headers=headers), 30)
        assert during.status_code != 500, during.text
        if during.status_code != 201:
            assert_busy(during, "database_busy", "action_timed_out")
        again = await asyncio.wait_for(busy_api.post("/cases", json=body, headers=headers), 30)
        assert again.status_code == 201, again.text
        assert await cases_mentioning(busy_api, mark) == 1


    async def test_a_registration_while_no_pooled_connection_is_free_is_503_database_busy_then_succeeds(
        self, temporal_env, database_url, worker, seal_paths
    ):
        settings = Settings(database_url=database_url, task_queue=worker, db_pool_size=1, db_max_overflow=0,
                            db_pool_timeout_seconds=0.3, seal_key_path=seal_paths[0],
                            seal_cert_path=seal_paths[1])
        app = create_app(settings, temporal=temporal_env.client)
        mark = marker()
        body = registration(facts=f"{mark}：患者术后切口感染。")
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                with app.state.engine.connect():  # the pool's only connection, taken
                    refused = await asyncio.wait_for(client.post("/cases", json=body), 15)
                    assert_busy(refused)
                    listed = await asyncio.wait_for(client.get("/cases", params={"q": mark}), 15)
                    assert_busy(listed)
                registered = await asyncio.wait_for(client.post("/cases", json=body), 30)
                assert registered.status_code == 201, registered.text
                assert await cases_mentioning(client, mark) == 1


# ---------------------------------------------------------------- pool imports -------------------------
class TestPoolImportsRunOneAtATime:
    async def test_three_imports_at_once_all_succeed_and_every_expert_is_there(self, api, sessions):
        city = make_city(sessions)
        ids = [f"{city.committee_id}-imp{n}" for n in range(3)]
        files = [pool_file({"id": ident, "city": city.name, "name": f"专家{n}"}) for n, ident in enumerate(ids)]
        imports = [api.post("/pool/experts/import", content=text.encode(), headers={**CSV, **ADMIN})
                   for text in files]
        answers = await asyncio.wait_for(asyncio.gather(*imports), timeout=60)
        assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
        assert [a.json()["imported"] for a in answers] == [1, 1, 1]
        listed = await api.get("/pool/experts", params={"city": city.name}, headers=ADMIN)
        assert sorted(e["id"] for e in listed.json()["items"]) == sorted(ids)


# ---------------------------------------------------------------- the experts' portal ------------------
class TestThePanelsQuestionIsAnonymisedForTheExpert:  # DOMAIN.md "Invitations"; Reg 42
    async def test_before_accepting_no_name_identity_or_phone_number_after_no_numbers(self, api, sessions):
        city = make_city(sessions)
        expert = add_expert(sessions, city, "law0", ["law"])
        body = linked_to(city.respondent, committee_id=city.committee_id, application_type="joint",
                         applicant_side=None)
        patient, id_number, phone = body["patient"]["name"], body["patient"]["id_number"], "13912345678"
        response = await api.post("/cases", json=body)
        assert response.status_code == 201, response.text
        case = response.json()
        for path, payload in [("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})]:
            response = await api.post(f"/cases/{case['id']}/{path}", json=payload, headers=DIRECTOR)
            assert response.status_code == 200, response.text
        question = (f"患者{patient}（身份证号{id_number}，联系电话{phone}）术后切口感染，"
                    "请就医方有无过错及因果关系提出意见")
        response = await api.post(f"/cases/{case['id']}/request-consultation",
                                  json={"specialties": ["law"], "question": question}, headers=MEDIATOR)
        assert response.status_code == 200, response.text
        me = as_expert(expert.id)

        async def invited() -> bool:
            listed = await api.get("/me/invitations", headers=me)
            return listed.status_code == 200 and len(listed.json()["items"]) == 1

        await eventually(invited, "the expert's invitation")
        [before] = (await api.get("/me/invitations", headers=me)).json()["items"]
        for secret in (patient, id_number, phone):
            assert secret not in before["question"], before["question"]
        assert f"患者{patient[0]}某" in before["question"]
        assert "术后切口感染" in before["question"]  # the medicine is still asked

        accepted = await api.post(f"/me/invitations/{before['id']}/accept", json={}, headers=me)
        assert accepted.status_code == 200, accepted.text
        after = accepted.json()
        assert after["status"] == "accepted"
        for secret in (id_number, phone):
            assert secret not in after["question"], after["question"]
            assert secret not in json.dumps(after, ensure_ascii=False)
        again = (await api.get(f"/me/invitations/{before['id']}", headers=me)).json()
        assert id_number not in again["question"] and phone not in again["question"]
