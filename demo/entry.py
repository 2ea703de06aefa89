"""Enters a planned year (demo/year.py) through a running API, as cases entered from paper records: each case is
registered and each of its acts recorded at its own time (X-Occurred-At), then its entry completed, so that every
case runs through its real workflow (the rules, the clocks, the projection the reports read).

Every request carries an Idempotency-Key derived from the plan's seed and the act's place: entering the same plan
again (after an interruption) repeats nothing. Dev mode's X-Actor headers name who acted (the embedded stack).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from demo.year import Act, PlannedCase, YearPlan

ROLE_NAMES = {"intake": "受理员", "mediator": "调解员", "director": "主任"}


@dataclass
class EntryReport:
    entered: int = 0
    failed: list[str] = field(default_factory=list)  # "case n, act: the API's answer"


def _headers(act: Act, key: str) -> dict[str, str]:
    return {"X-Occurred-At": act.at.isoformat(), "Idempotency-Key": key, "X-Actor-Role": act.role,
            "X-Actor-Id": f"demo-{act.role}", "X-Actor-Name": quote(f"历史补录（{ROLE_NAMES[act.role]}）")}


async def ensure_committees(api: httpx.AsyncClient, plan: YearPlan) -> list[str]:
    """The plan's committees that were missing, added (an existing one is left as it is)."""
    added = []
    for committee_id, name, short in plan.committees:
        if (await api.get(f"/committees/{committee_id}")).status_code == 200:
            continue
        created = await api.post("/committees", json={"id": committee_id, "name": name, "short_name": short,
                                                      "city": plan.city}, headers={"X-Actor-Role": "admin"})
        if created.status_code != 201:
            raise RuntimeError(f"committee {committee_id} not added: {created.status_code} {created.text}")
        added.append(committee_id)
    return added


async def _enter_case(api: httpx.AsyncClient, case: PlannedCase, key: str) -> None:
    register, *acts = case.acts
    created = await api.post("/cases", json=register.body, headers=_headers(register, f"{key}-0"))
    if created.status_code not in (200, 201):
        raise RuntimeError(f"register: {created.status_code} {created.text}")
    case_id = created.json()["id"]
    for n, act in enumerate(acts, start=1):
        done = await api.post(f"/cases/{case_id}/{act.action}", json=act.body, headers=_headers(act, f"{key}-{n}"))
        if done.status_code != 200:
            raise RuntimeError(f"{act.action} at {act.at:%Y-%m-%d}: {done.status_code} {done.text}")
    completed = await api.post(f"/cases/{case_id}/complete-entry", headers={"X-Actor-Role": "director"})
    already = completed.status_code == 409 and "not being entered" in completed.text
    if completed.status_code != 200 and not already:
        raise RuntimeError(f"complete-entry: {completed.status_code} {completed.text}")


async def enter_year(api: httpx.AsyncClient, plan: YearPlan, *, seed: int, concurrency: int = 8,
                     progress: Callable[[int, int], None] | None = None) -> EntryReport:
    report = EntryReport()
    gate = asyncio.Semaphore(concurrency)
    total = len(plan.cases)

    async def one(n: int, case: PlannedCase) -> None:
        async with gate:
            try:
                await _enter_case(api, case, f"demo-{plan.year}-{seed}-{n}")
            except (RuntimeError, httpx.HTTPError) as failed:
                report.failed.append(f"case {n} ({case.outcome}): {failed}")
            else:
                report.entered += 1
            if progress:
                progress(report.entered + len(report.failed), total)

    await asyncio.gather(*(one(n, case) for n, case in enumerate(plan.cases)))
    return report


async def city_figures(api: httpx.AsyncClient, plan: YearPlan) -> dict[str, Any]:
    """The city's report for the year, as GET /statistics answers it."""
    answer = await api.get("/statistics", params={"from": f"{plan.year}-01-01", "to": f"{plan.year}-12-31",
                                                  "city": plan.city}, headers={"X-Actor-Role": "admin"})
    answer.raise_for_status()
    return answer.json()
