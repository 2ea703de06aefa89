"""HTTP shortcuts the API tests share: an action that must be served, one that must be refused, a case read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest


async def ok(api: httpx.AsyncClient, case_id: str, action: str, body: dict[str, Any] | None = None,
             **kwargs: Any) -> dict[str, Any]:
    """POST /cases/{case_id}/{action}, answered 200."""
    response = await api.post(f"/cases/{case_id}/{action}", json=body or {}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


async def refused(api: httpx.AsyncClient, case_id: str, action: str, body: dict[str, Any] | None = None,
                  status: int = 409) -> dict[str, Any]:
    """POST /cases/{case_id}/{action}, refused with `status`; its body."""
    response = await api.post(f"/cases/{case_id}/{action}", json=body or {})
    assert response.status_code == status, response.text
    return response.json()


async def case_of(api: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    response = await api.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    """Polls `check` until it holds; fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.1)
