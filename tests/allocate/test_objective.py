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
@given(st.integers(0, 10_000), st.floats(0.6, 2.0), st.sampled_from(["off", "soft"]), st.sampled_from([0.0, 20.0]))
def test_objective_pieces_add_up_to_the_models_objective(seed: int, load: float, pool: str, continuity: float) -> None:
    """Unmet need and practitioner hours by case (objective.case_costs), partner hours at
    objective.partner_hour_cost, moves, overflow: the same number as the LP model's objective."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=40, practitioners_per_pdu=4, n_partners=1, load=load
    )
    policy = Policy(women_specialist_pool=pool, continuity_penalty=continuity)
    (inp,) = pdu_inputs(cases, practitioners, partners, PARAMS, policy).values()
    model = build_model(pdu_arrays(inp, PARAMS, policy))
    a = model.arrays
    r = round_allocation(model, solve_highs(model, 60).values)
    cases_ = np.arange(a.n_cases)
    referred = r.link >= 0
    partner = float(objective.partner_hour_cost(a)[a.link_partner[r.link[referred]]] @ r.partner_hours[referred])
    moved = int(((a.current_pair >= 0) & (r.pair != a.current_pair)).sum()) + a.moved_anyway
    load_ = np.bincount(a.pair_prac[r.pair], weights=r.hours, minlength=a.n_practitioners)
    overflow = a.overflow_penalty * np.maximum(load_ - a.capacity, 0.0).sum()
    total = (
        objective.case_costs(a, cases_, r.pair, r.hours, r.partner_hours).sum()
        + partner
        + a.continuity_penalty * moved
        + overflow
    )
    vector = model.solution_vector(r.pair, r.hours, r.link, r.partner_hours)
    assert total == pytest.approx(model.integral_objective(vector, r.pair), rel=1e-9, abs=1e-7)


def test_unmet_bands_fill_the_floor_then_above_the_target_then_below_it() -> None:
    """R = 10, F = 4, theta = 0.8: the floor band holds 4, above the target 2, below it 4."""
    R, F = np.array([10.0, 10.0, 10.0]), np.array([4.0, 4.0, 4.0])
    cap = objective.above_target_cap(R, F, 0.8)
    bands = objective.unmet_bands(R, F, cap, np.array([0.0, 4.0, 9.0]), np.zeros(3))
    np.testing.assert_array_equal(bands.floor, [4.0, 0.0, 0.0])
    np.testing.assert_array_equal(bands.above, [2.0, 2.0, 1.0])
    np.testing.assert_array_equal(bands.below, [4.0, 4.0, 0.0])


def test_statuses_keep_their_text() -> None:
    """The PDU table's status column and the solver messages read as they always have."""
    assert [s.value for s in PduStatus] == ["optimal", "rounded", "time-limit", "fallback", "no-model"]
    assert [s.value for s in SolveStatus] == ["optimal", "time-limit", "failed"]
    assert f"{PduStatus.NO_MODEL}" == str(PduStatus.NO_MODEL) == "no-model"
    assert relative_gap(110.0, 100.0, 100.0) == pytest.approx(0.1)
    assert relative_gap(0.5, 0.25, 0.25) == 0.25  # scaled by at least 1
