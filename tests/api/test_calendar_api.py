"""The working-day calendar (工作日) through the staff API: what a day is, where a period of N working days
ends, and the year tables admins load for years the `chinesecalendar` package does not know yet
(shared/DOMAIN.md, "Time: the clocks"). An open case follows a newly loaded year.

Expected dates come from an oracle written here, independent of domain/clock.py: it walks the days one by one
(a loaded table, else chinesecalendar for the years it knows, else Monday to Friday).

The database is shared by the whole test session: every test that loads a year deletes its row first and
again at the end (the `fresh_2027` fixture), so it holds whether or not 2027 was loaded before and leaves the
calendar as it found it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from core.db import SessionFactory, transaction
from models.tables import CalendarYear
from tests.factories import registration
from tests.http import ok
from tests.oracle import midnight_after, nth_working_day_after, statutory_holidays

ADMIN = {"X-Actor-Id": "a1", "X-Actor-Name": quote("钱管理员"), "X-Actor-Role": "admin"}

# A table for 2027 used here (the State Council's real schedule is not assumed): New Year's Day, a Spring
# Festival week with its make-up Saturday, and two days off right after New Year's Day, so that a period that
# starts in late 2026 crosses weekday holidays of 2027.
TABLE_2027: dict[str, Any] = {
    "holidays": ["2027-01-01", "2027-01-04", "2027-01-05",
                 "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11",
                 "2027-02-12"],
    "workdays": ["2027-02-20"],
    "names": {"2027-01-01": "元旦", "2027-02-06": "春节", "2027-02-20": "春节调休"},
}
CSV_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-05-03,holiday,劳动节\n2027-05-08,workday,劳动节调休\n"


# ------------------------------------------------------------------ helpers ------------------------------
def _delete_year(sessions: SessionFactory, year: int) -> None:
    with transaction(sessions) as session:
        row = session.get(CalendarYear, year)
        if row is not None:
            session.delete(row)


@pytest.fixture
def fresh_2027(sessions: SessionFactory) -> Iterator[None]:
    """2027 is unknown to the calendar when the test starts, and again when it ends."""
    _delete_year(sessions, 2027)
    try:
        yield
    finally:
        _delete_year(sessions, 2027)


async def get(api: httpx.AsyncClient, path: str, status: int = 200, **params: Any) -> Any:
    response = await api.get(path, params=params or None)
    assert response.status_code == status, response.text
    return response.json()


async def load_json(api: httpx.AsyncClient, year: int, table: dict[str, Any], status: int = 200) -> dict:
    response = await api.put(f"/calendar/years/{year}", json=table, headers=ADMIN)
    assert response.status_code == status, response.text
    return response.json()


async def load_csv(api: httpx.AsyncClient, year: int, text: str, status: int = 200) -> dict:
    response = await api.put(
        f"/calendar/years/{year}/csv", content=text.encode(), headers={**ADMIN, "content-type": "text/csv"}
    )
    assert response.status_code == status, response.text
    return response.json()


async def provisional_case_ids(api: httpx.AsyncClient) -> set[str]:
    ids: set[str] = set()
    cursor: dict[str, str] = {}
    while True:
        page = await get(api, "/calendar/provisional", limit=200, **cursor)
        ids |= {item["id"] for item in page["items"]}
        if not page["has_more"]:
            return ids
        cursor = {"cursor": page["next_cursor"]}


def expired(case: dict) -> dict:
    return next(d for d in case["deadlines"] if d["kind"] == "deadline_expired")


# ------------------------------------------------------------------ days ---------------------------------
class TestWorkingDays:
    async def test_a_public_holiday_is_not_a_working_day(self, api):  # National Day
        answer = await get(api, "/calendar/days/2026-10-01")
        assert answer == {**answer, "day": "2026-10-01", "working": False, "provisional": False,
                          "layer": "chinesecalendar"}

    @pytest.mark.parametrize("day", ["2026-09-20", "2026-02-14", "2026-02-28", "2026-10-10"])
    async def test_a_make_up_weekend_day_is_a_working_day(self, api, day):  # 调休
        assert date.fromisoformat(day).weekday() >= 5
        answer = await get(api, f"/calendar/days/{day}")
        assert answer["working"] is True and answer["provisional"] is False

    async def test_an_ordinary_weekend_and_weekday_of_2026(self, api):
        assert (await get(api, "/calendar/days/2026-11-28"))["working"] is False  # a Saturday
        assert (await get(api, "/calendar/days/2026-11-24"))["working"] is True  # a Tuesday

    async def test_answers_for_2026_are_not_provisional(self, api):
        for day in ["2026-01-01", "2026-02-17", "2026-06-30", "2026-12-31"]:
            answer = await get(api, f"/calendar/days/{day}")
            assert answer["provisional"] is False and answer["layer"] == "chinesecalendar", day

    async def test_a_year_unknown_to_the_package_is_answered_without_its_statutory_holidays_and_provisional(
        self, api, fresh_2027
    ):
        monday = await get(api, "/calendar/days/2027-03-01")
        saturday = await get(api, "/calendar/days/2027-03-06")
        assert monday["working"] is True and saturday["working"] is False
        # rev 2: New Year's Day is off by statute even before the State Council publishes 2027, and named
        new_year = await get(api, "/calendar/days/2027-01-01")
        assert new_year["working"] is False and new_year["name"] == "元旦"
        # the bridging days around it are not known yet: Monday 2027-01-04 is provisionally a working day
        assert (await get(api, "/calendar/days/2027-01-04"))["working"] is True
        for answer in (monday, saturday, new_year):
            assert answer["provisional"] is True and answer["layer"] == "provisional"

    async def test_a_day_outside_the_calendar_s_range_is_4xx(self, api):
        for path in ["/calendar/days/1989-12-31", "/calendar/days/2200-01-01", "/calendar/days/2026-02-30",
                     "/calendar/days/yesterday"]:
            response = await api.get(path)
            assert 400 <= response.status_code < 500, path
            assert "detail" in response.json()


# ------------------------------------------------------------------ periods ------------------------------
class TestWorkingDaysLater:
    @pytest.mark.parametrize(
        ("start", "last_day"),
        [
            ("2026-01-20", "2026-03-09"),  # Spring Festival excluded; 2026-02-14 and 2026-02-28 count
            ("2026-09-15", "2026-11-02"),  # National Day excluded; 2026-09-20 and 2026-10-10 count
        ],
    )
    async def test_domain_worked_examples_of_thirty_working_days(self, api, start, last_day):  # Reg 38
        answer = await get(api, "/calendar/working-days-later", start=start, working_days=30)
        assert answer["last_day"] == last_day
        assert answer["last_day"] == nth_working_day_after(date.fromisoformat(start), 30).isoformat()
        assert answer["provisional"] is False and answer["unknown_years"] == []

    async def test_the_period_ends_at_24_00_shanghai_of_its_last_day(self, api):  # Civil Code 203
        answer = await get(api, "/calendar/working-days-later", start="2026-01-20", working_days=30)
        assert answer["ends_at"] == "2026-03-10T00:00:00+08:00"
        assert datetime.fromisoformat(answer["ends_at"]) == midnight_after(date(2026, 3, 9))

    async def test_the_start_day_does_not_count(self, api):  # Civil Code 201
        one = await get(api, "/calendar/working-days-later", start="2026-11-24", working_days=1)
        assert one["last_day"] == "2026-11-25"
        # from a Friday, the first working day after it is the Monday
        after_friday = await get(api, "/calendar/working-days-later", start="2026-11-27", working_days=1)
        assert after_friday["last_day"] == "2026-11-30"
        zero = await get(api, "/calendar/working-days-later", start="2026-11-24", working_days=0)
        assert zero["last_day"] == "2026-11-24"

    async def test_a_last_day_in_a_holiday_runs_on_to_the_next_working_day(self, api):  # Civil Code 203
        # 2026-09-30 + 1 WD: 2026-10-01..07 are National Day, 10-08 is the first working day after
        answer = await get(api, "/calendar/working-days-later", start="2026-09-30", working_days=1)
        assert answer["last_day"] == nth_working_day_after(date(2026, 9, 30), 1).isoformat()
        assert date.fromisoformat(answer["last_day"]) > date(2026, 10, 7)

    async def test_a_period_reaching_an_unknown_year_is_provisional_and_names_it(self, api, fresh_2027):
        answer = await get(api, "/calendar/working-days-later", start="2026-12-15", working_days=30)
        assert answer["provisional"] is True
        assert answer["unknown_years"] == [2027]
        # counted Monday to Friday in 2027
        assert answer["last_day"] == nth_working_day_after(date(2026, 12, 15), 30).isoformat()
        assert answer["ends_at"].endswith("+08:00")

    async def test_bad_queries_are_422(self, api):
        for params in [{"start": "2026-01-20", "working_days": -1}, {"start": "2026-01-20"},
                       {"start": "someday", "working_days": 30},
                       {"start": "2026-01-20", "working_days": 99999}]:
            response = await api.get("/calendar/working-days-later", params=params)
            assert response.status_code == 422, params
            assert response.json()["code"] == "invalid_payload"


# ------------------------------------------------------------------ loading a year ----------------------
class TestLoadingAYear:
    async def test_a_json_table_makes_2027_firm(self, api, fresh_2027):
        report = await load_json(api, 2027, TABLE_2027)
        assert report["replaced"] is False
        assert report["failed"] == []
        # every open case is recomputed in the batch or left to its workflow, and every workflow to tell was told
        assert report["recomputed"] + report["left_to_workflows"] == report["open_cases"]
        assert report["signalled"] + report["not_running"] == report["woken"] + report["left_to_workflows"]
        year = report["year"]
        assert year["year"] == 2027 and year["layer"] == "table" and year["provisional"] is False
        assert year["loaded_by"] == "钱管理员" and year["loaded_at"].endswith("+08:00")
        assert year["holidays"] == sorted(TABLE_2027["holidays"]) and year["workdays"] == ["2027-02-20"]

        new_year = await get(api, "/calendar/days/2027-01-01")
        assert new_year == {"day": "2027-01-01", "working": False, "provisional": False, "layer": "table",
                            "name": "元旦"}
        make_up = await get(api, "/calendar/days/2027-02-20")  # a Saturday
        assert make_up["working"] is True and make_up["provisional"] is False and make_up["name"] == "春节调休"
        ordinary = await get(api, "/calendar/days/2027-03-01")
        assert ordinary["working"] is True and ordinary["provisional"] is False
        assert ordinary["layer"] == "table"

        period = await get(api, "/calendar/working-days-later", start="2026-12-15", working_days=30)
        assert period["provisional"] is False and period["unknown_years"] == []
        expected = nth_working_day_after(date(2026, 12, 15), 30, {2027: TABLE_2027})
        assert period["last_day"] == expected.isoformat()

    async def test_the_loaded_year_is_listed_with_its_table(self, api, fresh_2027):
        await load_json(api, 2027, TABLE_2027)
        years = {y["year"]: y for y in await get(api, "/calendar/years")}
        assert years[2027]["layer"] == "table" and years[2027]["provisional"] is False
        assert years[2027]["loaded_by"] == "钱管理员"
        assert years[2026]["layer"] == "chinesecalendar" and years[2026]["holidays"] == []
        assert set(range(2004, 2027)) <= set(years)  # the years the package knows
        one = await get(api, "/calendar/years/2027")
        assert one == years[2027]

    async def test_a_csv_table_loads_the_same_way(self, api, fresh_2027):
        report = await load_csv(api, 2027, CSV_2027)
        assert report["year"]["layer"] == "table"
        assert report["year"]["holidays"] == ["2027-01-01", "2027-05-03"]
        assert report["year"]["workdays"] == ["2027-05-08"]
        labour_day = await get(api, "/calendar/days/2027-05-03")  # a Monday
        assert labour_day["working"] is False and labour_day["provisional"] is False
        assert labour_day["name"] == "劳动节"
        assert (await get(api, "/calendar/days/2027-05-08"))["working"] is True  # a Saturday

    async def test_a_spreadsheet_csv_with_a_byte_order_mark_and_no_names_loads(self, api, fresh_2027):
        response = await api.put(
            "/calendar/years/2027/csv",
            content="\ufeffdate,kind\r\n2027-01-01,holiday\r\n".encode(),
            headers={**ADMIN, "content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        assert (await get(api, "/calendar/days/2027-01-01"))["working"] is False

    async def test_loading_a_year_again_replaces_its_table(self, api, fresh_2027):
        await load_json(api, 2027, TABLE_2027)
        report = await load_csv(api, 2027, CSV_2027)
        assert report["replaced"] is True
        # 2027-01-04 was a holiday of the first table only: a working day again
        assert (await get(api, "/calendar/days/2027-01-04"))["working"] is True
        assert (await get(api, "/calendar/days/2027-05-03"))["working"] is False


class TestBadTables:
    async def test_a_json_table_with_problems_is_422_naming_every_problem_and_changes_nothing(
        self, api, fresh_2027
    ):
        await load_json(api, 2027, TABLE_2027)
        bad = {"holidays": ["2026-12-31", "2027-03-01"], "workdays": ["2027-03-01"]}
        body = await load_json(api, 2027, bad, status=422)
        assert body["code"] == "invalid_payload"
        fields = {e["field"]: e["message"] for e in body["errors"]}
        assert "outside the year 2027" in fields["holidays[0]"]
        assert "both a holiday and a workday" in fields["workdays[0]"]
        assert "2026-12-31" in body["detail"] and "2027-03-01" in body["detail"]
        # the table loaded before is still the one in force
        year = await get(api, "/calendar/years/2027")
        assert year["holidays"] == sorted(TABLE_2027["holidays"])
        assert (await get(api, "/calendar/days/2027-03-01"))["working"] is True

    async def test_a_csv_with_bad_lines_is_422_naming_each_line_and_changes_nothing(self, api, fresh_2027):
        text = ("date,kind,name\n"
                "2027-01-01,holiday,元旦\n"
                "2027-13-01,holiday,不存在的日子\n"  # line 3: not a date
                "2027-02-20,vacation,春节调休\n"  # line 4: not a kind
                "2026-05-01,holiday,劳动节\n"  # line 5: outside the year
                "2027-01-01,workday,元旦\n")  # line 6: both holiday and workday
        body = await load_csv(api, 2027, text, status=422)
        assert body["code"] == "invalid_payload"
        messages = " | ".join(e["message"] for e in body["errors"])
        where = [e["message"].split(",")[0] for e in body["errors"]]
        assert where == ["line 3", "line 4", "line 5", "line 6"]
        assert "vacation" in messages and "outside the year 2027" in messages and "both holiday" in messages
        year = await get(api, "/calendar/years/2027")
        assert year["layer"] == "provisional" and year["provisional"] is True and year["loaded_at"] is None
        assert (await get(api, "/calendar/days/2027-01-01"))["provisional"] is True

    @pytest.mark.parametrize(
        "content",
        [b"", b"date,kind\n", b"day,type\n2027-01-01,holiday\n", b"date,kind\n\xff\xfe,holiday\n",
         b"date,kind,name,extra\n2027-01-01,holiday,a,b\n"],
        ids=["empty", "header-only", "wrong-header", "not-utf8", "extra-column"],
    )
    async def test_a_csv_that_is_not_a_table_is_422(self, api, fresh_2027, content):
        response = await api.put("/calendar/years/2027/csv", content=content,
                                 headers={**ADMIN, "content-type": "text/csv"})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_payload"
        assert (await get(api, "/calendar/years/2027"))["layer"] == "provisional"

    async def test_a_day_name_is_limited_to_50_characters_in_csv_as_in_json(self, api, fresh_2027):
        name = "春" * 51
        await load_json(api, 2027, {"holidays": ["2027-01-01"], "names": {"2027-01-01": name}}, status=422)
        csv = f"date,kind,name\n2027-01-01,holiday,{name}\n"
        response = await api.put("/calendar/years/2027/csv", content=csv.encode(),
                                 headers={**ADMIN, "content-type": "text/csv"})
        assert response.status_code == 422, response.text

    async def test_a_table_for_another_year_than_the_path_is_422(self, api, fresh_2027):
        body = await load_json(api, 2028, {"holidays": ["2027-01-01"]}, status=422)
        assert "outside the year 2028" in body["detail"]
        assert (await get(api, "/calendar/years/2028"))["layer"] == "provisional"

    @pytest.mark.parametrize("year", [1989, 2200, 0, 99999])
    async def test_a_year_outside_1990_to_2199_is_4xx(self, api, year):
        probes = [
            api.put(f"/calendar/years/{year}", json={"holidays": [], "workdays": []}, headers=ADMIN),
            api.put(f"/calendar/years/{year}/csv", content=b"date,kind\n",
                    headers={**ADMIN, "content-type": "text/csv"}),
            api.get(f"/calendar/years/{year}"),
        ]
        for probe in probes:
            response = await probe
            assert 400 <= response.status_code < 500, response.text
            assert "detail" in response.json()


# ------------------------------------------------------------------ open cases follow -------------------
class TestOpenCasesFollowANewYear:
    async def test_a_case_reaching_2027_becomes_firm_when_2027_is_loaded(self, api, fresh_2027):  # Reg 38
        joint = registration(application_type="joint", applicant_side=None)
        case_id = (await api.post("/cases", json=joint)).json()["id"]
        await ok(api, case_id, "submit-for-review")
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        before = await get(api, f"/cases/{case_id}")
        clock = before["mediation_clock"]
        accepted_on, old_due = date.fromisoformat(clock["accepted_on"]), date.fromisoformat(clock["due_date"])
        assert old_due == nth_working_day_after(accepted_on, 30)
        if old_due.year != 2027:
            pytest.skip(f"accepted on {accepted_on}, the mediation period ends {old_due}, not in 2027")
        # a deadline in a year nobody knows yet: provisional, shown as such, listed for the admins
        assert clock["provisional"] is True and before["provisional"] is True
        assert expired(before)["provisional"] is True
        listing = await get(api, "/calendar/provisional", limit=200)
        assert 2027 in listing["unknown_years"]
        assert case_id in await provisional_case_ids(api)
        years = {y["year"]: y for y in await get(api, "/calendar/years")}
        assert years[2027]["layer"] == "provisional" and years[2027]["provisional"] is True

        tables = {2027: TABLE_2027}
        period = [accepted_on + timedelta(days=i) for i in range(1, (old_due - accepted_on).days + 1)]
        weekday_holidays = [d for d in period if d.isoformat() in TABLE_2027["holidays"] and d.weekday() < 5
                            and d not in statutory_holidays(2027)]  # those the provisional count skipped already
        make_up_days = [d for d in period if d.isoformat() in TABLE_2027["workdays"]]
        shift = len(weekday_holidays) - len(make_up_days)
        if shift <= 0:
            pytest.skip(f"the period ({accepted_on}, {old_due}] crosses no weekday holiday of the test table")
        new_due = nth_working_day_after(accepted_on, 30, tables)
        assert new_due == nth_working_day_after(old_due, shift, tables)  # later by the days taken away

        report = await load_json(api, 2027, TABLE_2027)
        assert report["signalled"] >= 1 and case_id not in report["failed"]
        assert report["open_cases"] >= 1

        # the case's workflow was told: it recomputes its deadlines and the projection follows
        deadline = time.monotonic() + 15
        while True:
            after = await get(api, f"/cases/{case_id}")
            if (after["provisional"] is False and expired(after)["due_on"] == new_due.isoformat()) or (
                time.monotonic() > deadline
            ):
                break
            await asyncio.sleep(0.2)
        assert after["provisional"] is False
        assert expired(after)["due_on"] == new_due.isoformat()
        assert datetime.fromisoformat(expired(after)["at"]) == midnight_after(new_due)
        assert all(d["provisional"] is False for d in after["deadlines"])
        assert after["mediation_clock"]["due_date"] == new_due.isoformat()
        assert after["mediation_clock"]["provisional"] is False
        assert datetime.fromisoformat(after["mediation_clock"]["deadline_at"]) == midnight_after(new_due)
        warnings = sorted(d["at"] for d in after["deadlines"] if d["kind"] == "deadline_warning")
        assert [datetime.fromisoformat(w) for w in warnings] == [
            midnight_after(nth_working_day_after(accepted_on, 30 - before_wd, tables)) for before_wd in (5, 1)
        ]
        assert case_id not in await provisional_case_ids(api)
