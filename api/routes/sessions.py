"""Mediation sessions across cases: the calendar."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReleasingRoute
from api.errors import ERROR_RESPONSES

router = APIRouter(route_class=ReleasingRoute, tags=["sessions"], responses=ERROR_RESPONSES)
