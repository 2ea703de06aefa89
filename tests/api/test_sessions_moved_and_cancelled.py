"""Mediation sessions moved and cancelled, a mediator booked twice, the calendar of sessions across cases, and the
mediators reassigned after acceptance — through the API on the real stack (Temporal, the worker, the database).

A session still scheduled (no minutes, not cancelled) is moved with a reason, or cancelled with a reason, while the
case is mediated; a cancelled session is no longer open. Scheduling or moving a session next to another of the same
mediator (less than two hours apart, any case of the committee) is done, with a warning. The director assigns the
case's mediators anew until it closes, and reach follows the accounts named (Reg 42: cases are private).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.time import SHANGHAI
from tests.api.test_expert_consultation_api import eventually
from tests.api.test_role_matrix import add_account, log_in, production_api  # noqa: F401 - a fixture
from tests.factories import APPRAISAL, linked_to, registration
from tests.http import case_of, ok, refused
from tests.pools import make_city

MINUTES = {"held_at": "2026-11-20T09:30:00+08:00", "recorder": "刘记录员", "attendees": ["王大明"],
           "statements": [{"speaker": "王大明（患方）", "text": "要求赔偿十二万元。"}]}


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).isoformat()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SHANGHAI)


# A day of its own for each test's sessions, far from the sessions other tests schedule.
def some_day() -> date:
    return date(2027, 3, 1) + timedelta(days=int(uuid.uuid4().int % 300))


async def in_mediation(api: httpx.AsyncClient, committee_id: str | None = None, *, mediators: list[str] | None = None,
                       headers: dict[str, str] | None = None, accept: dict[str, Any] | None = None) -> str:
    changes = {"committee_id": committee_id} if committee_id else {}
    response = await api.post("/cases", json=registration(application_type="joint", applicant_side=None, **changes),
                              headers=headers or {})
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    await ok(api, case_id, "submit-for-review", headers=headers or {})
    await ok(api, case_id, "accept", accept or {"mediators": mediators or ["陈调解员"]}, headers=headers or {})
    return case_id


async def schedule(api: httpx.AsyncClient, case_id: str, when: str, mediators: list[str], place: str = "第一调解室",
                   headers: dict[str, str] | None = None) -> dict[str, Any]:
    return await ok(api, case_id, "schedule-session", {"scheduled_at": when, "place": place, "mediators": mediators},
                    headers=headers or {})


async def sessions_of(api: httpx.AsyncClient, case_id: str) -> dict[str, dict[str, Any]]:
    response = await api.get(f"/cases/{case_id}/sessions")
    assert response.status_code == 200, response.text
    return {s["id"]: s for s in response.json()}


async def calendar(api: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    response = await api.get("/sessions", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------ moving a session ----------------------------
class TestMovingASession:
    async def test_a_scheduled_session_moves_with_its_reason_and_keeps_each_move(self, api):
        day = some_day()
        case_id = await in_mediation(api)
        made = await schedule(api, case_id, at(day, 9, 30), ["陈调解员"])
        session_id = made["session_id"]
        moved = await ok(api, case_id, "reschedule-session", {
            "session_id": session_id, "scheduled_at": at(day + timedelta(days=2), 14), "place": "第二调解室",
            "reason": "患方代理人出庭，申请改期"})
        assert moved["session_id"] == session_id and moved["status"] == "in_mediation"
        assert moved["warnings"] == []
        again = await ok(api, case_id, "reschedule-session", {  # a time without offset is Asia/Shanghai
            "session_id": session_id, "scheduled_at": f"{day + timedelta(days=3)}T10:00:00", "reason": "医方申请改期"})

        row = (await sessions_of(api, case_id))[session_id]
        assert row["status"] == "scheduled" and row["cancellation"] is None and row["minutes"] is None
        assert local(row["scheduled_at"]) == local(at(day + timedelta(days=3), 10))
        assert row["place"] == "第二调解室"  # the second move kept the place
        assert row["moves"] == [
            {"seq": moved["seq"], "from_at": at(day, 9, 30), "to_at": at(day + timedelta(days=2), 14),
             "from_place": "第一调解室", "to_place": "第二调解室", "reason": "患方代理人出庭，申请改期"},
            {"seq": again["seq"], "from_at": at(day + timedelta(days=2), 14), "to_at": at(day + timedelta(days=3), 10),
             "from_place": "第二调解室", "to_place": "第二调解室", "reason": "医方申请改期"},
        ]
        history = [t for t in (await api.get(f"/cases/{case_id}/history")).json() if t["event"] == "reschedule_session"]
        assert [t["payload"]["reason"] for t in history] == ["患方代理人出庭，申请改期", "医方申请改期"]

    async def test_minutes_recorded_make_the_session_held_and_it_no_longer_moves(self, api):
        case_id = await in_mediation(api)
        session_id = (await schedule(api, case_id, at(some_day(), 9), ["陈调解员"]))["session_id"]
        await ok(api, case_id, "record-minutes", {"session_id": session_id, **MINUTES})
        assert (await sessions_of(api, case_id))[session_id]["status"] == "held"
        for action, body in (("reschedule-session", {"scheduled_at": at(some_day(), 9)}), ("cancel-session", {})):
            answer = await refused(api, case_id, action, {"session_id": session_id, "reason": "改期", **body})
            assert answer["code"] == "rule_violated" and "session_still_scheduled" in answer["rules"], answer

    async def test_a_session_of_another_case_or_none_is_refused_naming_the_rule(self, api):
        case_id, other_id = await in_mediation(api), await in_mediation(api)
        await schedule(api, case_id, at(some_day(), 9), ["陈调解员"])
        elsewhere = (await schedule(api, other_id, at(some_day(), 9), ["陈调解员"]))["session_id"]
        for session_id in (elsewhere, "no-such-session"):
            answer = await refused(api, case_id, "reschedule-session", {
                "session_id": session_id, "scheduled_at": at(some_day(), 10), "reason": "改期"})
            assert answer["code"] == "rule_violated" and "session_still_scheduled" in answer["rules"]
            assert session_id in answer["detail"]

    async def test_bad_input_is_a_clear_422(self, api):
        case_id = await in_mediation(api)
        session_id = (await schedule(api, case_id, at(some_day(), 9), ["陈调解员"]))["session_id"]
        for body in ({"session_id": session_id, "scheduled_at": at(some_day(), 9)},  # no reason
                     {"session_id": session_id, "scheduled_at": at(some_day(), 9), "reason": "  "},
                     {"session_id": session_id, "scheduled_at": "下周三上午", "reason": "改期"},
                     {"session_id": session_id, "scheduled_at": "0001-01-01T00:00:00", "reason": "改期"},
                     {"session_id": "", "scheduled_at": at(some_day(), 9), "reason": "改期"},
                     {"session_id": session_id, "scheduled_at": at(some_day(), 9), "reason": "改期", "extra": 1}):
            answer = await refused(api, case_id, "reschedule-session", body, status=422)
            assert answer["code"] == "invalid_payload", answer
        assert (await sessions_of(api, case_id))[session_id]["moves"] == []

    async def test_only_while_the_case_is_mediated(self, api):
        case_id = await in_mediation(api)
        session_id = (await schedule(api, case_id, at(some_day(), 9), ["陈调解员"]))["session_id"]
        await ok(api, case_id, "start-appraisal", APPRAISAL)  # Reg 34: the case is in appraisal
        answer = await refused(api, case_id, "reschedule-session", {
            "session_id": session_id, "scheduled_at": at(some_day(), 9), "reason": "改期"})
        assert answer["code"] == "illegal_transition" and answer["state"] == "appraisal"

    async def test_a_repeated_move_moves_once(self, api):  # rev 2: a repeated staff action changes nothing
        case_id = await in_mediation(api)
        session_id = (await schedule(api, case_id, at(some_day(), 9), ["陈调解员"]))["session_id"]
        body = {"session_id": session_id, "scheduled_at": at(some_day(), 15), "reason": "改期"}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await ok(api, case_id, "reschedule-session", body, headers=key)
        again = await ok(api, case_id, "reschedule-session", body, headers=key)
        assert again["repeated"] is True and again["seq"] == first["seq"]
        assert len((await sessions_of(api, case_id))[session_id]["moves"]) == 1


# ------------------------------------------------------------------ cancelling a session ------------------------
class TestCancellingASession:
    async def test_a_cancelled_session_is_no_longer_open(self, api):
        case_id = await in_mediation(api)
        session_id = (await schedule(api, case_id, at(some_day(), 9), ["陈调解员"]))["session_id"]
        assert {"record_minutes", "reschedule_session", "cancel_session"} <= set(
            (await case_of(api, case_id))["allowed_events"])
        cancelled = await ok(api, case_id, "cancel-session", {"session_id": session_id, "reason": "医方代理人无法到场"})
        assert cancelled["session_id"] == session_id and cancelled["warnings"] == []
        assert {"record_minutes", "reschedule_session", "cancel_session"}.isdisjoint(cancelled["allowed_events"])
        assert {"record_minutes", "reschedule_session", "cancel_session"}.isdisjoint(
            (await case_of(api, case_id))["allowed_events"])

        row = (await sessions_of(api, case_id))[session_id]
        assert row["status"] == "cancelled" and row["minutes"] is None
        assert row["cancellation"]["seq"] == cancelled["seq"]
        assert row["cancellation"]["reason"] == "医方代理人无法到场"
        assert local(row["cancellation"]["at"]) == local(cancelled["at"])
        for action, body in (("record-minutes", MINUTES), ("cancel-session", {"reason": "再次取消"}),
                             ("reschedule-session", {"scheduled_at": at(some_day(), 9), "reason": "改期"})):
            answer = await refused(api, case_id, action, {"session_id": session_id, **body})
            assert answer["code"] == "rule_violated", answer

    async def test_the_other_sessions_stay_open(self, api):
        case_id = await in_mediation(api)
        day = some_day()
        first = (await schedule(api, case_id, at(day, 9), ["陈调解员"]))["session_id"]
        second = (await schedule(api, case_id, at(day, 14), ["陈调解员"]))["session_id"]
        await ok(api, case_id, "cancel-session", {"session_id": first, "reason": "合并至下次调解"})
        await ok(api, case_id, "record-minutes", {"session_id": second, **MINUTES})
        assert {s["id"]: s["status"] for s in (await sessions_of(api, case_id)).values()} == {
            first: "cancelled", second: "held"}

    async def test_a_reason_is_required(self, api):
        case_id = await in_mediation(api)
        session_id = (await schedule(api, case_id, at(some_day(), 9), ["陈调解员"]))["session_id"]
        answer = await refused(api, case_id, "cancel-session", {"session_id": session_id}, status=422)
        assert "reason" in str(answer)


# ------------------------------------------------------------------ a mediator booked twice ---------------------
class TestDoubleBooking:
    async def test_a_session_within_two_hours_of_the_same_mediator_is_done_with_a_warning(self, api, sessions):
        city = make_city(sessions)
        day = some_day()
        first_case = await in_mediation(api, city.committee_id)
        second_case = await in_mediation(api, city.committee_id)
        first = await schedule(api, first_case, at(day, 9), ["甲调解员"], place="第一调解室")
        assert first["warnings"] == []

        second = await schedule(api, second_case, at(day, 10, 30), ["甲调解员", "乙调解员"])
        number = (await case_of(api, first_case))["number"]
        [warning] = second["warnings"]
        assert warning == {
            "code": "mediator_double_booked",
            "message": warning["message"],
            "session_id": first["session_id"],
            "case_id": first_case,
            "case_number": number,
            "scheduled_at": at(day, 9),
            "mediators": ["甲调解员"],
        }
        assert warning["message"].startswith("甲调解员 已安排") and number in warning["message"]
        assert "1小时30分钟" in warning["message"]
        assert second["session_id"] in await sessions_of(api, second_case)  # scheduled all the same

    async def test_two_hours_apart_another_mediator_or_committee_is_no_clash(self, api, sessions):
        city, other_city = make_city(sessions), make_city(sessions)
        day = some_day()
        case_id = await in_mediation(api, city.committee_id)
        await schedule(api, case_id, at(day, 9), ["甲调解员"])
        assert (await schedule(api, case_id, at(day, 11), ["甲调解员"]))["warnings"] == []  # two hours later
        assert (await schedule(api, case_id, at(day, 7), ["甲调解员"]))["warnings"] == []  # two hours earlier
        assert (await schedule(api, case_id, at(day, 9, 30), ["乙调解员"]))["warnings"] == []
        elsewhere = await in_mediation(api, other_city.committee_id)
        assert (await schedule(api, elsewhere, at(day, 9, 30), ["甲调解员"]))["warnings"] == []
        same_case = await schedule(api, case_id, at(day, 8, 1), ["甲调解员"])  # its own case's sessions count
        assert [w["scheduled_at"] for w in same_case["warnings"]] == [at(day, 7), at(day, 9)]
        assert "同一案件" in same_case["warnings"][0]["message"]

    async def test_held_and_cancelled_sessions_do_not_clash(self, api, sessions):
        city = make_city(sessions)
        day = some_day()
        case_id = await in_mediation(api, city.committee_id)
        held = (await schedule(api, case_id, at(day, 9), ["甲调解员"]))["session_id"]
        await ok(api, case_id, "record-minutes", {"session_id": held, **MINUTES})
        cancelled = (await schedule(api, case_id, at(day, 13), ["甲调解员"]))["session_id"]
        await ok(api, case_id, "cancel-session", {"session_id": cancelled, "reason": "取消"})
        assert (await schedule(api, case_id, at(day, 9, 30), ["甲调解员"]))["warnings"] == []
        assert (await schedule(api, case_id, at(day, 13, 30), ["甲调解员"]))["warnings"] == []

    async def test_a_move_next_to_another_session_warns(self, api, sessions):
        city = make_city(sessions)
        day = some_day()
        first_case = await in_mediation(api, city.committee_id)
        second_case = await in_mediation(api, city.committee_id)
        booked = await schedule(api, first_case, at(day, 14), ["甲调解员"])
        moving = (await schedule(api, second_case, at(day, 9), ["甲调解员"]))["session_id"]
        moved = await ok(api, second_case, "reschedule-session", {
            "session_id": moving, "scheduled_at": at(day, 15), "reason": "改期"})
        assert [w["session_id"] for w in moved["warnings"]] == [booked["session_id"]]
        assert moved["warnings"][0]["code"] == "mediator_double_booked"
        row = (await sessions_of(api, second_case))[moving]
        assert local(row["scheduled_at"]) == local(at(day, 15))  # moved all the same
        away = await ok(api, second_case, "reschedule-session", {
            "session_id": moving, "scheduled_at": at(day, 17), "reason": "再次改期"})
        assert away["warnings"] == []


# ------------------------------------------------------------------ the calendar across cases -------------------
class TestCalendar:
    async def test_this_week_by_default_earliest_first_with_each_case(self, api, sessions):
        city = make_city(sessions)
        today = datetime.now(SHANGHAI).date()
        monday = today - timedelta(days=today.weekday())
        case_id = await in_mediation(api, city.committee_id)
        later = await schedule(api, case_id, at(monday + timedelta(days=6), 16), ["甲调解员"], place="第三调解室")
        earlier = await schedule(api, case_id, at(monday, 9), ["甲调解员", "乙调解员"])
        await schedule(api, case_id, at(monday + timedelta(days=7), 9), ["甲调解员"])  # next week
        await schedule(api, case_id, at(monday - timedelta(days=1), 23, 59), ["甲调解员"])  # last week

        page = await calendar(api, committee_id=city.committee_id)
        assert (page["from"], page["to"]) == (monday.isoformat(), (monday + timedelta(days=6)).isoformat())
        assert [s["id"] for s in page["items"]] == [earlier["session_id"], later["session_id"]]
        case = await case_of(api, case_id)
        assert page["items"][1] == {
            "id": later["session_id"], "case_id": case_id, "case_number": case["number"],
            "committee_id": city.committee_id, "case_status": "in_mediation", "patient_name": case["patient_name"],
            "institution_name": case["institution_name"], "scheduled_at": at(monday + timedelta(days=6), 16),
            "place": "第三调解室", "mediators": ["甲调解员"], "status": "scheduled", "moved": 0,
        }
        assert page["has_more"] is False and page["next_cursor"] is None

    async def test_filters_days_mediator_status_and_committee(self, api, sessions):
        city, other_city = make_city(sessions), make_city(sessions)
        day = some_day()
        case_id = await in_mediation(api, city.committee_id)
        other_case = await in_mediation(api, other_city.committee_id)
        morning = (await schedule(api, case_id, at(day, 0, 0), ["甲调解员"]))["session_id"]
        evening = (await schedule(api, case_id, at(day + timedelta(days=1), 23, 59), ["甲调解员乙"]))["session_id"]
        cancelled = (await schedule(api, case_id, at(day, 12), ["乙调解员", "甲调解员"]))["session_id"]
        await ok(api, case_id, "cancel-session", {"session_id": cancelled, "reason": "取消"})
        elsewhere = (await schedule(api, other_case, at(day, 12), ["甲调解员"]))["session_id"]
        await schedule(api, case_id, at(day + timedelta(days=2), 0, 0), ["甲调解员"])  # the day after `to`

        two_days = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
        mine = await calendar(api, committee_id=city.committee_id, **two_days)
        assert [s["id"] for s in mine["items"]] == [morning, cancelled, evening]  # both days in full
        by_name = await calendar(api, committee_id=city.committee_id, mediator="甲调解员", **two_days)
        assert [s["id"] for s in by_name["items"]] == [morning, cancelled]  # a name, not a part of one
        scheduled = await calendar(api, committee_id=city.committee_id, status="scheduled", **two_days)
        assert [s["id"] for s in scheduled["items"]] == [morning, evening]
        both = await calendar(api, mediator="甲调解员", status="cancelled", **two_days)
        assert cancelled in [s["id"] for s in both["items"]] and elsewhere not in [s["id"] for s in both["items"]]
        assert [s["id"] for s in (await calendar(api, committee_id=other_city.committee_id, **two_days))["items"]] == \
            [elsewhere]
        one_day = await calendar(api, committee_id=city.committee_id, **{"from": day.isoformat(),
                                                                         "to": day.isoformat()})
        assert [s["id"] for s in one_day["items"]] == [morning, cancelled]

    async def test_a_page_at_a_time(self, api, sessions, database_url):
        city = make_city(sessions)
        day = some_day()
        case_id = await in_mediation(api, city.committee_id)
        made = [(await schedule(api, case_id, at(day, hour), ["甲调解员"], place=place))["session_id"]
                for hour, place in ((9, "第一调解室"), (9, "第二调解室"), (13, "第一调解室"), (16, "第一调解室"))]
        seen, cursor = [], None
        while True:
            params = {"committee_id": city.committee_id, "from": day.isoformat(), "to": day.isoformat(), "limit": 1}
            page = await calendar(api, **params, **({"cursor": cursor} if cursor else {}))
            seen += [s["id"] for s in page["items"]]
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        assert seen[2:] == made[2:] and sorted(seen[:2]) == sorted(made[:2]) and len(seen) == 4
        counted = await calendar(api, committee_id=city.committee_id, count="estimate", **{"from": day.isoformat()})
        if database_url.startswith("sqlite"):  # exact on SQLite; the planner's estimate on PostgreSQL
            assert counted["estimated_total"] == 4
        else:
            assert isinstance(counted["estimated_total"], int) and counted["estimated_total"] >= 0
        moved = await ok(api, case_id, "reschedule-session", {"session_id": made[0], "scheduled_at": at(day, 18),
                                                              "reason": "改期"})
        assert moved["warnings"] == []
        last = await calendar(api, committee_id=city.committee_id, **{"from": day.isoformat(), "to": day.isoformat()})
        assert last["items"][-1]["id"] == made[0] and last["items"][-1]["moved"] == 1

    @pytest.mark.parametrize("params", [
        {"from": "2026-12-10", "to": "2026-12-01"},  # to before from
        {"from": "2026-13-01"},
        {"to": "下周"},
        {"from": "0001-01-01"},
        {"status": "postponed"},
        {"limit": 0},
        {"limit": 501},
        {"cursor": "not-a-cursor"},
        {"mediator": ""},
    ])
    async def test_bad_filters_are_a_clear_422(self, api, params):
        response = await api.get("/sessions", params=params)
        assert response.status_code == 422, response.text
        assert response.json()["code"] in ("invalid_payload", "invalid_cursor")

    async def test_a_cursor_of_another_list_is_refused(self, api):
        cases = (await api.get("/cases", params={"limit": 1})).json()
        if cases["next_cursor"]:
            response = await api.get("/sessions", params={"cursor": cases["next_cursor"]})
            assert response.status_code == 422 and response.json()["code"] == "invalid_cursor"


# ------------------------------------------------------------------ reassigning mediators -----------------------
class TestReassigningMediators:
    async def test_the_director_assigns_new_mediators_with_a_reason(self, api):
        case_id = await in_mediation(api, mediators=["陈调解员"])
        director = {"X-Actor-Role": "director", "X-Actor-Id": "zhao"}
        answer = await ok(api, case_id, "reassign-mediators",
                          {"mediators": ["周调解员", "吴调解员"], "reason": "陈调解员休假，改由周调解员主持"}, headers=director)
        assert answer["status"] == "in_mediation"
        assert (await case_of(api, case_id))["mediators"] == ["周调解员", "吴调解员"]
        recorded = [t for t in (await api.get(f"/cases/{case_id}/history")).json() if t["event"] == "reassign_mediators"]
        assert recorded[0]["payload"]["reason"] == "陈调解员休假，改由周调解员主持"
        mediator = {"X-Actor-Role": "mediator", "X-Actor-Id": "chen"}
        denied = await api.post(f"/cases/{case_id}/reassign-mediators", json={"mediators": ["陈调解员"], "reason": "x"},
                                headers=mediator)
        assert denied.status_code == 403

    async def test_while_the_case_is_under_mediation_only(self, api):
        response = await api.post("/cases", json=registration(application_type="joint", applicant_side=None))
        case_id = response.json()["id"]
        body = {"mediators": ["周调解员"], "reason": "工作调整"}
        assert (await refused(api, case_id, "reassign-mediators", body))["code"] == "illegal_transition"
        await ok(api, case_id, "submit-for-review")
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        await ok(api, case_id, "start-appraisal", APPRAISAL)  # during an appraisal too (Reg 34)
        await ok(api, case_id, "reassign-mediators", body)
        assert (await case_of(api, case_id))["mediators"] == ["周调解员"]

    @pytest.mark.parametrize("body", [
        {"mediators": ["周调解员"]},  # no reason
        {"mediators": ["甲", "乙", "丙", "丁"], "reason": "工作调整"},
        {"reason": "工作调整"},
        {"mediators": ["周调解员"], "mediator_ids": ["a", "b"], "reason": "工作调整"},
    ])
    async def test_bad_input_is_a_clear_422(self, api, body):
        case_id = await in_mediation(api)
        answer = await refused(api, case_id, "reassign-mediators", body, status=422)
        assert answer["code"] == "invalid_payload"
        assert (await case_of(api, case_id))["mediators"] == ["陈调解员"]


    async def test_the_open_panels_notify_the_new_mediators(self, api, sessions):  # Reg 33
        city = make_city(sessions)  # its pool has no lawyer: the panel's seat stays unfilled
        response = await api.post("/cases", json=linked_to(city.respondent, committee_id=city.committee_id,
                                                           application_type="joint", applicant_side=None))
        case_id = response.json()["id"]
        await ok(api, case_id, "submit-for-review")
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        panel_id = (await ok(api, case_id, "request-consultation", {"specialties": ["law"],
                                                                    "question": "医方有无过错"}))["panel_id"]

        async def unfilled() -> list[list[str]]:
            outbox = (await api.get(f"/cases/{case_id}/notifications")).json()["items"]
            return [n["recipients"] for n in reversed(outbox) if n["kind"] == "panel_slot_unfilled"]

        async def told(count: int) -> bool:
            return len(await unfilled()) >= count

        await eventually(lambda: told(1), "the unfilled seat's notice")
        await ok(api, case_id, "reassign-mediators", {"mediators": ["周调解员"], "reason": "陈调解员调离"})
        redrawn = await api.post(f"/panels/{panel_id}/slots/0/redraw", json={})
        assert redrawn.status_code == 200, redrawn.text
        await eventually(lambda: told(2), "the redrawn seat's notice")
        assert await unfilled() == [["陈调解员"], ["周调解员"]]


class TestReachFollowsTheAssignment:
    """Reg 42: a mediator reaches the cases assigned to them — at acceptance, and after a reassignment."""

    async def test_a_mediator_removed_no_longer_reaches_the_case_one_added_does(
            self, production_api, sessions):  # noqa: F811 - the fixture imported above
        api = production_api
        city = make_city(sessions)
        tag = city.committee_id
        for username, role in ((f"dir-{tag}", "director"), (f"chen-{tag}", "mediator"), (f"zhou-{tag}", "mediator")):
            add_account(sessions, username, role, committee_id=city.committee_id)
        director, chen, zhou = [await log_in(api, f"{name}-{tag}") for name in ("dir", "chen", "zhou")]
        case_id = await in_mediation(api, city.committee_id, headers=director,
                                     accept={"mediator_ids": [f"chen-{tag}"]})
        day = some_day()
        session_id = (await schedule(api, case_id, at(day, 9), ["陈调解员"], headers=chen))["session_id"]

        async def reaches(headers: dict[str, str]) -> tuple[int, bool, bool]:
            read = await api.get(f"/cases/{case_id}", headers=headers)
            listed = (await api.get("/cases", params={"limit": 200}, headers=headers)).json()["items"]
            week = await calendar(api, headers, **{"from": day.isoformat(), "to": day.isoformat()})
            return (read.status_code, case_id in {c["id"] for c in listed},
                    session_id in {s["id"] for s in week["items"]})

        assert await reaches(chen) == (200, True, True)
        assert await reaches(zhou) == (404, False, False)
        no_accounts = await api.post(f"/cases/{case_id}/reassign-mediators",
                                     json={"mediators": ["周调解员"], "reason": "工作调整"}, headers=director)
        assert no_accounts.status_code == 422 and "mediator_ids" in no_accounts.text
        unknown = await api.post(f"/cases/{case_id}/reassign-mediators",
                                 json={"mediator_ids": ["nobody"], "reason": "工作调整"}, headers=director)
        assert unknown.status_code == 422 and "nobody" in unknown.text

        await ok(api, case_id, "reassign-mediators", {"mediator_ids": [f"zhou-{tag}"], "reason": "陈调解员调离"},
                 headers=director)
        assert await reaches(chen) == (404, False, False)
        assert await reaches(zhou) == (200, True, True)
        named = (await api.get(f"/cases/{case_id}", headers=director)).json()["mediators"]
        assert named == ["mediator账号"]  # the account's name, as at acceptance
        moved = await api.post(f"/cases/{case_id}/reschedule-session", headers=chen, json={
            "session_id": session_id, "scheduled_at": at(day, 10), "reason": "改期"})
        assert moved.status_code == 404  # the case is not theirs any more
        await ok(api, case_id, "reschedule-session", {"session_id": session_id, "scheduled_at": at(day, 10),
                                                      "reason": "改期"}, headers=zhou)

    async def test_a_clash_with_a_case_out_of_reach_names_its_number_only(
            self, production_api, sessions):  # noqa: F811 - the fixture imported above
        api = production_api
        city = make_city(sessions)
        tag = city.committee_id
        for username, role in ((f"dir-{tag}", "director"), (f"chen-{tag}", "mediator"), (f"zhou-{tag}", "mediator")):
            add_account(sessions, username, role, committee_id=city.committee_id)
        director, chen, zhou = [await log_in(api, f"{name}-{tag}") for name in ("dir", "chen", "zhou")]
        chens = await in_mediation(api, city.committee_id, headers=director, accept={"mediator_ids": [f"chen-{tag}"]})
        zhous = await in_mediation(api, city.committee_id, headers=director, accept={"mediator_ids": [f"zhou-{tag}"]})
        day = some_day()
        theirs = await schedule(api, zhous, at(day, 9), ["甲调解员"], headers=zhou)  # a co-mediator's other case
        mine = await schedule(api, chens, at(day, 10), ["甲调解员"], headers=chen)
        [warning] = mine["warnings"]
        number = (await api.get(f"/cases/{zhous}", headers=director)).json()["number"]
        assert warning["case_id"] is None and warning["session_id"] is None  # Reg 42
        assert warning["case_number"] == number and number in warning["message"]
        # zhou reaches his own case, not chen's: his own session is named, chen's by its number only
        again = await schedule(api, zhous, at(day, 10, 30), ["甲调解员"], headers=zhou)
        assert [(w["session_id"], w["case_id"]) for w in again["warnings"]] == [
            (theirs["session_id"], zhous), (None, None)]
