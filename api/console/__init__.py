"""The committee's console: server-rendered pages under /console for staff, experts, auditors and admins."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the console's pages and static files."""
