"""The clocks of a case as staff see them through the API (shared/DOMAIN.md, "Time: the clocks"): the Reg 38
mediation clock, its pauses for an appraisal (Reg 34) and its agreed extensions, the agreement's clocks
(payment, judicial confirmation under PML 33, the follow-up visit), the notices each ending issues, and the
outbox of notifications. The timers themselves firing is tested in tests/workflows/test_clocks.py.

Expected dates come from an oracle written here, independent of domain/clock.py: it walks the days one by one
(a loaded table, else chinesecalendar for the years it knows, else Monday to Friday).
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from domain.time import SHANGHAI
from tests.factories import (
    APPRAISAL,
    COURT_ACCEPTED,
    EXTENSION,
    FOLLOWUP,
    OPINION,
    SIGNATURES,
    WITHDRAWAL,
    agreement,
    payment,
    registration,
)
from tests.http import case_of, ok, refused
from tests.oracle import is_working_day, midnight_after, nth_working_day_after, start_of


async def loaded_tables(api: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    """The year tables admins loaded (another test may have loaded one), for the oracle."""
    years = (await api.get("/calendar/years")).json()
    return {y["year"]: {"holidays": y["holidays"], "workdays": y["workdays"]}
            for y in years if y["layer"] == "table"}


# ------------------------------------------------------------------ helpers ------------------------------
def pdf_text(content: bytes) -> str:
    """The PDF's text without whitespace (titles are letter-spaced, long lines wrap)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.split())


async def joint_case(api: httpx.AsyncClient) -> str:
    response = await api.post("/cases", json=registration(application_type="joint", applicant_side=None))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def case_in_mediation(api: httpx.AsyncClient) -> str:
    case_id = await joint_case(api)
    await ok(api, case_id, "submit-for-review")
    await ok(api, case_id, "accept", {"mediators": ["陈调解员", "周调解员"]})
    return case_id


async def history_length(api: httpx.AsyncClient, case_id: str) -> int:
    return len((await api.get(f"/cases/{case_id}/history")).json())


def kinds(case: dict) -> list[str]:
    return [d["kind"] for d in case["deadlines"]]


def deadline(case: dict, kind: str) -> dict:
    return next(d for d in case["deadlines"] if d["kind"] == kind)


def accepted_on(case: dict) -> date:
    return datetime.fromisoformat(case["accepted_at"]).astimezone(SHANGHAI).date()


async def documents_of(api: httpx.AsyncClient, case_id: str, kind: str) -> list[dict]:
    return [d for d in (await api.get(f"/cases/{case_id}/documents")).json() if d["kind"] == kind]


async def text_of(api: httpx.AsyncClient, document: dict) -> str:
    response = await api.get(f"/documents/{document['id']}/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    return pdf_text(response.content)


def no_spaces(text: str) -> str:
    return "".join(text.split())


# ------------------------------------------------------------------ the mediation clock ------------------
class TestMediationClock:  # Reg 38
    async def test_before_acceptance_there_is_no_mediation_clock(self, api):
        case_id = await joint_case(api)
        assert (await case_of(api, case_id))["mediation_clock"] is None
        await ok(api, case_id, "submit-for-review")
        under_review = await case_of(api, case_id)
        assert under_review["mediation_clock"] is None
        assert {"review_reminder", "review_escalation"} <= set(kinds(under_review))  # never an acceptance

    async def test_while_awaiting_consent_the_consent_deadline_is_shown(self, api):  # Reg 31¶1, PML 17
        case = (await api.post("/cases", json=registration())).json()
        asked = await ok(api, case["id"], "request-consent", {"method": "letter"})
        waiting = await case_of(api, case["id"])
        assert waiting["status"] == "awaiting_consent" and waiting["mediation_clock"] is None
        assert kinds(waiting) == ["consent_expired"]
        asked_on = datetime.fromisoformat(asked["at"]).astimezone(SHANGHAI).date()
        expected = nth_working_day_after(asked_on, 5, await loaded_tables(api))  # 5 WD, local practice
        consent = deadline(waiting, "consent_expired")
        assert consent["due_on"] == expected.isoformat()
        assert datetime.fromisoformat(consent["at"]) == midnight_after(expected)
        assert consent["recipient_role"] == "staff" and consent["label"] == "对方同意期限"

    async def test_acceptance_starts_a_budget_of_30_working_days(self, api):
        case_id = await case_in_mediation(api)
        case = await case_of(api, case_id)
        clock = case["mediation_clock"]
        start = accepted_on(case)
        due = nth_working_day_after(start, 30, await loaded_tables(api))
        assert clock == {
            **clock,
            "started": True,
            "accepted_on": start.isoformat(),
            "budget_wd": 30,
            "total_wd": 30,
            "used_wd": 0,  # the acceptance day does not count (Civil Code 201)
            "remaining_wd": 30,
            "due_date": due.isoformat(),
            "paused": False,
            "pauses": [],
            "extensions": [],
        }
        assert datetime.fromisoformat(clock["deadline_at"]) == midnight_after(due)  # 24:00 Shanghai
        year = (await api.get(f"/calendar/years/{due.year}")).json()
        assert clock["provisional"] is year["provisional"] is case["provisional"]

    async def test_acceptance_arms_the_expiry_and_two_warnings(self, api):  # warn 5 WD and 1 WD before
        case_id = await case_in_mediation(api)
        case = await case_of(api, case_id)
        start, tables = accepted_on(case), await loaded_tables(api)
        due = nth_working_day_after(start, 30, tables)
        assert kinds(case) == ["deadline_warning", "deadline_warning", "deadline_expired"]  # earliest first
        expiry = deadline(case, "deadline_expired")
        assert expiry["due_on"] == due.isoformat() and expiry["at"] == case["mediation_clock"]["deadline_at"]
        # exact, it fails the case (the mediator is told); provisional, it holds the case and asks the director
        # and admins for the calendar (rev 2)
        assert expiry["label"] == "调解期限届满"
        assert expiry["recipient_role"] == ("director" if expiry["provisional"] else "mediator")
        assert "第三十八条" in expiry["message"]
        warnings = [d for d in case["deadlines"] if d["kind"] == "deadline_warning"]
        assert [datetime.fromisoformat(w["at"]) for w in warnings] == [
            midnight_after(nth_working_day_after(start, 25, tables)),
            midnight_after(nth_working_day_after(start, 29, tables)),
        ]
        assert all(w["due_on"] == due.isoformat() for w in warnings)

    async def test_the_acceptance_notice_is_issued_with_the_due_date(self, api):  # 受理通知书
        case_id = await joint_case(api)
        await ok(api, case_id, "submit-for-review")
        accepted = await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        assert len(accepted["document_ids"]) == 2
        notices = await documents_of(api, case_id, "acceptance_notice")
        assert {d["lang"] for d in notices} == {"zh", "en"}
        assert {d["id"] for d in notices} == set(accepted["document_ids"])
        due = date.fromisoformat((await case_of(api, case_id))["mediation_clock"]["due_date"])
        text = await text_of(api, next(d for d in notices if d["lang"] == "zh"))
        assert "受理通知书" in text
        assert f"{due.year}年{due.month}月{due.day}日" in text


# ------------------------------------------------------------------ appraisal ----------------------------
class TestAppraisal:  # Reg 34, 36, 38
    async def test_an_appraisal_commissioned_by_both_parties_pauses_the_clock(self, api):
        case_id = await case_in_mediation(api)
        started = await ok(api, case_id, "start-appraisal", APPRAISAL)
        assert started["status"] == "appraisal"
        assert started["allowed_events"] == ["abandon_appraisal", "amend_parties", "finish_appraisal", "link_respondent", "reassign_mediators",
                                             "terminate"]
        case = await case_of(api, case_id)
        clock = case["mediation_clock"]
        assert clock["paused"] is True
        assert clock["due_date"] is None and clock["deadline_at"] is None  # a paused clock has no due date
        assert clock["pauses"] == [
            {"started_on": datetime.fromisoformat(started["at"]).astimezone(SHANGHAI).date().isoformat(),
             "ended_on": None, "reason": clock["pauses"][0]["reason"]}
        ]
        assert "上海市某司法鉴定中心" in clock["pauses"][0]["reason"]
        # appraisal time does not count: no expiry, no warning; only the reminder to record its status (rev 2)
        assert [d["kind"] for d in case["deadlines"]] == ["appraisal_reminder"]

    async def test_the_committee_commissions_only_with_both_consents(self, api):  # Reg 34
        case_id = await case_in_mediation(api)
        seen = await history_length(api, case_id)
        for consents in [{}, {"patient_consent": True}, {"institution_consent": True}]:
            body = await refused(api, case_id, "start-appraisal",
                                 {**APPRAISAL, "commissioned_by": "committee", **consents}, 409)
            assert body["code"] == "rule_violated"
            assert "Reg 34" in body["detail"]
        case = await case_of(api, case_id)
        assert case["status"] == "in_mediation" and case["mediation_clock"]["paused"] is False
        assert await history_length(api, case_id) == seen  # nothing recorded
        both = {**APPRAISAL, "commissioned_by": "committee", "patient_consent": True,
                "institution_consent": True}
        assert (await ok(api, case_id, "start-appraisal", both))["status"] == "appraisal"

    async def test_the_appraisal_opinion_resumes_the_clock(self, api):  # Reg 36
        case_id = await case_in_mediation(api)
        due_before = (await case_of(api, case_id))["mediation_clock"]["due_date"]
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        finished = await ok(api, case_id, "finish-appraisal", OPINION)
        assert finished["status"] == "in_mediation"
        case = await case_of(api, case_id)
        clock = case["mediation_clock"]
        today = datetime.fromisoformat(finished["at"]).astimezone(SHANGHAI).date()
        assert clock["paused"] is False and clock["pauses"][0]["ended_on"] == today.isoformat()
        # paused and resumed on the acceptance day: no working day was consumed, none is lost
        if clock["pauses"][0]["started_on"] == clock["accepted_on"]:
            assert clock["due_date"] == due_before
        assert kinds(case) == ["deadline_warning", "deadline_warning", "deadline_expired"]
        assert deadline(case, "deadline_expired")["due_on"] == clock["due_date"]

    async def test_an_appraisal_may_happen_twice(self, api):  # DOMAIN.md edge case
        case_id = await case_in_mediation(api)
        for _ in range(2):
            await ok(api, case_id, "start-appraisal", APPRAISAL)
            await ok(api, case_id, "finish-appraisal", OPINION)
        clock = (await case_of(api, case_id))["mediation_clock"]
        assert len(clock["pauses"]) == 2 and all(p["ended_on"] for p in clock["pauses"])
        assert clock["due_date"] is not None and clock["paused"] is False

    async def test_an_appraisal_cannot_start_before_acceptance(self, api):
        case_id = await joint_case(api)
        body = await refused(api, case_id, "start-appraisal", APPRAISAL, 409)
        assert body["code"] == "illegal_transition"
        assert body["state"] == "registered"
        assert body["allowed_events"] == ["amend_parties", "link_respondent", "submit_for_review", "terminate"]  # a joint one

    async def test_finishing_an_appraisal_that_never_started_is_409(self, api):
        case_id = await case_in_mediation(api)
        body = await refused(api, case_id, "finish-appraisal", OPINION, 409)
        assert body["code"] == "illegal_transition" and body["state"] == "in_mediation"
        assert "finish_appraisal" not in body["allowed_events"]

    async def test_an_opinion_needs_its_findings(self, api):  # Reg 36: fault, causation, degree of liability
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        body = await refused(api, case_id, "finish-appraisal", {"medical_damage": True}, 422)
        fields = {e["field"] for e in body["errors"]}
        assert {"fault", "causation", "liability_degree"} <= fields


# ------------------------------------------------------------------ extension ----------------------------
class TestExtension:  # Reg 38
    async def test_an_extension_needs_the_director_s_approval(self, api):
        case_id = await case_in_mediation(api)
        without = {k: v for k, v in EXTENSION.items() if k != "approved_by"}
        body = await refused(api, case_id, "extend-deadline", without, 422)
        assert "approved_by" in [e["field"] for e in body["errors"]]

    @pytest.mark.parametrize("missing", ["patient_consent", "institution_consent"])
    async def test_an_extension_needs_both_parties_consent(self, api, missing):
        case_id = await case_in_mediation(api)
        seen = await history_length(api, case_id)
        body = await refused(api, case_id, "extend-deadline", {**EXTENSION, missing: False}, 409)
        assert body["code"] == "rule_violated"
        assert "Reg 38" in body["detail"]
        clock = (await case_of(api, case_id))["mediation_clock"]
        assert clock["total_wd"] == 30 and clock["extensions"] == []
        assert await history_length(api, case_id) == seen

    async def test_an_agreed_extension_lengthens_the_period(self, api):
        case_id = await case_in_mediation(api)
        before = await case_of(api, case_id)
        extended = await ok(api, case_id, "extend-deadline", EXTENSION)
        assert extended["status"] == "in_mediation"
        case = await case_of(api, case_id)
        clock = case["mediation_clock"]
        today = datetime.fromisoformat(extended["at"]).astimezone(SHANGHAI).date()
        due = nth_working_day_after(accepted_on(case), 45, await loaded_tables(api))
        assert clock["budget_wd"] == 30 and clock["total_wd"] == 45 and clock["remaining_wd"] == 45
        assert clock["extensions"] == [{"days": 15, "agreed_on": today.isoformat()}]
        assert clock["due_date"] == due.isoformat() > before["mediation_clock"]["due_date"]
        assert datetime.fromisoformat(clock["deadline_at"]) == midnight_after(due)
        assert deadline(case, "deadline_expired")["due_on"] == due.isoformat()  # the timer moved too
        assert kinds(case) == ["deadline_warning", "deadline_warning", "deadline_expired"]

    async def test_extensions_add_up(self, api):
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "extend-deadline", EXTENSION)
        await ok(api, case_id, "extend-deadline", {**EXTENSION, "extra_days": 5})
        case = await case_of(api, case_id)
        assert case["mediation_clock"]["total_wd"] == 50
        assert case["mediation_clock"]["due_date"] == nth_working_day_after(
            accepted_on(case), 50, await loaded_tables(api)).isoformat()

    async def test_an_extension_is_agreed_after_a_pause(self, api):  # DOMAIN.md edge case
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        await ok(api, case_id, "finish-appraisal", OPINION)
        await ok(api, case_id, "extend-deadline", EXTENSION)
        clock = (await case_of(api, case_id))["mediation_clock"]
        assert clock["total_wd"] == 45 and len(clock["pauses"]) == 1 and len(clock["extensions"]) == 1
        assert clock["due_date"] is not None

    async def test_no_extension_while_the_appraisal_pauses_the_clock(self, api):
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        body = await refused(api, case_id, "extend-deadline", EXTENSION, 409)
        assert body["code"] == "illegal_transition"
        assert body["state"] == "appraisal"
        assert body["allowed_events"] == ["abandon_appraisal", "amend_parties", "finish_appraisal", "link_respondent", "reassign_mediators",
                                          "terminate"]

    @pytest.mark.parametrize("extra_days", [0, -5, 121, 1.5, None])
    async def test_the_added_length_is_a_whole_positive_number_of_working_days(self, api, extra_days):
        case_id = await case_in_mediation(api)
        body = await refused(api, case_id, "extend-deadline", {**EXTENSION, "extra_days": extra_days}, 422)
        assert body["errors"][0]["field"] == "extra_days"


# ------------------------------------------------------------------ allowed events -----------------------
class TestAllowedEvents:
    async def test_the_clock_actions_are_offered_only_where_the_law_allows_them(self, api):
        case_id = await joint_case(api)

        async def allowed() -> list[str]:
            response = await api.get(f"/cases/{case_id}/allowed-events")
            assert response.status_code == 200
            return response.json()["allowed_events"]

        clock_actions = {"start_appraisal", "finish_appraisal", "extend_deadline",
                         "record_judicial_confirmation", "record_followup"}
        assert not clock_actions & set(await allowed())  # registered
        await ok(api, case_id, "submit-for-review")
        await ok(api, case_id, "accept", {"mediators": ["陈调解员"]})
        assert clock_actions & set(await allowed()) == {"start_appraisal", "extend_deadline"}
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        assert await allowed() == ["abandon_appraisal", "amend_parties", "finish_appraisal", "link_respondent", "reassign_mediators",
                                   "terminate"]
        await ok(api, case_id, "finish-appraisal", OPINION)
        await ok(api, case_id, "draft-agreement", agreement())
        assert clock_actions & set(await allowed()) == {"extend_deadline"}  # signing (Reg 38, rev 2)
        for signature in SIGNATURES:
            await ok(api, case_id, "sign", signature)
        assert clock_actions & set(await allowed()) == {"record_judicial_confirmation"}  # performance
        await ok(api, case_id, "record-payment", payment())
        await ok(api, case_id, "confirm-performance")
        assert clock_actions & set(await allowed()) == {"record_judicial_confirmation", "record_followup"}

    async def test_a_followup_before_performance_is_409(self, api):
        case_id = await case_in_mediation(api)
        body = await refused(api, case_id, "record-followup", FOLLOWUP, 409)
        assert body["code"] == "illegal_transition" and body["state"] == "in_mediation"


# ------------------------------------------------------------------ the agreement's clocks ---------------
class TestAgreementClocks:  # Reg 39, PML 31, 33
    TERM = {**agreement()["terms"][0], "deadline": None, "deadline_working_days": 10,
            "deadline_text": "协议生效之日起10个工作日内"}

    async def effective_case(self, api: httpx.AsyncClient) -> tuple[str, dict]:
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "draft-agreement", agreement(terms=[self.TERM]))
        for signature in SIGNATURES:
            last = await ok(api, case_id, "sign", signature)
        assert last["status"] == "performance"
        return case_id, last

    async def test_the_last_signature_starts_the_payment_and_judicial_clocks(self, api):
        case_id, last = await self.effective_case(api)
        case = await case_of(api, case_id)
        effective_on = datetime.fromisoformat(last["at"]).astimezone(SHANGHAI).date()
        assert case["effective_on"] == effective_on.isoformat()
        assert set(kinds(case)) == {"payment_due", "payment_overdue", "payment_prompt", "judicial_reminder",
                                    "judicial_window_closed"}
        assert "deadline_expired" not in kinds(case)  # the agreement is effective: the Reg 38 clock is done
        tables = await loaded_tables(api)

        pay_by = nth_working_day_after(effective_on, 10, tables)  # 协议生效之日起10个工作日内
        assert deadline(case, "payment_due")["due_on"] == pay_by.isoformat()
        assert datetime.fromisoformat(deadline(case, "payment_due")["at"]) == start_of(pay_by)
        assert datetime.fromisoformat(deadline(case, "payment_overdue")["at"]) == midnight_after(pay_by)
        assert datetime.fromisoformat(deadline(case, "payment_prompt")["at"]) == midnight_after(
            nth_working_day_after(pay_by, 5, tables))
        assert case["payment_overdue"] is False

        # PML 33: 30 calendar days; a last day off runs on to the next working day (Civil Code 203)
        window = effective_on + timedelta(days=30)
        while not is_working_day(window, tables):
            window += timedelta(days=1)
        closed = deadline(case, "judicial_window_closed")
        assert closed["due_on"] == window.isoformat()
        assert datetime.fromisoformat(closed["at"]) == midnight_after(window)
        assert datetime.fromisoformat(deadline(case, "judicial_reminder")["at"]) == start_of(
            window - timedelta(days=5))

    async def test_a_term_gives_its_deadline_as_a_date_or_as_working_days_not_both(self, api):  # PML 29
        case_id = await case_in_mediation(api)
        both = {**self.TERM, "deadline": "2026-12-31"}
        body = await refused(api, case_id, "draft-agreement", agreement(terms=[both]), 422)
        assert "not both" in body["detail"]

    async def test_an_application_for_judicial_confirmation_stops_the_judicial_reminders(self, api):  # PML 33
        case_id, _ = await self.effective_case(api)
        recorded = await ok(api, case_id, "record-judicial-confirmation",
                            {"applied": True, "applied_on": datetime.now(SHANGHAI).date().isoformat(),
                             "court": "上海市黄浦区人民法院", "result": "pending"})
        assert recorded["status"] == "performance"
        case = await case_of(api, case_id)
        assert set(kinds(case)) == {"payment_due", "payment_overdue", "payment_prompt"}

    async def test_an_application_names_its_court(self, api):  # PML 33, CPL 205
        case_id, _ = await self.effective_case(api)
        body = await refused(api, case_id, "record-judicial-confirmation", {"applied": True}, 422)
        assert "court" in body["detail"]
        body = await refused(api, case_id, "record-judicial-confirmation",
                             {"applied": False, "result": "confirmed"}, 422)
        assert "applied" in body["detail"]
        assert "judicial_window_closed" in kinds(await case_of(api, case_id))

    async def test_performance_then_the_followup_visit_and_its_record(self, api):  # PML 31¶2, 回访
        case_id, _ = await self.effective_case(api)
        await ok(api, case_id, "record-judicial-confirmation",
                 {"applied": True, "court": "上海市黄浦区人民法院", "result": "confirmed",
                  "ruled_on": datetime.now(SHANGHAI).date().isoformat()})
        paid_at = datetime.now(SHANGHAI).replace(microsecond=0)
        await ok(api, case_id, "record-payment", payment(paid_on=paid_at.date().isoformat()))
        settled = await ok(api, case_id, "confirm-performance")
        assert settled["status"] == "settled"
        case = await case_of(api, case_id)
        assert kinds(case) == ["followup_due"]  # 30 days after performance
        assert deadline(case, "followup_due")["due_on"] == (paid_at.date() + timedelta(days=30)).isoformat()

        visited = await ok(api, case_id, "record-followup", FOLLOWUP)
        assert visited["status"] == "settled" and len(visited["document_ids"]) == 2
        assert (await case_of(api, case_id))["deadlines"] == []  # the visit is done
        records = await documents_of(api, case_id, "followup_record")
        assert {d["lang"] for d in records} == {"zh", "en"}
        assert {d["id"] for d in records} == set(visited["document_ids"])
        zh = await text_of(api, next(d for d in records if d["lang"] == "zh"))
        assert "回访记录" in zh and "周调解员" in zh and "王大明" in zh
        en = await text_of(api, next(d for d in records if d["lang"] == "en"))
        assert "Follow-upVisitRecord" in en and "周调解员" in en
        assert (await ok(api, case_id, "archive"))["status"] == "archived"


# ------------------------------------------------------------------ notifications ------------------------
class TestNotifications:
    async def test_the_outbox_answers_with_a_page(self, api):
        body = (await api.get("/notifications")).json()
        assert set(body) >= {"items", "limit", "has_more", "next_cursor", "estimated_total"}
        assert len(body["items"]) <= 50 and body["limit"] == 50 and body["has_more"] == bool(body["next_cursor"])

    async def test_a_fresh_case_has_no_notifications_yet(self, api):  # its timers are days away
        case_id = await case_in_mediation(api)
        for path, params in [(f"/cases/{case_id}/notifications", {}),
                             ("/notifications", {"case_id": case_id})]:
            response = await api.get(path, params=params)
            assert response.status_code == 200, response.text
            assert response.json()["items"] == [] and response.json()["has_more"] is False

    async def test_the_outbox_filters_by_kind_and_role(self, api):
        params = {"kind": "deadline_warning", "recipient_role": "mediator"}
        response = await api.get("/notifications", params=params)
        assert response.status_code == 200
        assert all(n["kind"] == "deadline_warning" and n["recipient_role"] == "mediator"
                   for n in response.json()["items"])

    async def test_an_unknown_case_is_404(self, api):
        for path, params in [("/cases/doesnotexist/notifications", {}),
                             ("/notifications", {"case_id": "nope"})]:
            response = await api.get(path, params=params)
            assert response.status_code == 404, path
            assert response.json()["code"] == "not_found"

    @pytest.mark.parametrize("params", [{"kind": "birthday"}, {"recipient_role": "patient"}, {"limit": 0},
                                        {"case_id": "../etc"}])
    async def test_a_bad_filter_is_422(self, api, params):
        response = await api.get("/notifications", params=params)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_payload"


# ------------------------------------------------------------------ endings and their notices -----------
class TestNoticesOfTheEndings:
    async def test_termination_issues_the_termination_notice(self, api):  # PML 23(2), PML 26
        case_id = await case_in_mediation(api)
        ended = await ok(api, case_id, "terminate", WITHDRAWAL)
        assert ended["status"] == "terminated" and len(ended["document_ids"]) == 2
        notices = await documents_of(api, case_id, "termination_notice")
        assert {d["lang"] for d in notices} == {"zh", "en"}
        text = await text_of(api, next(d for d in notices if d["lang"] == "zh"))
        assert "终止调解告知书" in text and "患方书面撤回调解申请" in text
        assert "《人民调解法》第二十六条" in text  # the other routes
        assert "第二十三条" in text  # the ground
        # rev 2: which party withdrew, who, and how
        assert "撤回方患方：王大明" in text and "书面撤回申请" in text
        case = await case_of(api, case_id)
        assert case["deadlines"] == []  # a closed case has no pending deadline

    async def test_termination_while_the_appraisal_runs(self, api):  # Reg 31¶4
        case_id = await case_in_mediation(api)
        await ok(api, case_id, "start-appraisal", APPRAISAL)
        ended = await ok(api, case_id, "terminate", COURT_ACCEPTED)
        assert ended["status"] == "terminated"
        notices = await documents_of(api, case_id, "termination_notice")
        assert len(notices) == 2
        # rev 2: the body that accepted the dispute, its case number and the day it did
        text = await text_of(api, next(d for d in notices if d["lang"] == "zh"))
        assert "受理机关上海市黄浦区人民法院" in text and "受理案号（2026）沪0101民初12345号" in text
        assert "受理日期2026年11月18日" in text

    async def test_a_termination_without_its_facts_is_422(self, api):  # PML 23(2), Reg 31¶4 (rev 2)
        case_id = await case_in_mediation(api)
        for body, missing in (({"ground": "party_withdrew"}, "withdrawn_by_side"),
                              ({"ground": "court_accepted", "body": "某区人民法院"}, "body_case_number")):
            response = await api.post(f"/cases/{case_id}/terminate", json=body)
            assert response.status_code == 422 and missing in response.text, response.text

    async def test_rejection_issues_the_rejection_notice_with_its_reasons(self, api):  # Reg 31¶4
        case_id = await joint_case(api)
        await ok(api, case_id, "submit-for-review")
        rejected = await ok(api, case_id, "reject", {"reasons": [6, 8], "reason_text": "患方已于同日向法院提起诉讼"})
        assert rejected["status"] == "rejected" and len(rejected["document_ids"]) == 2
        notices = await documents_of(api, case_id, "rejection_notice")
        assert {d["lang"] for d in notices} == {"zh", "en"}
        text = await text_of(api, next(d for d in notices if d["lang"] == "zh"))
        assert "不予受理通知书" in text
        assert "第6、8项" in text  # the ticked reasons
        assert no_spaces("已向人民法院起诉或人民法院已经受理") in text  # reason 6
        assert "患方已于同日向法院提起诉讼" in text  # reason 8, in words
        assert (await case_of(api, case_id))["mediation_clock"] is None

    async def test_declared_failure_issues_the_failure_notice(self, api):  # PML 26
        case_id = await case_in_mediation(api)
        failed = await ok(api, case_id, "declare-failed", {"reason": "双方对赔偿数额分歧过大，无法达成一致"})
        assert failed["status"] == "failed" and len(failed["document_ids"]) == 2
        notices = await documents_of(api, case_id, "failure_notice")
        assert {d["lang"] for d in notices} == {"zh", "en"}
        text = await text_of(api, next(d for d in notices if d["lang"] == "zh"))
        assert "调解不成告知书" in text and "双方对赔偿数额分歧过大" in text
        assert "《人民调解法》第二十六条" in text
        case = await case_of(api, case_id)
        assert case["deadlines"] == []
        assert case["mediation_clock"]["due_date"] is not None  # the ledger is kept
