"""A re-filed dispute is caught at registration (shared/DOMAIN.md edge case "The dispute is re-filed",
rev 2; reject reason 7, "already mediated by a committee"): the same patient (identity number, or name and
birth date), the same institution and an overlapping treatment answer 409 naming the earlier cases, unless
staff confirm a new dispute with a reason; the review then shows the match.

The test database is shared by the whole session: every test names a patient of its own."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from domain.time import SHANGHAI
from tests.factories import registration
from tests.http import case_of

REASON = "前案为门诊诊疗纠纷，本案为再次住院手术引起的新纠纷"


# ------------------------------------------------------------------ helpers ------------------------------
def unique_name() -> str:
    return f"王{uuid.uuid4().hex[:10]}"


def application(**patient: Any) -> dict[str, Any]:
    """A registration of a patient no other test names (a fresh identity number and name)."""
    data = registration()
    data["patient"].update(name=unique_name(), **patient)
    return data


def again(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The same application, re-filed (with changes)."""
    return {**copy.deepcopy(data), **changes}


def period(start: str, end: str | None = None) -> dict[str, Any]:
    return {"treatment_period": {"start": start, "end": end}}


async def registered(api: httpx.AsyncClient, data: dict[str, Any]) -> dict:
    response = await api.post("/cases", json=data)
    assert response.status_code == 201, response.text
    return response.json()


async def refused(api: httpx.AsyncClient, data: dict[str, Any], status: int) -> dict:
    response = await api.post("/cases", json=data)
    assert response.status_code == status, response.text
    return response.json()


async def cases_named(api: httpx.AsyncClient, name: str) -> list[dict]:
    response = await api.get("/cases", params={"q": name, "limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


# ------------------------------------------------------------------ the rule -----------------------------
class TestReFiledDispute:  # DOMAIN.md edge case "The dispute is re-filed", rev 2; reject reason 7
    async def test_the_same_patient_and_institution_twice_is_409_naming_the_earlier_case(self, api):
        data = application()
        first = await registered(api, data)
        body = await refused(api, again(data), 409)
        assert body["code"] == "possible_duplicate"
        assert [(m["id"], m["number"]) for m in body["matches"]] == [(first["id"], first["number"])]
        assert first["number"] in body["detail"] and "confirm_new_dispute" in body["detail"]
        # nothing was registered
        assert [c["id"] for c in await cases_named(api, data["patient"]["name"])] == [first["id"]]

    async def test_the_identity_number_alone_names_the_patient(self, api):  # a name written otherwise
        data = application()
        first = await registered(api, data)
        renamed = again(data)
        renamed["patient"]["name"] = unique_name()
        body = await refused(api, renamed, 409)
        assert [m["id"] for m in body["matches"]] == [first["id"]]
        assert await cases_named(api, renamed["patient"]["name"]) == []

    async def test_staff_confirm_a_new_dispute_with_a_reason_and_the_review_shows_the_match(self, api):
        data = application()
        first = await registered(api, data)
        new = await registered(api, again(data, confirm_new_dispute={"reason": REASON}))
        assert new["id"] != first["id"]
        case = await case_of(api, new["id"])
        matches = [(d["id"], d["number"]) for d in case["possible_duplicates"]]
        assert matches == [(first["id"], first["number"])]
        assert case["possible_duplicates"][0]["status"] == "registered"  # what the review needs for reason 7
        assert case["registration"]["confirm_new_dispute"] == {"reason": REASON}
        # the earlier case names no later one: only earlier cases are possible duplicates of a case
        assert (await case_of(api, first["id"]))["possible_duplicates"] == []
        named = {c["id"] for c in await cases_named(api, data["patient"]["name"])}
        assert named == {first["id"], new["id"]}

    async def test_a_confirmation_needs_a_reason(self, api):
        data = application()
        await registered(api, data)
        for confirmation in ({}, {"reason": ""}, {"reason": "   "}):
            body = await refused(api, again(data, confirm_new_dispute=confirmation), 422)
            assert body["errors"][0]["field"] == "confirm_new_dispute.reason"
        assert len(await cases_named(api, data["patient"]["name"])) == 1

    async def test_treatment_periods_that_do_not_overlap_are_two_disputes(self, api):
        data = application() | period("2026-03-02", "2026-03-10")
        first = await registered(api, data)
        second = await registered(api, again(data, **period("2026-10-03", "2026-10-12")))
        assert second["possible_duplicates"] == []
        assert (await case_of(api, first["id"]))["possible_duplicates"] == []

    async def test_overlapping_treatment_periods_are_a_possible_duplicate(self, api):
        data = application() | period("2026-10-03", "2026-10-12")
        first = await registered(api, data)
        body = await refused(api, again(data, **period("2026-10-10", "2026-10-20")), 409)
        assert body["code"] == "possible_duplicate" and [m["id"] for m in body["matches"]] == [first["id"]]
        body = await refused(api, again(data, **period("2026-10-12")), 409)  # the last day is shared
        assert [m["id"] for m in body["matches"]] == [first["id"]]
        assert len(await cases_named(api, data["patient"]["name"])) == 1

    async def test_a_period_not_given_may_overlap_any(self, api):  # domain/duplicates.py
        data = application() | period("2026-10-03", "2026-10-12")
        first = await registered(api, data)
        body = await refused(api, again(data, treatment_period=None), 409)
        assert [m["id"] for m in body["matches"]] == [first["id"]]

    async def test_without_an_identity_number_the_name_and_birth_date_name_the_patient(self, api):
        data = application(id_number=None, birth_date="1980-01-01")
        first = await registered(api, data)
        body = await refused(api, again(data), 409)
        assert body["code"] == "possible_duplicate" and [m["id"] for m in body["matches"]] == [first["id"]]
        other = again(data)
        other["patient"]["birth_date"] = "1981-01-01"  # a namesake born another day
        namesake = await registered(api, other)
        assert namesake["possible_duplicates"] == []
        assert len(await cases_named(api, data["patient"]["name"])) == 2

    async def test_another_institution_is_another_dispute(self, api):
        data = application()
        await registered(api, data)
        elsewhere = again(data)
        elsewhere["institution"] = {**data["institution"], "name": "上海市某区第二人民医院"}
        assert (await registered(api, elsewhere))["possible_duplicates"] == []

    async def test_a_birth_date_in_the_future_is_422(self, api):
        tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
        data = application(birth_date=tomorrow.isoformat())
        body = await refused(api, data, 422)
        assert body["code"] == "invalid_payload"
        assert [e["field"] for e in body["errors"]] == ["patient.birth_date"]
        assert "patient.birth_date" in body["detail"]
        assert await cases_named(api, data["patient"]["name"]) == []
