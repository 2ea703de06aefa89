"""What a case's workflow history shows, read back for tests."""

from __future__ import annotations

import json

from temporalio.client import WorkflowHandle


async def local_activities(handle: WorkflowHandle) -> list[str]:
    """The local activities a workflow ran, in order (their markers in its history)."""
    names = []
    async for event in handle.fetch_history_events():
        marker = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and marker.marker_name == "core_local_activity":
            data = marker.details["data"].payloads[0].data
            names.append(json.loads(data)["activity_type"])
    return names
