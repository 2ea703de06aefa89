"""The roles and reach of domain/access.py, without the API: who may ask for which lifecycle event (DOMAIN.md,
the "Who" column), which cases a caller reaches, and how personal numbers are masked."""

from __future__ import annotations

import pytest

from core.errors import Forbidden, NotFound
from domain import events, lifecycle
from domain.access import (
    Caller,
    CaseScope,
    allows,
    case_scope,
    mask_personal,
    reaches,
    require,
    require_event,
    require_reach,
)
from domain.anonymise import anonymise

CITIES = {"上海市": ["huangpu", "xuhui"], "南京市": ["gulou"]}


def caller(role: str, **scope: object) -> Caller:
    return Caller(user_id=f"{role}-1", name=role, role=role, **scope)  # type: ignore[arg-type]


class TestWhoAsksForEachEvent:
    def test_every_event_but_the_systems_own_has_its_roles(self):
        assert set(events.EVENT_ROLES) == set(lifecycle.EVENTS) - lifecycle.SYSTEM_EVENTS

    @pytest.mark.parametrize("event", ["accept", "reject", "extend_deadline"])
    def test_the_director_decides_acceptance_rejection_and_extensions(self, event):
        assert events.EVENT_ROLES[event] == ("director",)

    @pytest.mark.parametrize("event", ["start_appraisal", "finish_appraisal", "draft_agreement", "revise_agreement",
                                       "confirm_performance", "record_nonperformance", "declare_failed"])
    def test_the_mediator_owns_the_mediation(self, event):
        assert events.EVENT_ROLES[event] == ("mediator",)

    @pytest.mark.parametrize("event", ["register", "request_consent", "submit_for_review", "record_consent",
                                       "record_refusal", "archive"])
    def test_committee_staff_record_applications_consents_and_archive(self, event):
        assert set(events.EVENT_ROLES[event]) == {"intake", "director"}

    def test_an_auditor_writes_nothing_and_an_expert_acts_only_in_the_portal(self):
        for event in events.EVENT_ROLES:
            assert not allows(caller("auditor"), f"event.{event}")
            assert not allows(caller("expert"), f"event.{event}")
        assert allows(caller("expert"), "portal") and not allows(caller("director"), "portal")

    def test_the_committee_seal_is_the_directors_alone(self):  # Reg 39
        assert events.roles_for("sign", {"signer": "committee_seal"}) == ("director",)
        assert set(events.roles_for("sign", {"signer": "patient"})) == {"intake", "mediator", "director"}
        with pytest.raises(Forbidden):
            require_event(caller("mediator"), "sign", {"signer": "committee_seal"})
        require_event(caller("director"), "sign", {"signer": "committee_seal"})

    def test_a_refusal_names_the_roles_that_may(self):
        with pytest.raises(Forbidden) as refused:
            require(caller("intake"), "event.accept")
        assert refused.value.extra["roles"] == ["director"]

    def test_dev_mode_does_everything_but_answer_for_an_expert(self):
        dev = Caller(user_id="staff", name="dev", role="dev")
        assert allows(dev, "event.accept") and allows(dev, "pool.manage") and not allows(dev, "portal")


class TestReach:
    def test_staff_reach_their_committee_and_a_mediator_only_assigned_cases(self):
        case = {"committee_id": "huangpu", "committee_city": "上海市", "mediator_ids": ["mediator-1"]}
        assert reaches(caller("director", committee_id="huangpu"), **case)
        assert not reaches(caller("director", committee_id="xuhui"), **case)
        assert reaches(caller("mediator", committee_id="huangpu"), **case)
        assert not reaches(caller("mediator", committee_id="huangpu"), **{**case, "mediator_ids": ["someone"]})

    def test_auditors_reach_their_committee_or_their_city(self):
        case = {"committee_id": "xuhui", "committee_city": "上海市", "mediator_ids": []}
        assert reaches(caller("auditor", committee_id="xuhui"), **case)
        assert not reaches(caller("auditor", committee_id="huangpu"), **case)
        assert reaches(caller("auditor", city="上海市"), **case)
        assert not reaches(caller("auditor", city="南京市"), **case)

    def test_out_of_reach_reads_as_not_found(self):
        with pytest.raises(NotFound, match="case 'c1' not found"):
            require_reach(caller("intake", committee_id="xuhui"), kind="case", ident="c1", committee_id="huangpu",
                          committee_city="上海市", mediator_ids=[])

    def test_lists_are_narrowed_the_same_way(self):
        assert case_scope(caller("intake", committee_id="huangpu"), CITIES) == CaseScope(frozenset({"huangpu"}))
        assert case_scope(caller("mediator", committee_id="huangpu"), CITIES) == CaseScope(
            frozenset({"huangpu"}), mediator_id="mediator-1")
        assert case_scope(caller("auditor", city="上海市"), CITIES) == CaseScope(frozenset({"huangpu", "xuhui"}))
        assert case_scope(caller("auditor", city="杭州市"), CITIES).empty
        assert case_scope(caller("intake"), CITIES).empty  # an account without a committee reaches nothing


class TestMasking:
    def test_structured_numbers_keep_their_ends(self):
        masked = mask_personal({"patient": {"id_number": "310101198001011234", "phone": "13800138000",
                                            "name": "王小明"}})
        assert masked == {"patient": {"id_number": "310101********1234", "phone": "138****8000", "name": "王小明"}}

    def test_numbers_in_free_text_are_masked_too(self):
        text = "患者王小明（身份证号310101198001011234，电话13800138000）术后感染"
        assert mask_personal([text]) == ["患者王小明（身份证号310101********1234，电话138****8000）术后感染"]

    @pytest.mark.parametrize(("written", "masked"), [
        ("身份证310101 19800101 1234", "身份证310101**********1234"),  # in groups
        ("电话１３８００１３８０００", "电话１３８****８０００"),  # full-width digits
        ("电话138 0013 8000", "电话138******8000"),
        ("座机021-6321 1234", "座机021******1234"),
        ("座机(021)63211234", "座机(02******1234"),
    ])
    def test_numbers_written_in_groups_or_in_full_width_are_masked_too(self, written: str, masked: str):
        # Reg 42, DOMAIN.md "Privacy": numbers as people write them reach no expert and no auditor
        assert mask_personal([written]) == [masked]
        assert anonymise(written, []).endswith("***")

    def test_amounts_and_dates_are_left_alone(self):
        data = {"claim_amount": "120000.00", "at": "2026-11-20T09:30:00+08:00", "seq": 3}
        assert mask_personal(data) == data

    def test_ids_hashes_and_document_numbers_of_the_system_are_left_alone(self):
        data = {"id": "aac0400312834e94a1b2c3d4e5f60718", "document_sha256": "0213800138000" + "ab" * 25,
                "payload": {"document_id": "31010119800101123400000000000000", "session_id": "13800138000abc"},
                "number": "〔2026〕沪黄医调字第13800138000号"}
        assert mask_personal(data) == data
