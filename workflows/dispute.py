"""DisputeWorkflow: one durable workflow per case (id `dispute-<case id>`).

Every staff action is the Update `apply_event`. Its validator asks the lifecycle whether the event is
legal now (a refused Update leaves no history); the handler re-checks under a lock, so that of two staff
acting at once exactly one succeeds, then writes the projection and renders documents in activities.

The workflow also keeps the case's clocks (domain/clock.py, domain/deadlines.py): it sleeps until the
earliest timer it has not fired and recomputes the timers whenever an event, a pause, an extension or a newly
loaded calendar year changes them. A timer raises a system event (consent_expired, deadline_expired) through
the same path as staff actions, or writes a notification to the outbox. Whatever the case's deadlines are
now is written to the projection, so that staff read them from the database.

Every staff action is safe to repeat and to race (rev 2): the workflow keeps the answer given to each
Idempotency-Key and to each self-loop action, so a repeat gets the first answer and changes nothing, and checks
the case version the action was decided on (If-Match), all under the same lock that orders the actions.

One workflow task per action (the "fast-core" patch): the transition, its projection and its pending documents
are written by a local activity inside the Update's own workflow task; the documents are then rendered and sealed
on the documents' task queue while the action has already answered (with their ids); the timer is re-armed only
when the earliest deadline moved.

A case entered from paper records after the fact (历史案件补录: `OpenDispute.entered_at`, each act's
`StaffAction.occurred_at`) lives on the time of its records until the entry is completed: its clock is the time of
its last recorded act; an act dated later first fires the deadlines that passed before it, each at its own time
(a silence past the consent deadline is a refusal then as now); reminders that passed are not sent, no document
is issued (the paper ones exist) and no expert panel is opened. `complete_entry` brings the case to the present:
its timers run on real time from then on.

Deterministic: no I/O here, times from workflow.now(), ids from workflow.uuid4(), policies and calendar
tables from the input and from signals. Cases started before the clocks existed replay as they ran (the
"legal-clocks" and "notices" patches) and keep running without timers; cases started before revision 2 of the
rule book (the "rev-2" patch) keep its first rules: no holds, no signing grace, no appraisal reminders.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from core.errors import DomainError
    from documents.kinds import languages_of
    from domain import events, lifecycle
    from domain.case_state import CaseState
    from domain.clock import (
        ClockError,
        MediationClock,
        WorkingDayCalendar,
        YearTable,
        calendar_digest,
        end_of_day,
        legal_date,
    )
    from domain.deadlines import CaseClocks, Timer, after_firing, consent_due, timers
    from domain.performance import term_balances
    from domain.policy import ClockPolicy
    from domain.projection import RECOMPUTE_KEYS, project
    from domain.time import SHANGHAI
    from workflows.activities import DisputeActivities
    from workflows.contracts import (
        CALENDAR_CHANGED,
        SYSTEM,
        ActionResult,
        CarriedAnswer,
        CarriedCase,
        CaseSnapshot,
        ClockProjection,
        DisputeOutcome,
        DocumentOrder,
        DocumentRef,
        NotificationRecord,
        OpenDispute,
        OpenPanel,
        OpinionReady,
        RegistrationRecord,
        RenderRequest,
        StaffAction,
        TransitionRecord,
        action_digest,
        documents_queue,
        panel_workflow_id,
    )

# Two identical self-loop actions without If-Match this close together were sent at once (a double click, two
# staff, a retry without its Idempotency-Key): one action (rev 2).
SAME_ACTION_WITHIN = timedelta(seconds=60)
# A signature recorded while its draft is still being rendered waits this long for the draft's SHA-256.
SIGNING_WAITS_FOR_DRAFT = timedelta(seconds=10)
ACTIVITY_TIMEOUT = timedelta(seconds=30)  # a database write waits at most its busy timeout (15 s)
# Rendering and binding heartbeat while they work: a worker that dies mid-way is noticed within this, and the
# document is made again on another (not after the whole start-to-close timeout).
HEARTBEAT_TIMEOUT = timedelta(seconds=15)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
# Binding a long case's file lays out many pages: more time, and a bounded number of tries.
CASE_FILE_TIMEOUT = timedelta(minutes=5)
CASE_FILE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                              maximum_attempts=5)

# Which document an event issues.
DOCUMENTS_OF_EVENT: dict[str, str] = {
    "accept": "acceptance_notice",  # 受理通知书 with the due date
    "reject": "rejection_notice",  # 不予受理通知书 with the ticked reasons
    "record_refusal": "rejection_notice",  # PML 17: reason 1
    "consent_expired": "rejection_notice",  # PML 17: silence counts as refusal
    "draft_agreement": "agreement",  # 人民调解协议书
    "declare_failed": "failure_notice",  # 调解不成告知书 (PML 26)
    "deadline_expired": "failure_notice",  # Reg 38: deemed failed
    "terminate": "termination_notice",  # 终止调解告知书
    "record_followup": "followup_record",  # 回访记录
    "record_expert_opinion": "expert_opinion",  # 专家咨询意见书 (Reg 33)
}
# The events that name a session: their answer carries its id.
SESSION_EVENTS = frozenset({"schedule_session", "reschedule_session", "cancel_session"})
# Revision 2 of the documents (shared/DOMAIN.md): each draft is issued unsealed and unnumbered; the agreement is
# issued, numbered and sealed on the last of the four acts (Reg 39); every session's minutes are issued.
DOCUMENTS_OF_EVENT_REV2: dict[str, str] = {
    "draft_agreement": "agreement_draft",  # 人民调解协议书（草稿）
    "sign": "agreement",  # 人民调解协议书, only when the act makes it effective
    "record_minutes": "session_minutes",  # 调解笔录
}


@workflow.defn
class DisputeWorkflow:
    @workflow.init
    def __init__(self, inp: OpenDispute) -> None:
        self._case_id = inp.case_id
        self._status = "new"
        self._seq = 0
        self._ready = False
        self._lock = asyncio.Lock()
        carried = inp.carried  # a run continued from an earlier one keeps the rule book the case started under
        self._rev2 = carried.rev2 if carried else workflow.patched("rev-2")  # the rules of revision 2
        # One workflow task per action and documents off its path (see the module docstring).
        self._fast = True if carried else workflow.patched("fast-core")
        # A case that lives for months continues as new when its history grows long (see _continue_now).
        self._continues = workflow.patched("continue-as-new")
        self._history_limit = inp.history_limit
        # A loaded calendar year is learnt at the next action or wake when it did not move the next timer.
        self._refreshes = workflow.patched("calendar-refresh")
        # A staff action carries the stored calendar's digest the API read: when it is the one this workflow knows,
        # the year tables are not read again (one local activity less in the action's workflow task).
        self._trusts_seen_calendar = workflow.patched("calendar-in-action")
        # The case row keeps what recomputes its deadlines without the workflow (domain/projection.py), so that a
        # loaded calendar year is applied to it in one batch.
        self._keeps_clocks = workflow.patched("projection-keeps-clocks")
        # A provisional mediation due date bounds signatures and extensions as an exact one does (rev 2)
        self._provisional_bounds = workflow.patched("provisional-due-bounds-acts")
        # A case held only for its day of grace is not told its exact deadline is provisional (domain/deadlines.py);
        # cases started before project their deadlines' words as they did
        self._grace_wording = workflow.patched("grace-wording")
        self._making: list[asyncio.Task[None]] = []  # documents being rendered and sealed (fast-core)
        self._drafting: asyncio.Task[None] | None = None  # the latest draft agreement's, among them
        self._armed: tuple[str, datetime] | None = None  # the timer being waited for (fast-core)
        # The facts the rules read, changed by each event recorded (domain/case_state.py). Civil Code 173: when
        # the patient has died, each heir signs for the patient side (rev 2 of the documents).
        self._case = CaseState.from_dict(carried.state) if carried else \
            CaseState.registered(inp.registration, heirs_sign=workflow.patched("heirs-sign"))
        if carried and self._case.heirs and "heir_agents" not in carried.state:  # carried before agents signed
            self._case = replace(self._case, heir_agents=CaseState.registered(inp.registration).heir_agents)
        if carried and "patient_deceased" not in carried.state:  # carried before the patient's flags were kept
            registered = CaseState.registered(inp.registration)
            self._case = replace(self._case, patient_deceased=registered.patient_deceased,
                                 patient_minor=registered.patient_minor)
        self._agreement: DocumentRef | None = None
        # rev 2: the answer given to each Idempotency-Key (with the request's digest), and the last self-loop
        # action of each kind (its sequence number and digest), for repeats and races
        self._answers: dict[str, tuple[str, ActionResult]] = {}
        self._in_flight: dict[str, str] = {}  # Idempotency-Key -> digest of the action being applied now
        self._last_of_kind: dict[str, tuple[int, str, ActionResult]] = {}
        self._policy = ClockPolicy.from_dict(inp.policy)
        if not self._rev2:  # cases started before rev 2 keep the timers they had
            self._policy = replace(self._policy, signing_grace_wd=0, appraisal_reminder_wd=0)
        self._calendar = WorkingDayCalendar.from_dict(inp.calendar)
        self._stored_calendar = calendar_digest(self._calendar.to_dict())  # the stored tables as last seen
        self._clocks = CaseClocks(status="new", entered_on=date.min, mediation=MediationClock(self._policy.mediation_wd))
        self._fired: set[str] = set()
        self._payment_overdue = False
        self._projected: dict[str, Any] | None = None  # the clock projection last written
        self._changed = False  # something that moves the timers happened
        # A case being entered from records: the time of its last recorded act, and of the act being recorded.
        self._history_at: datetime | None = carried.history_at if carried else inp.entered_at
        self._acting_at: datetime | None = None
        if carried:
            self._carry_on(carried)

    def _carry_on(self, carried: CarriedCase) -> None:
        """The case as the previous run left it."""
        self._status, self._seq, self._ready = carried.status, carried.seq, True
        self._clocks = CaseClocks.from_dict(carried.clocks)
        self._fired, self._payment_overdue = set(carried.fired), carried.payment_overdue
        self._projected, self._agreement = carried.projected, carried.agreement
        self._answers = {a.key: (a.digest, a.result) for a in carried.answers}
        self._last_of_kind = {a.key: (a.seq, a.digest, a.result) for a in carried.last_of_kind}

    def _carried(self) -> CarriedCase:
        return CarriedCase(
            status=self._status, seq=self._seq, state=self._case.to_dict(), clocks=self._clocks.to_dict(),
            fired=sorted(self._fired), payment_overdue=self._payment_overdue, projected=self._projected,
            agreement=self._agreement, rev2=self._rev2, history_at=self._history_at,
            answers=[CarriedAnswer(key=k, digest=d, seq=r.seq, result=r) for k, (d, r) in self._answers.items()],
            last_of_kind=[CarriedAnswer(key=k, digest=d, seq=seq, result=r)
                          for k, (seq, d, r) in self._last_of_kind.items()],
        )

    def _continue_now(self) -> bool:
        """Temporal suggests a new run (the history is long), or the case's own limit is reached. Not while the
        case's mediation has expert panels open: they are this run's children and would be cancelled with it."""
        if not self._continues or self._status in ("new", "archived"):
            return False
        if self._case.panels and self._status in lifecycle.OPEN_STATES:
            return False
        info = workflow.info()
        return info.is_continue_as_new_suggested() or bool(
            self._history_limit and info.get_current_history_length() >= self._history_limit)

    @workflow.run
    async def run(self, inp: OpenDispute) -> DisputeOutcome:
        with_clocks = inp.carried is not None or workflow.patched("legal-clocks")
        if inp.carried is None:
            clocks = replace(self._clocks, status="registered", entered_on=legal_date(self._now()))
            projection = self._projection(clocks, payment_overdue=False) if with_clocks else None
            await workflow.execute_activity_method(  # an activity: a database lock at registration outlasts a task
                DisputeActivities.persist_registration,
                RegistrationRecord(case_id=inp.case_id, registration=inp.registration, actor=inp.actor,
                                   at=self._now(), clock=projection),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._status, self._seq, self._ready, self._clocks = "registered", 1, True, clocks
            self._projected = projection
        if with_clocks:
            while self._status != "archived" and not self._continue_now():
                await self._wait_for_next_timer()
            if self._status != "archived":  # a long history: the case goes on in a new run, as it is now
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._documents_made())
                workflow.continue_as_new(replace(inp, carried=self._carried(), calendar=self._calendar.to_dict()))
        await workflow.wait_condition(lambda: self._status == "archived" and workflow.all_handlers_finished()
                                      and self._documents_made())
        return DisputeOutcome(case_id=self._case_id, status=self._status, seq=self._seq)

    # ------------------------------------------------------------------ updates and signals ---------
    @workflow.update
    async def apply_event(self, action: StaffAction) -> ActionResult:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            repeated = self._repeat_of(action)
            if repeated is not None:
                return replace(repeated, repeated=True)
            self._check_race(action)
            if action.idempotency_key:
                self._in_flight[action.idempotency_key] = self._digest(action)
            try:
                result = await self._transition(action)
            finally:
                self._in_flight.pop(action.idempotency_key, None)
            self._remember_answer(action, result)
            return result

    @apply_event.validator
    def _validate(self, action: StaffAction) -> None:
        if action.event in lifecycle.SYSTEM_EVENTS:
            raise ApplicationError(
                f"'{action.event}' is raised by the case itself (its clock, its expert panel), not by staff",
                {"state": self._status, "event": action.event,
                 "allowed_events": self._allowed(self._status) if self._ready else []},
                type="IllegalTransition",
                non_retryable=True,
            )
        if self._repeat_of(action) is not None:  # answered before: the handler gives that answer again
            return
        if action.idempotency_key in self._in_flight:  # being applied now (a repeat after a timeout or a crash):
            if self._in_flight[action.idempotency_key] != self._digest(action):  # its answer follows the first's
                raise ApplicationError("this Idempotency-Key was used for another request; use a new key for a new "
                                       "request", type="IdempotencyKeyReused", non_retryable=True)
            return
        self._check_race(action)
        self._check_history(action)
        if self._history_at is not None:  # decided by the handler, once the deadlines before it have fired
            return
        # Before the registration is written the case is, for the law, already registered.
        self._check(action, self._status if self._ready else "registered")

    # ------------------------------------------------------------------ entered from records ----------
    def _now(self) -> datetime:
        """The case's present: real time, or for a case being entered from records the time of the act being
        recorded, else of its last recorded act."""
        return self._acting_at or self._history_at or workflow.now()

    def _check_history(self, action: StaffAction) -> None:
        if self._history_at is None:
            if action.occurred_at is not None:
                raise self._entry_refused("this case is not being entered from records: its acts are recorded as "
                                          "they happen, without X-Occurred-At", action.event)
            return
        if action.occurred_at is None:
            raise self._entry_refused("this case is being entered from records: give each act's time "
                                      "(X-Occurred-At), or complete the entry first", action.event)
        if action.occurred_at < self._history_at:
            raise self._entry_refused(f"acts are entered in the order they took place: this one "
                                      f"({action.occurred_at.isoformat()}) is before the last one recorded "
                                      f"({self._history_at.isoformat()})", action.event)
        if action.occurred_at > workflow.now():
            raise self._entry_refused("an act entered from records took place in the past, not in the future",
                                      action.event)
        if action.event == "request_consultation":
            raise self._entry_refused("an expert panel is not opened for a case entered from records: complete "
                                      "the entry first (its experts are invited now, not in the past)", action.event)

    def _entry_refused(self, message: str, event: str) -> ApplicationError:
        return ApplicationError(message, {"state": self._status, "event": event, "rules": ["entered_from_records"]},
                                type="RuleViolated", non_retryable=True)

    @workflow.update
    async def complete_entry(self) -> CaseSnapshot:
        """The case's records are entered: from now on its clocks run on real time (a deadline that passed since
        its last act fires now, dated at its own day)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._history_at = None
            self._pass_over_reminders()
            self._changed = True
        return self._snapshot()

    def _pass_over_reminders(self) -> None:
        """Reminders and warnings whose day passed in the records are not sent now (a deadline that passed still
        fires: the case moves on, and staff are told)."""
        now = workflow.now()
        for _ in range(10_000):  # a repeating reminder moves a day at a time
            passed = [t for t in self._pending() if not t.raises_event and t.at <= now]
            if not passed:
                return
            for timer in passed:
                self._fired.add(timer.key)
                self._clocks = after_firing(self._clocks, timer)

    @complete_entry.validator
    def _validate_complete_entry(self) -> None:
        if self._history_at is None:
            raise self._entry_refused("this case is not being entered from records", "complete_entry")

    async def _catch_up(self, until: datetime) -> None:
        """A case being entered from records: the deadlines that passed before the act dated `until` fire first,
        each at its own time, as they would have."""
        while (pending := self._pending()) and pending[0].at <= until:
            await self._fire_now(pending[0])

    # ------------------------------------------------------------------ repeats and races (rev 2) -----
    def _digest(self, action: StaffAction) -> str:
        return action.digest or action_digest(action.event, action.payload)

    def _repeat_of(self, action: StaffAction) -> ActionResult | None:
        """The first answer, when this request was answered before: by its Idempotency-Key, or (without If-Match)
        as an identical self-loop action recorded since the version the client saw, or just before with nothing
        else since (`SAME_ACTION_WITHIN`): the two were sent at once, and the version the API read for the second
        may already be the first's. A second identical action meant as such says so with If-Match."""
        digest = self._digest(action)
        if action.idempotency_key and action.idempotency_key in self._answers:
            first_digest, answer = self._answers[action.idempotency_key]
            if first_digest != digest:
                raise ApplicationError(
                    "this Idempotency-Key was used for another request (another action or another body); use a "
                    "new key for a new request", {"idempotency_key": action.idempotency_key},
                    type="IdempotencyKeyReused", non_retryable=True)
            return answer
        key = lifecycle.concurrency_key(action.event, action.payload)
        if key is None or action.seen_version is None or action.expected_version is not None:
            return None
        last = self._last_of_kind.get(key)
        if last is None or last[1] != digest:
            return None
        sent_together = last[0] == self._seq and workflow.now() - last[2].at < SAME_ACTION_WITHIN
        if last[0] > action.seen_version or sent_together:  # nothing else happened since the first: the same
            return last[2]
        return None

    def _check_race(self, action: StaffAction) -> None:
        """If-Match names the version the action was decided on; without it, a different self-loop action of
        the same kind recorded since the version the client saw is a conflict (rev 2)."""
        if action.expected_version is not None and action.expected_version != self._seq:
            raise self._stale(f"the case is at version {self._seq}, not {action.expected_version} (If-Match): "
                              "read it again and decide on what it says now")
        key = lifecycle.concurrency_key(action.event, action.payload)
        if key is None or action.seen_version is None:
            return
        last = self._last_of_kind.get(key)
        if last is not None and last[0] > action.seen_version:
            raise self._stale(f"another '{action.event}' was recorded (version {last[0]}) after the version you "
                              f"read ({action.seen_version}): read the case again before repeating it")

    def _stale(self, message: str) -> ApplicationError:
        return ApplicationError(message, {"current_version": self._seq, "state": self._status},
                                type="StaleVersion", non_retryable=True)

    def _remember_answer(self, action: StaffAction, result: ActionResult) -> None:
        digest = self._digest(action)
        if action.idempotency_key:
            self._answers[action.idempotency_key] = (digest, result)
        key = lifecycle.concurrency_key(action.event, action.payload)
        if key is not None:
            self._last_of_kind[key] = (result.seq, digest, result)

    @workflow.update
    async def snapshot(self) -> CaseSnapshot:
        """Waits until the registration is written; used right after the workflow starts."""
        await workflow.wait_condition(lambda: self._ready)
        return self._snapshot()

    @workflow.signal
    def calendar_loaded(self, table: dict[str, Any]) -> None:
        """An admin loaded a year's holidays and make-up workdays: every date derived from it may move."""
        loaded = YearTable.from_dict(table)
        if self._calendar.tables.get(loaded.year) != loaded:
            self._calendar = self._calendar.with_table(loaded)
            self._changed = True

    @workflow.signal
    async def expert_opinion_ready(self, ready: OpinionReady) -> None:
        """A panel's experts have all given their opinion: the case records it and issues the 专家咨询意见书."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            action = StaffAction(event="record_expert_opinion", actor=SYSTEM,
                                 payload={"panel_id": ready.panel_id, "version": ready.version})
            try:
                await self._transition(action)
            except ApplicationError as refused:  # the case moved on (e.g. the agreement took effect)
                workflow.logger.warning("opinion of panel %s not recorded on case %s: %s", ready.panel_id,
                                        self._case_id, refused)

    @workflow.query
    def current(self) -> CaseSnapshot:
        return self._snapshot()

    # ------------------------------------------------------------------ timers ----------------------
    def _timers(self, clocks: CaseClocks) -> list[Timer]:
        return timers(clocks, calendar=self._calendar, policy=self._policy, hold_provisional=self._rev2,
                      grace_wording=self._grace_wording)

    def _pending(self) -> list[Timer]:
        return [t for t in self._timers(self._clocks) if t.key not in self._fired]

    async def _wait_for_next_timer(self) -> None:
        """Fire the earliest pending timer when it is due, or return early when something changed."""
        self._changed = False
        async with self._lock:
            await self._project_if_changed()
        pending = self._pending()
        woken = lambda: self._changed or self._status == "archived" or self._continue_now()  # noqa: E731
        if not pending:
            self._armed = None
            await workflow.wait_condition(woken)
            return
        timer = pending[0]
        self._armed = (timer.key, timer.at)
        delay = timer.at - self._now()
        if delay > timedelta(0) and self._history_at is not None:  # records' time moves only with their acts
            await workflow.wait_condition(woken)
            return
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(woken, timeout=delay)
                return  # something changed: recompute
            except asyncio.TimeoutError:
                pass
        if await self._refresh_calendar():
            return  # a year was loaded since: recompute before anything fires
        await self._fire(timer)

    async def _refresh_calendar(self, seen: str = "") -> bool:
        """The loaded year tables, if a year was loaded since this workflow last knew them: the set-based
        recompute tells only the cases whose next timer moved (api/services/calendar.py); the others learn it here,
        before they act or fire. `seen`: the stored tables' digest as the API read them for this act (nothing to
        read when it is the one known here). True when the calendar changed."""
        if not self._refreshes or self._knows(seen):
            return False
        stored = await workflow.execute_local_activity_method(
            DisputeActivities.calendar_if_changed, self._stored_calendar, start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY)
        if stored is None:
            return False
        return self._learn_calendar(stored)

    def _knows(self, seen: str) -> bool:
        """The stored tables' digest an act carries is the one this workflow knows: no need to read them (the
        act's write checks it again in its own transaction)."""
        return bool(seen) and seen == self._stored_calendar and self._trusts_seen_calendar

    def _learn_calendar(self, stored: dict[str, Any]) -> bool:
        """The stored year tables, as read: True when they change the calendar this workflow counts on."""
        self._stored_calendar = calendar_digest(stored)
        calendar = self._calendar
        for table in WorkingDayCalendar.from_dict(stored).tables.values():  # a stored table replaces its year's
            calendar = calendar.with_table(table)
        if calendar.tables == self._calendar.tables:
            return False
        self._calendar, self._changed = calendar, True
        return True

    async def _fire(self, timer: Timer) -> None:
        async with self._lock:
            if timer.key not in {t.key for t in self._pending()}:  # an event moved it while we waited
                return
            await self._fire_now(timer)

    async def _fire_now(self, timer: Timer) -> None:
        """Called under the lock. For a case being entered from records, the timer fires at its own time."""
        history = self._history_at is not None
        if history:
            self._acting_at = max(timer.at, self._history_at or timer.at)
        try:
            self._fired.add(timer.key)
            if timer.raises_event:  # the case moves on its own (PML 17, Reg 38); staff are told
                action = StaffAction(event=timer.kind, payload=self._system_payload(timer), actor=SYSTEM)
                try:
                    await self._transition(action)
                except ApplicationError as refused:  # never fail the case's workflow over its own timer
                    workflow.logger.error("timer %s of case %s refused: %s", timer.key, self._case_id, refused)
                    return
            elif timer.kind == "payment_overdue":
                self._payment_overdue = True
            # A provisional deadline holds the case (rev 2); repeating reminders remember their day.
            self._clocks = after_firing(self._clocks, timer)
            if history:  # what passed in the records is not told to anyone now
                self._history_at = self._acting_at
                return
        finally:
            if history:
                self._acting_at = None
        for role in (timer.recipient_role, *timer.also_to):
            await workflow.execute_activity_method(
                DisputeActivities.notify,
                NotificationRecord(
                    id=f"{self._case_id}:{timer.key}" + ("" if role == timer.recipient_role else f":{role}"),
                    case_id=self._case_id,
                    kind="calendar_needed" if timer.holds else timer.kind,
                    recipient_role=role,
                    recipients=self._recipients(role),
                    message=timer.message,
                    at=workflow.now(),
                    due_on=timer.due_on.isoformat(),
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )

    def _recipients(self, role: str) -> list[str]:
        return list(self._case.mediators) if role == "mediator" else []

    def _system_payload(self, timer: Timer) -> dict[str, Any]:
        """What the case records when its clock runs out: the deadline, and the moment it ran out (a deadline
        found passed only when its year was loaded is dated at that deadline, not at the day it was found)."""
        dated = {"due_date": timer.due_on.isoformat(), "provisional": timer.provisional}
        if self._rev2:
            dated["deemed_at"] = end_of_day(timer.due_on).isoformat()
        if timer.kind == "consent_expired":  # PML 17: silence counts as refusal → reason 1
            return {"reasons": [lifecycle.REFUSAL_REASON], "reason_text": timer.message, **dated}
        return {"reason": timer.message, **dated}

    # ------------------------------------------------------------------ transitions -----------------
    async def _transition(self, action: StaffAction) -> ActionResult:
        """Apply one lifecycle event. Called under the lock. An act entered from records is recorded at its own
        time, after the deadlines that passed before it."""
        if self._history_at is None or action.actor == SYSTEM or action.occurred_at is None:
            return await self._record(action)
        self._check_history(action)  # again, under the lock
        await self._refresh_calendar(action.calendar)
        await self._catch_up(action.occurred_at)
        self._acting_at = action.occurred_at
        try:
            result = await self._record(action)
        finally:
            self._acting_at = None
        self._history_at = action.occurred_at
        return result

    async def _record(self, action: StaffAction) -> ActionResult:
        """Apply one lifecycle event: check, persist, remember, render. Called under the lock."""
        await self._refresh_calendar(action.calendar)  # the guards and the clocks read it
        to_status = self._check(action, self._status)
        if action.event == "sign" and self._fast and not self._documents_made():
            # a signature refers to the draft as rendered (its SHA-256): wait for it, a while at most; past that,
            # the act names the draft by its id (whose record keeps its SHA-256). Cases started before
            # "sign-waits-for-its-draft" waited for every document being made, the notices too.
            made = self._draft_made if workflow.patched("sign-waits-for-its-draft") else self._documents_made
            if not made():
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(made, timeout=SIGNING_WAITS_FOR_DRAFT)
        payload = self._enrich(action)
        from_status, seq, at = self._status, self._seq + 1, self._now()
        try:
            clocks = self._clocks_after(action.event, payload, to_status, legal_date(at))
        except ClockError as err:  # the ledger refuses (e.g. a date before acceptance)
            raise ApplicationError(str(err), {"state": from_status, "event": action.event},
                                   type="RuleViolated", non_retryable=True) from None
        overdue = self._payment_overdue and to_status == "performance"
        projection = self._projection(clocks, overdue) if workflow.patched("legal-clocks") else None
        # nothing is issued for an act entered from records: its paper documents exist
        kind = events.document_of(action.event, to_status) if self._fast and self._history_at is None else None
        orders = [DocumentOrder(id=workflow.uuid4().hex, kind=kind, lang=lang) for lang in languages_of(kind)] \
            if kind else []
        record = TransitionRecord(
            case_id=self._case_id,
            seq=seq,
            event=action.event,
            from_status=from_status,
            to_status=to_status,
            actor=action.actor,
            at=at,
            payload=payload,
            request_id=action.request_id,
            clock=projection,
            idempotency_key=action.idempotency_key or None,
            request_digest=self._digest(action) if action.idempotency_key else None,
            documents=orders,
            calendar=self._stored_calendar if self._knows(action.calendar) else "",
        )
        try:
            await self._write(DisputeActivities.persist_transition, record)
        except (ActivityError, ApplicationError) as refused:  # a year was loaded since the API read the calendar:
            cause = refused.cause if isinstance(refused, ActivityError) else refused  # decide again on the stored one
            if not (isinstance(cause, ApplicationError) and cause.type == CALENDAR_CHANGED and cause.details):
                raise
            self._learn_calendar(cause.details[0])
            return await self._record(replace(action, calendar=self._stored_calendar))
        self._seq, self._status, self._clocks, self._payment_overdue = seq, to_status, clocks, overdue
        if projection is not None:
            self._projected = projection
        self._remember(action.event, payload)
        self._changed = self._earliest_moved() if self._fast else True
        if action.event == "request_consultation":
            await self._open_panel(payload, action)
        elif action.event == "reassign_mediators":
            await self._tell_panels("mediators_changed", list(self._case.mediators))
        elif from_status in lifecycle.OPEN_STATES and to_status not in lifecycle.OPEN_STATES:
            await self._close_panels()
        if self._fast:
            if orders:
                self._make_documents(action.event, seq, at, orders)
            if action.event == "draft_agreement" and orders:  # named now; its SHA-256 once rendered
                self._agreement = next(DocumentRef(id=o.id, kind=o.kind, lang=o.lang, sha256="") for o in orders
                                       if o.lang == "zh")
            document_ids = [order.id for order in orders]
        else:
            document_ids = [doc.id for doc in await self._render(action.event, seq)]
        return ActionResult(
            case_id=self._case_id,
            event=action.event,
            from_status=from_status,
            status=to_status,
            seq=seq,
            at=at,
            allowed_events=self._allowed(to_status),
            document_ids=document_ids,
            session_id=payload.get("session_id") if action.event in SESSION_EVENTS else None,
            panel_id=payload.get("panel_id") if action.event == "request_consultation" else None,
        )

    async def _open_panel(self, payload: dict[str, Any], action: StaffAction) -> None:
        """Reg 33: the panel is a child workflow; the case does not wait for it (the clock keeps running)."""
        await workflow.start_child_workflow(
            "ExpertPanelWorkflow",
            OpenPanel(
                panel_id=payload["panel_id"],
                case_id=self._case_id,
                specialties=list(payload["specialties"]),
                actor=action.actor,
                policy=self._policy.to_dict(),
                calendar=self._calendar.to_dict(),
                mediators=list(self._case.mediators),
            ),
            id=panel_workflow_id(payload["panel_id"]),
            task_queue=workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
        )

    async def _close_panels(self) -> None:
        """Mediation is over: the case's panels cancel their open invitations and close."""
        for panel_id in self._case.panels:
            try:
                await workflow.get_external_workflow_handle(panel_workflow_id(panel_id)).signal("case_closed")
            except Exception as err:  # noqa: BLE001 - a panel that already ended needs nothing
                workflow.logger.info("panel %s not signalled: %s", panel_id, err)

    async def _tell_panels(self, signal: str, arg: Any) -> None:
        """Tell the case's panels something new (its mediators reassigned); a panel that ended needs nothing."""
        for panel_id in self._case.panels:
            try:
                await workflow.get_external_workflow_handle(panel_workflow_id(panel_id)).signal(signal, arg)
            except Exception as err:  # noqa: BLE001 - a panel that already ended needs nothing
                workflow.logger.info("panel %s not signalled: %s", panel_id, err)

    def _clocks_after(self, event: str, payload: dict[str, Any], to_status: str, today: date) -> CaseClocks:
        """What the event does to the clocks: acceptance starts the mediation clock, an appraisal pauses it,
        an agreed extension lengthens it (Reg 38); the last signature starts the agreement's clocks."""
        c = self._clocks
        mediation = c.mediation
        if event == "accept":
            mediation = mediation.start(today)
        elif event == "start_appraisal":
            mediation = mediation.pause(today, f"医疗损害鉴定：{payload.get('institution', '')}")
        elif event in ("finish_appraisal", "abandon_appraisal"):
            mediation = mediation.resume(today)
        elif event == "extend_deadline":
            mediation = mediation.extend(int(payload["extra_days"]), today)
        changes: dict[str, Any] = {"mediation": mediation, "status": to_status}
        if to_status != c.status:
            changes["entered_on"] = today
        if event == "sign" and to_status == "performance":  # Reg 39: effective on the last of the four
            signed = [*self._case.signed.values(), payload]
            signed += [act for s in signed for act in s.get("heir_acts", [])]  # each heir's act counts (rev 2)
            changes["effective_on"] = max(_day_of(s.get("signed_at"), today) for s in signed)
            changes["payments"] = self._case.terms
        elif event == "record_payment":  # PML 31: a term paid in full has nothing left to chase
            terms, paid = [dict(t) for t in self._case.agreement_terms], [*map(dict, self._case.payments), payload]
            balances = term_balances(terms, paid)
            changes["performed_terms"] = frozenset(b.term - 1 for b in balances if b.performed)
        elif event == "confirm_performance":
            acts = [p["paid_on"] for p in self._case.payments]
            acceptance = payload.get("patient_acceptance") or {}
            acts += [acceptance["accepted_on"]] if acceptance.get("accepted_on") else []
            # the follow-up counts from the last act of performance; confirmations of old payloads used paid_at
            changes["performed_on"] = max((date.fromisoformat(d) for d in acts),
                                          default=_day_of(payload.get("paid_at"), today))
        elif event == "record_judicial_confirmation":
            changes["judicial_applied"] = bool(payload.get("applied"))
        elif event == "record_followup":
            changes["followup_done"] = True
        return replace(c, **changes)

    def _projection(self, clocks: CaseClocks, payment_overdue: bool) -> dict[str, Any]:
        """What the case row shows of the clocks: the ledger, the due date, and every pending deadline (and, for
        cases started since, what recomputes them: domain/projection.py)."""
        projected = project(clocks, fired=self._fired, calendar=self._calendar, policy=self._policy,
                            hold_provisional=self._rev2, payment_overdue=payment_overdue,
                            grace_wording=self._grace_wording)
        if self._keeps_clocks:
            return projected
        return {k: v for k, v in projected.items() if k not in RECOMPUTE_KEYS}  # as earlier cases wrote it

    async def _project_if_changed(self) -> None:
        if self._status in ("new", "archived"):
            return
        projection = self._projection(self._clocks, self._payment_overdue)
        if projection == self._projected:
            return
        await self._write(DisputeActivities.record_clock, ClockProjection(case_id=self._case_id, clock=projection))
        self._projected = projection

    # ------------------------------------------------------------------ helpers ---------------------
    def _snapshot(self) -> CaseSnapshot:
        return CaseSnapshot(
            case_id=self._case_id,
            status=self._status,
            seq=self._seq,
            allowed_events=self._allowed(self._status) if self._status != "new" else [],
        )

    def _allowed(self, status: str) -> list[str]:
        return lifecycle.allowed_events(status, self._case_facts())

    def _case_facts(self) -> dict[str, Any]:
        """The facts of the case its guards read (lifecycle.CASE_FACTS), from the workflow's own state."""
        today = legal_date(self._now())
        due, provisional = self._mediation_due()
        facts = self._case.facts(today=today, consent_due_passed=self._consent_due_passed(today),
                                 mediation_due=due, mediation_due_provisional=provisional,
                                 effective_on=self._clocks.effective_on)
        if not self._rev2:  # the first rule book: no recusal link, no silence rule, no signature dating
            facts.update(respondent_institution_id="(before rev 2)", consent_due_passed=True, mediation_due=None,
                         drafted_on=None, balances=())
        return facts

    def _consent_due_passed(self, today: date) -> bool:
        """PML 17: the consent deadline has passed on an exact date (a provisional one holds the case)."""
        if self._status != "awaiting_consent":
            return False
        due = consent_due(self._clocks, calendar=self._calendar, policy=self._policy)
        return not due.provisional and due.date < today

    def _mediation_due(self) -> tuple[date | None, bool]:
        """Reg 38: the due date that bounds signatures and extensions, and whether it is provisional. A provisional
        one bounds them too (rev 2: once it has passed, the case is held as it is until its year is loaded); cases
        started before "provisional-due-bounds-acts" knew only an exact one."""
        if self._status not in ("in_mediation", "signing"):
            return None, False
        due = self._clocks.mediation.due_date(self._calendar)
        if due is None or (due.provisional and not self._provisional_bounds):
            return None, False
        return due.date, due.provisional

    def _facts(self, action: StaffAction) -> dict[str, Any]:
        return {**action.payload, **self._case_facts()}

    def _check(self, action: StaffAction, status: str) -> str:
        if action.event == "register":
            raise ApplicationError("a case is registered once", type="IllegalTransition", non_retryable=True)
        try:
            return lifecycle.next_status(status, action.event, self._facts(action))
        except DomainError as err:
            raise ApplicationError(err.detail, err.extra, type=type(err).__name__, non_retryable=True) from None

    def _enrich(self, action: StaffAction) -> dict[str, Any]:
        """Facts the workflow adds to what staff sent: generated ids, and what a signature refers to."""
        payload = dict(action.payload)
        now = self._now().astimezone(SHANGHAI).isoformat()  # every time recorded is Asia/Shanghai
        if action.event == "schedule_session":
            payload["session_id"] = str(workflow.uuid4())
        elif action.event == "request_consultation":
            payload["panel_id"] = f"{self._case_id}-p{self._seq + 1}"
        elif action.event == "record_consent":
            payload["consented_at"] = payload.get("consented_at") or now
            if not payload.get("side") and self._status == "awaiting_consent":  # the side that did not apply
                payload["side"] = "institution" if self._case.applicant_side == "patient" else "patient"
        elif action.event == "draft_agreement" and self._rev2:
            payload["drafted_at"] = now
        elif action.event == "sign":
            payload["signed_at"] = payload.get("signed_at") or (now if self._rev2 else workflow.now().isoformat())
            if self._agreement is not None:
                payload["document_id"] = self._agreement.id
                if self._agreement.sha256:
                    payload["document_sha256"] = self._agreement.sha256
            if payload.get("signer") == "patient" and self._case.heirs:  # each heir's act, with the patient side's
                before = self._case.signed.get("patient", {})
                heir = payload.get("for_heir") or payload["signed_by"]  # or the heir an authorised agent signs for
                payload["heirs_signed"] = [*before.get("heirs_signed", []), heir]
                act = {k: payload.get(k) for k in ("signed_by", "for_heir", "method", "signed_at", "capacity")
                       if payload.get(k)}
                payload["heir_acts"] = [*before.get("heir_acts", []), act]
        return payload

    def _remember(self, event: str, payload: dict[str, Any]) -> None:
        self._case = self._case.apply(event, payload, on=legal_date(self._now()))

    async def _render(self, event: str, seq: int) -> list[DocumentRef]:
        if event == "archive" and workflow.patched("case-file"):  # 卷宗 (PML 27)
            return await workflow.execute_activity(
                "bind_case_file",
                RenderRequest(case_id=self._case_id, kind="case_file", source_seq=seq, at=workflow.now()),
                start_to_close_timeout=CASE_FILE_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=CASE_FILE_RETRY,
                result_type=list[DocumentRef],
            )
        if event in DOCUMENTS_OF_EVENT_REV2 and workflow.patched("documents-rev-2"):
            if event == "sign" and self._status != "performance":  # not the fourth act: nothing is issued
                return []
            kind = DOCUMENTS_OF_EVENT_REV2[event]
        else:  # before revision 2, the draft was the agreement, numbered and sealed
            kind = DOCUMENTS_OF_EVENT.get(event)
            if kind is None or (kind != "agreement" and not workflow.patched("notices")):
                return []
        documents: list[DocumentRef] = await workflow.execute_activity(
            "render_document",
            RenderRequest(case_id=self._case_id, kind=kind, source_seq=seq, at=workflow.now()),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            result_type=list[DocumentRef],
        )
        if event == "draft_agreement":  # what each signature refers to
            self._agreement = next(doc for doc in documents if doc.lang == "zh")
        return documents


    # ------------------------------------------------------------------ fast core ---------------------
    async def _write(self, activity: Any, record: Any) -> Any:
        """A write of the case's record: a local activity in the Update's own workflow task (fast-core), or an
        activity as earlier cases recorded it."""
        if self._fast:
            return await workflow.execute_local_activity_method(
                activity, record, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY)
        return await workflow.execute_activity_method(
            activity, record, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY)

    def _earliest_moved(self) -> bool:
        """The timer being waited for is no longer the earliest pending one (a new deadline, a moved one)."""
        pending = self._pending()
        earliest = (pending[0].key, pending[0].at) if pending else None
        return earliest != self._armed or self._status == "archived"

    def _documents_made(self) -> bool:
        return all(task.done() for task in self._making)

    def _draft_made(self) -> bool:
        return self._drafting is None or self._drafting.done()

    def _make_documents(self, event: str, seq: int, at: datetime, orders: list[DocumentOrder]) -> None:
        """Render and seal the event's documents on the documents' queue while the action has answered. The 卷宗
        waits for every document before it (it binds them)."""
        earlier = [task for task in self._making if not task.done()]
        self._making = [*earlier, asyncio.create_task(self._made(event, seq, at, orders, earlier))]
        if orders[0].kind == "agreement_draft":
            self._drafting = self._making[-1]

    async def _made(self, event: str, seq: int, at: datetime, orders: list[DocumentOrder],
                    earlier: list[asyncio.Task[None]]) -> None:
        kind = orders[0].kind
        request = RenderRequest(case_id=self._case_id, kind=kind, source_seq=seq, at=at,
                                document_ids={order.lang: order.id for order in orders})
        binding = kind == "case_file"
        if binding and earlier:
            await workflow.wait(earlier)
        try:
            refs = await workflow.execute_activity(
                "bind_case_file" if binding else "render_document",
                request,
                task_queue=documents_queue(workflow.info().task_queue),
                start_to_close_timeout=CASE_FILE_TIMEOUT if binding else ACTIVITY_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=CASE_FILE_RETRY if binding else ACTIVITY_RETRY,
                result_type=list[DocumentRef],
            )
        except ActivityError as failed:  # marked failed on the document itself, with the reason
            workflow.logger.error("%s of case %s (transition %s) not made: %s", kind, self._case_id, seq,
                                  failed.cause or failed)
            return
        if event == "draft_agreement":  # what each signature refers to
            self._agreement = _lang_of(refs, "zh")


def _lang_of(refs: list[DocumentRef], lang: str) -> DocumentRef | None:
    return next((ref for ref in refs if ref.lang == lang), None)


def _day_of(value: Any, default: date) -> date:
    """The legal day of an ISO time in a payload (a signature's or a payment's), or `default`."""
    if isinstance(value, str) and value:
        try:
            return legal_date(datetime.fromisoformat(value))
        except ValueError:
            return default
    return default
