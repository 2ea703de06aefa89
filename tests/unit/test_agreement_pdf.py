"""The 人民调解协议书 as a PDF (PML 29, PML 31, PML 33, Reg 39; shared/DOMAIN.md "Documents").

Each language is rendered once for the module; the tests read the PDF back with pypdf and pypdfium2.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from pypdf import PageObject, PdfReader

from documents.contexts import AgreementContext, PartyBlock, SignatureAct, SignatureBlock, Term
from documents.render import (
    STATIC_DIR,
    DocumentRenderError,
    ResourceRefused,
    StaticURLFetcher,
    pdf_from_html,
    render_html,
    render_pdf,
)
from tests.pdf_text import xmp_pdfa

SHANGHAI = ZoneInfo("Asia/Shanghai")
RARE = "\U00020bb7"  # 𠮷, outside the BMP
PATIENT_NAME = f"{RARE}田 O'Brien \"Jr\""
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src="file:///etc/passwd">'


def agreement_context() -> AgreementContext:
    """A typical agreement, with parties' text that looks like markup and a name outside the BMP."""
    return AgreementContext(
        committee_name="上海市黄浦区医疗纠纷人民调解委员会",
        case_number="〔2026〕沪黄医调字第12号",
        document_number="〔2026〕沪黄医调协字第7号",
        version=2,
        parties=(
            PartyBlock(
                side="patient",
                name=PATIENT_NAME,
                id_number="310101198001011234",
                phone="13800138000",
                address=f"上海市黄浦区南京东路100号{SCRIPT}",
                relation="患者之女",
                agents=("张三（患者之子，委托代理人）", "李四（患者之妻）"),
            ),
            PartyBlock(
                side="institution",
                name="上海市某某医院",
                address="上海市黄浦区某某路200号",
                legal_representative="王五",
                agents=("赵六（医务处处长）",),
            ),
        ),
        facts=f"患者于2026年3月1日行腹腔镜阑尾切除术，术后切口感染。\n患方提交的材料中写有{IMG}。",
        points_in_dispute="医方的诊疗行为是否存在过错及赔偿数额。",
        responsibilities="医方承担次要责任。",
        terms=(
            Term(
                text="医方一次性向患方支付赔偿款",
                amount=Decimal("12000.00"),
                payer="上海市某某医院",
                manner="银行转账",
                deadline_text="协议生效之日起10个工作日内",
                resolved_deadline=date(2026, 12, 9),
            ),
            Term(
                text="保险公司向患方支付医疗责任保险赔偿金",
                amount=Decimal("100005.50"),
                payer="某某财产保险股份有限公司上海分公司",
                manner="银行转账",
                deadline=date(2026, 12, 21),
            ),
        ),
        total_amount=Decimal("112005.50"),
        mediators=("陈七", "周八"),
        signatures=(
            SignatureBlock(role="patient", label="患方（签名或捺印）", name=PATIENT_NAME),
            SignatureBlock(role="institution", label="医方（盖章）", name="上海市某某医院"),
            SignatureBlock(
                role="mediator",
                label="人民调解员（签名）",
                signed_by="陈七",
                signed_at=datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI),
                name="陈七",
            ),
            SignatureBlock(role="mediator", label="人民调解员（签名）", name="周八"),
            SignatureBlock(role="committee_seal", label="人民调解委员会（印章）"),
        ),
        effective_on=date(2026, 11, 25),
        signature_record=tuple(
            SignatureAct(role=role, for_whom=for_whom, signed_by=by, capacity=capacity, method=method,
                         signed_at=datetime(2026, 11, day, 10, 0, tzinfo=SHANGHAI))
            for role, for_whom, by, capacity, method, day in (
                ("mediator", "人民调解员", "陈七", "人民调解员", "signature", 24),
                ("patient", "患方", "张三", "患者之子，委托代理人", "fingerprint", 24),
                ("institution", "医方", "王五", "法定代表人", "seal", 25),
                ("committee_seal", "人民调解委员会", "赵主任", "加盖人民调解委员会印章", "seal", 25),
            )
        ),
        drafted_at=datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI),
        copies=3,
        extra={"备注": "无"},
    )


@pytest.fixture(scope="module")
def context() -> AgreementContext:
    return agreement_context()


@pytest.fixture(scope="module")
def zh_pdf(context: AgreementContext) -> bytes:
    return render_pdf("agreement", context)


@pytest.fixture(scope="module")
def en_pdf(context: AgreementContext) -> bytes:
    return render_pdf("agreement", context, lang="en")


@pytest.fixture(scope="module")
def zh(zh_pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(zh_pdf))


@pytest.fixture(scope="module")
def en(en_pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(en_pdf))


MM = 72 / 25.4
PAGE_TOP_MARGIN = 30 * MM  # the page margins of documents/static/print.css
PAGE_BOTTOM_MARGIN = 26 * MM


def _matrix(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def page_parts(page: PageObject) -> tuple[str, str]:
    """The text of the page body and the text of its margins (running header, page number)."""
    height = float(page.mediabox.height)
    body: list[str] = []
    margins: list[str] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: Any) -> None:
        y = _matrix(tm, cm)[5]
        (body if PAGE_BOTTOM_MARGIN < y < height - PAGE_TOP_MARGIN else margins).append(text)

    page.extract_text(visitor_text=visit)
    return "\n".join(body), "\n".join(margins)


def pages_text(reader: PdfReader) -> list[str]:
    """Each page's body text: what the document says, without the running header and page number."""
    return [page_parts(page)[0] for page in reader.pages]


def margins_text(reader: PdfReader) -> list[str]:
    return [page_parts(page)[1] for page in reader.pages]


def flat(text: str) -> str:
    """Without any whitespace: Chinese text is compared regardless of where lines were broken."""
    return re.sub(r"\s+", "", text)


HAN = "[\u3000-\u9fff\uff00-\uffef\U00020000-\U0003ffff]"


def words(text: str) -> str:
    """Whitespace runs as one space, and none between two Chinese characters: English text is compared regardless
    of where lines were broken, and of where a rare character of a name, printed by another face, split a line's
    text in runs."""
    return re.sub(rf"(?<={HAN}) (?={HAN})", "", " ".join(text.split()))


@pytest.fixture(scope="module")
def zh_text(zh: PdfReader) -> str:
    return flat("\n".join(pages_text(zh)))


@pytest.fixture(scope="module")
def en_text(en: PdfReader) -> str:
    return words("\n".join(pages_text(en)))


# --- What the agreement says (zh) -----------------------------------------------------------------


def test_title_numbers_and_committee_are_printed(zh_text: str, context: AgreementContext) -> None:
    for expected in ("人民调解协议书", context.committee_name, context.document_number, context.case_number):
        assert flat(expected) in zh_text
    assert "第2稿" in zh_text and "生效日期：2026年11月25日" in zh_text
    assert "草稿" not in zh_text  # the effective agreement


def test_each_partys_details_are_printed(zh_text: str) -> None:
    # PML 29, Reg 39: each party's details, the institution's legal representative and agent
    for expected in (
        "患方",
        PATIENT_NAME,
        "310101198001011234",
        "13800138000",
        "与患者关系患者之女",
        "张三（患者之子，委托代理人）",
        "李四（患者之妻）",
        "医方",
        "上海市某某医院",
        "上海市黄浦区某某路200号",
        "法定代表人王五",
        "委托代理人赵六（医务处处长）",
    ):
        assert flat(expected) in zh_text


def test_facts_points_in_dispute_and_responsibilities_are_printed(
    zh_text: str, context: AgreementContext
) -> None:
    # PML 29: 纠纷的主要事实、争议事项、各方当事人的责任
    assert "纠纷的主要事实" + flat(context.facts) in zh_text
    assert "争议事项" + flat(context.points_in_dispute) in zh_text
    assert "各方当事人的责任" + flat(context.responsibilities) in zh_text


def test_each_term_has_its_amount_in_figures_and_capitals_payer_manner_and_deadline(zh_text: str) -> None:
    # PML 29: the content of the agreement, the manner and deadline of performance
    assert "一、医方一次性向患方支付赔偿款金额¥12,000.00（人民币壹万贰仟元整）支付方上海市某某医院履行方式银行转账" in zh_text
    # as agreed, and on the effective agreement also the date it resolves to
    assert "履行期限协议生效之日起10个工作日内（即2026年12月9日前）" in zh_text
    assert "二、保险公司向患方支付医疗责任保险赔偿金金额¥100,005.50（人民币壹拾万零伍元伍角）" in zh_text
    assert "支付方某某财产保险股份有限公司上海分公司" in zh_text
    assert "履行期限2026年12月21日前" in zh_text


def test_the_total_is_printed_and_no_summary_date_can_contradict_a_term(zh_text: str) -> None:
    # PML 29 (rev 2): where terms have different deadlines, each stands on its own
    assert "以上款项合计¥112,005.50（人民币壹拾壹万贰仟零伍元伍角），各项按其约定的期限分别履行。" in zh_text
    assert "履行完毕" not in zh_text.replace("本协议履行完毕后", "")
    printed = set(re.findall(r"(\d{4}年\d{1,2}月\d{1,2}日)前", zh_text))
    assert printed == {"2026年12月9日", "2026年12月21日"}  # exactly the terms' own deadlines


def test_the_dispute_is_settled_once_and_for_all(zh_text: str) -> None:
    assert "本协议履行完毕后，双方当事人之间就本纠纷再无其他争议（一次性了结）。" in zh_text


def test_the_agreement_is_binding(zh_text: str) -> None:
    # PML 31
    assert "具有法律约束力，当事人应当按照约定履行（《人民调解法》第三十一条）" in zh_text


def test_the_parties_are_told_of_judicial_confirmation_within_thirty_days(zh_text: str) -> None:
    # PML 33
    assert (
        "双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认（《人民调解法》第三十三条）"
        in zh_text
    )


def test_the_agreement_takes_effect_with_all_signatures_and_the_seal(zh_text: str) -> None:
    # PML 29, Reg 39
    assert "本协议自双方当事人签名或盖章（捺印）、调解员签名并加盖调解委员会印章之日起生效" in zh_text


def test_one_copy_per_party_and_one_for_the_committee(zh_text: str) -> None:
    # PML 29
    assert "六、本协议一式三份，当事人各执一份，调解委员会留存一份。" in zh_text


def test_signature_and_seal_blocks(zh_text: str) -> None:
    for label in ("患方（签名或捺印）", "医方（盖章）", "人民调解员（签名）", "人民调解委员会（印章）"):
        assert label in zh_text
    # a recorded signature is printed with its date; the others are blank lines to sign on
    assert "人民调解员（签名）：陈七2026年11月24日" in zh_text


def test_unsigned_blocks_are_blank_lines_and_signed_ones_name_the_signer(context: AgreementContext) -> None:
    html = render_html("agreement", context, "zh")
    patient = html.split('class="signature signature-patient"')[1].split("</tr>")[0]
    mediator = html.split('class="signature signature-mediator"')[1].split("</tr>")[0]
    assert 'class="signature-line"' in patient and "年　　月　　日" in patient
    assert "陈七" in mediator and "2026年11月24日" in mediator


def test_dates_are_written_the_chinese_way(zh_text: str) -> None:
    assert "制作日期：2026年11月23日" in zh_text
    assert "2026-12-09" not in zh_text and "2026-11-23" not in zh_text


def test_every_page_has_the_case_number_in_its_header_and_its_page_number(
    zh: PdfReader, context: AgreementContext
) -> None:
    margins = margins_text(zh)
    assert len(margins) >= 2
    for number, text in enumerate(margins, start=1):
        assert flat(f"案件编号：{context.case_number}") in flat(text)
        assert f"第{number}页共{len(margins)}页" in flat(text)


def test_extra_matters_are_printed(zh_text: str) -> None:
    assert "其他事项备注无" in zh_text


# --- English version --------------------------------------------------------------------------------


def test_the_english_version_has_the_same_content(en_text: str, context: AgreementContext) -> None:
    for expected in (
        "People's Mediation Agreement",
        context.case_number,
        context.document_number,
        "Patient side",
        PATIENT_NAME,
        "Legal representative 王五",
        "Main facts of the dispute",
        "Points in dispute",
        "Responsibilities of the parties",
        "Amount ¥12,000.00 (人民币壹万贰仟元整)",
        "Manner of performance 银行转账",
        "协议生效之日起10个工作日内 (by 2026-12-09)",
        "The amounts above total ¥112,005.50 (人民币壹拾壹万贰仟零伍元伍角); each is performed by its own deadline.",
    ):
        assert expected in en_text


def test_the_english_version_has_the_clauses(en_text: str) -> None:
    # settled once and for all; PML 31; PML 33; PML 29 and Reg 39; copies
    assert (
        "no other dispute remains between the parties over this matter (settled once and for all)" in en_text
    )
    assert "legally binding" in en_text and "(Article 31 of the People's Mediation Law)" in en_text
    assert (
        "they may jointly apply to a people's court for judicial confirmation within 30 days "
        "from the date this agreement takes effect (Article 33 of the People's Mediation Law)" in en_text
    )
    assert "the mediator(s) have signed it and the mediation committee has affixed its seal" in en_text
    assert (
        "This agreement is made in 3 copies: one for each party and 1 kept by the mediation committee."
        in en_text
    )


def test_the_english_version_has_english_signature_labels_iso_dates_and_page_numbers(
    en: PdfReader, en_text: str, context: AgreementContext
) -> None:
    for label in (
        "Patient side (signature or fingerprint)",
        "Medical institution (seal)",
        "People's mediator (signature)",
        "People's Mediation Committee (seal)",
    ):
        assert label in en_text
    assert "Drafted on 2026-11-23" in en_text
    assert "Date: 2026-11-24" in en_text
    margins = margins_text(en)
    for number, text in enumerate(margins, start=1):
        assert f"Case No. {context.case_number}" in words(text)
        assert f"Page {number} of {len(margins)}" in words(text)


# --- Parties' text is text, never markup -------------------------------------------------------------


def test_typed_markup_quotes_and_rare_characters_are_printed_literally(zh_text: str, en_text: str) -> None:
    for text in (zh_text, flat(en_text)):
        assert flat(SCRIPT) in text
        assert flat(IMG) in text
        assert flat(PATIENT_NAME) in text
        assert f"{RARE}田" in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_typed_markup_is_escaped_in_the_html(context: AgreementContext, lang: str) -> None:
    html = render_html("agreement", context, lang)
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "O&#39;Brien &#34;Jr&#34;" in html


def test_markup_in_the_committee_name_cannot_break_out_of_the_head(context: AgreementContext) -> None:
    html = render_html("agreement", replace(context, committee_name='委员会"><script>x</script>'), "zh")
    assert "<script" not in html.lower()
    assert 'content="委员会&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html


# --- Resources: documents/static/ only --------------------------------------------------------------


def test_the_fetcher_serves_the_print_stylesheet() -> None:
    response = StaticURLFetcher().fetch((STATIC_DIR / "print.css").as_uri())
    assert b"@page" in response.read()
    assert response.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/print.css",
        "https://example.com/print.css",
        "ftp://example.com/print.css",
        "data:text/css,body{}",
        (STATIC_DIR / ".." / "render.py").as_uri(),
        STATIC_DIR.as_uri() + "/%2e%2e/render.py",
        (STATIC_DIR / "missing.css").as_uri(),
        "file://otherhost" + (STATIC_DIR / "print.css").as_posix(),
    ],
)
def test_the_fetcher_refuses_anything_outside_the_static_folder(url: str) -> None:
    with pytest.raises(ResourceRefused):
        StaticURLFetcher().fetch(url)


def test_a_refused_resource_stops_the_rendering() -> None:
    with pytest.raises(DocumentRenderError):
        pdf_from_html('<p>x</p><img src="file:///etc/passwd">')


# --- Archival PDF: PDF/A-3b with the data attached ---------------------------------------------------


@pytest.mark.parametrize("reader_name", ["zh", "en"])
def test_the_pdf_declares_pdf_a_3b(reader_name: str, request: pytest.FixtureRequest) -> None:
    reader: PdfReader = request.getfixturevalue(reader_name)
    pdfa = xmp_pdfa(reader)
    assert pdfa["part"] == "3" and pdfa["conformance"] == "B"
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"


def context_from_json(data: dict[str, Any]) -> AgreementContext:
    """The reverse of the attachment's encoding, written independently of the renderer."""
    day = lambda value: date.fromisoformat(value) if value else None  # noqa: E731
    moment = lambda value: datetime.fromisoformat(value) if value else None  # noqa: E731
    return AgreementContext(
        committee_name=data["committee_name"],
        case_number=data["case_number"],
        document_number=data["document_number"],
        version=data["version"],
        parties=tuple(PartyBlock(**{**party, "agents": tuple(party["agents"])}) for party in data["parties"]),
        facts=data["facts"],
        points_in_dispute=data["points_in_dispute"],
        responsibilities=data["responsibilities"],
        terms=tuple(
            Term(
                **{
                    **term,
                    "amount": Decimal(term["amount"]) if term["amount"] is not None else None,
                    "deadline": day(term["deadline"]),
                    "resolved_deadline": day(term["resolved_deadline"]),
                }
            )
            for term in data["terms"]
        ),
        total_amount=Decimal(data["total_amount"]),
        mediators=tuple(data["mediators"]),
        signatures=tuple(
            SignatureBlock(**{**block, "signed_at": moment(block["signed_at"])})
            for block in data["signatures"]
        ),
        drafted_at=datetime.fromisoformat(data["drafted_at"]),
        copies=data["copies"],
        extra=data["extra"],
        effective_on=day(data["effective_on"]),
        signature_record=tuple(SignatureAct(**{**act, "signed_at": moment(act["signed_at"])})
                               for act in data["signature_record"]),
        visible_seal=data["visible_seal"],
    )


@pytest.mark.parametrize("reader_name", ["zh", "en"])
def test_the_context_is_attached_as_json(
    reader_name: str, request: pytest.FixtureRequest, context: AgreementContext
) -> None:
    reader: PdfReader = request.getfixturevalue(reader_name)
    assert list(reader.attachments) == ["agreement.json"]
    data = json.loads(reader.attachments["agreement.json"][0])
    assert data["total_amount"] == "112005.50"  # Decimal as a string
    assert data["terms"][1]["deadline"] == "2026-12-21"  # dates in ISO
    assert data["drafted_at"] == "2026-11-23T09:30:00+08:00"
    assert data["parties"][0]["name"] == PATIENT_NAME
    assert context_from_json(data) == context


def test_the_attachment_is_declared_as_the_documents_data(zh: PdfReader) -> None:
    # PDF/A-3: an embedded file is listed in the catalog's /AF with its relationship
    associated = [ref.get_object() for ref in zh.trailer["/Root"]["/AF"]]
    assert [(spec["/UF"], spec["/AFRelationship"]) for spec in associated] == [("agreement.json", "/Data")]
    embedded = associated[0]["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/application/json"


def test_the_same_context_gives_the_same_bytes(context: AgreementContext, zh_pdf: bytes) -> None:
    assert render_pdf("agreement", context) == zh_pdf


# --- Fonts and appearance -----------------------------------------------------------------------------


def embedded_fonts(reader: PdfReader) -> list[dict[str, Any]]:
    fonts: dict[str, dict[str, Any]] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    return list(fonts.values())


def to_unicode(font: dict[str, Any]) -> dict[int, str]:
    cmap = font["/ToUnicode"].get_object().get_data().decode("ascii")
    return {
        int(code, 16): bytes.fromhex(text).decode("utf-16-be")
        for code, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", cmap.split("beginbfchar", 1)[-1])
    }


def test_fonts_are_embedded_subsets_of_the_bundled_faces_and_of_noto_serif_cjk_sc_for_the_rare_name(
    zh: PdfReader,
) -> None:
    # the bundled faces (documents/fonts.py: Noto Serif CJK SC cut down to GB 2312) print the text; the name's 𠮷
    # is not in them, and is printed by the installed Noto Serif CJK SC, the style's next family
    names = set()
    for font in embedded_fonts(zh):
        name = re.fullmatch(r"/[A-Z]{6}\+(Mediation-Serif-SC|Noto-Serif-CJK-SC)(-Bold)?", font["/BaseFont"])
        assert name, font["/BaseFont"]
        names.add(name.group(1))
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert names == {"Mediation-Serif-SC", "Noto-Serif-CJK-SC"}


def test_the_embedded_font_has_a_real_glyph_for_the_rare_character(zh: PdfReader) -> None:
    # 𠮷 (U+20BB7) is in Noto Serif CJK SC itself (Debian package fonts-noto-cjk): no other fallback font
    for font in embedded_fonts(zh):
        codes = [code for code, text in to_unicode(font).items() if text == RARE]
        if not codes:
            continue
        descendant = font["/DescendantFonts"][0].get_object()
        assert descendant.get("/CIDToGIDMap") == "/Identity"
        descriptor = descendant["/FontDescriptor"]
        program = (descriptor.get("/FontFile3") or descriptor.get("/FontFile2")).get_object().get_data()
        subset = TTFont(io.BytesIO(program))
        glyph = subset.getGlyphOrder()[codes[0]]
        assert codes[0] != 0 and glyph != ".notdef"
        pen = BoundsPen(subset.getGlyphSet())
        subset.getGlyphSet()[glyph].draw(pen)
        assert pen.bounds is not None  # it has outlines: not an empty box
        return
    pytest.fail(f"no embedded font maps a glyph to {RARE}")


def test_page_one_is_not_blank(zh_pdf: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    document = pypdfium2.PdfDocument(zh_pdf)
    try:
        image = document[0].render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    path: Path = tmp_path_factory.mktemp("agreement") / "page-1.png"
    image.save(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = image.size
    assert abs(width - 595) <= 1 and abs(height - 842) <= 1  # A4 (595.3 x 841.9 pt) at scale 1
    histogram = image.histogram()
    inked = sum(histogram[:200]) / (image.size[0] * image.size[1])
    assert 0.02 < inked < 0.5, inked


# --- Kinds and languages -------------------------------------------------------------------------------


def test_unknown_kinds_languages_and_contexts_are_refused(context: AgreementContext) -> None:
    with pytest.raises(ValueError):
        render_html("acceptance_notice", context, "zh")
    with pytest.raises(ValueError):
        render_html("agreement", context, "fr")
    with pytest.raises(TypeError):
        render_html("agreement", context.parties[0], "zh")
