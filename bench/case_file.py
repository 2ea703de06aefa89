"""Binding the 卷宗 (case file, PML 27) of an archived case: cover, index, history and audit pages laid out by
WeasyPrint, every document attached as issued, the manifest, then the committee's seal. Prints one JSON line of
figures, then a human line.

    python -m bench.case_file              (24 documents, 40 transitions, 300 audit entries, 5 repeats)

The case is synthetic: a long one (two agreement versions, notices, opinions, each in zh and en), its documents
~350 KB each like the real ones. The figure is the wall time of `bind` and of the seal (median and max over
--repeat runs, after one warm-up) and the size of the file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from documents.case_file import bind, file_name
from documents.contexts import CaseFileContext, FiledAuditEntry, FiledDocument, FiledTransition
from documents.seal import SealKey, generate_committee_key, sealer_for
from domain.time import SHANGHAI

START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
COMMITTEE = "上海市黄浦区医疗纠纷人民调解委员会"


def context(documents: list[FiledDocument], transitions: int, audit: int) -> CaseFileContext:
    return CaseFileContext(
        committee_name=COMMITTEE, file_number="〔2026〕沪黄医调字第88号", case_id="bench", patient_name="王小明",
        institution_name="上海市某区人民医院", mediators=("陈调解员", "周调解员"), outcome="调解成功",
        registered_at=START, accepted_at=START + timedelta(days=3), closed_on=(START + timedelta(days=60)).date(),
        archived_at=START + timedelta(days=90), retention_years=30, documents=tuple(documents),
        transitions=tuple(
            FiledTransition(seq=i + 1, at=START + timedelta(hours=i * 7), event="sign" if i % 3 else "record_minutes",
                            from_label="待签署", to_label="待签署", actor="陈调解员（人民调解员）")
            for i in range(transitions)
        ),
        audit_entries=tuple(
            FiledAuditEntry(id=i + 1, at=START + timedelta(hours=i), actor="孙审计（审计）",
                            action="GET /documents/{document_id}/pdf", status_code=200,
                            hash=hashlib.sha256(str(i).encode()).hexdigest())
            for i in range(audit)
        ),
        audit_head_hash=hashlib.sha256(b"head").hexdigest(),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=24)
    parser.add_argument("--transitions", type=int, default=40)
    parser.add_argument("--audit", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    sample = bind(context([], 3, 3), {}).pdf  # a real rendered PDF stands in for each document
    filed, originals = [], {}
    for i in range(args.documents):
        name = file_name("agreement", "zh" if i % 2 else "en", 1 + i // 8, f"{i:012d}")
        data = sample + b"%" * (i + 1)  # distinct bytes, distinct hashes
        originals[name] = data
        filed.append(FiledDocument(file=name, document_id=f"{i:012d}", number=f"〔2026〕沪黄医调协字第{i + 1}号", title="人民调解协议书",
                                   lang="zh", version=1, created_at=START + timedelta(days=i), superseded=i < 2,
                                   sha256=hashlib.sha256(data).hexdigest(), size=len(data)))
    case_file = context(filed, args.transitions, args.audit)
    with tempfile.TemporaryDirectory() as tmp:
        seal = sealer_for(SealKey.load(*generate_committee_key(COMMITTEE, Path(tmp))))
        bind_ms, seal_ms, size = [], [], 0
        for run in range(args.repeat + 1):
            started = time.perf_counter()
            bound = bind(case_file, originals)
            bound_at = time.perf_counter()
            sealed = seal(bound.pdf, reason="卷宗", location="上海市", name=COMMITTEE)
            done = time.perf_counter()
            if run:  # the first run warms fonts and caches up
                bind_ms.append((bound_at - started) * 1000)
                seal_ms.append((done - bound_at) * 1000)
            size = len(sealed)
    figures = {
        "bench": "case_file",
        "documents": args.documents,
        "transitions": args.transitions,
        "audit_entries": args.audit,
        "bind_ms_median": round(statistics.median(bind_ms), 1),
        "bind_ms_max": round(max(bind_ms), 1),
        "seal_ms_median": round(statistics.median(seal_ms), 1),
        "file_bytes": size,
        "documents_bytes": sum(len(d) for d in originals.values()),
    }
    print(json.dumps(figures, ensure_ascii=False))
    print(f"case file of {args.documents} documents, {args.transitions} transitions, {args.audit} audit entries: "
          f"bound in {figures['bind_ms_median']} ms (max {figures['bind_ms_max']}), sealed in "
          f"{figures['seal_ms_median']} ms, {size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
