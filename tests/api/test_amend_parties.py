"""Amending the patient side's representatives (`amend_parties`, 更正患方代理人、近亲属): an heir who comes forward
after registration, an agent authorised since, a guardian appointed. The amended list is held to the
registration's rules (Civil Code 173), decides who signs the agreement (Reg 39), and can be made until the
agreement is drafted."""

from __future__ import annotations

import httpx

from tests.api.test_documents_rev2 import documents, in_mediation, text_of
from tests.factories import SIGNATURES, agreement, registration
from tests.http import ok

DECEASED = {"name": "王小明", "gender": "male", "deceased": True}
ELDEST = {"name": "王大明", "relation": "患者之子", "role": "relative"}
DAUGHTER = {"name": "王二明", "relation": "患者之女", "role": "relative"}
LAWYER = {"name": "张律师", "relation": "王二明的委托代理人", "role": "agent",
          "authorisation": "授权委托书（2026年11月26日）", "acts_for": ["王二明"]}


async def amend(api: httpx.AsyncClient, case_id: str, representatives: list[dict], reason: str = "补充登记继承人"
                ) -> httpx.Response:
    return await api.post(f"/cases/{case_id}/amend-parties",
                          json={"patient_representatives": representatives, "reason": reason})


class TestAnHeirWhoCameForward:
    async def test_is_added_and_then_signs_for_the_patient_side(self, api):  # Civil Code 173, Reg 39
        case_id = await in_mediation(api, patient=DECEASED, patient_representatives=[ELDEST])
        response = await amend(api, case_id, [ELDEST, DAUGHTER, LAWYER], "患者之女王二明到会，委托张律师代理")
        assert response.status_code == 200, response.text
        case = (await api.get(f"/cases/{case_id}")).json()
        assert [r["name"] for r in case["registration"]["patient_representatives"]] == ["王大明", "王二明", "张律师"]
        found = (await api.get("/cases", params={"party": "王二明", "party_match": "exact"})).json()["items"]
        assert case_id in [c["id"] for c in found]  # the list finds the case by the heir's name
        history = (await api.get(f"/cases/{case_id}/history")).json()
        assert history[-1]["event"] == "amend_parties" and history[-1]["payload"]["reason"] == "患者之女王二明到会，委托张律师代理"

        # PML 29: one copy per party, now two heirs; Reg 39: each heir signs, 王二明 through her agent
        await ok(api, case_id, "draft-agreement", agreement())
        draft = await text_of(api, (await documents(api, case_id, "agreement_draft"))[0])
        assert "姓名王二明与患者关系患者之女" in draft and "本协议一式四份" in draft
        heir = {"signer": "patient", "method": "signature"}
        assert (await ok(api, case_id, "sign", {**heir, "signed_by": "王大明"}))["status"] == "signing"
        for signature in SIGNATURES[1:]:
            assert (await ok(api, case_id, "sign", signature))["status"] == "signing"  # 王二明 has not signed
        signed = await ok(api, case_id, "sign", {**heir, "signed_by": "张律师", "for_heir": "王二明"})
        assert signed["status"] == "performance"

    async def test_who_was_removed_is_no_longer_found_by_name(self, api):
        case_id = await in_mediation(api, patient=DECEASED, patient_representatives=[ELDEST, DAUGHTER])
        assert (await amend(api, case_id, [ELDEST], "王二明系误登记")).status_code == 200
        found = (await api.get("/cases", params={"party": "王二明", "party_match": "exact"})).json()["items"]
        assert case_id not in [c["id"] for c in found]


class TestTheRegistrationsRulesHold:
    async def test_a_deceased_patient_is_never_left_without_an_heir(self, api):  # Civil Code 173
        case_id = await in_mediation(api, patient=DECEASED, patient_representatives=[ELDEST])
        agent_alone = {**LAWYER, "acts_for": []}
        response = await amend(api, case_id, [agent_alone], "只登记代理人")
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "rule_violated" and response.json()["rules"] == ["representatives_lawful"]
        assert "Civil Code 173" in response.json()["detail"]
        case = (await api.get(f"/cases/{case_id}")).json()
        assert [r["name"] for r in case["registration"]["patient_representatives"]] == ["王大明"]  # nothing changed

    async def test_a_minors_guardian_stays(self, api):
        minor = {"name": "王小宝", "gender": "male", "minor_or_incapacitated": True}
        guardian = {"name": "王大明", "relation": "患者之父", "role": "guardian"}
        case_id = await in_mediation(api, patient=minor, patient_representatives=[guardian])
        response = await amend(api, case_id, [{**guardian, "role": "relative"}], "更正身份")
        assert response.status_code == 409 and response.json()["rules"] == ["representatives_lawful"]
        assert (await amend(api, case_id, [{**guardian, "phone": "13800138001"}], "更正电话")).status_code == 200

    async def test_an_agent_without_an_authorisation_is_refused_whoever_the_patient_is(self, api):
        case_id = await in_mediation(api)
        response = await amend(api, case_id, [{"name": "张律师", "relation": "律师", "role": "agent"}])
        assert response.status_code == 422 and "authorisation" in response.text

    async def test_the_reason_is_required(self, api):
        case_id = await in_mediation(api)
        response = await api.post(f"/cases/{case_id}/amend-parties", json={"patient_representatives": []})
        assert response.status_code == 422 and "reason" in response.text


class TestUntilTheDraftNamesWhoSigns:
    async def test_a_drafted_agreement_is_withdrawn_first(self, api):  # Reg 39: the draft names who signs
        case_id = await in_mediation(api, patient=DECEASED, patient_representatives=[ELDEST])
        await ok(api, case_id, "draft-agreement", agreement())
        response = await amend(api, case_id, [ELDEST, DAUGHTER])
        assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
        await ok(api, case_id, "revise-agreement", {"reason": "补充继承人后重新起草"})
        assert (await amend(api, case_id, [ELDEST, DAUGHTER])).status_code == 200

    async def test_may_be_made_before_acceptance(self, api):
        case = (await api.post("/cases", json=registration())).json()
        response = await amend(api, case["id"], [{"name": "王大明", "relation": "患者之父", "role": "relative",
                                                  "phone": "13800138002"}], "补充联系人")
        assert response.status_code == 200 and response.json()["status"] == "registered"
