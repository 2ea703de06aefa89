"""Every clock length is a per-committee policy (DOMAIN.md "Time: the clocks": local rules differ); a case keeps
the lengths it was registered under."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from models.tables import Committee
from tests.factories import registration
from tests.oracle import nth_working_day_after


@pytest.fixture
def committee(sessions) -> str:
    committee_id = f"c{uuid.uuid4().hex[:10]}"
    with sessions() as session:
        session.add(Committee(id=committee_id, name="某市某区医疗纠纷人民调解委员会", short_name="某区", city="某市"))
        session.commit()
    return committee_id


class TestCommitteePolicy:
    async def test_the_defaults_are_the_rule_books(self, api, committee):
        listed = {c["id"]: c for c in (await api.get("/committees")).json()}
        policy = listed[committee]["policy"]
        assert (policy["consent_wd"], policy["mediation_wd"], policy["judicial_confirmation_days"]) == (5, 30, 30)

    async def test_a_committee_sets_its_own_consent_clock_and_new_cases_follow_it(self, api, committee):
        response = await api.put(f"/committees/{committee}/policy", json={"consent_wd": 3, "mediation_wd": 45})
        assert response.status_code == 200, response.text
        assert response.json()["policy"]["consent_wd"] == 3
        case = (await api.post("/cases", json=registration(committee_id=committee))).json()
        moved = (await api.post(f"/cases/{case['id']}/request-consent", json={})).json()
        requested_on = date.fromisoformat(moved["at"][:10])
        deadlines = (await api.get(f"/cases/{case['id']}")).json()["deadlines"]
        [consent] = [d for d in deadlines if d["kind"] == "consent_expired"]
        assert consent["due_on"] == nth_working_day_after(requested_on, 3).isoformat()

    async def test_a_case_keeps_the_lengths_it_was_registered_under(self, api, committee):
        case = (await api.post("/cases", json=registration(committee_id=committee))).json()
        await api.put(f"/committees/{committee}/policy", json={"consent_wd": 10})
        moved = (await api.post(f"/cases/{case['id']}/request-consent", json={})).json()
        requested_on = date.fromisoformat(moved["at"][:10])
        [consent] = [d for d in (await api.get(f"/cases/{case['id']}")).json()["deadlines"]
                     if d["kind"] == "consent_expired"]
        assert consent["due_on"] == nth_working_day_after(requested_on, 5).isoformat()

    async def test_lengths_out_of_range_are_422_and_unknown_committees_404(self, api, committee):
        response = await api.put(f"/committees/{committee}/policy", json={"mediation_wd": 0})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "mediation_wd"
        assert (await api.put("/committees/atlantis/policy", json={})).status_code == 404


async def test_two_committees_with_the_same_short_name_number_their_cases_apart(api, sessions, committee):
    twin = f"c{uuid.uuid4().hex[:10]}"
    with sessions() as session:
        session.add(Committee(id=twin, name="另一市某区医疗纠纷人民调解委员会", short_name="某区", city="另一市"))
        session.commit()
    first = await api.post("/cases", json=registration(committee_id=committee))
    second = await api.post("/cases", json=registration(committee_id=twin))
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == second.json()["number"]  # each committee's own sequence
