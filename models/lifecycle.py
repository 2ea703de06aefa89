"""The law of a case: every legal state and transition of shared/DOMAIN.md, in one place.

`DisputeLifecycle` is the single source of truth. The API pre-checks with `next_status`, the workflow's
Update validators call `next_status` again (the authority), and nothing else decides what may happen.
Guards take the facts of the event as keyword arguments; `FACTS` says which facts each event needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from core.errors import IllegalTransition, RuleViolated
from models.specialties import SPECIALTIES

# Reasons for `reject` (MOJ 2002 Rules art 22, Reg 31¶4), numbered as on the Nanjing notice.
REJECT_REASONS: dict[int, str] = {
    1: "对方当事人拒绝调解，或经多次通知未明确表示",
    2: "不属于诊疗护理引起的纠纷",
    3: "无明确的被申请人或具体的调解请求",
    4: "未按要求提交相关材料",
    5: "法律规定只能由专门机关管辖处理，或禁止采用民间调解方式解决",
    6: "已向人民法院起诉或人民法院已经受理、已作出裁判；卫生主管部门已经受理调解",
    7: "已经人民调解委员会调解（重复申请）",
    8: "其他（须以文字说明理由）",
}
REFUSAL_REASON = 1  # PML 17: a clear refusal, or silence past the consent deadline

# Grounds for `terminate`.
TERMINATION_GROUNDS: dict[str, str] = {
    "party_withdrew": "当事人撤回申请或明确拒绝继续调解（《人民调解法》第二十三条第二项）",
    "court_accepted": "人民法院已经受理该纠纷（《医疗纠纷预防和处理条例》第三十一条第四款）",
    "health_department_accepted": "卫生主管部门已经受理该纠纷的调解（《医疗纠纷预防和处理条例》第三十一条第四款）",
    "escalation_risk": "纠纷有激化可能，须采取必要措施（《人民调解法》第二十五条）",
}

# Who must sign before an agreement is effective (Reg 39, PML 29).
REQUIRED_SIGNERS: tuple[str, ...] = ("patient", "institution", "mediator", "committee_seal")

MAX_PANEL = 7  # experts on one consultation panel
# Events the case's own machinery raises (its clocks, its expert panel), never staff.
SYSTEM_EVENTS = frozenset({"consent_expired", "deadline_expired", "record_expert_opinion"})

# Who asks for each event (DOMAIN.md, the "Who" column). "Staff" there is the committee's staff: intake staff
# and the director; the mediator has the events of the case they own. Signatures: the mediator records them
# too, but only the director applies the committee seal (API check on `signer`).
_INTAKE = ("intake", "director")
EVENT_ROLES: dict[str, tuple[str, ...]] = {
    "register": _INTAKE,
    "request_consent": _INTAKE,
    "submit_for_review": _INTAKE,
    "record_consent": _INTAKE,
    "record_refusal": _INTAKE,
    "accept": ("director",),
    "reject": ("director",),
    "extend_deadline": ("director",),
    "start_appraisal": ("mediator",),
    "finish_appraisal": ("mediator",),
    "request_consultation": ("mediator",),
    "schedule_session": ("mediator",),
    "record_minutes": ("mediator",),
    "draft_agreement": ("mediator",),
    "revise_agreement": ("mediator",),
    "sign": ("intake", "mediator", "director"),
    "confirm_performance": ("mediator",),
    "record_nonperformance": ("mediator",),
    "record_judicial_confirmation": ("mediator",),
    "record_followup": ("mediator",),
    "declare_failed": ("mediator",),
    "terminate": ("intake", "mediator", "director"),
    "archive": _INTAKE,
}
SEAL_ROLE = "director"  # Reg 39: the committee seal


def roles_for(event: str, payload: Mapping[str, Any]) -> tuple[str, ...]:
    """Who may ask for `event` with this payload: the committee seal is the director's alone (Reg 39)."""
    if event == "sign" and payload.get("signer") == "committee_seal":
        return (SEAL_ROLE,)
    return EVENT_ROLES[event]

APPLICATION_TYPES = ("joint", "one_side", "oral", "committee_initiated")

STATE_LABELS: dict[str, str] = {
    "new": "∅",
    "registered": "已登记",
    "awaiting_consent": "待对方同意",
    "under_review": "受理审查",
    "rejected": "不予受理",
    "in_mediation": "调解中",
    "appraisal": "鉴定中",
    "signing": "待签署",
    "performance": "履行中",
    "settled": "调解成功",
    "failed": "调解不成",
    "terminated": "终止调解",
    "archived": "已归档",
}

CLOSED_STATES = frozenset({"rejected", "settled", "failed", "terminated"})
# States in which mediation is still open and may be terminated (PML 23, Reg 31¶4, PML 25). Once the
# agreement is effective (`performance`) mediation is over: the committee only supervises performance.
OPEN_STATES = frozenset(
    {"registered", "awaiting_consent", "under_review", "in_mediation", "appraisal", "signing"}
)


class DisputeLifecycle(StateMachine):
    """The states and events of a medical-dispute mediation case."""

    new = State("∅", initial=True)
    registered = State("已登记")
    awaiting_consent = State("待对方同意")
    under_review = State("受理审查")
    rejected = State("不予受理")
    in_mediation = State("调解中")
    appraisal = State("鉴定中")
    signing = State("待签署")
    performance = State("履行中")
    settled = State("调解成功")
    failed = State("调解不成")
    terminated = State("终止调解")
    archived = State("已归档", final=True)

    # Reg 31¶2–3, PML 17
    register = new.to(registered)
    # Reg 31¶1: a one-sided application needs the other side's consent
    request_consent = registered.to(awaiting_consent, cond="consent_outstanding")
    submit_for_review = registered.to(under_review, cond="both_sides_agree")
    record_consent = awaiting_consent.to(under_review)
    # PML 17: refusal, or silence past the consent deadline
    record_refusal = awaiting_consent.to(rejected)
    consent_expired = awaiting_consent.to(rejected)
    # Director's decision; accept starts the 30-WD clock (Reg 38)
    accept = under_review.to(in_mediation, cond="one_to_three_mediators")
    reject = under_review.to(rejected, cond="has_reject_reason")
    # Reg 34/36/38: appraisal pauses the clock, may happen more than once
    start_appraisal = in_mediation.to(appraisal, cond="appraisal_commissioned")
    finish_appraisal = appraisal.to(in_mediation)
    # Reg 38: the committee (its director) and both parties agree
    extend_deadline = in_mediation.to.itself(cond="extension_agreed", internal=True)
    # Reg 33: the mediator asks experts of the pool for advice; it does not pause the clock
    request_consultation = in_mediation.to.itself(cond="panel_requested", internal=True)
    # The panel's opinion (专家咨询意见书) arrives; raised by the panel, not by staff. It may come while an
    # appraisal runs or the agreement is being signed.
    record_expert_opinion = (
        in_mediation.to.itself(internal=True) | appraisal.to.itself(internal=True) | signing.to.itself(internal=True)
    )
    # Sessions (调解笔录) happen while mediating
    schedule_session = in_mediation.to.itself(internal=True)
    record_minutes = in_mediation.to.itself(cond="session_scheduled", internal=True)
    # PML 29
    draft_agreement = in_mediation.to(signing, cond="has_pml29_content")
    revise_agreement = signing.to(in_mediation)
    # Reg 39: effective only on the last of the four signatures
    sign = signing.to(performance, cond=["new_signer", "completes_signatures"]) | signing.to.itself(
        cond="new_signer", unless="completes_signatures", internal=True
    )
    # PML 31, 32
    confirm_performance = performance.to(settled)
    record_nonperformance = performance.to(settled)
    # PML 33, CPL 205: whether the parties applied for judicial confirmation, and the court's answer
    record_judicial_confirmation = performance.to.itself(internal=True) | settled.to.itself(internal=True)
    # Local rules: the follow-up visit (回访) after performance
    record_followup = settled.to.itself(internal=True)
    # PML 26 / Reg 38
    declare_failed = in_mediation.to(failed) | signing.to(failed)
    deadline_expired = in_mediation.to(failed) | signing.to(failed)
    # PML 23, 25; Reg 31¶4
    terminate = (
        registered.to(terminated, cond="has_termination_ground")
        | awaiting_consent.to(terminated, cond="has_termination_ground")
        | under_review.to(terminated, cond="has_termination_ground")
        | in_mediation.to(terminated, cond="has_termination_ground")
        | appraisal.to(terminated, cond="has_termination_ground")
        | signing.to(terminated, cond="has_termination_ground")
    )
    # PML 27: only a closed case is bound into a file
    archive = rejected.to(archived) | settled.to(archived) | failed.to(archived) | terminated.to(archived)

    # --- guards: each takes the event's facts by keyword --------------------------------------------
    def consent_outstanding(self, application_type: str = "", both_consented: bool = False, **_: Any) -> bool:
        """A one-sided (or oral) application waits for the other side's consent; so does a committee-initiated
        one (主动调解) until both sides have consented."""
        return application_type in ("one_side", "oral") or (
            application_type == "committee_initiated" and not both_consented
        )

    def both_sides_agree(self, application_type: str = "", both_consented: bool = False, **_: Any) -> bool:
        """A joint application, or a committee-initiated one with both sides' consent, goes to review."""
        return application_type == "joint" or (application_type == "committee_initiated" and both_consented)

    def one_to_three_mediators(self, mediators: Iterable[str] = (), **_: Any) -> bool:
        """Accepting assigns one to three mediators."""
        return 1 <= len(set(mediators)) <= 3

    def has_reject_reason(self, reasons: Iterable[int] = (), reason_text: str = "", **_: Any) -> bool:
        """A rejection needs at least one listed reason; reason 8 ("other") needs words."""
        listed = set(reasons)
        return bool(listed) and listed <= REJECT_REASONS.keys() and (8 not in listed or bool(reason_text.strip()))

    def appraisal_commissioned(
        self,
        commissioned_by: str = "",
        patient_consent: bool = False,
        institution_consent: bool = False,
        **_: Any,
    ) -> bool:
        """Reg 34: both sides commission the appraisal together, or both consent to the committee doing it."""
        return commissioned_by == "both_parties" or (
            commissioned_by == "committee" and patient_consent and institution_consent
        )

    def extension_agreed(
        self,
        patient_consent: bool = False,
        institution_consent: bool = False,
        approved_by: str = "",
        extra_days: int = 0,
        **_: Any,
    ) -> bool:
        """Reg 38: an extension needs both parties' consent, the director's approval and a positive number of
        working days."""
        return patient_consent and institution_consent and bool(approved_by.strip()) and extra_days > 0

    def session_scheduled(self, session_id: str = "", scheduled_sessions: Iterable[str] = (), **_: Any) -> bool:
        """Minutes are recorded for a session that was scheduled and has no minutes yet."""
        return session_id in set(scheduled_sessions)

    def has_pml29_content(
        self,
        facts: str = "",
        points_in_dispute: str = "",
        responsibilities: str = "",
        terms: Iterable[Mapping[str, Any]] = (),
        **_: Any,
    ) -> bool:
        """PML 29: facts, points in dispute, responsibilities, terms with manner and deadline of performance."""
        terms = list(terms)
        return bool(facts and points_in_dispute and responsibilities and terms) and all(
            term.get("manner") and (term.get("deadline") or term.get("deadline_working_days") or term.get("deadline_text"))
            for term in terms
        )

    def new_signer(self, signer: str = "", signed: Iterable[str] = (), **_: Any) -> bool:
        """Each of the four signs once."""
        return signer in REQUIRED_SIGNERS and signer not in set(signed)

    def completes_signatures(self, signer: str = "", signed: Iterable[str] = (), **_: Any) -> bool:
        """Reg 39: both parties, the mediator and the committee seal."""
        return set(REQUIRED_SIGNERS) <= set(signed) | {signer}

    def panel_requested(self, specialties: Iterable[str] = (), **_: Any) -> bool:
        """A panel names one to seven specialties of the pool's vocabulary (Reg 33, 35)."""
        wanted = list(specialties)
        return 1 <= len(wanted) <= MAX_PANEL and all(s in SPECIALTIES for s in wanted)

    def has_termination_ground(self, ground: str = "", **_: Any) -> bool:
        """A termination names one of the legal grounds."""
        return ground in TERMINATION_GROUNDS


EVENTS: tuple[str, ...] = tuple(event.id for event in DisputeLifecycle._events)  # type: ignore[attr-defined]
STATES: tuple[str, ...] = tuple(s.id for s in DisputeLifecycle.states)  # type: ignore[attr-defined]

# The rule each guard stands for, shown when the guard refuses.
_GUARD_RULES: dict[str, str] = {
    "consent_outstanding": "request_consent is for a one-sided application, or a committee-initiated one "
    "without both sides' consent (Reg 31¶1)",
    "both_sides_agree": "submit_for_review needs a joint application, or a committee-initiated one with both "
    "sides' consent; a one-sided application must first get the other side's consent (Reg 31¶1)",
    "one_to_three_mediators": "accept must assign one to three mediators",
    "has_reject_reason": "reject needs at least one reason from the list (1–8); reason 8 needs a reason in words",
    "appraisal_commissioned": "an appraisal is commissioned by both sides together, or by the committee with "
    "both sides' consent (Reg 34)",
    "extension_agreed": "an extension needs the consent of both parties, the director's approval and a positive "
    "number of working days (Reg 38)",
    "session_scheduled": "minutes can only be recorded for a scheduled session",
    "has_pml29_content": "the agreement must state the facts, the points in dispute, each side's responsibility "
    "and terms with the manner and deadline of performance (PML 29)",
    "new_signer": "each of patient side, institution, mediator and committee seal signs once (Reg 39)",
    "panel_requested": "a consultation names one to seven experts' specialties from the pool's vocabulary "
    "(Reg 33, 35)",
    "has_termination_ground": "terminate needs one of the legal grounds: " + ", ".join(TERMINATION_GROUNDS),
}


def machine_at(status: str) -> DisputeLifecycle:
    if status not in STATES:
        raise ValueError(f"unknown state {status!r}")
    return DisputeLifecycle(start_value=status)


def _allowed_from(status: str) -> list[str]:
    return sorted({event.id for event in machine_at(status).allowed_events})


# The events each state allows before any data is looked at: fixed by the class, so computed once.
_ALLOWED: dict[str, list[str]] = {status: _allowed_from(status) for status in STATES}


def allowed_events(status: str) -> list[str]:
    """The events the law allows from `status`, before looking at any data."""
    if status not in _ALLOWED:
        raise ValueError(f"unknown state {status!r}")
    return list(_ALLOWED[status])


def next_status(status: str, event: str, facts: Mapping[str, Any] | None = None) -> str:
    """The state `event` leads to from `status` given its facts, or an error naming what is allowed.

    Raises IllegalTransition when the event is not legal in this state at all, and RuleViolated
    when it is, but the facts break a guard.
    """
    facts = dict(facts or {})
    allowed = allowed_events(status)
    if event not in allowed:
        raise IllegalTransition(
            f"'{event}' is not allowed when the case is {status} ({STATE_LABELS.get(status, status)}); "
            f"allowed: {', '.join(allowed) or 'none'}",
            state=status,
            event=event,
            allowed=allowed,
        )
    sm = machine_at(status)
    try:
        sm.send(event, **facts)
    except TransitionNotAllowed:
        failed = _failed_guards(sm, status, event, facts)
        rules = "; ".join(_GUARD_RULES.get(name, name) for name in failed) or "a guard refused"
        raise RuleViolated(f"'{event}' refused: {rules}", state=status, event=event, rules=failed) from None
    return str(sm.current_state_value)


def _failed_guards(sm: DisputeLifecycle, status: str, event: str, facts: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    state = getattr(DisputeLifecycle, status)
    for transition in state.transitions:
        if event not in transition.event.split(" "):
            continue
        for spec in transition.cond.list if hasattr(transition.cond, "list") else []:
            name = getattr(spec, "func", spec)
            name = getattr(name, "__name__", str(name))
            guard = getattr(sm, name, None)
            if callable(guard) and not guard(**facts):
                names.append(name)
    return sorted(set(names) - {"completes_signatures"})


def is_closed(status: str) -> bool:
    return status in CLOSED_STATES
