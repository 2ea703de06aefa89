"""A case entered from paper records after the fact (历史案件补录): registered and each act recorded at its own time
(X-Occurred-At), the law's deadlines counted on those times, then the entry completed (docs/clocks.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import chinese_calendar
import httpx

from core.db import transaction
from models.tables import CalendarYear, Case
from tests.factories import SIGNATURES, agreement, registration
from tests.http import eventually

AUDITOR = {"X-Actor-Id": "au-01", "X-Actor-Role": "auditor"}
INTAKE = {"X-Actor-Id": "s-07", "X-Actor-Role": "intake"}
ADMIN = {"X-Actor-Id": "a-01", "X-Actor-Role": "admin"}


def at(moment: str) -> dict[str, str]:
    return {"X-Occurred-At": moment}


async def entered(api: httpx.AsyncClient, case_id: str, action: str, moment: str,
                  body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await api.post(f"/cases/{case_id}/{action}", json=body or {}, headers=at(moment))
    assert response.status_code == 200, response.text
    return response.json()


async def historical_case(api: httpx.AsyncClient, moment: str, **changes: Any) -> dict[str, Any]:
    response = await api.post("/cases", json=registration(**changes), headers=at(moment))
    assert response.status_code == 201, response.text
    return response.json()


async def history(api: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    return (await api.get(f"/cases/{case_id}/history")).json()


class TestActsAtTheirOwnTimes:
    async def test_a_settled_case_of_last_year_is_dated_as_it_happened(self, api):  # Reg 38, Reg 39
        case = await historical_case(api, "2025-03-03T09:00:00+08:00", application_type="joint", applicant_side=None)
        assert case["registered_at"] == "2025-03-03T09:00:00+08:00"
        assert "2025" in case["number"]  # numbered in the year it was registered
        case_id = case["id"]
        await entered(api, case_id, "submit-for-review", "2025-03-03T10:00:00+08:00")
        await entered(api, case_id, "accept", "2025-03-05T10:00:00+08:00", {"mediators": ["陈调解员"]})
        await entered(api, case_id, "draft-agreement", "2025-03-20T15:00:00+08:00", agreement())
        for signature in SIGNATURES:
            done = await entered(api, case_id, "sign", "2025-03-25T10:00:00+08:00", signature)
        assert done["status"] == "performance"

        detail = (await api.get(f"/cases/{case_id}")).json()
        assert detail["accepted_at"].startswith("2025-03-05")
        assert [t["at"][:10] for t in await history(api, case_id)] == [
            "2025-03-03", "2025-03-03", "2025-03-05", "2025-03-20", *["2025-03-25"] * 4]
        # nothing is issued for acts entered from records: their paper documents exist
        assert (await api.get(f"/cases/{case_id}/documents")).json() == []

        # the month's statistics count it where it happened: accepted and settled in March 2025
        figures = (await api.get("/statistics", params={"from": "2025-03-01", "to": "2025-03-31",
                                                         "committee_id": case["committee_id"]})).json()
        outcomes = figures["total"]["outcomes"]
        assert outcomes["accepted"] >= 1 and outcomes["settled"] >= 1

    async def test_acts_are_entered_in_the_order_they_took_place(self, api):
        case = await historical_case(api, "2025-05-06T09:00:00+08:00", application_type="joint", applicant_side=None)
        await entered(api, case["id"], "submit-for-review", "2025-05-07T09:00:00+08:00")
        earlier = await api.post(f"/cases/{case['id']}/accept", json={"mediators": ["陈调解员"]},
                                 headers=at("2025-05-06T12:00:00+08:00"))
        assert earlier.status_code == 409 and "order" in earlier.json()["detail"]

    async def test_an_act_in_the_future_is_refused(self, api):
        response = await api.post("/cases", json=registration(), headers=at("2999-01-01T09:00:00+08:00"))
        assert response.status_code == 422 and "past" in response.json()["detail"]

    async def test_a_case_being_entered_needs_each_acts_time(self, api):
        case = await historical_case(api, "2025-05-06T09:00:00+08:00", application_type="joint", applicant_side=None)
        response = await api.post(f"/cases/{case['id']}/submit-for-review", json={})
        assert response.status_code == 409 and "X-Occurred-At" in response.json()["detail"]

    async def test_a_live_case_takes_no_past_time(self, api):
        case = (await api.post("/cases", json=registration(application_type="joint", applicant_side=None))).json()
        response = await api.post(f"/cases/{case['id']}/submit-for-review", json={},
                                  headers=at("2025-05-06T09:00:00+08:00"))
        assert response.status_code == 409 and "not being entered from records" in response.json()["detail"]

    async def test_only_staff_enter_records(self, api):
        response = await api.post("/cases", json=registration(), headers={**at("2025-05-06T09:00:00+08:00"),
                                                                           **AUDITOR})
        assert response.status_code == 403


class TestDeadlinesThatPassedInTheRecords:
    async def test_silence_past_the_consent_deadline_was_a_refusal_then(self, api):  # PML 17
        case = await historical_case(api, "2025-04-01T09:00:00+08:00")
        await entered(api, case["id"], "request-consent", "2025-04-01T10:00:00+08:00")
        late = await api.post(f"/cases/{case['id']}/record-consent",
                              json={"consented_by": "李院长", "method": "written"},
                              headers=at("2025-06-02T10:00:00+08:00"))
        assert late.status_code == 409, late.text  # the deadline fired first, at its own day: the case was rejected then
        steps = await history(api, case["id"])
        assert steps[-1]["event"] == "consent_expired" and steps[-1]["at"].startswith("2025-04")
        assert (await api.get(f"/cases/{case['id']}")).json()["status"] == "rejected"
        # what passed in the records is not told to anyone now
        assert (await api.get(f"/cases/{case['id']}/notifications")).json()["items"] == []

    async def test_completing_the_entry_lets_a_passed_mediation_deadline_fire(self, api):  # Reg 38
        case = await historical_case(api, "2025-06-02T09:00:00+08:00", application_type="joint", applicant_side=None)
        case_id = case["id"]
        await entered(api, case_id, "submit-for-review", "2025-06-02T10:00:00+08:00")
        await entered(api, case_id, "accept", "2025-06-03T10:00:00+08:00", {"mediators": ["陈调解员"]})
        assert (await api.post(f"/cases/{case_id}/complete-entry", headers=AUDITOR)).status_code == 403
        completed = await api.post(f"/cases/{case_id}/complete-entry", headers=INTAKE)
        assert completed.status_code == 200, completed.text

        async def failed() -> bool:
            return (await api.get(f"/cases/{case_id}")).json()["status"] == "failed"

        await eventually(failed, "the deadline that passed in the records fires once the case is in the present")
        last = (await history(api, case_id))[-1]
        assert last["event"] == "deadline_expired"
        assert last["payload"]["due_date"].startswith("2025-07")  # 30 working days after 3 June 2025
        again = await api.post(f"/cases/{case_id}/complete-entry", headers=INTAKE)
        assert again.status_code == 409 and "not being entered from records" in again.json()["detail"]


class TestAYearLoadedLater:
    async def test_closed_cases_working_days_are_counted_again_with_it(self, api, sessions):  # Reg 38
        case = await historical_case(api, "2025-03-03T09:00:00+08:00", application_type="joint", applicant_side=None)
        await entered(api, case["id"], "submit-for-review", "2025-03-03T10:00:00+08:00")
        await entered(api, case["id"], "accept", "2025-03-05T10:00:00+08:00", {"mediators": ["陈调解员"]})
        await entered(api, case["id"], "declare-failed", "2025-03-20T16:00:00+08:00", {"reason": "双方分歧较大"})
        before = days_used(sessions, case["id"])
        assert before == 11  # 6–20 March 2025: eleven working days after the day of acceptance

        # the committee's table for 2025 (as the State Council published it) with one more day off on 12 March
        days = [date(2025, 1, 1) + timedelta(days=n) for n in range(365)]
        table = {"holidays": [d.isoformat() for d in days if d.weekday() < 5 and not chinese_calendar.is_workday(d)]
                 + ["2025-03-12"],
                 "workdays": [d.isoformat() for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)]}
        try:
            loaded = await api.put("/calendar/years/2025", json=table, headers=ADMIN)
            assert loaded.status_code == 200, loaded.text
            assert loaded.json()["closed_recounted"] >= 1
            assert days_used(sessions, case["id"]) == before - 1
        finally:
            with transaction(sessions) as session:
                row = session.get(CalendarYear, 2025)
                if row is not None:
                    session.delete(row)


def days_used(sessions, case_id: str) -> int | None:
    with sessions() as session:
        return session.get(Case, case_id).duration_wd
