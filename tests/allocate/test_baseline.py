"""The baseline allocation: today's rules (keep current holders; then, one at a time, grade and lowest workload %
(``list_top``), lowest workload % of any grade (``lowest_workload``), or grade for A and B cases only)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from workload.allocate.baseline import (
    RULES,
    allocate_baseline,
    allocation_rank,
    baseline_rule,
    highest_protect_level,
    protect_level,
)
from workload.load import load_scenario
from workload.params import ParameterError, Parameters, load_parameters
from workload.scenario import Tier
from workload.scoring.wmt import available_points, case_points, practitioner_points, practitioner_workload

PARAMS = load_parameters()
ALL_TIERS = [t.value for t in Tier]
CASE_TYPES = ["community", "licence", "custody"]
GRADES = ["PO", "PSO", "PQiP", "SPO"]


from workload.testing import cases_frame, practitioners_frame


def reference_baseline(cases: pd.DataFrame, staff: pd.DataFrame, params: Parameters) -> dict[str, str | None]:
    """The rule written as plainly as possible: for each queued case, sort the whole eligible list again."""
    levels = "ABCD"
    rule = params["wmt.baseline_allocation.rule"]
    points = case_points(cases, params)
    load = practitioner_points(staff, points, cases["current_practitioner_id"], params).to_dict()
    available = available_points(staff, params).to_dict()
    grade_rank = params.table("wmt.baseline_allocation.grade_order")
    highest = params.table("wmt.baseline_allocation.highest_protect_level")
    tier_order = params.table("wmt.baseline_allocation.tier_order")
    result = {c: (p if isinstance(p, str) else None) for c, p in cases["current_practitioner_id"].items()}
    queue = sorted((c for c, p in result.items() if p is None), key=lambda c: (tier_order[cases.at[c, "tier"]], c))
    for c in queue:
        tier = cases.at[c, "tier"]
        level = levels.index(tier[0]) if tier != "untiered" else len(levels)
        eligible = [
            p
            for p in staff.index
            if staff.at[p, "pdu"] == cases.at[c, "pdu"]
            and available[p] > 0
            and levels.index(highest[staff.at[p, "grade"]]) <= level
        ]
        if not eligible:
            continue
        grade_first = rule == "list_top" or (rule == "grade_for_a_b" and tier[0] in "AB")
        pick = min(
            eligible,
            key=lambda p: (
                -grade_rank[staff.at[p, "grade"]] if grade_first else 0,
                int(Fraction(load[p] * 1000, available[p]) + Fraction(1, 2)),
                p,
            ),
        )
        load[pick] += int(points[c])
        result[c] = pick
    return result


# ----------------------------------------------------------------------------------------------------------
# the rule, case by case


def test_current_holders_keep_their_cases_even_against_the_rules() -> None:
    staff = practitioners_frame([{"practitioner_id": "PO1"}, {"practitioner_id": "PSO1", "grade": "PSO"}])
    cases = cases_frame(
        [{"tier": "A3", "current_practitioner_id": "PSO1"}, {"tier": "D1", "current_practitioner_id": "PO1"}]
    )
    out = allocate_baseline(cases, staff, PARAMS)
    assert out.tolist() == ["PSO1", "PO1"]
    assert out.name == "baseline_practitioner_id" and out.index.equals(cases.index)
    assert out.attrs["unplaced"] == 0


def test_lowest_workload_po_first_and_it_updates_after_each_case() -> None:
    # PO1 starts at 206 points (9.5%), PO2 and PO3 at 0; ties go to the lower practitioner_id
    staff = practitioners_frame([{"practitioner_id": f"PO{i}"} for i in (1, 2, 3)])
    cases = cases_frame(
        [{"case_id": "held", "tier": "A3", "current_practitioner_id": "PO1"}]
        + [{"case_id": f"new{i}", "tier": "A3"} for i in range(4)]
    )
    out = allocate_baseline(cases, staff, PARAMS)
    assert out.to_dict() == {"held": "PO1", "new0": "PO2", "new1": "PO3", "new2": "PO1", "new3": "PO2"}


def test_grade_comes_before_workload() -> None:
    # the PO is far over capacity and the PSO and PQiP are empty, yet the PO tops the list
    staff = practitioners_frame(
        [
            {"practitioner_id": "PO1", "standard_reports_30d": 30},
            {"practitioner_id": "PQ1", "grade": "PQiP"},
            {"practitioner_id": "PS1", "grade": "PSO"},
        ]
    )
    cases = cases_frame([{"tier": "D1"}, {"tier": "A3"}])
    out = allocate_baseline(cases, staff, PARAMS, rule="list_top")
    assert out.tolist() == ["PO1", "PO1"] and out.attrs["rule"] == "list_top"
    # with the grades reordered by a scenario, PSOs come first but still take no A or B case
    params = load_parameters({"wmt.baseline_allocation.grade_order.PSO": 9, "wmt.baseline_allocation.rule": "list_top"})
    assert allocate_baseline(cases, staff, params).tolist() == ["PS1", "PO1"]


def test_psos_take_no_a_or_b_cases_and_pqips_come_after_psos() -> None:
    staff = practitioners_frame(
        [{"practitioner_id": "PS1", "grade": "PSO"}, {"practitioner_id": "PQ1", "grade": "PQiP"}]
    )
    cases = cases_frame(
        [
            {"case_id": "a", "tier": "A1"},
            {"case_id": "b", "tier": "B2S"},
            {"case_id": "c", "tier": "C3"},
            {"case_id": "d", "tier": "D0"},
            {"case_id": "u", "tier": "untiered"},
        ]
    )
    out = allocate_baseline(cases, staff, PARAMS, rule="list_top")
    assert out.to_dict() == {"a": "PQ1", "b": "PQ1", "c": "PS1", "d": "PS1", "u": "PS1"}


def overloaded_po_and_idle_pso_pqip() -> pd.DataFrame:
    return practitioners_frame(
        [
            {"practitioner_id": "PO1", "standard_reports_30d": 10},  # 1,380 points of 2,176: 63.4%
            {"practitioner_id": "PQ1", "grade": "PQiP", "standard_reports_30d": 2},  # 276 points: 12.7%
            {"practitioner_id": "PS1", "grade": "PSO"},  # 0%
        ]
    )


def test_lowest_workload_gives_psos_c_and_d_cases_and_ignores_grade() -> None:
    cases = cases_frame(
        [{"case_id": "a", "tier": "A3"}, {"case_id": "c", "tier": "C1"}, {"case_id": "d", "tier": "D2"}]
    )
    out = allocate_baseline(cases, overloaded_po_and_idle_pso_pqip(), PARAMS, rule="lowest_workload")
    # the A case goes to the least loaded grade that may hold it (the PQiP, not the PO); C and D to the PSO
    assert out.to_dict() == {"a": "PQ1", "c": "PS1", "d": "PS1"}
    assert allocate_baseline(cases, overloaded_po_and_idle_pso_pqip(), PARAMS, rule="list_top").tolist() == [
        "PO1",
        "PO1",
        "PO1",
    ]


def test_grade_for_a_b_gives_a_and_b_to_the_po_and_c_and_d_to_the_least_loaded() -> None:
    cases = cases_frame(
        [
            {"case_id": "a", "tier": "A3"},
            {"case_id": "b", "tier": "B1"},
            {"case_id": "c", "tier": "C1"},
            {"case_id": "u", "tier": "untiered"},
        ]
    )
    out = allocate_baseline(cases, overloaded_po_and_idle_pso_pqip(), PARAMS, rule="grade_for_a_b")
    assert out.to_dict() == {"a": "PO1", "b": "PO1", "c": "PS1", "u": "PS1"}
    assert (
        baseline_rule(PARAMS)
        == "grade_for_a_b"
        == allocate_baseline(cases, overloaded_po_and_idle_pso_pqip(), PARAMS).attrs["rule"]
    )


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ParameterError, match="must be one of list_top, lowest_workload, grade_for_a_b"):
        allocate_baseline(cases_frame([{"tier": "A3"}]), overloaded_po_and_idle_pso_pqip(), PARAMS, rule="random")
    with pytest.raises(ParameterError, match="rule"):
        load_parameters({"wmt.baseline_allocation.rule": "random"})


def test_cases_nobody_may_hold_stay_unallocated_and_are_counted() -> None:
    staff = practitioners_frame(
        [
            {"practitioner_id": "PS1", "grade": "PSO", "pdu": "P1"},
            {"practitioner_id": "SPO1", "grade": "SPO", "pdu": "P2"},
            {"practitioner_id": "PO9", "pdu": "P3", "reduction_hours_per_week": 37.0},
        ]
    )
    cases = cases_frame(
        [
            {"case_id": "a", "tier": "A2", "pdu": "P1"},
            {"case_id": "c", "tier": "C2", "pdu": "P1"},
            {"case_id": "s", "tier": "D1", "pdu": "P2"},
            {"case_id": "r", "tier": "D1", "pdu": "P3"},
            {"case_id": "x", "tier": "D1", "pdu": "P4"},
        ]
    )
    out = allocate_baseline(cases, staff, PARAMS)
    assert out.to_dict() == {"a": None, "c": "PS1", "s": None, "r": None, "x": None}
    assert out.attrs["unplaced"] == 4
    assert out.attrs["unplaced_by_pdu"] == {"P1": 1, "P2": 1, "P3": 1, "P4": 1}


def test_highest_tier_is_allocated_first_and_the_order_is_a_parameter() -> None:
    # two empty POs: whichever case goes first takes PO1 (tie on 0%), the second goes to PO2
    staff = practitioners_frame([{"practitioner_id": "PO1"}, {"practitioner_id": "PO2"}])
    cases = cases_frame([{"case_id": "C1", "tier": "D1"}, {"case_id": "C2", "tier": "A3"}])
    assert allocate_baseline(cases, staff, PARAMS).to_dict() == {"C1": "PO2", "C2": "PO1"}
    low_first = load_parameters({"wmt.baseline_allocation.tier_order.D1": 0})
    assert allocate_baseline(cases, staff, low_first).to_dict() == {"C1": "PO1", "C2": "PO2"}
    ranks = allocation_rank(cases_frame([{"tier": t} for t in ALL_TIERS]), PARAMS)
    assert ranks.is_monotonic_increasing and ranks.is_unique


def test_pdus_are_allocated_apart() -> None:
    staff = practitioners_frame([{"practitioner_id": "N1", "pdu": "North"}, {"practitioner_id": "S1", "pdu": "South"}])
    cases = cases_frame(
        [{"pdu": "South", "tier": "A3"}, {"pdu": "North", "tier": "A3"}, {"pdu": "South", "tier": "D2"}]
    )
    assert allocate_baseline(cases, staff, PARAMS).tolist() == ["S1", "N1", "S1"]


def test_protect_levels() -> None:
    cases = cases_frame([{"tier": t} for t in ("A3", "B0S", "C1", "D2S", "untiered")])
    assert protect_level(cases).tolist() == [0, 1, 2, 3, 4]
    staff = practitioners_frame([{"grade": g} for g in GRADES])
    assert highest_protect_level(staff, PARAMS).tolist() == [0, 2, 0, 0]
    with pytest.raises(ParameterError, match="must be one of A, B, C, D"):
        highest_protect_level(staff, load_parameters({"wmt.baseline_allocation.highest_protect_level.PSO": "E"}))


def test_tiny_fixture_allocates_the_unallocated_licence_case_to_the_po() -> None:
    s = load_scenario(FIXTURES / "tiny")
    out = allocate_baseline(s.cases, s.practitioners, s.params)
    assert out.to_dict() == {"C001": "P01", "C002": "P01", "C003": "P02"}
    after = practitioner_workload(s.practitioners, case_points(s.cases, s.params), out, s.params)
    assert after.loc["P01", "wmt_points"] == 29 + 138 + 132


# ----------------------------------------------------------------------------------------------------------
# properties


@st.composite
def pdu_scenarios(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, Parameters]:
    """1-3 PDUs, up to 7 practitioners of any grade and hours, up to 30 cases, some held, any grade order."""
    pdus = draw(st.lists(st.sampled_from(["P1", "P2", "P3"]), min_size=1, max_size=3, unique=True))
    staff_rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "pdu": st.sampled_from(pdus),
                    "grade": st.sampled_from(GRADES),
                    "contracted_hours_per_week": st.sampled_from([37.0, 30.0, 18.5, 7.5]),
                    "reduction_hours_per_week": st.sampled_from([0.0, 1.8, 10.0, 40.0]),
                    "standard_reports_30d": st.integers(0, 4),
                    "fast_reports_30d": st.integers(0, 4),
                }
            ),
            min_size=1,
            max_size=7,
        )
    )
    ids = draw(st.permutations([f"W{i}" for i in range(len(staff_rows))]))
    staff = practitioners_frame([{**row, "practitioner_id": i} for row, i in zip(staff_rows, ids)])
    case_rows = []
    for i in range(draw(st.integers(0, 30))):
        pdu = draw(st.sampled_from(pdus))
        local = staff.index[staff["pdu"] == pdu].tolist()
        holder = draw(st.one_of(st.none(), st.sampled_from(local))) if local else None
        case_rows.append(
            {
                "case_id": f"K{draw(st.integers(0, 999)):03d}-{i}",
                "pdu": pdu,
                "case_type": draw(st.sampled_from(CASE_TYPES)),
                "tier": draw(st.sampled_from(ALL_TIERS)),
                "current_practitioner_id": holder,
            }
        )
    ranks = draw(st.fixed_dictionaries({g: st.integers(0, 3) for g in GRADES}))
    overrides: dict[str, object] = {f"wmt.baseline_allocation.grade_order.{g}": r for g, r in ranks.items()}
    overrides["wmt.baseline_allocation.rule"] = draw(st.sampled_from(sorted(RULES)))
    params = PARAMS.with_overrides(overrides)
    return cases_frame(case_rows), staff, params


@settings(max_examples=120, deadline=None)
@given(scenario=pdu_scenarios())
def test_heap_allocation_equals_the_plain_rule(scenario: tuple[pd.DataFrame, pd.DataFrame, Parameters]) -> None:
    cases, staff, params = scenario
    out = allocate_baseline(cases, staff, params)
    assert out.to_dict() == reference_baseline(cases, staff, params)
    assert out.attrs["unplaced"] == int(out.isna().sum())


@settings(max_examples=80, deadline=None)
@given(scenario=pdu_scenarios(), seed=st.integers(0, 2**16))
def test_allocation_is_valid_and_does_not_depend_on_row_order(
    scenario: tuple[pd.DataFrame, pd.DataFrame, Parameters], seed: int
) -> None:
    cases, staff, params = scenario
    out = allocate_baseline(cases, staff, params)
    rng = np.random.default_rng(seed)
    shuffled = allocate_baseline(
        cases.iloc[rng.permutation(len(cases))], staff.iloc[rng.permutation(len(staff))], params
    )
    assert shuffled.reindex(out.index).to_dict() == out.to_dict()

    new = out[cases["current_practitioner_id"].isna() & out.notna()]
    holder = staff.loc[new.to_numpy()] if len(new) else staff.iloc[:0]
    assert (holder["pdu"].to_numpy() == cases.loc[new.index, "pdu"].to_numpy()).all()
    assert (available_points(staff, params).loc[new.to_numpy()] > 0).all()
    psos_new = cases.loc[new.index[holder["grade"].to_numpy() == "PSO"], "tier"]
    assert not psos_new.str[0].isin(["A", "B"]).any()
