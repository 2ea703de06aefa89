"""The staff API: `create_app()`. The lifespan puts the database and the Temporal client in app.state."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from temporalio.client import Client

from api import console as console_pages
from api import docs, errors, hardening, limits, observability
from api.audit import install as install_audit_trail
from api.audit import start_writer as start_audit_writer
from api.routes import (
    actions,
    attachments,
    audit,
    auth,
    calendar,
    cases,
    committees,
    documents,
    expert_portal,
    notifications,
    panels,
    pool,
    sessions,
    statistics,
    statistics_exports,
    users,
    worklist,
)
from api.services import statistics_exports as statistics_reports
from core.db import engine_of, session_factory
from core.settings import Settings, get_settings
from models.repo import create_schema

ROUTERS = tuple(module.router for module in (auth, cases, actions, documents, notifications, calendar, committees,
                                            pool, panels, expert_portal, audit, worklist, sessions,
                                            users, statistics, statistics_exports, attachments))

DESCRIPTION = """
医疗纠纷人民调解 — the case workflow of a medical-dispute mediation committee.

Every action on a case is a lifecycle event checked against the law (Reg 701, the People's Mediation Law).
An action the law does not allow now answers **409** with the current state and the allowed events.
Amounts are decimal strings in yuan; times are ISO 8601 in Asia/Shanghai.

**Authentication.** Log in with `POST /auth/token` (the OAuth2 password flow: form fields `username` and
`password`) and send `Authorization: Bearer <access_token>` with every request; refresh with `POST /auth/refresh`.
A service account sends `X-API-Key: <key>` instead. Five failed logins within 15 minutes block the username for
the rest of the window (429). In dev mode only (the embedded stack), a request without credentials may name its
actor with the `X-Actor-Id`, `X-Actor-Name` and `X-Actor-Role` headers.
"""


_frozen = False


def freeze_what_started() -> None:
    """What was made to start (modules, the schema, the routes) lives as long as the process: out of the cyclic
    collector's sight, so that a full collection scans what requests made, not the whole heap (measured: one
    client's report p99 had a full collection of some 200 ms in it). Once per process (a process that makes
    several apps, as the tests do, freezes the first's start only)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None, *, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_for_production()  # no built-in secret outside dev mode

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_of(settings)
        create_schema(engine)
        # every database call of a request runs in this pool (api/deps.py); the engine's pool is sized to it
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        app.state.settings = settings
        app.state.engine = engine
        app.state.session_factory = session_factory(engine)
        app.state.temporal = temporal
        audit_writer = start_audit_writer(app, app.state.session_factory, max_batch=settings.audit_batch_max)
        freeze_what_started()
        yield
        await audit_writer.close()  # every entry handed over is committed before the engine goes
        await anyio.to_thread.run_sync(statistics_reports.stop_report_process)  # the monthly report's process
        engine.dispose()

    app = FastAPI(title="医调委 Mediation API", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  dependencies=[Depends(observability.log_context)], docs_url=None, redoc_url=None)
    errors.install(app)
    hardening.install(app, settings)
    limits.install(app, settings)  # bodies bounded before anything reads them
    install_audit_trail(app)  # the answer that goes out: recorded
    observability.install(app)  # outermost: timed
    for router in ROUTERS:
        app.include_router(router)
    docs.install(app, settings)  # Swagger UI and ReDoc from installed files; the security schemes
    console_pages.install(app)  # the console under /console

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
