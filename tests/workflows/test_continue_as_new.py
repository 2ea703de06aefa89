"""A case that lives for months continues as new when its history grows long: the next run carries the case as it
was — its state, clocks, signatures, the answers given to Idempotency-Keys — and every transition is recorded once.
Here a small history limit (OpenDispute.history_limit) stands in for Temporal's own suggestion (~4k events)."""

from __future__ import annotations

import uuid

from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Replayer

from models.tables import Case, Transition
from tests.factories import SIGNATURES, agreement, registration
from workflows.contracts import Actor, OpenDispute, StaffAction, workflow_id
from workflows.dispute import DisputeWorkflow
from workflows.panel import ExpertPanelWorkflow
from workflows.worker import RUNNER

STAFF = Actor(id="u1", name="陈调解员", role="mediator")
LIMIT = 25  # history events per run


def act(event: str, key: str = "", **payload) -> StaffAction:
    return StaffAction(event=event, payload=payload, actor=STAFF, idempotency_key=key)


async def runs_of(client: Client, case_id: str) -> list[str]:
    """The case's runs, oldest first: how each ended (the last one still running or completed)."""
    ended = []
    run_id = None
    handle = client.get_workflow_handle(workflow_id(case_id))
    first = (await handle.fetch_history()).events[0]
    run_id = first.workflow_execution_started_event_attributes.first_execution_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id(case_id), run_id=run_id).fetch_history()
        last = history.events[-1]
        ended.append(EventType.Name(last.event_type))
        run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                  if last.HasField("workflow_execution_continued_as_new_event_attributes") else None)
    return ended


async def test_a_long_case_goes_on_in_new_runs_and_records_each_step_once(client, worker, sessions):
    case_id = uuid.uuid4().hex
    handle = await client.start_workflow(
        DisputeWorkflow.run,
        OpenDispute(case_id=case_id, registration=registration(), actor=STAFF, history_limit=LIMIT),
        id=workflow_id(case_id), task_queue=worker,
    )
    steps = [
        act("request_consent"),
        act("record_consent", "consent-1", consented_by="李院长", method="written"),
        act("accept", mediators=["陈调解员"]),
        act("schedule_session", scheduled_at="2026-11-25T09:30:00+08:00", place="第一调解室", mediators=["陈调解员"]),
        act("draft_agreement", **agreement()),
        *[act("sign", f"sign-{n}", **s) for n, s in enumerate(SIGNATURES)],
        act("record_nonperformance", reason="医方逾期未付款", referred_to_court=True),
    ]
    answers = {}
    for step in steps:
        result = await handle.execute_update(DisputeWorkflow.apply_event, step)
        answers[step.idempotency_key] = result
    # Reg 39: the four acts were kept across runs — the agreement took effect on the last one
    assert answers["sign-3"].status == "performance"
    # a repeat of an answered request, in a later run, is answered as the first time and changes nothing
    again = await handle.execute_update(DisputeWorkflow.apply_event, steps[1])
    assert again.repeated and again.seq == answers["consent-1"].seq
    await handle.execute_update(DisputeWorkflow.apply_event, act("archive"))
    assert (await handle.result()).status == "archived"

    ended = await runs_of(client, case_id)
    assert len(ended) >= 3, ended  # it continued as new, more than once
    assert ended[:-1] == ["EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"] * (len(ended) - 1)
    assert ended[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    with sessions() as session:
        rows = session.exec(select(Transition).where(Transition.case_id == case_id).order_by(Transition.seq)).all()
        assert [r.seq for r in rows] == list(range(1, len(steps) + 3))  # register … archive, each once
        assert session.get(Case, case_id).status == "archived"


async def test_a_continued_run_replays(client, worker):
    case_id = uuid.uuid4().hex
    handle = await client.start_workflow(
        DisputeWorkflow.run,
        OpenDispute(case_id=case_id, registration=registration(), actor=STAFF, history_limit=LIMIT),
        id=workflow_id(case_id), task_queue=worker,
    )
    for step in (act("request_consent"), act("record_consent", consented_by="李院长", method="written"),
                 act("accept", mediators=["陈调解员"]), act("draft_agreement", **agreement())):
        await handle.execute_update(DisputeWorkflow.apply_event, step)
    assert len(await runs_of(client, case_id)) >= 2
    history = await handle.fetch_history()  # the latest run's
    await Replayer(workflows=[DisputeWorkflow, ExpertPanelWorkflow], workflow_runner=RUNNER).replay_workflow(history)
