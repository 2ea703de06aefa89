"""Documents, revision 2 (shared/DOMAIN.md "Documents"): the agreement is issued twice — each draft marked
草稿（未生效）, unnumbered and unsealed; the effective agreement numbered, dated, with the record of the four acts and
the committee's seal (Reg 39, PML 29) — the minutes of every session are issued, a deceased patient's heirs are
the parties (Civil Code 173), and no summary line contradicts a term."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from pypdf import PdfReader

from tests.factories import SIGNATURES, agreement, registration
from tests.http import case_of, ok
from tests.pdf_text import flat, page_parts
from tests.pools import make_city

JOINT = {"application_type": "joint", "applicant_side": None}
SESSION = {"scheduled_at": "2026-11-25T09:30:00+08:00", "place": "黄浦区医调委第一调解室", "mediators": ["陈调解员"],
           "attendees": ["王大明", "张律师"]}


async def in_mediation(api: httpx.AsyncClient, **changes: Any) -> str:
    case = await api.post("/cases", json=registration(**{**JOINT, **changes}))
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    await ok(api, case_id, "submit-for-review")
    await ok(api, case_id, "accept", {"mediators": ["陈调解员", "周调解员"]})
    return case_id


async def documents(api: httpx.AsyncClient, case_id: str, kind: str, lang: str = "zh") -> list[dict[str, Any]]:
    listed = (await api.get(f"/cases/{case_id}/documents")).json()
    return [d for d in listed if d["kind"] == kind and d["lang"] == lang]


async def pages_of(api: httpx.AsyncClient, document: dict[str, Any]) -> list[tuple[str, str]]:
    """Each page's body and margin text, without whitespace."""
    pdf = (await api.get(f"/documents/{document['id']}/pdf")).content
    return [(flat(body), flat(margins)) for body, margins in map(page_parts, PdfReader(io.BytesIO(pdf)).pages)]


async def text_of(api: httpx.AsyncClient, document: dict[str, Any]) -> str:
    return "".join(body + margins for body, margins in await pages_of(api, document))


async def verify(api: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    response = await api.get(f"/documents/{document['id']}/verify")
    assert response.status_code == 200, response.text
    return response.json()


async def sign_all(api: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    for signature in SIGNATURES:
        last = await ok(api, case_id, "sign", signature)
    assert last["status"] == "performance"
    return last


class TestTheAgreementIsIssuedTwice:
    async def test_a_draft_says_so_on_every_page_has_no_number_and_no_seal(self, api):  # Reg 39 (rev 2)
        case_id = await in_mediation(api)
        case = await case_of(api, case_id)
        await ok(api, case_id, "draft-agreement", agreement())
        [draft] = await documents(api, case_id, "agreement_draft")
        assert draft["number"] == f"{case['number']} 第1稿" and "协字" not in draft["number"]
        for body, margins in await pages_of(api, draft):
            assert "草稿（未生效）" in body + margins
        checked = await verify(api, draft)
        assert checked["hash_matches"] and not checked["seal"]["signed"] and not checked["seal"]["valid"]
        assert await documents(api, case_id, "agreement") == []  # nothing is effective yet

    async def test_the_fourth_act_issues_the_effective_agreement_numbered_dated_recorded_and_sealed(self, api):
        # Reg 39, PML 29: effective on the last of the four acts, which only then carries the seal
        case_id = await in_mediation(api)
        await ok(api, case_id, "draft-agreement", agreement())
        await ok(api, case_id, "sign", SIGNATURES[0])
        assert await documents(api, case_id, "agreement") == []  # one act of four issues nothing
        for signature in SIGNATURES[1:]:
            await ok(api, case_id, "sign", signature)
        case = await case_of(api, case_id)
        [effective] = await documents(api, case_id, "agreement")
        assert re.fullmatch(r"〔\d{4}〕.+医调协字第\d+号", effective["number"])
        text = await text_of(api, effective)
        assert flat(effective["number"]) in text and "草稿" not in text
        year, month, day = case["effective_on"].split("-")
        assert f"生效日期：{int(year)}年{int(month)}月{int(day)}日" in text
        # the record of the four acts: for whom, who, in what capacity, how
        record = text.split("签署记录")[1]
        for row in ("患方王大明患者之兄签名", "医方上海市某区人民医院医方盖章", "人民调解员陈调解员人民调解员签名",
                    "人民调解委员会赵主任加盖人民调解委员会印章盖章"):
            assert row in record, row
        checked = await verify(api, effective)
        assert checked["verified"] and checked["seal"]["valid"], checked
        [draft] = await documents(api, case_id, "agreement_draft")
        assert not (await verify(api, draft))["seal"]["signed"]  # the draft the parties signed stays unsealed
        assert {d["lang"] for d in (await api.get(f"/cases/{case_id}/documents")).json()
                if d["kind"] == "agreement"} == {"zh", "en"}

    async def test_agreement_numbers_of_a_committee_year_run_without_gaps_across_redrafts(self, api, sessions):
        # rev 2: numbers are given to effective agreements only, so the register has no gaps
        city = make_city(sessions)
        redrafted = await in_mediation(api, committee_id=city.committee_id)
        for _ in range(2):
            await ok(api, redrafted, "draft-agreement", agreement())
            await ok(api, redrafted, "sign", SIGNATURES[0])
            await ok(api, redrafted, "revise-agreement", {"reason": "医方对数额有异议", "refused_by": "institution"})
        await ok(api, redrafted, "draft-agreement", agreement())
        await sign_all(api, redrafted)
        straight = await in_mediation(api, committee_id=city.committee_id)
        await ok(api, straight, "draft-agreement", agreement())
        await sign_all(api, straight)

        drafts = await documents(api, redrafted, "agreement_draft")
        assert [d["version"] for d in drafts] == [1, 2, 3] and [d["superseded"] for d in drafts] == [True, True, False]
        numbers = [(await documents(api, case_id, "agreement"))[0]["number"] for case_id in (redrafted, straight)]
        assert [int(re.search(r"第(\d+)号", n).group(1)) for n in numbers] == [1, 2], numbers
        assert "第3稿" in await text_of(api, (await documents(api, redrafted, "agreement"))[0])

    async def test_no_summary_line_contradicts_a_term(self, api):  # PML 29 (rev 2)
        terms = [
            {"text": "医方支付医疗费", "amount": "30000.00", "payer": "上海市某区人民医院", "manner": "银行转账",
             "deadline_working_days": 10},
            {"text": "医方支付误工费、护理费", "amount": "20000.00", "payer": "上海市某区人民医院", "manner": "银行转账",
             "deadline_working_days": 15},
            {"text": "医方支付精神损害抚慰金", "amount": "36500.50", "payer": "上海市某区人民医院", "manner": "银行转账",
             "deadline": "2026-12-15"},
        ]
        case_id = await in_mediation(api)
        await ok(api, case_id, "draft-agreement", agreement(terms=terms))
        [draft] = await documents(api, case_id, "agreement_draft")
        draft_text = await text_of(api, draft)
        # the draft prints each deadline as agreed; only the date agreed as a date is a date
        assert "协议生效之日起10个工作日内" in draft_text and "协议生效之日起15个工作日内" in draft_text
        assert set(re.findall(r"(\d{4}年\d{1,2}月\d{1,2}日)前", draft_text)) == {"2026年12月15日"}
        await sign_all(api, case_id)
        case = await case_of(api, case_id)
        due = {d["due_on"] for d in case["deadlines"] if d["kind"] == "payment_due"}
        [effective] = await documents(api, case_id, "agreement")
        text = await text_of(api, effective)
        printed = set(re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日前", text))
        # every date printed as a deadline is a term's own deadline, the same as the case's payment clocks
        assert {f"{y}-{int(m):02d}-{int(d):02d}" for y, m, d in printed} == due
        assert len(due) == 3
        assert "履行完毕" not in text.replace("本协议履行完毕后", "")
        assert "以上款项合计¥86,500.50（人民币捌万陆仟伍佰元伍角），各项按其约定的期限分别履行。" in text


class TestTheParties:
    async def test_a_deceased_patients_heirs_are_the_parties_and_each_signs(self, api):  # Civil Code 173 (rev 2)
        patient = {"name": "王小明", "gender": "male", "deceased": True}
        heirs = [{"name": "王大明", "relation": "患者之子", "role": "relative"},
                 {"name": "王二明", "relation": "患者之女", "role": "relative"},
                 {"name": "张律师", "relation": "患方委托律师", "role": "agent", "authorisation": "授权委托书（2026年11月20日）",
                  "acts_for": ["王大明", "王二明"]}]
        case_id = await in_mediation(api, patient=patient, patient_representatives=heirs)
        response = await api.post(f"/cases/{case_id}/draft-agreement", json=agreement(copies=3))
        assert response.status_code == 409 and "copies" in response.text  # 2 heirs + institution + committee
        assert response.json()["code"] == "rule_violated" and "at least 4" in response.json()["detail"]
        await ok(api, case_id, "draft-agreement", agreement())  # the default: one per party and one
        [draft] = await documents(api, case_id, "agreement_draft")
        text = await text_of(api, draft)
        assert "患者（已故）：王小明，男" in text
        assert text.count("患方当事人姓名") == 2 and "姓名王大明与患者关系患者之子" in text
        assert "姓名王二明与患者关系患者之女" in text
        assert "王小明（已故）" not in text  # never named as a party whose relatives are "agents"
        assert text.count("患方当事人（签名或捺印）") == 2  # a line for each heir
        assert "本协议一式四份，各方当事人各执一份，调解委员会留存一份。" in text

        # each heir signs for the patient side: the agreement is effective only when all have (Reg 39)
        heir = {"signer": "patient", "method": "fingerprint"}
        assert (await ok(api, case_id, "sign", {**heir, "signed_by": "王大明"}))["status"] == "signing"
        for body in ({**heir, "signed_by": "王大明"}, {**heir, "signed_by": "张律师"}):  # twice; not an heir
            response = await api.post(f"/cases/{case_id}/sign", json=body)
            assert response.status_code == 409, response.text
        for signature in SIGNATURES[1:]:
            assert (await ok(api, case_id, "sign", signature))["status"] == "signing"  # 王二明 has not signed
        assert (await ok(api, case_id, "sign", {**heir, "signed_by": "王二明"}))["status"] == "performance"
        [effective] = await documents(api, case_id, "agreement")
        record = (await text_of(api, effective)).split("签署记录")[1]
        assert "患方王大明患者之子，继承人捺印" in record and "患方王二明患者之女，继承人捺印" in record

    async def test_an_heirs_authorised_agent_signs_for_that_heir(self, api):  # Civil Code 173 (rev 2), Reg 39
        patient = {"name": "王小明", "gender": "male", "deceased": True}
        heirs = [{"name": "王大明", "relation": "患者之子", "role": "relative"},
                 {"name": "王二明", "relation": "患者之女", "role": "relative"},
                 {"name": "张律师", "relation": "王二明的委托代理人", "role": "agent",
                  "authorisation": "授权委托书（2026年11月20日）", "acts_for": ["王二明"]}]
        case_id = await in_mediation(api, patient=patient, patient_representatives=heirs)
        await ok(api, case_id, "draft-agreement", agreement())
        draft = await text_of(api, (await documents(api, case_id, "agreement_draft"))[0])
        assert draft.index("姓名王大明") < draft.index("姓名王二明") < draft.index("张律师")  # under the heir it acts for
        heir = {"signer": "patient", "method": "signature"}
        for body in ({**heir, "signed_by": "王大明", "for_heir": "王二明"},  # an heir is not the other's agent
                     {**heir, "signed_by": "张律师", "for_heir": "王大明"},  # 王大明 did not authorise 张律师
                     {**heir, "signed_by": "张律师", "for_heir": "王小明"},  # never for the deceased
                     {**heir, "signed_by": "赵某", "for_heir": "王二明"}):  # not an authorised agent of the case
            response = await api.post(f"/cases/{case_id}/sign", json=body)
            assert response.status_code == 409 and "for_heir" in response.json()["detail"], response.text
        assert (await ok(api, case_id, "sign", {**heir, "signed_by": "张律师", "for_heir": "王二明"}))["status"] == \
            "signing"
        response = await api.post(f"/cases/{case_id}/sign", json={**heir, "signed_by": "王二明"})
        assert response.status_code == 409  # 王二明's act is done, through the agent
        for signature in SIGNATURES[1:]:
            assert (await ok(api, case_id, "sign", signature))["status"] == "signing"  # 王大明 has not signed
        assert (await ok(api, case_id, "sign", {**heir, "signed_by": "王大明"}))["status"] == "performance"
        [effective] = await documents(api, case_id, "agreement")
        record = (await text_of(api, effective)).split("签署记录")[1]
        assert "患方张律师继承人王二明的委托代理人签名" in record and "患方王大明患者之子，继承人签名" in record

    async def test_the_patients_sex_and_age_are_printed(self, api):  # PML 29: basic information
        patient = {**registration()["patient"], "birth_date": "1980-01-01"}
        case_id = await in_mediation(api, patient=patient)
        await ok(api, case_id, "draft-agreement", agreement())
        text = await text_of(api, (await documents(api, case_id, "agreement_draft"))[0])
        assert "性别男" in text and re.search(r"年龄4\d岁", text)

    async def test_the_insurer_who_pays_and_each_mediator_have_a_line(self, api):  # insurer pays (edge case)
        insurer = {"name": "某财产保险股份有限公司上海分公司", "policy_number": "PL-2026-001"}
        case_id = await in_mediation(api, insurer=insurer)
        terms = [{**agreement()["terms"][0], "payer": insurer["name"]}]
        await ok(api, case_id, "draft-agreement", agreement(terms=terms))
        text = await text_of(api, (await documents(api, case_id, "agreement_draft"))[0])
        assert "保险机构（盖章）" in text
        assert text.count("人民调解员（签名）") == 2 and "陈调解员" in text and "周调解员" in text


class TestTheMinutes:
    async def test_every_session_with_minutes_is_issued_with_a_signature_line_on_every_page(self, api):
        # DOMAIN.md Documents: 调解笔录, every page signed (rev 2: issued for every session)
        case_id = await in_mediation(api)
        statements = [{"speaker": "王大明", "text": "我方认为医方术中消毒不规范。" * 40},
                      {"speaker": "张律师", "text": "医方已按规范操作。" * 40}]
        for held in ("2026-11-20T09:30:00+08:00", "2026-11-23T14:00:00+08:00"):
            scheduled = await ok(api, case_id, "schedule-session", SESSION)
            await ok(api, case_id, "record-minutes", {
                "session_id": scheduled["session_id"], "held_at": held, "recorder": "刘记录员",
                "attendees": ["王大明", {"name": "张律师", "capacity": "医方委托代理人（医院法律顾问）"}, "陈调解员"],
                "statements": statements, "summary": "双方同意在下次调解时就赔偿数额继续协商。"})
        minutes = await documents(api, case_id, "session_minutes")
        assert len(minutes) == 2 and len(await documents(api, case_id, "session_minutes", "en")) == 2
        first = await pages_of(api, minutes[0])
        assert len(first) >= 2
        text = "".join(body for body, _ in first)
        for printed in ("调解笔录", "第一次调解", "2026年11月20日09:30", "黄浦区医调委第一调解室", "记录人刘记录员",
                        "王大明（患方委托代理人（患者之兄））", "张律师（医方委托代理人（医院法律顾问））",
                        "陈调解员（人民调解员）", "王大明：我方认为医方术中消毒不规范。"):
            assert printed in text, printed
        for _, margins in first:
            assert "当事人（签名）" in margins and "记录人（签名）" in margins
        assert "第二次调解" in await text_of(api, minutes[1])

    async def test_a_session_without_minutes_issues_nothing(self, api):
        case_id = await in_mediation(api)
        await ok(api, case_id, "schedule-session", SESSION)
        assert await documents(api, case_id, "session_minutes") == []
