"""The agreement as a clerk prints it (shared/DOMAIN.md "Documents", rev 2): read page by page, the signature lines
stand on the same page as the last item of the agreement (never a page of signatures alone), no page but the last
is less than half used, every page has the case number and "page N of M", and a draft says so on every page.

The agreements vary in the number of terms, the length of the facts and the number of people on the patient side,
so that the page breaks fall in different places."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PageObject, PdfReader

from documents.amounts import chinese_numeral
from documents.contexts import (
    AgreementContext,
    DeceasedPatient,
    PartyBlock,
    SignatureAct,
    SignatureBlock,
    Term,
)
from documents.render import render_html, render_pdf
from tests.pdf_text import PAGE_BOTTOM_MARGIN, PAGE_TOP_MARGIN, flat, page_parts

SHANGHAI = ZoneInfo("Asia/Shanghai")
FACT = "患者于2026年3月1日行腹腔镜阑尾切除术，术后出现切口感染，经再次手术及抗感染治疗后痊愈出院。"
INSTITUTION = PartyBlock(side="institution", name="上海市某某医院", address="上海市黄浦区某某路200号",
                         legal_representative="王五", agents=("赵六（医务处处长）",))


def context(*, terms: int, facts: int, heirs: int, effective: bool) -> AgreementContext:
    if heirs:
        patients = tuple(PartyBlock(side="patient", name=f"王{n}明", relation="患者之子女", heir=True,
                                    id_number="310101198001011234") for n in "大二三四五"[:heirs])
    else:
        patients = (PartyBlock(side="patient", name="王小明", sex="男", age=46, id_number="310101198001011234",
                               phone="13800138000", address="上海市黄浦区南京东路100号",
                               agents=("王大明（患者之兄，委托代理人）",)),)
    lines = (*(SignatureBlock(role="patient", label="患方当事人（签名或捺印）", name=p.name) for p in patients),
             SignatureBlock(role="institution", label="医方（盖章）", name=INSTITUTION.name),
             SignatureBlock(role="mediator", label="人民调解员（签名）", name="陈七"),
             SignatureBlock(role="mediator", label="人民调解员（签名）", name="周八"),
             SignatureBlock(role="committee_seal", label="人民调解委员会（印章）"))
    record = tuple(
        SignatureAct(role=role, for_whom=whom, signed_by=by, capacity=capacity, method="signature",
                     signed_at=datetime(2026, 11, 25, 10, minute, tzinfo=SHANGHAI))
        for minute, (role, whom, by, capacity) in enumerate((
            ("patient", "患方", patients[0].name, "患者本人"), ("institution", "医方", "王五", "法定代表人"),
            ("mediator", "人民调解员", "陈七", "人民调解员"), ("committee_seal", "人民调解委员会", "赵主任", "加盖印章"))))
    return AgreementContext(
        committee_name="上海市黄浦区医疗纠纷人民调解委员会", case_number="〔2026〕沪黄医调字第12号",
        document_number="〔2026〕沪黄医调协字第7号" if effective else None, version=1,
        parties=(*patients, INSTITUTION), deceased=DeceasedPatient(name="王老先生", sex="男") if heirs else None,
        facts=FACT * facts, points_in_dispute="医方的诊疗行为是否存在过错及赔偿数额。", responsibilities="医方承担主要责任。",
        terms=tuple(Term(text=f"医方向患方支付第{i + 1}项赔偿款", amount=Decimal("10000.00"), payer="上海市某某医院",
                         manner="银行转账", deadline_text=f"协议生效之日起{10 + i}个工作日内",
                         resolved_deadline=date(2026, 12, 9 + i) if effective else None) for i in range(terms)),
        total_amount=Decimal("10000.00") * terms, mediators=("陈七", "周八"), signatures=lines,
        drafted_at=datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI), copies=len(patients) + 2,
        effective_on=date(2026, 11, 25) if effective else None, signature_record=record if effective else (),
    )


def fill(page: PageObject) -> float:
    """How much of the page's body is used: from the top of the body to its lowest line, as a fraction."""
    height = float(page.mediabox.height)
    top, bottom = height - PAGE_TOP_MARGIN, PAGE_BOTTOM_MARGIN
    lows: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: object) -> None:
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if bottom < y < top and text.strip() and "草稿" not in text:  # the draft's watermark is not content
            lows.append(y)

    page.extract_text(visitor_text=visit)
    return (top - min(lows)) / (top - bottom) if lows else 0.0


LAYOUTS = [
    pytest.param({"terms": terms, "facts": facts, "heirs": heirs, "effective": effective},
                 id=f"{terms}terms-{facts}facts-{heirs}heirs-{'effective' if effective else 'draft'}")
    for terms, facts, heirs, effective in (
        (1, 1, 0, False), (1, 6, 0, True), (2, 3, 2, False), (3, 1, 0, True), (3, 9, 3, True), (4, 4, 0, False),
        (5, 2, 5, True), (6, 12, 0, False), (8, 1, 2, True), (10, 20, 0, True),
    )
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_signatures_stay_with_the_last_item_and_no_page_but_the_last_is_half_empty(layout: dict) -> None:
    agreement = context(**layout)
    reader = PdfReader(io.BytesIO(render_pdf("agreement" if layout["effective"] else "agreement_draft", agreement)))
    bodies = [flat(page_parts(page)[0]) for page in reader.pages]
    last_item = f"{chinese_numeral(layout['terms'] + 4)}、本协议一式"
    [with_last_item] = [number for number, body in enumerate(bodies) if last_item in body]
    signature_pages = {number for number, body in enumerate(bodies) if "人民调解委员会（印章）：" in body}
    assert signature_pages == {with_last_item}, (signature_pages, with_last_item)
    for number, page in enumerate(reader.pages[:-1]):
        assert fill(page) >= 0.5, f"page {number + 1} of {len(reader.pages)} is {fill(page):.0%} used"


@pytest.mark.parametrize("effective", [False, True], ids=["draft", "effective"])
def test_every_page_has_the_case_number_and_page_n_of_m_and_a_draft_says_so(effective: bool) -> None:
    reader = PdfReader(io.BytesIO(render_pdf("agreement" if effective else "agreement_draft",
                                             context(terms=6, facts=12, heirs=0, effective=effective))))
    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        body, margins = map(flat, page_parts(page))
        assert "案件编号：〔2026〕沪黄医调字第12号" in margins and f"第{number}页共{pages}页" in margins
        assert ("草稿（未生效）" in body + margins) is not effective


def test_a_draft_prints_the_deadlines_as_agreed_and_the_effective_one_also_their_dates() -> None:
    def text(effective: bool) -> str:
        reader = PdfReader(io.BytesIO(render_pdf("agreement" if effective else "agreement_draft",
                                                 context(terms=2, facts=1, heirs=0, effective=effective))))
        return "".join(flat(page_parts(page)[0]) for page in reader.pages)

    draft, effective = text(False), text(True)
    assert "履行期限协议生效之日起10个工作日内" in draft and not re.search(r"\d{4}年\d+月\d+日前", draft)
    assert "履行期限协议生效之日起10个工作日内（即2026年12月9日前）" in effective
    assert "履行期限协议生效之日起11个工作日内（即2026年12月10日前）" in effective


def test_a_seal_image_is_printed_only_on_the_effective_agreement_and_only_when_the_committee_wants_one() -> None:
    # a committee's policy (agreement_seal_image); a draft never shows a seal (Reg 39: the seal is the last act)
    effective = context(terms=1, facts=1, heirs=0, effective=True)
    draft = context(terms=1, facts=1, heirs=0, effective=False)
    assert 'class="seal-image"' in render_html("agreement", replace(effective, visible_seal=True))
    assert 'class="seal-image"' not in render_html("agreement", effective)
    assert 'class="seal-image"' not in render_html("agreement_draft", replace(draft, visible_seal=True))
    # on the draft, the committee's line is blank: its name is printed only where the seal is applied
    seal_line = render_html("agreement_draft", draft).split("signature-committee_seal")[1].split("</tr>")[0]
    assert "上海市黄浦区医疗纠纷人民调解委员会" not in seal_line
