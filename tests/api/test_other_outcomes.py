"""The other ways a case ends, and the other kinds of application (DOMAIN.md lifecycle and edge cases)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.factories import SIGNATURES, agreement, registration
from tests.http import ok


async def joint_case_in_mediation(api: httpx.AsyncClient) -> str:
    case = (await api.post("/cases", json=registration(application_type="joint", applicant_side=None))).json()
    await ok(api, case["id"], "submit-for-review")
    await ok(api, case["id"], "accept", {"mediators": ["陈调解员"]})
    return case["id"]


class TestRejection:
    async def test_director_rejects_with_reasons_and_the_file_is_archived(self, api):  # Reg 31¶4
        case = (await api.post("/cases", json=registration(application_type="joint", applicant_side=None))).json()
        await ok(api, case["id"], "submit-for-review")
        rejected = await ok(api, case["id"], "reject", {"reasons": [6, 8], "reason_text": "患方已向法院起诉"})
        assert rejected["status"] == "rejected" and rejected["allowed_events"] == ["archive"]
        detail = (await api.get(f"/cases/{case['id']}")).json()
        assert detail["outcome"]["reasons"] == [6, 8]
        assert (await ok(api, case["id"], "archive"))["status"] == "archived"

    async def test_the_other_side_refuses_and_the_case_is_rejected(self, api):  # PML 17
        case = (await api.post("/cases", json=registration())).json()
        await ok(api, case["id"], "request-consent")
        refused = await ok(api, case["id"], "record-refusal", {"refused_by": "李院长", "method": "written"})
        assert refused["status"] == "rejected"


class TestTermination:
    async def test_a_court_accepting_the_dispute_terminates_mediation(self, api):  # Reg 31¶4
        case_id = await joint_case_in_mediation(api)
        ended = await ok(api, case_id, "terminate", {"ground": "court_accepted", "detail": "某区人民法院已立案受理",
                                                     "body": "上海市黄浦区人民法院", "body_case_number": "（2026）沪0101民初123号",
                                                     "body_accepted_on": "2026-11-20"})
        assert ended["status"] == "terminated"
        history = (await api.get(f"/cases/{case_id}/history")).json()
        assert history[-1]["payload"]["ground"] == "court_accepted"

    async def test_a_court_filing_alone_is_not_a_ground(self, api):  # Reg 31¶4: filing is not acceptance
        case_id = await joint_case_in_mediation(api)
        response = await api.post(f"/cases/{case_id}/terminate", json={"ground": "court_filed"})
        assert response.status_code == 422

    async def test_a_party_withdraws_mid_way(self, api):  # PML 23
        case_id = await joint_case_in_mediation(api)
        withdrawal = {"ground": "party_withdrew", "withdrawn_by_side": "patient", "withdrawn_by": "王大明",
                      "withdrawal_form": "written"}
        assert (await ok(api, case_id, "terminate", withdrawal))["status"] == "terminated"


class TestFailure:
    async def test_only_one_party_signed_so_the_mediator_declares_failure(self, api):  # Reg 39, PML 26
        case_id = await joint_case_in_mediation(api)
        await ok(api, case_id, "draft-agreement", agreement())
        signed = await ok(api, case_id, "sign", SIGNATURES[0])
        assert signed["status"] == "signing"  # one signature does not make the agreement effective
        failed = await ok(api, case_id, "declare-failed", {"reason": "医方拒绝签字"})
        assert failed["status"] == "failed"

    async def test_nonperformance_is_settled_with_referral_to_court(self, api):  # PML 32
        case_id = await joint_case_in_mediation(api)
        await ok(api, case_id, "draft-agreement", agreement())
        for signature in SIGNATURES:
            await ok(api, case_id, "sign", signature)
        settled = await ok(api, case_id, "record-nonperformance", {"reason": "医方逾期未付款"})
        assert settled["status"] == "settled"


class TestKindsOfApplication:
    async def test_an_oral_application_needs_its_transcript(self, api):  # Reg 31¶3
        missing = await api.post("/cases", json=registration(application_type="oral"))
        assert missing.status_code == 422 and "oral_record" in missing.json()["detail"]
        case = await api.post("/cases", json=registration(application_type="oral", oral_record="申请人口述：……"))
        assert case.status_code == 201
        assert "request_consent" in case.json()["allowed_events"]

    async def test_committee_initiated_with_both_consents_given_at_registration_goes_to_review(self, api):
        # Reg 31¶1, rev 2: who consented, when and how, for each side
        consents = [{"side": side, "consented_by": who, "method": "written", "consented_at": "2026-11-20T10:00:00+08:00"}
                    for side, who in (("patient", "王大明"), ("institution", "李院长"))]
        body = registration(application_type="committee_initiated", applicant_side=None, consents=consents)
        case = (await api.post("/cases", json=body)).json()
        assert [(c["side"], c["consented_by"]) for c in case["consents"]] == [("patient", "王大明"),
                                                                            ("institution", "李院长")]
        assert (await ok(api, case["id"], "submit-for-review"))["status"] == "under_review"

    async def test_the_bare_both_consented_flag_is_refused_naming_what_to_send(self, api):  # rev 2
        body = registration(application_type="committee_initiated", applicant_side=None, both_consented=True)
        response = await api.post("/cases", json=body)
        assert response.status_code == 422 and "who, when and how" in response.json()["detail"]

    async def test_a_deceased_patients_relatives_apply_through_representatives(self, api):
        body = registration(patient_representatives=[])
        body["patient"]["deceased"] = True
        response = await api.post("/cases", json=body)
        assert response.status_code == 422 and "representatives" in response.json()["detail"]

    @pytest.mark.parametrize("representatives", [
        [{"name": "王大明", "relation": "患者之子", "role": "agent", "authorisation": "授权委托书（2026年11月20日）"}],
        [{"name": "王大明", "relation": "患者之子", "role": "guardian"}],
        [{"name": "王大明", "relation": "患者之子", "role": "relative"},
         {"name": "王母", "relation": "患者之妻", "role": "guardian"}],
    ], ids=["only-an-agent", "a-guardian", "an-heir-and-a-guardian"])
    async def test_a_deceased_patients_heirs_are_named_as_relatives_never_as_his_agents(self, api, representatives):
        # Civil Code 173 (rev 2): agency ends at death; the close relatives are the parties, an agent acts for them
        body = registration(patient_representatives=representatives)
        body["patient"]["deceased"] = True
        response = await api.post("/cases", json=body)
        assert response.status_code == 422, response.text
        assert "Civil Code 173" in response.json()["detail"] and "relative" in response.json()["detail"]

    async def test_an_heir_may_apply_through_an_authorised_agent(self, api):  # Civil Code 173 (rev 2)
        body = registration(patient_representatives=[
            {"name": "王大明", "relation": "患者之子", "role": "relative"},
            {"name": "张律师", "relation": "王大明的委托代理人", "role": "agent",
             "authorisation": "授权委托书（2026年11月20日）", "acts_for": ["王大明"]}])
        body["patient"]["deceased"] = True
        assert (await api.post("/cases", json=body)).status_code == 201
        for acts_for in ([], ["王小明"]):  # an agent names the heirs it acts for, never the deceased
            body["patient_representatives"][1]["acts_for"] = acts_for
            response = await api.post("/cases", json=body)
            assert response.status_code == 422 and "acts_for" in response.json()["detail"], response.text

    async def test_a_deceased_minors_parents_apply_as_heirs_without_a_guardian(self, api):  # Civil Code 173
        body = registration(patient_representatives=[{"name": "王母", "relation": "患儿之母", "role": "relative"}])
        body["patient"].update(deceased=True, minor_or_incapacitated=True)
        assert (await api.post("/cases", json=body)).status_code == 201

    async def test_a_minor_needs_a_guardian(self, api):
        body = registration()
        body["patient"]["minor_or_incapacitated"] = True
        assert (await api.post("/cases", json=body)).status_code == 422
        body["patient_representatives"] = [{"name": "王母", "relation": "患者之母", "role": "guardian"}]
        assert (await api.post("/cases", json=body)).status_code == 201

    async def test_an_agent_needs_an_authorisation(self, api):
        body = registration(patient_representatives=[{"name": "赵律师", "relation": "代理律师", "role": "agent"}])
        response = await api.post("/cases", json=body)
        assert response.status_code == 422 and "authorisation" in response.json()["detail"]


class TestIdempotentRegistration:
    async def test_the_same_idempotency_key_registers_one_case(self, api):
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = registration()
        first = await api.post("/cases", json=body, headers=key)
        second = await api.post("/cases", json=body, headers=key)
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] == second.json()["id"]
        assert first.json()["number"] == second.json()["number"]
        history = (await api.get(f"/cases/{first.json()['id']}/history")).json()
        assert [t["event"] for t in history] == ["register"]

    async def test_the_same_key_with_another_application_is_422_and_registers_nothing(self, api):  # rev 2
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await api.post("/cases", json=registration(), headers=key)
        other = await api.post("/cases", json=registration(claim_amount="1.00"), headers=key)
        assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
        case = (await api.get(f"/cases/{first.json()['id']}")).json()
        assert case["claim_amount"] == "120000.00" and case["version"] == 1
