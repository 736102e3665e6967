"""Candidate pairs (workload.allocate.candidates): a very large PDU's arrays hold a few pairs per case, and the LP
prices every other eligible pair from its duals, reaching the optimum over every eligible pair."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workload.allocate import candidates, pricing, solvers
from workload.allocate.candidates import candidate_pairs, closed_cases, open_cases
from workload.allocate.lp import allocate_lp, solve_highs
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.allocate.pricing import closed_gains, opening, outside_entering, outside_reduced_costs
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import assert_allocation_valid, random_allocation_inputs

PARAMS = load_parameters()


def inputs(seed: int, cases: int = 40, practitioners: int = 8):
    return random_allocation_inputs(
        seed, cases_per_pdu=cases, practitioners_per_pdu=practitioners, n_partners=2, load=1.3, women_share=0.4
    )


def arrays_of(frames, policy):
    cases, practitioners, partners = frames
    (inp,) = pdu_inputs(cases, practitioners, partners, PARAMS, policy).values()
    return pdu_arrays(inp, PARAMS, policy)


@pytest.fixture
def exact_opening(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closed cases open until none could gain at all (no Lagrangian stop): the LP's exact optimum."""
    monkeypatch.setattr(solvers, "OPEN_GAP", 0.0)


POLICIES = {
    "free": Policy(continuity="free"),
    "rebalance": Policy(continuity="rebalance", max_moves_share=0.2),
    "free, soft pool, budget": Policy(
        continuity="free", women_specialist_pool="soft", specialist_pool_penalty=3.0, budget_cap_gbp=2_000_000.0
    ),
}


def test_below_the_threshold_the_arrays_hold_every_eligible_pair() -> None:
    a = arrays_of(inputs(0), POLICIES["free"])
    assert a.rule is None
    assert a.n_pairs == int(np.diff(a.pair_start).sum())


@pytest.mark.parametrize("name", list(POLICIES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_candidates_priced_in_reach_the_optimum_over_every_pair(
    name: str, seed: int, monkeypatch: pytest.MonkeyPatch, exact_opening: None
) -> None:
    policy = POLICIES[name]
    frames = inputs(seed)
    full = arrays_of(frames, policy)
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    lazy = arrays_of(frames, policy)
    assert full.rule is None and lazy.rule is not None
    assert lazy.n_pairs < full.n_pairs
    whole, priced = solve_highs(build_model(full), 60), solve_highs(build_model(lazy), 60)
    assert whole.status == priced.status == "optimal"
    assert priced.objective == pytest.approx(whole.objective, rel=1e-7, abs=1e-6)
    # pairs from outside the candidates entered, and the answer is a point of the grown model
    assert priced.model is not None and priced.model.arrays.n_pairs > lazy.n_pairs
    grown = priced.model
    assert priced.values is not None and not grown.violations(priced.values)
    assert grown.objective(priced.values) == pytest.approx(priced.objective, rel=1e-9, abs=1e-6)
    key = grown.arrays.pair_case * full.n_practitioners + grown.arrays.pair_prac
    assert np.isin(key, full.pair_case * full.n_practitioners + full.pair_prac).all()  # only eligible pairs
    # no pair left out prices in, and no case left closed could gain by moving; some were opened on the way
    assert priced.row_dual is not None
    case, _ = outside_entering(grown, priced.row_dual)
    still, gain = opening(grown, priced.row_dual)
    assert len(case) == 0 and len(still) == 0 and gain == 0.0
    assert len(closed_cases(lazy)) > len(closed_cases(grown.arrays))
    assert re.search(r"; [1-9][0-9,]* case\(s\) opened to moves", priced.message)


@pytest.mark.parametrize("name", list(POLICIES))
def test_reduced_costs_priced_in_chunks_are_the_full_models(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """At any row duals, the chunked reduced costs of every pair equal the full model's ``c - A' d``."""
    policy = POLICIES[name]
    frames = inputs(3)
    full = build_model(arrays_of(frames, policy))
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    monkeypatch.setattr(candidates, "CHUNK_ENTRIES", 3 * full.arrays.n_practitioners)  # three cases a chunk
    closed = arrays_of(frames, policy)
    lazy = build_model(open_cases(closed, closed_cases(closed)))  # every case open: the full model's rows
    assert lazy.n_rows == full.n_rows
    assert (lazy.row_lower == full.row_lower).all() and (lazy.row_upper == full.row_upper).all()
    if name.endswith("budget"):
        assert "budget" in full.families and "away_hours" in full.families
    duals = np.random.default_rng(4).normal(size=full.n_rows)
    rows = np.repeat(np.arange(full.n_rows), np.diff(full.start))
    reduced = full.cost - np.bincount(full.index, weights=full.value * duals[rows], minlength=full.n_cols)
    a = full.arrays
    chunked = np.concatenate(
        [outside_reduced_costs(lazy, duals, lo, hi) for lo, hi in candidates.case_chunks(a.n_cases, a.n_practitioners)]
    )
    assert chunked.shape == (a.n_cases, a.n_practitioners)
    np.testing.assert_allclose(chunked[a.pair_case, a.pair_prac], reduced[full.blocks["y"]], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("continuity", ["free", "rebalance"])
def test_an_allocation_from_candidate_pairs_is_valid(
    continuity: str, monkeypatch: pytest.MonkeyPatch, exact_opening: None
) -> None:
    cases, practitioners, partners = random_allocation_inputs(
        5, n_pdus=2, cases_per_pdu=30, practitioners_per_pdu=6, n_partners=2, load=1.3
    )
    policy = Policy(continuity=continuity, max_moves_share=0.2)
    whole = allocate_lp(cases, practitioners, partners, PARAMS, policy, workers=1)
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    allocation = allocate_lp(cases, practitioners, partners, PARAMS, policy, workers=1)
    assert_allocation_valid(allocation, cases, practitioners, partners, policy, PARAMS)
    assert set(allocation.pdus["status"]) == {"rounded"}
    # the same LP bound as with every pair: the rounding starts from the same LP optimum
    np.testing.assert_allclose(allocation.pdus["bound"], whole.pdus["bound"], rtol=1e-7)


@pytest.mark.parametrize("name", list(POLICIES))
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_an_lp_stopped_with_cases_closed_reports_its_lagrangian_bound(
    name: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped while closed cases could still gain, the LP's bound is its objective less what they could gain
    together, and that is at most the optimum with every case free to move; its duals are not the full LP's,
    so no shadow prices are read from them."""
    policy = POLICIES[name]
    frames = inputs(seed)
    whole = solve_highs(build_model(arrays_of(frames, policy)), 60)
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    monkeypatch.setattr(solvers, "OPEN_GAP", 10.0)  # stop at the first optimum, whatever closed cases could gain
    lazy = build_model(arrays_of(frames, policy))
    early = solve_highs(lazy, 60)
    assert early.status == whole.status == "optimal"
    assert early.objective is not None and early.bound is not None and whole.objective is not None
    assert early.bound <= whole.objective + 1e-6 * abs(whole.objective)
    assert whole.objective <= early.objective + 1e-6 * abs(whole.objective)
    if early.bound < early.objective - 1e-9:
        assert early.row_dual is None and early.effects is None
        assert "could gain at most" in early.message
    else:  # nothing was left to gain: the exact optimum
        assert early.objective == pytest.approx(whole.objective, rel=1e-7, abs=1e-6)


def test_at_most_open_per_round_cases_open_at_once_most_gain_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    model = build_model(arrays_of(inputs(1, cases=60), POLICIES["free"]))
    duals = solve_highs(model, 60, pricing=False).row_dual  # the LP with every case closed
    assert duals is not None
    closed, gains = closed_gains(model, duals)
    every, total = opening(model, duals)
    assert len(every) >= 3
    assert set(every) == set(closed[gains > 0]) and total == pytest.approx(gains.sum())
    monkeypatch.setattr(pricing, "OPEN_PER_ROUND", 2)
    some, same_total = opening(model, duals)
    assert len(some) == 2 and same_total == total  # what every closed case could gain, opened or not
    chosen = np.isin(closed, some)
    assert gains[chosen].min() >= gains[~chosen].max()


@pytest.mark.parametrize("name", list(POLICIES))
def test_a_time_limit_after_cases_opened_keeps_the_optimum_before_and_its_bound(
    name: str, monkeypatch: pytest.MonkeyPatch, exact_opening: None
) -> None:
    """When the time runs out in a later round, the round before's optimum is a point of the full LP (its closed
    cases stay) and its Lagrangian bound is a bound of the full LP."""
    policy = POLICIES[name]
    frames = inputs(2)
    whole = solve_highs(build_model(arrays_of(frames, policy)), 60)
    monkeypatch.setattr(candidates, "CANDIDATE_THRESHOLD", 0)
    monkeypatch.setattr(candidates, "CANDIDATE_PAIRS", 1)
    calls = []
    real = solvers._priced_run

    def out_of_time_after_the_first(model, time_limit, threads, pricing):
        calls.append(model)
        return real(model, time_limit if len(calls) == 1 else 1e-9, threads, pricing)

    monkeypatch.setattr(solvers, "_priced_run", out_of_time_after_the_first)
    lazy = build_model(arrays_of(frames, policy))
    late = solve_highs(lazy, 60)
    assert len(calls) == 2  # cases opened after the first optimum, and the second round ran out of time
    assert late.status == "time-limit" and whole.objective is not None
    assert late.values is not None and late.objective is not None and late.bound is not None
    assert late.model is not None and not late.model.violations(late.values)
    assert late.model.objective(late.values) == pytest.approx(late.objective, rel=1e-9, abs=1e-6)
    assert late.bound <= whole.objective + 1e-6 * abs(whole.objective) <= late.objective + 2e-6 * abs(whole.objective)
    assert "before the last cases opened" in late.message


@settings(max_examples=40, deadline=None)
@given(
    eligible=st.lists(st.lists(st.booleans(), min_size=7, max_size=7), min_size=1, max_size=12),
    others=st.integers(1, 8),
    data=st.data(),
)
def test_candidate_pairs_are_eligible_hold_the_current_pair_and_spread(eligible, others: int, data) -> None:
    matrix = np.array(eligible, dtype=bool)
    current = np.array(
        [data.draw(st.sampled_from([-1, *np.flatnonzero(row).tolist()])) for row in matrix], dtype=np.int64
    )
    case, prac = candidate_pairs(matrix, current, others)
    key = case * matrix.shape[1] + prac
    assert (np.diff(key) > 0).all()  # sorted by case, then practitioner, no repeats
    assert matrix[case, prac].all()
    held = np.flatnonzero(current >= 0)
    assert np.isin(held * matrix.shape[1] + current[held], key).all()
    count = np.bincount(case, minlength=len(matrix))
    # every eligible practitioner when there are few, else others + 1 of them
    assert (count == np.minimum(matrix.sum(axis=1), others + 1)).all()


def test_a_pdu_holding_candidate_pairs_is_expected_to_take_less_memory() -> None:
    from workload.allocate.arrays import PduInput
    from workload.allocate.parallel import PAIR_BYTES, pdu_memory

    big = PduInput(
        "R1",
        pd.DataFrame(index=range(30_000)),
        pd.DataFrame(index=range(1_150)),
        pd.DataFrame(),
        np.zeros((0, 0)),
        None,
    )
    every = pdu_memory(big)
    assert pdu_memory(big, Policy(continuity="keep", caseload_cap=None, solver="pulp-cbc")) == every
    held = pdu_memory(big, Policy(continuity="free"))
    assert PAIR_BYTES * candidates.CANDIDATE_THRESHOLD < held < every / 5
    small = PduInput(
        "P1", pd.DataFrame(index=range(2_500)), pd.DataFrame(index=range(110)), pd.DataFrame(), np.zeros((0, 0)), None
    )
    assert pdu_memory(small, Policy(continuity="free")) == pdu_memory(small)  # national PDUs: as before
