"""What a committee reports upward: case statistics for a period (GET /statistics) and their exports."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReleasingRoute
from api.errors import ERROR_RESPONSES

router = APIRouter(route_class=ReleasingRoute, prefix="/statistics", tags=["statistics"], responses=ERROR_RESPONSES)
