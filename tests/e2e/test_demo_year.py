"""`mediation demo year`: a year of a city's disputes entered through the running API as cases from paper records,
each through its workflow; the city's report reads back what was planned (issue 17)."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

import httpx

from demo.year import plan_year
from tests.e2e.conftest import MEDIATION, Stack

YEAR, ACCEPTED, SETTLED, SEED = 2025, 30, 25, 7


def report(stack: Stack, **params: str) -> dict:
    answer = httpx.get(f"{stack.base}/statistics", params={"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31",
                                                           "city": "上海市", **params},
                       headers={"X-Actor-Role": "admin"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_year_entered_reads_back_as_planned(running_stack: Stack):
    entered = subprocess.run(
        [MEDIATION, "demo", "year", "--city", "上海市", "--cases", str(ACCEPTED), "--settled", str(SETTLED),
         "--year", str(YEAR), "--seed", str(SEED), "--api", running_stack.base, "--concurrency", "4"],
        env=running_stack.env, capture_output=True, text=True, timeout=600)
    assert entered.returncode == 0, entered.stdout + entered.stderr
    assert f"{ACCEPTED} accepted, {SETTLED} settled" in entered.stdout

    # what the plan says, counted here from its cases (the report's inputs), not from the report's code
    plan = plan_year(year=YEAR, accepted=ACCEPTED, settled=SETTLED, seed=SEED)
    outcomes = Counter(case.outcome for case in plan.cases)
    accepted_by_committee = Counter(case.committee_id for case in plan.cases if case.outcome != "rejected")

    deadline = time.monotonic() + 60  # the deadlines that passed in the records fire once each entry is complete
    while (total := report(running_stack)["total"]["outcomes"])["failed_deadline"] < outcomes["failed_deadline"]:
        assert time.monotonic() < deadline, total
        time.sleep(0.5)
    assert total["accepted"] == ACCEPTED
    assert total["rejected"] == outcomes["rejected"]
    assert total["settled"] == SETTLED
    assert total["settled_performed"] == outcomes["settled_performed"]
    assert total["settled_referred_to_court"] == outcomes["settled_referred_to_court"]
    assert total["failed_declared"] == outcomes["failed_declared"]
    assert total["failed_deadline"] == outcomes["failed_deadline"]
    assert total["terminated"] == outcomes["terminated"]
    by_committee = report(running_stack, group_by="committee")["groups"]
    assert {g["key"]: g["outcomes"]["accepted"] for g in by_committee if g["outcomes"]["accepted"]} == \
        dict(accepted_by_committee)

    # entering the same plan again repeats nothing (each act carries its Idempotency-Key)
    again = subprocess.run(
        [MEDIATION, "demo", "year", "--cases", str(ACCEPTED), "--settled", str(SETTLED), "--year", str(YEAR),
         "--seed", str(SEED), "--api", running_stack.base], env=running_stack.env, capture_output=True, text=True,
        timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert report(running_stack)["total"]["outcomes"]["accepted"] == ACCEPTED
