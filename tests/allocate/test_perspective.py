"""Moves priced whole in the LP (workload.allocate.perspective): the same integer problem, a tighter bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.allocate.builders import hand_frames
from workload.allocate.lp import round_allocation, solve_highs
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.allocate.perspective import moving_cases
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import random_allocation_inputs

PARAMS = load_parameters()


def arrays_of(cases, practitioners, partners, policy):
    (inp,) = pdu_inputs(cases, practitioners, partners, PARAMS, policy).values()
    return pdu_arrays(inp, PARAMS, policy)


def without_shedding(model):
    """The same model with the shedding rows switched off (lower bounds -inf)."""
    relaxed = build_model(model.arrays, explicit=model.explicit, integral=model.integral)
    rows = relaxed.families.get("shedding")
    if rows is not None:
        relaxed.row_lower[rows] = -np.inf
    return relaxed


@pytest.mark.parametrize("continuity", ["rebalance", "free"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_projected_and_explicit_relaxations_agree_when_cases_may_move(continuity: str, seed: int) -> None:
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=30, practitioners_per_pdu=4, n_partners=2, load=1.3
    )
    policy = Policy(continuity=continuity, max_moves_share=0.2)
    a = arrays_of(cases, practitioners, partners, policy)
    assert len(moving_cases(a)) > 0
    projected, explicit = build_model(a), build_model(a, explicit=True)
    assert "m" in projected.blocks and "stay_link" in explicit.families
    first, second = solve_highs(projected, 60), solve_highs(explicit, 60)
    assert first.status == second.status == "optimal"
    assert first.objective == pytest.approx(second.objective, rel=1e-7, abs=1e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    load=st.sampled_from([1.1, 1.3, 1.6]),
    continuity=st.sampled_from(["rebalance", "free"]),
)
@example(seed=109, load=1.3, continuity="rebalance")  # the two MIPs stop 2.5e-5 apart, inside HiGHS's gap
def test_the_tighter_rows_cut_off_no_one_practitioner_allocation(seed: int, load: float, continuity: str) -> None:
    """The exact MIP's optimum is the same with and without the shedding rows (they cut off fractional
    moves only), the LP bound is at most it, and a rounded allocation's objective is at least it."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=10, practitioners_per_pdu=3, n_partners=1, load=load
    )
    policy = Policy(continuity=continuity, max_moves_share=0.3)
    a = arrays_of(cases, practitioners, partners, policy)
    exact = build_model(a, integral=True)
    best = solve_highs(exact, 60)
    plain = solve_highs(without_shedding(exact), 60)
    assert best.status == plain.status == "optimal"
    # both within HiGHS's MIP gap (1e-4, relative) of the optimum
    assert best.objective == pytest.approx(plain.objective, rel=2e-4, abs=1e-6)
    lp = build_model(a)
    relaxed = solve_highs(lp, 60)
    assert relaxed.objective <= best.objective + 1e-6 * max(1.0, abs(best.objective))
    r = round_allocation(lp, relaxed.values)
    rounded = exact.integral_objective(exact.solution_vector(r.pair, r.hours, r.link, r.partner_hours), r.pair)
    assert rounded >= best.objective - 2e-4 * max(1.0, abs(best.objective))
    assert not exact.violations(exact.solution_vector(r.pair, r.hours, r.link, r.partner_hours))


def two_holders() -> tuple[pd.DataFrame, pd.DataFrame]:
    """P1 (100 h) holds a 100-hour case and a 10-hour case: 10 hours over. P2 (200 h) holds nothing."""
    return hand_frames(
        PARAMS,
        {"BIG": ("C2", "P1", 100.0, 50.0, 0.0), "SMALL": ("C2", "P1", 10.0, 5.0, 0.0)},
        {"P1": ("PO", 100.0), "P2": ("PO", 200.0)},
    )


@pytest.mark.parametrize("continuity", ["rebalance", "free"])
def test_an_lp_cannot_move_part_of_a_case_for_part_of_the_price(continuity: str) -> None:
    """P1 is 10 hours over. Moving the 10-hour case, or the 100-hour one, costs a whole move; the LP bound
    is the exact optimum (the plain relaxation moved a tenth of the big case for a tenth of the price)."""
    cases, practitioners = two_holders()
    policy = Policy(continuity=continuity, max_moves_share=1.0, continuity_penalty=20.0)
    a = arrays_of(cases, practitioners, None, policy)
    lp, exact = build_model(a), build_model(a, integral=True)
    relaxed, best = solve_highs(lp, 60), solve_highs(exact, 60)
    assert relaxed.objective == pytest.approx(best.objective, rel=1e-7, abs=1e-6)
    m = relaxed.values[lp.blocks["m"]]
    assert np.all((m < 1e-7) | (m > 1 - 1e-7))  # moves whole
    # the plain relaxation's answer (a tenth of BIG with P2, at a tenth of its price) is cut off
    y = lp.blocks["y"]
    pairs = list(zip(a.case_ids[a.pair_case], a.practitioner_ids[a.pair_prac]))
    plain = np.zeros(lp.n_cols)
    big_p1, big_p2 = pairs.index(("BIG", "P1")), pairs.index(("BIG", "P2"))
    small_p1 = pairs.index(("SMALL", "P1"))
    plain[y.start + big_p1], plain[y.start + big_p2], plain[y.start + small_p1] = 90.0, 10.0, 10.0
    moving = list(a.case_ids[moving_cases(a)])
    plain[lp.blocks["m"].start + moving.index("BIG")] = 0.1
    assert any(name.startswith("shedding") for name in lp.violations(plain))
