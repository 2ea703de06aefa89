"""The case's state is one typed value changed only by `apply(event, payload)`; the workflow and the API's pre-check
read the guards' facts from it alike, so they cannot disagree on what a rule sees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.case_state import CaseState
from domain.lifecycle import CASE_FACTS
from tests.factories import AGREEMENT, registration

DAY = date(2026, 3, 2)
TERMS = AGREEMENT["terms"]


def facts(state: CaseState) -> dict:
    return state.facts(today=DAY, consent_due_passed=False, mediation_due=None, effective_on=None)


def test_registration_gives_the_applicant_side_and_its_consent():
    state = CaseState.registered(registration())
    assert state.application_type == "one_side" and state.applicant_side == "patient"
    assert facts(state)["consents"] == sorted(state.consents)


def test_the_facts_are_exactly_what_the_guards_read():
    assert set(facts(CaseState.registered(registration()))) == set(CASE_FACTS)


def test_apply_is_pure():
    before = CaseState.registered(registration())
    after = before.apply("record_consent", {"side": "institution"}, on=DAY)
    assert "institution" in after.consents and "institution" not in before.consents  # Reg 31
    assert before.apply("request_consent", {}, on=DAY) is before  # an event that changes none of it


def test_a_new_draft_starts_the_signatures_and_the_payments_again():  # Reg 39, PML 31
    state = (CaseState.registered(registration())
             .apply("draft_agreement", {"terms": TERMS}, on=DAY)
             .apply("sign", {"signer": "patient", "signed_by": "王芳"}, on=DAY))
    assert set(state.signed) == {"patient"} and state.drafted_on == DAY and len(state.terms) == 1
    redrafted = state.apply("draft_agreement", {"terms": TERMS}, on=date(2026, 3, 3))
    assert redrafted.signed == {} and redrafted.payments == () and redrafted.drafted_on == date(2026, 3, 3)
    assert state.apply("revise_agreement", {}, on=DAY).signed == {}


def test_sessions_open_until_their_minutes():
    state = CaseState.registered(registration()).apply("schedule_session", {"session_id": "s1"}, on=DAY)
    assert facts(state)["scheduled_sessions"] == ["s1"]
    assert facts(state.apply("record_minutes", {"session_id": "s1"}, on=DAY))["scheduled_sessions"] == []


def test_a_payment_counts_against_its_term():  # PML 31
    state = (CaseState.registered(registration())
             .apply("draft_agreement", {"terms": TERMS}, on=DAY)
             .apply("record_payment", {"term": 1, "amount": "10000.00", "paid_on": "2026-03-05"}, on=DAY))
    [balance] = facts(state)["balances"]
    assert balance.term == 1 and balance.balance == Decimal("76500.50")


@pytest.mark.parametrize("deceased", [False, True])
def test_the_projection_gives_the_state_the_workflow_keeps(deceased):
    """What the workflow applies event by event, the pre-check builds from the recorded projection (Civil Code
    173: a deceased patient's heirs sign for the patient side)."""
    registered = registration()
    registered["patient"]["deceased"] = deceased
    kept = (CaseState.registered(registered)
            .apply("record_consent", {"side": "institution"}, on=DAY)
            .apply("link_respondent", {"institution_id": "inst-1"}, on=DAY)
            .apply("accept", {"mediators": ["陈调解员"]}, on=DAY)
            .apply("schedule_session", {"session_id": "s1"}, on=DAY)
            .apply("draft_agreement", {"terms": TERMS, "drafted_at": "2026-03-02T10:00:00+08:00"}, on=DAY)
            .apply("sign", {"signer": "institution", "signed_by": "院方"}, on=DAY))
    recorded = CaseState.of_record(
        registration=registered, consents=[{"side": "institution"}], respondent="inst-1",
        signatures={"institution": {"signer": "institution", "signed_by": "院方"}}, open_sessions=["s1"],
        agreement={"terms": TERMS, "drafted_at": "2026-03-02T10:00:00+08:00"}, payments=[], mediators=["陈调解员"],
    )
    assert facts(recorded) == facts(kept)


def test_an_amendment_decides_who_the_heirs_are_and_whom_each_agent_signs_for():  # Civil Code 173, Reg 39
    deceased = registration(patient={"name": "王小明", "deceased": True},
                            patient_representatives=[{"name": "王大明", "relation": "患者之子", "role": "relative"}])
    before = CaseState.registered(deceased)
    assert before.heirs == ("王大明",) and before.party_count == 2 and before.patient_deceased
    after = before.apply("amend_parties", {"patient_representatives": [
        {"name": "王大明", "relation": "患者之子", "role": "relative"},
        {"name": "王二明", "relation": "患者之女", "role": "relative"},
        {"name": "张律师", "relation": "律师", "role": "agent", "authorisation": "授权委托书", "acts_for": ["王二明"]}],
        "reason": "补充登记继承人"}, on=DAY)
    assert after.heirs == ("王大明", "王二明") and after.heir_agents == (("张律师", "王二明"),)
    assert after.party_count == 3  # PML 29: two heirs and the institution
    living = CaseState.registered(registration()).apply(
        "amend_parties", {"patient_representatives": [{"name": "王大明", "relation": "患者之父"}]}, on=DAY)
    assert living.heirs == () and living.party_count == 2  # a living patient is the party


def test_a_state_carried_before_the_patients_flags_were_kept_still_knows_a_deceased_patient():
    carried = CaseState.registered(registration(
        patient={"name": "王小明", "deceased": True},
        patient_representatives=[{"name": "王大明", "relation": "患者之子", "role": "relative"}])).to_dict()
    del carried["patient_deceased"], carried["patient_minor"]
    assert CaseState.from_dict(carried).patient_deceased  # its heirs sign: the patient has died
    assert CaseState.from_dict(CaseState.registered(registration()).to_dict()) == CaseState.registered(registration())
