"""Reg 38 counts deadlines on the working-day calendar as loaded. A staff action carries the digest of the stored
year tables the API read with the case (StaffAction.calendar): the case's workflow, which knows those tables, does
not read them again before the act; when a year was loaded since and the workflow was not told, it does, and counts
on it (tests/workflows/test_calendar_refresh.py)."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from tests.factories import registration
from tests.histories import local_activities
from tests.http import ok
from workflows.contracts import workflow_id

JOINT = {"application_type": "joint", "applicant_side": None}


async def test_an_action_through_the_api_reads_no_year_tables_the_workflow_knows(api, temporal_env: WorkflowEnvironment):
    # Reg 38: the calendar the API read is the one the workflow counts on
    case = await api.post("/cases", json=registration(**JOINT))
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    await ok(api, case_id, "submit-for-review")
    await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
    handle = temporal_env.client.get_workflow_handle(workflow_id(case_id))
    assert await local_activities(handle) == ["persist_transition", "persist_transition"]  # one write an act
