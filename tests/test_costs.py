"""The whole-life cost model (workload/costs.py): likelihood, effect, children, near misses, the value of an
hour, the sensitivity table and the allocator's whole-life cost objective."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workload import costs, outcomes
from workload.allocate.arrays import protection_minimum
from workload.allocate.lp import allocate_lp
from workload.load import load_scenario
from workload.params import load_parameters
from workload.scenario import OASYS_NEEDS, RESEARCH_FLAGS, Policy
from workload.testing import assert_allocation_valid, cases_frame, random_allocation_inputs

PARAMS = load_parameters()
VALUES = costs.cost_values(PARAMS)


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_likelihood_derived_by_hand_and_a_given_score_wins() -> None:
    cases = cases_frame(
        [
            {"tier": "C1"},  # no needs: 5 points below the reference
            {"tier": "D2", "drugs": 2, "accommodation": 2, "finance": 1},  # the reference's 5 points
            {"tier": "A2", "drugs": 2, "accommodation": 2, "finance": 1, "lifestyle": 2, "ete": 2},  # 9 points
            {"tier": "C1", "reoffending_likelihood_pct": 62.0},  # a planner's OGRS score
        ]
    )
    got = costs.reoffending_likelihood(cases, VALUES)
    base = math.log(0.273 / 0.727)
    expected = [
        logistic(base + math.log(1.2) * (0 - 5)),
        0.273,
        logistic(base + math.log(1.2) * (9 - 5) + math.log(1.2)),  # protect level A: odds x 1.2
        0.62,
    ]
    assert got.tolist() == pytest.approx(expected)
    # a blank score (NaN, as the loader reads it) falls back to the derived likelihood
    cases.loc[cases.index[3], "reoffending_likelihood_pct"] = np.nan
    assert costs.reoffending_likelihood(cases, VALUES).iloc[3] == pytest.approx(expected[0])


def test_costs_recomputed_by_hand_for_three_cases() -> None:
    """Every figure by hand: a mother with self-harm history half met, a simple case fully met, a case with none."""
    cases = cases_frame(
        [
            {
                "tier": "D2",
                "drugs": 2,
                "accommodation": 2,
                "finance": 1,
                "dependent_children": 1,
                "self_harm_history": 1,
            },
            {"tier": "D2", "drugs": 2, "accommodation": 2, "finance": 1},
            {"tier": "D2", "drugs": 2, "accommodation": 2, "finance": 1, "overdose_history": 1},
        ]
    )
    frame = pd.DataFrame(
        {
            "afforded_hours": [40.0, 30.0, 0.0],
            "partner_hours": [20.0, 0.0, 0.0],
            "excess_hours": [0.0, 0.0, 0.0],
            "coverage": [0.5, 1.0, 0.0],
        },
        index=cases.index,
    )
    staff = pd.Series([1000.0, 700.0, 0.0], index=cases.index)
    partner = pd.Series([500.0, 0.0, 0.0], index=cases.index)
    got = costs.whole_life_costs(cases, frame, staff, partner, VALUES)
    # likelihood 0.273 each (reference points, level D); met 60 h, 30 h, 0 h; reference 60 h; effect 0.10
    rates = [0.273 * (1 - 0.10), 0.273 * (1 - 0.05), 0.273]
    assert got["reoffending_cost"].tolist() == pytest.approx([r * 128_000 for r in rates])
    # children: care placements only (0.15 custody x 2 children x 0.12 in care x GBP 600 x 26 weeks), no prison place
    assert got["children_cost"].tolist() == pytest.approx([rates[0] * 0.15 * 2 * 0.12 * 600 * 26, 0.0, 0.0])
    # near misses: 0.16 episodes x GBP 564, cut 10% by 60 h met
    assert got["near_miss_cost"].tolist() == pytest.approx([0.16 * 0.9 * 564, 0.0, 0.16 * 564])
    parts = ["staff_cost", "partner_cost", "reoffending_cost", "children_cost", "near_miss_cost"]
    assert got["whole_life_cost"].tolist() == pytest.approx(got[parts].sum(axis=1).tolist())


def test_the_fall_is_capped_and_hours_beyond_need_do_nothing() -> None:
    assert costs.relative_fall(np.array([0.0, 60.0, 600.0, 6000.0]), 0.1, VALUES).tolist() == pytest.approx(
        [0.0, 0.1, 0.8, 0.8]
    )
    cases = cases_frame([{"tier": "C1"}])
    frame = pd.DataFrame(
        {"afforded_hours": [50.0], "partner_hours": [0.0], "excess_hours": [20.0], "coverage": [1.0]},
        index=cases.index,
    )
    assert costs.met_hours(cases, frame, VALUES).tolist() == [30.0]


def test_expected_rate_without_likelihood_is_the_reference_case() -> None:
    coverage = pd.Series([0.0, 0.5, 1.0])
    assert costs.expected_reoffending_rate(coverage, VALUES).tolist() == pytest.approx(
        [0.273, 0.273 * 0.95, 0.273 * 0.9]
    )


NEED_FLAGS = tuple(f for f in RESEARCH_FLAGS)


@st.composite
def case_and_more_need(draw: st.DrawFn) -> tuple[dict, dict]:
    """A case and the same case with one more need: a severity point more, or one more flag."""
    row: dict = {"tier": draw(st.sampled_from(["A1", "B3", "C2", "D0", "C1S", "untiered"]))}
    for need in OASYS_NEEDS:
        row[need] = draw(st.integers(0, 2))
    for flag in RESEARCH_FLAGS:
        row[flag] = draw(st.integers(0, 1))
    more = dict(row)
    raisable = [n for n in OASYS_NEEDS if row[n] < 2] + [f for f in RESEARCH_FLAGS if row[f] == 0]
    if raisable:
        pick = draw(st.sampled_from(raisable))
        more[pick] = row[pick] + 1
    return row, more


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=case_and_more_need(), ratio=st.floats(1.0, 2.0), effect=st.floats(0.0, 0.5))
def test_an_hour_is_worth_no_less_when_a_case_has_more_need(
    pair: tuple[dict, dict], ratio: float, effect: float
) -> None:
    values = {**VALUES, "odds_ratio_per_severity": ratio, "effect_of_full_coverage": effect, "near_miss_effect": effect}
    got = costs.hour_value(cases_frame(list(pair)), values).to_numpy()
    assert got[1] >= got[0] - 1e-9 * max(1.0, got[0])


def test_a_low_risk_complex_case_is_worth_more_an_hour_than_a_simple_one() -> None:
    """The issue's example reversed: the research's 'low risk, complex needs' case is valued more, not less."""
    complex_case = {
        "tier": "D2",
        **{n: 1 for n in OASYS_NEEDS[:6]},
        "drugs": 2,
        "domestic_abuse_victim": 1,
        "dependent_children": 1,
        "self_harm_history": 1,
        "overdose_history": 1,
    }
    simple = {"tier": "D1", "accommodation": 1}
    value = costs.hour_value(cases_frame([complex_case, simple]), VALUES)
    assert value.iloc[0] > 2 * value.iloc[1]


def test_sensitivity_moves_every_figure_of_the_cost_model() -> None:
    low, high = PARAMS.table("outcomes.sensitivity.low"), PARAMS.table("outcomes.sensitivity.high")
    scalars = set(costs.COST_VALUE_PATHS)
    assert scalars <= set(low) and set(low) == set(high)
    for name in scalars:
        assert low[name] <= VALUES[name] <= high[name], name


def _scenario_frames(load: float, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A stretched synthetic PDU whose cases carry OASys severities and flags that go with their hours."""
    cases, practitioners, partners = random_allocation_inputs(
        seed, cases_per_pdu=80, practitioners_per_pdu=5, n_partners=0, load=load
    )
    rng = np.random.default_rng(seed)
    share = (cases["required_hours"] / cases["required_hours"].max()).to_numpy()
    for need in OASYS_NEEDS:
        cases[need] = np.minimum(rng.binomial(2, 0.15 + 0.5 * share), 2).astype(np.int64)
    for flag in RESEARCH_FLAGS:
        if flag not in cases:
            cases[flag] = (rng.random(len(cases)) < 0.1).astype(np.int64)
    return cases, practitioners, partners


def _whole_life(cases: pd.DataFrame, practitioners: pd.DataFrame, allocation) -> float:
    out = allocation.cases.reindex(cases.index)
    need = cases["required_hours"].astype(float)
    cell = outcomes.CellResult(
        out["afforded_hours"].astype(float),
        out["partner_hours"].astype(float),
        out["practitioner_id"],
        out["moved"].astype(bool),
    )
    frame = outcomes.case_outcomes(need, cell)
    staff = costs.staff_cost(cell.afforded, cell.holder, practitioners["grade"], PARAMS)
    zero = pd.Series(0.0, index=cases.index)
    return float(costs.whole_life_costs(cases, frame, staff, zero, VALUES)["whole_life_cost"].sum())


@pytest.mark.parametrize(("seed", "load"), [(12, 1.5), (12, 2.5), (11, 2.5)])
def test_whole_life_cost_objective_lowers_it_and_keeps_the_protection_minimums(seed: int, load: float) -> None:
    """Stretched PDUs (need 1.5 and 2.5 times capacity): the whole-life cost objective spends the same hours for
    a lower whole-life cost, and gives the public-protection minimums exactly what the need objective does (all
    of them where the PDU's eligible staff can; seed 11 has more A/B minimum hours than its POs)."""
    cases, practitioners, partners = _scenario_frames(load, seed)
    floor = protection_minimum(cases, PARAMS)
    assert (floor > 0).any()  # the minimums are really tested
    results, shortfall = {}, {}
    for objective in ("need", "whole_life_cost"):
        policy = Policy(objective=objective, use_partners=False)
        allocation = allocate_lp(cases, practitioners, partners, PARAMS, policy, workers=1)
        assert_allocation_valid(allocation, cases, practitioners, partners, policy, PARAMS)
        out = allocation.cases.reindex(cases.index)
        shortfall[objective] = float(out["floor_shortfall_hours"].sum())
        if seed == 12:  # every minimum met in full
            assert (out["afforded_hours"].astype(float) >= floor - 1e-6).all(), objective
        results[objective] = _whole_life(cases, practitioners, allocation)
    assert shortfall["whole_life_cost"] == pytest.approx(shortfall["need"], abs=1e-6)
    assert results["whole_life_cost"] < results["need"]


def test_objective_weights_follow_the_value_of_an_hour_and_stay_under_the_cap() -> None:
    cases, _, _ = _scenario_frames(1.5)
    weight = costs.objective_weight(cases, PARAMS)
    value = costs.hour_value(cases, VALUES)
    assert weight.to_numpy() == pytest.approx((value / costs.reference_hour_value(VALUES)).clip(upper=6).to_numpy())
    # the unit does not depend on the cases given: a PDU weighed alone gets the weights it gets among all
    half = cases.iloc[: len(cases) // 2]
    assert costs.objective_weight(half, PARAMS).tolist() == pytest.approx(weight.iloc[: len(half)].tolist())
    assert (weight <= PARAMS["costs.objective.max_weight"]).all() and (weight > 0).all()
    order = np.argsort(value.to_numpy())
    assert np.all(np.diff(weight.to_numpy()[order]) >= -1e-12)
    capped = costs.objective_weight(cases, load_parameters({"costs.objective.max_weight": 1.1}))
    assert capped.max() == pytest.approx(1.1)


def test_policy_objective_is_need_or_whole_life_cost() -> None:
    assert Policy().objective == "need"
    assert Policy(objective="whole_life_cost").objective == "whole_life_cost"
    with pytest.raises(ValidationError, match="objective"):
        Policy(objective="cost")


def test_the_likelihood_column_is_optional_blank_is_derived_and_out_of_range_is_refused(tmp_path: Path) -> None:
    source = Path("scenarios/women-pdu")
    for name in ("scenario.toml", "practitioners.csv", "partners.csv"):
        (tmp_path / name).write_text((source / name).read_text())
    table = pd.read_csv(source / "cases.csv")
    table["reoffending_likelihood_pct"] = [45.0, np.nan] + [np.nan] * (len(table) - 2)
    table.to_csv(tmp_path / "cases.csv", index=False)
    scenario = load_scenario(tmp_path / "scenario.toml")
    column = scenario.cases["reoffending_likelihood_pct"]
    assert column.iloc[0] == 45.0 and column.iloc[1:].isna().all()
    likelihood = costs.reoffending_likelihood(scenario.cases, VALUES)
    assert likelihood.iloc[0] == pytest.approx(0.45)
    assert likelihood.iloc[1] == pytest.approx(costs.derived_likelihood(scenario.cases, VALUES).iloc[1])
    table.loc[1, "reoffending_likelihood_pct"] = 140
    table.to_csv(tmp_path / "cases.csv", index=False)
    with pytest.raises(Exception) as caught:
        load_scenario(tmp_path / "scenario.toml")
    assert "reoffending_likelihood_pct" in str(caught.value) and "140" in str(caught.value)


def test_sensitivity_central_is_the_net_of_the_per_case_costs_and_each_end_moves_one_figure() -> None:
    cases, _, _ = _scenario_frames(1.5, 12)
    need = cases["required_hours"].astype(float)
    rng = np.random.default_rng(3)
    per_case, staff_by, partner_by = {}, {}, {}
    for cell, share in ((outcomes.BASELINE, 0.4), (outcomes.REFORM, 0.6)):
        given = need * rng.uniform(share - 0.2, share + 0.2, len(need))
        result = outcomes.CellResult(given, 0.0 * given, pd.Series("P1", index=cases.index), given < 0)
        frame = outcomes.case_outcomes(need, result)
        staff_by[cell] = given * 30.0
        partner_by[cell] = 0.0 * given
        per_case[cell] = pd.concat(
            [frame, costs.whole_life_costs(cases, frame, staff_by[cell], partner_by[cell], VALUES)], axis=1
        )
    table = outcomes.sensitivity(cases, per_case, staff_by, partner_by, PARAMS)
    net = per_case[outcomes.REFORM]["whole_life_cost"].sum() - per_case[outcomes.BASELINE]["whole_life_cost"].sum()
    assert table["net_cost_central"].iloc[0] == pytest.approx(net)
    # the effect's high end recomputed through whole_life_costs
    high = {**VALUES, "effect_of_full_coverage": float(table.loc["effect_of_full_coverage", "high"])}
    again = [
        costs.whole_life_costs(cases, per_case[c], staff_by[c], partner_by[c], high)["whole_life_cost"].sum()
        for c in (outcomes.BASELINE, outcomes.REFORM)
    ]
    assert table.loc["effect_of_full_coverage", "net_cost_at_high"] == pytest.approx(again[1] - again[0])
    assert net < 0 and table.loc["effect_of_full_coverage", "net_cost_at_high"] < net  # more effect, more saved


def test_a_whole_life_cost_run_reports_its_costs_and_says_why_there_is_no_trade_off(tmp_path: Path) -> None:
    from workload.cli import main
    from workload.synth import synth_scenario, write_scenario

    scenario = write_scenario(tmp_path / "s", synth_scenario(n_cases=150, n_practitioners=8, n_pdus=1, seed=5), "wlc")
    toml = scenario / "scenario.toml"
    toml.write_text(toml.read_text() + '\n[policy]\nobjective = "whole_life_cost"\n')
    assert main(["run", str(toml), "--out", str(tmp_path / "out")]) == 0
    import json

    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "tradeoff" not in summary and "whole_life_cost" in summary["tradeoff_skipped"]
    reform = summary["cells"]["needs_lp"]
    assert reform["near_miss_cost"] > 0 and reform["whole_life_cost"] > reform["reoffending_cost"]
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv").set_index("assumption")
    assert set(costs.COST_VALUE_PATHS) | {"staff_cost_multiplier"} == set(table.index)
    assert "whole-life cost" in (tmp_path / "out" / "report.html").read_text()
