"""Bad input gets a clear 4xx naming what is wrong; nothing already recorded is lost; never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import registration


async def registered(api: httpx.AsyncClient, **changes) -> dict:
    response = await api.post("/cases", json=registration(**changes))
    assert response.status_code == 201, response.text
    return response.json()


class TestIllegalActions:
    async def test_accept_before_consent_is_409_with_state_and_allowed_events(self, api):
        case = await registered(api)
        response = await api.post(f"/cases/{case['id']}/accept", json={"mediators": ["陈调解员"]})
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "illegal_transition"
        assert body["state"] == "registered"
        assert body["allowed_events"] == ["amend_parties", "link_respondent", "request_consent", "terminate"]
        # nothing recorded is lost or changed
        assert (await api.get(f"/cases/{case['id']}")).json()["status"] == "registered"
        assert len((await api.get(f"/cases/{case['id']}/history")).json()) == 1

    async def test_one_sided_application_cannot_skip_consent(self, api):  # Reg 31¶1
        case = await registered(api)
        response = await api.post(f"/cases/{case['id']}/submit-for-review", json={})
        assert response.status_code == 409
        assert response.json()["code"] == "rule_violated"
        assert "Reg 31" in response.json()["detail"]

    async def test_signing_twice_for_the_same_party_is_refused(self, api):  # Reg 39
        from tests.factories import SIGNATURES, agreement

        case = await registered(api, application_type="joint", applicant_side=None)
        cid = case["id"]
        for path, body in [("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]}),
                           ("draft-agreement", agreement()), ("sign", SIGNATURES[0])]:
            assert (await api.post(f"/cases/{cid}/{path}", json=body)).status_code == 200
        again = await api.post(f"/cases/{cid}/sign", json=SIGNATURES[0])
        assert again.status_code == 409 and "Reg 39" in again.json()["detail"]

    async def test_minutes_for_an_unknown_session_are_refused(self, api):
        case = await registered(api, application_type="joint", applicant_side=None)
        cid = case["id"]
        await api.post(f"/cases/{cid}/submit-for-review", json={})
        await api.post(f"/cases/{cid}/accept", json={"mediators": ["陈调解员"]})
        response = await api.post(
            f"/cases/{cid}/record-minutes",
            json={"session_id": "nope", "held_at": "2026-11-20T09:30:00", "recorder": "刘",
                  "attendees": ["王"], "statements": [{"speaker": "王", "text": "陈述"}]},
        )
        assert response.status_code == 409


class TestUnknownThings:
    async def test_unknown_case_is_404(self, api):
        for path in ["/cases/doesnotexist", "/cases/doesnotexist/history", "/cases/doesnotexist/documents",
                     "/cases/doesnotexist/allowed-events", "/documents/doesnotexist", "/documents/nope/pdf"]:
            response = await api.get(path)
            assert response.status_code == 404, path
            assert response.json()["code"] == "not_found"
        response = await api.post("/cases/doesnotexist/accept", json={"mediators": ["陈调解员"]})
        assert response.status_code == 404

    async def test_unknown_committee_is_422_naming_the_field(self, api):
        response = await api.post("/cases", json=registration(committee_id="atlantis"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "committee_id"


class TestInvalidPayloads:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"claim_amount": "-1"}, "claim_amount"),
            ({"claim_amount": "12.345"}, "claim_amount"),
            ({"claim_amount": "abc"}, "claim_amount"),
            ({"claim_amount": 1200.5}, "claim_amount"),  # a float, not a decimal
            ({"facts": ""}, "facts"),
            ({"application_type": "fax"}, "application_type"),
            ({"patient": {"name": "王", "id_number": "123"}}, "patient.id_number"),
            ({"institution": {"name": "某医院"}}, "institution.legal_representative"),
            ({"unexpected": 1}, "unexpected"),
        ],
    )
    async def test_registration_errors_name_the_field(self, api, changes, field):
        response = await api.post("/cases", json=registration(**changes))
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "invalid_payload"
        assert field in [e["field"] for e in body["errors"]]

    async def test_one_sided_application_must_say_who_applied(self, api):
        response = await api.post("/cases", json=registration(applicant_side=None))
        assert response.status_code == 422
        assert "applicant_side" in response.json()["detail"]

    async def test_more_than_five_representatives_refused(self, api):  # Reg 30 analogue: at most 5 per side
        reps = [{"name": f"亲属{i}", "relation": "患者之子"} for i in range(6)]
        response = await api.post("/cases", json=registration(patient_representatives=reps))
        assert response.status_code == 422

    async def test_reject_without_reason_is_422(self, api):
        case = await registered(api, application_type="joint", applicant_side=None)
        await api.post(f"/cases/{case['id']}/submit-for-review", json={})
        response = await api.post(f"/cases/{case['id']}/reject", json={"reasons": []})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "reasons"

    async def test_garbage_never_gives_a_500(self, api):
        case = await registered(api)
        probes = [
            api.post("/cases", content=b"{not json", headers={"content-type": "application/json"}),
            api.post("/cases", content=b"\xff\xfe", headers={"content-type": "application/json"}),
            api.post("/cases", json=[]),
            api.post("/cases", json={"claim_amount": 1e308}),
            api.post(f"/cases/{case['id']}/accept", json={"mediators": "陈"}),
            api.post(f"/cases/{case['id']}/sign", json={"signer": "nobody", "signed_by": "x"}),
            api.get("/cases", params={"limit": "-1"}),
            api.get("/cases", params={"status": "flying"}),
            api.get("/cases", params={"registered_from": "yesterday"}),
            api.get("/cases/" + "x" * 500),
            api.get("/documents/abc/pdf", params={"lang": "fr"}),
        ]
        for probe in probes:
            response = await probe
            assert 400 <= response.status_code < 500, response.text
            assert "detail" in response.json()

    async def test_times_outside_the_plausible_range_are_422_not_an_overflow(self, api):
        case = await registered(api)
        await api.post(f"/cases/{case['id']}/request-consent", json={})
        for consented_at in ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1899-12-31T12:00:00"]:
            response = await api.post(
                f"/cases/{case['id']}/record-consent",
                json={"consented_by": "李院长", "method": "written", "consented_at": consented_at},
            )
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "consented_at"
        assert (await api.get(f"/cases/{case['id']}")).json()["status"] == "awaiting_consent"

    async def test_a_signature_or_a_payment_in_the_future_is_422(self, api):  # Reg 39 (rev 2), PML 31
        from datetime import datetime, timedelta

        from domain.time import SHANGHAI
        from tests.factories import agreement

        tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).isoformat()
        case = await registered(api, application_type="joint", applicant_side=None)
        for path, body in [("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]}),
                           ("draft-agreement", agreement())]:
            assert (await api.post(f"/cases/{case['id']}/{path}", json=body)).status_code == 200
        response = await api.post(f"/cases/{case['id']}/sign",
                                  json={"signer": "patient", "signed_by": "王大明", "signed_at": tomorrow})
        assert response.status_code == 422 and "future" in response.json()["detail"]
        assert (await api.get(f"/cases/{case['id']}")).json()["signatures"] == {}

    async def test_a_deadline_in_year_9999_is_422(self, api):
        from tests.factories import agreement

        case = await registered(api, application_type="joint", applicant_side=None)
        await api.post(f"/cases/{case['id']}/submit-for-review", json={})
        await api.post(f"/cases/{case['id']}/accept", json={"mediators": ["陈调解员"]})
        terms = [{**agreement()["terms"][0], "deadline": "9999-12-31"}]
        response = await api.post(f"/cases/{case['id']}/draft-agreement", json=agreement(terms=terms))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "terms.0.deadline"


class TestSearchAtTheEdgesOfTheCalendar:
    async def test_the_first_and_last_representable_days_filter_nothing_out(self, api):
        case = await registered(api)
        response = await api.get("/cases", params={"registered_from": "0001-01-01", "registered_to": "9999-12-31",
                                                  "limit": 200})
        assert response.status_code == 200, response.text
        assert case["id"] in [c["id"] for c in response.json()["items"]]


class TestMethodNotAllowed:
    async def test_405_names_every_method_of_the_path(self, api):
        response = await api.delete("/cases")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
        assert response.json()["detail"]


class TestWorkflowServiceDown:
    async def test_no_worker_answers_503_and_the_case_is_kept(self, temporal_env, database_url, api):
        """With no worker on the task queue the API says so within its timeout; nothing recorded is lost."""
        from api.main import create_app
        from core.settings import Settings

        case = (await api.post("/cases", json=registration())).json()
        settings = Settings(database_url=database_url, task_queue="no-worker-here", action_timeout_seconds=1)
        app = create_app(settings, temporal=temporal_env.client)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
                response = await other.post("/cases", json=registration())
                assert response.status_code == 503 and response.headers["retry-after"] == "5"
                assert response.json()["code"] == "action_timed_out"
                assert "did not complete the action within 1 s" in response.json()["detail"]
                still = await other.get(f"/cases/{case['id']}")
                assert still.status_code == 200 and still.json()["status"] == "registered"

    async def test_unreachable_temporal_answers_503(self, database_url):
        from api.main import create_app
        from core.settings import Settings

        settings = Settings(database_url=database_url, temporal_address="127.0.0.1:1")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
                response = await other.post("/cases", json=registration())
                assert response.status_code == 503
                assert response.json()["code"] == "unavailable"


class TestTheNulCharacter:  # no database stores U+0000 in text (PostgreSQL refuses it): 422, never 500
    async def test_in_a_body_is_422_naming_where(self, api):
        response = await api.post("/cases", json={**registration(), "facts": "患者术后\u0000感染"})
        assert response.status_code == 422 and "facts" in response.text and "NUL" in response.text

    async def test_in_a_query_or_an_address_finds_what_it_would_without_it(self, api):
        # nothing stored can hold a NUL: a filter or an id with one never reaches the database with it
        case = (await api.post("/cases", json=registration())).json()
        found = await api.get(f"/cases?q={case['number'][:6]}%00")
        assert found.status_code == 200 and case["id"] in {c["id"] for c in found.json()["items"]}
        assert (await api.get(f"/cases/{case['id']}%00")).status_code == 200
        assert (await api.get("/cases/nope%00")).status_code == 404
