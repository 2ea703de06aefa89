"""ExpertPanelWorkflow: one per consultation (Reg 33), a child of the case's DisputeWorkflow.

It draws an expert for every slot of the panel (for example 2 × obstetrics + 1 × law) from the city's pool
(Reg 35), with the exclusions of Reg 37 (domain/draw.py), and invites them. Each expert answers within the
answer clock (2 working days by default). A decline, an expiry, a declared conflict or an upheld objection
replaces the expert with a new draw for the same slot, so the panel keeps its mix. When the pool has nobody
left for a slot, staff are told and the slot waits for them (`redraw_slot`); the case is never blocked, and
consultation never pauses the mediation clock (the case's workflow does not wait for its panels).

When every slot has accepted, staff are told to schedule the meeting. When every expert has given their part
of the opinion, the case is told (`expert_opinion_ready`) and issues the 专家咨询意见书. A conflict found after
the opinion voids that expert's part (kept, marked void), draws a replacement, and a new version of the
opinion follows. The panel closes when the case leaves mediation.

Deterministic: times from workflow.now(), the calendar and the policy from the input; the draw itself, with
its random seed, happens in an activity and its result is recorded in the history.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.errors import DomainError
    from domain.clock import WorkingDayCalendar, end_of_day, legal_date
    from domain.panel_lifecycle import (
        INVITATION,
        PANEL,
        SEAT,
        SEAT_EVENT,
        Lifecycle,
        PanelStatus,
        SeatStatus,
        invitation_of_seat,
        panel_status_of,
    )
    from domain.policy import ClockPolicy
    from domain.specialties import label
    from workflows.activities import DisputeActivities
    from workflows.contracts import (
        DrawRequest,
        ExpertReply,
        InvitationChange,
        MeetingPlan,
        NotificationRecord,
        OpenPanel,
        OpinionPart,
        OpinionReady,
        PanelSlot,
        PanelState,
        PanelView,
        Recusal,
        SlotRedraw,
    )
    from workflows.panel_activities import PanelActivities

ACTIVITY_TIMEOUT = timedelta(seconds=60)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
# An expert's reply, as the move of their invitation it asks for (domain/panel_lifecycle.py)
REPLIES = {"accept": "accept", "decline": "decline", "conflict": "recuse"}


def _refuse(message: str, kind: str = "PanelConflict") -> ApplicationError:
    """PanelConflict is a 409 (the panel is closed, or the invitation is no longer its), PanelNotFound a 404."""
    return ApplicationError(message, type=kind, non_retryable=True)


def _lawful(lifecycle: Lifecycle, status: str, event: str, **facts: Any) -> str:
    """The status the lifecycle moves to, or its refusal as the Update's failure: IllegalTransition or
    RuleViolated, each a 409 naming the state and what is allowed."""
    try:
        return lifecycle.next(status, event, **facts)
    except DomainError as err:
        raise ApplicationError(err.detail, err.extra, type=type(err).__name__, non_retryable=True) from None


def _invitation_move(slot: PanelSlot, event: str, reason: str = "") -> str:
    """The status `event` moves the seat's current invitation to (its status and opinion read off the seat)."""
    current = invitation_of_seat(slot.status)
    if current is None:  # nobody holds the seat: no invitation of it is open
        raise _refuse(f"seat {slot.slot} has no open invitation ({slot.status})")
    status, opinion_given = current
    return _lawful(INVITATION, status, event, opinion_given=opinion_given, reason=reason)


@workflow.defn
class ExpertPanelWorkflow:
    @workflow.init
    def __init__(self, inp: OpenPanel) -> None:
        self._inp = inp
        self._policy = ClockPolicy.from_dict(inp.policy)
        self._calendar = WorkingDayCalendar.from_dict(inp.calendar)
        self._slots = [PanelSlot(slot=i, specialty=s, attempt=0, status=SeatStatus.DRAWING) for i, s in
                       enumerate(inp.specialties)]
        self._status: str = PanelStatus.DRAWING
        self._version = 0
        self._meeting: dict[str, Any] | None = None
        self._ready = False
        self._closed = False
        self._changed = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: OpenPanel) -> PanelView:
        async with self._lock:
            for slot in self._slots:
                await self._draw(slot)
            await self._settle()
        self._ready = True
        while not self._closed:
            await self._wait_for_next_expiry()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()

    # ------------------------------------------------------------------ the expert's answers ------------
    @workflow.update
    async def answer(self, reply: ExpertReply) -> PanelView:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            slot, status = self._check_answer(reply)
            event = REPLIES[reply.reply]
            if event == "accept":
                await self._change(slot, status)
            elif event == "decline":
                await self._change(slot, status, reply.reason)
            else:  # Reg 37: a declared conflict; after the opinion it voids the expert's part
                await self._change(slot, status, reply.reason, conflict_source="declared")
            await self._follow(slot, event)
            await self._settle()
            return self._view()

    @answer.validator
    def _validate_answer(self, reply: ExpertReply) -> None:
        if self._ready:
            self._check_answer(reply)

    @workflow.update
    async def submit_opinion(self, part: OpinionPart) -> PanelView:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            slot, status = self._check_opinion(part)
            opinion = {"fault": part.fault, "causation": part.causation,
                       "liability_percent": part.liability_percent, "text": part.text}
            await self._change(slot, status, opinion=opinion)
            await self._follow(slot, "give_opinion")
            await self._settle()
            return self._view()

    @submit_opinion.validator
    def _validate_opinion(self, part: OpinionPart) -> None:
        if self._ready:
            self._check_opinion(part)

    # ------------------------------------------------------------------ staff ---------------------------
    @workflow.update
    async def recuse(self, recusal: Recusal) -> PanelView:
        """A party's objection was upheld (回避申请, Reg 37): the expert leaves; a replacement is drawn."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            slot, status = self._check_recusal(recusal)
            await self._change(slot, status, recusal.reason, conflict_source="objection",
                               objection_id=recusal.objection_id)
            await self._follow(slot, "recuse")
            await self._settle()
            return self._view()

    @recuse.validator
    def _validate_recusal(self, recusal: Recusal) -> None:
        if self._ready:
            self._check_recusal(recusal)

    @workflow.update
    async def redraw_slot(self, request: SlotRedraw) -> PanelView:
        """Staff try again for a slot the pool could not fill (new experts joined, a cap was raised...)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            slot = self._check_redraw(request)
            slot.status = SEAT.next(slot.status, "redraw")
            await self._draw(slot)
            await self._settle()
            return self._view()

    @redraw_slot.validator
    def _validate_redraw(self, request: SlotRedraw) -> None:
        if self._ready:
            self._check_redraw(request)

    @workflow.update
    async def schedule_meeting(self, plan: MeetingPlan) -> PanelView:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._check_meeting()
            self._meeting = {"at": plan.at.isoformat(), "place": plan.place, "material": list(plan.material),
                             "scheduled_by": plan.actor.name}
            await self._save()
            experts = [s.expert_id for s in self._slots if s.expert_id]
            await self._notify(
                f"meeting:{workflow.now().isoformat()}", "expert_meeting", "expert", experts,
                f"专家咨询会议定于{plan.at.isoformat(timespec='minutes')}在{plan.place}举行",
            )
            return self._view()

    @schedule_meeting.validator
    def _validate_meeting(self, plan: MeetingPlan) -> None:
        if self._ready:
            self._check_meeting()

    @workflow.signal
    async def case_closed(self) -> None:
        """The case left mediation: open invitations are cancelled and the panel closes."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            if self._closed:
                return
            self._status, self._closed = PANEL.next(self._status, "close"), True
            await self._save()

    @workflow.signal
    def mediators_changed(self, mediators: list[str]) -> None:
        """The director assigned the case's mediators anew: the panel's notices go to them from now on."""
        self._inp.mediators = list(mediators)

    @workflow.query
    def view(self) -> PanelView:
        return self._view()

    # ------------------------------------------------------------------ checks --------------------------
    def _current(self, invitation_id: str) -> PanelSlot:
        for slot in self._slots:
            if slot.invitation_id == invitation_id:
                return slot
        raise _refuse(f"invitation {invitation_id} is no longer open on this panel")

    def _check_open(self) -> None:
        if self._closed:
            raise _refuse("the panel is closed: the case has left mediation")

    def _check_answer(self, reply: ExpertReply) -> tuple[PanelSlot, str]:
        """The seat answered for, and the status its invitation moves to."""
        self._check_open()
        slot = self._current(reply.invitation_id)
        if slot.expert_id != reply.expert_id:
            raise _refuse(f"invitation {reply.invitation_id} not found", "PanelNotFound")
        if reply.reply not in REPLIES:
            raise _refuse(f"unknown reply {reply.reply!r}; one of {', '.join(REPLIES)}")
        return slot, _invitation_move(slot, REPLIES[reply.reply], reply.reason)

    def _check_opinion(self, part: OpinionPart) -> tuple[PanelSlot, str]:
        self._check_open()
        slot = self._current(part.invitation_id)
        if slot.expert_id != part.expert_id:
            raise _refuse(f"invitation {part.invitation_id} not found", "PanelNotFound")
        status = _invitation_move(slot, "give_opinion")
        if not 0 <= part.liability_percent <= 100:
            raise _refuse("the degree of liability is a percentage from 0 to 100")
        return slot, status

    def _check_recusal(self, recusal: Recusal) -> tuple[PanelSlot, str]:
        self._check_open()
        slot = self._current(recusal.invitation_id)
        return slot, _invitation_move(slot, "recuse", recusal.reason)

    def _check_redraw(self, request: SlotRedraw) -> PanelSlot:
        self._check_open()
        if not 0 <= request.slot < len(self._slots):
            raise _refuse(f"the panel has no slot {request.slot}", "PanelNotFound")
        slot = self._slots[request.slot]
        _lawful(SEAT, slot.status, "redraw")
        return slot

    def _check_meeting(self) -> None:
        self._check_open()
        _lawful(PANEL, self._status, "schedule_meeting")

    # ------------------------------------------------------------------ steps ---------------------------
    def _last_answer_day(self, at: datetime) -> date:
        """The answer clock: N working days after the day of the invitation (the start day does not count)."""
        return self._calendar.add_working_days(legal_date(at), self._policy.expert_answer_wd).date

    def _answer_due(self, at: datetime) -> datetime:
        return end_of_day(self._last_answer_day(at))  # 24:00 of the last day (Civil Code 203)

    async def _follow(self, slot: PanelSlot, event: str) -> None:
        """The seat follows its invitation's move; a seat its expert left is drawn again (the panel's mix kept)."""
        slot.status = SEAT.next(slot.status, SEAT_EVENT[event])
        if slot.status == SeatStatus.DRAWING:
            slot.invitation_id, slot.expert_id, slot.answer_due_at = None, None, None
            await self._draw(slot)

    async def _draw(self, slot: PanelSlot) -> None:
        """Draws an expert for a seat being drawn (Reg 35, 37), or leaves it unfilled and tells staff."""
        slot.attempt += 1
        at = workflow.now()
        outcome = await workflow.execute_activity_method(
            PanelActivities.draw_slot,
            DrawRequest(
                panel_id=self._inp.panel_id, case_id=self._inp.case_id, slot=slot.slot, attempt=slot.attempt,
                specialty=slot.specialty, at=at, answer_due_at=self._answer_due(at),
                lookback_years=self._policy.affiliation_lookback_years,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._changed = True
        if outcome.expert_id is None:  # the pool has nobody left: staff decide; the case goes on
            slot.status = SEAT.next(slot.status, "exhaust")
            slot.invitation_id, slot.expert_id, slot.answer_due_at = None, None, None
            await self._notify(
                f"unfilled:{slot.slot}:{slot.attempt}", "panel_slot_unfilled", "mediator", list(self._inp.mediators),
                f"专家库中已无可抽取的{label(slot.specialty)}专家（第{slot.slot + 1}席），请扩充专家库或调整专家组",
            )
            return
        slot.status = SEAT.next(slot.status, "fill")
        slot.invitation_id, slot.expert_id = outcome.invitation_id, outcome.expert_id
        slot.answer_due_at = outcome.answer_due_at
        last_day = self._last_answer_day(at)
        await self._notify(
            f"invite:{slot.slot}:{slot.attempt}", "expert_invitation", "expert", [outcome.expert_id],
            f"您被抽取为{label(slot.specialty)}咨询专家，请于{last_day.year}年{last_day.month}月{last_day.day}日"
            "24时前答复是否接受",
        )

    async def _change(
        self, slot: PanelSlot, status: str, reason: str = "", *, conflict_source: str | None = None,
        objection_id: str | None = None, opinion: dict[str, Any] | None = None,
    ) -> None:
        assert slot.invitation_id is not None
        await workflow.execute_activity_method(
            PanelActivities.change_invitation,
            InvitationChange(
                panel_id=self._inp.panel_id, invitation_id=slot.invitation_id, status=status, at=workflow.now(),
                reason=reason, conflict_source=conflict_source, objection_id=objection_id, opinion=opinion,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._changed = True

    async def _settle(self) -> None:
        """After every change: the panel's status its seats call for, its row, and who must be told."""
        was = self._status
        called_for = panel_status_of(s.status for s in self._slots)
        if called_for != was:  # a move the panel's lifecycle has no way for is a bug: the task fails until fixed
            self._status = PANEL.move(was, called_for)
        new_opinion = self._status == PanelStatus.OPINION and was != PanelStatus.OPINION
        if new_opinion:
            self._version += 1
        await self._save()
        if self._status == PanelStatus.COMPLETE and was == PanelStatus.DRAWING:
            await self._notify(
                f"complete:{workflow.now().isoformat()}", "panel_complete", "mediator", list(self._inp.mediators),
                "专家组成员均已接受邀请，请安排专家咨询会议",
            )
        if new_opinion:
            parent = workflow.info().parent
            if parent is not None:
                await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                    "expert_opinion_ready", OpinionReady(panel_id=self._inp.panel_id, version=self._version)
                )

    async def _save(self) -> None:
        await workflow.execute_activity_method(
            PanelActivities.save_panel,
            PanelState(
                panel_id=self._inp.panel_id, status=self._status,
                unfilled_slots=[s.slot for s in self._slots if s.status == SeatStatus.UNFILLED], at=workflow.now(),
                meeting=self._meeting, opinion_version=self._version,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _notify(self, key: str, kind: str, role: str, recipients: list[str], message: str) -> None:
        await workflow.execute_activity_method(
            DisputeActivities.notify,
            NotificationRecord(
                id=f"{self._inp.case_id}:{self._inp.panel_id}:{key}", case_id=self._inp.case_id, kind=kind,
                recipient_role=role, recipients=recipients, message=message, at=workflow.now(),
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    # ------------------------------------------------------------------ the answer clock ----------------
    async def _wait_for_next_expiry(self) -> None:
        self._changed = False
        waiting = [s for s in self._slots if s.status == SeatStatus.INVITED and s.answer_due_at is not None]
        woken = lambda: self._changed or self._closed
        if not waiting:
            await workflow.wait_condition(woken)
            return
        first = min(waiting, key=lambda s: s.answer_due_at)  # type: ignore[arg-type, return-value]
        delay = first.answer_due_at - workflow.now()  # type: ignore[operator]
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(woken, timeout=delay)
                return
            except TimeoutError:
                pass
        async with self._lock:
            if self._closed or first.status != SeatStatus.INVITED or first.answer_due_at is None:
                return
            if first.answer_due_at > workflow.now():
                return
            await self._change(first, _invitation_move(first, "expire"), "逾期未答复")
            await self._follow(first, "expire")
            await self._settle()

    def _view(self) -> PanelView:
        return PanelView(panel_id=self._inp.panel_id, status=self._status,
                         slots=[PanelSlot(**vars(s)) for s in self._slots], opinion_version=self._version)
