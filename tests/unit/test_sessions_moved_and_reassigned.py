"""Sessions moved and cancelled, mediators reassigned after acceptance: the law of the lifecycle and what the case's
state keeps of them (domain/lifecycle.py, domain/case_state.py, domain/payloads.py)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from core.errors import IllegalTransition, RuleViolated
from domain.case_state import CaseState
from domain.events import EVENTS, roles_for
from domain.lifecycle import allowed_events, concurrency_key, next_status
from domain.payloads import CancelSession, ReassignMediators, RescheduleSession
from tests.factories import registration

DAY = date(2026, 3, 2)


def facts(state: CaseState) -> dict:
    return state.facts(today=DAY, consent_due_passed=False, mediation_due=None, effective_on=None)


def scheduled(*session_ids: str) -> CaseState:
    state = CaseState.registered(registration()).apply("accept", {"mediators": ["陈调解员"]}, on=DAY)
    for session_id in session_ids:
        state = state.apply("schedule_session", {"session_id": session_id}, on=DAY)
    return state


class TestMovingAndCancellingASession:
    @pytest.mark.parametrize("event", ["reschedule_session", "cancel_session"])
    def test_a_session_still_scheduled_is_moved_or_cancelled_while_mediating(self, event):
        assert next_status("in_mediation", event, {"session_id": "s1", "scheduled_sessions": ["s1"]}) == \
            "in_mediation"

    @pytest.mark.parametrize("event", ["reschedule_session", "cancel_session"])
    @pytest.mark.parametrize("state", ["under_review", "appraisal", "signing", "performance", "settled"])
    def test_only_where_sessions_are_scheduled(self, event, state):
        with pytest.raises(IllegalTransition):
            next_status(state, event, {"session_id": "s1", "scheduled_sessions": ["s1"]})

    @pytest.mark.parametrize("event", ["reschedule_session", "cancel_session"])
    def test_a_session_held_or_cancelled_is_refused_naming_the_rule(self, event):
        state = scheduled("s1", "s2").apply("record_minutes", {"session_id": "s1"}, on=DAY)
        state = state.apply("cancel_session", {"session_id": "s2", "reason": "改期"}, on=DAY)
        for gone in ("s1", "s2", "another-case-s9"):
            with pytest.raises(RuleViolated) as refused:
                next_status("in_mediation", event, {"session_id": gone, **facts(state)})
            assert "session_still_scheduled" in refused.value.extra["rules"]
            assert "not cancelled" in refused.value.detail and gone in refused.value.detail

    def test_offered_only_when_a_session_is_still_scheduled(self):
        assert {"reschedule_session", "cancel_session"}.isdisjoint(allowed_events("in_mediation", facts(scheduled())))
        assert {"reschedule_session", "cancel_session"} <= set(allowed_events("in_mediation", facts(scheduled("s1"))))

    def test_a_move_keeps_the_session_open_a_cancellation_closes_it(self):
        state = scheduled("s1", "s2")
        moved = state.apply("reschedule_session", {"session_id": "s1", "scheduled_at": "2026-03-04T09:00:00+08:00",
                                                   "reason": "患方申请"}, on=DAY)
        assert facts(moved)["scheduled_sessions"] == ["s1", "s2"]
        cancelled = moved.apply("cancel_session", {"session_id": "s1", "reason": "医方无法到场"}, on=DAY)
        assert facts(cancelled)["scheduled_sessions"] == ["s2"]
        with pytest.raises(RuleViolated):  # no minutes for a cancelled session
            next_status("in_mediation", "record_minutes", {"session_id": "s1", **facts(cancelled)})
        assert next_status("in_mediation", "record_minutes", {"session_id": "s2", **facts(cancelled)}) == \
            "in_mediation"

    def test_the_projection_gives_the_state_the_workflow_keeps(self):
        kept = scheduled("s1", "s2").apply("cancel_session", {"session_id": "s1", "reason": "取消"}, on=DAY)
        recorded = CaseState.of_record(
            registration=registration(), consents=[], respondent=None, signatures={}, open_sessions=["s2"],
            agreement=None, payments=[], mediators=["陈调解员"])
        assert facts(recorded)["scheduled_sessions"] == facts(kept)["scheduled_sessions"]

    def test_two_moves_of_different_sessions_are_not_one_race(self):  # rev 2: races told apart by session
        assert concurrency_key("reschedule_session", {"session_id": "a"}) != \
            concurrency_key("reschedule_session", {"session_id": "b"})
        assert concurrency_key("cancel_session", {"session_id": "a"}) == "cancel_session:a"

    def test_the_payloads_need_a_reason_and_a_time(self):
        with pytest.raises(ValidationError, match="reason"):
            RescheduleSession.model_validate({"session_id": "s1", "scheduled_at": "2026-03-04T09:00:00"})
        with pytest.raises(ValidationError, match="reason"):
            CancelSession.model_validate({"session_id": "s1", "reason": "   "})
        with pytest.raises(ValidationError, match="scheduled_at"):
            RescheduleSession.model_validate({"session_id": "s1", "scheduled_at": "下周三", "reason": "改期"})
        moved = RescheduleSession.model_validate({"session_id": "s1", "scheduled_at": "2026-03-04T09:00:00",
                                                  "reason": "改期"})
        assert moved.scheduled_at.isoformat() == "2026-03-04T09:00:00+08:00" and moved.place is None

    @pytest.mark.parametrize("event", ["reschedule_session", "cancel_session"])
    def test_asked_by_the_mediator(self, event):
        assert roles_for(event, {}) == ("mediator",)


class TestReassigningMediators:
    @pytest.mark.parametrize("state", ["in_mediation", "appraisal", "signing", "performance"])
    def test_after_acceptance_until_the_case_closes(self, state):
        assert next_status(state, "reassign_mediators", {"mediators": ["周调解员"]}) == state
        assert "reassign_mediators" in allowed_events(state)

    @pytest.mark.parametrize("state", ["registered", "awaiting_consent", "under_review", "rejected", "settled",
                                       "failed", "terminated", "archived"])
    def test_not_before_acceptance_nor_once_closed(self, state):
        with pytest.raises(IllegalTransition):
            next_status(state, "reassign_mediators", {"mediators": ["周调解员"]})

    @pytest.mark.parametrize("mediators", [[], ["甲", "乙", "丙", "丁"]])
    def test_one_to_three_mediators_as_at_acceptance(self, mediators):
        with pytest.raises(RuleViolated, match="one to three mediators"):
            next_status("in_mediation", "reassign_mediators", {"mediators": mediators})

    def test_the_case_state_keeps_the_new_mediators(self):
        state = scheduled().apply("reassign_mediators", {"mediators": ["周调解员", "吴调解员"]}, on=DAY)
        assert state.mediators == ("周调解员", "吴调解员")
        assert CaseState.from_dict(state.to_dict()).mediators == state.mediators  # carried to the next run

    def test_the_director_asks_with_a_reason(self):
        assert roles_for("reassign_mediators", {}) == ("director",)
        assert EVENTS["reassign_mediators"].issues is None
        with pytest.raises(ValidationError, match="reason"):
            ReassignMediators.model_validate({"mediator_ids": ["zhou"]})
        with pytest.raises(ValidationError, match="one to three"):
            ReassignMediators.model_validate({"reason": "工作调整"})
        with pytest.raises(ValidationError):
            ReassignMediators.model_validate({"mediator_ids": ["a", "b", "c", "d"], "reason": "工作调整"})
