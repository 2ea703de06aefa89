"""The law of a case: every legal state and transition of shared/DOMAIN.md, in one place.

`DisputeLifecycle` is the single source of truth. The API pre-checks with `next_status`, the workflow's
Update validators call `next_status` again (the authority), and nothing else decides what may happen.
Guards take the facts of the event as keyword arguments: the event's payload merged with the facts of the case
(`CASE_FACTS` lists them; the workflow and the projection each supply them). Guards named in `CASE_GUARDS` read
only facts of the case, so `allowed_events(status, facts)` can evaluate them: the events it lists are exactly
those that some payload would get accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from statemachine import State, StateMachine
from statemachine.callbacks import CallbackGroup

from core.errors import IllegalTransition, RuleViolated
from domain.clock import legal_date
from domain.parties import representatives_refused
from domain.performance import TermBalance, outstanding
from domain.specialties import SPECIALTIES

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
SIDES: tuple[str, ...] = ("patient", "institution")  # the two parties, whose consents a case needs (Reg 31¶1)

# Why an appraisal will not report (rev 2, `abandon_appraisal`).
ABANDON_REASONS: dict[str, str] = {
    "institution_declined": "鉴定机构不予受理",
    "institution_returned": "鉴定机构退回鉴定委托",
    "fee_not_advanced": "鉴定费用未按期预交",
    "request_withdrawn": "双方撤回鉴定申请",
    "other": "其他（须以文字说明）",
}

MAX_PANEL = 7  # experts on one consultation panel
# Events the case's own machinery raises (its clocks, its expert panel), never staff.
SYSTEM_EVENTS = frozenset({"consent_expired", "deadline_expired", "record_expert_opinion"})

# Who asks for each event, with everything else that defines it: domain/events.py.

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
# Reg 38: the mediation period counts (or, during an appraisal, stands paused) from acceptance until an agreement
# takes effect or the mediation ends.
MEDIATION_CLOCK_STATES = frozenset({"in_mediation", "appraisal", "signing"})


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
    request_consent = registered.to(awaiting_consent, cond="one_sided")
    submit_for_review = registered.to(under_review, cond="both_sides_agree")
    # rev 2: a committee-initiated case (主动调解) records one consent per side while registered
    record_consent = awaiting_consent.to(under_review, cond="other_side") | registered.to.itself(
        cond=["committee_initiated", "consent_missing", "side_not_on_file"], internal=True
    )
    # PML 17: a clear refusal; silence only once the consent deadline has passed (rev 2)
    record_refusal = awaiting_consent.to(rejected, cond="refusal_stated") | registered.to(
        rejected, cond=["committee_initiated", "refusal_stated"]
    )
    consent_expired = awaiting_consent.to(rejected)
    # Reg 37 (rev 2): the respondent is linked to the pool's institution registry by id, never matched by name
    link_respondent = (
        registered.to.itself(internal=True)
        | awaiting_consent.to.itself(internal=True)
        | under_review.to.itself(internal=True)
        | in_mediation.to.itself(internal=True)
        | appraisal.to.itself(internal=True)
        | signing.to.itself(internal=True)
    )
    # The patient side's representatives amended (an heir come forward, an agent authorised since), held to the
    # registration's rules (Civil Code 173); until the agreement is drafted, whose draft names who signs
    amend_parties = (
        registered.to.itself(internal=True, cond="representatives_lawful")
        | awaiting_consent.to.itself(internal=True, cond="representatives_lawful")
        | under_review.to.itself(internal=True, cond="representatives_lawful")
        | in_mediation.to.itself(internal=True, cond="representatives_lawful")
        | appraisal.to.itself(internal=True, cond="representatives_lawful")
    )
    # Director's decision; accept starts the 30-WD clock (Reg 38)
    accept = under_review.to(in_mediation, cond="one_to_three_mediators")
    reject = under_review.to(rejected, cond="has_reject_reason")
    # Reg 34/36/38: appraisal pauses the clock, may happen more than once
    start_appraisal = in_mediation.to(appraisal, cond="appraisal_commissioned")
    finish_appraisal = appraisal.to(in_mediation)
    # rev 2: the appraisal will not report; the clock runs again
    abandon_appraisal = appraisal.to(in_mediation, cond="abandonment_explained")
    # Reg 38: the committee (its director) and both parties agree, before the period ends; also while signatures
    # are collected (rev 2)
    extend_deadline = in_mediation.to.itself(cond=["period_running", "extension_agreed"], internal=True) | (
        signing.to.itself(cond=["period_running", "extension_agreed"], internal=True)
    )
    # Reg 33, 37: the mediator asks experts of the pool for advice; it does not pause the clock. Recusal needs the
    # respondent linked to the pool's registry (rev 2).
    request_consultation = in_mediation.to.itself(cond=["respondent_linked", "panel_requested"], internal=True)
    # The panel's opinion (专家咨询意见书) arrives; raised by the panel, not by staff. It may come while an
    # appraisal runs or the agreement is being signed.
    record_expert_opinion = (
        in_mediation.to.itself(internal=True) | appraisal.to.itself(internal=True) | signing.to.itself(internal=True)
    )
    # Sessions (调解笔录) happen while mediating
    schedule_session = in_mediation.to.itself(internal=True)
    record_minutes = in_mediation.to.itself(cond=["has_open_session", "session_scheduled"], internal=True)
    # A session still scheduled (no minutes, not cancelled) can be moved, with a reason, or cancelled; a cancelled
    # session is no longer open
    reschedule_session = in_mediation.to.itself(cond=["has_open_session", "session_still_scheduled"], internal=True)
    cancel_session = in_mediation.to.itself(cond=["has_open_session", "session_still_scheduled"], internal=True)
    # The director assigns other mediators (one to three) once the case is accepted and until it closes: while
    # mediating, during an appraisal, while signatures are collected and while performance is supervised (PML 31)
    reassign_mediators = (
        in_mediation.to.itself(cond="one_to_three_mediators", internal=True)
        | appraisal.to.itself(cond="one_to_three_mediators", internal=True)
        | signing.to.itself(cond="one_to_three_mediators", internal=True)
        | performance.to.itself(cond="one_to_three_mediators", internal=True)
    )
    # PML 29
    draft_agreement = in_mediation.to(signing, cond=["has_pml29_content", "enough_copies"])
    revise_agreement = signing.to(in_mediation)
    # Reg 39: effective only on the last of the four signatures, each dated between the draft and the due date
    sign = signing.to(
        performance, cond=["new_signer", "signed_after_draft", "signed_by_due_date", "completes_signatures"]
    ) | signing.to.itself(
        cond=["new_signer", "signed_after_draft", "signed_by_due_date"], unless="completes_signatures", internal=True
    )
    # PML 31 (rev 2): performance is recorded term by term; settled as performed only when complete
    record_payment = performance.to.itself(
        cond=["balance_outstanding", "payment_fits_term", "paid_after_effect"], internal=True
    )
    confirm_performance = performance.to(settled, cond="performed_in_full")
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
    # Facts of the case (CASE_FACTS) come from the workflow's state or from the projection; the rest is payload.
    def one_sided(self, application_type: str = "", **_: Any) -> bool:
        """Reg 31¶1: a one-sided (or oral) application asks the other side for consent."""
        return application_type in ("one_side", "oral")

    def committee_initiated(self, application_type: str = "", **_: Any) -> bool:
        return application_type == "committee_initiated"

    def both_sides_agree(self, application_type: str = "", consents: Iterable[str] = (), **_: Any) -> bool:
        """A joint application, or a committee-initiated one with each side's consent on file, goes to review."""
        return application_type == "joint" or (
            application_type == "committee_initiated" and set(SIDES) <= set(consents)
        )

    def consent_missing(self, consents: Iterable[str] = (), **_: Any) -> bool:
        return not set(SIDES) <= set(consents)

    def side_not_on_file(self, side: str = "", consents: Iterable[str] = (), **_: Any) -> bool:
        """A committee-initiated case records one consent per side, naming the side."""
        return side in SIDES and side not in set(consents)

    def other_side(self, side: str = "", applicant_side: str | None = None, **_: Any) -> bool:
        """The consent awaited is the other side's, not the applicant's."""
        return not side or side != applicant_side

    def refusal_stated(self, method: str = "written", consent_due_passed: bool = False, **_: Any) -> bool:
        """PML 17: silence counts as refusal only once the consent deadline has passed (rev 2)."""
        return method != "silence" or consent_due_passed

    def respondent_linked(self, respondent_institution_id: str | None = None, **_: Any) -> bool:
        return bool(respondent_institution_id)

    def representatives_lawful(self, patient_representatives: Iterable[Mapping[str, Any]] = (),
                               patient_deceased: bool = False, patient_minor: bool = False, **_: Any) -> bool:
        """Civil Code 173: amended, the patient side's representatives stand as a registration's must."""
        return representatives_refused(deceased=patient_deceased, minor_or_incapacitated=patient_minor,
                                       representatives=[dict(r) for r in patient_representatives]) is None

    def one_to_three_mediators(self, mediators: Iterable[str] = (), **_: Any) -> bool:
        """Accepting assigns one to three mediators; so does a reassignment."""
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

    def abandonment_explained(self, reason: str = "", reason_text: str = "", **_: Any) -> bool:
        return reason in ABANDON_REASONS and (reason != "other" or bool(reason_text.strip()))

    def period_running(self, mediation_due: date | None = None, today: date | None = None, **_: Any) -> bool:
        """Reg 38: a period that has run out (on an exact date) can no longer be extended."""
        return mediation_due is None or today is None or today <= mediation_due

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

    def has_open_session(self, scheduled_sessions: Iterable[str] = (), **_: Any) -> bool:
        return bool(list(scheduled_sessions))

    def session_scheduled(self, session_id: str = "", scheduled_sessions: Iterable[str] = (), **_: Any) -> bool:
        """Minutes are recorded for a session that was scheduled and has no minutes yet."""
        return session_id in set(scheduled_sessions)

    def session_still_scheduled(
        self, session_id: str = "", scheduled_sessions: Iterable[str] = (), **_: Any
    ) -> bool:
        """Only a session still scheduled — its minutes not recorded, not cancelled — is moved or cancelled."""
        return session_id in set(scheduled_sessions)

    def enough_copies(self, copies: int | None = None, party_count: int = 0, **_: Any) -> bool:
        """PML 29: one copy of the agreement per party and one for the committee (none given: exactly that)."""
        return copies is None or copies >= party_count + 1

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

    def new_signer(
        self, signer: str = "", signed: Iterable[str] = (), signed_by: str = "", heirs: Iterable[str] = (),
        heirs_signed: Iterable[str] = (), for_heir: str | None = None, heir_agents: Iterable[Iterable[str]] = (),
        **_: Any,
    ) -> bool:
        """Each of the four signs once; when the patient has died, each heir signs for the patient side, by name,
        or an agent the heir authorised signs for that heir (Civil Code 173: the heirs are the parties)."""
        heirs = list(heirs)
        if for_heir and (signer != "patient" or (signed_by, for_heir) not in {tuple(p) for p in heir_agents}):
            return False  # only an agent the heir authorised signs for that heir
        if signer == "patient" and heirs:
            heir = for_heir or signed_by
            return heir in set(heirs) and heir not in set(heirs_signed)
        return signer in REQUIRED_SIGNERS and signer not in set(signed)

    def completes_signatures(
        self, signer: str = "", signed: Iterable[str] = (), signed_by: str = "", heirs: Iterable[str] = (),
        heirs_signed: Iterable[str] = (), for_heir: str | None = None, **_: Any,
    ) -> bool:
        """Reg 39: both parties (every heir, when the patient has died), the mediator and the committee seal."""
        acts = set(signed) | {signer}
        heirs = set(heirs)
        if heirs and not heirs <= set(heirs_signed) | ({for_heir or signed_by} if signer == "patient" else set()):
            acts.discard("patient")
        return set(REQUIRED_SIGNERS) <= acts

    def signed_after_draft(
        self, signed_at: str | None = None, drafted_on: date | None = None, today: date | None = None, **_: Any
    ) -> bool:
        """Reg 39 (rev 2): a signature is dated no earlier than the draft it signs."""
        day = signature_day(signed_at, today)
        return drafted_on is None or day is None or day >= drafted_on

    def signed_by_due_date(
        self, signed_at: str | None = None, mediation_due: date | None = None, today: date | None = None, **_: Any
    ) -> bool:
        """Reg 38, 39 (rev 2): once the period has run out, only a signature dated by the due date is recorded."""
        day = signature_day(signed_at, today)
        if mediation_due is None or today is None or today <= mediation_due or day is None:
            return True
        return day <= mediation_due

    def balance_outstanding(self, balances: Iterable[TermBalance] = (), **_: Any) -> bool:
        return bool(outstanding(balances))

    def payment_fits_term(
        self, term: int = 0, amount: Any = None, balances: Iterable[TermBalance] = (), **_: Any
    ) -> bool:
        """A payment names a term of the agreement; on a monetary term it pays at most its balance, another term
        is performed once."""
        found = next((b for b in balances if b.term == term), None)
        if found is None or found.performed:
            return False
        if found.amount is None:
            return amount is None
        return amount is not None and 0 < Decimal(str(amount)) <= (found.balance or 0)

    def paid_after_effect(self, paid_on: Any = None, effective_on: date | None = None, **_: Any) -> bool:
        """A payment under the agreement is made no earlier than the day it took effect."""
        if paid_on is None or effective_on is None:
            return True
        return _as_date(paid_on) >= effective_on

    def performed_in_full(
        self, balances: Iterable[TermBalance] = (), patient_acceptance: Mapping[str, Any] | None = None, **_: Any
    ) -> bool:
        """PML 31 (rev 2): every term performed in full, or the patient side's written acceptance of less."""
        accepted = bool(patient_acceptance and patient_acceptance.get("text") and patient_acceptance.get("accepted_on"))
        return accepted or not outstanding(balances)

    def panel_requested(self, specialties: Iterable[str] = (), **_: Any) -> bool:
        """A panel names one to seven specialties of the pool's vocabulary (Reg 33, 35)."""
        wanted = list(specialties)
        return 1 <= len(wanted) <= MAX_PANEL and all(s in SPECIALTIES for s in wanted)

    def has_termination_ground(self, ground: str = "", **_: Any) -> bool:
        """A termination names one of the legal grounds."""
        return ground in TERMINATION_GROUNDS


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return legal_date(value)
    if isinstance(value, date):
        return value
    text = str(value)
    return legal_date(datetime.fromisoformat(text)) if "T" in text else date.fromisoformat(text)


def signature_day(signed_at: Any, today: date | None) -> date | None:
    """The legal day a signature is dated: its `signed_at`, or today when it is recorded as made now."""
    return _as_date(signed_at) if signed_at else today


EVENTS: tuple[str, ...] = tuple(event.id for event in DisputeLifecycle._events)  # type: ignore[attr-defined]
STATES: tuple[str, ...] = tuple(s.id for s in DisputeLifecycle.states)  # type: ignore[attr-defined]

# The facts of the case that guards read besides the payload; the workflow (its state) and the API's pre-check
# (the projection, models/repo.py `guard_facts`) each supply all of them.
CASE_FACTS: tuple[str, ...] = (
    "application_type", "applicant_side", "consents", "consent_due_passed", "respondent_institution_id",
    "scheduled_sessions", "signed", "drafted_on", "mediation_due", "mediation_due_provisional", "today", "balances", "effective_on", "heirs",
    "heirs_signed", "heir_agents", "party_count", "patient_deceased", "patient_minor",
)
# Guards that read only facts of the case: `allowed_events` evaluates them, so it lists exactly what some payload
# would get accepted.
CASE_GUARDS = frozenset({
    "one_sided", "committee_initiated", "both_sides_agree", "consent_missing", "respondent_linked",
    "period_running", "has_open_session", "balance_outstanding",
})

Facts = Mapping[str, Any]


def _outstanding_terms(facts: Facts) -> str:
    left = outstanding(facts.get("balances", ()))
    return "；".join(b.describe() for b in left) or "none"


# The rule each guard stands for, shown when the guard refuses (a text, or a function of the facts).
def _held_note(facts: Facts) -> str:
    """Rev 2: a provisional due date bounds the acts too; the case is held, not failed, until its year is known."""
    if not facts.get("mediation_due_provisional"):
        return ""
    return (" — that date is provisional: its year's working-day calendar is not loaded yet, so the case is held as "
            "it is (nothing fails on a provisional date); an admin loads the calendar, which makes the date exact")


_GUARD_RULES: dict[str, str | Callable[[Facts], str]] = {
    "enough_copies": lambda facts: (
        f"copies: {facts.get('copies')} copies of the agreement are too few for {facts.get('party_count')} parties: "
        f"one for each party and one for the committee (PML 29), at least {int(facts.get('party_count') or 0) + 1}"),
    "one_sided": "request_consent is for a one-sided or oral application; a committee-initiated case records "
    "each side's consent with record_consent (Reg 31¶1)",
    "committee_initiated": "only a committee-initiated case (主动调解) records consents or a refusal before "
    "asking for consent",
    "both_sides_agree": "submit_for_review needs a joint application, or a committee-initiated one with each "
    "side's consent on file (who, when, how); a one-sided application must first get the other side's consent "
    "(Reg 31¶1)",
    "consent_missing": "both sides' consents are on file already: submit the case for review",
    "side_not_on_file": lambda f: "a committee-initiated case records one consent per side: name the side "
    f"(patient or institution) whose consent is not on file yet (on file: {', '.join(f.get('consents', ())) or 'none'})",
    "other_side": "the consent awaited is the other side's, not the applicant's (Reg 31¶1)",
    "refusal_stated": "silence counts as refusal only once the consent deadline has passed; the case is then "
    "rejected by itself (consent_expired). Before it, record a refusal stated in writing or orally (PML 17)",
    "respondent_linked": "link the respondent to the expert pool's institution registry first (PUT "
    "/cases/{id}/respondent-institution): expert recusal checks institutions by id, never by name (Reg 37)",
    "representatives_lawful": lambda f: (representatives_refused(
        deceased=bool(f.get("patient_deceased")), minor_or_incapacitated=bool(f.get("patient_minor")),
        representatives=[dict(r) for r in f.get("patient_representatives") or ()])
        or "the patient side's representatives break the registration's rules (Civil Code 173)"),
    "one_to_three_mediators": "a case is assigned one to three mediators (accept, reassign_mediators)",
    "has_reject_reason": "reject needs at least one reason from the list (1–8); reason 8 needs a reason in words",
    "appraisal_commissioned": "an appraisal is commissioned by both sides together, or by the committee with "
    "both sides' consent (Reg 34)",
    "abandonment_explained": "say why the appraisal will not report: " + ", ".join(ABANDON_REASONS)
    + " (other needs reason_text)",
    "period_running": lambda f: f"the mediation period ended on {f.get('mediation_due')}: it can no longer be "
    "extended (Reg 38)" + _held_note(f),
    "extension_agreed": "an extension needs the consent of both parties, the director's approval and a positive "
    "number of working days (Reg 38)",
    "has_open_session": "the case has no session still scheduled (every one has its minutes or is cancelled)",
    "session_scheduled": "minutes can only be recorded for a scheduled session",
    "session_still_scheduled": lambda f: f"session {f.get('session_id')!r} is not a session of this case that is "
    "still scheduled: only a session whose minutes are not recorded and that is not cancelled can be moved or "
    "cancelled",
    "has_pml29_content": "the agreement must state the facts, the points in dispute, each side's responsibility "
    "and terms with the manner and deadline of performance (PML 29)",
    "new_signer": "each of patient side, institution, mediator and committee seal signs once (Reg 39); when the "
    "patient has died, each heir signs for the patient side, by name, or an agent the heir authorised (acts_for in "
    "the registration) signs with for_heir naming the heir (Civil Code 173)",
    "signed_after_draft": lambda f: f"a signature cannot be dated before the draft it signs ({f.get('drafted_on')}) "
    "(Reg 39)",
    "signed_by_due_date": lambda f: f"the mediation period ended on {f.get('mediation_due')}: only signatures dated "
    "on or before that day can still be recorded (Reg 38, 39)" + _held_note(f),
    "balance_outstanding": "every term of the agreement is performed in full already",
    "payment_fits_term": lambda f: "a payment names a term of the agreement (1–"
    f"{len(tuple(f.get('balances', ())))}); on a monetary term its amount is more than 0 and at most the "
    f"balance, another term is recorded once without an amount. Open: {_outstanding_terms(f)}",
    "paid_after_effect": lambda f: f"a payment under the agreement is made no earlier than the day it took effect "
    f"({f.get('effective_on')})",
    "performed_in_full": lambda f: "performance is confirmed when every term is performed in full, or with the "
    f"patient side's written acceptance of less (patient_acceptance, PML 31). Outstanding: {_outstanding_terms(f)}",
    "panel_requested": "a consultation names one to seven experts' specialties from the pool's vocabulary "
    "(Reg 33, 35)",
    "has_termination_ground": "terminate needs one of the legal grounds: " + ", ".join(TERMINATION_GROUNDS),
}


def _rule_text(name: str, facts: Facts) -> str:
    rule = _GUARD_RULES.get(name, name)
    return rule(facts) if callable(rule) else rule


def machine_at(status: str) -> DisputeLifecycle:
    if status not in STATES:
        raise ValueError(f"unknown state {status!r}")
    return DisputeLifecycle(start_value=status)


def _allowed_from(status: str) -> list[str]:
    return sorted({event.id for event in machine_at(status).allowed_events})


# The events each state allows before any data is looked at: fixed by the class, so computed once.
_ALLOWED: dict[str, list[str]] = {status: _allowed_from(status) for status in STATES}


def _guard_names(transition: Any) -> list[str]:
    specs = transition.cond.list if hasattr(transition.cond, "list") else []
    return [getattr(getattr(spec, "func", spec), "__name__", str(getattr(spec, "func", spec))) for spec in specs]


# For each state and event: the case guards of each transition that may take it (one list per transition).
_CASE_GUARDS_OF: dict[tuple[str, str], list[list[str]]] = {}
for _state in DisputeLifecycle.states:  # type: ignore[attr-defined]
    for _transition in _state.transitions:
        for _event in _transition.event.split(" "):
            _CASE_GUARDS_OF.setdefault((_state.id, _event), []).append(
                [g for g in _guard_names(_transition) if g in CASE_GUARDS])
_GUARDS = DisputeLifecycle(start_value="new")  # the guard methods are pure: one instance serves every check


def _compiled_guards(transition: Any) -> tuple[tuple[str, bool], ...]:
    """A transition's conditions as (guard method, the value it must give): `cond` True, `unless` False."""
    guards = []
    for spec in transition.cond.list:
        if spec.group != CallbackGroup.COND:
            continue
        name = getattr(spec.func, "__name__", spec.func)
        if not isinstance(name, str) or not callable(getattr(DisputeLifecycle, name, None)):
            raise TypeError(f"a lifecycle condition must name a guard method, not {spec.func!r}")
        guards.append((name, bool(spec.expected_value)))
    return tuple(guards)


# The lifecycle compiled once: for each state and event, each transition that may take it, in declaration order
# (the first whose guards pass is taken, as python-statemachine takes it), with its guards. No machine is built
# per check; tests/unit/test_lifecycle_compiled.py holds the two to the same answers.
TRANSITIONS: dict[tuple[str, str], tuple[tuple[str, tuple[tuple[str, bool], ...]], ...]] = {}
for _state in DisputeLifecycle.states:  # type: ignore[attr-defined]
    for _transition in _state.transitions:
        for _event in _transition.event.split(" "):
            TRANSITIONS[(_state.id, _event)] = (*TRANSITIONS.get((_state.id, _event), ()),
                                                (_transition.target.id, _compiled_guards(_transition)))


def _passes(guards: tuple[tuple[str, bool], ...], facts: Mapping[str, Any]) -> bool:
    return all(bool(getattr(_GUARDS, name)(**facts)) is expected for name, expected in guards)


# Events that can leave the case where it is (a self-loop somewhere): two of them at once are a race the state
# does not settle (rev 2). What tells two such actions apart: the field named here (two signers may sign at
# once), otherwise the event itself.
SELF_LOOP_EVENTS = frozenset(
    event
    for state in DisputeLifecycle.states  # type: ignore[attr-defined]
    for transition in state.transitions
    if transition.target == transition.source
    for event in transition.event.split(" ")
)
_CONCURRENT_BY: dict[str, str] = {"sign": "signer", "record_minutes": "session_id", "record_consent": "side",
                                  "record_payment": "term", "reschedule_session": "session_id",
                                  "cancel_session": "session_id"}


def concurrency_key(event: str, payload: Mapping[str, Any]) -> str | None:
    """The key under which two self-loop actions decided on the same version of a case are one action (same
    request) or a conflict (another request); None for an event that moves the case (the state settles it)."""
    if event not in SELF_LOOP_EVENTS:
        return None
    field = _CONCURRENT_BY.get(event)
    return f"{event}:{payload.get(field)}" if field else event


def allowed_events(status: str, facts: Facts | None = None) -> list[str]:
    """The events the law allows from `status`. Given the case's facts, what staff can do now: exactly the events
    some payload would get accepted — the guards that read only the case (`CASE_GUARDS`) evaluated, and the events
    the case raises itself (`SYSTEM_EVENTS`) left out."""
    if status not in _ALLOWED:
        raise ValueError(f"unknown state {status!r}")
    if facts is None:
        return list(_ALLOWED[status])
    return [
        event for event in _ALLOWED[status]
        if event not in SYSTEM_EVENTS
        and any(all(getattr(_GUARDS, g)(**facts) for g in guards) for guards in _CASE_GUARDS_OF.get((status, event), [[]]))
    ]


def next_status(status: str, event: str, facts: Mapping[str, Any] | None = None) -> str:
    """The state `event` leads to from `status` given its facts, or an error naming what is allowed.

    Raises IllegalTransition when the event is not legal in this state at all, and RuleViolated
    when it is, but the facts break a guard.
    """
    facts = dict(facts or {})
    if event not in allowed_events(status):
        # what the refusal offers instead: guards included when the facts of the case are known
        allowed = allowed_events(status, facts if all(k in facts for k in CASE_FACTS) else None)
        raise IllegalTransition(
            f"'{event}' is not allowed when the case is {status} ({STATE_LABELS.get(status, status)}); "
            f"allowed: {', '.join(allowed) or 'none'}",
            state=status,
            event=event,
            allowed=allowed,
        )
    for target, guards in TRANSITIONS[(status, event)]:
        if _passes(guards, facts):
            return target
    failed = _failed_guards(_GUARDS, status, event, facts)
    rules = "; ".join(_rule_text(name, facts) for name in failed) or "a guard refused"
    raise RuleViolated(f"'{event}' refused: {rules}", state=status, event=event, rules=failed)


def _failed_guards(sm: DisputeLifecycle, status: str, event: str, facts: Mapping[str, Any]) -> list[str]:
    """The guards that refused: of the transition that came closest (fewest refusals), in declaration order."""
    best: list[str] | None = None
    state = getattr(DisputeLifecycle, status)
    for transition in state.transitions:
        if event not in transition.event.split(" "):
            continue
        names = [n for n in _guard_names(transition) if n != "completes_signatures"]
        failed = [n for n in names if callable(getattr(sm, n, None)) and not getattr(sm, n)(**facts)]
        if best is None or len(failed) < len(best):
            best = failed
    return best or []


def is_closed(status: str) -> bool:
    return status in CLOSED_STATES
