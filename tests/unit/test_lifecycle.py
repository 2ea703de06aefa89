"""The law of the case lifecycle (shared/DOMAIN.md), checked against domain/lifecycle.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import DomainError, IllegalTransition, RuleViolated
from domain.lifecycle import (
    EVENTS,
    REJECT_REASONS,
    STATES,
    TERMINATION_GROUNDS,
    allowed_events,
    concurrency_key,
    next_status,
)
from domain.performance import TermBalance

AGREEMENT = {
    "facts": "术后切口感染",
    "points_in_dispute": "医方是否存在过错",
    "responsibilities": "医方承担主要责任",
    "terms": [{"text": "医方支付赔偿款", "amount": "80000.00", "manner": "银行转账", "deadline": "2026-12-31"}],
}
# Facts that satisfy every guard of the event, so that the table below checks the structure of the law.
OPEN_TERMS = (TermBalance(1, "医方支付赔偿款", Decimal("80000.00")), TermBalance(2, "医方书面致歉", None))
PASSING_FACTS: dict[str, dict] = {
    "request_consent": {"application_type": "one_side"},
    "submit_for_review": {"application_type": "joint"},
    "record_consent": {"application_type": "committee_initiated", "consents": ["patient"], "side": "institution"},
    "record_refusal": {"application_type": "committee_initiated", "refused_by": "李院长", "method": "written"},
    "abandon_appraisal": {"reason": "fee_not_advanced"},
    "record_payment": {"term": 1, "amount": "1000.00", "balances": OPEN_TERMS},
    "accept": {"mediators": ["陈调解员"]},
    "reject": {"reasons": [2]},
    "start_appraisal": {"commissioned_by": "both_parties"},
    "extend_deadline": {"patient_consent": True, "institution_consent": True, "approved_by": "赵主任", "extra_days": 10},
    "record_minutes": {"session_id": "s1", "scheduled_sessions": ["s1"]},
    "reschedule_session": {"session_id": "s1", "scheduled_sessions": ["s1"]},
    "cancel_session": {"session_id": "s1", "scheduled_sessions": ["s1"]},
    "reassign_mediators": {"mediators": ["周调解员"]},
    "draft_agreement": AGREEMENT,
    "sign": {"signer": "patient", "signed": []},
    "terminate": {"ground": "party_withdrew"},
    "request_consultation": {"specialties": ["obstetrics", "obstetrics", "law"], "respondent_institution_id": "i1"},
}

# The full table of legal (state, event) -> next state.
LEGAL: dict[tuple[str, str], str] = {
    ("new", "register"): "registered",  # Reg 31¶2–3, PML 17
    ("registered", "request_consent"): "awaiting_consent",  # Reg 31¶1
    ("registered", "submit_for_review"): "under_review",
    ("registered", "record_consent"): "registered",  # rev 2: a committee-initiated case, one side at a time
    ("registered", "record_refusal"): "rejected",  # PML 17: a committee-initiated case one side refuses
    ("registered", "terminate"): "terminated",
    **{(state, "link_respondent"): state for state in (  # Reg 37 (rev 2): linked by registry id
        "registered", "awaiting_consent", "under_review", "in_mediation", "appraisal", "signing")},
    **{(state, "amend_parties"): state for state in (  # Civil Code 173: until the draft names who signs
        "registered", "awaiting_consent", "under_review", "in_mediation", "appraisal")},
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
    ("in_mediation", "reschedule_session"): "in_mediation",  # a session still scheduled is moved
    ("in_mediation", "cancel_session"): "in_mediation",  # or cancelled
    **{(state, "reassign_mediators"): state for state in (  # after acceptance, before the case closes
        "in_mediation", "appraisal", "signing", "performance")},
    ("in_mediation", "draft_agreement"): "signing",  # PML 29
    ("in_mediation", "declare_failed"): "failed",  # PML 26
    ("in_mediation", "deadline_expired"): "failed",  # Reg 38
    ("in_mediation", "terminate"): "terminated",  # PML 23, 25; Reg 31¶4
    ("appraisal", "finish_appraisal"): "in_mediation",  # Reg 36
    ("appraisal", "abandon_appraisal"): "in_mediation",  # rev 2: the appraisal will not report
    ("signing", "extend_deadline"): "signing",  # Reg 38 (rev 2): also while signatures are collected
    ("performance", "record_payment"): "performance",  # PML 31 (rev 2)
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
            "abandon_appraisal", "record_payment", "link_respondent",
            "reschedule_session", "cancel_session", "reassign_mediators", "amend_parties",
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

    def test_committee_initiated_goes_to_review_only_with_each_sides_consent_on_file(self):  # Reg 31¶1, rev 2
        for on_file in ([], ["patient"], ["institution"]):
            with pytest.raises(RuleViolated, match="each side's consent"):
                next_status("registered", "submit_for_review",
                            {"application_type": "committee_initiated", "consents": on_file})
        assert next_status("registered", "submit_for_review", {
            "application_type": "committee_initiated", "consents": ["institution", "patient"]}) == "under_review"

    def test_committee_initiated_records_one_consent_per_side_and_stays_registered(self):  # Reg 31¶1, rev 2
        facts = {"application_type": "committee_initiated", "consents": ["patient"]}
        assert next_status("registered", "record_consent", {**facts, "side": "institution"}) == "registered"
        with pytest.raises(RuleViolated, match="one consent per side"):
            next_status("registered", "record_consent", {**facts, "side": "patient"})
        with pytest.raises(RuleViolated, match="one consent per side"):
            next_status("registered", "record_consent", {**facts, "side": ""})

    def test_committee_initiated_does_not_ask_one_side_for_consent(self):  # Reg 31¶1, rev 2
        with pytest.raises(RuleViolated, match="record_consent"):
            next_status("registered", "request_consent", {"application_type": "committee_initiated"})

    def test_a_one_sided_case_records_no_consent_before_asking(self):
        with pytest.raises(RuleViolated, match="committee-initiated"):
            next_status("registered", "record_consent", {"application_type": "one_side", "side": "institution"})

    def test_the_consent_awaited_is_the_other_sides(self):  # Reg 31¶1
        facts = {"application_type": "one_side", "applicant_side": "patient"}
        assert next_status("awaiting_consent", "record_consent", {**facts, "side": "institution"}) == "under_review"
        with pytest.raises(RuleViolated, match="other side"):
            next_status("awaiting_consent", "record_consent", {**facts, "side": "patient"})

    def test_silence_counts_as_refusal_only_once_the_consent_deadline_has_passed(self):  # PML 17, rev 2
        with pytest.raises(RuleViolated, match="silence"):
            next_status("awaiting_consent", "record_refusal", {"method": "silence", "consent_due_passed": False})
        assert next_status("awaiting_consent", "record_refusal",
                           {"method": "silence", "consent_due_passed": True}) == "rejected"
        assert next_status("awaiting_consent", "record_refusal", {"method": "written"}) == "rejected"

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

    def test_a_signature_is_not_dated_before_the_draft_it_signs(self):  # Reg 39, rev 2
        facts = {"signer": "patient", "signed": [], "drafted_on": date(2026, 11, 20), "today": date(2026, 11, 25)}
        with pytest.raises(RuleViolated, match="before the draft"):
            next_status("signing", "sign", {**facts, "signed_at": "2025-01-02T10:00:00+08:00"})
        with pytest.raises(RuleViolated, match="before the draft"):
            next_status("signing", "sign", {**facts, "signed_at": "2026-11-19T23:59:00+08:00"})
        assert next_status("signing", "sign", {**facts, "signed_at": "2026-11-20T08:00:00+08:00"}) == "signing"

    def test_after_the_due_date_only_signatures_dated_by_it_are_recorded(self):  # Reg 38, 39, rev 2
        facts = {"signer": "committee_seal", "signed": ["patient", "institution", "mediator"],
                 "mediation_due": date(2026, 12, 31), "today": date(2027, 1, 4)}
        assert next_status("signing", "sign", {**facts, "signed_at": "2026-12-31T17:00:00+08:00"}) == "performance"
        with pytest.raises(RuleViolated, match="dated on or before"):
            next_status("signing", "sign", {**facts, "signed_at": "2027-01-04T09:00:00+08:00"})
        with pytest.raises(RuleViolated, match="dated on or before"):  # recorded now, so dated now
            next_status("signing", "sign", facts)

    def test_before_the_due_date_a_signature_may_be_dated_today(self):  # Reg 39
        facts = {"signer": "patient", "signed": [], "mediation_due": date(2026, 12, 31), "today": date(2026, 12, 1)}
        assert next_status("signing", "sign", facts) == "signing"


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

    def test_also_while_signatures_are_collected(self):  # Reg 38, rev 2
        agreed = {"patient_consent": True, "institution_consent": True, "approved_by": "赵主任", "extra_days": 5}
        assert next_status("signing", "extend_deadline", agreed) == "signing"

    def test_not_once_the_period_has_run_out(self):  # Reg 38: a period that ended cannot be extended
        agreed = {"patient_consent": True, "institution_consent": True, "approved_by": "赵主任", "extra_days": 5}
        over = {"mediation_due": date(2026, 12, 31), "today": date(2027, 1, 4)}
        for state in ("in_mediation", "signing"):
            with pytest.raises(RuleViolated, match="no longer be extended"):
                next_status(state, "extend_deadline", {**agreed, **over})
        assert next_status("signing", "extend_deadline", {**agreed, "mediation_due": date(2026, 12, 31),
                                                          "today": date(2026, 12, 31)}) == "signing"


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

    @pytest.mark.parametrize("reason", ["institution_declined", "institution_returned", "fee_not_advanced",
                                        "request_withdrawn"])
    def test_an_appraisal_that_will_not_report_is_abandoned_and_mediation_resumes(self, reason: str):  # rev 2
        assert next_status("appraisal", "abandon_appraisal", {"reason": reason}) == "in_mediation"

    def test_abandoning_for_another_reason_needs_words(self):  # rev 2
        with pytest.raises(RuleViolated, match="reason_text"):
            next_status("appraisal", "abandon_appraisal", {"reason": "other"})
        with pytest.raises(RuleViolated):
            next_status("appraisal", "abandon_appraisal", {"reason": "bored"})
        assert next_status("appraisal", "abandon_appraisal", {"reason": "other", "reason_text": "患者失联"}) == (
            "in_mediation")


class TestAfterTheAgreement:
    def test_judicial_confirmation_is_recorded_during_and_after_performance(self):  # PML 33
        assert next_status("performance", "record_judicial_confirmation") == "performance"
        assert next_status("settled", "record_judicial_confirmation") == "settled"

    def test_the_follow_up_visit_comes_after_the_case_is_settled(self):
        assert next_status("settled", "record_followup") == "settled"
        with pytest.raises(IllegalTransition):
            next_status("performance", "record_followup")


class TestPerformance:
    # PML 31, rev 2: performance is recorded term by term, and confirmed only when complete
    def test_a_payment_is_recorded_against_a_term_up_to_its_balance(self):
        facts = {"balances": OPEN_TERMS}
        assert next_status("performance", "record_payment", {**facts, "term": 1, "amount": "80000.00"}) == (
            "performance")
        for wrong in ({"term": 1, "amount": "80000.01"}, {"term": 1, "amount": "0"}, {"term": 1},
                      {"term": 3, "amount": "1.00"}, {"term": 2, "amount": "1.00"}):
            with pytest.raises(RuleViolated, match="balance"):
                next_status("performance", "record_payment", {**facts, **wrong})
        assert next_status("performance", "record_payment", {**facts, "term": 2}) == "performance"  # the apology

    def test_a_payment_is_not_dated_before_the_agreement_took_effect(self):
        facts = {"balances": OPEN_TERMS, "term": 1, "amount": "10.00", "effective_on": date(2026, 12, 1)}
        with pytest.raises(RuleViolated, match="took effect"):
            next_status("performance", "record_payment", {**facts, "paid_on": "2026-11-30"})
        assert next_status("performance", "record_payment", {**facts, "paid_on": "2026-12-01"}) == "performance"

    def test_performance_is_confirmed_only_when_every_term_is_performed_in_full(self):
        partly = (TermBalance(1, "医方支付赔偿款", Decimal("86500.50"), Decimal("1.00"), 1),
                  TermBalance(2, "医方书面致歉", None, Decimal("0.00"), 1))
        with pytest.raises(RuleViolated) as refused:
            next_status("performance", "confirm_performance", {"balances": partly})
        assert "第1项" in refused.value.detail and "余额¥86,499.50" in refused.value.detail  # each term's balance
        assert "第2项" not in refused.value.detail  # performed
        full = (TermBalance(1, "医方支付赔偿款", Decimal("86500.50"), Decimal("86500.50"), 2),)
        assert next_status("performance", "confirm_performance", {"balances": full}) == "settled"

    def test_or_with_the_patient_sides_written_acceptance_of_less(self):
        partly = (TermBalance(1, "医方支付赔偿款", Decimal("380000.07"), Decimal("280000.00"), 1),)
        accepted = {"text": "患方同意以二十八万元了结", "accepted_by": "王大明", "accepted_on": "2026-12-20"}
        assert next_status("performance", "confirm_performance",
                           {"balances": partly, "patient_acceptance": accepted}) == "settled"
        with pytest.raises(RuleViolated, match="written acceptance"):
            next_status("performance", "confirm_performance",
                        {"balances": partly, "patient_acceptance": {"text": "", "accepted_on": "2026-12-20"}})


class TestAllowedEventsAreWhatWouldBeAccepted:
    # rev 2: the case's allowed events are exactly those some payload would get accepted, guards included
    def test_a_joint_application_is_not_offered_a_consent_request(self):
        assert "request_consent" not in allowed_events("registered", {"application_type": "joint"})
        assert "submit_for_review" in allowed_events("registered", {"application_type": "joint"})

    def test_a_one_sided_application_is_offered_the_consent_request_not_the_review(self):
        offered = allowed_events("registered", {"application_type": "one_side"})
        assert "request_consent" in offered and "submit_for_review" not in offered and "record_consent" not in offered

    def test_a_committee_initiated_case_is_offered_consents_until_both_are_on_file(self):
        assert "submit_for_review" not in allowed_events("registered", {"application_type": "committee_initiated",
                                                                        "consents": ["patient"]})
        both = allowed_events("registered", {"application_type": "committee_initiated",
                                             "consents": ["institution", "patient"]})
        assert "submit_for_review" in both and "record_consent" not in both

    def test_minutes_only_for_a_scheduled_session_and_consultation_only_once_linked(self):
        offered = allowed_events("in_mediation", {"scheduled_sessions": []})
        assert "record_minutes" not in offered and "request_consultation" not in offered
        offered = allowed_events("in_mediation", {"scheduled_sessions": ["s1"], "respondent_institution_id": "i1"})
        assert "record_minutes" in offered and "request_consultation" in offered

    def test_no_extension_once_the_period_ran_out_and_no_payment_once_all_is_paid(self):
        over = {"mediation_due": date(2026, 12, 31), "today": date(2027, 1, 4)}
        assert "extend_deadline" not in allowed_events("signing", over)
        paid = (TermBalance(1, "医方支付赔偿款", Decimal("10.00"), Decimal("10.00"), 1),)
        assert "record_payment" not in allowed_events("performance", {"balances": paid})
        assert "record_payment" in allowed_events("performance", {"balances": OPEN_TERMS})

    def test_the_events_the_case_raises_itself_are_not_offered_to_staff(self):
        assert "consent_expired" not in allowed_events("awaiting_consent", {"application_type": "one_side"})
        offered = allowed_events("in_mediation", {"respondent_institution_id": "i1"})
        assert not {"deadline_expired", "record_expert_opinion"} & set(offered)

    def test_without_facts_it_is_the_table(self):
        assert "request_consent" in allowed_events("registered")


class TestRaces:
    # rev 2: two self-loop actions of the same kind decided on the same version are one action or a conflict
    def test_what_tells_two_self_loop_actions_apart(self):
        assert concurrency_key("extend_deadline", {"extra_days": 15}) == "extend_deadline"
        assert concurrency_key("sign", {"signer": "patient"}) != concurrency_key("sign", {"signer": "mediator"})
        assert concurrency_key("record_minutes", {"session_id": "a"}) == "record_minutes:a"
        assert concurrency_key("accept", {"mediators": ["甲"]}) is None  # the state settles a moving event


class TestConsultation:
    # Reg 33: a mediator consults experts while mediating; the clock is not paused (the state stays)
    def test_a_panel_of_known_specialties_is_requested_in_mediation(self):
        assert next_status("in_mediation", "request_consultation",
                           {"specialties": ["obstetrics", "obstetrics", "law"],
                            "respondent_institution_id": "inst-1"}) == "in_mediation"

    def test_not_until_the_respondent_is_linked_to_the_pools_registry(self):  # Reg 37, rev 2: never by name
        with pytest.raises(RuleViolated, match="respondent-institution"):
            next_status("in_mediation", "request_consultation", {"specialties": ["law"]})

    def test_a_panel_names_one_to_seven_specialties_of_the_pools_vocabulary(self):  # Reg 33, 35
        for specialties in ([], ["astrology"], ["law"] * 8):
            with pytest.raises(RuleViolated, match="Reg 33"):
                next_status("in_mediation", "request_consultation",
                            {"specialties": specialties, "respondent_institution_id": "inst-1"})

    def test_no_consultation_before_acceptance_or_during_an_appraisal(self):
        for state in ("registered", "under_review", "appraisal", "signing"):
            with pytest.raises(IllegalTransition):
                next_status(state, "request_consultation", {"specialties": ["law"]})


class TestEachHeirSigns:  # Civil Code 173, Reg 39 (rev 2): the heirs of a deceased patient are the parties
    FACTS = {"signed": ["institution", "mediator", "committee_seal"], "heirs": ["王大明", "王二明"]}

    def test_the_patient_side_is_complete_only_when_every_heir_has_signed(self) -> None:
        first = {**self.FACTS, "signer": "patient", "signed_by": "王大明"}
        assert next_status("signing", "sign", first) == "signing"
        last = {**self.FACTS, "signer": "patient", "signed_by": "王二明", "heirs_signed": ["王大明"],
                "signed": [*self.FACTS["signed"], "patient"]}
        assert next_status("signing", "sign", last) == "performance"

    @pytest.mark.parametrize("signed_by, heirs_signed", [("张律师", []), ("王大明", ["王大明"])])
    def test_someone_not_an_heir_or_an_heir_twice_is_refused(self, signed_by: str, heirs_signed: list) -> None:
        with pytest.raises(DomainError):
            next_status("signing", "sign", {**self.FACTS, "signer": "patient", "signed_by": signed_by,
                                            "heirs_signed": heirs_signed})


class TestCopiesOfTheAgreement:  # PML 29: one copy per party and one for the committee
    DRAFT = {"facts": "事实", "points_in_dispute": "争议", "responsibilities": "责任",
             "terms": [{"text": "支付", "manner": "银行转账", "deadline": "2026-12-31"}]}

    def test_enough_copies_or_none_given_is_a_draft(self) -> None:
        for copies in (None, 4, 10):
            assert next_status("in_mediation", "draft_agreement",
                               {**self.DRAFT, "copies": copies, "party_count": 3}) == "signing"

    def test_too_few_copies_for_the_parties_are_refused_naming_the_rule(self) -> None:
        with pytest.raises(RuleViolated, match="at least 4"):
            next_status("in_mediation", "draft_agreement", {**self.DRAFT, "copies": 3, "party_count": 3})
