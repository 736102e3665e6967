"""A very large PDU under `free` solved in blocks (workload.allocate.decompose), and the stay-or-move Lagrangian
bound it reports (workload.allocate.lagrangian)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workload.allocate import candidates, decompose
from workload.allocate.decompose import applies, block_arrays, partition, solve_in_blocks
from workload.allocate.lagrangian import stay_or_move_bound
from workload.allocate.lp import allocate_lp, solve_highs
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.allocate.solvers import SolveStatus
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import assert_allocation_valid, random_allocation_inputs

PARAMS = load_parameters()

POLICIES = {
    "free": Policy(continuity="free"),
    "free, hard pool": Policy(continuity="free", women_specialist_pool="hard"),
    "free, soft pool, budget": Policy(
        continuity="free", women_specialist_pool="soft", specialist_pool_penalty=3.0, budget_cap_gbp=2_000_000.0
    ),
    "rebalance": Policy(continuity="rebalance", max_moves_share=0.1),
}


def frames(seed: int, cases: int = 120, practitioners: int = 12):
    return random_allocation_inputs(
        seed, cases_per_pdu=cases, practitioners_per_pdu=practitioners, n_partners=2, load=1.3, women_share=0.4
    )


def arrays_of(seed: int, policy: Policy):
    (inp,) = pdu_inputs(*frames(seed), PARAMS, policy).values()
    return pdu_arrays(inp, PARAMS, policy)


@pytest.fixture
def in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small PDUs hold candidate pairs and are solved in blocks of about 30 cases."""
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    monkeypatch.setattr(decompose, "DECOMPOSE_BLOCK_CASES", 30)
    monkeypatch.setattr(decompose, "DECOMPOSE_MIN_CASES", 0)


@pytest.mark.parametrize(
    "policy",
    [*POLICIES.values(), Policy(continuity="keep")],
    ids=[*POLICIES, "keep"],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_at_the_lps_own_prices_the_bound_is_its_optimum(policy: Policy, seed: int) -> None:
    """Keeping each case's stay-or-move choice and pricing every other row at the LP optimum's duals gives back
    that optimum: the bound loses nothing but what the prices lose."""
    model = build_model(arrays_of(seed, policy))
    result = solve_highs(model, 60)
    assert result.status == SolveStatus.OPTIMAL and result.row_dual is not None and result.objective is not None
    assert stay_or_move_bound(model, result.row_dual) == pytest.approx(result.objective, rel=1e-7, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 3),
    name=st.sampled_from(sorted(POLICIES)),
    noise=st.floats(0.0, 2.0),
    draw=st.integers(0, 2**31 - 1),
)
def test_the_bound_holds_at_any_prices(seed: int, name: str, noise: float, draw: int) -> None:
    """Weak duality: at prices moved away from the optimum's, the bound is still at most the LP optimum."""
    model = build_model(arrays_of(seed, POLICIES[name]))
    result = solve_highs(model, 60)
    assert result.row_dual is not None and result.objective is not None
    prices = result.row_dual + noise * np.random.default_rng(draw).normal(size=model.n_rows)
    # prices that pull toward a side the row has (the function clips the others to 0 itself)
    prices = np.where(np.isfinite(model.row_lower), prices, np.minimum(prices, 0.0))
    prices = np.where(np.isfinite(model.row_upper), prices, np.maximum(prices, 0.0))
    bound = stay_or_move_bound(model, prices)
    assert np.isfinite(bound)
    assert bound <= result.objective + 1e-6 * abs(result.objective)


@pytest.mark.parametrize("name", list(POLICIES))
def test_a_price_of_the_wrong_sign_by_a_rounding_error_does_not_lose_the_bound(name: str) -> None:
    """A solver's dual of +3e-14 on a row with no lower side is 0 for the bound, not a pull toward -inf."""
    model = build_model(arrays_of(0, POLICIES[name]))
    result = solve_highs(model, 60)
    assert result.row_dual is not None and result.objective is not None
    one_sided = ~np.isfinite(model.row_lower) | ~np.isfinite(model.row_upper)
    wrong = np.where(~np.isfinite(model.row_lower), 3e-14, -3e-14)
    prices = np.where(one_sided & (np.abs(result.row_dual) < 1e-12), wrong, result.row_dual)
    assert stay_or_move_bound(model, prices) == pytest.approx(result.objective, rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("name", list(POLICIES))
def test_one_block_carries_every_price_and_gives_back_the_lp_optimum(name: str, in_blocks: None) -> None:
    """A PDU cut into one block is the whole LP: its prices, carried row by row to the whole model (rows that
    share a name included), bound it exactly."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decompose, "DECOMPOSE_BLOCK_CASES", 10**6)
        found = solve_in_blocks(arrays_of(1, POLICIES[name]), 60)
    assert found is not None and found.blocks == 1
    assert found.bound == pytest.approx(found.objective, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", list(POLICIES))
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_blocks_give_a_point_of_the_lp_and_a_bound_below_its_optimum(name: str, seed: int, in_blocks: None) -> None:
    policy = POLICIES[name]
    a = arrays_of(seed, policy)
    assert applies(a)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(candidates, "CANDIDATE_THRESHOLD", 10**12)
        optimum = solve_highs(build_model(arrays_of(seed, policy)), 60).objective  # every pair, one LP
    assert optimum is not None
    found = solve_in_blocks(a, 60)
    assert found is not None and found.blocks == 4
    assert found.model.violations(found.values) == []
    assert found.objective == pytest.approx(found.model.objective(found.values))
    tol = 1e-6 * abs(optimum)
    assert found.bound <= optimum + tol <= found.objective + 2 * tol
    assert "4 blocks" in found.message


@pytest.mark.parametrize("seed", [0, 1])
def test_each_block_holds_its_share_and_every_case_can_be_placed_in_it(seed: int, in_blocks: None) -> None:
    a = arrays_of(seed, POLICIES["free, soft pool, budget"])
    case_block, prac_block = partition(a)
    n = int(prac_block.max()) + 1
    assert n == round(a.n_cases / 30)
    held = a.current_pair >= 0
    assert (case_block[held] == prac_block[a.pair_prac[a.current_pair[held]]]).all()  # a case goes with its holder
    assert a.rule is not None
    for c in range(a.n_cases):
        assert a.rule.eligible[c, prac_block == case_block[c]].any()
    parts = [block_arrays(a, np.flatnonzero(case_block == b), np.flatnonzero(prac_block == b), n) for b in range(n)]
    np.testing.assert_allclose(sum(p.contract for p in parts), a.contract)
    assert a.budget is not None
    assert sum(p.budget or 0.0 for p in parts) == pytest.approx(a.budget)
    assert sum(p.n_cases for p in parts) == a.n_cases and sum(p.n_practitioners for p in parts) == a.n_practitioners


def test_under_keep_or_below_the_size_a_pdu_is_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    assert not applies(arrays_of(0, POLICIES["free"]))  # 120 cases, below DECOMPOSE_MIN_CASES
    monkeypatch.setattr(decompose, "DECOMPOSE_MIN_CASES", 0)
    assert applies(arrays_of(0, POLICIES["free"])) and applies(arrays_of(0, POLICIES["rebalance"]))
    assert not applies(arrays_of(0, Policy(continuity="keep")))  # no case may move
    assert not applies(arrays_of(0, Policy(continuity="free", caseload_cap=40)))  # the cap counts cases: whole


def test_the_move_budget_is_shared_by_the_cases_each_block_holds(in_blocks: None) -> None:
    a = arrays_of(0, POLICIES["rebalance"])
    case_block, prac_block = partition(a)
    n = int(prac_block.max()) + 1
    parts = [block_arrays(a, np.flatnonzero(case_block == b), np.flatnonzero(prac_block == b), n) for b in range(n)]
    assert a.move_budget is not None and a.move_budget > 0
    assert sum(p.move_budget or 0.0 for p in parts) == pytest.approx(a.move_budget)
    for p, b in zip(parts, range(n)):
        held = int((a.current_pair[case_block == b] >= 0).sum())
        assert p.move_budget == pytest.approx(a.move_budget * held / int((a.current_pair >= 0).sum()))


def test_a_pdu_solved_in_blocks_is_rounded_and_reports_its_bound(in_blocks: None) -> None:
    cases, practitioners, partners = frames(4)
    policy = POLICIES["free, soft pool, budget"]
    allocation = allocate_lp(cases, practitioners, partners, PARAMS, policy, workers=1)
    assert_allocation_valid(allocation, cases, practitioners, partners, policy, PARAMS)
    (row,) = allocation.pdus.to_dict("records")
    assert row["status"] == "rounded"
    assert row["bound"] <= row["objective"]
    assert "blocks" in row["message"] and "Lagrangian" in row["message"]
    assert allocation.practitioners["hour_value"].isna().all()  # not the LP's optimum: no shadow prices


def test_a_block_not_solved_in_time_leaves_the_pdu_to_the_whole_lp(
    in_blocks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = decompose.solve_highs

    def every_block_times_out(model, time_limit, *args, **kwargs):
        result = original(model, time_limit, *args, **kwargs)
        return dataclasses.replace(result, status=SolveStatus.TIME_LIMIT)

    monkeypatch.setattr(decompose, "solve_highs", every_block_times_out)
    cases, practitioners, partners = frames(1)
    allocation = allocate_lp(cases, practitioners, partners, PARAMS, POLICIES["free"], workers=1)
    (row,) = allocation.pdus.to_dict("records")
    assert row["status"] == "rounded"
    assert "not solved in time" in row["message"] and "blocks of about" not in row["message"]


def test_no_more_blocks_than_practitioners_are_made(in_blocks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decompose, "DECOMPOSE_BLOCK_CASES", 1)  # 120 blocks wanted, 12 practitioners
    a = arrays_of(2, POLICIES["free"])
    case_block, prac_block = partition(a)
    assert int(prac_block.max()) + 1 == a.n_practitioners
    assert set(np.unique(case_block)) <= set(np.unique(prac_block))
    found = solve_in_blocks(a, 60)
    assert found is not None and found.model.violations(found.values) == []
