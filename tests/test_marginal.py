"""Where the next hour does most: the run's shadow-price columns and their conversion into pounds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workload import marginal, outcomes
from workload.allocate.arrays import pdu_arrays, pdu_inputs
from workload.allocate.model import build_model
from workload.allocate.solvers import solve_highs
from workload.load import load_scenario
from workload.pipeline import lp_cases, run_scenario, score_cases

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "women-pdu"


@pytest.fixture(scope="module")
def result():
    return run_scenario(load_scenario(SCENARIO), workers=1)


def test_every_practitioner_has_a_non_negative_hour_value_and_spare_time_is_worth_nothing(result) -> None:
    staff = result.practitioners
    assert staff["hour_value"].notna().all()
    assert (staff["hour_value"] >= 0).all()
    spare = staff["utilisation"] < 1 - 1e-6
    assert (staff.loc[spare, "hour_value"] == 0).all()
    busy = staff["capacity_hours"] > 0
    assert (staff.loc[busy, "hour_value"] > 0).any(), "the example PDU is short of time: some hour is worth something"


def _lp_whole_life_cost(scenario, a) -> tuple[float, float]:
    """The LP optimum of one PDU's arrays and outcomes' whole-life cost of its hours (staff and partner cost
    left out: the outcome costs the hours save)."""
    model = build_model(a)
    result = solve_highs(model, 120.0)
    assert result.values is not None and result.objective is not None
    need = score_cases(scenario)["assessed_need_hours"]
    afforded = pd.Series(0.0, index=scenario.cases.index)
    partner = afforded.copy()
    afforded[a.case_ids] = np.bincount(a.pair_case, weights=result.values[model.blocks["y"]], minlength=a.n_cases)
    partner[a.case_ids] = np.bincount(a.link_case, weights=result.values[model.blocks["z"]], minlength=a.n_cases)
    cell = outcomes.CellResult(afforded, partner, pd.Series(None, index=afforded.index, dtype=object), afforded > 1e9)
    zero = pd.Series(0.0, index=afforded.index)
    costs = outcomes.whole_life_costs(
        scenario.cases, outcomes.case_outcomes(need, cell), zero, zero, outcomes.cost_values(scenario.params)
    )
    return float(costs["whole_life_cost"].sum()), result.objective


@pytest.mark.parametrize("grade", ["PO", "PSO", "PQiP"])
def test_an_hours_pounds_match_a_finite_difference(result, grade: str) -> None:
    """One more hour for the grade's best practitioner, re-solved and costed by workload.outcomes, saves what
    hour_value_gbp says (and the weighted objective falls by hour_value)."""
    scenario = result.scenario
    frame = lp_cases(scenario, score_cases(scenario), "needs")
    policy = scenario.spec.policy
    inp = next(iter(pdu_inputs(frame, scenario.practitioners, scenario.partners, scenario.params, policy).values()))
    a = pdu_arrays(inp, scenario.params, policy)
    staff = result.practitioners
    best = staff[staff["grade"] == grade]["hour_value"].idxmax()
    more = a.capacity.copy()
    more[list(a.practitioner_ids).index(best)] += 1.0
    cost, objective = _lp_whole_life_cost(scenario, a)
    cost_more, objective_more = _lp_whole_life_cost(scenario, dataclasses.replace(a, capacity=more))
    assert objective - objective_more == pytest.approx(staff.loc[best, "hour_value"], rel=1e-3)
    # the cost model's v_c is taken at the run's (rounded) coverage, the difference at the LP's: equal where the
    # cost is linear in coverage, close otherwise
    assert cost - cost_more == pytest.approx(staff.loc[best, "hour_value_gbp"], rel=0.02)


def test_a_grades_next_hour_is_its_best_practitioners(result) -> None:
    staff, pdus = result.practitioners, result.tables["pdus"]
    for grade in ("PO", "PSO", "PQiP"):
        mine = staff[staff["grade"] == grade]
        best = mine.groupby("pdu")["hour_value"].max()
        np.testing.assert_allclose(pdus.loc[best.index, f"hour_value_{grade}"], best)


def test_partner_contracts_say_whether_the_next_hour_is_worth_its_price(result) -> None:
    contracts = result.tables["partner_contracts"]
    assert len(contracts) == 1
    row = contracts.iloc[0]
    assert 0 < row["used_hours"] <= row["contract_hours"] + 1e-6
    assert row["use_share"] == pytest.approx(row["used_hours"] / row["contract_hours"])
    # a contract used below its hours does not bind: its next hour is worth nothing, so not its price
    assert row["hour_value"] == 0 and row["worth_price"] == "no"


def test_pounds_per_hour_add_up_the_cases_an_hour_reaches() -> None:
    effects = pd.DataFrame(
        {
            "resource": ["P1", "P1", "P2"],
            "pdu": ["A", "A", "A"],
            "case_id": ["c1", "c2", "c1"],
            "hours": [1.5, -0.5, 1.0],
        }
    )
    saving = pd.Series({"c1": 10.0, "c2": 4.0})
    pounds = marginal.pounds_per_hour(effects, saving)
    assert pounds[("P1", "A")] == pytest.approx(13.0)
    assert pounds[("P2", "A")] == pytest.approx(10.0)


def test_partner_values_of_a_small_pdu_are_blank() -> None:
    contracts = pd.DataFrame(
        {
            "partner_id": ["K1", "K1"],
            "pdu": ["A", "B"],
            "contract_hours": [100.0, 100.0],
            "used_hours": [100.0, 40.0],
            "price_per_hour": [30.0, 30.0],
            "hour_value": [2.0, 0.0],
        }
    )
    pounds = pd.Series({("K1", "A"): 40.0, ("K1", "B"): 0.0})
    out = marginal.partner_values(contracts, pounds, pd.Series({"A": 50, "B": 3}), 5)
    assert out.iloc[0]["hour_value_gbp"] == pytest.approx(40.0) and out.iloc[0]["worth_price"] == "yes"
    assert np.isnan(out.iloc[1]["used_hours"]) and out.iloc[1]["worth_price"] is None


def test_partner_hours_of_few_referred_cases_are_blank_with_enough_others() -> None:
    """A contract whose used hours come from 1 to T-1 referred cases is blank, and so is the next smallest, so
    the published partner hours less the rows shown never give it back."""
    import pandas as pd

    from workload.marginal import partner_values

    contracts = pd.DataFrame(
        {
            "partner_id": ["WC01", "WC01", "WC02"],
            "pdu": ["PDU01", "PDU02", "PDU01"],
            "contract_hours": [100.0, 100.0, 50.0],
            "used_hours": [18.5, 40.0, 30.0],
            "price_per_hour": [35.0, 35.0, 30.0],
            "hour_value": [0.0, 0.0, 0.0],
        }
    )
    gbp = pd.Series(dtype=float)
    cases = pd.Series({"PDU01": 400, "PDU02": 300})
    keys = pd.MultiIndex.from_tuples([("WC01", "PDU01"), ("WC01", "PDU02"), ("WC02", "PDU01")])
    few = partner_values(contracts, gbp, cases, 5, pd.Series([3, 12, 8], index=keys))
    assert few["used_hours"].isna().tolist() == [True, False, True]  # 3 referred, then the next smallest (8)
    many = partner_values(contracts, gbp, cases, 5, pd.Series([6, 12, 8], index=keys))
    assert many["used_hours"].notna().all()
    assert partner_values(contracts, gbp, cases, 0, pd.Series([1, 1, 1], index=keys))["used_hours"].notna().all()
