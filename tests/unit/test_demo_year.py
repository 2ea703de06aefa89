"""The demo year's plan (demo/year.py): the stated counts exactly, every act in the year and in order, the same
year from the same seed."""

from __future__ import annotations

from collections import Counter

from demo.year import DISTRICTS, plan_year


def test_shanghai_year_has_the_counts_it_was_given():
    plan = plan_year(year=2025, accepted=3408, settled=2830)
    outcomes = Counter(case.outcome for case in plan.cases)
    settled = sum(n for kind, n in outcomes.items() if kind.startswith("settled"))
    assert settled == 2830
    assert sum(n for kind, n in outcomes.items() if kind != "rejected") == 3408
    assert outcomes["rejected"] == round(3408 * 0.06)
    assert len(plan.committees) == len(DISTRICTS) == 17  # DOMAIN.md: one per district, under a city office


def test_the_share_decides_the_settled_count_when_no_count_is_given():
    plan = plan_year(year=2025, accepted=100, settled_share=0.86)
    assert sum(case.outcome.startswith("settled") for case in plan.cases) == 86


def test_every_act_falls_in_the_year_in_the_order_it_took_place():
    plan = plan_year(year=2025, accepted=500)
    for case in plan.cases:
        times = [act.at for act in case.acts]
        assert times == sorted(times), case
        assert all(t.year == 2025 for t in times), case
        assert case.acts[0].action == "register"


def test_the_same_seed_plans_the_same_year():
    assert plan_year(year=2025, accepted=50, seed=3) == plan_year(year=2025, accepted=50, seed=3)
    assert plan_year(year=2025, accepted=50, seed=3) != plan_year(year=2025, accepted=50, seed=4)
