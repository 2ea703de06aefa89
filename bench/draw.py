"""One slot of an expert draw over a city pool: eligibility over every expert, then the seeded draw (Reg 33,
37; domain/draw.py). Prints one JSON line of figures, then a human table.

    python -m bench.draw                    (20,000 experts, 50 repeats)
    python -m bench.draw --with-database    (and the draw as the activity runs it, the pool read from SQLite)

The pool is synthetic and the same on every run (random.Random(--seed)): about 3 specialties per expert from
domain/specialties.py (some departments far more common than others, as in a real pool), current and past
affiliations with a few dozen institutions, among them the respondent's group of three sites, declared
relatives, loads and caps, and some inactive experts. The case: the patient and a representative (a few
experts are related to them, one bears the patient's name and has no identity number), a conflict, earlier
declines, expiries and recusals, and one expert already on the panel.

One run is what the panel workflow does for one slot: `eligibility(pool, specialty, facts, today=...)` over
all N experts for the pool's most common specialty, then `draw(snapshot, seed)` with a new seed each run. The
figure is the wall time of the run (median, p95 and max over --repeat runs, after one warm-up); the target is
20 ms for 20,000 experts, met when the p95 is within it. The peak memory that the eligibility call allocates
is measured apart, with tracemalloc, which slows what it traces.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from domain.draw import LOOKBACK_YEARS, Affiliation, Candidate, CaseFacts, Person, draw, eligibility
from domain.specialties import CLINICAL, NON_CLINICAL

TARGET_MS_PER_20K = 20.0
TODAY = date(2026, 6, 15)
GROUP = ("H-G1-EAST", "H-G1-WEST", "H-G1-SOUTH")  # the respondent and the other sites of its group
OTHERS = tuple(f"H-{i:03d}" for i in range(1, 41))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞红建国志文斌宇浩凯健俊帆鹏"
PATIENT = Person("王小明", "31010119800101123X")
REPRESENTATIVE = Person("王大伟")  # no identity number on file: matched by name
NAMESAKE = 4242  # the expert who bears the patient's name and has no identity number on file


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def id_number(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(50 * 365))
    return f"310{rng.randrange(100, 120)}{born:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def specialties(rng: random.Random, codes: list[str], weights: list[float]) -> frozenset[str]:
    wanted = rng.choice((2, 3, 3, 3, 4))
    chosen: set[str] = set()
    while len(chosen) < wanted:
        chosen.add(rng.choices(codes, weights)[0])
    return frozenset(chosen)


def affiliations(rng: random.Random) -> tuple[Affiliation, ...]:
    places = [rng.choice(GROUP) if rng.random() < 0.08 else rng.choice(OTHERS)]
    if rng.random() < 0.4:  # a past post, ended some time in the last ten years
        places.append(rng.choice(GROUP) if rng.random() < 0.08 else rng.choice(OTHERS))
    result = [Affiliation(places[0], date(rng.randrange(1990, 2024), 1 + rng.randrange(12), 1))]
    for place in places[1:]:
        ended = TODAY - timedelta(days=rng.randrange(10 * 365))
        result.append(Affiliation(place, ended - timedelta(days=rng.randrange(365, 20 * 365)), ended))
    return tuple(result)


def pool(n: int, seed: int) -> list[Candidate]:
    """N experts, the same for the same seed. Those who are or may be a party or a party's relative (one in
    997, and the patient's namesake) practise the pool's most common specialty, the one measured."""
    rng = random.Random(seed)
    codes = list(CLINICAL) + list(NON_CLINICAL)
    weights = [rng.uniform(0.3, 3.0) for _ in codes]  # some departments much more common than others
    experts: list[Candidate] = []
    special: list[int] = []
    for i in range(n):
        relatives = tuple(Person(name(rng), id_number(rng) if rng.random() < 0.7 else None)
                          for _ in range(rng.choice((0, 0, 0, 0, 0, 0, 1, 1, 2))))
        if i % 997 == 5:  # related to the patient or to the representative
            relatives += (PATIENT if i % 2 else REPRESENTATIVE,)
            special.append(i)
        namesake = i == NAMESAKE % n
        if namesake:
            special.append(i)
        cap = rng.choice((2, 3, 3, 3, 5))
        experts.append(Candidate(
            id=f"X{i:06d}",
            name=PATIENT.name if namesake else name(rng),
            specialties=specialties(rng, codes, weights),
            active=rng.random() > 0.05,
            load=min(cap, int(rng.expovariate(1.2))),
            cap=cap,
            id_number=None if namesake or rng.random() < 0.1 else id_number(rng),
            relatives=relatives,
            affiliations=affiliations(rng),
        ))
    common = most_common_specialty(experts)
    for i in special:
        experts[i] = replace(experts[i], specialties=experts[i].specialties | {common}, active=True)
    return experts


def most_common_specialty(experts: list[Candidate]) -> str:
    return Counter(s for e in experts for s in e.specialties).most_common(1)[0][0]


def case_facts(experts: list[Candidate], seed: int) -> CaseFacts:
    rng = random.Random(seed + 1)
    ids = [e.id for e in experts]
    answers = ("declined", "declined", "expired", "recused")
    return CaseFacts(
        institution_ids=frozenset(GROUP),
        people=(PATIENT, REPRESENTATIVE),
        conflicted=frozenset(rng.sample(ids, min(3, len(ids)))),
        answered={expert_id: rng.choice(answers) for expert_id in rng.sample(ids, min(12, len(ids)))},
        on_this_panel=frozenset(rng.sample(ids, 1)),
    )


def main(n: int, repeat: int, seed: int) -> dict[str, object]:
    start = time.perf_counter()
    experts = pool(n, seed)
    facts = case_facts(experts, seed)
    build_s = time.perf_counter() - start
    specialty = most_common_specialty(experts)
    candidates = sum(specialty in e.specialties for e in experts)

    def one_slot(i: int) -> tuple[str | None, int, int]:
        result = eligibility(experts, specialty, facts, today=TODAY)
        drawn = draw(result.snapshot, f"bench/case-1/{specialty}/{i}")
        return drawn, len(result.snapshot), len(result.exclusions)

    one_slot(-1)  # warm-up
    timings: list[float] = []
    drawn: set[str | None] = set()
    for i in range(repeat):
        start = time.perf_counter()
        expert_id, eligible, excluded = one_slot(i)
        timings.append((time.perf_counter() - start) * 1000)
        drawn.add(expert_id)

    tracemalloc.start()
    result = eligibility(experts, specialty, facts, today=TODAY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    reasons = Counter(e.reason for e in result.exclusions)
    target_ms = TARGET_MS_PER_20K * max(1.0, n / 20_000)  # 20 ms up to 20,000 experts, then in proportion
    figures: dict[str, object] = {
        "bench": "draw",
        "experts": n,
        "specialty": specialty,
        "candidates": candidates,
        "eligible": eligible,
        "excluded": excluded,
        "repeat": repeat,
        "median_ms": round(statistics.median(timings), 3),
        "p95_ms": round(pct(timings, 0.95), 3),
        "max_ms": round(max(timings), 3),
        "target_ms": target_ms,
        "meets_target": pct(timings, 0.95) <= target_ms,
        "distinct_experts_drawn": len(drawn - {None}),
        "eligibility_peak_kib": round(peak / 1024, 1),
        "lookback_years": LOOKBACK_YEARS,
        "exclusions_by_reason": dict(sorted(reasons.items())),
        "pool_build_s": round(build_s, 2),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    return figures


def from_database(experts: list[Candidate], specialty: str, repeat: int) -> dict[str, object]:
    """What the draw activity adds: reading the city's pool (experts, affiliations, current loads) from the
    database (a temporary SQLite file) into candidates, before the same eligibility and draw."""
    from core.db import make_engine, session_factory, transaction
    from models import repo_panels
    from models.repo import create_schema
    from models.tables import Affiliation as AffiliationRow
    from models.tables import Expert, Institution

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'pool.db'}")
        create_schema(engine)
        sessions = session_factory(engine)
        start = time.perf_counter()
        with transaction(sessions) as session:
            places = sorted({a.institution_id for e in experts for a in e.affiliations})
            session.add_all([Institution(id=p, name=p, city="bench") for p in places])
            session.flush()
            session.add_all([
                Expert(id=e.id, city="bench", name=e.name, specialties=sorted(e.specialties), active=e.active,
                       max_concurrent=e.cap, id_number=e.id_number,
                       relatives=[{"name": r.name, "id_number": r.id_number} for r in e.relatives])
                for e in experts
            ])
            session.flush()
            session.add_all([
                AffiliationRow(expert_id=e.id, institution_id=a.institution_id, started_on=a.started_on,
                               ended_on=a.ended_on)
                for e in experts for a in e.affiliations
            ])
        load_s = time.perf_counter() - start
        timings: list[float] = []
        for i in range(repeat + 1):
            start = time.perf_counter()
            with sessions() as session:
                found = repo_panels.candidates(session=session, city="bench", specialty=specialty)
            result = eligibility(found, specialty, case_facts(experts, 0), today=TODAY)
            draw(result.snapshot, f"bench/db/{i}")
            if i:  # the first run warms the caches
                timings.append((time.perf_counter() - start) * 1000)
        engine.dispose()
    return {
        "db_pool_written_s": round(load_s, 2),
        "db_draw_median_ms": round(statistics.median(timings), 1),
        "db_draw_max_ms": round(max(timings), 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026, help="the synthetic pool's seed")
    parser.add_argument("--with-database", action="store_true",
                        help="also time the draw as the activity runs it: the pool read from SQLite first")
    args = parser.parse_args()
    if args.experts < 1 or args.repeat < 1:
        parser.error("--experts and --repeat must be at least 1")
    figures = main(args.experts, args.repeat, args.seed)
    if args.with_database:
        experts = pool(args.experts, args.seed)
        figures.update(from_database(experts, most_common_specialty(experts), repeat=5))
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    print(f"{'figure':34} value")
    for key, value in figures.items():
        print(f"{key:34} {value}")
