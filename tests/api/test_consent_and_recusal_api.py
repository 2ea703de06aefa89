"""Consents, refusals, recusal by registry id and who acted, through the API (DOMAIN.md rev 2): a
committee-initiated case records each side's consent; silence is no refusal before the deadline; the allowed
events are exactly what would be accepted; a consultation needs the respondent linked by id; the actor's name
arrives in UTF-8; the committee seal is the director's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from domain.lifecycle import SYSTEM_EVENTS
from tests.factories import SIGNATURES, WITHDRAWAL, agreement, linked_to, registration
from tests.http import case_of, ok, refused
from tests.pools import City, add_expert, make_city

NAME = "陈调解员"
NAME_RFC8187 = "UTF-8''%E9%99%88%E8%B0%83%E8%A7%A3%E5%91%98"  # the same name, RFC 8187
MEDIATOR = {"X-Actor-Id": "m1", "X-Actor-Name": NAME_RFC8187, "X-Actor-Role": "mediator"}
QUESTION = "医方术中消毒是否规范，与切口感染有无因果关系及责任程度"
CONSENTED_AT = "2026-11-20T10:00:00+08:00"


def committee_initiated(**changes: Any) -> dict[str, Any]:
    return registration(application_type="committee_initiated", applicant_side=None, **changes)


def joint(**changes: Any) -> dict[str, Any]:
    return registration(application_type="joint", applicant_side=None, **changes)


def consent(side: str, who: str) -> dict[str, str]:
    return {"side": side, "consented_by": who, "method": "written", "consented_at": CONSENTED_AT}


async def register(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/cases", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def allowed(api: httpx.AsyncClient, case_id: str) -> list[str]:
    """What the law allows now, as both reads say it; they must agree."""
    listed = (await api.get(f"/cases/{case_id}/allowed-events")).json()["allowed_events"]
    assert (await case_of(api, case_id))["allowed_events"] == listed
    return listed


async def history(api: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/cases/{case_id}/history")
    assert response.status_code == 200, response.text
    return response.json()


async def in_mediation(api: httpx.AsyncClient, body: dict[str, Any]) -> str:
    case = await register(api, body)
    await ok(api, case["id"], "submit-for-review")
    await ok(api, case["id"], "accept", {"mediators": [NAME]})
    return case["id"]


@pytest.fixture
def city(sessions) -> City:
    city = make_city(sessions)
    for n in range(2):
        add_expert(sessions, city, f"law{n}", ["law"])
    return city


class TestCommitteeInitiatedConsents:
    async def test_it_cannot_go_to_review_before_any_consent(self, api):  # Reg 31¶1, rev 2
        case = await register(api, committee_initiated())
        assert case["status"] == "registered" and case["consents"] == []
        error = await refused(api, case["id"], "submit-for-review")
        assert error["code"] == "rule_violated" and "both_sides_agree" in error["rules"]
        assert (await case_of(api, case["id"]))["status"] == "registered"

    async def test_a_consent_must_name_its_side(self, api):  # Reg 31¶1, rev 2
        case = await register(api, committee_initiated())
        error = await refused(api, case["id"], "record-consent", {"consented_by": "王大明", "method": "written"})
        assert error["code"] == "rule_violated" and "side_not_on_file" in error["rules"]
        assert (await case_of(api, case["id"]))["consents"] == []

    async def test_one_sides_consent_is_recorded_with_who_when_and_how_and_the_case_waits(self, api):
        # Reg 31¶1, rev 2: one consent per side, recorded while the case stays registered
        case = await register(api, committee_initiated())
        recorded = await ok(api, case["id"], "record-consent",
                            {"side": "patient", "consented_by": "王大明", "method": "oral"})
        assert recorded["status"] == "registered"
        [on_file] = (await case_of(api, case["id"]))["consents"]
        assert (on_file["side"], on_file["consented_by"], on_file["method"]) == ("patient", "王大明", "oral")
        at = datetime.fromisoformat(on_file["consented_at"])
        assert on_file["consented_at"].endswith("+08:00") and abs(
            (datetime.now(at.tzinfo) - at).total_seconds()) < 300  # "now", as no time was given

    async def test_the_same_side_cannot_consent_twice(self, api):  # Reg 31¶1, rev 2
        case = await register(api, committee_initiated())
        body = {"side": "patient", "consented_by": "王大明", "method": "written"}
        await ok(api, case["id"], "record-consent", body)
        error = await refused(api, case["id"], "record-consent", {**body, "consented_by": "王小明"})
        assert error["code"] == "rule_violated" and "side_not_on_file" in error["rules"]
        consents = (await case_of(api, case["id"]))["consents"]
        assert [(c["side"], c["consented_by"]) for c in consents] == [("patient", "王大明")]

    async def test_review_is_offered_only_once_both_sides_consented(self, api):  # Reg 31¶1, rev 2
        case = await register(api, committee_initiated())
        first = await allowed(api, case["id"])
        assert "submit_for_review" not in first and "record_consent" in first
        await ok(api, case["id"], "record-consent", consent("patient", "王大明"))
        after_one = await allowed(api, case["id"])
        assert "submit_for_review" not in after_one and "record_consent" in after_one
        await refused(api, case["id"], "submit-for-review")
        await ok(api, case["id"], "record-consent", consent("institution", "李院长"))
        after_both = await allowed(api, case["id"])
        assert "submit_for_review" in after_both and "record_consent" not in after_both
        sides = [c["side"] for c in (await case_of(api, case["id"]))["consents"]]
        assert sides == ["patient", "institution"]
        assert (await ok(api, case["id"], "submit-for-review"))["status"] == "under_review"

    async def test_the_committee_does_not_request_consent_it_records_it(self, api):  # Reg 31¶1, rev 2
        case = await register(api, committee_initiated())
        assert "request_consent" not in await allowed(api, case["id"])
        error = await refused(api, case["id"], "request-consent")
        assert error["code"] == "rule_violated" and "one_sided" in error["rules"]
        assert (await case_of(api, case["id"]))["status"] == "registered"

    async def test_both_consents_given_at_registration_go_straight_to_review(self, api):  # Reg 31¶1, rev 2
        body = committee_initiated(consents=[consent("patient", "王大明"), consent("institution", "李院长")])
        case = await register(api, body)
        assert [(c["side"], c["consented_by"], c["method"]) for c in case["consents"]] == [
            ("patient", "王大明", "written"), ("institution", "李院长", "written")]
        assert all(c["consented_at"] == CONSENTED_AT for c in case["consents"])
        listed = await allowed(api, case["id"])
        assert "submit_for_review" in listed and "record_consent" not in listed
        assert (await ok(api, case["id"], "submit-for-review"))["status"] == "under_review"

    async def test_the_bare_both_consented_flag_is_422(self, api):  # Reg 31¶1, rev 2: who, when and how
        response = await api.post("/cases", json=committee_initiated(both_consented=True))
        assert response.status_code == 422 and response.json()["code"] == "invalid_payload"
        assert "who, when and how" in response.json()["detail"]  # not merely an unknown field


class TestOneSidedConsent:
    @pytest.mark.parametrize(("applicant", "other"), [("patient", "institution"), ("institution", "patient")])
    async def test_the_consent_recorded_is_the_other_sides(self, api, applicant, other):  # Reg 31¶1
        case = await register(api, registration(application_type="one_side", applicant_side=applicant))
        await ok(api, case["id"], "request-consent")
        consented = await ok(api, case["id"], "record-consent", {"consented_by": "李院长", "method": "written"})
        assert consented["status"] == "under_review"
        [on_file] = (await case_of(api, case["id"]))["consents"]
        assert on_file["side"] == other and on_file["consented_by"] == "李院长"
        assert on_file["consented_at"].endswith("+08:00")
        assert (await history(api, case["id"]))[-1]["payload"]["side"] == other


class TestSilenceIsNoRefusalBeforeTheDeadline:
    async def test_silence_cannot_be_recorded_while_the_consent_period_runs(self, api):  # PML 17, rev 2
        case = await register(api, registration())
        await ok(api, case["id"], "request-consent")
        error = await refused(api, case["id"], "record-refusal", {"refused_by": "李院长", "method": "silence"})
        assert error["code"] == "rule_violated" and "refusal_stated" in error["rules"]
        assert "consent deadline" in error["detail"]
        assert (await case_of(api, case["id"]))["status"] == "awaiting_consent"
        assert [t["event"] for t in await history(api, case["id"])] == ["register", "request_consent"]

    async def test_a_written_refusal_rejects_the_case(self, api):  # PML 17
        case = await register(api, registration())
        await ok(api, case["id"], "request-consent")
        rejected = await ok(api, case["id"], "record-refusal", {"refused_by": "李院长", "method": "written"})
        assert rejected["status"] == "rejected"
        assert (await case_of(api, case["id"]))["status"] == "rejected"

    async def test_a_refusal_is_filed_with_who_when_and_how(self, api):  # PML 17, PML 27 (rev 2)
        case = await register(api, registration())
        await ok(api, case["id"], "request-consent")
        future = {"refused_by": "李院长", "method": "written", "refused_at": "2099-01-01T09:00:00+08:00"}
        response = await api.post(f"/cases/{case['id']}/record-refusal", json=future)
        assert response.status_code == 422 and "refused_at" in response.text  # never in the future
        given = datetime.now().astimezone().replace(microsecond=0).isoformat()
        await ok(api, case["id"], "record-refusal", {"refused_by": "李院长", "method": "written", "refused_at": given})
        filed = (await history(api, case["id"]))[-1]["payload"]
        assert (filed["refused_by"], filed["method"]) == ("李院长", "written")
        assert datetime.fromisoformat(filed["refused_at"]) == datetime.fromisoformat(given)


# A valid request for each event staff may send from `registered`: (method, path, body); link_respondent's
# body names an institution of the pool the test makes.
VALID_FROM_REGISTERED: dict[str, tuple[str, str, dict[str, Any]]] = {
    "request_consent": ("POST", "request-consent", {"method": "phone"}),
    "submit_for_review": ("POST", "submit-for-review", {}),
    "record_consent": ("POST", "record-consent",
                       {"side": "patient", "consented_by": "王大明", "method": "written"}),
    "record_refusal": ("POST", "record-refusal", {"refused_by": "李院长", "method": "written"}),
    "terminate": ("POST", "terminate", WITHDRAWAL),
    "link_respondent": ("PUT", "respondent-institution", {}),
    "amend_parties": ("POST", "amend-parties", {"patient_representatives": [
        {"name": "王大明", "relation": "患者之父", "phone": "13800138003"}], "reason": "补充联系人"}),
}


class TestAllowedEventsAreWhatWouldBeAccepted:
    async def test_a_joint_application_is_not_offered_request_consent(self, api):  # Reg 31¶1, rev 2
        case = await register(api, joint())
        listed = await allowed(api, case["id"])
        assert "request_consent" not in listed and "submit_for_review" in listed
        error = await refused(api, case["id"], "request-consent")
        assert error["code"] == "rule_violated"
        assert (await case_of(api, case["id"]))["status"] == "registered"

    @pytest.mark.parametrize("kind", ["joint", "committee_initiated"])
    async def test_every_event_listed_for_a_registered_case_is_accepted(self, api, sessions, kind):  # rev 2
        institution = make_city(sessions).respondent
        body = joint if kind == "joint" else committee_initiated
        listed = await allowed(api, (await register(api, body()))["id"])
        assert listed and not set(listed) & SYSTEM_EVENTS  # the events the case raises itself are not offered
        for event in listed:  # each on a case of its own, as the list was given
            assert event in VALID_FROM_REGISTERED, f"no valid request known for {event}"
            method, path, payload = VALID_FROM_REGISTERED[event]
            if event == "link_respondent":
                payload = {"institution_id": institution}
            case_id = (await register(api, body()))["id"]
            response = await api.request(method, f"/cases/{case_id}/{path}", json=payload)
            assert response.status_code == 200, f"{kind}: {event} listed but refused: {response.text}"


class TestRecusalByRegistryId:
    async def test_a_consultation_needs_the_respondent_linked_by_id(self, api, city):  # Reg 37, rev 2
        case_id = await in_mediation(api, joint(committee_id=city.committee_id))
        assert (await case_of(api, case_id))["respondent_institution_id"] is None
        assert "request_consultation" not in await allowed(api, case_id)
        ask = {"specialties": ["law"], "question": QUESTION}
        response = await api.post(f"/cases/{case_id}/request-consultation", json=ask, headers=MEDIATOR)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "rule_violated"
        assert "respondent-institution" in response.json()["detail"]

        link = f"/cases/{case_id}/respondent-institution"
        unknown = await api.put(link, json={"institution_id": "no-such"})
        assert unknown.status_code == 422, unknown.text
        assert [e["field"] for e in unknown.json()["errors"]] == ["institution_id"]
        assert (await case_of(api, case_id))["respondent_institution_id"] is None

        linked = await api.put(link, json={"institution_id": city.respondent})
        assert linked.status_code == 200, linked.text
        assert linked.json()["status"] == "in_mediation"
        assert (await case_of(api, case_id))["respondent_institution_id"] == city.respondent
        assert "request_consultation" in await allowed(api, case_id)

        asked = await ok(api, case_id, "request-consultation", ask, headers=MEDIATOR)
        assert asked["panel_id"] and asked["status"] == "in_mediation"
        assert (await api.get(f"/panels/{asked['panel_id']}")).status_code == 200

    async def test_an_unknown_registry_id_at_registration_is_422(self, api, city):  # Reg 37, rev 2
        body = linked_to("no-such-institution", committee_id=city.committee_id)
        response = await api.post("/cases", json=body)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["institution.pool_institution_id"]

    async def test_a_known_registry_id_at_registration_links_the_case_from_the_start(self, api, city):
        # Reg 37, rev 2
        body = linked_to(city.respondent, committee_id=city.committee_id, application_type="joint",
                         applicant_side=None)
        case = await register(api, body)
        assert case["respondent_institution_id"] == city.respondent
        assert (await case_of(api, case["id"]))["respondent_institution_id"] == city.respondent
        await ok(api, case["id"], "submit-for-review")
        await ok(api, case["id"], "accept", {"mediators": [NAME]})
        assert "request_consultation" in await allowed(api, case["id"])
        ask = {"specialties": ["law"], "question": QUESTION}
        asked = await ok(api, case["id"], "request-consultation", ask, headers=MEDIATOR)
        assert asked["panel_id"]
        assert "link_respondent" not in [t["event"] for t in await history(api, case["id"])]


class TestActorNameIsUtf8:
    async def test_a_name_sent_as_raw_utf8_bytes_is_recorded_as_is(self, api):  # rev 2
        response = await api.post("/cases", json=registration(),
                                  headers=[(b"x-actor-name", NAME.encode()), (b"x-actor-role", b"intake")])
        assert response.status_code == 201, response.text
        [registered] = await history(api, response.json()["id"])
        assert registered["actor_name"] == NAME

    async def test_a_name_in_rfc_8187_form_is_recorded_the_same(self, api):  # rev 2
        case = await register(api, joint())
        await ok(api, case["id"], "submit-for-review",
                 headers={"X-Actor-Name": NAME_RFC8187, "X-Actor-Role": "intake"})
        assert (await history(api, case["id"]))[-1]["actor_name"] == NAME

    async def test_a_name_that_is_not_utf8_is_422_and_nothing_is_recorded(self, api):  # rev 2
        case = await register(api, joint())
        response = await api.post(f"/cases/{case['id']}/submit-for-review", json={},
                                  headers=[(b"x-actor-name", b"\xff\xfe"), (b"x-actor-role", b"intake")])
        assert response.status_code == 422, response.text
        assert "X-Actor-Name" in response.json()["detail"]
        assert [e["field"] for e in response.json()["errors"]] == ["X-Actor-Name"]
        assert [t["event"] for t in await history(api, case["id"])] == ["register"]
        assert (await case_of(api, case["id"]))["status"] == "registered"
        registering = await api.post("/cases", json=registration(), headers=[(b"x-actor-name", b"\xff\xfe")])
        assert registering.status_code == 422, registering.text


class TestTheCommitteeSealIsTheDirectors:
    async def test_a_mediator_cannot_apply_the_seal_but_signs_for_themself(self, api):  # Reg 39
        case_id = await in_mediation(api, joint())
        await ok(api, case_id, "draft-agreement", agreement())
        seal = next(s for s in SIGNATURES if s["signer"] == "committee_seal")
        response = await api.post(f"/cases/{case_id}/sign", json=seal, headers=MEDIATOR)
        assert response.status_code == 403, response.text
        assert "only the committee seal is the director's" in response.json()["detail"]
        assert "committee_seal" not in (await case_of(api, case_id))["signatures"]

        mine = next(s for s in SIGNATURES if s["signer"] == "mediator")
        signed = await ok(api, case_id, "sign", mine, headers=MEDIATOR)
        assert signed["status"] == "signing"
        detail = await case_of(api, case_id)
        assert set(detail["signatures"]) == {"mediator"}
        assert (await history(api, case_id))[-1]["actor_name"] == NAME
