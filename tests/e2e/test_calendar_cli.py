"""`mediation calendar`: an admin loads next year's holidays and make-up workdays from a file; every open case of
the running stack recomputes its deadlines (DOMAIN.md: "recomputed for every open case as soon as that year is
loaded"); a bad file is refused with every problem named and changes nothing."""

from __future__ import annotations

import subprocess
import time

import httpx

from tests.e2e.conftest import MEDIATION
from tests.factories import registration

TABLE_2027_CSV = """date,kind,name
2027-01-01,holiday,元旦
2027-01-04,holiday,测试假日
2027-01-05,holiday,测试假日
2027-01-09,workday,测试调休
"""


def mediation(stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MEDIATION, *args], env=stack.env, capture_output=True, text=True, timeout=120)


def accepted_case(stack) -> dict:
    case = httpx.post(f"{stack.base}/cases", json=registration(application_type="joint", applicant_side=None),
                      timeout=30).json()
    for path, body in [("submit-for-review", {}), ("accept", {"mediators": ["陈调解员"]})]:
        response = httpx.post(f"{stack.base}/cases/{case['id']}/{path}", json=body, timeout=30)
        assert response.status_code == 200, response.text
    return httpx.get(f"{stack.base}/cases/{case['id']}").json()


def test_a_bad_table_is_refused_with_every_problem_and_changes_nothing(running_stack, tmp_path):
    bad = tmp_path / "2027.csv"
    bad.write_text("date,kind\n2027-13-01,holiday\n2026-05-01,holiday\n2027-02-20,rest\n", encoding="utf-8")
    result = mediation(running_stack, "calendar", "load", str(bad), "--year", "2027")
    assert result.returncode == 2
    for line in ("line 2", "line 3", "line 4"):  # every bad line is named
        assert line in result.stderr, result.stderr
    years = mediation(running_stack, "calendar", "years").stdout
    assert "2027  table" not in years


def test_loading_a_year_moves_the_deadlines_of_the_open_cases(running_stack, tmp_path):
    case = accepted_case(running_stack)
    before = case["mediation_clock"]
    table = tmp_path / "2027.csv"
    table.write_text(TABLE_2027_CSV, encoding="utf-8")

    result = mediation(running_stack, "calendar", "load", str(table), "--year", "2027", "--by", "市司法局管理员")
    assert result.returncode == 0, result.stderr
    assert "year 2027 loaded: 3 holidays, 1 make-up workdays" in result.stdout
    assert "not told: 0" in result.stdout
    assert "2027  table" in mediation(running_stack, "calendar", "years").stdout

    if not before["provisional"]:  # the period ends in a year the package knows: nothing to move
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        after = httpx.get(f"{running_stack.base}/cases/{case['id']}").json()
        if not after["provisional"]:
            break
        time.sleep(0.3)
    assert not after["provisional"] and not after["mediation_clock"]["provisional"]
    moved = httpx.get(f"{running_stack.base}/calendar/working-days-later",
                      params={"start": before["accepted_on"], "working_days": 30}).json()
    assert after["mediation_clock"]["due_date"] == moved["last_day"]  # the same calendar answers staff
    assert not moved["provisional"]
