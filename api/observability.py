"""What operators watch: Prometheus metrics of the API (`GET /metrics`: request latency by route and status),
liveness (`GET /health/live`: the process answers) and readiness (`GET /health/ready`: the database and Temporal
answer), and the log context of each request (request id, case id) for JSON logs (core/logging.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import temporal_of
from core.logging import CASE_ID, REQUEST_ID

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other: "OTHER"
CHECK_TIMEOUT = 3.0  # seconds for each readiness check


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("mediation_http_request_duration_seconds", "API request latency",
                                 ["method", "route", "status"], buckets=BUCKETS, registry=self.registry)
        self.requests = Counter("mediation_http_requests", "API requests answered", ["method", "route", "status"],
                                registry=self.registry)


class MetricsMiddleware:
    """Times every HTTP request; labelled by the route's template (never the raw path: ids would explode the
    series), `unmatched` when no route matched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            labels = (method, route, str(status["code"]))
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)
            self.metrics.requests.labels(*labels).inc()


async def log_context(request: Request) -> None:
    """Every route's first dependency: the request id and the case for the log lines of this request."""
    REQUEST_ID.set(request.headers.get("x-request-id", ""))
    CASE_ID.set(str(request.path_params.get("case_id", "")))


async def _database(app: FastAPI) -> None:
    def probe() -> None:
        with app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    await asyncio.wait_for(asyncio.to_thread(probe), CHECK_TIMEOUT)


async def _temporal(app: FastAPI) -> None:
    client = await asyncio.wait_for(temporal_of(app), CHECK_TIMEOUT)
    await asyncio.wait_for(client.service_client.check_health(), CHECK_TIMEOUT)


def install(app: FastAPI) -> None:
    metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get("/health/live", tags=["health"], summary="The process answers (liveness)")
    async def live() -> dict[str, str]:  # on the event loop itself: no thread of the pool needed to answer
        return {"status": "ok"}

    @app.get("/health/ready", tags=["health"], summary="The database and Temporal answer (readiness); 503 if not",
             responses={503: {"description": "A dependency does not answer"}})
    async def ready(request: Request) -> Any:
        checks: dict[str, str] = {}
        for name, check in (("database", _database), ("temporal", _temporal)):
            try:
                await check(request.app)
                checks[name] = "ok"
            except Exception as err:  # noqa: BLE001 - any failure means "not ready", named in the answer
                checks[name] = f"unavailable: {type(err).__name__}: {err}"[:300]
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", **checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics of the API",
             response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
