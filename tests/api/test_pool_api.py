"""The expert pool through the staff API (Reg 35: set up at city level, shared by the committees of a city):
experts, their affiliations (Reg 37 looks at them), institutions and medical groups, and the pool file.

The database is shared by the whole test session: every test works in a city of its own and with ids of its
own (the `city` fixture), so it holds whatever other tests added.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select

from core.db import SessionFactory
from domain.pool import COLUMNS
from models.tables import Affiliation, Expert

HEADER = ",".join(COLUMNS)


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def city(tag: str) -> str:
    return f"测试市{tag}"


async def post(api: httpx.AsyncClient, path: str, body: Any = None, status: int = 201) -> Any:
    response = await api.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def get(api: httpx.AsyncClient, path: str, status: int = 200, **params: Any) -> Any:
    response = await api.get(path, params={k: v for k, v in params.items() if v is not None} or None)
    assert response.status_code == status, response.text
    return response.json()


async def import_csv(api: httpx.AsyncClient, text: str, status: int = 200, **params: Any) -> dict:
    response = await api.post("/pool/experts/import", content=text.encode(), params=params or None,
                              headers={"content-type": "text/csv"})
    assert response.status_code == status, response.text
    return response.json()


async def a_group(api: httpx.AsyncClient, tag: str, city: str) -> dict:
    """A medical group with two sites, and a hospital of its own."""
    await post(api, "/pool/groups", {"id": f"g-{tag}", "name": f"某区医疗集团{tag}", "city": city})
    main = await post(api, "/pool/institutions", {"id": f"main-{tag}", "name": f"某区人民医院{tag}", "city": city,
                                                  "group_id": f"g-{tag}", "address": "某路1号"})
    await post(api, "/pool/institutions", {"id": f"east-{tag}", "name": f"某区人民医院东院{tag}", "city": city,
                                           "group_id": f"g-{tag}"})
    await post(api, "/pool/institutions", {"id": f"other-{tag}", "name": f"某胸科医院{tag}", "city": city})
    return main


def expert(tag: str, city: str, n: int, **fields: Any) -> dict:
    return {"id": f"E{n}-{tag}", "city": city, "name": f"专家{n}", "title": "主任医师",
            "specialties": ["obstetrics"], "region": "黄浦区", "phone": "13916000001", **fields}


# ---------------------------------------------------------------- the vocabulary ----------------------
class TestSpecialties:
    async def test_medicine_by_specialty_law_forensic_medicine_pharmacy_and_psychology(self, api):  # Reg 35
        found = {s["code"]: s for s in await get(api, "/pool/specialties")}
        assert found["obstetrics"] == {"code": "obstetrics", "label": "产科", "kind": "clinical"}
        for code in ("law", "forensic_medicine", "pharmacy", "psychology", "nursing"):
            assert found[code]["kind"] == "non_clinical"


# ---------------------------------------------------------------- institutions and groups -------------
class TestInstitutionsAndGroups:  # Reg 37: a conflict with one site is a conflict with every site
    async def test_an_institution_shows_its_group_and_the_groups_other_sites(self, api, tag, city):
        created = await a_group(api, tag, city)
        assert created["group"]["id"] == f"g-{tag}" and created["other_sites"] == []  # the first site
        main = await get(api, f"/pool/institutions/main-{tag}")
        assert main["address"] == "某路1号"
        assert [s["id"] for s in main["other_sites"]] == [f"east-{tag}"]
        east = await get(api, f"/pool/institutions/east-{tag}")
        assert [s["id"] for s in east["other_sites"]] == [f"main-{tag}"]
        assert {s["id"] for s in east["group"]["sites"]} == {f"main-{tag}", f"east-{tag}"}
        alone = await get(api, f"/pool/institutions/other-{tag}")
        assert alone["group"] is None and alone["other_sites"] == []

    async def test_lists_filter_by_city_group_and_name(self, api, tag, city):
        await a_group(api, tag, city)
        assert {i["id"] for i in await get(api, "/pool/institutions", city=city)} == {
            f"main-{tag}", f"east-{tag}", f"other-{tag}"}
        assert {i["id"] for i in await get(api, "/pool/institutions", group_id=f"g-{tag}")} == {
            f"main-{tag}", f"east-{tag}"}
        assert [i["id"] for i in await get(api, "/pool/institutions", q=f"东院{tag}")] == [f"east-{tag}"]
        (group,) = await get(api, "/pool/groups", city=city)
        assert group["id"] == f"g-{tag}" and len(group["sites"]) == 2

    async def test_unknown_institution_is_404(self, api):
        body = await get(api, "/pool/institutions/nope-nope", status=404)
        assert body["code"] == "not_found" and "nope-nope" in body["detail"]

    async def test_a_site_of_an_unknown_group_is_refused_422(self, api, tag):
        site = {"id": f"h-{tag}", "name": "某医院", "group_id": "no-group"}
        body = await post(api, "/pool/institutions", site, status=422)
        assert body["errors"][0]["field"] == "group_id"

    async def test_an_id_taken_twice_is_409(self, api, tag, city):
        await a_group(api, tag, city)
        assert (await post(api, "/pool/groups", {"id": f"g-{tag}", "name": "另一集团"}, status=409))["detail"]
        await post(api, "/pool/institutions", {"id": f"main-{tag}", "name": "另一医院"}, status=409)


# ---------------------------------------------------------------- experts -----------------------------
class TestExperts:  # Reg 35: title, specialties, affiliations with dates, region, active flag, cap
    async def test_create_and_read_an_expert_with_affiliations_and_relatives(self, api, tag, city):
        await a_group(api, tag, city)
        body = expert(tag, city, 1, specialties=["obstetrics", "gynecology"], max_concurrent=2,
                      id_number="31010119700315001x",
                      affiliations=[{"institution_id": f"main-{tag}", "started_on": "2010-01-01",
                                     "ended_on": "2020-06-30"},
                                    {"institution_id": f"other-{tag}", "started_on": "2020-07-01"}],
                      relatives=[{"name": "王芳", "relation": "配偶", "id_number": "310101197205200026"}])
        created = await post(api, "/pool/experts", body)
        assert created["specialty_labels"] == ["产科", "妇科"] and created["max_concurrent"] == 2
        assert created["id_number"] == "31010119700315001X"
        assert [(a["institution_id"], a["group_id"], a["current"]) for a in created["affiliations"]] == [
            (f"main-{tag}", f"g-{tag}", False), (f"other-{tag}", None, True)]
        assert created["affiliations"][0]["institution_name"] == f"某区人民医院{tag}"
        assert await get(api, f"/pool/experts/E1-{tag}") == created

    async def test_an_id_is_generated_when_left_out(self, api, city):
        created = await post(api, "/pool/experts", {"city": city, "name": "无编号", "specialties": ["law"]})
        assert created["id"] and (await get(api, f"/pool/experts/{created['id']}"))["name"] == "无编号"

    async def test_partial_update_changes_only_what_is_given_and_replaces_affiliations(self, api, tag, city):
        await a_group(api, tag, city)
        main = [{"institution_id": f"main-{tag}"}]
        await post(api, "/pool/experts", expert(tag, city, 1, affiliations=main))
        response = await api.patch(f"/pool/experts/E1-{tag}", json={
            "title": "教授", "max_concurrent": 5, "phone": None,
            "affiliations": [{"institution_id": f"other-{tag}", "started_on": "2022-01-01"}]})
        assert response.status_code == 200, response.text
        changed = response.json()
        assert (changed["title"], changed["max_concurrent"], changed["phone"], changed["name"]) == (
            "教授", 5, "", "专家1")
        assert [a["institution_id"] for a in changed["affiliations"]] == [f"other-{tag}"]

    async def test_deactivate_and_reactivate(self, api, tag, city):  # an inactive expert is never drawn
        await post(api, "/pool/experts", expert(tag, city, 1))
        assert (await post(api, f"/pool/experts/E1-{tag}/deactivate", status=200))["active"] is False
        assert len((await get(api, "/pool/experts", city=city, active="false"))["items"]) == 1
        assert (await get(api, "/pool/experts", city=city, active="true"))["items"] == []
        assert (await post(api, f"/pool/experts/E1-{tag}/activate", status=200))["active"] is True
        again = await post(api, f"/pool/experts/E1-{tag}/activate", status=200)
        assert again["active"] is True  # idempotent


class TestSearch:
    async def test_by_specialty_city_region_institution_and_text(self, api, tag, city):
        await a_group(api, tag, city)
        main = [{"institution_id": f"main-{tag}"}]
        await post(api, "/pool/experts", expert(tag, city, 1, affiliations=main))
        await post(api, "/pool/experts", expert(tag, city, 2, specialties=["law"], title="律师", region="静安区"))
        await post(api, "/pool/experts", expert(tag, city, 3, specialties=["gynecology", "obstetrics"],
                                                affiliations=[{"institution_id": f"east-{tag}"}]))

        async def ids(**params: Any) -> list[str]:
            page = await get(api, "/pool/experts", city=city, **params)
            assert page["has_more"] is False and page["next_cursor"] is None
            return [e["id"] for e in page["items"]]

        assert await ids() == [f"E1-{tag}", f"E2-{tag}", f"E3-{tag}"]
        assert await ids(specialty="obstetrics") == [f"E1-{tag}", f"E3-{tag}"]
        assert await ids(specialty="law") == [f"E2-{tag}"]
        assert await ids(region="静安区") == [f"E2-{tag}"]
        assert await ids(institution_id=f"east-{tag}") == [f"E3-{tag}"]
        assert await ids(q="律师") == [f"E2-{tag}"]  # the title
        assert await ids(q="专家3") == [f"E3-{tag}"]  # the name
        assert await ids(q=f"东院{tag}") == [f"E3-{tag}"]  # an institution's name
        assert await ids(q="%") == []  # no wildcard

    async def test_paging_by_cursor(self, api, tag, city):
        for n in range(5):
            await post(api, "/pool/experts", expert(tag, city, n))
        first = await get(api, "/pool/experts", city=city, limit=2, count="estimate")
        assert (first["limit"], first["has_more"], [e["id"] for e in first["items"]]) == (2, True, [
            f"E0-{tag}", f"E1-{tag}"])
        assert first["estimated_total"] >= 1  # exact (5) on SQLite, the planner's estimate on PostgreSQL
        second = await get(api, "/pool/experts", city=city, limit=2, cursor=first["next_cursor"])
        assert [e["id"] for e in second["items"]] == [f"E2-{tag}", f"E3-{tag}"]
        last = await get(api, "/pool/experts", city=city, limit=2, cursor=second["next_cursor"])
        assert ([e["id"] for e in last["items"]], last["has_more"], last["next_cursor"]) == ([f"E4-{tag}"], False,
                                                                                            None)

    async def test_lists_mask_identity_and_phone_numbers(self, api, tag, city):  # personal information
        await post(api, "/pool/experts", expert(tag, city, 1, id_number="310101197003150013"))
        (item,) = (await get(api, "/pool/experts", city=city))["items"]
        assert item["id_number"] == "310101********0013" and item["phone"] == "139****0001"
        full = await get(api, f"/pool/experts/E1-{tag}")
        assert full["id_number"] == "310101197003150013" and full["phone"] == "13916000001"


class TestBadRequestsAre4xxNever500:
    async def test_unknown_expert_is_404(self, api):
        for response in [await api.get("/pool/experts/nobody"),
                         await api.patch("/pool/experts/nobody", json={}),
                         await api.post("/pool/experts/nobody/deactivate")]:
            assert response.status_code == 404 and "nobody" in response.json()["detail"]

    async def test_an_id_taken_twice_is_409(self, api, tag, city):
        await post(api, "/pool/experts", expert(tag, city, 1))
        assert (await post(api, "/pool/experts", expert(tag, city, 1), status=409))["code"] == "conflict"

    async def test_an_unknown_institution_is_422_naming_the_field(self, api, tag, city):
        nowhere = [{"institution_id": "nowhere"}]
        body = await post(api, "/pool/experts", expert(tag, city, 1, affiliations=nowhere), status=422)
        assert body["errors"][0]["field"] == "affiliations" and "nowhere" in body["detail"]

    @pytest.mark.parametrize(("change", "field"), [
        ({"specialties": ["骨头科"]}, "specialties.0"),
        ({"specialties": []}, "specialties"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"phone": "abc"}, "phone"),
        ({"id_number": "12345"}, "id_number"),
        ({"salary": 1}, "salary"),
        ({"affiliations": [{"institution_id": "x", "started_on": "2021-01-01", "ended_on": "2020-01-01"}]},
         "affiliations.0"),
        ({"affiliations": [{"institution_id": "x", "started_on": "9999-01-01"}]},
         "affiliations.0.started_on"),
    ])
    async def test_invalid_payloads_are_422_naming_the_field(self, api, tag, city, change, field):
        body = await post(api, "/pool/experts", {**expert(tag, city, 1), **change}, status=422)
        assert body["code"] == "invalid_payload" and field in [e["field"] for e in body["errors"]]

    async def test_required_fields_cannot_be_cleared_by_an_update(self, api, tag, city):
        await post(api, "/pool/experts", expert(tag, city, 1))
        response = await api.patch(f"/pool/experts/E1-{tag}", json={"name": None})
        assert response.status_code == 422 and "name" in response.json()["detail"]

    async def test_bad_query_and_path(self, api):
        assert (await api.get("/pool/experts", params={"specialty": "骨头科"})).status_code == 422
        assert (await api.get("/pool/experts", params={"limit": 0})).status_code == 422
        assert (await api.get("/pool/experts/bad id")).status_code == 422
        assert (await api.delete("/pool/experts")).status_code == 405

    async def test_import_and_export_are_resources_of_their_own_not_expert_ids(self, api):
        response = await api.get("/pool/experts/import")
        assert response.status_code == 405 and response.headers["allow"] == "POST"
        response = await api.post("/pool/experts/export")
        assert response.status_code == 405 and response.headers["allow"] == "GET"

    async def test_an_update_naming_an_unknown_institution_changes_nothing(self, api, tag, city):
        await post(api, "/pool/experts", expert(tag, city, 1))
        response = await api.patch(f"/pool/experts/E1-{tag}", json={
            "title": "教授", "affiliations": [{"institution_id": "nowhere"}]})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "affiliations"
        assert (await get(api, f"/pool/experts/E1-{tag}"))["title"] == "主任医师"


# ---------------------------------------------------------------- the pool file -----------------------
def csv_rows(tag: str, city: str, *lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def line(tag: str, city: str, n: int, **fields: str) -> str:
    values = {"id": f"E{n}-{tag}", "city": city, "name": f"专家{n}", "title": "主任医师", "specialties": "产科",
              "region": "黄浦区", "active": "true", "max_concurrent": "3", "phone": "13916000001", "email": "",
              "id_number": "", "affiliations": "", "relatives": "", **fields}
    return ",".join(values[c] for c in COLUMNS)


class TestImport:  # Reg 35: the city's pool is loaded from a file
    async def test_a_good_file_is_imported_and_a_second_import_updates_by_id(self, api, tag, city):
        await a_group(api, tag, city)
        text = csv_rows(tag, city, line(tag, city, 1, affiliations=f"main-{tag}:2010-01-01:2020-06-30"),
                        line(tag, city, 2, specialties="法学;心理学"))
        assert await import_csv(api, text) == {"imported": 2, "updated": 0, "skipped": 0, "errors": []}
        again = csv_rows(tag, city, line(tag, city, 1, title="教授", affiliations=f"east-{tag}:2021-01-01:"),
                         line(tag, city, 3))
        assert await import_csv(api, again) == {"imported": 1, "updated": 1, "skipped": 0, "errors": []}
        first = await get(api, f"/pool/experts/E1-{tag}")
        assert first["title"] == "教授"
        assert [a["institution_id"] for a in first["affiliations"]] == [f"east-{tag}"]  # replaced
        assert len((await get(api, "/pool/experts", city=city))["items"]) == 3

    async def test_any_bad_row_and_nothing_is_imported_every_error_listed(self, api, tag, city):
        text = csv_rows(tag, city, line(tag, city, 1), line(tag, city, 2, specialties="骨头科", phone="abc"),
                        line(tag, city, 3, affiliations="nowhere:2020-01-01:"), line(tag, city, 1))
        body = await import_csv(api, text, status=422)
        assert body["code"] == "invalid_payload" and "nothing imported" in body["detail"]
        assert {(e["row"], e["field"]) for e in body["errors"]} == {
            (3, "specialties"), (3, "phone"), (4, "affiliations"), (5, "id")}
        assert all(e["reason"] and e["message"] for e in body["errors"])
        assert (await get(api, "/pool/experts", city=city))["items"] == []

    async def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(self, api, tag, city):
        text = csv_rows(tag, city, line(tag, city, 1), line(tag, city, 2, max_concurrent="0"),
                        line(tag, city, 3, affiliations="nowhere:2020-01-01:"), line(tag, city, 4))
        report = await import_csv(api, text, skip_invalid="true")
        assert (report["imported"], report["updated"], report["skipped"]) == (2, 0, 2)
        assert [(e["row"], e["field"]) for e in report["errors"]] == [
            (3, "max_concurrent"), (4, "affiliations")]
        assert [e["id"] for e in (await get(api, "/pool/experts", city=city))["items"]] == [
            f"E1-{tag}", f"E4-{tag}"]

    @pytest.mark.parametrize("text", ["", "name,phone\n张,1\n", "id,city,name,specialties,salary\n"])
    async def test_a_bad_header_is_refused_even_with_skip_invalid(self, api, text):
        body = await import_csv(api, text, status=422, skip_invalid="true")
        assert body["errors"] and all(e["row"] == 1 for e in body["errors"])

    async def test_a_file_that_is_not_utf8_is_422(self, api):
        response = await api.post("/pool/experts/import", content="编号".encode("gbk"),
                                  headers={"content-type": "text/csv"})
        assert response.status_code == 422 and "UTF-8" in response.json()["detail"]


class TestExport:
    async def test_export_then_import_round_trips(self, api, sessions: SessionFactory, tag, city):
        await a_group(api, tag, city)
        text = csv_rows(tag, city,
                        line(tag, city, 1, specialties="产科;妇科",
                             affiliations=f"main-{tag}:2010-01-01:2020-06-30;other-{tag}:2020-07-01:",
                             relatives="王芳:配偶:310101197205200026",
                             id_number="31010119700315001X", active="false", max_concurrent="5"),
                        line(tag, city, 2, specialties="law", email="lawyer@example.org"))
        await import_csv(api, text)
        response = await api.get("/pool/experts/export", params={"city": city})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        exported = response.text
        assert exported.splitlines()[0] == HEADER and len(exported.splitlines()) == 3
        assert "obstetrics;gynecology" in exported  # codes, whatever the file used
        with sessions() as session:
            before = [e.model_dump(exclude={"created_at", "updated_at"})
                      for e in session.exec(select(Expert).where(Expert.city == city).order_by(Expert.id))]
        report = await import_csv(api, exported)
        assert (report["imported"], report["updated"]) == (0, 2)
        assert (await api.get("/pool/experts/export", params={"city": city})).text == exported
        with sessions() as session:
            after = [e.model_dump(exclude={"created_at", "updated_at"})
                     for e in session.exec(select(Expert).where(Expert.city == city).order_by(Expert.id))]
            affiliations = session.exec(select(Affiliation).where(Affiliation.expert_id == f"E1-{tag}")).all()
        assert after == before
        assert [(a.institution_id, str(a.started_on), a.ended_on) for a in affiliations][1:] == [
            (f"other-{tag}", "2020-07-01", None)]

    async def test_export_of_an_empty_city_is_the_header(self, api, city):
        response = await api.get("/pool/experts/export", params={"city": city})
        assert response.text == HEADER + "\n"
