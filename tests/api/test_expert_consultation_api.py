"""Expert consultation through the API (Reg 33, 35, 37): staff ask for a panel and follow it; experts see only
their own invitations, anonymised until they accept; parties' objections; draws anyone can re-run; figures."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.factories import linked_to, registration
from tests.pools import City, add_expert, make_city

MEDIATOR = {"X-Actor-Id": "m1", "X-Actor-Name": quote("陈调解员"), "X-Actor-Role": "mediator"}
DIRECTOR = {"X-Actor-Id": "d1", "X-Actor-Name": quote("赵主任"), "X-Actor-Role": "director"}
PATIENT_NAME, PATIENT_ID, PATIENT_PHONE = "王小明", "310101198001011234", "13800138000"
QUESTION = "医方术中消毒是否规范，与切口感染有无因果关系及责任程度"


def as_expert(expert_id: str) -> dict[str, str]:
    return {"X-Actor-Id": expert_id, "X-Actor-Name": quote("专家"), "X-Actor-Role": "expert"}


async def eventually(check: Callable[[], Any], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.1)


async def case_in_mediation(api: httpx.AsyncClient, city: City) -> dict[str, Any]:
    facts = f"患者{PATIENT_NAME}（身份证号{PATIENT_ID}，电话{PATIENT_PHONE}）术后切口感染，其兄王大明陪同就诊。"
    case = (await api.post("/cases", json=linked_to(
        city.respondent, committee_id=city.committee_id, application_type="joint", applicant_side=None,
        facts=facts))).json()
    for path, body in [("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})]:
        response = await api.post(f"/cases/{case['id']}/{path}", json=body, headers=DIRECTOR)
        assert response.status_code == 200, response.text
    return case


async def panel_of(api: httpx.AsyncClient, case: dict[str, Any], specialties: list[str]) -> dict[str, Any]:
    response = await api.post(f"/cases/{case['id']}/request-consultation",
                              json={"specialties": specialties, "question": QUESTION}, headers=MEDIATOR)
    assert response.status_code == 200, response.text
    panel_id = response.json()["panel_id"]

    async def drawn() -> bool:
        panel = (await api.get(f"/panels/{panel_id}")).json()
        return all(s["status"] != "drawing" for s in panel["slots"])

    await eventually(drawn, "the first draws")
    return (await api.get(f"/panels/{panel_id}")).json()


def pool(sessions, city: City) -> None:
    for n in range(3):
        add_expert(sessions, city, f"ob{n}", ["obstetrics"])
    for n in range(2):
        add_expert(sessions, city, f"law{n}", ["law"])


@pytest.fixture
def city(sessions) -> City:
    city = make_city(sessions)
    pool(sessions, city)
    return city


class TestRequestingAPanel:
    async def test_a_mediator_asks_for_two_obstetricians_and_a_lawyer(self, api, city):  # Reg 33
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["obstetrics", "obstetrics", "law"])
        assert [s["specialty"] for s in panel["slots"]] == ["obstetrics", "obstetrics", "law"]
        assert [s["status"] for s in panel["slots"]] == ["invited"] * 3
        assert panel["question"] == QUESTION and panel["requested_by"] == "陈调解员"
        listed = (await api.get(f"/cases/{case['id']}/panels")).json()
        assert [p["id"] for p in listed] == [panel["id"]]
        history = [t["event"] for t in (await api.get(f"/cases/{case['id']}/history")).json()]
        assert history[-1] == "request_consultation"

    async def test_consultation_does_not_pause_the_mediation_clock(self, api, city):  # Reg 33, 38
        case = await case_in_mediation(api, city)
        before = (await api.get(f"/cases/{case['id']}")).json()["mediation_clock"]
        await panel_of(api, case, ["law"])
        after = (await api.get(f"/cases/{case['id']}")).json()
        assert after["status"] == "in_mediation"
        assert after["mediation_clock"]["paused"] is False
        assert after["mediation_clock"]["due_date"] == before["due_date"]

    async def test_unknown_specialties_are_422_and_a_case_not_in_mediation_is_409(self, api, city):
        case = await case_in_mediation(api, city)
        response = await api.post(f"/cases/{case['id']}/request-consultation",
                                  json={"specialties": ["astrology"], "question": QUESTION})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].startswith("specialties")
        registered = (await api.post("/cases", json=registration(committee_id=city.committee_id))).json()
        response = await api.post(f"/cases/{registered['id']}/request-consultation",
                                  json={"specialties": ["law"], "question": QUESTION})
        assert response.status_code == 409 and response.json()["code"] == "illegal_transition"

    async def test_the_panels_opinion_event_cannot_be_sent_by_staff(self, api, city):
        case = await case_in_mediation(api, city)
        response = await api.post(f"/cases/{case['id']}/record-expert-opinion", json={})
        assert response.status_code in (404, 405)


class TestTheExpertsPortal:
    async def test_identity_is_hidden_until_the_expert_accepts(self, api, city):  # DOMAIN.md "Invitations"
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["law"])
        [slot] = panel["slots"]
        me = as_expert(slot["expert_id"])
        listed = await api.get("/me/invitations", headers=me)
        assert listed.status_code == 200 and len(listed.json()["items"]) == 1
        before = listed.json()["items"][0]
        raw = json.dumps(before, ensure_ascii=False)
        for secret in (PATIENT_NAME, PATIENT_ID, PATIENT_PHONE, "王大明", case["number"]):
            assert secret not in raw
        assert before["summary"]["patient"] == "王某" and "王某" in before["summary"]["facts"]
        assert before["specialty_label"] == "法学" and before["question"] == QUESTION
        assert before["material"] is None and before["case_number"] is None

        accepted = await api.post(f"/me/invitations/{slot['invitation_id']}/accept", json={}, headers=me)
        assert accepted.status_code == 200, accepted.text
        after = accepted.json()
        assert after["status"] == "accepted" and after["case_number"] == case["number"]
        assert after["material"]["patient_name"] == PATIENT_NAME
        assert PATIENT_ID not in json.dumps(after, ensure_ascii=False)  # never needed for an opinion

    async def test_another_experts_invitation_is_not_found_and_staff_are_not_experts(self, api, city):
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["obstetrics", "law"])
        lawyer_slot, obstetrician_slot = panel["slots"][1], panel["slots"][0]
        lawyer = as_expert(lawyer_slot["expert_id"])
        theirs = obstetrician_slot["invitation_id"]
        assert (await api.get(f"/me/invitations/{theirs}", headers=lawyer)).status_code == 404
        assert (await api.post(f"/me/invitations/{theirs}/accept", json={}, headers=lawyer)).status_code == 404
        assert (await api.post(f"/me/invitations/{theirs}/decline", json={"reason": "x"},
                               headers=lawyer)).status_code == 404
        assert [i["id"] for i in (await api.get("/me/invitations", headers=lawyer)).json()["items"]] == [
            lawyer_slot["invitation_id"]]
        assert (await api.get("/me/invitations", headers=MEDIATOR)).status_code == 403
        assert (await api.get("/me/invitations", headers=as_expert("nobody"))).status_code == 403

    async def test_a_decline_needs_a_reason_and_is_answered_once(self, api, city):
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["law"])
        [slot] = panel["slots"]
        me = as_expert(slot["expert_id"])
        assert (await api.post(f"/me/invitations/{slot['invitation_id']}/decline", json={},
                               headers=me)).status_code == 422
        declined = await api.post(f"/me/invitations/{slot['invitation_id']}/decline",
                                  json={"reason": "出差"}, headers=me)
        assert declined.status_code == 200 and declined.json()["status"] == "declined"
        again = await api.post(f"/me/invitations/{slot['invitation_id']}/accept", json={}, headers=me)
        assert again.status_code == 409
        panel = (await api.get(f"/panels/{panel['id']}")).json()
        assert panel["slots"][0]["expert_id"] != slot["expert_id"]  # replaced, same specialty
        assert panel["slots"][0]["specialty"] == "law" and panel["slots"][0]["attempts"] == 2

    async def test_an_opinion_before_accepting_is_409_and_a_liability_over_100_is_422(self, api, city):
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["law"])
        [slot] = panel["slots"]
        me = as_expert(slot["expert_id"])
        opinion = {"fault": "有过错", "causation": "有因果关系", "liability_percent": 60}
        url = f"/me/invitations/{slot['invitation_id']}/opinion"
        early = await api.post(url, json=opinion, headers=me)
        assert early.status_code == 409 and early.json()["code"] == "illegal_transition"  # Reg 33: accept first
        assert early.json()["state"] == "invited" and "accept" in early.json()["allowed_events"]
        await api.post(f"/me/invitations/{slot['invitation_id']}/accept", json={}, headers=me)
        assert (await api.post(url, json={**opinion, "liability_percent": 101}, headers=me)).status_code == 422
        given = await api.post(url, json=opinion, headers=me)
        assert given.status_code == 200 and given.json()["opinion"]["liability_percent"] == 60


class TestObjections:
    async def test_an_upheld_objection_recuses_the_expert_and_draws_a_replacement(self, api, city):  # Reg 37
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["obstetrics"])
        [slot] = panel["slots"]
        recorded = await api.post(f"/panels/{panel['id']}/objections", headers=MEDIATOR, json={
            "invitation_id": slot["invitation_id"], "raised_by": "patient", "form": "oral",
            "reason": "该专家与主治医师系师生关系"})
        assert recorded.status_code == 201, recorded.text
        objection = recorded.json()
        decided = await api.post(f"/panels/{panel['id']}/objections/{objection['id']}/decision", headers=DIRECTOR,
                                 json={"decision": "upheld", "reason": "存在可能影响公正的关系"})
        assert decided.status_code == 200, decided.text
        assert decided.json()["decision"] == "upheld" and decided.json()["decided_by"] == "赵主任"  # the director decides
        panel = (await api.get(f"/panels/{panel['id']}")).json()
        assert panel["slots"][0]["expert_id"] != slot["expert_id"] and panel["slots"][0]["specialty"] == "obstetrics"
        recused = [i for i in panel["invitations"] if i["id"] == slot["invitation_id"]][0]
        assert recused["status"] == "recused"
        again = await api.post(f"/panels/{panel['id']}/objections/{objection['id']}/decision", headers=DIRECTOR,
                               json={"decision": "rejected", "reason": "x"})
        assert again.status_code == 409

    async def test_a_rejected_objection_keeps_the_expert(self, api, city):  # Reg 37: staff decide
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["law"])
        [slot] = panel["slots"]
        objection = (await api.post(f"/panels/{panel['id']}/objections", headers=MEDIATOR, json={
            "invitation_id": slot["invitation_id"], "raised_by": "institution", "form": "written",
            "reason": "无具体理由"})).json()
        decided = await api.post(f"/panels/{panel['id']}/objections/{objection['id']}/decision",
                                 json={"decision": "rejected", "reason": "理由不成立"})
        assert decided.status_code == 200 and decided.json()["decision"] == "rejected"
        panel = (await api.get(f"/panels/{panel['id']}")).json()
        assert panel["slots"][0]["expert_id"] == slot["expert_id"]

    async def test_an_objection_names_an_invitation_of_the_panel(self, api, city):
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["law"])
        response = await api.post(f"/panels/{panel['id']}/objections", json={
            "invitation_id": "nope", "raised_by": "patient", "form": "oral", "reason": "x"})
        assert response.status_code == 404
        assert (await api.get("/panels/nope/objections")).status_code == 404


class TestDrawRecords:
    async def test_a_recorded_draw_reruns_to_the_same_expert(self, api, city):  # Reg 37: random, recorded
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["obstetrics"])
        [draw_id] = panel["draw_ids"]
        record = (await api.get(f"/draws/{draw_id}")).json()
        assert record["algorithm"] == "hmac-sha256-rejection-v1" and len(record["seed"]) == 64
        assert record["result"] == panel["slots"][0]["expert_id"] and record["result"] in record["snapshot"]
        verified = (await api.get(f"/draws/{draw_id}/verify")).json()
        assert verified["matches"] is True and verified["rerun_result"] == record["result"]
        assert (await api.get("/draws/nope/verify")).status_code == 404


class TestMeetingAndFigures:
    async def test_the_meeting_waits_for_every_acceptance(self, api, city):
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["obstetrics", "law"])
        meeting = {"at": "2026-12-03T14:00:00+08:00", "place": "第二会议室", "material": ["住院病历"]}
        assert (await api.post(f"/panels/{panel['id']}/meeting", json=meeting)).status_code == 409
        for slot in panel["slots"]:
            await api.post(f"/me/invitations/{slot['invitation_id']}/accept", json={},
                           headers=as_expert(slot["expert_id"]))
        scheduled = await api.post(f"/panels/{panel['id']}/meeting", json=meeting, headers=MEDIATOR)
        assert scheduled.status_code == 200, scheduled.text
        assert scheduled.json()["status"] == "complete" and scheduled.json()["meeting"]["place"] == "第二会议室"
        mine = (await api.get(f"/me/invitations/{panel['slots'][0]['invitation_id']}",
                              headers=as_expert(panel["slots"][0]["expert_id"]))).json()
        assert mine["meeting"]["place"] == "第二会议室"

    async def test_figures_per_expert_and_per_specialty(self, api, city):  # what a committee watches
        case = await case_in_mediation(api, city)
        panel = await panel_of(api, case, ["law"])
        [slot] = panel["slots"]
        await api.post(f"/me/invitations/{slot['invitation_id']}/decline", json={"reason": "出差"},
                       headers=as_expert(slot["expert_id"]))
        replacement = (await api.get(f"/panels/{panel['id']}")).json()["slots"][0]
        await api.post(f"/me/invitations/{replacement['invitation_id']}/accept", json={},
                       headers=as_expert(replacement["expert_id"]))
        experts = {e["expert_id"]: e for e in
                   (await api.get("/pool/figures/experts", params={"city": city.name, "specialty": "law"})).json()}
        assert experts[slot["expert_id"]]["acceptance_rate"] == 0.0
        assert experts[replacement["expert_id"]]["acceptance_rate"] == 1.0
        assert experts[replacement["expert_id"]]["current_load"] == 1
        assert experts[replacement["expert_id"]]["median_answer_hours"] is not None
        specialties = {s["specialty"]: s for s in
                       (await api.get("/pool/figures/specialties", params={"city": city.name})).json()}
        assert specialties["law"]["experts"] == 2 and specialties["law"]["invitations"] == 2
        assert specialties["law"]["acceptance_rate"] == 0.5 and specialties["law"]["specialty_label"] == "法学"
        bad = await api.get("/pool/figures/experts", params={"specialty": "astrology"})
        assert bad.status_code == 422
