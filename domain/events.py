"""The catalogue of events: each event of the lifecycle defined in one place — what staff send (its payload
schema), who may ask for it, what it is (its summary, also the API operation's), how the API offers it, and the
document it issues. Checked at import against the lifecycle's events (domain/lifecycle.py keeps the states, the
transitions and the guards: when an event is legal).

The API builds one route per staff action from it, access control takes its roles from it, and the case's workflow
asks it which document an event issues. How each event changes the case's record is in the workflow and the
projection (workflows/dispute.py, models/repo.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from domain import lifecycle
from domain import payloads as s

# Who asks for each event (DOMAIN.md, the "Who" column). "Staff" there is the committee's staff: intake staff
# and the director; the mediator has the events of the case they own. Signatures: the mediator records them
# too, but only the director applies the committee seal (Reg 39, `roles_for`).
INTAKE = ("intake", "director")
ANY_STAFF = ("intake", "mediator", "director")
DIRECTOR = ("director",)
MEDIATOR = ("mediator",)
SEAL_ROLE = "director"  # Reg 39: the committee seal


@dataclass(frozen=True)
class EventSpec:
    name: str
    summary: str
    roles: tuple[str, ...] = ()  # who may ask for it; none: the case raises it itself (its clock, its panel)
    payload: type[BaseModel] | None = None  # what staff send
    route: Literal["action", "own", "none"] = "action"  # POST /cases/{id}/<event>, a route of its own, or none
    issues: str | None = None  # the document it issues (documents/render.py KINDS)
    issues_only_into: frozenset[str] | None = None  # only when the case moves into one of these states

    def document(self, to_status: str) -> str | None:
        """The document this event issues when the case moves to `to_status`, if any."""
        if self.issues is None or (self.issues_only_into is not None and to_status not in self.issues_only_into):
            return None
        return self.issues


EVENTS: dict[str, EventSpec] = {spec.name: spec for spec in (
    EventSpec("register", "Register a dispute (登记) for your committee", INTAKE, s.CaseCreate, route="own"),
    EventSpec("request_consent", "Ask the other side for consent (征求对方意见, Reg 31¶1)", INTAKE,
              s.RequestConsent),
    EventSpec("record_consent", "Record the other side's consent", INTAKE, s.RecordConsent),
    EventSpec("record_refusal", "Record the other side's refusal (PML 17)", INTAKE, s.RecordRefusal,
              issues="rejection_notice"),
    EventSpec("consent_expired", "The other side did not answer in time: counted as refusal (PML 17)",
              route="none", issues="rejection_notice"),
    EventSpec("submit_for_review", "Submit for acceptance review (受理审查)", INTAKE, s.SubmitForReview),
    EventSpec("accept", "Accept and assign 1–3 mediators (受理, starts the 30-WD clock)", DIRECTOR, s.Accept,
              issues="acceptance_notice"),
    EventSpec("reject", "Reject with reasons (不予受理)", DIRECTOR, s.Reject, issues="rejection_notice"),
    EventSpec("link_respondent", "Link the respondent to the expert pool's institution registry (Reg 37: recusal "
              "by id)", ANY_STAFF, s.LinkRespondent, route="own"),
    EventSpec("amend_parties", "Amend the patient side's representatives (an heir, an agent, a guardian), with the "
              "reason; held to the registration's rules (Civil Code 173), until the agreement is drafted",
              ANY_STAFF, s.AmendParties),
    EventSpec("schedule_session", "Schedule a mediation session; a mediator booked elsewhere within two hours is "
              "warned", MEDIATOR, s.ScheduleSession),
    EventSpec("record_minutes", "Record a session's minutes (调解笔录)", MEDIATOR, s.RecordMinutes,
              issues="session_minutes"),
    EventSpec("reschedule_session", "Move a session still scheduled to another time (and place), with the reason; "
              "a mediator booked elsewhere within two hours is warned", MEDIATOR, s.RescheduleSession),
    EventSpec("cancel_session", "Cancel a session still scheduled, with the reason: it is no longer open",
              MEDIATOR, s.CancelSession),
    EventSpec("reassign_mediators", "Assign the case's 1–3 mediators anew (in mediation, appraisal, signing or "
              "performance): the accounts named reach the case, the others no longer do", DIRECTOR,
              s.ReassignMediators),
    EventSpec("request_consultation", "Ask the expert pool for a panel (专家咨询, Reg 33): experts are drawn and "
              "invited; the clock keeps running", MEDIATOR, s.RequestConsultation),
    EventSpec("record_expert_opinion", "The panel's experts have all given their opinion (Reg 33)", route="none",
              issues="expert_opinion"),
    EventSpec("start_appraisal", "A medical-damage appraisal is commissioned (医疗损害鉴定, Reg 34): the clock "
              "pauses", MEDIATOR, s.StartAppraisal),
    EventSpec("finish_appraisal", "The appraisal opinion arrived (Reg 36): the clock runs again", MEDIATOR,
              s.FinishAppraisal),
    EventSpec("abandon_appraisal", "The appraisal will not report (declined, returned, fee not advanced, "
              "withdrawn): the clock runs again", MEDIATOR, s.AbandonAppraisal),
    EventSpec("extend_deadline", "Extend the mediation period by agreement (延长调解期限, Reg 38)", DIRECTOR,
              s.ExtendDeadline),
    EventSpec("draft_agreement", "Draft the agreement (人民调解协议书, PML 29)", MEDIATOR, s.DraftAgreement,
              issues="agreement_draft"),
    EventSpec("revise_agreement", "A party refuses to sign: back to mediation, the draft is superseded", MEDIATOR,
              s.ReviseAgreement),
    EventSpec("sign", "Record a signature or the committee seal (Reg 39)", ANY_STAFF, s.Sign,
              issues="agreement", issues_only_into=frozenset({"performance"})),  # the fourth act: effective
    EventSpec("record_payment", "Record a payment or act of performance against one term of the agreement "
              "(PML 31)", MEDIATOR, s.RecordPayment),
    EventSpec("confirm_performance", "Confirm the agreement performed: every term in full, or the patient side's "
              "written acceptance of less (PML 31)", MEDIATOR, s.ConfirmPerformance),
    EventSpec("record_nonperformance", "Record nonperformance, parties referred to court (PML 32)", MEDIATOR,
              s.RecordNonperformance),
    EventSpec("record_judicial_confirmation", "Record the parties' application for judicial confirmation and the "
              "court's result (司法确认, PML 33)", MEDIATOR, s.RecordJudicialConfirmation),
    EventSpec("record_followup", "Record the follow-up visit after performance (回访记录)", MEDIATOR,
              s.RecordFollowup, issues="followup_record"),
    EventSpec("declare_failed", "Declare mediation failed (调解不成, PML 26)", MEDIATOR, s.DeclareFailed,
              issues="failure_notice"),
    EventSpec("deadline_expired", "The mediation period ran out: deemed failed (Reg 38)", route="none",
              issues="failure_notice"),
    EventSpec("terminate", "Terminate mediation on a legal ground (终止调解)", ANY_STAFF, s.Terminate,
              issues="termination_notice"),
    EventSpec("archive", "Archive the closed case (归档, PML 27)", INTAKE, s.Archive, issues="case_file"),
)}

_lifecycle_events = set(lifecycle.EVENTS)
if set(EVENTS) != _lifecycle_events:  # one catalogue, the lifecycle's events exactly
    raise ImportError(f"the event catalogue and the lifecycle differ: only in the catalogue "
                      f"{sorted(set(EVENTS) - _lifecycle_events)}, only in the lifecycle "
                      f"{sorted(_lifecycle_events - set(EVENTS))}")
if {name for name, spec in EVENTS.items() if not spec.roles} != set(lifecycle.SYSTEM_EVENTS):
    raise ImportError("the events no one asks for must be the lifecycle's system events")

EVENT_ROLES: dict[str, tuple[str, ...]] = {name: spec.roles for name, spec in EVENTS.items() if spec.roles}
STAFF_ACTIONS: tuple[EventSpec, ...] = tuple(spec for spec in EVENTS.values() if spec.route == "action")
ACTION_SCHEMAS: dict[str, type[BaseModel]] = {spec.name: spec.payload for spec in STAFF_ACTIONS
                                              if spec.payload is not None}


def roles_for(event: str, payload: Mapping[str, Any]) -> tuple[str, ...]:
    """Who may ask for `event` with this payload: the committee seal is the director's alone (Reg 39)."""
    if event == "sign" and payload.get("signer") == "committee_seal":
        return (SEAL_ROLE,)
    return EVENT_ROLES[event]


def document_of(event: str, to_status: str) -> str | None:
    """The document `event` issues when the case moves to `to_status` (the current rule book)."""
    return EVENTS[event].document(to_status)
