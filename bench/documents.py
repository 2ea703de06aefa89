"""How long a document takes to render (template, WeasyPrint layout, PDF/A, the context attached), without the
seal: the draft and the effective agreement, the acceptance, termination and failure notices, the minutes and the
expert opinion, in Chinese.
Prints one JSON line of figures, then a human line.

    python -m bench.documents              (each document 9 times after one warm-up; median and max, ms)

The floor, measured in the same run: an empty page (one Chinese character) laid out by the same pipeline (the same
print style and fonts, PDF/A-3b); `agreement_ratio` is the effective agreement's median over the floor's (goal:
at most 1.5, and at most 200 ms unloaded); `opinion_to_notice` is the three-page expert opinion's median over the
one-page failure notice's.

Each figure is wall-clock time; `cpu_median_ms` is the process's CPU time for the same renders, which other work on
the machine disturbs less. `load_average` is the machine's (1, 5, 15 minutes) before and after the run: wall-clock
medians taken at a load above the number of cores are not the unloaded figures.

The contexts are a typical case's: two parties with agents, three terms, two mediators; the minutes of a session
with six statements.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from documents.contexts import (
    AcceptanceNoticeContext,
    AgreementContext,
    Attendee,
    ExpertOpinionContext,
    FailureNoticeContext,
    Meeting,
    MinutesStatement,
    OpinionPart,
    PanelMember,
    PartyBlock,
    SealBlock,
    SessionMinutesContext,
    SignatureAct,
    SignatureBlock,
    Term,
    TerminationNoticeContext,
)
from documents.render import pdf_from_html, render_pdf
from domain.lifecycle import TERMINATION_GROUNDS
from domain.time import SHANGHAI

COMMITTEE = "上海市黄浦区医疗纠纷人民调解委员会"
CASE_NUMBER = "〔2026〕沪黄医调字第12号"
ISSUED = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
PATIENT = PartyBlock(side="patient", name="王小明", id_number="310101198001011234", phone="13800138000",
                     address="上海市黄浦区南京东路100号", sex="男", age=46, agents=("王大明（患者之兄，委托代理人）",))
INSTITUTION = PartyBlock(side="institution", name="上海市某区人民医院", address="上海市黄浦区某路1号",
                         legal_representative="李院长", agents=("张律师（医院法律顾问）",))
NOTICE_HEAD: dict[str, Any] = {
    "committee_name": COMMITTEE, "case_number": CASE_NUMBER, "issued_at": ISSUED,
    "parties": (PartyBlock(side="patient", name="王小明", agents=PATIENT.agents),
                PartyBlock(side="institution", name=INSTITUTION.name, agents=INSTITUTION.agents)),
    "seal": SealBlock(committee_name=COMMITTEE, sealed_on=ISSUED.date()),
}


def agreement(effective: bool) -> AgreementContext:
    terms = tuple(
        Term(text=text, amount=Decimal(amount), payer=INSTITUTION.name, manner="银行转账至患方指定账户",
             deadline_text=f"协议生效之日起{days}个工作日内",
             resolved_deadline=date(2026, 12, 9 + index * 2) if effective else None)
        for index, (text, amount, days) in enumerate((("医方支付医疗费", "30000.00", 10),
                                                      ("医方支付误工费、护理费", "20000.00", 15),
                                                      ("医方支付精神损害抚慰金", "36500.50", 20))))
    acts = tuple(
        SignatureAct(role=role, for_whom=whom, signed_by=by, capacity=capacity, method=method,
                     signed_at=datetime(2026, 11, 25, 9, minute, tzinfo=SHANGHAI))
        for minute, (role, whom, by, capacity, method) in enumerate((
            ("patient", "患方", "王大明", "患者之兄，委托代理人", "signature"),
            ("institution", "医方", "李院长", "法定代表人", "seal"),
            ("mediator", "人民调解员", "陈调解员", "人民调解员", "signature"),
            ("committee_seal", "人民调解委员会", "赵主任", "加盖人民调解委员会印章", "seal"))))
    return AgreementContext(
        committee_name=COMMITTEE, case_number=CASE_NUMBER,
        document_number="〔2026〕沪黄医调协字第7号" if effective else None, version=1, parties=(PATIENT, INSTITUTION),
        facts="患者于2026年10月3日因阑尾炎入院手术，术后切口感染，再次手术。患方认为医方术中消毒不规范。" * 3,
        points_in_dispute="医方诊疗行为是否存在过错及赔偿数额。",
        responsibilities="医方对患者切口感染承担主要责任，患方对术后护理不当承担次要责任。",
        terms=terms, total_amount=sum((t.amount for t in terms if t.amount), Decimal(0)),
        mediators=("陈调解员", "周调解员"),
        signatures=(SignatureBlock(role="patient", label="患方（签名或捺印）", name="王小明"),
                    SignatureBlock(role="institution", label="医方（盖章）", name=INSTITUTION.name),
                    SignatureBlock(role="mediator", label="人民调解员（签名）", name="陈调解员"),
                    SignatureBlock(role="mediator", label="人民调解员（签名）", name="周调解员"),
                    SignatureBlock(role="committee_seal", label="人民调解委员会（印章）")),
        drafted_at=ISSUED, effective_on=date(2026, 11, 25) if effective else None,
        signature_record=acts if effective else (),
    )


DOCUMENTS: dict[str, tuple[str, Callable[[], Any]]] = {
    "agreement_draft": ("agreement_draft", lambda: agreement(False)),
    "agreement": ("agreement", lambda: agreement(True)),
    "acceptance_notice": ("acceptance_notice", lambda: AcceptanceNoticeContext(
        **NOTICE_HEAD, document_number="〔2026〕沪黄医调受字第12号", accepted_on=ISSUED.date(),
        deadline=date(2027, 1, 8), mediators=("陈调解员", "周调解员"))),
    "termination_notice": ("termination_notice", lambda: TerminationNoticeContext(
        **NOTICE_HEAD, document_number="〔2026〕沪黄医调终字第3号", ground="court_accepted",
        ground_text=TERMINATION_GROUNDS["court_accepted"], detail="患方已向人民法院起诉，法院已立案受理。",
        terminated_on=ISSUED.date(), accepted_on=date(2026, 11, 2), mediators=("陈调解员",),
        body="上海市黄浦区人民法院", body_case_number="（2026）沪0101民初12345号", body_accepted_on=date(2026, 11, 20))),
    "session_minutes": ("session_minutes", lambda: SessionMinutesContext(
        **NOTICE_HEAD, document_number="〔2026〕沪黄医调笔字第5号", session_number=1, held_at=ISSUED,
        place="黄浦区医调委第一调解室", mediators=("陈调解员",), recorder="刘记录员",
        attendees=(Attendee("王大明", "患方委托代理人（患者之兄）"), Attendee("张律师", "医方委托代理人")),
        statements=tuple(MinutesStatement(speaker, "我方认为医方术中消毒不规范，要求赔偿各项损失。" * 4)
                         for speaker in ("王大明", "张律师") * 3),
        summary="双方同意在下次调解时就赔偿数额继续协商。")),
    "failure_notice": ("failure_notice", lambda: FailureNoticeContext(
        **NOTICE_HEAD, document_number="〔2026〕沪黄医调不成字第5号", cause="deadline_expired",
        failed_on=ISSUED.date())),
    "expert_opinion": ("expert_opinion", lambda: expert_opinion()),
}


def expert_opinion() -> ExpertOpinionContext:
    """A three-slot panel's opinion, one part voided and redrawn (version 2): three pages."""
    slots = ((1, "obstetrics", "产科", "李华", "主任医师"), (2, "obstetrics", "产科", "张敏", "副主任医师"),
             (3, "law", "法学", "赵强", "律师"))
    finding = ("医方在产程观察中未及时发现胎心异常，存在过错", "过错与新生儿缺氧缺血性脑病之间存在因果关系")
    parts = [OpinionPart(slot, code, label, name, title, *finding, liability_percent=60,
                         text="产程记录显示胎心监护异常持续四十分钟。\n医方未及时处置。" * 3,
                         submitted_on=ISSUED.date()) for slot, code, label, name, title in slots]
    parts.insert(1, OpinionPart(2, "obstetrics", "产科", "孙伟", "主任医师", "医方不存在过错", "不存在因果关系",
                                liability_percent=0, void=True, void_reason="三年内曾在医方任职（回避事由）"))
    return ExpertOpinionContext(
        committee_name=COMMITTEE, case_number=CASE_NUMBER, issued_at=ISSUED, seal=NOTICE_HEAD["seal"],
        parties=(PartyBlock(side="patient", name="王某"), PartyBlock(side="institution", name=INSTITUTION.name)),
        document_number="〔2026〕沪黄医调咨字第3号", version=2,
        question="医方在产程处理中是否存在过错？过错与新生儿损害后果之间有无因果关系？责任程度如何？",
        material=("门诊病历", "住院病历", "胎心监护记录"),
        panel=tuple(PanelMember(slot, code, label, name, title) for slot, code, label, name, title in slots),
        parts=tuple(parts), meeting=Meeting(held_at=ISSUED, place="本委员会第一会议室"))


EMPTY_PAGE = '<html lang="zh-CN"><body><p>空</p></body></html>'
GOALS = {"agreement_ratio": 1.5, "agreement_median_ms": 200.0}


def timed(render: Callable[[], Any], repeat: int) -> dict[str, float]:
    render()  # warm-up: fonts, templates
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        render()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
            "cpu_median_ms": round(statistics.median(cpu), 1)}


def measure(repeat: int) -> dict[str, dict[str, float]]:
    figures = {"empty_page_floor": timed(lambda: pdf_from_html(EMPTY_PAGE), repeat)}
    for name, (kind, build) in DOCUMENTS.items():
        context = build()
        figures[name] = timed(lambda kind=kind, context=context: render_pdf(kind, context), repeat)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    figures = measure(args.repeat)
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()],
            "cores": os.cpu_count()}
    agreement, floor = figures["agreement"], figures["empty_page_floor"]
    summary = {"agreement_median_ms": agreement["median_ms"],
               "agreement_ratio": round(agreement["median_ms"] / floor["median_ms"], 2),
               "opinion_to_notice": round(figures["expert_opinion"]["median_ms"]
                                          / figures["failure_notice"]["median_ms"], 2)}
    cpu_ratio = round(agreement["cpu_median_ms"] / floor["cpu_median_ms"], 2)
    print(json.dumps({"bench": "documents", "repeat": args.repeat, "load_average": load, "render": figures, **summary,
                      "agreement_cpu_ratio": cpu_ratio, "goals": GOALS,
                      "met": {name: summary[name] <= goal for name, goal in GOALS.items()}}, ensure_ascii=False))
    print("  ".join(f"{name} {f['median_ms']:.0f} ms ({f['cpu_median_ms']:.0f} CPU)" for name, f in figures.items()),
          file=sys.stderr)
    print(f"agreement/floor {summary['agreement_ratio']} (CPU {cpu_ratio}); load average {load['before'][0]} before, "
          f"{load['after'][0]} after, {load['cores']} cores", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
