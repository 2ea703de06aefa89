"""GET /worklist through the API, as production runs it (logged-in accounts, no dev-mode headers), on SQLite and on
PostgreSQL: each role's open tasks on the cases it reaches (docs/worklist.md), with the day each is due counted on
the working-day calendar, most urgent first; bad input is a 4xx, never a 500.

Cases are brought to their state through the API (their workflows run), or, for a deadline already past, written
as their workflow writes their row (domain/projection.py) without one. Expected days come from tests/oracle.py,
which shares no code with domain/clock.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.main import ROUTERS
from core.db import SessionFactory, transaction
from domain.clock import MediationClock, WorkingDayCalendar
from domain.deadlines import CaseClocks, PaymentTerm
from domain.payloads import CaseCreate
from domain.policy import ClockPolicy
from domain.projection import columns, project
from domain.time import SHANGHAI
from models import repo
from models.tables import Case, CaseMediator
from tests.api.test_calendar_batch import fresh_2027  # noqa: F401 - a fixture
from tests.api.test_expert_consultation_api import QUESTION, eventually
from tests.api.test_role_matrix import add_account, log_in, production_api  # noqa: F401 - a fixture
from tests.factories import agreement, linked_to
from tests.oracle import is_working_day, nth_working_day_after
from tests.pools import City, make_city

POLICY = ClockPolicy()


def today() -> date:
    return datetime.now(SHANGHAI).date()


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end], by the oracle's walk."""
    return sum(is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))


def working_days_before(day: date, n: int) -> date:
    """The day n working days before `day` (the oracle's walk, backwards)."""
    while n:
        day -= timedelta(days=1)
        n -= is_working_day(day)
    return day


@dataclass
class Committee:
    """A committee of its own for the test, with an account per role: intake, the director, the mediator cases are
    assigned to, and another mediator of the same committee."""

    api: httpx.AsyncClient
    sessions: SessionFactory
    city: City
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)

    async def case(self, steps: list[tuple[str, str, dict[str, Any]]], **changes: Any) -> str:
        """A case of the committee brought through `steps` (role, action, body)."""
        body = linked_to(self.city.respondent, committee_id=self.city.committee_id, **changes)
        response = await self.api.post("/cases", json=body, headers=self.headers["intake"])
        assert response.status_code == 201, response.text
        case_id = response.json()["id"]
        for role, action, payload in steps:
            answer = await self.api.post(f"/cases/{case_id}/{action}", json=payload, headers=self.headers[role])
            assert answer.status_code == 200, (action, answer.text)
        return case_id

    async def worklist(self, role: str, **params: Any) -> dict[str, Any]:
        response = await self.api.get("/worklist", params=params, headers=self.headers[role])
        assert response.status_code == 200, response.text
        return response.json()

    async def account(self, role: str, name: str | None = None) -> dict[str, str]:
        """An account of `role` in the committee (an admin: in its city), logged in; its headers under `name`."""
        username = f"{name or role}-{self.city.committee_id}".replace(" ", "-")
        add_account(self.sessions, username, role, **({"city": self.city.name} if role == "admin"
                                                      else {"committee_id": self.city.committee_id}))
        self.usernames[name or role] = username
        self.headers[name or role] = await log_in(self.api, username)
        return self.headers[name or role]

    def accept(self) -> tuple[str, str, dict[str, Any]]:
        return ("director", "accept", {"mediator_ids": [self.usernames["mediator"]]})

    def put_case(self, clocks: CaseClocks, *, fired: frozenset[str] = frozenset(), payment_overdue: bool = False,
                 signatures: dict[str, Any] | None = None) -> str:
        """A case row as its workflow writes it, assigned to the committee's mediator, with no workflow."""
        case_id = f"wl-{uuid.uuid4().hex[:12]}"
        body = CaseCreate.model_validate(linked_to(self.city.respondent, committee_id=self.city.committee_id,
                                                   application_type="joint", applicant_side=None))
        at = datetime.now(SHANGHAI)
        with transaction(self.sessions) as session:
            repo.create_case(session=session, case_id=case_id, registration=body.model_dump(mode="json"), at=at,
                             actor={"id": "t", "name": "测试", "role": "staff"})
            case = session.get(Case, case_id)
            assert case is not None
            projected = project(clocks, fired=fired, calendar=repo.working_day_calendar(session=session),
                                policy=POLICY, hold_provisional=True, payment_overdue=payment_overdue)
            for name, value in columns(projected).items():
                setattr(case, name, value)
            case.status, case.signatures = clocks.status, signatures or {}
            session.add(case)
            session.add(CaseMediator(case_id=case_id, user_id=self.usernames["mediator"], registered_at=at))
        return case_id


@pytest.fixture
async def committee(production_api: httpx.AsyncClient, sessions: SessionFactory) -> Committee:  # noqa: F811
    """A committee of a city of its own (no expert in its pool), with its intake, director and mediator."""
    committee = Committee(api=production_api, sessions=sessions, city=make_city(sessions))
    for role in ("intake", "director", "mediator"):
        await committee.account(role)
    return committee


def tasks(worklist: dict[str, Any], case_id: str | None = None) -> list[dict[str, Any]]:
    return [t for t in worklist["items"] if case_id is None or t["case_id"] == case_id]


def kinds(worklist: dict[str, Any]) -> list[tuple[str, str]]:
    return [(t["kind"], t["case_id"]) for t in worklist["items"]]


JOINT = {"application_type": "joint", "applicant_side": None}
REVIEW = ("intake", "submit-for-review", {})


class TestEachRoleSeesItsOwnTasks:
    async def test_intake_chases_consent_by_its_deadline(self, committee):  # Reg 31¶1, PML 17
        waiting = await committee.case([("intake", "request-consent", {"method": "letter"})])
        listed = await committee.worklist("intake")
        [task] = tasks(listed)
        due = nth_working_day_after(today(), POLICY.consent_wd)
        assert (task["kind"], task["case_id"], task["due_on"]) == ("consent", waiting, due.isoformat())
        assert task["working_days_left"] == 5 and task["overdue"] is False and task["provisional"] is False
        assert task["action"] == {"method": "POST", "path": f"/cases/{waiting}/record-consent",
                                  "event": "record_consent"}
        assert task["parties"] == {"patient_side": ["王小明"], "institution": "上海市某区人民医院"}
        assert task["case_number"] and task["case_status"] == "awaiting_consent"
        assert "《人民调解法》第十七条" in task["label"] and "PML 17" in task["label_en"]
        assert listed["by_kind"] == {"consent": 1} and listed["total"] == 1
        assert listed["today"] == today().isoformat() and listed["within"] == 5
        assert listed["horizon"] == nth_working_day_after(today(), 5).isoformat()

    async def test_the_director_decides_reviews_and_seals_agreements(self, committee):  # Reg 39
        review = await committee.case([REVIEW], **JOINT)
        signing = await committee.case([REVIEW, committee.accept(), ("mediator", "draft-agreement", agreement()),
                                        ("mediator", "sign", {"signer": "patient", "signed_by": "王大明"})], **JOINT)
        listed = await committee.worklist("director")
        assert sorted(kinds(listed)) == sorted([("review", review), ("seal", signing)])
        [decide] = tasks(listed, review)
        assert decide["due_on"] == nth_working_day_after(today(), POLICY.review_reminder_wd).isoformat()
        assert decide["action"]["path"] == f"/cases/{review}/accept"
        assert [a["path"] for a in decide["alternatives"]] == [f"/cases/{review}/reject"]
        [seal] = tasks(listed, signing)
        assert seal["action"] == {"method": "POST", "path": f"/cases/{signing}/sign", "event": "sign"}
        case = (await committee.api.get(f"/cases/{signing}", headers=committee.headers["director"])).json()
        assert seal["due_on"] == case["mediation_clock"]["due_date"]  # Reg 38: by the mediation deadline
        assert listed["by_kind"] == {"review": 1, "seal": 1, "panel_seat": 0}

        mediator = await committee.worklist("mediator")
        [collect] = tasks(mediator, signing)
        assert collect["kind"] == "signatures" and collect["label"].startswith("协议签署：待医方、调解员签署")
        assert collect["due_on"] == seal["due_on"]

        # once the seal and the other signatures are recorded, neither is a task any more
        for signer, by, role in (("institution", "上海市某区人民医院", "mediator"), ("mediator", "陈调解员", "mediator"),
                                 ("committee_seal", "赵主任", "director")):
            response = await committee.api.post(f"/cases/{signing}/sign", json={"signer": signer, "signed_by": by},
                                                 headers=committee.headers[role])
            assert response.status_code == 200, response.text
        assert tasks(await committee.worklist("director"), signing) == []
        assert all(t["kind"] != "signatures" for t in tasks(await committee.worklist("mediator"), signing))

    async def test_the_mediation_deadline_is_listed_once_within_the_window(self, committee):  # Reg 38
        mediating = await committee.case([REVIEW, committee.accept()], **JOINT)
        case = (await committee.api.get(f"/cases/{mediating}", headers=committee.headers["mediator"])).json()
        due = date.fromisoformat(case["mediation_clock"]["due_date"])
        assert due == nth_working_day_after(today(), 30)
        assert tasks(await committee.worklist("mediator"), mediating) == []  # 30 WD away: not within 5
        assert tasks(await committee.worklist("mediator", within=29), mediating) == []
        [task] = tasks(await committee.worklist("mediator", within=30), mediating)
        assert (task["kind"], task["due_on"], task["working_days_left"]) == ("mediation_deadline", due.isoformat(), 30)
        assert task["provisional"] is case["mediation_clock"]["provisional"]
        assert "第三十八条" in task["label"] and task["action"]["path"] == f"/cases/{mediating}/draft-agreement"

    async def test_others_see_nothing_of_these_cases(self, committee):  # Reg 42
        await committee.case([("intake", "request-consent", {"method": "letter"})])
        await committee.case([REVIEW], **JOINT)
        signing = await committee.case([REVIEW, committee.accept(), ("mediator", "draft-agreement", agreement())],
                                       **JOINT)
        assert kinds(await committee.worklist("mediator")) == [("signatures", signing)]
        await committee.account("mediator", "other mediator")
        assert tasks(await committee.worklist("other mediator")) == []  # not assigned to them
        elsewhere = make_city(committee.sessions)
        add_account(committee.sessions, f"director-{elsewhere.committee_id}", "director",
                    committee_id=elsewhere.committee_id)
        stranger = await log_in(committee.api, f"director-{elsewhere.committee_id}")
        response = await committee.api.get("/worklist", headers=stranger)
        assert response.status_code == 200 and response.json()["items"] == [] and response.json()["total"] == 0


class TestDeadlinesPassed:
    """Rows as their workflow writes them, with deadlines already past: a payment overdue (PML 31), a follow-up due,
    a mediation deadline within the window (Reg 38)."""

    async def test_overdue_first_then_by_day(self, committee):
        now = today()
        term_due = working_days_before(now, 3)
        effective = term_due - timedelta(days=20)
        fired = frozenset(f"{kind}:0:{term_due}" for kind in ("payment_due", "payment_overdue", "payment_prompt"))
        paying = committee.put_case(CaseClocks(
            status="performance", entered_on=effective, mediation=MediationClock(30).start(effective - timedelta(days=40)),
            effective_on=effective, judicial_applied=True,
            payments=(PaymentTerm(0, "医方一次性支付医疗费等各项损失", "86500.50", term_due),)), fired=fired, payment_overdue=True)
        performed = now - timedelta(days=POLICY.followup_days + 2)
        visiting = committee.put_case(CaseClocks(
            status="settled", entered_on=performed, mediation=MediationClock(30).start(performed - timedelta(days=60)),
            effective_on=performed - timedelta(days=10), performed_on=performed, judicial_applied=True),
            fired=frozenset({f"followup_due:{performed + timedelta(days=POLICY.followup_days)}"}))
        accepted = working_days_before(now, 27)
        closing = committee.put_case(CaseClocks(status="in_mediation", entered_on=accepted,
                                                mediation=MediationClock(30).start(accepted)))

        listed = await committee.worklist("mediator")
        assert kinds(listed) == [("payment", paying), ("followup", visiting), ("mediation_deadline", closing)]
        payment, followup, deadline = listed["items"]
        assert payment["overdue"] and payment["due_on"] == term_due.isoformat()
        assert payment["working_days_left"] == -max(1, working_days_between(term_due, now))
        assert payment["when"] == "overdue" and payment["label"].startswith("协议第1项（医方一次性支付医疗费等各项损失）已逾履行期限")
        assert payment["action"]["path"] == f"/cases/{paying}/record-payment"
        assert followup["overdue"] and followup["action"]["path"] == f"/cases/{visiting}/record-followup"
        assert deadline["due_on"] == nth_working_day_after(accepted, 30).isoformat()
        assert deadline["working_days_left"] == working_days_between(now, date.fromisoformat(deadline["due_on"]))
        assert not deadline["overdue"]
        assert listed["by_when"]["overdue"] == 2 and sum(listed["by_when"].values()) == listed["total"] == 3

        overdue = await committee.worklist("mediator", when="overdue")
        assert kinds(overdue) == kinds(listed)[:2] and overdue["total"] == 3  # the counts ignore the filters
        only = await committee.worklist("mediator", kind=["followup", "payment"])
        assert [k for k, _ in kinds(only)] == ["payment", "followup"]
        assert tasks(await committee.worklist("mediator", within=2), closing) == []

    @pytest.mark.usefixtures("fresh_2027")
    async def test_a_deadline_reaching_an_unknown_year_is_provisional(self, committee):  # rev 2
        accepted = working_days_before(date(2027, 1, 8), 29)
        case_id = committee.put_case(CaseClocks(status="in_mediation", entered_on=accepted,
                                                mediation=MediationClock(30).start(accepted)))
        listed = await committee.worklist("mediator", within=60)
        [task] = tasks(listed, case_id)
        assert task["provisional"] is True and "（暂定）" in task["label"] and "(provisional)" in task["label_en"]


class TestUnfilledPanelSeats:
    async def test_a_seat_the_pool_could_not_fill_is_the_mediators_and_the_directors(self, committee):  # Reg 33, 35
        case_id = await committee.case([REVIEW, committee.accept()], **JOINT)
        response = await committee.api.post(f"/cases/{case_id}/request-consultation",
                                             json={"specialties": ["law"], "question": QUESTION},
                                             headers=committee.headers["mediator"])
        assert response.status_code == 200, response.text
        panel_id = response.json()["panel_id"]

        async def unfilled() -> bool:
            return bool(tasks(await committee.worklist("director"), case_id))

        await eventually(unfilled, "the seat left unfilled")
        for role in ("director", "mediator"):
            [task] = [t for t in tasks(await committee.worklist(role), case_id) if t["kind"] == "panel_seat"]
            assert task["action"] == {"method": "POST", "path": f"/panels/{panel_id}/slots/0/redraw", "event": None}
            assert task["due_on"] is None and task["when"] == "undated" and "（法学）" in task["label"]


class TestTheList:
    async def test_pages_follow_one_another_in_the_same_order(self, committee):
        for _ in range(3):
            await committee.case([("intake", "request-consent", {"method": "letter"})])
        whole = await committee.worklist("intake")
        seen, cursor = [], None
        while True:
            page = await committee.worklist("intake", limit=1, **({"cursor": cursor} if cursor else {}))
            seen += [t["key"] for t in page["items"]]
            assert page["total"] == 3
            if not page["has_more"]:
                assert page["next_cursor"] is None
                break
            cursor = page["next_cursor"]
        assert seen == [t["key"] for t in whole["items"]] and len(seen) == 3

    async def test_every_action_is_an_endpoint_of_the_api(self, committee):
        await committee.case([REVIEW], **JOINT)
        await committee.case([REVIEW, committee.accept(), ("mediator", "draft-agreement", agreement())], **JOINT)
        listed = [*(await committee.worklist("director"))["items"], *(await committee.worklist("mediator"))["items"]]
        routes = [route for router in ROUTERS for route in router.routes]
        actions = [a for t in listed for a in (t["action"], *t["alternatives"])]
        assert len(actions) >= 4
        for action in actions:
            assert any(action["method"] in route.methods and route.path_regex.match(action["path"])
                       for route in routes), action


class TestBadInput:
    async def test_each_bad_parameter_is_a_clear_422(self, committee):
        for params in ({"within": -1}, {"within": 61}, {"within": "five"}, {"kind": "nonsense"},
                       {"when": "yesterday"}, {"limit": 0}, {"limit": 501}, {"cursor": "not-a-cursor"}):
            response = await committee.api.get("/worklist", params=params, headers=committee.headers["mediator"])
            assert response.status_code == 422, (params, response.text)
            assert response.json()["code"] in ("invalid_payload", "invalid_cursor") and response.json()["detail"]

    async def test_a_kind_of_another_role_is_named_as_such(self, committee):
        response = await committee.api.get("/worklist", params={"kind": "review"}, headers=committee.headers["intake"])
        assert response.status_code == 422
        assert "review" in response.json()["detail"] and "consent" in response.json()["detail"]

    async def test_a_cursor_of_another_list_is_refused(self, committee):
        for _ in range(2):
            await committee.case([], **JOINT)
        cases = (await committee.api.get("/cases", params={"limit": 1}, headers=committee.headers["intake"])).json()
        response = await committee.api.get("/worklist", params={"cursor": cases["next_cursor"]},
                                            headers=committee.headers["intake"])
        assert response.status_code == 422 and response.json()["code"] == "invalid_cursor"

    async def test_roles_without_a_worklist_are_refused(self, committee):
        for role in ("admin", "auditor"):
            response = await committee.api.get("/worklist", headers=await committee.account(role))
            assert response.status_code == 403 and response.json()["code"] == "forbidden", role


async def test_dev_mode_stands_in_for_every_role(api):
    response = await api.get("/worklist", params={"within": 0})
    assert response.status_code == 200, response.text
    assert set(response.json()["by_kind"]) == {
        "review", "consent", "signatures", "seal", "mediation_deadline", "appraisal", "payment",
        "judicial_confirmation", "followup", "panel_seat"}


def test_the_calendar_of_the_oracle_and_the_products_agree_on_the_window():
    now = today()
    assert WorkingDayCalendar().add_working_days(now, 5).date == nth_working_day_after(now, 5)
