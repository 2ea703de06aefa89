"""The law of an expert consultation (Reg 33, 35, 37; shared/DOMAIN.md, "Experts"), checked against
domain/panel_lifecycle.py: what happens to an invitation, a seat of the panel and the panel, and what is refused."""

from __future__ import annotations

from itertools import product

import pytest
from statemachine import StateMachine

from core.errors import IllegalTransition, RuleViolated
from domain.draw import ANSWERED, EXCLUDED_BY_STATUS
from domain.panel_lifecycle import (
    ENDED_INVITATIONS,
    INVITATION,
    OPEN_INVITATIONS,
    PANEL,
    SEAT,
    SEAT_EVENT,
    InvitationStatus,
    Lifecycle,
    PanelStatus,
    SeatStatus,
    invitation_of_seat,
    panel_status_of,
    seat_of_invitation,
)

REASON = "配偶在被申请医院任职"

# The full table of legal (status, event) -> next status, with facts that let every guard pass.
INVITATION_LAW: dict[tuple[str, str], tuple[dict, str]] = {
    ("invited", "accept"): ({}, "accepted"),  # within the answer clock
    ("invited", "decline"): ({"reason": "出差"}, "declined"),  # with a reason
    ("invited", "expire"): ({}, "expired"),  # silence past the answer clock
    ("invited", "recuse"): ({"reason": REASON}, "recused"),  # Reg 37
    ("invited", "cancel"): ({}, "cancelled"),  # the case left mediation
    ("accepted", "give_opinion"): ({}, "accepted"),  # Reg 33: one part each
    ("accepted", "recuse"): ({"reason": REASON}, "recused"),  # Reg 37, before the opinion
    ("accepted", "cancel"): ({}, "cancelled"),
}
SEAT_LAW: dict[tuple[str, str], str] = {
    ("drawing", "fill"): "invited",  # Reg 35, 37: the draw
    ("drawing", "exhaust"): "unfilled",  # nobody eligible is left
    ("unfilled", "redraw"): "drawing",  # staff try again
    ("invited", "accept"): "accepted",
    ("accepted", "give_opinion"): "opinion",  # Reg 33
    ("invited", "vacate"): "drawing",  # declined, expired or recused: a replacement
    ("accepted", "vacate"): "drawing",  # recused before the opinion (Reg 37)
    ("opinion", "vacate"): "drawing",  # a part voided after the opinion (Reg 37)
}
PANEL_LAW: dict[tuple[str, str], str] = {
    ("drawing", "constitute"): "complete",  # Reg 33: every seat accepted
    ("complete", "conclude"): "opinion",  # every part given: the 专家咨询意见书
    ("complete", "reopen"): "drawing",  # Reg 37: an expert left before the opinion
    ("opinion", "reopen"): "drawing",  # Reg 37: a conflict found after the opinion
    ("complete", "schedule_meeting"): "complete",
    ("opinion", "schedule_meeting"): "opinion",
    **{(status, "close"): "closed" for status in ("drawing", "complete", "opinion")},  # the case left mediation
}


class TestTheCatalogue:
    def test_the_stored_values_stay_the_same_strings(self):  # no migration: rows and recorded histories hold these
        assert [s.value for s in InvitationStatus] == [
            "invited", "accepted", "declined", "expired", "recused", "voided", "cancelled"]
        assert [s.value for s in SeatStatus] == ["drawing", "invited", "accepted", "opinion", "unfilled"]
        assert [s.value for s in PanelStatus] == ["drawing", "complete", "opinion", "closed"]

    def test_each_catalogue_names_exactly_the_states_of_its_machine(self):
        assert set(INVITATION.states) == set(InvitationStatus)
        assert set(SEAT.states) == set(SeatStatus)
        assert set(PANEL.states) == set(PanelStatus)

    def test_an_invitation_is_open_until_it_is_answered_against_it_or_cancelled(self):
        assert OPEN_INVITATIONS == ("invited", "accepted")  # they count against the expert's cap
        assert ENDED_INVITATIONS == ("declined", "expired", "recused", "voided", "cancelled")

    def test_every_ended_invitation_but_a_cancelled_one_keeps_its_expert_out_of_the_cases_draws(self):  # Reg 37
        assert set(EXCLUDED_BY_STATUS) == set(ENDED_INVITATIONS) - {"cancelled"}
        assert EXCLUDED_BY_STATUS["voided"] == "recused" and ANSWERED == ("declined", "expired", "recused")


class TestTheInvitation:
    @pytest.mark.parametrize(("status", "event"), sorted(INVITATION_LAW))
    def test_every_legal_move(self, status, event):
        facts, target = INVITATION_LAW[(status, event)]
        assert INVITATION.next(status, event, **facts) == target

    @pytest.mark.parametrize(("status", "event"), sorted(
        set(product(INVITATION.states, INVITATION.events)) - set(INVITATION_LAW)))
    def test_nothing_else_is_allowed(self, status, event):
        with pytest.raises(IllegalTransition) as refused:
            INVITATION.next(status, event, opinion_given=True, reason=REASON)
        assert refused.value.state == status and refused.value.event == event
        assert refused.value.status_code == 409

    def test_an_invitation_is_answered_once(self):
        with pytest.raises(IllegalTransition, match="answered once") as refused:
            INVITATION.next("declined", "accept")
        assert refused.value.allowed == []  # an ended invitation allows nothing
        with pytest.raises(IllegalTransition):
            INVITATION.next("accepted", "decline", reason="改变主意")

    def test_a_decline_states_its_reason(self):  # DOMAIN.md: accepts or declines (with a reason)
        with pytest.raises(RuleViolated) as refused:
            INVITATION.next("invited", "decline", reason="  ")
        assert refused.value.extra["rules"] == ["reason_given"] and refused.value.status_code == 409

    def test_a_conflict_states_its_reason(self):  # Reg 37
        for status, opinion_given in (("invited", False), ("accepted", False), ("accepted", True)):
            with pytest.raises(RuleViolated, match="reason"):
                INVITATION.next(status, "recuse", opinion_given=opinion_given, reason="")

    def test_an_opinion_needs_the_invitation_accepted_first(self):  # Reg 33
        with pytest.raises(IllegalTransition, match="accepts the invitation before giving an opinion"):
            INVITATION.next("invited", "give_opinion")

    def test_an_opinion_is_given_once(self):  # Reg 33: one part per expert
        with pytest.raises(RuleViolated, match="already given") as refused:
            INVITATION.next("accepted", "give_opinion", opinion_given=True)
        assert refused.value.extra["rules"] == ["not opinion_given"]

    def test_a_conflict_found_after_the_opinion_voids_that_part(self):  # Reg 37; DOMAIN.md: kept, marked void
        assert INVITATION.next("accepted", "recuse", opinion_given=True, reason=REASON) == "voided"
        assert INVITATION.next("accepted", "recuse", opinion_given=False, reason=REASON) == "recused"

    def test_a_closing_panel_cancels_what_is_open_and_keeps_a_part_already_given(self):
        assert INVITATION.allows("invited", "cancel") and INVITATION.allows("accepted", "cancel")
        assert not INVITATION.allows("accepted", "cancel", opinion_given=True)
        assert not any(INVITATION.allows(ended, "cancel") for ended in ENDED_INVITATIONS)

    def test_an_unknown_status_is_a_bug_not_a_refusal(self):
        with pytest.raises(ValueError, match="unknown invitation status"):
            INVITATION.next("replaced", "accept")

    def test_a_move_to_a_status_names_the_event_that_makes_it(self):  # how a stored row is checked
        assert INVITATION.event_to("invited", "expired") == "expire"
        assert INVITATION.event_to("accepted", "voided", opinion_given=True, reason=REASON) == "recuse"
        with pytest.raises(IllegalTransition, match="cannot go from declined"):
            INVITATION.move("declined", "accepted")
        with pytest.raises(IllegalTransition):  # before the opinion a conflict recuses; it voids nothing
            INVITATION.move("accepted", "voided", opinion_given=False, reason=REASON)


class TestTheSeat:
    @pytest.mark.parametrize(("status", "event"), sorted(SEAT_LAW))
    def test_every_legal_move(self, status, event):
        assert SEAT.next(status, event) == SEAT_LAW[(status, event)]

    @pytest.mark.parametrize(("status", "event"), sorted(set(product(SEAT.states, SEAT.events)) - set(SEAT_LAW)))
    def test_nothing_else_is_allowed(self, status, event):
        with pytest.raises(IllegalTransition):
            SEAT.next(status, event)

    def test_only_a_seat_the_pool_could_not_fill_is_drawn_again_by_staff(self):
        with pytest.raises(IllegalTransition, match="only a seat the pool could not fill"):
            SEAT.next("invited", "redraw")

    def test_the_seat_follows_its_experts_invitation_and_is_drawn_again_when_they_leave(self):  # Reg 37: the mix
        for event, seat_event in SEAT_EVENT.items():
            assert seat_event in SEAT.events and event in INVITATION.events
        assert {SEAT_EVENT[e] for e in ("decline", "expire", "recuse")} == {"vacate"}
        assert "cancel" not in SEAT_EVENT  # the panel closes around the seat

    def test_a_seat_and_its_current_invitation_say_the_same(self):
        for seat in SeatStatus:
            current = invitation_of_seat(seat)
            if current is None:
                assert seat in ("drawing", "unfilled")
                continue
            invitation, opinion_given = current
            assert seat_of_invitation(invitation, opinion_given=opinion_given, unfilled=False) == seat

    def test_a_seat_without_an_open_invitation_is_drawing_or_unfilled(self):
        for ended in [None, *ENDED_INVITATIONS]:
            assert seat_of_invitation(ended, opinion_given=False, unfilled=True) == "unfilled"
            assert seat_of_invitation(ended, opinion_given=False, unfilled=False) == "drawing"


class TestThePanel:
    @pytest.mark.parametrize(("status", "event"), sorted(PANEL_LAW))
    def test_every_legal_move(self, status, event):
        assert PANEL.next(status, event) == PANEL_LAW[(status, event)]

    @pytest.mark.parametrize(("status", "event"), sorted(set(product(PANEL.states, PANEL.events)) - set(PANEL_LAW)))
    def test_nothing_else_is_allowed(self, status, event):
        with pytest.raises(IllegalTransition):
            PANEL.next(status, event)

    def test_a_closed_panel_allows_nothing(self):  # the case left mediation
        assert PANEL.allowed("closed") == [] and "closed" in PANEL.final

    def test_the_meeting_waits_for_every_acceptance(self):  # Reg 33
        with pytest.raises(IllegalTransition, match="every expert of the panel has accepted"):
            PANEL.next("drawing", "schedule_meeting")

    def test_the_panel_is_what_its_seats_call_for(self):
        assert panel_status_of(["accepted", "invited"]) == "drawing"
        assert panel_status_of(["accepted", "unfilled"]) == "drawing"  # the case goes on; staff are told
        assert panel_status_of(["accepted", "opinion"]) == "complete"
        assert panel_status_of(["opinion", "opinion"]) == "opinion"

    def test_an_opinion_needs_a_complete_panel_first(self):  # every seat accepted before every part is given
        with pytest.raises(IllegalTransition, match="cannot go from drawing"):
            PANEL.move("drawing", "opinion")

    def test_a_conflict_after_the_opinion_reopens_the_panel(self):  # Reg 37: a new version of the opinion follows
        assert PANEL.event_to("opinion", "drawing") == "reopen"


class TestTheCompiledLookup:
    @pytest.mark.parametrize("lifecycle", [INVITATION, SEAT, PANEL], ids=lambda lc: lc.noun)
    def test_it_answers_as_the_state_machine_would(self, lifecycle: Lifecycle):
        # every status, event and combination of facts: the lookup and a StateMachine started there agree
        from statemachine.exceptions import TransitionNotAllowed

        for status, event in product(lifecycle.states, lifecycle.events):
            for opinion_given, reason in product((False, True), ("", REASON)):
                facts = {"opinion_given": opinion_given, "reason": reason}
                machine = lifecycle.machine(start_value=status)
                try:
                    machine.send(event, **facts)
                    expected = machine.current_state_value
                except TransitionNotAllowed:
                    expected = None
                try:
                    answered = lifecycle.next(status, event, **facts)
                except (IllegalTransition, RuleViolated):
                    answered = None
                assert answered == expected, (lifecycle.noun, status, event, facts)

    def test_a_check_builds_no_machine(self, monkeypatch):  # a StateMachine per check costs ~1-5 ms
        built = []
        original = StateMachine.__init__

        def counted(machine, *args, **kwargs):
            built.append(type(machine).__name__)
            original(machine, *args, **kwargs)

        monkeypatch.setattr(StateMachine, "__init__", counted)
        for _ in range(100):
            assert INVITATION.next("accepted", "recuse", opinion_given=True, reason=REASON) == "voided"
        assert built == []
