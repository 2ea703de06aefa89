"""Response schemas of the staff API (the request payloads are domain/payloads.py).

Amounts are decimals (serialised as strings, never floats). Every time returned is in Asia/Shanghai (+08:00).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from domain.lifecycle import STATES
from domain.payloads import (
    Day,
    LocalTime,
    Strict,
)
from domain.taxonomy import DEPARTMENTS, DISPUTE_KINDS, HARMS, INSTITUTION_LEVELS, UNKNOWN, label
from models.paging import Page


# ---------------------------------------------------------------- responses -------------------------
class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClockPolicyIn(Strict):
    """A committee's clock lengths (local rules differ; the defaults are DOMAIN.md's). A case keeps the lengths
    it was registered under."""

    consent_wd: int = Field(default=5, ge=1, le=60, description="the other side's answer (working days)")
    review_reminder_wd: int = Field(default=3, ge=1, le=60, description="acceptance review: remind the director")
    review_escalation_wd: int = Field(default=2, ge=1, le=60, description="then escalate after this many more")
    mediation_wd: int = Field(default=30, ge=1, le=120, description="Reg 38: the mediation period")
    signing_grace_wd: int = Field(
        default=1, ge=0, le=10, description="Reg 38, 39: when the period ends while signatures are collected, the "
        "case waits this many working days before it fails; signatures dated by the due date can still be recorded")
    appraisal_reminder_wd: int = Field(default=20, ge=1, le=120,
                                       description="an open appraisal: remind the mediator this often to record "
                                       "its status (working days)")
    warn_before_wd: list[Annotated[int, Field(ge=1, le=60)]] = Field(default=[5, 1], max_length=5)
    judicial_confirmation_days: int = Field(default=30, ge=1, le=60, description="PML 33: calendar days")
    judicial_reminder_days: int = Field(default=5, ge=0, le=30)
    case_file_retention_years: int = Field(default=30, ge=1, le=100,
                                           description="the case file's retention period, printed on its cover")
    agreement_seal_image: bool = Field(default=False, description="print a seal image on the effective agreement "
                                       "beside its digital seal (drafts never carry one)")
    payment_prompt_wd: int = Field(default=5, ge=1, le=60)
    followup_days: int = Field(default=30, ge=1, le=365)
    expert_answer_wd: int = Field(default=2, ge=1, le=30, description="an invited expert's answer (working days)")
    affiliation_lookback_years: int = Field(
        default=3, ge=0, le=30, description="Reg 37: a past affiliation with the respondent excludes for this long"
    )


class CommitteePublic(Out):
    id: str
    name: str
    short_name: str
    city: str
    policy: ClockPolicyIn = Field(default_factory=ClockPolicyIn, description="the clock lengths in force")


class DeadlinePublic(BaseModel):
    """A pending deadline of the case, as the case's workflow derived it (domain/deadlines.py)."""

    kind: str = Field(examples=["deadline_expired"])
    label: str = Field(examples=["调解期限届满"])
    at: LocalTime = Field(description="when the timer fires: 24:00 Asia/Shanghai of the last day, or the start of a day")
    due_on: date = Field(description="the day the deadline names")
    provisional: bool = Field(description="counted through a year the working-day calendar does not know (its "
                              "statutory holidays skipped, its bridging and make-up days unknown)")
    recipient_role: str
    message: str


class PausePublic(BaseModel):
    started_on: date
    ended_on: date | None
    reason: str


class ExtensionPublic(BaseModel):
    days: int
    agreed_on: date


class MediationClockPublic(BaseModel):
    """Reg 38: 30 working days from acceptance, appraisal time excluded, extendable by agreement. A budget plus a
    ledger of pauses and extensions; the due date is derived from them and the working-day calendar."""

    started: bool
    accepted_on: date | None
    budget_wd: int = Field(description="the committee's policy (30 WD by default)")
    total_wd: int = Field(description="the budget plus every agreed extension")
    used_wd: int = Field(description="working days consumed by the end of today")
    remaining_wd: int = Field(description="working days left after today")
    due_date: date | None = Field(description="the last day of the period; none while paused")
    deadline_at: LocalTime | None = Field(description="24:00 Asia/Shanghai of the due date")
    paused: bool
    provisional: bool
    pauses: list[PausePublic]
    extensions: list[ExtensionPublic]


class ConsentPublic(BaseModel):
    """One side's consent on file (Reg 31¶1): who, how, when, and the transition that recorded it."""

    side: str
    consented_by: str
    method: str
    consented_at: LocalTime | None = None
    seq: int


class TermBalancePublic(BaseModel):
    """A term of the effective agreement and what is left of it (PML 31)."""

    term: int
    text: str
    amount: Decimal | None = Field(description="none: not a monetary term")
    paid: Decimal
    balance: Decimal | None
    performed: bool


class PaymentPublic(BaseModel):
    term: int
    amount: Decimal | None = None
    paid_on: date
    payer: str
    proof: str
    note: str | None = None
    seq: int


class DuplicatePublic(BaseModel):
    """An earlier case of the same patient, institution and treatment (reject reason 7). A case of another
    committee is named by its number only: its content is not yours to read (Reg 42)."""

    id: str | None = Field(description="none for another committee's case")
    number: str
    committee_id: str
    status: str
    status_label: str
    registered_at: LocalTime
    patient_name: str | None = None
    institution_name: str | None = None


class CasePublic(Out):
    id: str
    number: str
    committee_id: str
    status: str
    status_label: str
    application_type: str
    applicant_side: str | None
    patient_name: str
    institution_name: str
    facts: str
    claim_amount: Decimal
    requests: str
    registration: dict[str, Any]
    mediators: list[str]
    agreement: dict[str, Any] | None
    agreement_version: int
    signatures: dict[str, Any]
    outcome: dict[str, Any] | None
    version: int = Field(description="the case's version (its last transition's number): send it as If-Match to "
                         "act on exactly this version; also the ETag of GET /cases/{id}")
    consents: list[ConsentPublic] = Field(default_factory=list, description="each side's consent on file")
    respondent_institution_id: str | None = Field(
        default=None, description="the respondent in the expert pool's registry (Reg 37); a consultation needs it")
    payments: list[PaymentPublic] = Field(default_factory=list, description="PML 31: performance recorded")
    balances: list[TermBalancePublic] = Field(default_factory=list, description="each term of the agreement and "
                                              "what is left of it")
    possible_duplicates: list[DuplicatePublic] = Field(
        default_factory=list, description="earlier cases of the same patient, institution and treatment: tick "
        "reason 7 on rejection if it is one")
    registered_at: LocalTime
    updated_at: LocalTime
    accepted_at: LocalTime | None
    closed_at: LocalTime | None
    archived_at: LocalTime | None
    allowed_events: list[str]
    mediation_clock: MediationClockPublic | None = Field(default=None, description="after acceptance")
    deadlines: list[DeadlinePublic] = Field(default_factory=list, description="pending deadlines, earliest first")
    provisional: bool = Field(default=False, description="some deadline is provisional (an unknown calendar year)")
    payment_overdue: bool = False
    effective_on: date | None = Field(default=None, description="the agreement took effect (Reg 39)")
    # What the reports group by (domain/taxonomy.py, docs/statistics.md): codes, and their labels below
    department: str = Field(default=UNKNOWN, description="the clinical department (科室): a code of GET "
                            "/pool/specialties' clinical ones, or unknown")
    dispute_kind: str = Field(default=UNKNOWN, description="the kind of dispute")
    institution_level: str = Field(default=UNKNOWN, description="the respondent institution's grade")
    harm: str = Field(default=UNKNOWN, description="the harm the patient side states")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def department_label(self) -> str:
        return label(DEPARTMENTS, self.department)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dispute_kind_label(self) -> str:
        return label(DISPUTE_KINDS, self.dispute_kind)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def institution_level_label(self) -> str:
        return label(INSTITUTION_LEVELS, self.institution_level)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def harm_label(self) -> str:
        return label(HARMS, self.harm)


class CaseSummary(Out):
    id: str
    number: str
    committee_id: str
    status: str
    status_label: str
    patient_name: str
    institution_name: str
    claim_amount: Decimal
    registered_at: LocalTime
    updated_at: LocalTime
    due_date: date | None = None
    due_provisional: bool = False
    payment_overdue: bool = False
    next_deadline: date | None = Field(default=None, description="the nearest pending deadline of any kind (consent, "
                                       "the mediation period, payments, follow-up …): the day it names")


class CaseListFilters(BaseModel):
    """The case list's filters (GET /cases); every one given must hold. Days are days in Asia/Shanghai, both ends
    included."""

    status: Literal[STATES[1:]] | None = None  # type: ignore[valid-type]
    committee_id: str | None = Field(default=None, max_length=64)
    registered_from: date | None = None
    registered_to: date | None = None
    due_from: date | None = Field(default=None, description="the mediation period ends on or after this day (Reg 38)")
    due_to: date | None = Field(default=None, description="the mediation period ends on or before this day")
    mediator_id: str | None = Field(default=None, max_length=100, description="assigned to this mediator's account")
    party: str | None = Field(
        default=None, max_length=100, examples=["王芳"],
        description="a party's name (the patient, an heir or representative, the institution, an insurer), or its "
        "beginning: 王 finds 王芳 and 王小明; spaces and full-width letters do not matter. Read from an index, "
        "however short the name")
    party_match: Literal["prefix", "exact"] = Field(
        default="prefix", description="exact: the whole name only (王芳, not 王芳芳)")
    q: str | None = Field(default=None, max_length=100, description="text anywhere in the number, the names, the "
                          "facts or the requests: reads every case in reach; for a name, `party` is much faster")
    identity: str | None = Field(default=None, pattern=r"^\d{17}[\dXx]$", examples=["310101198001011234"],
                                 description="the patient's identity number (exact), found by its key")
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+?[\d\- ]{5,20}$", examples=["13800138000"],
                              description="a phone number anywhere in the registration (the parties, their "
                              "representatives): reads every case in reach, like q")
    due_before: date | None = Field(default=None, description="the nearest pending deadline of any kind falls before "
                                    "this day (the worklists' 'due this week': due_before=next Monday)")
    sort: Literal["registered", "next_deadline"] = Field(
        default="registered", description="registered: newest first (every case); next_deadline: the nearest "
        "pending deadline first, soonest first — cases with no pending deadline are left out")


class CasesPublic(Page[CaseSummary]):
    """A page of the case list, newest first."""


class TransitionPublic(Out):
    seq: int
    event: str
    from_status: str
    to_status: str
    actor_id: str
    actor_name: str
    actor_role: str
    at: LocalTime
    payload: dict[str, Any]


class AllowedEvents(BaseModel):
    status: str
    status_label: str
    allowed_events: list[str]


class DocumentPublic(Out):
    """A document of a case. An action answers as soon as it is recorded, with the ids of the documents it issues:
    each is `pending` while it is rendered and sealed apart (its number, SHA-256 and size come with it), then
    `issued`, or `failed` with the reason. `attempts` and `error` show a rendering being retried."""

    id: str
    case_id: str
    kind: str
    lang: str
    source_seq: int
    status: Literal["pending", "issued", "failed"] = "issued"
    version: int | None = None
    number: str | None = None
    title: str | None = None
    sha256: str | None = None
    size: int | None = None
    media_type: str = "application/pdf"
    superseded: bool = False
    created_at: LocalTime | None = None
    requested_at: LocalTime | None = None
    attempts: int = 0
    error: str | None = None


SessionStatus = Literal["scheduled", "held", "cancelled"]


class SessionMovePublic(BaseModel):
    """One move of a session: from when and where, to when and where, and why."""

    seq: int = Field(description="the case's transition that moved it")
    from_at: LocalTime
    to_at: LocalTime
    from_place: str
    to_place: str
    reason: str


class SessionCancellationPublic(BaseModel):
    seq: int = Field(description="the case's transition that cancelled it")
    reason: str
    at: LocalTime


class SessionPublic(Out):
    id: str
    scheduled_at: LocalTime
    place: str
    mediators: list[str]
    attendees: list[str]
    minutes: dict[str, Any] | None
    status: SessionStatus = Field(description="scheduled (moved or not), held (its minutes recorded) or cancelled")
    moves: list[SessionMovePublic] = Field(default_factory=list, description="each move, oldest first")
    cancellation: SessionCancellationPublic | None = None


class SessionListFilters(BaseModel):
    """The sessions' calendar's filters (GET /sessions); every one given must hold. Days are days in Asia/Shanghai,
    both ends included; without them, this week (Monday to Sunday)."""

    model_config = ConfigDict(populate_by_name=True)

    from_day: Day | None = Field(default=None, alias="from", description="from this day (default: this week's "
                                 "Monday)", examples=["2026-11-23"])
    to_day: Day | None = Field(default=None, alias="to", description="until this day, included (default: the "
                               "Sunday after `from`)", examples=["2026-11-29"])
    mediator: str | None = Field(default=None, min_length=1, max_length=100, examples=["陈调解员"],
                                 description="a mediator of the session, by name as the session names them")
    status: SessionStatus | None = None
    committee_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _ordered(self) -> SessionListFilters:
        if self.from_day is not None and self.to_day is not None and self.to_day < self.from_day:
            raise ValueError(f"to ({self.to_day}) is before from ({self.from_day})")
        return self


class CalendarSessionPublic(BaseModel):
    """A session in the calendar across cases, with its case."""

    id: str = Field(description="the session's id")
    case_id: str
    case_number: str
    committee_id: str
    case_status: str
    patient_name: str
    institution_name: str
    scheduled_at: LocalTime
    place: str
    mediators: list[str]
    status: SessionStatus
    moved: int = Field(default=0, description="how many times it was moved")


class SessionsPublic(Page[CalendarSessionPublic]):
    """A page of the sessions' calendar, earliest first; `from` and `to` are the days it covers."""

    from_day: date = Field(alias="from", serialization_alias="from")
    to_day: date = Field(alias="to", serialization_alias="to")

    model_config = ConfigDict(populate_by_name=True)


class ActionWarning(BaseModel):
    """Something the action did that staff should look at; the action was done all the same."""

    code: Literal["mediator_double_booked", "clash_check_unavailable"] = Field(examples=["mediator_double_booked"])
    message: str = Field(examples=[("陈调解员 已安排 2026-11-25 10:00 在第二调解室的调解会（〔2026〕沪黄医调字第12号），"
                                    "与本场相隔1小时，不足2小时")])
    session_id: str | None = Field(default=None, description="the other session (null when its case is not "
                                   "within your reach)")
    case_id: str | None = Field(default=None, description="its case (null when not within your reach)")
    case_number: str | None = None
    scheduled_at: LocalTime | None = None
    mediators: list[str] = Field(default_factory=list, description="the mediators booked at both")


class ActionOutcome(BaseModel):
    """What a staff action returns: the new state, what is allowed now, and any documents it produced."""

    case_id: str
    event: str
    from_status: str
    status: str
    status_label: str
    seq: int
    at: LocalTime
    allowed_events: list[str]
    document_ids: list[str]
    session_id: str | None = None
    panel_id: str | None = Field(default=None, description="request_consultation: the expert panel it opened")
    version: int = Field(description="the case's version after the action (If-Match for the next one)")
    repeated: bool = Field(default=False, description="the answer given to the same request before: nothing "
                           "changed this time (Idempotency-Key, or the same self-loop action sent twice at once)")
    warnings: list[ActionWarning] = Field(
        default_factory=list, description="done, but look: schedule-session and reschedule-session warn when a "
        "mediator of the session has another scheduled session less than two hours from it (any case of the "
        "committee)")


# ---------------------------------------------------------------- working-day calendar --------------
class YearTableIn(Strict):
    """A year's public holidays and make-up working days (调休), as the State Council publishes them."""

    holidays: list[Day] = Field(
        max_length=366, description="days off that would otherwise be working days (and holiday weekends)",
        examples=[["2027-01-01", "2027-02-06", "2027-02-07", "2027-02-08"]],
    )
    workdays: list[Day] = Field(
        default_factory=list, max_length=366, description="make-up working days, usually weekends (调休)",
        examples=[["2027-02-20"]],
    )
    names: dict[str, Annotated[str, Field(max_length=50)]] = Field(
        default_factory=dict, description="optional names of days, by ISO date", examples=[{"2027-01-01": "元旦"}]
    )


class CalendarYearPublic(BaseModel):
    year: int
    layer: Literal["table", "chinesecalendar", "provisional"] = Field(
        description="who answers for the year: a loaded table, the chinesecalendar package, or (provisional) "
        "Monday to Friday without the public holidays the law fixes by date"
    )
    provisional: bool
    loaded_at: LocalTime | None = None
    loaded_by: str | None = None
    holidays: list[date] = Field(default_factory=list, description="of a loaded table")
    workdays: list[date] = Field(default_factory=list, description="of a loaded table")


class CalendarLoadReport(BaseModel):
    """What loading a year did: the table is stored, every open case's deadlines are recomputed in one batch from
    the clocks its row keeps, and the workflows whose next timer moved are told (`calendar_loaded`). Every open
    case is either recomputed or left to its workflow (`recomputed + left_to_workflows == open_cases`), and every
    workflow told was told, had ended or failed (`signalled + not_running + len(failed) == woken +
    left_to_workflows`)."""

    year: CalendarYearPublic
    replaced: bool = Field(description="a table for the year was loaded before")
    open_cases: int
    recomputed: int = Field(description="open cases whose deadlines were recomputed in the batch, from the "
                            "clocks their row keeps")
    rewritten: int = Field(description="of those, the cases whose deadlines changed: their row was rewritten")
    woken: int = Field(description="of those, the cases whose earliest pending timer moved: their workflow is "
                       "told, so that it sleeps until the new one (the others refresh their calendar when they wake)")
    closed_recounted: int = Field(default=0, description="closed cases whose mediation ran through the year: their "
                                  "working days (used, paused, deadline kept) counted again with its table, for "
                                  "the reports")
    left_to_workflows: int = Field(description="open cases whose workflow is told to recompute them itself: "
                                   "rows written before they kept the clocks, or changed while the batch ran")
    signalled: int = Field(description="workflows told (woken or left to their workflow)")
    not_running: int = Field(description="cases whose workflow has ended")
    failed: list[str] = Field(description="cases whose workflow could not be told (repeat the load to retry them)")


class WorkingDayPublic(BaseModel):
    day: date
    working: bool = Field(description="a working day (工作日), make-up days included, public holidays excluded")
    provisional: bool = Field(description="the year is unknown to the calendar: answered Monday to Friday without "
                              "the statutory holidays")
    layer: Literal["table", "chinesecalendar", "provisional"]
    name: str | None = None


class WorkingDaysLaterPublic(BaseModel):
    start: date
    working_days: int
    last_day: date = Field(description="the working_days-th working day after start (start does not count)")
    ends_at: LocalTime = Field(description="24:00 Asia/Shanghai of that day, when a period of that length ends")
    provisional: bool
    unknown_years: list[int] = Field(description="years on the way that the calendar does not know")


class ProvisionalCase(CaseSummary):
    deadlines: list[DeadlinePublic]


class ProvisionalCasesPublic(Page[ProvisionalCase]):
    """Open cases with a deadline in a year the calendar does not know, earliest due date first: load that year to
    make them firm."""

    unknown_years: list[int]


# ---------------------------------------------------------------- notifications (outbox) ------------
class DeliveryPublic(Out):
    """A notification on its way to one person by one channel (docs/notifications.md). The address is masked."""

    channel: Literal["email", "sms", "log"] = Field(description="email, sms, or log (the outbox itself)")
    recipient_type: str = Field(description="user (an account), expert (the pool), or empty for the log")
    recipient_id: str = Field(description="the account's username or the expert's id")
    recipient_name: str
    address: str = Field(description="masked: 138****5678, c***@example.cn")
    status: Literal["queued", "sent", "failed"]
    attempts: int = Field(description="sends tried so far")
    reason: str | None = Field(description="why the last attempt failed (a failed delivery: why it was given up)")
    sent_at: LocalTime | None


class NotificationPublic(Out):
    id: str
    case_id: str
    kind: str
    recipient_role: str
    recipients: list[str]
    message: str
    due_on: date | None
    created_at: LocalTime
    channel: str
    delivered_at: LocalTime | None
    deliveries: list[DeliveryPublic] = Field(
        default_factory=list, description="to whom and how it went out: the log, and each person by e-mail or SMS")


class ContactPublic(BaseModel):
    """How notifications reach a person: their e-mail address and mobile number, the channels they chose."""

    email: str = Field(description="empty: none")
    mobile: str = Field(description="masked in lists of others' accounts; in full for oneself")
    notify_by: list[Literal["email", "sms"]]


class ContactIn(Strict):
    """Changes what is given; a field left out stays as it was, an empty string clears a contact."""

    email: str | None = Field(default=None, max_length=200, examples=["chen@example.cn"],
                              pattern=r"^$|^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
    mobile: str | None = Field(default=None, max_length=20, examples=["13812345678"],
                               pattern=r"^$|^(\+?86|0086)?[ -]?1[3-9][0-9]{9}$",
                               description="a mainland mobile number (11 digits, +86 optional)")
    notify_by: list[Literal["email", "sms"]] | None = Field(
        default=None, max_length=2, description="the channels wanted; [] for none (the system's outbox only)")


class NotificationsPublic(Page[NotificationPublic]):
    """A page of the outbox, newest first."""
