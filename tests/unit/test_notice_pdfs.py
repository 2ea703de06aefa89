"""The notices and the follow-up record as PDFs (shared/DOMAIN.md "Documents").

受理通知书, 不予受理通知书, 调解不成告知书, 终止调解告知书 and 回访记录, each in Chinese and English.
Each sample is rendered once for the module (`documents`), then read back with pypdf and pypdfium2.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from pypdf import PdfReader

from documents.contexts import (
    AcceptanceNoticeContext,
    FailureNoticeContext,
    FollowupRecordContext,
    PartyBlock,
    RejectionNoticeContext,
    RejectReason,
    SealBlock,
    SignatureBlock,
    TerminationNoticeContext,
)
from documents.render import KINDS, render_html, render_pdf
from domain.lifecycle import REJECT_REASONS, TERMINATION_GROUNDS
from tests.pdf_text import flat, page_parts, words, xmp_pdfa

SHANGHAI = ZoneInfo("Asia/Shanghai")
RARE = "\U00020bb7"  # 𠮷, outside the BMP
PATIENT_NAME = f"{RARE}田 O'Brien \"Jr\""
SCRIPT = "<script>alert(1)</script>"
COMMITTEE = "上海市黄浦区医疗纠纷人民调解委员会"
HAN = "[\u3000-\u9fff\uff00-\uffef\U00020000-\U0003ffff]"  # Chinese characters and punctuation
CASE_NUMBER = "〔2026〕沪黄医调字第12号"
TICK = "✓"  # drawn in a CSS box: Noto Serif CJK SC has ✓ but neither ☐ nor ☑

# --- Samples: what the activities would build from a case ----------------------------------------------

PARTIES = (
    PartyBlock(side="patient", name=PATIENT_NAME, agents=(f"张三（患者之子，委托代理人）{SCRIPT}",)),
    PartyBlock(side="institution", name="上海市某某医院", agents=("赵六（医务处处长）",)),
)


def head(document_number: str, issued: datetime) -> dict[str, Any]:
    """What every notice shares: committee, numbers, date issued, parties, seal."""
    return dict(
        committee_name=COMMITTEE,
        case_number=CASE_NUMBER,
        document_number=document_number,
        issued_at=issued,
        parties=PARTIES,
        seal=SealBlock(committee_name=COMMITTEE, sealed_on=issued.date()),
    )


ACCEPTANCE = AcceptanceNoticeContext(
    **head("〔2026〕沪黄医调受字第12号", datetime(2026, 1, 20, 10, 0, tzinfo=SHANGHAI)),
    accepted_on=date(2026, 1, 20),
    deadline=date(2026, 3, 9),  # DOMAIN.md worked example: 30 WD over the Spring Festival
    mediators=("陈七", "周八"),
)
# Accepted in December 2026: the deadline reaches 2027, whose holidays are not known yet
ACCEPTANCE_PROVISIONAL = replace(
    ACCEPTANCE,
    **head("〔2026〕沪黄医调受字第98号", datetime(2026, 12, 15, 10, 0, tzinfo=SHANGHAI)),
    accepted_on=date(2026, 12, 15),
    deadline=date(2027, 1, 27),
    deadline_provisional=True,
)

REJECTED_FOR = {2, 8}
OTHER_REASON = f"患方要求追究医生的刑事责任{SCRIPT}"
REJECTION = RejectionNoticeContext(
    **head("〔2026〕沪黄医调不受字第3号", datetime(2026, 2, 3, 15, 0, tzinfo=SHANGHAI)),
    decided_on=date(2026, 2, 3),
    applied_on=date(2026, 1, 29),
    reasons=tuple(
        RejectReason(
            number=number,
            text=text,
            ticked=number in REJECTED_FOR,
            detail=OTHER_REASON if number == 8 else None,
        )
        for number, text in REJECT_REASONS.items()
    ),
)

DECLARATION = f"双方对赔偿数额分歧过大，经四次调解仍无法达成一致。{SCRIPT}{RARE}"
FAILURE_DECLARED = FailureNoticeContext(
    **head("〔2026〕沪黄医调不成字第5号", datetime(2026, 2, 27, 16, 0, tzinfo=SHANGHAI)),
    cause="declared",
    failed_on=date(2026, 2, 27),
    accepted_on=date(2026, 1, 20),
    deadline=date(2026, 3, 9),
    declared_by="陈七",
    declaration=DECLARATION,
    mediators=("陈七", "周八"),
)
FAILURE_EXPIRED = replace(
    FAILURE_DECLARED,
    **head("〔2026〕沪黄医调不成字第6号", datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)),
    cause="deadline_expired",
    failed_on=date(2026, 3, 9),
    declared_by=None,
    declaration=None,
)

TERMINATION_DETAIL = f"患方于2026年2月10日书面撤回调解申请。{SCRIPT}"
TERMINATION = TerminationNoticeContext(
    **head("〔2026〕沪黄医调终字第2号", datetime(2026, 2, 11, 9, 30, tzinfo=SHANGHAI)),
    ground="party_withdrew",
    ground_text=TERMINATION_GROUNDS["party_withdrew"],
    detail=TERMINATION_DETAIL,
    terminated_on=date(2026, 2, 11),
    accepted_on=date(2026, 1, 20),
    mediators=("陈七",),
)

LAWSUIT = "患方于2026年5月6日就后续治疗费用向黄浦区人民法院起诉。"
NOTES = f"患方表示对调解过程基本满意。{SCRIPT}{RARE}"
FOLLOWUP = FollowupRecordContext(
    **head("〔2026〕沪黄医调访字第4号", datetime(2026, 5, 8, 11, 0, tzinfo=SHANGHAI)),
    visitor="陈七",
    visited_at=datetime(2026, 5, 8, 2, 30, tzinfo=ZoneInfo("UTC")),  # 10:30 in Shanghai
    method="phone",
    visited="患方张三（患者之子）",
    performance="performed",
    performance_detail="医方已于2026年3月20日一次性支付赔偿款。",
    satisfaction="basically_satisfied",
    later_lawsuit=True,
    lawsuit_detail=LAWSUIT,
    agreement_number="〔2026〕沪黄医调协字第7号",
    notes=NOTES,
    visitor_signature=SignatureBlock(role="visitor", label="回访人（签名）"),
)

SAMPLES: dict[str, tuple[str, Any]] = {
    "acceptance": ("acceptance_notice", ACCEPTANCE),
    "acceptance_provisional": ("acceptance_notice", ACCEPTANCE_PROVISIONAL),
    "rejection": ("rejection_notice", REJECTION),
    "failure_declared": ("failure_notice", FAILURE_DECLARED),
    "failure_expired": ("failure_notice", FAILURE_EXPIRED),
    "termination": ("termination_notice", TERMINATION),
    "followup": ("followup_record", FOLLOWUP),
}
MAIN = ["acceptance", "rejection", "failure_declared", "termination", "followup"]  # one per kind
EVERY = [(name, lang) for name in MAIN for lang in ("zh", "en")]


# --- Reading the PDFs back -----------------------------------------------------------------------------

@dataclass
class Rendered:
    kind: str
    context: Any
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


class Documents:
    """Renders each sample once per language, on first use."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, str], Rendered] = {}

    def __call__(self, name: str, lang: str) -> Rendered:
        if (name, lang) not in self._done:
            kind, context = SAMPLES[name]
            self._done[name, lang] = Rendered(kind, context, render_pdf(kind, context, lang=lang))
        return self._done[name, lang]

    def zh(self, name: str) -> str:
        """The Chinese document's body text, without whitespace."""
        return flat(self(name, "zh").body)

    def en(self, name: str) -> str:
        """The English document's body text, whitespace runs as one space, none between two Chinese characters
        (a rare character of a name is printed by another face, which splits the line's text in runs)."""
        return re.sub(rf"(?<={HAN}) (?={HAN})", "", words(self(name, "en").body))


@pytest.fixture(scope="module")
def documents() -> Documents:
    return Documents()


# --- Every notice: numbers, parties, seal, header and footer --------------------------------------------


@pytest.mark.parametrize("name", MAIN)
def test_each_notice_has_its_title_numbers_parties_and_seal(documents: Documents, name: str) -> None:
    kind, context = SAMPLES[name]
    text = documents.zh(name)
    for expected in (
        KINDS[kind].titles["zh"],
        COMMITTEE,
        context.document_number,
        f"案件编号：{CASE_NUMBER}",
        f"患方{PATIENT_NAME}",
        "医方上海市某某医院",
        "委托代理人：赵六（医务处处长）",
        f"{COMMITTEE}（印章）{context.issued_at.year}年{context.issued_at.month}月{context.issued_at.day}日",
    ):
        assert flat(expected) in text, expected


@pytest.mark.parametrize("name", MAIN)
def test_each_english_notice_has_its_title_numbers_parties_and_seal(documents: Documents, name: str) -> None:
    kind, context = SAMPLES[name]
    text = documents.en(name)
    for expected in (
        KINDS[kind].titles["en"],
        f"No. {context.document_number}",
        f"Case No. {CASE_NUMBER}",
        f"the Chinese version ({KINDS[kind].titles['zh']}) prevails",
        f"Patient side {PATIENT_NAME}",
        "Medical institution 上海市某某医院",
        f"{COMMITTEE} (seal) Date: {context.issued_at.date().isoformat()}",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(("name", "lang"), EVERY)
def test_every_page_has_the_case_number_in_its_header_and_its_page_number(
    documents: Documents, name: str, lang: str
) -> None:
    margins = [flat(margin) for _, margin in documents(name, lang).parts]
    for number, margin in enumerate(margins, start=1):
        assert flat(COMMITTEE) in margin
        if lang == "zh":
            assert flat(f"案件编号：{CASE_NUMBER}") in margin and f"第{number}页共{len(margins)}页" in margin
        else:
            assert flat(f"Case No. {CASE_NUMBER}") in margin and f"Page{number}of{len(margins)}" in margin


# --- 受理通知书 -----------------------------------------------------------------------------------------


class TestAcceptanceNotice:
    def test_names_the_acceptance_date_and_the_due_date(self, documents: Documents) -> None:
        # Reg 38: 30 WD from acceptance, appraisal time excluded
        text = documents.zh("acceptance")
        assert "本委员会决定于2026年1月20日予以受理" in text
        assert "自受理之日起三十个工作日内完成调解；需要鉴定的，鉴定时间不计入调解期限" in text
        assert "受理日期2026年1月20日调解期限届满日2026年3月9日" in text
        assert "《医疗纠纷预防和处理条例》第三十八条" in text

    def test_names_the_mediators(self, documents: Documents) -> None:
        assert "本案由人民调解员陈七、周八主持调解" in documents.zh("acceptance")
        assert "conducted by the people's mediator(s) 陈七, 周八" in documents.en("acceptance")

    def test_tells_the_parties_their_rights(self, documents: Documents) -> None:
        # PML 23
        text = documents.zh("acceptance")
        assert "当事人享有下列权利（《人民调解法》第二十三条）" in text
        for right in (
            "（一）选择或者接受人民调解员；",
            "（二）接受调解、拒绝调解或者要求终止调解；",
            "（三）调解不公开进行；经双方当事人同意，可以公开进行（《医疗纠纷预防和处理条例》第四十二条）；",  # Reg 42
            "（四）自主表达意愿、自愿达成调解协议。",
        ):
            assert right in text

    def test_tells_the_parties_their_duties(self, documents: Documents) -> None:
        # PML 24
        text = documents.zh("acceptance")
        assert "当事人应当履行下列义务（《人民调解法》第二十四条）" in text
        for duty in ("（一）如实陈述纠纷事实；", "（二）遵守调解现场秩序，尊重人民调解员；", "（三）尊重对方当事人行使权利。"):
            assert duty in text

    def test_mediation_is_free_of_charge(self, documents: Documents) -> None:
        # Reg 32, PML 4
        assert (
            "本委员会调解医疗纠纷，不收取任何费用（《医疗纠纷预防和处理条例》第三十二条，《人民调解法》第四条）"
            in documents.zh("acceptance")
        )
        assert "mediates medical disputes free of charge" in documents.en("acceptance")

    def test_a_known_calendar_gives_a_firm_due_date(self, documents: Documents) -> None:
        assert "周一至周五推算" not in documents.zh("acceptance")
        assert "Mondays to Fridays" not in documents.en("acceptance")

    def test_a_due_date_in_an_unknown_year_is_marked_provisional(self, documents: Documents) -> None:
        # DOMAIN.md "Unknown years" (rev 2): "（暂定）" beside the date, and why it is provisional
        assert (
            "调解期限届满日2027年1月27日（暂定）（该年度节假日安排尚未公布：期限已扣除法定节假日，调休安排待国务院公布后"
            "重新核定；暂定期限届满不视为调解不成）" in documents.zh("acceptance_provisional")
        )
        assert "（暂定）" not in documents.zh("acceptance")
        assert (
            "Mediation period ends on 2027-01-27 (provisional) (That year's holiday schedule is not published yet"
        ) in documents.en("acceptance_provisional")

    def test_the_english_version_has_the_same_content(self, documents: Documents) -> None:
        text = documents.en("acceptance")
        for expected in (
            "decided to accept it on 2026-01-20",
            "within 30 working days of acceptance; "
            "when an appraisal is needed, the time it takes is not counted",
            "Accepted on 2026-01-20 Mediation period ends on 2026-03-09",
            "(Article 23 of the People's Mediation Law)",
            "(1) to choose or accept the people's mediator;",
            "(2) to accept mediation, refuse mediation or request that mediation be terminated;",
            "(3) to have the mediation held in private; it is held in public only if both parties consent (Article 42 of the Regulation);",
            "(4) to express their wishes independently and reach a mediation agreement voluntarily.",
            "(Article 24 of the People's Mediation Law)",
            "(1) to state the facts of the dispute truthfully;",
            "(2) to observe order at the mediation and respect the people's mediator;",
            "(3) to respect the other party's exercise of its rights.",
            "Article 32 of the Regulation on the Prevention and Handling of Medical Disputes; "
            "Article 4 of the People's Mediation Law",
        ):
            assert expected in text, expected


# --- 不予受理通知书 --------------------------------------------------------------------------------------


REGULATION_22_ZH = (
    "当事人可以通过下列途径解决医疗纠纷（《医疗纠纷预防和处理条例》第二十二条）："
    "（一）双方自愿协商；（二）申请卫生主管部门调解；（三）依法向人民法院提起诉讼；（四）法律、法规规定的其他途径。"
)
REGULATION_22_EN = (
    "The parties may resolve the medical dispute in the following ways (Article 22 of the Regulation on the "
    "Prevention and Handling of Medical Disputes): "
    "(1) negotiation between the two parties of their own free will; "
    "(2) applying to the health department for mediation; "
    "(3) bringing a lawsuit before a people's court in accordance with the law; "
    "(4) other ways provided by laws and regulations."
)
PML_26_ZH = "当事人可以依法通过仲裁、行政、司法等途径维护自己的权利（《人民调解法》第二十六条）。"
PML_26_EN = (
    "The parties may protect their rights through arbitration, administrative, judicial or other channels "
    "in accordance with the law (Article 26 of the People's Mediation Law)."
)
REASONS_EN = {
    1: "The other party refuses mediation, or has given no clear answer after repeated notices.",
    2: "The dispute does not arise from diagnosis, treatment or nursing.",
    7: "The dispute has already been mediated by a people's mediation committee (a duplicate application).",
    8: "Other (the reason in words).",
}


class TestRejectionNotice:
    def test_prints_all_eight_reasons_and_ticks_the_chosen_ones(self, documents: Documents) -> None:
        # MOJ 2002 Rules art 22, Reg 31¶4: the list of eight, chosen ones ticked
        text = documents.zh("rejection")
        for number, reason in REJECT_REASONS.items():
            item = flat(f"{number}．{reason}")
            assert item in text
            assert (TICK + item in text) == (number in REJECTED_FOR), number
        assert text.count(TICK) == len(REJECTED_FOR)

    def test_names_the_chosen_items_and_the_decision(self, documents: Documents) -> None:
        text = documents.zh("rejection")
        assert "当事人于2026年1月29日申请调解" in text
        assert "属于下列第2、8项所列情形，本委员会决定不予受理" in text

    def test_prints_the_words_of_reason_eight(self, documents: Documents) -> None:
        assert flat(f"8．{REJECT_REASONS[8]}{OTHER_REASON}") in documents.zh("rejection")

    def test_names_the_other_routes(self, documents: Documents) -> None:
        # Reg 22: negotiation, health-department mediation, litigation
        text = documents.zh("rejection")
        assert REGULATION_22_ZH in text
        assert "《人民调解法》第二十六条" not in text  # PML 26 is about failed mediation

    def test_the_english_version_ticks_the_same_reasons(self, documents: Documents) -> None:
        text = documents.en("rejection")
        assert "falls under item(s) 2, 8 of the list below" in text
        for number, reason in REASONS_EN.items():
            item = flat(f"{number}.{reason}")
            assert item in flat(text)
            assert (TICK + item in flat(text)) == (number in REJECTED_FOR), number
        assert text.count(TICK) == len(REJECTED_FOR)
        assert flat(OTHER_REASON) in flat(text)
        assert REGULATION_22_EN in text


# --- 调解不成告知书 --------------------------------------------------------------------------------------


class TestFailureNotice:
    def test_a_declared_failure_gives_the_mediators_words(self, documents: Documents) -> None:
        # PML 26
        text = documents.zh("failure_declared")
        assert "本委员会于2026年1月20日受理后依法进行了调解" in text
        assert "本委员会于2026年2月27日终止调解" in text
        assert "人民调解员陈七宣布调解不成（《人民调解法》第二十六条），理由如下：" + flat(DECLARATION) in text
        assert "视为调解不成" not in text

    def test_an_expired_deadline_is_deemed_a_failure(self, documents: Documents) -> None:
        # Reg 38
        text = documents.zh("failure_expired")
        assert "调解期限届满未达成调解协议，视为调解不成（《医疗纠纷预防和处理条例》第三十八条）" in text
        assert "本案调解期限于2026年3月9日届满" in text
        assert "本委员会于2026年3月9日终止调解" in text
        assert "宣布调解不成" not in text

    @pytest.mark.parametrize("name", ["failure_declared", "failure_expired"])
    def test_names_the_other_routes(self, documents: Documents, name: str) -> None:
        # PML 26, Reg 22
        text = documents.zh(name)
        assert PML_26_ZH in text and REGULATION_22_ZH in text

    def test_the_english_version_gives_the_reason_and_the_routes(self, documents: Documents) -> None:
        declared, expired = documents.en("failure_declared"), documents.en("failure_expired")
        assert (
            "The people's mediator 陈七 declared that the mediation had failed "
            "(Article 26 of the People's Mediation Law), for the following reasons:"
        ) in declared
        assert flat(DECLARATION) in flat(declared)  # Chinese text: lines break anywhere
        assert "ended the mediation on 2026-02-27" in declared
        assert (
            "The mediation period expired without a mediation agreement, "
            "so the mediation is deemed to have failed "
            "(Article 38 of the Regulation on the Prevention and Handling of Medical Disputes). "
            "The mediation period of this case expired on 2026-03-09."
        ) in expired
        for text in (declared, expired):
            assert PML_26_EN in text and REGULATION_22_EN in text


# --- 终止调解告知书 --------------------------------------------------------------------------------------


class TestTerminationNotice:
    def test_gives_the_ground_the_detail_and_the_date(self, documents: Documents) -> None:
        # PML 23(2): a party withdrew
        text = documents.zh("termination")
        assert "本委员会决定自2026年2月11日起终止调解" in text
        assert "终止调解的理由" + flat(TERMINATION_GROUNDS["party_withdrew"]) in text
        assert "具体情况" + flat(TERMINATION_DETAIL) in text

    def test_names_the_other_routes(self, documents: Documents) -> None:
        # PML 26, Reg 22
        text = documents.zh("termination")
        assert PML_26_ZH in text and REGULATION_22_ZH in text

    def test_the_english_version_translates_the_ground(self, documents: Documents) -> None:
        text = documents.en("termination")
        assert "terminate the mediation as of 2026-02-11" in text
        assert (
            "A party withdrew the application or clearly refused to continue the mediation "
            "(Article 23(2) of the People's Mediation Law)."
        ) in text
        assert "Details" + flat(TERMINATION_DETAIL) in flat(text)
        assert PML_26_EN in text and REGULATION_22_EN in text

    @pytest.mark.parametrize("ground", sorted(TERMINATION_GROUNDS))
    def test_every_ground_has_its_text_in_both_languages(self, ground: str) -> None:
        # PML 23(2), Reg 31¶4, PML 25
        context = replace(TERMINATION, ground=ground, ground_text=TERMINATION_GROUNDS[ground])
        assert TERMINATION_GROUNDS[ground] in render_html("termination_notice", context, "zh")
        english = render_html("termination_notice", context, "en")
        printed = english.split("Reason for termination")[1].split("Details")[0]
        assert TERMINATION_GROUNDS[ground] not in printed
        assert re.search(r"\(Article \d+(\(\d\))? of the", printed)


# --- 回访记录 --------------------------------------------------------------------------------------------


class TestFollowupRecord:
    def test_records_who_visited_when_and_how(self, documents: Documents) -> None:
        text = documents.zh("followup")
        assert "调解协议书编号〔2026〕沪黄医调协字第7号回访人陈七回访时间2026年5月8日10:30" in text  # Asia/Shanghai
        assert f"回访方式{TICK}电话回访上门回访回访对象患方张三（患者之子）" in text

    def test_records_performance_satisfaction_and_a_later_lawsuit(self, documents: Documents) -> None:
        text = documents.zh("followup")
        assert f"协议履行情况{TICK}已履行完毕部分履行未履行医方已于2026年3月20日一次性支付赔偿款。" in text
        assert f"当事人满意度满意{TICK}基本满意不满意" in text
        assert f"是否另行起诉否{TICK}是{flat(LAWSUIT)}" in text
        assert "备注" + flat(NOTES) in text
        assert text.count(TICK) == 4  # one per question

    def test_has_a_signature_line_for_the_visitor(self, documents: Documents) -> None:
        assert "回访人（签名）：年月日" in documents.zh("followup")

    def test_the_english_version_has_the_same_fields(self, documents: Documents) -> None:
        text = documents.en("followup")
        for expected in (
            "Agreement No. 〔2026〕沪黄医调协字第7号",
            "Visited by 陈七",
            "Date and time 2026-05-08 10:30",
            "Person visited 患方张三（患者之子）",
            "Visitor (signature):",
        ):
            assert expected in text, expected
        squeezed = flat(text)
        assert f"How{TICK}byphoneinperson" in squeezed
        assert f"{TICK}fullyperformedpartlyperformednotperformed" in squeezed
        assert f"satisfied{TICK}basicallysatisfieddissatisfied" in squeezed
        assert f"no{TICK}yes{flat(LAWSUIT)}" in squeezed

    def test_a_record_without_a_lawsuit_ticks_no(self) -> None:
        no_lawsuit = replace(FOLLOWUP, later_lawsuit=False, lawsuit_detail=None)
        html = render_html("followup_record", no_lawsuit, "zh")
        row = html.split("是否另行起诉")[1].split("</tr>")[0]
        assert re.search(r'class="box ticked">✓</span>否', row)
        assert re.search(r'class="box"></span>是', row)

    def test_unknown_choices_are_refused(self) -> None:
        with pytest.raises(ValueError):
            replace(FOLLOWUP, satisfaction="very")
        with pytest.raises(ValueError):
            replace(FOLLOWUP, method="letter")


# --- Parties' text is text, never markup -------------------------------------------------------------


@pytest.mark.parametrize(("name", "lang"), EVERY)
def test_typed_markup_and_rare_characters_are_printed_literally(
    documents: Documents, name: str, lang: str
) -> None:
    text = flat(documents(name, lang).body)
    assert flat(SCRIPT) in text
    assert flat(PATIENT_NAME) in text and f"{RARE}田" in text


@pytest.mark.parametrize(("name", "lang"), EVERY)
def test_typed_markup_is_escaped_in_the_html(name: str, lang: str) -> None:
    kind, context = SAMPLES[name]
    html = render_html(kind, context, lang)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "O&#39;Brien &#34;Jr&#34;" in html


# --- Archival PDF: PDF/A-3b with the data attached ---------------------------------------------------


@pytest.mark.parametrize(("name", "lang"), EVERY)
def test_the_pdf_declares_pdf_a_3b(documents: Documents, name: str, lang: str) -> None:
    reader = documents(name, lang).reader
    pdfa = xmp_pdfa(reader)
    assert pdfa["part"] == "3" and pdfa["conformance"] == "B"
    assert reader.trailer["/Root"]["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"


@pytest.mark.parametrize(("name", "lang"), EVERY)
def test_the_context_is_attached_as_json(documents: Documents, name: str, lang: str) -> None:
    rendered = documents(name, lang)
    attachment = f"{rendered.kind}.json"
    assert list(rendered.reader.attachments) == [attachment]
    associated = [ref.get_object() for ref in rendered.reader.trailer["/Root"]["/AF"]]
    assert [(spec["/UF"], spec["/AFRelationship"]) for spec in associated] == [(attachment, "/Data")]
    data = json.loads(rendered.reader.attachments[attachment][0])
    context = rendered.context
    assert data["document_number"] == context.document_number
    assert data["issued_at"] == context.issued_at.isoformat()
    assert data["parties"][0]["name"] == PATIENT_NAME
    assert data["seal"] == {"committee_name": COMMITTEE, "sealed_on": context.seal.sealed_on.isoformat()}


def test_the_rejection_attachment_carries_every_reason_with_its_tick(documents: Documents) -> None:
    data = json.loads(documents("rejection", "zh").reader.attachments["rejection_notice.json"][0])
    assert [(r["number"], r["text"], r["ticked"]) for r in data["reasons"]] == [
        (number, text, number in REJECTED_FOR) for number, text in REJECT_REASONS.items()
    ]
    assert data["reasons"][7]["detail"] == OTHER_REASON


def test_the_pdf_is_dated_when_the_notice_was_issued(documents: Documents) -> None:
    # the same context gives the same bytes: the creation date is issued_at, not the time of rendering
    assert documents("acceptance", "zh").reader.metadata["/CreationDate"].startswith("D:20260120100000+08")


# --- Appearance --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "lang"), EVERY)
def test_page_one_is_not_blank(documents: Documents, name: str, lang: str) -> None:
    document = pypdfium2.PdfDocument(documents(name, lang).pdf)
    try:
        image = document[0].render(scale=0.5).to_pil().convert("L")
    finally:
        document.close()
    inked = sum(image.histogram()[:200]) / (image.size[0] * image.size[1])
    assert 0.02 < inked < 0.5, inked


# --- Contexts ------------------------------------------------------------------------------------------


def test_a_rejection_needs_a_ticked_reason_and_reason_eight_needs_words() -> None:
    unticked = tuple(replace(reason, ticked=False) for reason in REJECTION.reasons)
    with pytest.raises(ValueError):
        replace(REJECTION, reasons=unticked)
    with pytest.raises(ValueError):
        replace(REJECTION, reasons=unticked[:7] + (replace(unticked[7], ticked=True, detail=" "),))


def test_a_failure_is_declared_or_deemed() -> None:
    with pytest.raises(ValueError):
        replace(FAILURE_DECLARED, cause="gave_up")


def test_a_notice_is_rendered_from_its_own_context() -> None:
    with pytest.raises(TypeError):
        render_html("rejection_notice", ACCEPTANCE, "zh")


def test_a_deadline_that_ran_out_fails_the_case_on_its_last_day() -> None:
    # Reg 38 (rev 2): dated at the exact deadline: 24:00 of the due date, never the day after it (nor, for a due
    # date of 31 December, a day of the next year)
    from documents.case_contexts import failure_notice_context
    from domain.clock import end_of_day
    from models.tables import Case, Committee, Transition
    from tests.factories import registration

    due = date(2026, 12, 31)
    case = Case(id="c1", number="〔2026〕沪黄医调字第9号", committee_id="k", status="failed", registration=registration(),
                accepted_at=datetime(2026, 11, 19, 10, 0, tzinfo=SHANGHAI), due_date=due, mediators=["陈七"])
    expired = Transition(case_id="c1", seq=9, event="deadline_expired", from_status="in_mediation", to_status="failed",
                         actor="system", payload={"due_date": due.isoformat(), "provisional": False,
                                                  "deemed_at": end_of_day(due).isoformat(), "reason": "期限届满"})
    context = failure_notice_context(case=case, committee=Committee(id="k", name="上海市黄浦区医疗纠纷人民调解委员会"),
                                     number="〔2026〕沪黄医调不成字第7号", at=datetime(2027, 3, 2, 9, 0, tzinfo=SHANGHAI),
                                     transition=expired)
    assert context.failed_on == due == context.deadline


def test_the_case_files_cover_dates_a_close_at_midnight_by_what_closed_it() -> None:
    # Reg 38: a deadline's 24:00 is its last day; an act entered from records at 00:00 is on its own day
    from documents.case_contexts import _closed_on
    from domain.clock import end_of_day
    from models.tables import Case, Transition

    due = date(2026, 12, 31)
    expired = Transition(case_id="c1", seq=9, event="deadline_expired", from_status="in_mediation",
                         to_status="failed", actor="system",
                         payload={"due_date": due.isoformat(), "deemed_at": end_of_day(due).isoformat()})
    failed = Case(id="c1", number="n", committee_id="k", status="failed", registration={}, closed_at=end_of_day(due))
    assert _closed_on(failed, [expired]) == due
    midnight = datetime(2025, 3, 4, 0, 0, tzinfo=SHANGHAI)
    withdrawn = Transition(case_id="c2", seq=5, event="terminate", from_status="in_mediation", to_status="terminated",
                           actor="u1", payload={"ground": "party_withdrew"})
    terminated = Case(id="c2", number="n", committee_id="k", status="terminated", registration={}, closed_at=midnight)
    assert _closed_on(terminated, [withdrawn]) == date(2025, 3, 4)
