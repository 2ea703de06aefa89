"""Every staff action is safe to repeat and to race (shared/DOMAIN.md edge case "Two staff act on the same case at
once", rev 2): an Idempotency-Key returns the first answer and changes nothing, If-Match names the version an action
was decided on, and identical self-loop actions sent at once are one action — the defect as found: two
extend-deadline calls of 15 WD both answered 200 and the budget went from 30 to 60."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from core.db import SessionFactory
from tests.factories import EXTENSION, SIGNATURES, agreement, linked_to, registration
from tests.pools import add_expert, make_city

SESSION = {"scheduled_at": "2026-12-01T09:30:00+08:00", "place": "第一调解室", "mediators": ["陈调解员"]}


async def in_mediation(api: httpx.AsyncClient, body: dict[str, Any] | None = None) -> str:
    case = await api.post("/cases", json=body or registration(application_type="joint", applicant_side=None))
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    for action, payload in (("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})):
        response = await api.post(f"/cases/{case_id}/{action}", json=payload)
        assert response.status_code == 200, response.text
    return case_id


async def read(api: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    response = await api.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def events(api: httpx.AsyncClient, case_id: str, event: str) -> list[dict[str, Any]]:
    return [t for t in (await api.get(f"/cases/{case_id}/history")).json() if t["event"] == event]


class TestIdempotencyKey:
    async def test_the_same_key_returns_the_first_answer_and_changes_nothing(self, api):  # Reg 38, rev 2
        case_id = await in_mediation(api)
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION, headers=key)
        again = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION, headers=key)
        assert first.status_code == again.status_code == 200, again.text
        assert first.json()["repeated"] is False and again.json() == {**first.json(), "repeated": True}
        case = await read(api, case_id)
        assert case["mediation_clock"]["total_wd"] == 30 + EXTENSION["extra_days"]  # extended once
        assert len(await events(api, case_id, "extend_deadline")) == 1
        assert case["version"] == first.json()["version"]

    async def test_the_same_key_with_another_request_is_422_and_changes_nothing(self, api):
        case_id = await in_mediation(api)
        key = {"Idempotency-Key": uuid.uuid4().hex}
        await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION, headers=key)
        other = await api.post(f"/cases/{case_id}/extend-deadline", json={**EXTENSION, "extra_days": 20}, headers=key)
        assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
        another_action = await api.post(f"/cases/{case_id}/schedule-session", json=SESSION, headers=key)
        assert another_action.status_code == 422
        assert (await read(api, case_id))["mediation_clock"]["total_wd"] == 45
        assert await events(api, case_id, "schedule_session") == []

    async def test_a_repeat_after_the_case_is_archived_gets_the_first_answer(self, api):  # PML 27
        case = await api.post("/cases", json=registration(application_type="joint", applicant_side=None))
        case_id = case.json()["id"]
        await api.post(f"/cases/{case_id}/submit-for-review", json={})
        await api.post(f"/cases/{case_id}/reject", json={"reasons": [2]})
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await api.post(f"/cases/{case_id}/archive", json={}, headers=key)
        assert first.status_code == 200, first.text
        again = await api.post(f"/cases/{case_id}/archive", json={}, headers=key)
        assert again.status_code == 200, again.text
        assert {k: again.json()[k] for k in ("event", "status", "seq", "version", "document_ids")} == {
            k: first.json()[k] for k in ("event", "status", "seq", "version", "document_ids")}
        assert again.json()["repeated"] is True
        unkeyed = await api.post(f"/cases/{case_id}/archive", json={})  # a new request: the file is bound
        assert unkeyed.status_code == 409


class TestIfMatch:
    async def test_the_case_read_gives_its_version_as_etag(self, api):
        case_id = await in_mediation(api)
        response = await api.get(f"/cases/{case_id}")
        assert response.headers["etag"] == f'"{response.json()["version"]}"' == '"3"'

    async def test_an_action_decided_on_a_stale_version_is_409_with_the_current_one(self, api):  # rev 2
        case_id = await in_mediation(api)
        stale = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION, headers={"If-Match": '"2"'})
        assert stale.status_code == 409
        assert stale.json()["code"] == "stale_version" and stale.json()["current_version"] == 3
        assert (await read(api, case_id))["mediation_clock"]["total_wd"] == 30  # nothing changed
        current = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION, headers={"If-Match": '"3"'})
        assert current.status_code == 200 and current.json()["version"] == 4
        assert current.headers["etag"] == '"4"'

    async def test_two_actions_decided_on_the_same_version_one_wins(self, api):  # rev 2: the workflow decides
        case_id = await in_mediation(api)
        version = {"If-Match": (await api.get(f"/cases/{case_id}")).headers["etag"]}
        answers = await asyncio.gather(
            api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION, headers=version),
            api.post(f"/cases/{case_id}/schedule-session", json=SESSION, headers=version),
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        assert (await read(api, case_id))["version"] == 4

    async def test_an_if_match_that_is_not_a_version_is_422(self, api):
        case_id = await in_mediation(api)
        response = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION,
                                  headers={"If-Match": "yesterday"})
        assert response.status_code == 422 and response.json()["errors"][0]["field"].lower() == "if-match"


class TestSelfLoopsAtOnce:
    async def test_twenty_identical_extensions_at_once_extend_once(self, api):  # Reg 38, rev 2
        case_id = await in_mediation(api)
        answers = await asyncio.gather(
            *(api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION) for _ in range(20)))
        assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers if a.status_code >= 300]
        served = [a.json() for a in answers if a.status_code == 200]
        assert len({(a["seq"], a["version"]) for a in served}) == 1  # one action, one answer
        assert sum(not a["repeated"] for a in served) == 1
        assert len(await events(api, case_id, "extend_deadline")) == 1
        assert (await read(api, case_id))["mediation_clock"]["total_wd"] == 45

    async def test_two_different_extensions_at_once_one_succeeds_and_the_other_is_a_conflict(self, api):
        case_id = await in_mediation(api)
        # Two clients decided on the same version (If-Match): however the two requests interleave on a busy
        # machine, the second to arrive was decided on a version that is no longer current.
        seen = {"If-Match": f'"{(await read(api, case_id))["version"]}"'}
        answers = await asyncio.gather(
            api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION, headers=seen),
            api.post(f"/cases/{case_id}/extend-deadline", json={**EXTENSION, "extra_days": 10}, headers=seen),
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        conflict = next(a.json() for a in answers if a.status_code == 409)
        assert conflict["code"] == "stale_version" and "current_version" in conflict
        assert len(await events(api, case_id, "extend_deadline")) == 1
        assert (await read(api, case_id))["mediation_clock"]["total_wd"] in (40, 45)

    async def test_the_same_session_scheduled_twice_at_once_is_one_session(self, api):
        case_id = await in_mediation(api)
        answers = await asyncio.gather(*(api.post(f"/cases/{case_id}/schedule-session", json=SESSION)
                                         for _ in range(2)))
        assert {a.status_code for a in answers} == {200}
        assert answers[0].json()["session_id"] == answers[1].json()["session_id"]
        assert len((await api.get(f"/cases/{case_id}/sessions")).json()) == 1

    async def test_two_consultations_asked_at_once_open_one_panel(self, api, sessions: SessionFactory):
        # Reg 33, rev 2: the defect as found: two panels
        city = make_city(sessions)
        add_expert(sessions, city, "law", ["law"])
        case_id = await in_mediation(api, linked_to(city.respondent, committee_id=city.committee_id,
                                                    application_type="joint", applicant_side=None))
        asked = {"specialties": ["law"], "question": "医方告知义务是否履行"}
        answers = await asyncio.gather(*(api.post(f"/cases/{case_id}/request-consultation", json=asked)
                                         for _ in range(2)))
        assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
        assert len({a.json()["panel_id"] for a in answers}) == 1
        assert len((await api.get(f"/cases/{case_id}/panels")).json()) == 1

    async def test_two_different_signers_at_once_both_sign(self, api):  # Reg 39: not a race, two acts
        case_id = await in_mediation(api)
        assert (await api.post(f"/cases/{case_id}/draft-agreement", json=agreement())).status_code == 200
        answers = await asyncio.gather(*(api.post(f"/cases/{case_id}/sign", json=s) for s in SIGNATURES[:2]))
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert sorted((await read(api, case_id))["signatures"]) == ["institution", "patient"]

    async def test_the_same_extension_sent_again_at_once_is_the_first_and_a_second_one_says_so(self, api):
        # a double click (or a retry without its key) right after the first is the first; an identical second
        # extension meant as such is decided on the version that shows the first: If-Match (rev 2)
        case_id = await in_mediation(api)
        first = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION)
        again = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION)
        assert again.json() == {**first.json(), "repeated": True}
        assert (await read(api, case_id))["mediation_clock"]["total_wd"] == 45
        second = await api.post(f"/cases/{case_id}/extend-deadline", json=EXTENSION,
                                headers={"If-Match": first.headers["etag"]})
        assert second.status_code == 200 and second.json()["repeated"] is False
        assert (await read(api, case_id))["mediation_clock"]["total_wd"] == 60
