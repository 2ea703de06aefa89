"""The committee's console: server-rendered pages under /console for staff, experts, auditors and admins. It reads
and acts through the API itself (api/console/api_client.py), so that no rule has a second implementation."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Mount the console's pages and static files (no CDN: everything the pages load is served from here)."""
    from api.console.routes import install_errors, router

    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    install_errors(app)
