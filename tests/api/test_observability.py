"""What operators watch: liveness and readiness (the database and Temporal), Prometheus metrics of the API's
request latency by route, and JSON log lines that carry the request id and the case id."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import uuid

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from api.main import create_app
from core.logging import CASE_ID, REQUEST_ID, handler
from core.settings import Settings
from tests.factories import registration
from workflows.worker import case_of_activity


class TestHealth:
    async def test_live_answers_and_ready_checks_the_database_and_temporal(self, api):
        assert (await api.get("/health/live")).json() == {"status": "ok"}
        ready = await api.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": "ok", "temporal": "ok"}

    async def test_not_ready_when_temporal_does_not_answer(self, database_url):
        settings = Settings(database_url=database_url, temporal_address="127.0.0.1:1")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                ready = await client.get("/health/ready")
                live = await client.get("/health/live")
        assert ready.status_code == 503 and ready.json()["database"] == "ok"
        assert ready.json()["temporal"].startswith("unavailable") and live.status_code == 200


class TestMetrics:
    async def test_request_latency_is_counted_by_route_template_and_status(self, api):
        case = (await api.post("/cases", json=registration())).json()
        await api.get(f"/cases/{case['id']}")
        await api.get("/cases/no-such-case")
        text = (await api.get("/metrics")).text
        ok = re.search(r'mediation_http_request_duration_seconds_count\{method="GET",route="/cases/\{case_id\}",'
                       r'status="200"\} (\d+)', text)
        missing = re.search(r'mediation_http_request_duration_seconds_count\{method="GET",route="/cases/\{case_id\}",'
                            r'status="404"\} (\d+)', text)
        assert ok and int(float(ok.group(1))) >= 1 and missing and int(float(missing.group(1))) >= 1
        assert 'route="/cases",status="201"' in text
        assert case["id"] not in text  # ids never become labels


class TestJsonLogs:
    async def test_a_line_logged_while_serving_an_action_carries_its_request_and_case(self, api, monkeypatch):
        # a logging configuration loaded by another test may have disabled the loggers it did not name
        monkeypatch.setattr(logging.getLogger("mediation.api"), "disabled", False)
        stream = io.StringIO()
        out = handler("json")
        out.stream = stream
        logger = logging.getLogger("mediation.api")
        logger.addHandler(out)
        logger.setLevel(logging.INFO)
        try:
            case = (await api.post("/cases", json=registration(application_type="joint",
                                                                  applicant_side=None))).json()
            request_id = uuid.uuid4().hex
            response = await api.post(f"/cases/{case['id']}/submit-for-review", json={},
                                      headers={"X-Request-ID": request_id})
            assert response.status_code == 200
        finally:
            logger.removeHandler(out)
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        [line] = [entry for entry in lines if entry["request_id"] == request_id]
        assert line["case_id"] == case["id"] and line["level"] == "INFO" and "submit_for_review" in line["message"]
        assert set(line) >= {"time", "level", "logger", "message", "request_id", "case_id"}

    def test_outside_a_request_the_fields_are_there_and_empty(self):
        stream = io.StringIO()
        out = handler("json")
        out.stream = stream
        record = logging.LogRecord("mediation", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
        REQUEST_ID.set("")
        CASE_ID.set("")
        out.handle(record)
        entry = json.loads(stream.getvalue())
        assert entry["message"] == "hello world" and entry["request_id"] == "" and entry["case_id"] == ""

    @pytest.mark.parametrize(("workflow_id", "case_id"), [("dispute-abc123", "abc123"), ("panel-abc123-p2", "abc123")])
    def test_the_worker_names_the_case_of_the_activity_it_runs(self, workflow_id, case_id):
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=workflow_id)
        assert env.run(case_of_activity) == {"case_id": case_id}
        assert case_of_activity() == {}  # not in an activity
