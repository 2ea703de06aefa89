"""Every list a page at a time (models/paging.py): a cursor walks every row once, in order, under the filters; a
cursor that no page gave is 422; no page counts exactly, an estimate on request; a party's name, or its beginning,
found through the names' index — two-character Chinese names included."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update

from core.db import SessionFactory, transaction
from models import repo
from models.tables import Case, CaseMediator, Committee
from tests.factories import registration

STAFF = {"X-Actor-Id": "staff-paging", "X-Actor-Role": "staff"}
ADMIN = {"X-Actor-Id": "admin-paging", "X-Actor-Role": "admin"}
ACTOR = {"id": "staff-paging", "name": "登记员", "role": "staff"}
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def a_committee(sessions: SessionFactory) -> str:
    """A committee of the test's own: its list holds only what the test registers."""
    committee_id = f"c{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        repo.save_committee(session=session, committee=Committee(
            id=committee_id, name=f"测试医调委{committee_id}", short_name="测", city="上海市"))
    return committee_id


def register(sessions: SessionFactory, committee_id: str, at: datetime, *, patient: str = "王小明",
             deceased: bool = False, **changes: Any) -> str:
    """A case written as the workflow's first activity writes it, registered at `at`."""
    body = registration(committee_id=committee_id, **changes)
    body["patient"].update(name=patient, **({"deceased": True} if deceased else {}))
    case_id = uuid.uuid4().hex
    with transaction(sessions) as session:
        repo.create_case(session=session, case_id=case_id, registration=body, at=at, actor=ACTOR)
    return case_id


async def walk(api: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None,
               **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor; each page checked against what comes after it."""
    pages, cursor = [], None
    while True:
        response = await api.get(path, params={**params, **({"cursor": cursor} if cursor else {})},
                                 headers=headers or {})
        assert response.status_code == 200, response.text
        page = response.json()
        assert "total" not in page and "offset" not in page
        pages.append(page)
        assert page["has_more"] == (page["next_cursor"] is not None)
        if not page["has_more"]:
            return pages
        assert len(page["items"]) == page["limit"]
        cursor = page["next_cursor"]


def ids(pages: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page["items"]]


def newest_first(cases: dict[str, datetime]) -> list[str]:
    return [case_id for case_id, _ in sorted(cases.items(), key=lambda c: (c[1], c[0]), reverse=True)]


@pytest.fixture
def committee(sessions: SessionFactory) -> str:
    return a_committee(sessions)


@pytest.fixture
def thirteen(sessions: SessionFactory, committee: str) -> dict[str, datetime]:
    """13 cases, three of them registered at the same instant (their ids order them)."""
    times = [T0 + timedelta(minutes=i) for i in range(10)] + [T0 + timedelta(minutes=4)] * 3
    return {register(sessions, committee, at): at for at in times}


class TestACursorWalksEveryRowOnce:
    async def test_newest_first_each_case_once_ties_by_id(self, api, committee, thirteen):
        pages = await walk(api, "/cases", committee_id=committee, limit=4)
        assert ids(pages) == newest_first(thirteen)
        assert [len(p["items"]) for p in pages] == [4, 4, 4, 1]
        assert pages[-1]["next_cursor"] is None and not pages[-1]["has_more"]

    async def test_a_last_page_that_is_exactly_full_says_there_is_no_more(self, api, sessions, committee):
        for minute in range(4):
            register(sessions, committee, T0 + timedelta(minutes=minute))
        pages = await walk(api, "/cases", committee_id=committee, limit=2)
        assert [len(p["items"]) for p in pages] == [2, 2]
        assert pages[-1]["has_more"] is False and pages[-1]["next_cursor"] is None

    async def test_a_case_registered_meanwhile_shifts_no_later_page(self, api, sessions, committee, thirteen):
        first = (await api.get("/cases", params={"committee_id": committee, "limit": 5})).json()
        register(sessions, committee, T0 + timedelta(hours=1))  # newer than all: it belongs before page one
        rest = await walk(api, "/cases", committee_id=committee, limit=5, cursor=first["next_cursor"])
        assert [c["id"] for c in first["items"]] + ids(rest) == newest_first(thirteen)

    async def test_filters_hold_on_every_page(self, api, sessions, committee, thirteen):
        waiting = list(thirteen)[::2]
        with transaction(sessions) as session:
            session.execute(update(Case).where(Case.id.in_(waiting)).values(status="awaiting_consent"))
        pages = await walk(api, "/cases", committee_id=committee, status="awaiting_consent", limit=2)
        assert ids(pages) == [i for i in newest_first(thirteen) if i in waiting]
        assert {c["status"] for p in pages for c in p["items"]} == {"awaiting_consent"}
        later = await walk(api, "/cases", committee_id=committee, limit=3,
                           registered_from="2026-11-02", registered_to="2026-11-02")
        assert ids(later) == newest_first(thirteen)  # 09:00-09:09 in Shanghai

    async def test_a_page_holds_the_summary(self, api, committee, thirteen):
        item = (await api.get("/cases", params={"committee_id": committee, "limit": 1})).json()["items"][0]
        assert set(item) == {"id", "number", "committee_id", "status", "status_label", "patient_name",
                             "institution_name", "claim_amount", "registered_at", "updated_at", "due_date",
                             "due_provisional", "payment_overdue", "next_deadline"}
        assert item["status_label"] == "已登记" and item["claim_amount"] == "120000.00"
        assert item["registered_at"] == "2026-11-02T09:09:00+08:00"

    async def test_a_deprecated_offset_still_skips_rows(self, api, committee, thirteen):
        page = (await api.get("/cases", params={"committee_id": committee, "limit": 3, "offset": 2})).json()
        assert [c["id"] for c in page["items"]] == newest_first(thirteen)[2:5]
        after = (await api.get("/cases", params={"committee_id": committee, "limit": 20,
                                                 "cursor": page["next_cursor"]})).json()
        assert [c["id"] for c in after["items"]] == newest_first(thirteen)[5:]


class TestDueDatesAndMediators:
    async def test_due_within_a_range(self, api, sessions, committee, thirteen):
        due = dict(zip(thirteen, [date(2026, 12, 1) + timedelta(days=i) for i in range(13)], strict=True))
        with transaction(sessions) as session:
            for case_id, day in due.items():
                session.execute(update(Case).where(Case.id == case_id).values(due_date=day))
        pages = await walk(api, "/cases", committee_id=committee, due_from="2026-12-03", due_to="2026-12-05",
                           limit=2)
        assert set(ids(pages)) == {c for c, day in due.items() if date(2026, 12, 3) <= day <= date(2026, 12, 5)}

    async def test_the_cases_of_a_mediator(self, api, sessions, committee, thirteen):
        mine = list(thirteen)[3:6]
        with transaction(sessions) as session:
            for case_id in mine:
                session.add(CaseMediator(case_id=case_id, user_id="med-paging", registered_at=thirteen[case_id]))
        pages = await walk(api, "/cases", committee_id=committee, mediator_id="med-paging", limit=2)
        assert ids(pages) == [i for i in newest_first(thirteen) if i in mine]


class TestACursorNoPageGaveIs422:
    @staticmethod
    def bad(response: httpx.Response) -> str:
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "invalid_cursor" and body["errors"][0]["field"] == "cursor"
        return body["detail"]

    async def test_altered_cut_short_or_not_a_cursor(self, api, committee, thirteen):
        cursor = (await api.get("/cases", params={"committee_id": committee, "limit": 2})).json()["next_cursor"]
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        raw[12] ^= 0x01  # one bit of the time
        altered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        for wrong in (altered, cursor[:-3], "abc", "!!!!", "e30", cursor + "A"):
            detail = self.bad(await api.get("/cases", params={"committee_id": committee, "cursor": wrong}))
            assert "next_cursor" in detail

    async def test_a_cursor_of_another_list(self, api, committee, thirteen):
        cursor = (await api.get("/cases", params={"committee_id": committee, "limit": 2})).json()["next_cursor"]
        detail = self.bad(await api.get("/notifications", params={"cursor": cursor}))
        assert "'cases'" in detail and "'notifications'" in detail

    async def test_a_cursor_too_long_is_refused_before_anything_is_read(self, api):
        response = await api.get("/cases", params={"cursor": "A" * 2000})
        assert response.status_code == 422 and "cursor" in [e["field"] for e in response.json()["errors"]]


class TestPartyNames:
    @pytest.fixture
    def named(self, sessions: SessionFactory, committee: str) -> dict[str, str]:
        names = ["王芳", "王芳芳", "王小明", "李芳", "汪芳", "Ｗａｎｇ Fang"]
        found = {name: register(sessions, committee, T0 + timedelta(minutes=i), patient=name,
                                patient_representatives=[])  # the example's 王大明 would be found by 王
                 for i, name in enumerate(names)}
        found["heir"] = register(sessions, committee, T0 + timedelta(minutes=30), patient="张某", deceased=True,
                                 patient_representatives=[{"name": "王 芳", "relation": "患者之女", "role": "relative"}])
        return found

    async def search(self, api: httpx.AsyncClient, committee: str, **params: Any) -> set[str]:
        return set(ids(await walk(api, "/cases", committee_id=committee, limit=2, **params)))

    async def test_a_two_character_name_exactly(self, api, committee, named):
        found = await self.search(api, committee, party="王芳", party_match="exact")
        assert found == {named["王芳"], named["heir"]}  # the heir 王 芳 is written with a space

    async def test_a_name_as_its_beginning(self, api, committee, named):
        assert await self.search(api, committee, party="王芳") == {named["王芳"], named["王芳芳"], named["heir"]}
        assert await self.search(api, committee, party="王") == {
            named["王芳"], named["王芳芳"], named["王小明"], named["heir"]}
        assert await self.search(api, committee, party="芳") == set()  # a beginning, not a part

    async def test_spaces_and_full_width_letters_do_not_matter(self, api, committee, named):
        assert await self.search(api, committee, party=" wang fang ") == {named["Ｗａｎｇ Fang"]}
        assert await self.search(api, committee, party="王 芳", party_match="exact") == {
            named["王芳"], named["heir"]}

    async def test_the_institution_is_a_party_too(self, api, committee, named):
        assert await self.search(api, committee, party="上海市某区") == set(named.values())

    async def test_wildcards_are_taken_literally(self, api, committee, named):
        assert await self.search(api, committee, party="王%") == set()
        assert await self.search(api, committee, party="_芳") == set()

    async def test_a_beginning_many_share_is_read_the_other_way_with_the_same_pages(self, api, committee, named,
                                                                                     monkeypatch):
        sparse = ids(await walk(api, "/cases", committee_id=committee, party="王", limit=2))
        monkeypatch.setattr(repo, "DENSE_PREFIX", 1)  # 王 now counts as shared by many: cases first, names checked
        assert ids(await walk(api, "/cases", committee_id=committee, party="王", limit=2)) == sparse
        assert len(sparse) == 4

    async def test_a_name_and_a_mediator_together(self, api, sessions, committee, named):
        with transaction(sessions) as session:
            for name in ("王芳", "王小明", "李芳"):
                case = session.get(Case, named[name])
                session.add(CaseMediator(case_id=case.id, user_id="med-names", registered_at=case.registered_at))
        assert await self.search(api, committee, party="王", mediator_id="med-names") == {
            named["王芳"], named["王小明"]}
        assert await self.search(api, committee, party="王芳", party_match="exact", mediator_id="med-names") == {
            named["王芳"]}

    async def test_q_still_finds_a_name_in_the_text(self, api, committee, named):
        assert named["王芳芳"] in await self.search(api, committee, q="王芳芳")


class TestEstimatedCount:
    async def test_no_count_unless_asked(self, api, committee, thirteen):
        page = (await api.get("/cases", params={"committee_id": committee, "limit": 2})).json()
        assert page["estimated_total"] is None

    async def test_an_estimate_on_request(self, api, sessions, committee, thirteen):
        page = (await api.get("/cases", params={"committee_id": committee, "limit": 2, "count": "estimate"})).json()
        with transaction(sessions) as session:
            backend = session.get_bind().dialect.name
            if backend == "postgresql":
                session.execute(text("ANALYZE cases"))
            exact = session.execute(text("SELECT count(*) FROM cases")).scalar_one()
        if backend == "sqlite":  # the embedded database counts
            assert page["estimated_total"] == 13
        else:  # the planner's estimate of a filtered list: a number, not a count
            assert isinstance(page["estimated_total"], int) and page["estimated_total"] >= 1
        everything = (await api.get("/cases", params={"limit": 1, "count": "estimate"})).json()
        assert everything["estimated_total"] == exact  # unfiltered: the table's statistics, just analysed

    async def test_a_wrong_kind_of_count_is_422(self, api):
        response = await api.get("/cases", params={"count": "exact"})
        assert response.status_code == 422 and "count" in [e["field"] for e in response.json()["errors"]]


class TestTheOtherLists:
    async def test_a_cases_notifications(self, api, sessions, committee):
        case_id = register(sessions, committee, T0)
        with transaction(sessions) as session:
            for i in range(5):
                repo.add_notification(session=session, notification_id=f"{case_id}:n{i}", case_id=case_id,
                                      kind="mediation_warning", recipient_role="mediator", recipients=[],
                                      message=f"提醒{i}", at=T0 + timedelta(hours=i // 2), channel="log")
        pages = await walk(api, f"/cases/{case_id}/notifications", limit=2)
        assert ids(pages) == [f"{case_id}:n{i}" for i in (4, 3, 2, 1, 0)]  # ties: by id
        outbox = await walk(api, "/notifications", case_id=case_id, limit=3)
        assert ids(outbox) == ids(pages)

    async def test_provisional_cases_earliest_due_first(self, api, sessions, committee):
        cases = {register(sessions, committee, T0 + timedelta(minutes=i)): due
                 for i, due in enumerate([date(2031, 3, 1), None, date(2031, 1, 5), date(2031, 1, 5)])}
        with transaction(sessions) as session:
            for case_id, due in cases.items():
                session.execute(update(Case).where(Case.id == case_id).values(due_provisional=True, due_date=due))
        try:
            found = [i for i in ids(await walk(api, "/calendar/provisional", ADMIN, limit=1)) if i in cases]
            expected = sorted(cases, key=lambda c: (cases[c] or date.max, c))
            assert found == expected  # no due date: last
        finally:
            with transaction(sessions) as session:
                session.execute(update(Case).where(Case.id.in_(list(cases))).values(due_provisional=False))
