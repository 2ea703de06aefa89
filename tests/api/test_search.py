"""Listing and searching cases: filters by status, committee, dates and free text; a page at a time."""

from __future__ import annotations

import uuid
from datetime import datetime

from domain.time import SHANGHAI
from tests.factories import registration


class TestSearch:
    async def test_filters_and_pages(self, api):
        marker = uuid.uuid4().hex[:8]
        ids = []
        for i in range(3):
            body = registration(facts=f"检索标记{marker} 第{i}例：术后感染纠纷。")
            body["patient"]["name"] = f"患者{marker}{i}"
            ids.append((await api.post("/cases", json=body)).json()["id"])
        other = registration(committee_id="xuhui", facts=f"检索标记{marker} 另一委员会")
        other_id = (await api.post("/cases", json=other)).json()["id"]

        found = (await api.get("/cases", params={"q": marker})).json()
        assert len(found["items"]) == 4 and not found["has_more"]
        in_huangpu = (await api.get("/cases", params={"q": marker, "committee_id": "huangpu"})).json()
        assert {c["id"] for c in in_huangpu["items"]} == set(ids)
        by_name = (await api.get("/cases", params={"q": f"患者{marker}1"})).json()
        assert [c["id"] for c in by_name["items"]] == [ids[1]]

        page1 = (await api.get("/cases", params={"q": marker, "limit": 2})).json()
        page2 = (await api.get("/cases", params={"q": marker, "limit": 2, "cursor": page1["next_cursor"]})).json()
        assert page1["has_more"] and not page2["has_more"] and page2["next_cursor"] is None
        assert len(page1["items"]) == 2 and len(page2["items"]) == 2
        assert not {c["id"] for c in page1["items"]} & {c["id"] for c in page2["items"]}

        await api.post(f"/cases/{other_id}/request-consent", json={})
        waiting = (await api.get("/cases", params={"q": marker, "status": "awaiting_consent"})).json()
        assert [c["id"] for c in waiting["items"]] == [other_id]

        today = datetime.now(SHANGHAI).date().isoformat()
        assert len((await api.get("/cases", params={"q": marker, "registered_from": today})).json()["items"]) == 4
        assert (await api.get("/cases", params={"q": marker, "registered_to": "2020-01-01"})).json()["items"] == []

    async def test_text_with_like_wildcards_is_taken_literally(self, api):
        response = await api.get("/cases", params={"q": "%_%"})
        assert response.status_code == 200
        assert response.json()["items"] == []
