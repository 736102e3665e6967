"""The rounding's neighbourhood step (workload.allocate.neighbourhood): the exact MIP on the LP's neighbourhood."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workload.allocate import neighbourhood
from workload.allocate.lp import round_allocation, solve_highs
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import random_allocation_inputs

PARAMS = load_parameters()


def lp_of(seed: int, continuity: str, load: float = 1.3, cases: int = 40, practitioners: int = 4):
    frames = random_allocation_inputs(
        seed, cases_per_pdu=cases, practitioners_per_pdu=practitioners, n_partners=2, load=load
    )
    policy = Policy(continuity=continuity, max_moves_share=0.15)
    (inp,) = pdu_inputs(*frames, PARAMS, policy).values()
    model = build_model(pdu_arrays(inp, PARAMS, policy))
    return model, solve_highs(model, 60)


def objective_of(model, r) -> float:
    return model.integral_objective(model.solution_vector(r.pair, r.hours, r.link, r.partner_hours), r.pair)


def test_restricted_pairs_keep_each_case_its_current_practitioner() -> None:
    model, _ = lp_of(3, "free")
    a = model.arrays
    rng = np.random.default_rng(0)
    keep = rng.random(a.n_pairs) < 0.3
    keep[a.current_pair[a.current_pair >= 0]] = True
    keep[a.pair_start[:-1]] = True  # every case keeps a pair
    sub, kept = neighbourhood.restrict_pairs(a, keep)
    assert sub.n_pairs == int(keep.sum())
    assert (np.diff(sub.pair_start) == np.bincount(a.pair_case[keep], minlength=a.n_cases)).all()
    has = a.current_pair >= 0
    assert (kept[sub.current_pair[has]] == a.current_pair[has]).all()
    assert (sub.pair_prac == a.pair_prac[kept]).all() and (sub.pair_case == a.pair_case[kept]).all()
    exact = build_model(sub, integral=True)
    # the current allocation (everyone where they are, no hours) is a solution of the restricted model
    here = np.where(has, sub.current_pair, sub.pair_start[:-1])
    vector = exact.solution_vector(here, np.zeros(a.n_cases), np.full(a.n_cases, -1), np.zeros(a.n_cases))
    assert not exact.violations(vector)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), continuity=st.sampled_from(["rebalance", "free"]))
def test_the_step_never_makes_an_allocation_worse_or_breaks_a_rule(seed: int, continuity: str) -> None:
    model, relaxed = lp_of(seed, continuity)
    a = model.arrays
    without = round_allocation(model, relaxed.values, improve=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(neighbourhood, "NEIGHBOURHOOD_GAP", -1.0)  # run it whatever the gap
        found = round_allocation(model, relaxed.values, improve=True)
    assert objective_of(model, found) <= objective_of(model, without) + 1e-6 * max(1.0, objective_of(model, without))
    assert objective_of(model, found) >= relaxed.objective - 1e-6 * max(1.0, abs(relaxed.objective))
    assert not model.violations(model.solution_vector(found.pair, found.hours, found.link, found.partner_hours))
    assert (a.pair_case[found.pair] == np.arange(a.n_cases)).all()  # one practitioner per case, its own pair
    assert (np.bincount(a.link_case[found.link[found.link >= 0]], minlength=a.n_cases) <= 1).all()
    if a.move_budget is not None:
        moved = (a.current_pair >= 0) & (found.pair != a.current_pair)
        assert moved.sum() <= a.move_budget


def test_it_finds_a_better_allocation_where_rounding_leaves_a_gap() -> None:
    """Over seeds where the rounded allocation is more than 1% above the bound, the step lowers the
    objective on at least one (and never raises it)."""
    better = 0
    tried = 0
    for seed in range(6):
        model, relaxed = lp_of(seed, "free", load=1.1, cases=60, practitioners=5)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(neighbourhood, "NEIGHBOURHOOD_GAP", float("inf"))  # never run: the rounding alone
            alone = objective_of(model, round_allocation(model, relaxed.values))
        if alone - relaxed.objective <= 0.01 * abs(relaxed.objective):
            continue
        tried += 1
        stepped = objective_of(model, round_allocation(model, relaxed.values))
        assert stepped <= alone + 1e-6 * abs(alone)
        better += stepped < alone - 1e-6 * abs(alone)
    assert tried > 0 and better > 0


def test_it_does_not_run_within_the_target() -> None:
    model, relaxed = lp_of(1, "free")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(neighbourhood, "NEIGHBOURHOOD_GAP", float("inf"))
        calls = []
        real = neighbourhood.build_model
        patch.setattr(neighbourhood, "build_model", lambda *args, **kw: calls.append(1) or real(*args, **kw))
        round_allocation(model, relaxed.values)
    assert calls == []


def test_policy_neighbourhood_false_skips_the_step() -> None:
    """``policy.neighbourhood`` switches the step: off, a PDU where it helps keeps the rounding's answer."""
    from workload.allocate.lp import allocate_lp
    from workload.testing import assert_allocation_valid

    frames = random_allocation_inputs(0, cases_per_pdu=60, practitioners_per_pdu=5, n_partners=2, load=1.1)
    objective = {}
    for on in (True, False):
        policy = Policy(continuity="free", neighbourhood=on)
        allocation = allocate_lp(*frames, PARAMS, policy, workers=1)
        assert_allocation_valid(allocation, *frames, policy, PARAMS)
        objective[on] = float(allocation.pdus["objective"].iloc[0])
    assert objective[True] < objective[False]


def test_it_does_not_run_in_a_pdu_too_big_for_it() -> None:
    model, relaxed = lp_of(0, "free", load=1.1, cases=60, practitioners=5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(neighbourhood, "NEIGHBOURHOOD_GAP", -1.0)
        patch.setattr(neighbourhood, "NEIGHBOURHOOD_MAX_CASES", model.arrays.n_cases - 1)
        calls = []
        real = neighbourhood.build_model
        patch.setattr(neighbourhood, "build_model", lambda *args, **kw: calls.append(1) or real(*args, **kw))
        round_allocation(model, relaxed.values)
    assert calls == []
