"""Shadow prices against finite differences: the LP's duals are what one more hour is worth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workload.allocate.arrays import pdu_arrays, pdu_inputs
from workload.allocate.model import build_model
from workload.allocate.shadow import shadow_prices
from workload.allocate.solvers import SolveStatus, solve_highs
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import random_allocation_inputs

PARAMS = load_parameters()
STEP = 0.5
"""Hours added and taken away in the finite differences (small against a practitioner's ~1,000 h)."""


def _arrays(seed: int, n_partners: int = 1, load: float = 1.3):
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=30, practitioners_per_pdu=4, n_partners=n_partners, load=load
    )
    inputs = pdu_inputs(cases, practitioners, partners, PARAMS, Policy())
    return pdu_arrays(next(iter(inputs.values())), PARAMS, Policy())


def _optimum(a, pricing: bool = True) -> tuple[float, np.ndarray]:
    result = solve_highs(build_model(a), time_limit=60.0, pricing=pricing)
    assert result.status == SolveStatus.OPTIMAL and result.objective is not None
    assert result.row_dual is not None
    return result.objective, result.row_dual


def _bracket(value: float, base: float, up: float, down: float) -> None:
    """The dual lies between the one-sided differences (equal to both where the LP is not degenerate)."""
    gain_up = (base - up) / STEP  # what the extra hours saved
    gain_down = (down - base) / STEP  # what the lost hours cost
    tol = 1e-6 * max(1.0, abs(value))
    assert gain_up - tol <= value <= gain_down + tol, (gain_up, value, gain_down)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_practitioner_shadow_prices_match_finite_differences(seed: int) -> None:
    a = _arrays(seed)
    base, dual = _optimum(a)
    prices = shadow_prices(build_model(a), dual)
    assert (prices.practitioner >= 0).all()
    assert (prices.practitioner > 0).any(), "a loaded PDU has a binding capacity row"
    for p in range(a.n_practitioners):
        if a.capacity[p] <= STEP:
            continue
        up = a.capacity.copy()
        up[p] += STEP
        down = a.capacity.copy()
        down[p] -= STEP
        _bracket(
            float(prices.practitioner[p]),
            base,
            _optimum(dataclasses.replace(a, capacity=up))[0],
            _optimum(dataclasses.replace(a, capacity=down))[0],
        )


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_partner_shadow_prices_match_finite_differences(seed: int) -> None:
    a = _arrays(seed, n_partners=2)
    base, dual = _optimum(a)
    prices = shadow_prices(build_model(a), dual)
    assert len(prices.partner) == len(a.partner_ids)
    assert (prices.partner >= 0).all()
    for k in range(len(a.partner_ids)):
        if a.contract[k] <= STEP:
            continue
        up = a.contract.copy()
        up[k] += STEP
        down = a.contract.copy()
        down[k] -= STEP
        _bracket(
            float(prices.partner[k]),
            base,
            _optimum(dataclasses.replace(a, contract=up))[0],
            _optimum(dataclasses.replace(a, contract=down))[0],
        )


def test_priced_duals_are_the_full_lps() -> None:
    """Pricing pairs in ends at the full LP's optimum, so its capacity duals are the full LP's."""
    a = _arrays(11)
    _, priced = _optimum(a, pricing=True)
    _, full = _optimum(a, pricing=False)
    model = build_model(a)
    np.testing.assert_allclose(
        shadow_prices(model, priced).practitioner, shadow_prices(model, full).practitioner, atol=1e-6
    )


def test_spare_capacity_is_worth_nothing() -> None:
    """With far more capacity than need, no capacity row binds: every practitioner's hour is worth 0."""
    a = _arrays(12, load=0.3)
    _, dual = _optimum(a)
    assert (shadow_prices(build_model(a), dual).practitioner == 0).all()


def _case_hours(a, values: np.ndarray, model) -> np.ndarray:
    y = values[model.blocks["y"]]
    z = values[model.blocks["z"]]
    return np.bincount(a.pair_case, weights=y, minlength=a.n_cases) + np.bincount(
        a.link_case, weights=z, minlength=a.n_cases
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_where_the_next_hour_goes_matches_a_finite_difference(seed: int) -> None:
    """The basis's direction for one more hour of a practitioner's capacity is the change, case by case, that
    re-solving with a little more capacity makes (where the optimum is unique and the step small)."""
    a = _arrays(seed)
    model = build_model(a)
    base = solve_highs(model, 60.0)
    assert base.effects is not None and base.values is not None
    cap0 = model.families["capacity"].start
    step = 0.01
    checked = 0
    for p in range(a.n_practitioners):
        up = a.capacity.copy()
        up[p] += step
        bigger = build_model(dataclasses.replace(a, capacity=up))
        again = solve_highs(bigger, 60.0)
        assert again.values is not None
        finite = (_case_hours(a, again.values, bigger) - _case_hours(a, base.values, model)) / step
        mine = base.effects.row == cap0 + p
        marginal = np.bincount(base.effects.case[mine], weights=base.effects.hours[mine], minlength=a.n_cases)
        # every hour goes somewhere: the cases' hours rise by the hour (or not at all, with spare capacity)
        assert marginal.sum() == pytest.approx(1.0 if mine.any() else 0.0, abs=1e-6)
        if np.allclose(finite, marginal, atol=1e-4):
            checked += 1
    assert checked >= a.n_practitioners - 1, "the direction is the finite difference for (almost) every practitioner"
