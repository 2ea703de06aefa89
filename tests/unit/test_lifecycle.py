"""The law of the case lifecycle (shared/DOMAIN.md), checked against models/lifecycle.py."""

from __future__ import annotations

import pytest

from core.errors import IllegalTransition, RuleViolated
from models.lifecycle import EVENTS, REJECT_REASONS, STATES, TERMINATION_GROUNDS, allowed_events, next_status

AGREEMENT = {
    "facts": "术后切口感染",
    "points_in_dispute": "医方是否存在过错",
    "responsibilities": "医方承担主要责任",
    "terms": [{"text": "医方支付赔偿款", "amount": "80000.00", "manner": "银行转账", "deadline": "2026-12-31"}],
}
# Facts that satisfy every guard of the event, so that the table below checks the structure of the law.
PASSING_FACTS: dict[str, dict] = {
    "request_consent": {"application_type": "one_side"},
    "submit_for_review": {"application_type": "joint"},
    "accept": {"mediators": ["陈调解员"]},
    "reject": {"reasons": [2]},
    "start_appraisal": {"commissioned_by": "both_parties"},
    "extend_deadline": {"patient_consent": True, "institution_consent": True, "approved_by": "赵主任", "extra_days": 10},
    "record_minutes": {"session_id": "s1", "scheduled_sessions": ["s1"]},
    "draft_agreement": AGREEMENT,
    "sign": {"signer": "patient", "signed": []},
    "terminate": {"ground": "party_withdrew"},
    "request_consultation": {"specialties": ["obstetrics", "obstetrics", "law"]},
}

# The full table of legal (state, event) -> next state.
LEGAL: dict[tuple[str, str], str] = {
    ("new", "register"): "registered",  # Reg 31¶2–3, PML 17
    ("registered", "request_consent"): "awaiting_consent",  # Reg 31¶1
    ("registered", "submit_for_review"): "under_review",
    ("registered", "terminate"): "terminated",
    ("awaiting_consent", "record_consent"): "under_review",
    ("awaiting_consent", "record_refusal"): "rejected",  # PML 17
    ("awaiting_consent", "consent_expired"): "rejected",  # PML 17: silence counts as refusal
    ("awaiting_consent", "terminate"): "terminated",
    ("under_review", "accept"): "in_mediation",
    ("under_review", "reject"): "rejected",
    ("under_review", "terminate"): "terminated",
    ("in_mediation", "start_appraisal"): "appraisal",  # Reg 34, 38
    ("in_mediation", "extend_deadline"): "in_mediation",  # Reg 38
    ("in_mediation", "schedule_session"): "in_mediation",
    ("in_mediation", "request_consultation"): "in_mediation",  # Reg 33: the clock keeps running
    ("in_mediation", "record_expert_opinion"): "in_mediation",
    ("appraisal", "record_expert_opinion"): "appraisal",
    ("signing", "record_expert_opinion"): "signing",
    ("in_mediation", "record_minutes"): "in_mediation",
    ("in_mediation", "draft_agreement"): "signing",  # PML 29
    ("in_mediation", "declare_failed"): "failed",  # PML 26
    ("in_mediation", "deadline_expired"): "failed",  # Reg 38
    ("in_mediation", "terminate"): "terminated",  # PML 23, 25; Reg 31¶4
    ("appraisal", "finish_appraisal"): "in_mediation",  # Reg 36
    ("appraisal", "terminate"): "terminated",
    ("signing", "sign"): "signing",  # Reg 39: not yet all four
    ("signing", "revise_agreement"): "in_mediation",
    ("signing", "declare_failed"): "failed",
    ("signing", "deadline_expired"): "failed",  # Reg 38
    ("signing", "terminate"): "terminated",
    ("performance", "confirm_performance"): "settled",  # PML 31
    ("performance", "record_nonperformance"): "settled",  # PML 32
    ("performance", "record_judicial_confirmation"): "performance",  # PML 33, CPL 205
    ("settled", "record_judicial_confirmation"): "settled",
    ("settled", "record_followup"): "settled",  # the follow-up visit (回访)
    ("rejected", "archive"): "archived",  # PML 27
    ("settled", "archive"): "archived",
    ("failed", "archive"): "archived",
    ("terminated", "archive"): "archived",
}


class TestTheTable:
    def test_every_state_and_event_of_the_domain_is_declared(self):
        assert set(STATES) == {
            "new", "registered", "awaiting_consent", "under_review", "rejected", "in_mediation", "appraisal",
            "signing", "performance", "settled", "failed", "terminated", "archived",
        }
        assert set(EVENTS) == {
            "register", "request_consent", "submit_for_review", "record_consent", "record_refusal",
            "consent_expired", "accept", "reject", "start_appraisal", "finish_appraisal", "extend_deadline",
            "schedule_session", "record_minutes", "draft_agreement", "revise_agreement", "sign",
            "confirm_performance", "record_nonperformance", "declare_failed", "deadline_expired", "terminate",
            "request_consultation", "record_expert_opinion",
            "archive", "record_judicial_confirmation", "record_followup",
        }

    @pytest.mark.parametrize(("state", "event"), sorted(LEGAL))
    def test_legal_transition_leads_to_its_state(self, state: str, event: str):
        assert next_status(state, event, PASSING_FACTS.get(event, {})) == LEGAL[(state, event)]

    @pytest.mark.parametrize(
        ("state", "event"), [(s, e) for s in STATES for e in EVENTS if (s, e) not in LEGAL]
    )
    def test_every_other_pair_is_refused_naming_the_allowed_events(self, state: str, event: str):
        with pytest.raises(IllegalTransition) as refused:
            next_status(state, event, PASSING_FACTS.get(event, {}))
        allowed = sorted(e for (s, e) in LEGAL if s == state)
        assert refused.value.allowed == allowed
        assert refused.value.state == state
        for name in allowed:
            assert name in refused.value.detail

    def test_allowed_events_match_the_table(self):
        for state in STATES:
            assert allowed_events(state) == sorted(e for (s, e) in LEGAL if s == state)

    def test_archived_is_final(self):  # PML 27: nothing changes afterwards
        assert allowed_events("archived") == []


class TestConsent:
    # Reg 31¶1: a one-sided application needs the other side's consent before review
    def test_one_sided_application_cannot_skip_consent(self):
        with pytest.raises(RuleViolated, match="Reg 31"):
            next_status("registered", "submit_for_review", {"application_type": "one_side"})

    def test_joint_application_needs_no_consent_request(self):
        with pytest.raises(RuleViolated):
            next_status("registered", "request_consent", {"application_type": "joint"})

    def test_committee_initiated_goes_to_review_only_with_both_sides_consent(self):
        with pytest.raises(RuleViolated):
            next_status("registered", "submit_for_review", {"application_type": "committee_initiated"})
        assert (
            next_status("registered", "submit_for_review", {"application_type": "committee_initiated",
                                                              "both_consented": True})
            == "under_review"
        )

    def test_committee_initiated_without_consent_asks_for_it(self):
        assert next_status("registered", "request_consent", {"application_type": "committee_initiated"}) == (
            "awaiting_consent"
        )
        with pytest.raises(RuleViolated):
            next_status("registered", "request_consent", {"application_type": "committee_initiated",
                                                            "both_consented": True})

    def test_oral_application_from_one_side_waits_for_consent(self):
        assert next_status("registered", "request_consent", {"application_type": "oral"}) == "awaiting_consent"


class TestReject:
    # MOJ 2002 Rules art 22, Reg 31¶4: a rejection names at least one reason
    def test_needs_at_least_one_reason(self):
        with pytest.raises(RuleViolated, match="reason"):
            next_status("under_review", "reject", {"reasons": []})

    def test_unknown_reason_refused(self):
        with pytest.raises(RuleViolated):
            next_status("under_review", "reject", {"reasons": [9]})

    def test_other_reason_needs_words(self):
        with pytest.raises(RuleViolated):
            next_status("under_review", "reject", {"reasons": [8]})
        assert next_status("under_review", "reject", {"reasons": [8], "reason_text": "申请人未到场"}) == "rejected"

    def test_the_list_has_eight_reasons(self):
        assert sorted(REJECT_REASONS) == list(range(1, 9))


class TestAccept:
    def test_assigns_one_to_three_mediators(self):
        with pytest.raises(RuleViolated):
            next_status("under_review", "accept", {"mediators": []})
        with pytest.raises(RuleViolated):
            next_status("under_review", "accept", {"mediators": ["甲", "乙", "丙", "丁"]})
        assert next_status("under_review", "accept", {"mediators": ["甲", "乙", "丙"]}) == "in_mediation"


class TestAgreement:
    # PML 29: the agreement states facts, points in dispute, responsibilities, terms with manner and deadline
    def test_draft_without_performance_deadline_refused(self):
        terms = [{"text": "医方支付赔偿款", "amount": "1.00", "manner": "银行转账"}]
        with pytest.raises(RuleViolated, match="PML 29"):
            next_status("in_mediation", "draft_agreement", {**AGREEMENT, "terms": terms})

    def test_draft_without_points_in_dispute_refused(self):
        with pytest.raises(RuleViolated):
            next_status("in_mediation", "draft_agreement", {**AGREEMENT, "points_in_dispute": ""})

    # Reg 39: effective only when both parties, the mediator and the committee seal have signed
    @pytest.mark.parametrize("missing", ["patient", "institution", "mediator", "committee_seal"])
    def test_three_signatures_are_not_enough(self, missing: str):
        signed = [s for s in ("patient", "institution", "mediator", "committee_seal") if s != missing]
        last, before = signed[-1], signed[:-1]
        assert next_status("signing", "sign", {"signer": last, "signed": before}) == "signing"

    @pytest.mark.parametrize("last", ["patient", "institution", "mediator", "committee_seal"])
    def test_effective_on_the_last_of_the_four(self, last: str):
        before = [s for s in ("patient", "institution", "mediator", "committee_seal") if s != last]
        assert next_status("signing", "sign", {"signer": last, "signed": before}) == "performance"

    def test_nobody_signs_twice(self):
        with pytest.raises(RuleViolated, match="Reg 39"):
            next_status("signing", "sign", {"signer": "patient", "signed": ["patient"]})


class TestTerminate:
    @pytest.mark.parametrize("ground", sorted(TERMINATION_GROUNDS))
    def test_each_legal_ground_terminates(self, ground: str):  # PML 23, 25; Reg 31¶4
        assert next_status("in_mediation", "terminate", {"ground": ground}) == "terminated"

    def test_needs_a_typed_ground(self):
        with pytest.raises(RuleViolated, match="ground"):
            next_status("in_mediation", "terminate", {"ground": "court_filing"})  # filing alone is not enough

    def test_not_after_the_agreement_is_effective(self):
        with pytest.raises(IllegalTransition):
            next_status("performance", "terminate", {"ground": "party_withdrew"})


class TestArchive:
    # PML 27: only a closed case is archived
    @pytest.mark.parametrize("state", ["registered", "in_mediation", "appraisal", "signing", "performance"])
    def test_open_case_cannot_be_archived(self, state: str):
        with pytest.raises(IllegalTransition):
            next_status(state, "archive")


class TestExtension:
    # Reg 38: the committee and both parties agree
    def test_needs_both_parties(self):
        with pytest.raises(RuleViolated, match="Reg 38"):
            next_status("in_mediation", "extend_deadline",
                        {"patient_consent": True, "approved_by": "赵主任", "extra_days": 10})

    def test_needs_the_directors_approval(self):  # Reg 38: the committee agrees, through its director
        with pytest.raises(RuleViolated, match="director"):
            next_status("in_mediation", "extend_deadline",
                        {"patient_consent": True, "institution_consent": True, "approved_by": " ", "extra_days": 5})

    def test_needs_a_positive_number_of_working_days(self):
        with pytest.raises(RuleViolated):
            next_status("in_mediation", "extend_deadline",
                        {"patient_consent": True, "institution_consent": True, "approved_by": "赵主任", "extra_days": 0})

    def test_not_while_the_clock_is_paused(self):  # Reg 38: an extension is agreed after the appraisal, not during
        with pytest.raises(IllegalTransition):
            next_status("appraisal", "extend_deadline",
                        {"patient_consent": True, "institution_consent": True, "approved_by": "赵主任", "extra_days": 5})


class TestAppraisal:
    # Reg 34: both sides commission the appraisal, or both consent to the committee commissioning it
    def test_commissioned_by_both_sides(self):
        assert next_status("in_mediation", "start_appraisal", {"commissioned_by": "both_parties"}) == "appraisal"

    def test_commissioned_by_the_committee_with_both_consents(self):
        facts = {"commissioned_by": "committee", "patient_consent": True, "institution_consent": True}
        assert next_status("in_mediation", "start_appraisal", facts) == "appraisal"

    def test_not_by_the_committee_without_both_consents(self):
        with pytest.raises(RuleViolated, match="Reg 34"):
            next_status("in_mediation", "start_appraisal", {"commissioned_by": "committee", "patient_consent": True})

    def test_not_by_one_side_alone(self):
        with pytest.raises(RuleViolated, match="Reg 34"):
            next_status("in_mediation", "start_appraisal", {"commissioned_by": "patient"})


class TestAfterTheAgreement:
    def test_judicial_confirmation_is_recorded_during_and_after_performance(self):  # PML 33
        assert next_status("performance", "record_judicial_confirmation") == "performance"
        assert next_status("settled", "record_judicial_confirmation") == "settled"

    def test_the_follow_up_visit_comes_after_the_case_is_settled(self):
        assert next_status("settled", "record_followup") == "settled"
        with pytest.raises(IllegalTransition):
            next_status("performance", "record_followup")


class TestConsultation:
    # Reg 33: a mediator consults experts while mediating; the clock is not paused (the state stays)
    def test_a_panel_of_known_specialties_is_requested_in_mediation(self):
        assert next_status("in_mediation", "request_consultation",
                           {"specialties": ["obstetrics", "obstetrics", "law"]}) == "in_mediation"

    def test_a_panel_names_one_to_seven_specialties_of_the_pools_vocabulary(self):  # Reg 33, 35
        for specialties in ([], ["astrology"], ["law"] * 8):
            with pytest.raises(RuleViolated, match="Reg 33"):
                next_status("in_mediation", "request_consultation", {"specialties": specialties})

    def test_no_consultation_before_acceptance_or_during_an_appraisal(self):
        for state in ("registered", "under_review", "appraisal", "signing"):
            with pytest.raises(IllegalTransition):
                next_status(state, "request_consultation", {"specialties": ["law"]})
