"""Rendering and binding heartbeat while they work, so that Temporal notices a worker that died within the heartbeat
timeout: one thread per process beats for every activity at work (no thread started per document)."""

from __future__ import annotations

import contextvars
import threading
import time

from temporalio.testing import ActivityEnvironment

from workflows.document_activities import _Heartbeats


def test_one_thread_heartbeats_for_each_activity_at_work_and_stops_when_it_is_done():
    beats: list[tuple] = []
    environment = ActivityEnvironment()
    environment.on_heartbeat = lambda *details: beats.append(details)
    heartbeats = _Heartbeats(every=0.05)

    def work() -> None:
        key = heartbeats.add(contextvars.copy_context())
        time.sleep(0.4)
        heartbeats.remove(key)

    environment.run(work)
    assert len(beats) >= 3
    threads = threading.active_count()
    environment.run(work)  # a second activity: the same thread beats for it
    assert threading.active_count() == threads
    done = len(beats)
    time.sleep(0.2)
    assert len(beats) == done  # nothing at work: no heartbeat
