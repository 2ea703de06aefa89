"""GET /cases?sort=next_deadline and due_before: the case list in the worklists' order — the case whose nearest
pending deadline (of any kind) comes first, first; cases with no pending deadline left out — a page at a time."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from tests.factories import registration
from tests.http import ok


async def listed(api: httpx.AsyncClient, **params: object) -> list[dict]:
    items, cursor = [], None
    while True:
        answer = await api.get("/cases", params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        if not page["has_more"]:
            return items
        cursor = page["next_cursor"]


async def test_the_nearest_deadline_comes_first_and_cases_without_one_are_left_out(api: httpx.AsyncClient):
    waiting = (await api.post("/cases", json=registration())).json()["id"]
    await ok(api, waiting, "request-consent", {"method": "letter"})  # PML 17: the consent deadline, days away
    accepted = (await api.post("/cases", json=registration(application_type="joint", applicant_side=None))).json()
    await ok(api, accepted["id"], "submit-for-review")
    await ok(api, accepted["id"], "accept", {"mediators": ["陈调解员"]})  # Reg 38: 30 working days away
    registered = (await api.post("/cases", json=registration(application_type="joint", applicant_side=None))).json()

    ours = {waiting, accepted["id"], registered["id"]}
    in_order = [c for c in await listed(api, sort="next_deadline") if c["id"] in ours]
    assert [c["id"] for c in in_order] == [waiting, accepted["id"]]  # registered: no clock runs, not listed
    days = [date.fromisoformat(c["next_deadline"]) for c in in_order]
    assert days == sorted(days)

    soon = [c["id"] for c in await listed(api, sort="next_deadline", due_before=(days[0] + timedelta(days=1))
                                          .isoformat()) if c["id"] in ours]
    assert soon == [waiting]


async def test_a_cursor_of_the_other_order_is_refused(api: httpx.AsyncClient):
    for _ in range(2):
        await api.post("/cases", json=registration())
    page = (await api.get("/cases", params={"limit": 1})).json()
    answer = await api.get("/cases", params={"sort": "next_deadline", "cursor": page["next_cursor"]})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_cursor"
    assert (await api.get("/cases", params={"sort": "urgency"})).status_code == 422


async def test_a_case_is_found_by_the_patients_identity_or_phone_number(api: httpx.AsyncClient):
    import random

    id_number = f"3101011980{random.randint(10000000, 99999999)}"[:17] + "X"
    phone = f"139{random.randint(10000000, 99999999)}"
    body = registration()
    body["patient"] = {**body["patient"], "id_number": id_number, "phone": phone}
    case_id = (await api.post("/cases", json=body)).json()["id"]
    for params in ({"identity": id_number}, {"identity": id_number.lower()}, {"phone": phone},
                   {"phone": f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"}):
        found = (await api.get("/cases", params=params)).json()["items"]
        assert [c["id"] for c in found] == [case_id], params
    assert (await api.get("/cases", params={"identity": "12345"})).status_code == 422
