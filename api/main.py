"""The staff API: `create_app()`. The lifespan puts the database and the Temporal client in app.state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import errors
from api.routes import actions, calendar, cases, committees, documents, expert_portal, notifications, panels, pool
from core.db import make_engine, session_factory
from core.settings import Settings, get_settings
from models.repo import create_schema

DESCRIPTION = """
医疗纠纷人民调解 — the case workflow of a medical-dispute mediation committee.

Every action on a case is a lifecycle event checked against the law (Reg 701, the People's Mediation Law).
An action the law does not allow now answers **409** with the current state and the allowed events.
Amounts are decimal strings in yuan; times are ISO 8601 in Asia/Shanghai.
"""


def create_app(settings: Settings | None = None, *, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        create_schema(engine)
        app.state.settings = settings
        app.state.engine = engine
        app.state.session_factory = session_factory(engine)
        app.state.temporal = temporal
        yield
        engine.dispose()

    app = FastAPI(title="医调委 Mediation API", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    for module in (cases, actions, documents, notifications, calendar, committees, pool, panels, expert_portal):
        app.include_router(module.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
