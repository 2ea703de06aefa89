"""Who may advise on a case and the draw among them (shared/DOMAIN.md, "Experts: pool, draw, conflicts"),
checked against domain/draw.py.

`eligibility(...)` and `draw(...)` are pure, so each test builds a small pool and the case's facts by hand.
The draw's algorithm is reproduced here from the module docstring alone, with hmac and hashlib, so that the
docstring stays a true description of what anyone must run to re-draw a panel.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from domain.draw import (
    ANSWERED,
    LOOKBACK_YEARS,
    REASONS,
    Affiliation,
    Candidate,
    CaseFacts,
    Eligibility,
    Exclusion,
    Person,
    draw,
    eligibility,
    exclusion_of,
    pick_index,
)

TODAY = date(2026, 6, 15)
OBSTETRICS = "obstetrics"
RESPONDENT = "H-RENJI-EAST"  # the respondent institution
BRANCH = "H-RENJI-SOUTH"  # another site of the same group
ELSEWHERE = "H-HUASHAN"

PATIENT = Person("王小明", "31010119800101123X")
REPRESENTATIVE = Person("王大伟")  # the patient's son, no id number on file
FACTS = CaseFacts(institution_ids=frozenset({RESPONDENT, BRANCH}), people=(PATIENT, REPRESENTATIVE))


def expert(expert_id: str = "E001", **fields: object) -> Candidate:
    """An obstetrician with nothing against them, unless `fields` says otherwise."""
    base = Candidate(id=expert_id, name=f"专家{expert_id}", specialties=frozenset({OBSTETRICS}),
                     id_number=f"3101011970010{expert_id[-3:]}00")
    return replace(base, **fields)  # type: ignore[arg-type]


def years_ago(years: int) -> date:
    return TODAY.replace(year=TODAY.year - years)


def why(candidate: Candidate, facts: CaseFacts = FACTS, *, lookback_years: int = LOOKBACK_YEARS
        ) -> Exclusion | None:
    """The exclusion `eligibility` records for the one candidate, or None when they are in the snapshot."""
    result = eligibility([candidate], OBSTETRICS, facts, today=TODAY, lookback_years=lookback_years)
    assert len(result.snapshot) + len(result.exclusions) == 1
    direct = exclusion_of(candidate, facts, today=TODAY, lookback_years=lookback_years)
    assert direct == (result.exclusions[0] if result.exclusions else None)
    return direct


def reason(candidate: Candidate, facts: CaseFacts = FACTS, **kwargs: int) -> str | None:
    found = why(candidate, facts, **kwargs)
    return None if found is None else found.reason


# --- the draw reproduced from the docstring alone ---------------------------------------------------------


def largest_multiple_that_fits(n: int) -> int:
    """The largest multiple of n not above 2**256: every 256-bit value below it maps to each index equally."""
    return (2**256 // n) * n


def documented_pick(seed: str, n: int) -> int:
    """The module docstring, step by step: HMAC-SHA256(key=seed, message=str(i)), big-endian, kept when below
    the largest multiple of n that fits in 256 bits; the index is its remainder modulo n."""
    bound = largest_multiple_that_fits(n)
    for i in range(1000):
        mac = hmac.new(seed.encode("utf-8"), str(i).encode("ascii"), hashlib.sha256).digest()
        value = int.from_bytes(mac, "big")
        if value < bound:
            return value % n
    raise AssertionError("a thousand rejections in a row")


class TestExclusions:
    # Reg 37 (回避): who may not advise on the case, each with the reason recorded

    def test_an_expert_with_nothing_against_them_is_eligible(self) -> None:
        assert why(expert()) is None

    def test_the_patient_by_identity_number(self) -> None:
        # Reg 37: a party; the same identity number is the same person whatever the spelling of the name
        found = why(expert(name="王晓明", id_number="31010119800101123x"))
        assert found is not None and found.reason == "party" and found.detail == PATIENT.name

    def test_a_namesake_with_another_identity_number_is_not_the_patient(self) -> None:
        # Reg 37: both have identity numbers and they differ: two people
        assert why(expert(name=PATIENT.name, id_number="310101197501015678")) is None

    def test_a_party_without_identity_number_by_name(self) -> None:
        # Reg 37: the representative has no identity number on file, so the name decides
        assert reason(expert(name="王大伟")) == "party"

    def test_an_expert_without_identity_number_by_name(self) -> None:
        # Reg 37: the expert has no identity number on file, so the name decides
        assert reason(expert(name=PATIENT.name, id_number=None)) == "party"

    def test_a_declared_close_relative_of_the_patient(self) -> None:
        # Reg 37: a close relative of a party, declared by the expert
        found = why(expert(relatives=(Person("王小明", "31010119800101123X"),)))
        assert found is not None and found.reason == "relative_of_party" and found.detail == PATIENT.name

    def test_a_declared_close_relative_of_the_representative_by_name(self) -> None:
        # Reg 37: the relative's name matches a party who has no identity number
        assert reason(expert(relatives=(Person("王大伟", "310101200001011111"),))) == "relative_of_party"

    def test_a_relative_who_is_not_a_party_does_not_exclude(self) -> None:
        assert why(expert(relatives=(Person("李四", "310101199001012222"),))) is None

    def test_working_now_at_the_respondent_institution(self) -> None:
        # Reg 37: affiliated now with the respondent institution
        found = why(expert(affiliations=(Affiliation(RESPONDENT, started_on=date(2010, 1, 1)),)))
        assert found is not None and found.reason == "affiliated"
        assert RESPONDENT in found.detail and "至今" in found.detail

    def test_working_now_at_another_site_of_the_respondents_group(self) -> None:
        # Reg 37: any site or branch of the respondent's group (CaseFacts.institution_ids holds every site)
        found = why(expert(affiliations=(Affiliation(ELSEWHERE), Affiliation(BRANCH))))
        assert found is not None and found.reason == "affiliated" and BRANCH in found.detail

    def test_working_at_an_unrelated_institution_does_not_exclude(self) -> None:
        assert why(expert(affiliations=(Affiliation(ELSEWHERE),))) is None

    def test_an_affiliation_that_ended_two_years_ago_excludes(self) -> None:
        # Reg 37 and policy: within the last 3 years
        ended = years_ago(2)
        found = why(expert(affiliations=(Affiliation(RESPONDENT, date(2005, 3, 1), ended),)))
        assert found is not None and found.reason == "affiliated" and ended.isoformat() in found.detail

    def test_an_affiliation_that_ended_four_years_ago_does_not_exclude(self) -> None:
        # Reg 37 and policy: the lookback is 3 years
        assert LOOKBACK_YEARS == 3
        assert why(expert(affiliations=(Affiliation(BRANCH, date(2005, 3, 1), years_ago(4)),))) is None

    def test_the_lookback_is_a_policy_parameter(self) -> None:
        # Reg 37: a committee whose policy looks back 5 years excludes an affiliation that ended 4 years ago
        ended_four_years_ago = expert(affiliations=(Affiliation(RESPONDENT, None, years_ago(4)),))
        assert reason(ended_four_years_ago, lookback_years=5) == "affiliated"
        assert reason(expert(affiliations=(Affiliation(RESPONDENT, None, years_ago(6)),)),
                      lookback_years=5) is None
        assert reason(ended_four_years_ago, lookback_years=3) is None

    def test_a_declared_conflict(self) -> None:
        # Reg 37: declared in conflict with this case (or an upheld objection)
        assert reason(expert("E007"), replace(FACTS, conflicted=frozenset({"E007"}))) == "declared_conflict"

    @pytest.mark.parametrize("answer", ANSWERED)
    def test_someone_who_already_answered_this_case_is_not_drawn_again(self, answer: str) -> None:
        # Reg 37: already declined, expired or recused on this case; the recorded reason is that answer
        facts = replace(FACTS, answered={"E008": answer, "E009": "declined"})
        assert reason(expert("E008"), facts) == answer

    def test_already_on_this_panel(self) -> None:
        # Reg 33: one panel does not hold the same expert twice
        assert reason(expert("E010"), replace(FACTS, on_this_panel=frozenset({"E010"}))) == "on_this_panel"

    def test_at_the_workload_cap(self) -> None:
        # Reg 37: at their cap of concurrent assignments
        found = why(expert(load=3, cap=3))
        assert found is not None and found.reason == "at_capacity" and found.detail == "3/3"

    def test_one_below_the_workload_cap_is_eligible(self) -> None:
        assert why(expert(load=2, cap=3)) is None

    def test_inactive(self) -> None:
        # Reg 35: an inactive expert is not drawn
        assert reason(expert(active=False)) == "inactive"

    def test_other_specialties_are_not_candidates_and_not_exclusions(self) -> None:
        # Reg 33: the draw is among the experts of the wanted specialty
        pool = [expert("E001"), expert("E002", specialties=frozenset({"law"})),
                expert("E003", specialties=frozenset({"law"}), active=False),
                expert("E004", specialties=frozenset({"law", OBSTETRICS}))]
        result = eligibility(pool, OBSTETRICS, FACTS, today=TODAY)
        assert result == Eligibility(snapshot=("E001", "E004"), exclusions=())

    def test_every_exclusion_has_a_known_reason_and_the_snapshot_is_sorted(self) -> None:
        pool = [
            expert("E009"),
            expert("E008", active=False),
            expert("E007", id_number=PATIENT.id_number),
            expert("E006", relatives=(REPRESENTATIVE,)),
            expert("E005", affiliations=(Affiliation(BRANCH),)),
            expert("E004"),
            expert("E003", load=5, cap=5),
            expert("E002"),
            expert("E011"),
            expert("E012"),
            expert("E013"),
            expert("E014"),
            expert("E001"),
        ]
        facts = replace(FACTS, conflicted=frozenset({"E011"}), on_this_panel=frozenset({"E014"}),
                        answered={"E012": "expired", "E013": "recused"})
        result = eligibility(pool, OBSTETRICS, facts, today=TODAY)
        assert result.snapshot == ("E001", "E002", "E004", "E009")
        assert [e.expert_id for e in result.exclusions] == sorted(e.expert_id for e in result.exclusions)
        assert {e.expert_id: e.reason for e in result.exclusions} == {
            "E003": "at_capacity", "E005": "affiliated", "E006": "relative_of_party", "E007": "party",
            "E008": "inactive", "E011": "declared_conflict", "E012": "expired", "E013": "recused",
            "E014": "on_this_panel",
        }
        for exclusion in result.exclusions:
            assert exclusion.reason in REASONS
            assert exclusion.to_dict()["label"] == REASONS[exclusion.reason]


class TestDraw:
    # Reg 33: random and uniform among the eligible, from a recorded seed and a recorded snapshot

    SNAPSHOT = tuple(f"E{i:03d}" for i in range(1, 11))

    def test_the_same_seed_and_snapshot_draw_the_same_expert(self) -> None:
        # Reg 33: anyone can re-run the draw and get the same panel
        assert draw(self.SNAPSHOT, "case-42/slot-1") == draw(list(self.SNAPSHOT), "case-42/slot-1")

    def test_the_order_of_the_snapshot_does_not_matter(self) -> None:
        shuffled = self.SNAPSHOT[5:] + self.SNAPSHOT[:5][::-1]
        for i in range(50):
            assert draw(shuffled, f"seed-{i}") == draw(self.SNAPSHOT, f"seed-{i}")

    def test_different_seeds_reach_every_expert(self) -> None:
        drawn = {draw(self.SNAPSHOT, f"case-42/slot-{i}") for i in range(200)}
        assert drawn == set(self.SNAPSHOT)

    def test_the_draw_is_uniform(self) -> None:
        # Reg 33: uniform; 6,000 fixed seeds over 6 candidates, so the test is deterministic. For 5 degrees of
        # freedom the chi-square statistic exceeds 20.5 with probability 0.001; 30 is a generous bound
        candidates = ("A", "B", "C", "D", "E", "F")
        counts = Counter(draw(candidates, f"uniformity/{i}") for i in range(6000))
        expected = 6000 / len(candidates)
        chi_square = sum((counts[c] - expected) ** 2 / expected for c in candidates)
        assert chi_square < 30, counts

    def test_an_empty_snapshot_draws_nobody(self) -> None:
        assert draw((), "case-42/slot-1") is None

    @pytest.mark.parametrize("n", [0, -1])
    def test_pick_index_refuses_an_empty_range(self, n: int) -> None:
        with pytest.raises(ValueError):
            pick_index("seed", n)

    def test_a_single_candidate_is_always_drawn(self) -> None:
        assert {draw(("E001",), f"s{i}") for i in range(20)} == {"E001"}

    def test_the_documented_algorithm_reproduces_the_draw(self) -> None:
        # Reg 33: the module docstring is the algorithm: re-run here with hmac and hashlib alone
        seed = "2026-沪黄医调-0042/obstetrics/1"
        first = int.from_bytes(hmac.new(seed.encode(), b"0", hashlib.sha256).digest(), "big")
        assert documented_pick(seed, 10) == first % 10  # the first value is kept: it is below the bound
        assert pick_index(seed, 10) == documented_pick(seed, 10)
        assert draw(self.SNAPSHOT, seed) == self.SNAPSHOT[first % 10]
        for i in range(300):
            for n in (1, 2, 3, 7, 10, 1000):
                assert pick_index(f"seed-{i}", n) == documented_pick(f"seed-{i}", n)

    def test_the_rejection_bound_for_three_is_the_largest_multiple_of_three_below_2_to_the_256(self) -> None:
        bound = largest_multiple_that_fits(3)
        assert bound == 2**256 - 1 and bound % 3 == 0 and bound + 3 > 2**256

    def test_values_at_or_above_the_bound_are_rejected(self) -> None:
        # With n just above 2**255 the bound is n itself, so about half the HMAC values are rejected: real
        # rejections, without patching anything. Keeping a value above the bound would return value - n.
        n = 2**255 + 1
        assert largest_multiple_that_fits(n) == n
        rejected_first = 0
        for i in range(40):
            seed = f"rejection-{i}"
            first = int.from_bytes(hmac.new(seed.encode(), b"0", hashlib.sha256).digest(), "big")
            rejected_first += first >= n
            assert pick_index(seed, n) == documented_pick(seed, n)
        assert rejected_first > 5  # the rejection path was taken
