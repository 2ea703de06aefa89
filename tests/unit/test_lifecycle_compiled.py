"""The lifecycle is compiled once (domain/lifecycle.py TRANSITIONS) so that a check builds no state machine; the
compiled table gives, for every state, event and case, the answer python-statemachine's own machine gives."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from statemachine.exceptions import TransitionNotAllowed

from core.errors import IllegalTransition, RuleViolated
from domain import lifecycle
from domain.lifecycle import STATES, DisputeLifecycle, next_status
from domain.performance import TermBalance

EVENTS = sorted({event for _, event in lifecycle.TRANSITIONS})
SIGNERS = ("patient", "institution", "mediator", "committee_seal")
DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))

facts = st.fixed_dictionaries({
    "application_type": st.sampled_from(["one_side", "joint", "committee_initiated"]),
    "applicant_side": st.sampled_from(["patient", "institution", None]),
    "consents": st.lists(st.sampled_from(["patient", "institution"]), unique=True),
    "consent_due_passed": st.booleans(),
    "respondent_institution_id": st.sampled_from([None, "inst-1"]),
    "signed": st.lists(st.sampled_from(SIGNERS), unique=True),
    "signer": st.sampled_from(SIGNERS),
    "signed_by": st.sampled_from(["王大明", "李明"]),
    "heirs": st.sampled_from([[], ["李明", "李华"]]),
    "heirs_signed": st.sampled_from([[], ["李明"]]),
    "scheduled_sessions": st.sampled_from([[], ["s1"]]),
    "session_id": st.sampled_from(["s1", "s2"]),
    "drafted_on": st.one_of(st.none(), DAYS),
    "mediation_due": st.one_of(st.none(), DAYS),
    "today": DAYS,
    "signed_at": st.one_of(st.none(), DAYS.map(lambda d: f"{d.isoformat()}T10:00:00+08:00")),
    "balances": st.sampled_from([(), (TermBalance(term=1, text="赔偿", amount=None),)]),
    "effective_on": st.one_of(st.none(), DAYS),
    "reasons": st.sampled_from([[], [1], [8]]),
    "ground": st.sampled_from([None, "party_withdrew", "court_accepted"]),
    "party_count": st.integers(min_value=0, max_value=3),
    "refusal": st.sampled_from([None, "不同意调解"]),
    "side": st.sampled_from(["patient", "institution", None]),
})


def by_the_machine(status: str, event: str, case: dict) -> str | None:
    machine = DisputeLifecycle(start_value=status)
    try:
        machine.send(event, **case)
    except TransitionNotAllowed:
        return None
    return str(machine.current_state_value)


def by_the_table(status: str, event: str, case: dict) -> str | None:
    try:
        return next_status(status, event, case)
    except (IllegalTransition, RuleViolated):
        return None


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from(sorted(STATES)), event=st.sampled_from(EVENTS), case=facts)
def test_the_compiled_lifecycle_answers_as_the_machine(status, event, case):
    assert by_the_table(status, event, case) == by_the_machine(status, event, case)


def test_every_transition_of_the_machine_is_compiled():
    declared = {(state.id, event, transition.target.id)
                for state in DisputeLifecycle.states for transition in state.transitions
                for event in transition.event.split(" ")}
    compiled = {(status, event, target)
                for (status, event), options in lifecycle.TRANSITIONS.items() for target, _ in options}
    assert compiled == declared
