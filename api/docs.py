"""The API's documentation pages, served from installed packages' files (no CDN), and its security schemes."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc (to be served offline)."""
