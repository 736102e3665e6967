"""The LP allocator: its model, both hand-offs, rounding, fallbacks, parallel PDUs and the output contract."""

from __future__ import annotations

import math

import highspy
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.allocate.builders import hand_frames as build_frames
from tests.conftest import FIXTURES
from workload.allocate import local_search, objective, parallel, pdu, rounding, solvers
from workload.allocate import lp as lp_module
from workload.allocate.arrays import rationing_bands
from workload.allocate.continuity import MOVE_REASONS
from workload.allocate.lp import (
    Allocation,
    allocate_lp,
    export_model,
    round_allocation,
    solve_highs,
    solve_pulp,
)
from workload.allocate.model import (
    NEED_AREAS,
    NEED_COLUMNS,
    build_model,
    capacity_hours,
    define_capacity,
    pdu_arrays,
    pdu_inputs,
    protection_minimum,
)
from workload.allocate.priority import unmet_need_weight
from workload.load import load_scenario
from workload.params import ParameterError, load_parameters
from workload.scenario import Policy
from workload.testing import assert_allocation_valid, random_allocation_inputs

PARAMS = load_parameters()


def one_pdu_model(cases, practitioners, partners, policy, integral=False, explicit=None):
    inputs = pdu_inputs(cases, practitioners, partners, PARAMS, policy)
    (inp,) = inputs.values()
    return build_model(pdu_arrays(inp, PARAMS, policy), explicit=explicit, integral=integral)


def allocate(cases, practitioners, partners, policy, workers=1) -> Allocation:
    allocation = allocate_lp(cases, practitioners, partners, PARAMS, policy, workers=workers)
    assert_allocation_valid(allocation, cases, practitioners, partners, policy, PARAMS)
    return allocation


def hand_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two cases held by P1 (a PO with 100 h): a low-need D2 case (20 h) and a complex A1 case (100 h).

    P2 is a PSO with 40 h, who may hold the D case but not the A case.
    """
    return build_frames(
        PARAMS,
        {"LOW": ("D2", "P1", 20.0, 10.0, 10.0), "COMPLEX": ("A1", "P1", 100.0, 60.0, 60.0)},
        {"P1": ("PO", 100.0), "P2": ("PSO", 40.0)},
    )


# ----------------------------------------------------------------------------------------------------------
# quantities


def test_capacity_hours_from_available_hours_and_grade() -> None:
    practitioners = pd.DataFrame(
        {
            "grade": ["PO", "PSO", "SPO", "PQiP"],
            "contracted_hours_per_week": [37.0, 30.0, 37.0, 10.0],
            "reduction_hours_per_week": [0.0, 1.8, 0.0, 12.0],
        },
        index=["a", "b", "c", "d"],
    )
    hours = capacity_hours(practitioners, PARAMS)
    assert hours["a"] == pytest.approx(1660.0)
    assert hours["b"] == pytest.approx(1660.0 * 28.2 / 37)
    assert hours["c"] == 0.0  # SPOs hold no cases by default
    assert hours["d"] == 0.0  # reductions above contracted hours leave nothing, never less
    more = PARAMS.with_overrides({"allocation.capacity.productive_hours_per_fte_year": 1590})
    assert capacity_hours(practitioners, more)["a"] == pytest.approx(1590.0)


def test_protection_minimum_is_a_share_of_risk_hours_by_protect_level_never_above_need() -> None:
    cases = pd.DataFrame(
        {
            "tier": ["A1", "B2", "C3", "D0", "untiered", "A3S"],
            "hours_risk": [111.0, 78.0, 39.0, 23.0, 10.0, 50.0],
            "required_hours": [200.0, 200.0, 200.0, 200.0, 200.0, 20.0],
        }
    )
    share = PARAMS.table("allocation.protection.minimum_share_of_risk_hours")
    floor = protection_minimum(cases, PARAMS)
    expected = [share["A"] * 111.0, share["B"] * 78.0, share["C"] * 39.0, share["D"] * 23.0, share["untiered"] * 10.0]
    assert floor.tolist() == pytest.approx([*expected, min(share["A"] * 50.0, 20.0)])
    assert share["A"] == 1.0 and share["C"] == share["D"] == 0.0  # A in full, no minimum where no standard sets one


def test_rationing_bands_must_make_a_convex_cost() -> None:
    with pytest.raises(ParameterError, match="must fall"):
        rationing_bands(PARAMS.with_overrides({"allocation.rationing.band_weight.b2": 20}))
    with pytest.raises(ParameterError, match="highest exactly 1"):
        rationing_bands(PARAMS.with_overrides({"allocation.rationing.band_top.b5": 0.9}))
    top, weight = rationing_bands(PARAMS)
    assert top[-1] == 1.0 and (np.diff(weight) < 0).all()


def test_priority_weights_follow_the_rules_and_never_sex() -> None:
    cases, _, _ = random_allocation_inputs(3, cases_per_pdu=60, n_partners=0)
    weight = unmet_need_weight(cases, PARAMS)
    base = PARAMS["allocation.priority.base_weight"]
    uplift = PARAMS.table("allocation.priority.protect_level_uplift")
    plain = (
        cases[
            ["overdose_history", "self_harm_history", "suicide_attempt_history", "dependent_children", "pregnant"]
        ].sum(axis=1)
        == 0
    ) & ~cases["early_trust"]
    for case_id in cases.index[plain.to_numpy()]:
        tier = cases.loc[case_id, "tier"]
        letter = "untiered" if tier == "untiered" else tier[0]
        assert weight[case_id] == pytest.approx(base + uplift[letter])
    flipped = cases.assign(sex=np.where(cases["sex"] == "female", "male", "female"))
    pd.testing.assert_series_equal(unmet_need_weight(flipped, PARAMS), weight)
    trusting = cases["early_trust"].to_numpy()
    assert trusting.any()
    without = unmet_need_weight(cases.assign(early_trust=False), PARAMS)
    lift = PARAMS["allocation.priority.trust_uplift"]
    np.testing.assert_allclose((weight - without).to_numpy(), np.where(trusting, lift, 0.0))
    costed = cases.assign(unmet_need_weight=7.5)
    assert (unmet_need_weight(costed, PARAMS) == 7.5).all()


# ----------------------------------------------------------------------------------------------------------
# the model as arrays


def test_capacity_rows_sum_each_practitioners_hours() -> None:
    cases, practitioners, partners = random_allocation_inputs(5, cases_per_pdu=25, practitioners_per_pdu=4)
    policy = Policy()
    model = one_pdu_model(cases, practitioners, partners, policy)
    a = model.arrays
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 10, model.n_cols)
    rows = model.row_activity(values)[model.families["capacity"]]
    y = values[model.blocks["y"]]
    o = values[model.blocks["o"]]
    expected = np.bincount(a.pair_prac, weights=y, minlength=a.n_practitioners) - o
    assert rows == pytest.approx(expected)
    block = define_capacity(a, model.layout)
    assert block.upper == pytest.approx(a.capacity)


@pytest.mark.parametrize("continuity", ["keep", "rebalance", "free"])
def test_no_pair_breaks_grade_or_capacity_eligibility(continuity: str) -> None:
    """Only a case's current holder may break the grade rule, and only under keep or rebalance (the
    service's own decision, kept); every case a keep rule holds has exactly one pair, its holder's."""
    cases, practitioners, partners = random_allocation_inputs(8, cases_per_pdu=40, practitioners_per_pdu=6)
    model = one_pdu_model(cases, practitioners, partners, Policy(continuity=continuity))
    a = model.arrays
    grade = practitioners.loc[a.practitioner_ids[a.pair_prac], "grade"].to_numpy()
    tier = cases.loc[a.case_ids[a.pair_case], "tier"].to_numpy()
    off_grade = (grade == "PSO") & np.isin(pd.Series(tier).str[0], ["A", "B"])
    holder = a.practitioner_ids[a.pair_prac] == cases.loc[a.case_ids[a.pair_case], "current_practitioner_id"].to_numpy()
    assert not (off_grade & ~holder).any()
    assert off_grade.any() == (continuity != "free")  # this draw has PSOs holding B cases today
    assert (a.capacity[a.pair_prac] > 0).all()
    pairs = np.diff(a.pair_start)
    assert (pairs[a.kept] == 1).all() and (
        a.pair_prac[a.pair_start[:-1]][a.kept] == a.pair_prac[a.current_pair[a.kept]]
    ).all()
    assert a.kept.any() == (continuity != "free")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_projected_lp_has_the_same_optimum_as_the_explicit_relaxation(seed: int) -> None:
    """The projection (no x, continuity per hour) is exact for the LP: same optimum, fewer columns."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=30, practitioners_per_pdu=4, n_partners=2
    )
    policy = Policy()
    projected = one_pdu_model(cases, practitioners, partners, policy)
    explicit = one_pdu_model(cases, practitioners, partners, policy, explicit=True)
    assert projected.n_cols < explicit.n_cols
    a = solve_highs(projected, 60)
    b = solve_highs(explicit, 60)
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-7, abs=1e-6)


# ----------------------------------------------------------------------------------------------------------
# hand-offs


@pytest.mark.parametrize("seed", [0, 4])
def test_highs_and_pulp_handoffs_reach_the_same_optimum(seed: int) -> None:
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=20, practitioners_per_pdu=3, n_partners=2
    )
    policy = Policy(caseload_cap=30, budget_cap_gbp=1e9)
    for integral in (False, True):
        model = one_pdu_model(cases, practitioners, partners, policy, integral=integral)
        direct = solve_highs(model, 60)
        via_highs = solve_pulp(model, "highs", 60)
        via_cbc = solve_pulp(model, "cbc", 60)
        assert direct.status == via_highs.status == via_cbc.status == "optimal"
        # a MIP is solved to the solvers' default relative gap (1e-4), so two optima may differ by that much
        rel = 2e-4 if integral else 1e-6
        assert via_highs.objective == pytest.approx(direct.objective, rel=rel, abs=1e-6)
        assert via_cbc.objective == pytest.approx(direct.objective, rel=max(rel, 1e-4), abs=1e-4)
        assert not model.violations(via_cbc.values, tol=1e-5)


def test_pulp_handoff_through_allocate_lp_gives_the_same_objective() -> None:
    cases, practitioners, partners = random_allocation_inputs(2, n_pdus=2, cases_per_pdu=15, practitioners_per_pdu=3)
    direct = allocate(cases, practitioners, partners, Policy())
    via_pulp = allocate(cases, practitioners, partners, Policy(solver="pulp-cbc"))
    assert (via_pulp.pdus["solver"] == "pulp-cbc").all()
    assert via_pulp.pdus["bound"].to_numpy() == pytest.approx(direct.pdus["bound"].to_numpy(), rel=1e-5)


def test_export_writes_an_auditable_model_that_solves_to_the_same_optimum(tmp_path) -> None:
    cases, practitioners, partners = random_allocation_inputs(
        6, cases_per_pdu=15, practitioners_per_pdu=3, n_partners=1
    )
    policy = Policy()
    lp_file = export_model(cases, practitioners, partners, PARAMS, policy, "PDU01", tmp_path / "pdu.lp")
    mps_file = export_model(cases, practitioners, partners, PARAMS, policy, "PDU01", tmp_path / "pdu.mps")
    text = lp_file.read_text()
    first_case, first_practitioner = cases.index[0], practitioners.index[0]
    assert f"capacity_{first_practitioner}" in text and f"hours_{first_case}" in text
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps_file))
    h.run()
    model = one_pdu_model(cases, practitioners, partners, policy)
    direct = solve_highs(model, 60)
    assert h.getObjectiveValue() == pytest.approx(direct.objective, rel=1e-6)
    with pytest.raises(ValueError, match=".lp or .mps"):
        export_model(cases, practitioners, partners, PARAMS, policy, "PDU01", tmp_path / "pdu.txt")


# ----------------------------------------------------------------------------------------------------------
# hand-solved


def test_moving_a_low_need_case_frees_capacity_for_a_complex_one() -> None:
    """P1 (100 h) holds LOW (20 h, D2) and COMPLEX (100 h, A1, minimum 60 h); P2 is a PSO with 40 h.

    Need bands of a fifth of R weigh 16, 8, 4, 2, 1 times the case's weight (LOW 1, COMPLEX 1.5); COMPLEX's
    minimum covers its first three fifths. Kept together, P1's 100 h leave 20 h unmet where they weigh least:
    LOW's top band (4 h at 1) and 16 h of COMPLEX's (at 1.5), 4 + 24 = 28. Under ``free`` with a move price
    of 20, LOW moves: every need is met, objective 20 + 0.001 x (100 x 30.25 + 20 x 23.38) = 23.4926. At 40,
    or under ``keep`` (the default), LOW stays: 16 h and 84 h, objective 28 + 0.001 x 100 x 30.25 = 31.025.
    A move is priced whole with the relationship-building hours it restarts (at LOW's weight 1): with 8
    restart hours the move's allocation costs 23.4926 + 8 = 31.49 > 31.025 and LOW stays; with 7, 30.49, and
    LOW moves.
    """
    cases, practitioners = hand_frames()
    moved = allocate(cases, practitioners, None, Policy(continuity="free", continuity_penalty=20))
    assert moved.cases.loc["LOW", "practitioner_id"] == "P2" and bool(moved.cases.loc["LOW", "moved"])
    assert moved.cases.loc["LOW", "move_reason"] == MOVE_REASONS["free"]
    assert moved.cases.loc["LOW", "previous_practitioner_id"] == "P1"
    assert moved.cases.loc["COMPLEX", "practitioner_id"] == "P1"
    assert moved.cases["unmet_hours"].sum() == pytest.approx(0.0, abs=1e-6)
    assert moved.pdus.loc["X", "objective"] == pytest.approx(20 + 0.001 * (100 * 30.25 + 20 * 23.38))

    for policy in (Policy(continuity="free", continuity_penalty=40), Policy()):
        kept = allocate(cases, practitioners, None, policy)
        assert (kept.cases["practitioner_id"] == "P1").all() and not kept.cases["moved"].any()
        assert kept.cases["move_reason"].isna().all()
        assert kept.cases["afforded_hours"].tolist() == pytest.approx([16.0, 84.0])
        assert kept.pdus.loc["X", "objective"] == pytest.approx(28 + 0.001 * 100 * 30.25)

    for restart, goes in ((8.0, False), (7.0, True)):
        priced = allocate(
            cases.assign(restart_hours=[restart, 0.0]),
            practitioners,
            None,
            Policy(continuity="free", continuity_penalty=20),
        )
        assert bool(priced.cases.loc["LOW", "moved"]) is goes
        assert priced.cases.loc["LOW", "restart_hours"] == (restart if goes else 0.0)


def test_rebalance_moves_within_the_budget_and_never_a_protected_case() -> None:
    """The same two cases under ``rebalance``: a budget of 5% of 2 held cases is 0 moves, so LOW stays; a
    budget of one lets it move; a protected LOW (relationship window, abuse history) stays unless the policy
    says protected cases may move."""
    cases, practitioners = hand_frames()
    rebalance = Policy(continuity="rebalance", continuity_penalty=20)
    assert not allocate(cases, practitioners, None, rebalance).cases["moved"].any()
    one = rebalance.model_copy(update={"max_moves": 1, "max_moves_share": 1.0})
    out = allocate(cases, practitioners, None, one).cases
    assert out.loc["LOW", "practitioner_id"] == "P2" and out.loc["LOW", "move_reason"] == MOVE_REASONS["rebalance"]
    protected = cases.assign(move_protected=[True, False])
    assert not allocate(protected, practitioners, None, one).cases["moved"].any()
    allowed = one.model_copy(update={"move_protected": True})
    assert allocate(protected, practitioners, None, allowed).cases.loc["LOW", "practitioner_id"] == "P2"


# ----------------------------------------------------------------------------------------------------------
# rounding


ROUNDING_INSTANCES = [(seed, load) for seed in range(4) for load in (1.2, 1.3)]
"""Small PDUs (60 cases, 3 practitioners: ~20 cases each, a realistic caseload) at 120-130% of capacity,
where the service runs (docs/sources.md#wmt-over-capacity-2024): small enough for the exact MIP to solve in well under a second."""


def test_rounding_gap_against_the_exact_mip_stays_under_one_percent() -> None:
    gaps = []
    for seed, load in ROUNDING_INSTANCES:
        cases, practitioners, partners = random_allocation_inputs(
            seed, cases_per_pdu=60, practitioners_per_pdu=3, n_partners=2, load=load
        )
        policy = Policy()
        lp = one_pdu_model(cases, practitioners, partners, policy)
        relaxed = solve_highs(lp, 60)
        rounded = round_allocation(lp, relaxed.values)
        exact = one_pdu_model(cases, practitioners, partners, policy, integral=True)
        best = solve_highs(exact, 60)
        assert best.status == "optimal"
        vector = exact.solution_vector(rounded.pair, rounded.hours, rounded.link, rounded.partner_hours)
        assert not exact.violations(vector), "the rounded allocation must be feasible for the exact MIP"
        objective = exact.objective(vector)
        assert objective == pytest.approx(
            lp.integral_objective(
                lp.solution_vector(rounded.pair, rounded.hours, rounded.link, rounded.partner_hours), rounded.pair
            )
        )
        # the MIP is solved to HiGHS's default relative gap (1e-4), so rounding may land a hair below it
        assert relaxed.objective <= best.objective + 1e-6 <= objective * (1 + 1e-4) + 2e-6
        gaps.append((objective - best.objective) / best.objective)
    assert max(gaps) < 0.01, f"rounding gaps {[f'{g:.3%}' for g in gaps]}"


def _objective_by_practitioner(a, pair: np.ndarray, hours: np.ndarray, partner_hours: np.ndarray) -> np.ndarray:
    """Each practitioner's part of the objective for these hours, by the allocator's plain per-case arithmetic."""
    cases = np.arange(a.n_cases)
    prac = a.pair_prac[pair]
    cost = np.bincount(
        prac, weights=objective.case_costs(a, cases, pair, hours, partner_hours), minlength=a.n_practitioners
    )
    load = np.bincount(prac, weights=hours, minlength=a.n_practitioners)
    return cost + a.overflow_penalty * np.maximum(load - a.capacity, 0.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.5, 3.0), st.sampled_from(["off", "soft"]))
def test_batched_caseload_prices_equal_each_practitioner_priced_alone(seed: int, load: float, pool: str) -> None:
    """The local search prices many caseloads in one sort; each price must be that caseload's own knapsack."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=40, practitioners_per_pdu=4, n_partners=1, load=load
    )
    model = one_pdu_model(cases, practitioners, partners, Policy(women_specialist_pool=pool))
    a = model.arrays
    rng = np.random.default_rng(seed)
    pair = a.pair_start[:-1] + (rng.random(a.n_cases) * np.diff(a.pair_start)).astype(np.int64)
    partner_hours = np.zeros(a.n_cases)
    tables = local_search.cost_tables(a, partner_hours)
    prac = a.pair_prac[pair]
    cost, hours = local_search.caseload_costs(a, tables, np.arange(a.n_practitioners), prac, np.arange(a.n_cases), pair)
    alone = rounding.best_hours(a, np.arange(a.n_cases), pair, partner_hours)
    np.testing.assert_allclose(cost, _objective_by_practitioner(a, pair, alone, partner_hours), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        np.bincount(prac, weights=hours, minlength=a.n_practitioners),
        np.bincount(prac, weights=alone, minlength=a.n_practitioners),
        atol=1e-9,
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.8, 2.0), st.sampled_from([0.0, 20.0]))
def test_local_search_only_lowers_the_objective_and_keeps_hours_at_their_best(
    seed: int, load: float, continuity: float
) -> None:
    """Rounding with the local search is never worse than without it, and the hours it leaves are the best
    hours for the assignment it ends with (its caseload prices were updated move by move, not recomputed)."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=60, practitioners_per_pdu=4, n_partners=0, load=load
    )
    model = one_pdu_model(cases, practitioners, partners, Policy(continuity="free", continuity_penalty=continuity))
    relaxed = solve_highs(model, 60)
    plain = round_allocation(model, relaxed.values, improve=False, polish=False)
    better = round_allocation(model, relaxed.values, polish=False)

    def objective(r) -> float:
        return model.integral_objective(model.solution_vector(r.pair, r.hours, r.link, r.partner_hours), r.pair)

    assert objective(better) <= objective(plain) + 1e-6
    a = model.arrays
    best = rounding.best_hours(a, np.arange(a.n_cases), better.pair, better.partner_hours)
    np.testing.assert_allclose(
        _objective_by_practitioner(a, better.pair, better.hours, better.partner_hours).sum(),
        _objective_by_practitioner(a, better.pair, best, better.partner_hours).sum(),
        rtol=1e-9,
        atol=1e-7,
    )


def test_polishing_the_exact_mips_assignment_gives_back_its_objective() -> None:
    """With the MIP's practitioners fixed, the polishing LP must find hours and partners as good as the MIP's
    own: it is exact for a fixed assignment."""
    for seed, load in ROUNDING_INSTANCES:
        cases, practitioners, partners = random_allocation_inputs(
            seed, cases_per_pdu=60, practitioners_per_pdu=3, n_partners=2, load=load
        )
        model = one_pdu_model(cases, practitioners, partners, Policy())
        exact = one_pdu_model(cases, practitioners, partners, Policy(), integral=True)
        best = solve_highs(exact, 60)
        pair = lp_module.lp_choice(exact, best.values).chosen
        polished = lp_module.polish_hours(model, pair)
        hours, link, partner_hours = polished.hours, polished.link, polished.partner_hours
        assert (np.bincount(model.arrays.link_case[link[link >= 0]], minlength=model.arrays.n_cases) <= 1).all()
        vector = model.solution_vector(pair, hours, link, partner_hours)
        assert not model.violations(vector)
        # equal up to the solvers' feasibility tolerance (the MIP's answer may use a 1e-7 slack the LP does not)
        assert model.integral_objective(vector, pair) == pytest.approx(best.objective, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.8, 2.0), st.one_of(st.none(), st.floats(10_000.0, 200_000.0)))
def test_polishing_never_makes_the_rounded_allocation_worse(seed: int, load: float, budget: float | None) -> None:
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=40, practitioners_per_pdu=3, n_partners=2, load=load
    )
    policy = Policy(budget_cap_gbp=budget)
    model = one_pdu_model(cases, practitioners, partners, policy)
    relaxed = solve_highs(model, 60)
    exact = one_pdu_model(cases, practitioners, partners, policy, integral=True)

    def objective(r) -> float:
        vector = exact.solution_vector(r.pair, r.hours, r.link, r.partner_hours)
        assert not exact.violations(vector)
        return exact.objective(vector)

    polished, plain = round_allocation(model, relaxed.values), round_allocation(model, relaxed.values, polish=False)
    assert objective(polished) <= objective(plain) + 1e-6
    assert polished.solver_seconds > 0 and plain.solver_seconds == 0, "the polishing LP's HiGHS time is counted"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_gain_threshold_is_exactly_where_a_cases_hours_stop_being_worth_the_need(seed: int) -> None:
    """The local search skips pairs priced at or above T_c; that is safe only if below T_c, and only there,
    the case's segments are worth more than its need."""
    rng = np.random.default_rng(seed)
    C = 50
    length = rng.choice([0.0, 1.0], size=(3, C), p=[0.2, 0.8]) * rng.uniform(0, 40, size=(3, C))
    value = np.sort(rng.uniform(-5, 1200, size=(3, C)), axis=0)[::-1]
    need = rng.uniform(-50, 30_000, size=C)
    T = local_search.gain_threshold(length, value, need)
    for theta in np.r_[rng.uniform(-10, 1300, size=40), value.ravel()]:
        worth = (length * np.maximum(value - theta, 0.0)).sum(axis=0)
        above = worth > need + 1e-7 * np.maximum(1.0, np.abs(need))
        below = worth < need - 1e-7 * np.maximum(1.0, np.abs(need))
        assert (theta < T + 1e-6)[above].all()
        assert (theta > T - 1e-6)[below].all()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 7))
def test_gain_threshold_from_prefixes_is_the_largest_root_over_every_subset(seed: int, segments: int) -> None:
    """T_c is taken over the S prefixes of the segments sorted by value; it is the largest root over all
    2^S - 1 subsets of segments, in whatever order the values come."""
    rng = np.random.default_rng(seed)
    C = 40
    length = rng.choice([0.0, 1.0], size=(segments, C), p=[0.2, 0.8]) * rng.uniform(0, 40, size=(segments, C))
    value = rng.uniform(-5, 1200, size=(segments, C))
    value[:, : C // 4] = np.round(value[:, : C // 4], -2)  # ties
    need = rng.uniform(-50, 30_000, size=C)
    subsets = np.array([[(k >> i) & 1 for i in range(segments)] for k in range(1, 2**segments)], dtype=float)
    lengths = subsets @ length
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.where(lengths > 0, (subsets @ (length * value) - need) / lengths, -np.inf)
    expected = np.where(need < 0, np.inf, roots.max(axis=0))
    np.testing.assert_allclose(local_search.gain_threshold(length, value, need), expected, rtol=1e-12, atol=1e-9)


def test_greedy_rounding_without_any_solver_is_a_valid_allocation() -> None:
    cases, practitioners, partners = random_allocation_inputs(
        9, cases_per_pdu=40, practitioners_per_pdu=4, n_partners=2
    )
    model = one_pdu_model(cases, practitioners, partners, Policy())
    rounded = round_allocation(model, None)
    exact = one_pdu_model(cases, practitioners, partners, Policy(), integral=True)
    assert not exact.violations(exact.solution_vector(rounded.pair, rounded.hours, rounded.link, rounded.partner_hours))
    assert rounded.hours.sum() > 0.9 * min(model.arrays.capacity.sum(), model.arrays.required.sum())


def test_exact_option_solves_the_mip_and_is_never_worse_than_rounding() -> None:
    cases, practitioners, partners = random_allocation_inputs(
        1, cases_per_pdu=25, practitioners_per_pdu=3, n_partners=1
    )
    exact = allocate(cases, practitioners, partners, Policy(exact=True))
    rounded = allocate(cases, practitioners, partners, Policy())
    assert exact.pdus.loc["PDU01", "status"] == "optimal"
    assert exact.pdus.loc["PDU01", "objective"] <= rounded.pdus.loc["PDU01", "objective"] + 1e-6
    assert rounded.pdus.loc["PDU01", "bound"] <= exact.pdus.loc["PDU01", "objective"] + 1e-6


# ----------------------------------------------------------------------------------------------------------
# properties over random scenarios


@st.composite
def scenarios(draw):
    seed = draw(st.integers(0, 10_000))
    n_pdus = draw(st.integers(1, 3))
    cases_per_pdu = draw(st.integers(1, 30))
    practitioners_per_pdu = draw(st.integers(0, 5))
    n_partners = draw(st.integers(0, 2))
    load = draw(st.floats(0.5, 3.0))
    policy = Policy(
        women_specialist_pool=draw(st.sampled_from(["off", "soft", "hard"])),
        caseload_cap=draw(st.one_of(st.none(), st.integers(5, 60))),
        continuity=draw(st.sampled_from(["keep", "rebalance", "free"])),
        max_moves=draw(st.one_of(st.none(), st.integers(0, 5))),
        max_moves_share=draw(st.sampled_from([0.0, 0.05, 0.5])),
        move_protected=draw(st.booleans()),
        continuity_penalty=draw(st.sampled_from([0.0, 20.0, 200.0])),
        budget_cap_gbp=draw(st.one_of(st.none(), st.floats(0.0, 200_000.0))),
        use_partners=draw(st.booleans()),
    )
    cases, practitioners, partners = random_allocation_inputs(
        seed,
        n_pdus=n_pdus,
        cases_per_pdu=cases_per_pdu,
        practitioners_per_pdu=practitioners_per_pdu,
        n_partners=n_partners,
        load=load,
    )
    return cases, practitioners, partners, policy


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_allocation_keeps_the_rules(scenario) -> None:
    """One practitioner per case (or none only when nobody may hold it), hours conserved, eligibility,
    capacity never exceeded except as reported overflow, partner scope and contracts, caps and budget."""
    cases, practitioners, partners, policy = scenario
    allocation = allocate(cases, practitioners, partners, policy)
    overflow = allocation.practitioners["overflow_hours"]
    limit = PARAMS["allocation.capacity.overflow_limit_share"] * allocation.practitioners["capacity_hours"]
    assert (overflow <= limit + 1e-6).all()
    assert list(allocation.pdus.index) == sorted(cases["pdu"].unique())


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_input_order_does_not_change_the_answer(seed: int) -> None:
    cases, practitioners, partners = random_allocation_inputs(seed, n_pdus=2, cases_per_pdu=12, practitioners_per_pdu=3)
    policy = Policy()
    first = allocate(cases, practitioners, partners, policy)
    shuffled = allocate(
        cases.sample(frac=1.0, random_state=1), practitioners.sample(frac=1.0, random_state=2), partners, policy
    )
    pd.testing.assert_frame_equal(shuffled.cases.loc[cases.index], first.cases)
    pd.testing.assert_frame_equal(shuffled.practitioners.loc[practitioners.index], first.practitioners)


# ----------------------------------------------------------------------------------------------------------
# shortfalls, cases nobody may hold, fallbacks


def test_floors_beyond_capacity_stay_feasible_and_are_reported() -> None:
    cases, practitioners, partners = random_allocation_inputs(11, cases_per_pdu=30, practitioners_per_pdu=3, load=6.0)
    allocation = allocate(cases, practitioners, partners, Policy())
    row = allocation.pdus.loc["PDU01"]
    assert row["shortfall_hours"] > 0
    assert row["practitioners_over_capacity"]
    over = row["practitioners_over_capacity"].split(";")
    ratio = allocation.practitioners.loc[over, "allocated_hours"] / allocation.practitioners.loc[over, "capacity_hours"]
    assert (ratio <= 1 + PARAMS["allocation.capacity.overflow_limit_share"] + 1e-9).all()
    message = next(w for w in allocation.warnings if "public-protection minimums" in w)
    placed = allocation.cases["practitioner_id"].notna()
    short = allocation.cases.loc[placed, "floor_shortfall_hours"].sum()
    assert short > 0 and row["shortfall_hours"] >= short
    assert "PDU01" in message and f"{short:,.1f} minimum hours short" in message
    assert f"{len(over)} practitioner(s) are planned above capacity" in message
    assert not any(p in message for p in over)  # named in the practitioners table, not in a warning


def test_case_nobody_may_hold_gets_no_practitioner_and_a_warning() -> None:
    cases, practitioners = hand_frames()
    practitioners = practitioners.loc[["P2"]]  # only the PSO: the A1 case has nobody
    cases.loc["COMPLEX", "current_practitioner_id"] = None
    allocation = allocate(cases, practitioners, None, Policy())
    out = allocation.cases.loc["COMPLEX"]
    assert out["practitioner_id"] is None
    assert out["unmet_hours"] == pytest.approx(100.0) and out["afforded_hours"] == 0.0
    assert out["floor_shortfall_hours"] == pytest.approx(out["floor_hours"])
    assert any("1 case(s) have no eligible practitioner" in w for w in allocation.warnings)
    assert not any("COMPLEX" in w for w in allocation.warnings)  # counts only: ids stay in the case table
    assert allocation.cases.loc["LOW", "practitioner_id"] == "P2"


def test_pdu_without_practitioners_does_not_crash() -> None:
    cases, practitioners, partners = random_allocation_inputs(3, n_pdus=2, cases_per_pdu=5, practitioners_per_pdu=2)
    practitioners = practitioners[practitioners["pdu"] == "PDU01"]
    allocation = allocate(cases, practitioners, partners, Policy())
    lost = allocation.cases[cases["pdu"] == "PDU02"]
    assert lost["practitioner_id"].isna().all()
    assert allocation.pdus.loc["PDU02", "status"] == "no-model"
    assert any("PDU PDU02" in w and "has no practitioners" in w for w in allocation.warnings)


def test_solver_failure_falls_back_to_cbc_and_says_so(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(solvers, "solve_highs", broken)
    cases, practitioners, partners = random_allocation_inputs(4, cases_per_pdu=15, practitioners_per_pdu=3)
    allocation = allocate(cases, practitioners, partners, Policy())
    row = allocation.pdus.loc["PDU01"]
    assert row["solver"] == "pulp-cbc" and row["status"] == "rounded"
    assert "solver crashed" in row["message"] and "CBC" in row["message"]
    assert any("fallback" in w and "PDU01" in w for w in allocation.warnings)


def test_no_solver_at_all_gives_the_greedy_fallback(monkeypatch) -> None:
    monkeypatch.setattr(
        pdu,
        "solve_model",
        lambda model, solver, limit: solvers.SolveResult(
            solvers.SolveStatus.FAILED, None, None, None, 0.0, 0.0, solver, "unavailable"
        ),
    )
    cases, practitioners, partners = random_allocation_inputs(4, cases_per_pdu=15, practitioners_per_pdu=3)
    allocation = allocate(cases, practitioners, partners, Policy())
    row = allocation.pdus.loc["PDU01"]
    assert row["status"] == "fallback" and row["solver"] == "greedy"
    assert math.isnan(row["bound"])
    assert any("no solver answered" in w for w in allocation.warnings)


def test_time_limit_falls_back_and_says_so() -> None:
    cases, practitioners, partners = random_allocation_inputs(7, cases_per_pdu=20, practitioners_per_pdu=3)
    allocation = allocate(cases, practitioners, partners, Policy(time_limit_seconds=1e-9))
    row = allocation.pdus.loc["PDU01"]
    assert row["status"] in {"time-limit", "fallback", "rounded"}
    assert "HiGHS" in row["message"] and ("time limit" in row["message"] or "fallback" in row["message"])
    assert any("PDU01" in w for w in allocation.warnings)


# ----------------------------------------------------------------------------------------------------------
# policy options


def test_hard_pool_sends_womens_cases_only_to_specialists_and_soft_pool_prefers_them() -> None:
    cases, practitioners, partners = random_allocation_inputs(
        12, cases_per_pdu=40, practitioners_per_pdu=5, women_share=0.5
    )
    specialist = practitioners["specialisms"].map(lambda s: "women" in s)
    women = cases["sex"] == "female"
    hard = allocate(cases, practitioners, partners, Policy(women_specialist_pool="hard", continuity="free"))
    held = hard.cases.loc[women, "practitioner_id"].dropna()
    assert specialist[held].all()
    # under keep, the pool places women's new cases; a woman held by a non-specialist today stays
    kept = allocate(cases, practitioners, partners, Policy(women_specialist_pool="hard")).cases
    new = women & cases["current_practitioner_id"].isna()
    assert specialist[kept.loc[new, "practitioner_id"].dropna()].all()
    held_today = women & cases["current_practitioner_id"].notna()
    stayed = kept.loc[held_today, "practitioner_id"] == cases.loc[held_today, "current_practitioner_id"]
    assert (
        stayed.any()
        and not specialist[
            kept.loc[held_today & stayed.reindex(women.index, fill_value=False), "practitioner_id"]
        ].all()
    )
    forced = {MOVE_REASONS["left"], MOVE_REASONS["no_hours"]}  # only a holder who cannot keep the case
    assert set(kept.loc[held_today & kept["moved"], "move_reason"]) <= forced

    def non_specialist_hours(policy):
        out = allocate(cases, practitioners, partners, policy).cases
        mask = women & out["practitioner_id"].map(lambda p: p is not None and not specialist[p])
        return out.loc[mask, "afforded_hours"].sum()

    assert non_specialist_hours(
        Policy(women_specialist_pool="soft", specialist_pool_penalty=50.0)
    ) <= non_specialist_hours(Policy())


def test_caseload_cap_and_budget_are_kept_when_they_can_be() -> None:
    cases, practitioners, partners = random_allocation_inputs(13, cases_per_pdu=40, practitioners_per_pdu=4, load=0.9)
    capped = allocate(cases, practitioners, partners, Policy(caseload_cap=40))
    assert capped.pdus["practitioners_over_cap"].eq("").all()
    full = allocate(cases, practitioners, partners, Policy())
    unit = practitioners["grade"].map(PARAMS.table("costs.staff_cost_per_hour"))
    spend = (full.practitioners["allocated_hours"] * unit).sum()
    budget = 0.5 * spend
    tight = allocate(cases, practitioners, partners, Policy(budget_cap_gbp=budget, use_partners=False))
    assert (tight.practitioners["allocated_hours"] * unit).sum() <= budget * (1 + 1e-9)
    assert tight.cases["unmet_hours"].sum() > full.cases["unmet_hours"].sum()


def test_partner_hours_only_for_areas_delivered_and_women_only_partners() -> None:
    cases, practitioners, partners = random_allocation_inputs(
        14, cases_per_pdu=40, practitioners_per_pdu=3, n_partners=2, load=1.5
    )
    partners["women_only"] = [1, 0]
    partners["need_areas"] = [("domestic_abuse_victim", "dependent_children"), ("drugs", "alcohol")]
    partners["contract_hours_per_year"] = 400.0
    allocation = allocate(cases, practitioners, partners, Policy())
    referred = allocation.cases[allocation.cases["partner_id"].notna()]
    assert len(referred) > 0
    women_only = referred[referred["partner_id"] == "K001"]
    assert (cases.loc[women_only.index, "sex"] == "female").all()
    off = allocate(cases, practitioners, partners, Policy(use_partners=False))
    assert off.cases["partner_id"].isna().all() and (off.cases["partner_hours"] == 0).all()


# ----------------------------------------------------------------------------------------------------------
# parallel PDUs, the output contract, the fixture scenario


def test_parallel_pdus_give_the_same_answer_as_serial() -> None:
    cases, practitioners, partners = random_allocation_inputs(
        21, n_pdus=3, cases_per_pdu=20, practitioners_per_pdu=3, n_partners=2
    )
    serial = allocate(cases, practitioners, partners, Policy(), workers=1)
    parallel = allocate(cases, practitioners, partners, Policy(), workers=2)
    pd.testing.assert_frame_equal(parallel.cases, serial.cases)
    pd.testing.assert_frame_equal(parallel.practitioners, serial.practitioners)
    columns = ["status", "solver", "objective", "bound", "shortfall_hours", "practitioners_over_capacity", "message"]
    pd.testing.assert_frame_equal(parallel.pdus[columns], serial.pdus[columns])
    assert parallel.warnings == serial.warnings


def test_worker_pool_is_kept_across_calls_with_one_blas_thread_per_worker() -> None:
    """The pool starts once per process and is reused (a second call, with other parameters, gets the same
    workers and the right answer); workers run with one BLAS thread; this process's environment is as it was."""
    import os

    before = dict(os.environ)
    cases, practitioners, partners = random_allocation_inputs(
        23, n_pdus=2, cases_per_pdu=15, practitioners_per_pdu=3, n_partners=1
    )
    first = allocate(cases, practitioners, partners, Policy(), workers=2)
    pool = lp_module.worker_pool(2)
    pids = set(pool._processes)  # the workers' process ids (CPython's ProcessPoolExecutor keeps them here)
    assert len(pids) == 2
    assert pool.submit(os.getenv, "OPENBLAS_NUM_THREADS").result() == (before.get("OPENBLAS_NUM_THREADS") or "1")
    other = allocate(cases, practitioners, partners, Policy(continuity="free", continuity_penalty=0.0), workers=2)
    assert lp_module.worker_pool(2) is pool
    assert set(pool._processes) == pids and pool.submit(os.getpid).result() in pids
    serial = allocate(cases, practitioners, partners, Policy(continuity="free", continuity_penalty=0.0), workers=1)
    pd.testing.assert_frame_equal(other.cases, serial.cases)
    pd.testing.assert_frame_equal(first.cases, allocate(cases, practitioners, partners, Policy(), workers=1).cases)
    assert dict(os.environ) == before


def test_workers_are_cut_when_the_largest_pdus_would_not_fit_in_memory(monkeypatch) -> None:
    cases, practitioners, partners = random_allocation_inputs(
        24, n_pdus=3, cases_per_pdu=30, practitioners_per_pdu=3, n_partners=1
    )
    inputs = pdu_inputs(cases, practitioners, partners, PARAMS, Policy())
    sizes = sorted((lp_module.pdu_memory(inp) for inp in inputs.values()), reverse=True)
    plenty = 10 * sum(sizes) / lp_module.MEMORY_SHARE
    assert lp_module.fit_workers_to_memory([inputs], 3, plenty) == (3, [])
    assert lp_module.fit_workers_to_memory([inputs], 3, None) == (3, [])
    two = (sizes[0] + sizes[1] + 1) / lp_module.MEMORY_SHARE  # the two largest fit, not the three
    fitted, warnings = lp_module.fit_workers_to_memory([inputs], 3, two)
    assert fitted == 2 and len(warnings) == 1 and "solved 2 at a time" in warnings[0]
    fitted, warnings = lp_module.fit_workers_to_memory([inputs], 3, sizes[-1] / 2 / lp_module.MEMORY_SHARE)
    assert fitted == 1
    assert [w for w in warnings if "possible pairs" in w] and all(p in " ".join(warnings) for p in inputs)

    # in a run: the same answer as one worker, and the warning with it
    monkeypatch.setattr(parallel, "available_memory", lambda: two)
    squeezed = allocate(cases, practitioners, partners, Policy(), workers=3)
    serial = allocate(cases, practitioners, partners, Policy(), workers=1)
    pd.testing.assert_frame_equal(squeezed.cases, serial.cases)
    assert any("solved 2 at a time" in w for w in squeezed.warnings)


def test_a_pool_whose_worker_died_while_idle_is_replaced(monkeypatch) -> None:
    import os
    import signal
    import time

    cases, practitioners, partners = random_allocation_inputs(
        25, n_pdus=2, cases_per_pdu=15, practitioners_per_pdu=3, n_partners=1
    )
    first = allocate(cases, practitioners, partners, Policy(), workers=2)
    pool = lp_module.worker_pool(2)
    os.kill(next(iter(pool._processes)), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not pool._broken and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool._broken
    again = allocate(cases, practitioners, partners, Policy(), workers=2)
    assert not any("parallel PDU solves failed" in w for w in again.warnings)
    assert lp_module.worker_pool(2) is not pool
    pd.testing.assert_frame_equal(again.cases, first.cases)


def test_idle_workers_are_let_go_when_memory_leaves_one_solve_at_a_time(monkeypatch) -> None:
    cases, practitioners, partners = random_allocation_inputs(26, n_pdus=2, cases_per_pdu=15, practitioners_per_pdu=3)
    lp_module.start_workers(2)
    assert parallel._POOLS
    monkeypatch.setattr(parallel, "available_memory", lambda: 1.0)
    squeezed = allocate(cases, practitioners, partners, Policy(), workers=2)
    assert not parallel._POOLS
    assert any("possible pairs" in w for w in squeezed.warnings)


def test_allocation_works_with_standard_output_closed(tmp_path) -> None:
    """HiGHS's banner is kept off stdout by closing fd 1 around the first instance; a process whose stdout
    is already closed (a daemon, `>&-`) must still allocate."""
    import subprocess
    import sys

    out = tmp_path / "done.txt"
    script = (
        "from tests.allocate.test_lp import allocate, random_allocation_inputs, Policy; "
        "c, p, q = random_allocation_inputs(27, cases_per_pdu=20, practitioners_per_pdu=3, n_partners=1); "
        "a = allocate(c, p, q, Policy()); "
        f"open({str(out)!r}, 'w').write(str(a.pdus['solver'].tolist()))"
    )
    proc = subprocess.run(
        f'{sys.executable} -c "{script}" >&-',
        check=False,
        shell=True,
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        cwd=FIXTURES.parent.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "['highs']"


def test_output_contract() -> None:
    cases, practitioners, partners = random_allocation_inputs(22, cases_per_pdu=10, practitioners_per_pdu=2)
    allocation = allocate(cases, practitioners, partners, Policy())
    for column in (
        "practitioner_id",
        "afforded_hours",
        "partner_id",
        "partner_hours",
        "unmet_hours",
        "moved",
        "floor_hours",
        "floor_shortfall_hours",
    ):
        assert column in allocation.cases.columns
    assert allocation.cases.index.equals(cases.index)
    for column in ("allocated_hours", "capacity_hours", "utilisation", "overflow_hours"):
        assert column in allocation.practitioners.columns
    for column in (
        "status",
        "solver",
        "objective",
        "seconds",
        "shortfall_hours",
        "practitioners_over_capacity",
        "message",
    ):
        assert column in allocation.pdus.columns
    assert allocation.cases["moved"].dtype == bool


def test_tiny_fixture_scenario_end_to_end() -> None:
    scenario = load_scenario(FIXTURES / "tiny")
    cases = scenario.cases.copy()
    rng = np.random.default_rng(0)
    for area in NEED_AREAS:
        cases[f"hours_need_{area}"] = cases[area].astype(float) * 4.0 if area in cases.columns else 0.0
    cases["wmt_hours"] = [23.0, 100.0, 23.0]
    cases["hours_risk"] = [23.0, 78.0, 23.0]
    cases["required_hours"] = cases["wmt_hours"] + cases[list(NEED_COLUMNS)].sum(axis=1) + rng.uniform(0, 5, len(cases))
    policy = scenario.spec.policy
    allocation = allocate_lp(cases, scenario.practitioners, scenario.partners, scenario.params, policy, workers=1)
    assert_allocation_valid(allocation, cases, scenario.practitioners, scenario.partners, policy, scenario.params)
    assert allocation.cases.loc["C002", "practitioner_id"] == "P01"  # a B2 case: the PSO may not hold it
    referred = allocation.cases[allocation.cases["partner_id"] == "WC1"]
    assert (scenario.cases.loc[referred.index, "sex"] == "female").all()


def test_assert_allocation_valid_catches_broken_allocations() -> None:
    cases, practitioners, partners = random_allocation_inputs(23, cases_per_pdu=12, practitioners_per_pdu=2)
    policy = Policy()
    allocation = allocate(cases, practitioners, partners, policy)
    broken = Allocation(allocation.cases.copy(), allocation.practitioners.copy(), allocation.pdus, [])
    broken.cases.iloc[0, broken.cases.columns.get_loc("unmet_hours")] += 5.0
    with pytest.raises(AssertionError, match="hours not conserved"):
        assert_allocation_valid(broken, cases, practitioners, partners, policy, PARAMS)
    overloaded = Allocation(allocation.cases.copy(), allocation.practitioners.copy(), allocation.pdus, [])
    first = overloaded.practitioners.index[0]
    extra = overloaded.practitioners.loc[first, "capacity_hours"]
    target = overloaded.cases.index[overloaded.cases["practitioner_id"] == first][0]
    overloaded.cases.loc[target, ["afforded_hours", "unmet_hours"]] += [extra, -extra]
    overloaded.cases.loc[target, "unmet_hours"] = (
        cases.loc[target, "required_hours"]
        - overloaded.cases.loc[target, "afforded_hours"]
        - overloaded.cases.loc[target, "partner_hours"]
    )
    with pytest.raises(AssertionError):
        assert_allocation_valid(overloaded, cases, practitioners, partners, policy, PARAMS)


def test_assert_allocation_valid_catches_a_move_under_keep_and_moves_over_the_budget() -> None:
    """The continuity checks the property tests rely on can fail: a kept case given to another practitioner,
    and more moves than a rebalance's budget, are both reported."""
    cases, practitioners, partners = random_allocation_inputs(5, cases_per_pdu=40, practitioners_per_pdu=4, load=1.5)
    keep = Policy()
    allocation = allocate(cases, practitioners, partners, keep)
    prac = allocation.practitioners.index[allocation.practitioners["capacity_hours"] > 0]
    held = allocation.cases.index[allocation.cases["practitioner_id"].isin(prac) & ~allocation.cases["moved"]]
    target = held[0]
    other = next(p for p in prac if p != allocation.cases.loc[target, "practitioner_id"])
    moved = Allocation(allocation.cases.copy(), allocation.practitioners, allocation.pdus, [])
    moved.cases.loc[target, ["practitioner_id", "moved"]] = [other, True]
    with pytest.raises(AssertionError, match="continuity rule keeps it"):
        assert_allocation_valid(moved, cases, practitioners, partners, keep, PARAMS)

    free = Policy(continuity="free", continuity_penalty=0.0)
    loose = allocate(cases, practitioners, partners, free)
    assert loose.cases["move_reason"].eq(MOVE_REASONS["free"]).sum() >= 2
    tight = Policy(continuity="rebalance", max_moves=1, move_protected=True, continuity_penalty=0.0)
    with pytest.raises(AssertionError, match="above the move budget 1"):
        assert_allocation_valid(loose, cases, practitioners, partners, tight, PARAMS)
    within = allocate(cases, practitioners, partners, tight)
    assert within.cases["move_reason"].eq(MOVE_REASONS["rebalance"]).sum() <= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.floats(0.8, 3.0), st.integers(0, 6), st.booleans())
def test_rebalance_keeps_its_budget_and_protected_cases(seed: int, load: float, budget: int, protected: bool) -> None:
    """Under rebalance: moves chosen by the allocator never exceed the budget, a protected case moves only
    when the policy allows it, and hours are conserved (checked by assert_allocation_valid in allocate)."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=30, practitioners_per_pdu=4, load=load, current_share=0.9
    )
    policy = Policy(continuity="rebalance", max_moves=budget, max_moves_share=1.0, move_protected=protected)
    out = allocate(cases, practitioners, partners, policy).cases
    chosen = out["move_reason"].eq(MOVE_REASONS["rebalance"])
    assert chosen.sum() <= budget
    if not protected:
        assert not (chosen & cases["move_protected"]).any()


@pytest.mark.parametrize(("seed", "cap", "load"), [(2, 4, 3.0), (2, 4, 1.0), (10, 4, 1.0), (11, None, 3.0)])
def test_rebalance_with_no_moves_allowed_allocates_as_well_as_keep(seed: int, cap: int | None, load: float) -> None:
    """A move budget of 0 leaves rebalance the same choices as keep, so it must do as well: the caseload cap
    and the local search may not move held cases that the budget then sends back on top of the cases placed
    around them (which left minimums short and practitioners over capacity, at twice keep's objective)."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=20, practitioners_per_pdu=3, load=load, current_share=0.9
    )
    keep = allocate(cases, practitioners, partners, Policy(continuity="keep", caseload_cap=cap))
    for budget in (0, 2):
        policy = Policy(continuity="rebalance", max_moves=budget, max_moves_share=1.0, caseload_cap=cap)
        rebalance = allocate(cases, practitioners, partners, policy)
        assert rebalance.pdus["objective"].sum() <= keep.pdus["objective"].sum() * (1 + 1e-3)
        assert rebalance.pdus["shortfall_hours"].sum() <= keep.pdus["shortfall_hours"].sum() + 1e-6


@pytest.mark.parametrize("workers", [1, 2])
def test_work_beside_the_solves_runs_once_and_changes_no_answer(workers: int) -> None:
    cases, practitioners, partners = random_allocation_inputs(5, n_pdus=3, cases_per_pdu=30, practitioners_per_pdu=4)
    job = (cases, practitioners, partners, load_parameters(), Policy())
    alone = lp_module.allocate_lp_many([job], workers=workers)[0]
    calls: list[int] = []
    beside = lp_module.allocate_lp_many([job], workers=workers, meanwhile=lambda: calls.append(1))[0]
    assert calls == [1]
    pd.testing.assert_frame_equal(beside.cases, alone.cases)
    assert lp_module.allocate_lp_many([], meanwhile=lambda: calls.append(2)) == [] and calls == [1, 2]


def test_an_error_beside_the_solves_is_raised_as_it_is() -> None:
    cases, practitioners, partners = random_allocation_inputs(5, n_pdus=3, cases_per_pdu=30, practitioners_per_pdu=4)

    def fails() -> None:
        raise RuntimeError("the main process's own work failed")

    with pytest.raises(RuntimeError, match="own work failed"):
        lp_module.allocate_lp_many([(cases, practitioners, partners, load_parameters(), Policy())], 2, fails)
    again = lp_module.allocate_lp_many([(cases, practitioners, partners, load_parameters(), Policy())], workers=2)
    assert len(again) == 1 and not any("parallel PDU solves failed" in w for w in again[0].warnings)
