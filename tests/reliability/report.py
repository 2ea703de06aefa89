"""The figures of `make reliability`, one JSON line a scenario (tests/reliability/cluster.py `figures`), as a table:
`python -m tests.reliability.report reliability.jsonl`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = ("scenario", "backend", "held", "nothing lost")


def held(row: dict) -> str:
    scenario = row["scenario"]
    if scenario == "crash faults":
        return (f"{row['cases']} cases archived through {sum(row['kills'].values())} kill -9 "
                f"({', '.join(f'{k} ×{v}' for k, v in row['kills'].items())}); {row['requests']} requests, "
                f"503s {row['documented_503']}")
    if scenario == "load":
        return (f"{row['actions_at_once']} actions + {row['reads_at_once']} reads at once; p50 {row['p50_s']} s, "
                f"p99 {row['p99_s']} s, slowest {row['slowest_s']} s; /health/live {row['health_checks']}×, "
                f"slowest {row['health_slowest_s']} s")
    if scenario == "database stall":
        return f"{row['actions']} actions during a {row['stall_s']} s lock, all applied after {row['all_applied_after_s']} s"
    if scenario == "unbounded body":
        return f"{row['body_mib']} MiB bodies: {', '.join(row['answers'])}; memory +{row['rss_growth_kib']} KiB"
    if scenario in ("frozen worker", "server killed mid-action"):
        return f"answered after {row['answered_after_s']} s (timeout {row['action_timeout_s']} s)"
    if scenario == "bad input":
        return f"seed {row['seed']}: {row['requests']} requests over {row['operations']} operations, {row['statuses']}"
    return json.dumps(row, ensure_ascii=False)


def lost(row: dict) -> str:
    if row["scenario"] == "bad input":
        return f"{row['server_errors']} 5xx"
    parts = [f"{key.replace('_', ' ')} {row[key]}" for key in
             ("lost_transitions", "duplicate_documents", "audit_entries_missing", "lost", "server_errors", "applied")
             if key in row]
    return ", ".join(parts) or "-"


def main(path: str) -> int:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        print(f"| {row['scenario']} | {row.get('backend', 'sqlite')} | {held(row)} | {lost(row)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "reliability.jsonl"))
