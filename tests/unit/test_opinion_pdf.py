"""The 专家咨询意见书 as a PDF (Reg 33, Reg 37; shared/DOMAIN.md "Experts" and "Documents").

The context is built by documents.opinion_context from rows held in memory (a case, its committee, a panel,
its invitations and the experts), as the activity would read them; each language is rendered once for the
module and read back with pypdf and pypdfium2.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from pypdf import PdfReader

from documents.contexts import ExpertOpinionContext, OpinionPart
from documents.opinion_context import DEFAULT_MATERIAL, expert_opinion_context, surname_only
from documents.render import KINDS, render_html, render_pdf
from models.tables import DEFAULT_NUMBER_PATTERNS, Case, Committee, Expert, Invitation, Panel
from tests.pdf_text import flat, page_parts, words

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCRIPT = "<script>alert(1)</script>"
COMMITTEE = "上海市黄浦区医疗纠纷人民调解委员会"
CASE_NUMBER = "〔2026〕沪黄医调字第12号"
NUMBER = "〔2026〕沪黄医调咨字第3号"
PATIENT_NAME = "王小明"
PATIENT_ID = "310101199001011234"
PATIENT_PHONE = "13800138000"
INSTITUTION = "上海市某某医院"
QUESTION = "医方在产程处理中是否存在过错？过错与新生儿损害后果之间有无因果关系？责任程度如何？"
VOID_REASON = "发现该专家三年内曾在医方任职（回避事由）"
ISSUED = datetime(2026, 2, 12, 9, 0, tzinfo=SHANGHAI)

# --- The rows the activity reads ------------------------------------------------------------------------

COMMITTEE_ROW = Committee(id="huangpu", name=COMMITTEE, short_name="沪黄")
CASE = Case(
    id="case-12",
    number=CASE_NUMBER,
    committee_id="huangpu",
    registration={
        "patient": {"name": PATIENT_NAME, "id_number": PATIENT_ID, "phone": PATIENT_PHONE, "address": "某路1号"},
        "institution": {"name": INSTITUTION, "legal_representative": "钱九"},
    },
)
PANEL = Panel(
    id="case-12-panel-7",
    case_id="case-12",
    seq=7,
    specialties=["obstetrics", "obstetrics", "law"],
    question=QUESTION,
    requested_by="陈七",
    meeting={"at": "2026-02-10T14:30:00+08:00", "place": "本委员会第一会议室", "material": ["胎心监护记录"]},
)
EXPERTS = {
    "e-li": Expert(id="e-li", city="上海", name="李华", title="主任医师", phone="13900000001"),
    "e-zhang": Expert(id="e-zhang", city="上海", name="张敏", title="副主任医师"),
    "e-zhao": Expert(id="e-zhao", city="上海", name="赵强", title="律师"),
    "e-sun": Expert(id="e-sun", city="上海", name="孙伟", title="主任医师"),  # voided: a conflict found later
    "e-wu": Expert(id="e-wu", city="上海", name="吴敏", title="主任医师"),  # declined the invitation
}


@dataclass(frozen=True)
class Finding:
    fault: str
    causation: str
    liability_percent: int
    text: str = ""

    def opinion(self) -> dict[str, Any]:
        return {"fault": self.fault, "causation": self.causation,
                "liability_percent": self.liability_percent, "text": self.text}


LI = Finding("医方在产程观察中未及时发现胎心异常，存在过错", "过错与新生儿缺氧缺血性脑病之间存在因果关系", 60,
             f"产程记录显示胎心监护异常持续四十分钟。\n医方未及时处置。{SCRIPT}")
ZHANG = Finding("医方存在过错", "存在因果关系", 55)
ZHAO = Finding("医方未尽告知义务", "告知不足与损害后果之间存在部分因果关系", 40, "依照《民法典》第一千二百一十九条。")
SUN = Finding("医方不存在过错", "不存在因果关系", 0, "诊疗行为符合规范。")


def invitation(key: str, expert_id: str, slot: int, specialty: str, status: str, finding: Finding | None,
               *, reason: str = "", day: int = 11) -> Invitation:
    return Invitation(
        id=key, panel_id=PANEL.id, case_id=CASE.id, expert_id=expert_id, draw_id=f"draw-{key}", slot=slot,
        specialty=specialty, status=status, invited_at=datetime(2026, 2, 2, 9, 0, tzinfo=SHANGHAI),
        answer_due_at=datetime(2026, 2, 4, 17, 0, tzinfo=SHANGHAI), reason=reason,
        opinion=finding.opinion() if finding else None,
        opinion_at=datetime(2026, 2, day, 2, 0, tzinfo=UTC) if finding else None,  # 10:00 in Shanghai
    )


# Given out of order, as a query may return them: slot 2's first expert gave an opinion that was voided
INVITATIONS = [
    invitation("i-zhao", "e-zhao", 3, "law", "accepted", ZHAO),
    invitation("i-zhang", "e-zhang", 2, "obstetrics", "accepted", ZHANG, day=12),
    invitation("i-sun", "e-sun", 2, "obstetrics", "voided", SUN, reason=VOID_REASON, day=10),
    invitation("i-wu", "e-wu", 1, "obstetrics", "declined", None, reason="出差"),
    invitation("i-li", "e-li", 1, "obstetrics", "accepted", LI),
]
VALID = {"李华": LI, "张敏": ZHANG, "赵强": ZHAO}


def build(**changes: Any) -> ExpertOpinionContext:
    arguments: dict[str, Any] = {
        "case": CASE, "committee": COMMITTEE_ROW, "panel": PANEL, "invitations": INVITATIONS,
        "experts": EXPERTS, "number": NUMBER, "at": ISSUED, "version": 2,
    }
    return expert_opinion_context(**{**arguments, **changes})


# --- Reading the PDFs back -----------------------------------------------------------------------------

@dataclass
class Rendered:
    context: ExpertOpinionContext
    pdf: bytes

    @cached_property
    def reader(self) -> PdfReader:
        return PdfReader(io.BytesIO(self.pdf))

    @cached_property
    def parts(self) -> list[tuple[str, str]]:
        return [page_parts(page) for page in self.reader.pages]

    @cached_property
    def body(self) -> str:
        return "\n".join(body for body, _ in self.parts)

    @cached_property
    def text(self) -> str:
        """The body text without whitespace (Chinese and English alike: lines break anywhere)."""
        return flat(self.body)

    def between(self, start: str, end: str) -> str:
        """The flat body text from the heading `start` to the heading `end`."""
        return self.text.split(flat(start), 1)[1].split(flat(end), 1)[0]


def rendered(context: ExpertOpinionContext, lang: str) -> Rendered:
    return Rendered(context, render_pdf("expert_opinion", context, lang=lang))


@pytest.fixture(scope="module")
def context() -> ExpertOpinionContext:
    return build()


@pytest.fixture(scope="module")
def zh(context: ExpertOpinionContext) -> Rendered:
    return rendered(context, "zh")


@pytest.fixture(scope="module")
def en(context: ExpertOpinionContext) -> Rendered:
    return rendered(context, "en")


@pytest.fixture(params=["zh", "en"])
def each(request: pytest.FixtureRequest) -> Rendered:
    return request.getfixturevalue(request.param)


# --- Numbers, title, header and footer ----------------------------------------------------------------


class TestNumbering:
    def test_the_opinion_is_numbered_from_the_committees_pattern(self) -> None:
        # DOMAIN.md "Documents": numbered per committee and year from a configurable pattern
        assert DEFAULT_NUMBER_PATTERNS["expert_opinion"] == "〔{year}〕{short}医调咨字第{seq}号"
        pattern = COMMITTEE_ROW.number_pattern("expert_opinion")
        assert pattern.format(year=2026, short=COMMITTEE_ROW.short_name, seq=3) == NUMBER

    def test_the_chinese_opinion_shows_its_title_numbers_and_version(self, zh: Rendered) -> None:
        for expected in (KINDS["expert_opinion"].titles["zh"], COMMITTEE, NUMBER, f"案件编号：{CASE_NUMBER}",
                         "第2版", "出具日期：2026年2月12日"):
            assert flat(expected) in zh.text, expected

    def test_the_english_opinion_shows_its_title_numbers_and_version(self, en: Rendered) -> None:
        text = words(en.body)
        for expected in (
            "Expert Consultation Opinion", f"No. {NUMBER}", f"Case No. {CASE_NUMBER}", "Version 2",
            "Issued on 2026-02-12", "the Chinese version (专家咨询意见书) prevails",
        ):
            assert expected in text, expected

    def test_every_page_has_the_case_number_in_its_header_and_its_page_number(self, each: Rendered) -> None:
        margins = [flat(margin) for _, margin in each.parts]
        assert len(margins) >= 2
        for number, margin in enumerate(margins, start=1):
            assert flat(COMMITTEE) in margin and flat(CASE_NUMBER) in margin
            assert f"第{number}页共{len(margins)}页" in margin or f"Page{number}of{len(margins)}" in margin

    def test_a_later_version_says_it_replaces_the_earlier_ones(self, zh: Rendered, en: Rendered) -> None:
        # DOMAIN.md: a voided part makes a new version; generated documents are never edited
        assert "本意见书为第二版，替代此前各版本。已作废的意见仍予列明，保留备查。" in zh.text
        assert "This is version 2 of the opinion; it replaces every earlier version." in words(en.body)
        first = render_html("expert_opinion", build(version=1), "zh")
        assert "替代此前各版本" not in first and "第1版" in first


# --- The panel, the question, the material, the meeting --------------------------------------------------


class TestPanel:
    # Reg 33: the panel that was consulted
    def test_lists_the_accepted_experts_slot_by_slot(self, context: ExpertOpinionContext) -> None:
        assert [(m.slot, m.specialty_label, m.name, m.title) for m in context.panel] == [
            (1, "产科", "李华", "主任医师"),
            (2, "产科", "张敏", "副主任医师"),
            (3, "法学", "赵强", "律师"),
        ]

    def test_the_chinese_panel_shows_specialty_name_and_title(self, zh: Rendered) -> None:
        panel = zh.between("咨询专家", "专家意见").replace("序号专业姓名职称", "")  # the head repeats per page
        assert "1产科李华主任医师2产科张敏副主任医师3法学赵强律师" in panel
        assert "孙伟" not in panel and "吴敏" not in panel  # voided and declined: not on the panel

    def test_the_english_panel_translates_the_specialties(self, en: Rendered) -> None:
        panel = en.between("The panel", "The experts' opinions").replace("No.SpecialtyNameTitle", "")
        assert "1Obstetrics李华主任医师2Obstetrics张敏副主任医师3Law赵强律师" in panel
        assert "孙伟" not in panel

    def test_names_the_question_put_to_the_panel(self, zh: Rendered, en: Rendered) -> None:
        assert "咨询事项" + flat(QUESTION) in zh.text
        assert "Questionputtotheexperts" + flat(QUESTION) in en.text

    def test_lists_the_material_reviewed_default_and_added(self, context: ExpertOpinionContext,
                                                           zh: Rendered, en: Rendered) -> None:
        assert context.material == DEFAULT_MATERIAL + ("胎心监护记录",)
        # only what the panel was given: the application's facts and requests, the question, what was handed over
        assert ("审阅材料（一）调解申请所述纠纷事实及调解请求（二）本委员会提出的咨询事项（三）受理通知书"
                "（四）胎心监护记录") in zh.text
        assert "病历资料" not in zh.text  # the panel was given no medical records unless recorded
        assert ("(1) the facts and requests stated in the application (2) the question put by this committee "
                "(3) the notice of acceptance (4) 胎心监护记录") in words(en.body)

    def test_without_a_meeting_the_material_is_the_default(self) -> None:
        context = build(panel=Panel(**{**PANEL.model_dump(), "meeting": None}))
        assert context.material == DEFAULT_MATERIAL and context.meeting is None
        assert "专家会议" not in render_html("expert_opinion", context, "zh")

    def test_gives_the_meetings_time_and_place(self, zh: Rendered, en: Rendered) -> None:
        assert "专家会议时间2026年2月10日14:30地点本委员会第一会议室" in zh.text
        assert "Date and time 2026-02-10 14:30 Place 本委员会第一会议室" in words(en.body)


# --- The findings -------------------------------------------------------------------------------------


class TestFindings:
    # Reg 33, DOMAIN.md: findings on fault, causation and degree of liability (a percentage)
    def test_every_valid_part_gives_fault_causation_and_liability(self, zh: Rendered) -> None:
        opinions = zh.between("专家意见", "作废的专家意见")
        for number, (name, title, finding) in enumerate(
            [("产科专家李华", "主任医师", LI), ("产科专家张敏", "副主任医师", ZHANG), ("法学专家赵强", "律师", ZHAO)]
        ):
            block = flat(
                f"（{'一二三'[number]}）{name}（{title}）过错{finding.fault}因果关系{finding.causation}"
                f"责任程度{finding.liability_percent}%"
            )
            assert block in opinions, block
        assert flat("分析意见" + LI.text) in opinions and "提交日期2026年2月11日" in opinions

    def test_the_english_parts_give_the_same_findings(self, en: Rendered) -> None:
        opinions = en.between("The experts' opinions", "Voided expert opinions")
        for name, finding in VALID.items():
            assert flat(f"{name}") in opinions
            assert flat(f"Fault {finding.fault} Causation {finding.causation} "
                        f"Degree of liability {finding.liability_percent}%") in opinions
        assert "expertinObstetrics" in opinions and "expertinLaw" in opinions

    def test_parts_come_in_slot_order_with_the_date_they_were_submitted(
        self, context: ExpertOpinionContext
    ) -> None:
        assert [(p.slot, p.expert_name, p.void, p.submitted_on) for p in context.parts] == [
            (1, "李华", False, date(2026, 2, 11)),
            (2, "孙伟", True, date(2026, 2, 10)),  # the voided one was given first
            (2, "张敏", False, date(2026, 2, 12)),
            (3, "赵强", False, date(2026, 2, 11)),
        ]

    def test_an_accepted_expert_without_an_opinion_is_on_the_panel_but_gives_no_part(self) -> None:
        waiting = [
            replace_row(i, opinion=None, opinion_at=None) if i.id == "i-zhao" else i for i in INVITATIONS
        ]
        context = build(invitations=waiting)
        assert "赵强" in [m.name for m in context.panel]
        assert "赵强" not in [p.expert_name for p in context.parts]

    def test_the_opinion_does_not_bind_the_parties(self, zh: Rendered, en: Rendered) -> None:
        # DOMAIN.md: "It does not bind the parties"
        assert "本意见书系专家咨询意见，供本委员会调解时参考，对双方当事人不具有约束力。" in zh.text
        assert "it is not binding on the parties" in words(en.body)

    def test_cites_regulation_33(self, zh: Rendered, en: Rendered) -> None:
        assert "依照《医疗纠纷预防和处理条例》第三十三条" in zh.text
        article = "(Article 33 of the Regulation on the Prevention and Handling of Medical Disputes)"
        assert article in words(en.body)


def replace_row(row: Invitation, **changes: Any) -> Invitation:
    return Invitation(**{**row.model_dump(), **changes})


# --- A voided part (Reg 37) ------------------------------------------------------------------------------


class TestVoidPart:
    # Reg 37, DOMAIN.md: a conflict found after the opinion voids that expert's part; the void opinion stays
    # in the trail
    def test_the_void_part_is_printed_marked_void_with_its_reason(self, zh: Rendered) -> None:
        void = zh.between("作废的专家意见（保留备查）", "说明")
        assert flat(f"（一）产科专家孙伟（主任医师）作废作废理由：{VOID_REASON}") in void
        assert flat(f"过错{SUN.fault}因果关系{SUN.causation}责任程度0%") in void
        assert "《医疗纠纷预防和处理条例》第三十七条" in void

    def test_the_english_void_part_is_marked_void_with_its_reason(self, en: Rendered) -> None:
        void = en.between("Voided expert opinions (kept for the record)", "Note")
        assert flat(f"孙伟 (主任医师), expert in Obstetrics VOID Reason it was voided: {VOID_REASON}") in void
        assert flat(f"Degree of liability {SUN.liability_percent}%") in void

    def test_the_void_part_is_not_among_the_valid_findings(self, zh: Rendered, en: Rendered) -> None:
        assert "孙伟" not in zh.between("专家意见", "作废的专家意见")
        assert "孙伟" not in en.between("The experts' opinions", "Voided expert opinions")

    def test_every_valid_expert_has_a_signature_line_and_the_void_one_none(self, zh: Rendered,
                                                                             en: Rendered) -> None:
        signatures = zh.text.rsplit("对双方当事人不具有约束力", 1)[1]
        for expected in ("产科专家李华（主任医师）（签名）：", "产科专家张敏（副主任医师）（签名）：",
                         "法学专家赵强（律师）（签名）："):
            assert expected in signatures, expected
        assert signatures.count("（签名）") == 3 and "孙伟" not in signatures
        english = en.text.rsplit("notbindingontheparties", 1)[1]
        assert english.count("(signature):") == 3 and "孙伟" not in english
        assert flat("李华 (主任医师), expert in Obstetrics (signature):") in english

    def test_the_committee_seals_the_opinion(self, zh: Rendered) -> None:
        assert zh.text.endswith(flat(f"{COMMITTEE}（印章）2026年2月12日"))

    def test_an_opinion_without_a_void_part_has_no_void_section(self) -> None:
        without = build(invitations=[i for i in INVITATIONS if i.id != "i-sun"])
        html = render_html("expert_opinion", without, "zh")
        assert "作废" not in html

    def test_a_void_part_needs_its_reason(self) -> None:
        part = build().parts[1]
        assert part.void and part.void_reason == VOID_REASON
        with pytest.raises(ValueError):
            replace(part, void_reason=" ")
        with pytest.raises(ValueError):
            replace(build().parts[0], void_reason="no")


# --- Privacy ---------------------------------------------------------------------------------------------


class TestPrivacy:
    # DOMAIN.md "Privacy": the opinion goes to both parties; the patient by surname only
    def test_the_patient_is_named_by_surname_only(self, zh: Rendered, en: Rendered) -> None:
        assert "患方王某" in zh.text and "医方" + INSTITUTION in zh.text
        assert "患方王某与医方上海市某某医院之间的医疗纠纷" in zh.text
        assert "Patient side 王某" in words(en.body)

    def test_no_full_name_id_number_or_phone_is_printed_or_attached(self, each: Rendered) -> None:
        attached = each.reader.attachments["expert_opinion.json"][0].decode("utf-8")
        for secret in (PATIENT_NAME, PATIENT_ID, PATIENT_PHONE, "某路1号", "钱九", "13900000001"):
            assert secret not in each.text and secret not in attached, secret

    @pytest.mark.parametrize(("name", "printed"), [
        ("王小明", "王某"), ("欧阳明", "欧阳某"), ("诸葛亮", "诸葛某"), (" 李四 ", "李某"), ("\U00020bb7田", "\U00020bb7某"),
    ])
    def test_surname_only(self, name: str, printed: str) -> None:
        assert surname_only(name) == printed

    def test_the_context_refuses_a_full_name_or_contact_details(self, context: ExpertOpinionContext) -> None:
        patient, institution = context.parties
        with pytest.raises(ValueError):
            replace(context, parties=(replace(patient, name=PATIENT_NAME), institution))
        with pytest.raises(ValueError):
            replace(context, parties=(replace(patient, id_number=PATIENT_ID), institution))
        with pytest.raises(ValueError):
            replace(context, parties=(patient, replace(institution, phone="021-12345678")))


# --- The context ------------------------------------------------------------------------------------------


class TestContext:
    @pytest.mark.parametrize("percent", [-1, 101, 50.5, True])
    def test_liability_is_an_integer_percentage(self, percent: Any) -> None:
        with pytest.raises(ValueError):
            OpinionPart(slot=1, specialty="law", specialty_label="法学", expert_name="赵强", expert_title="律师",
                        fault="", causation="", liability_percent=percent)

    def test_versions_count_from_one(self, context: ExpertOpinionContext) -> None:
        with pytest.raises(ValueError):
            replace(context, version=0)

    def test_the_context_is_attached_as_json(self, zh: Rendered) -> None:
        data = json.loads(zh.reader.attachments["expert_opinion.json"][0])
        assert data["document_number"] == NUMBER and data["version"] == 2
        assert [p["liability_percent"] for p in data["parts"]] == [60, 0, 55, 40]
        assert data["parts"][1]["void"] is True and data["parts"][1]["void_reason"] == VOID_REASON
        parties = [(p["side"], p["name"]) for p in data["parties"]]
        assert parties == [("patient", "王某"), ("institution", INSTITUTION)]
        for party in data["parties"]:
            assert party["id_number"] is None and party["phone"] is None and party["address"] is None
            assert party["agents"] == []

    def test_the_pdf_is_dated_when_the_opinion_was_issued(self, zh: Rendered) -> None:
        assert zh.reader.metadata["/CreationDate"].startswith("D:20260212090000+08")

    def test_typed_markup_is_printed_literally(self, each: Rendered) -> None:
        assert flat(SCRIPT) in each.text
        assert "<script" not in render_html("expert_opinion", each.context, "zh").lower()


# --- Appearance and speed ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_one_is_not_blank(request: pytest.FixtureRequest, lang: str,
                               tmp_path_factory: pytest.TempPathFactory) -> None:
    document = pypdfium2.PdfDocument(request.getfixturevalue(lang).pdf)
    try:
        image = document[0].render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    path: Path = tmp_path_factory.mktemp("opinion") / f"page-1.{lang}.png"
    image.save(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    inked = sum(image.histogram()[:200]) / (image.size[0] * image.size[1])
    assert 0.02 < inked < 0.5, inked
