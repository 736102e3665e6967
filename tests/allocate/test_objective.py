"""One objective: the pieces in workload/allocate/objective.py that rounding prices with add up to the LP's
own objective, and the typed statuses keep the text the PDU table has always had."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workload.allocate import objective
from workload.allocate.model import build_model, pdu_arrays, pdu_inputs
from workload.allocate.pdu import PduStatus
from workload.allocate.rounding import round_allocation
from workload.allocate.solvers import SolveStatus, relative_gap, solve_highs
from workload.params import load_parameters
from workload.scenario import Policy
from workload.testing import random_allocation_inputs

PARAMS = load_parameters()


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 10_000),
    st.floats(0.6, 2.0),
    st.sampled_from(["off", "soft"]),
    st.sampled_from([0.0, 20.0]),
    st.sampled_from(["keep", "rebalance", "free"]),
)
def test_objective_pieces_add_up_to_the_models_objective(
    seed: int, load: float, pool: str, continuity: float, rule: str
) -> None:
    """Unmet need and practitioner hours by case (objective.case_costs), partner hours at
    objective.partner_hour_cost, moves, overflow: the same number as the LP model's objective."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=40, practitioners_per_pdu=4, n_partners=1, load=load
    )
    policy = Policy(women_specialist_pool=pool, continuity_penalty=continuity, continuity=rule, max_moves_share=0.2)
    (inp,) = pdu_inputs(cases, practitioners, partners, PARAMS, policy).values()
    model = build_model(pdu_arrays(inp, PARAMS, policy))
    a = model.arrays
    r = round_allocation(model, solve_highs(model, 60).values)
    cases_ = np.arange(a.n_cases)
    referred = r.link >= 0
    partner = float(objective.partner_hour_cost(a)[a.link_partner[r.link[referred]]] @ r.partner_hours[referred])
    moved = (a.current_pair >= 0) & (r.pair != a.current_pair)
    load_ = np.bincount(a.pair_prac[r.pair], weights=r.hours, minlength=a.n_practitioners)
    overflow = a.overflow_penalty * np.maximum(load_ - a.capacity, 0.0).sum()
    total = (
        objective.case_costs(a, cases_, r.pair, r.hours, r.partner_hours).sum()
        + partner
        + (continuity + a.weight * a.restart)[moved].sum()
        + overflow
    )
    vector = model.solution_vector(r.pair, r.hours, r.link, r.partner_hours)
    assert total == pytest.approx(model.integral_objective(vector, r.pair), rel=1e-9, abs=1e-7)


def test_unmet_bands_fill_the_minimum_then_the_need_bands_from_the_top() -> None:
    """R = 10, F = 3, bands at 0.2, 0.4, ..., 1 of R: the minimum covers the first band and half the second,
    so the need bands hold 0, 1, 2, 2, 2 hours; unmet hours fill the top band first."""
    R, F = np.full(3, 10.0), np.full(3, 3.0)
    caps = objective.band_caps(R, F, np.array([0.2, 0.4, 0.6, 0.8, 1.0]))
    np.testing.assert_array_equal(caps[:, 0], [0.0, 1.0, 2.0, 2.0, 2.0])
    bands = objective.unmet_bands(R, F, caps, np.array([0.0, 4.0, 9.0]), np.zeros(3))
    np.testing.assert_array_equal(bands.floor, [3.0, 0.0, 0.0])
    np.testing.assert_array_equal(bands.need[:, 0], [0.0, 1.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(bands.need[:, 1], [0.0, 0.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(bands.need[:, 2], [0.0, 0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(bands.total(), R - np.array([0.0, 4.0, 9.0]))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 50.0), min_size=1, max_size=8), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_the_cost_of_unmet_need_is_convex_in_a_cases_hours(
    hours_list: list[float], floor_share: float, w: float
) -> None:
    """Each further hour saves no more than the one before (the bands' weights fall as coverage rises)."""
    R = 50.0
    hours = np.sort(np.array(hours_list))
    top = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    weight = np.array([16.0, 8.0, 4.0, 2.0, 1.0])
    n = len(hours)
    F = np.full(n, floor_share * R)
    caps = objective.band_caps(np.full(n, R), F, top)
    bands = objective.unmet_bands(np.full(n, R), F, caps, hours, np.zeros(n))
    weights = objective.UnmetBands(np.full(n, 16.0 * (1 + w) + 1000), weight[:, None] * np.full((5, n), 1 + w))
    cost = objective.unmet_cost(weights, bands)
    grid = np.linspace(0.0, R, 101)
    g_caps = objective.band_caps(np.full(101, R), np.full(101, floor_share * R), top)
    g_weights = objective.UnmetBands(np.full(101, 16.0 * (1 + w) + 1000), weight[:, None] * np.full((5, 101), 1 + w))
    curve = objective.unmet_cost(
        g_weights, objective.unmet_bands(np.full(101, R), g_caps[0] * 0 + floor_share * R, g_caps, grid, np.zeros(101))
    )
    assert (np.diff(curve, 2) >= -1e-6).all()  # convex
    assert (np.diff(curve) <= 1e-9).all()  # never rises with more hours
    assert (cost >= 0).all()


def test_statuses_keep_their_text() -> None:
    """The PDU table's status column and the solver messages read as they always have."""
    assert [s.value for s in PduStatus] == ["optimal", "rounded", "time-limit", "fallback", "no-model"]
    assert [s.value for s in SolveStatus] == ["optimal", "time-limit", "failed"]
    assert f"{PduStatus.NO_MODEL}" == str(PduStatus.NO_MODEL) == "no-model"
    assert relative_gap(110.0, 100.0, 100.0) == pytest.approx(0.1)
    assert relative_gap(0.5, 0.25, 0.25) == 0.25  # scaled by at least 1
