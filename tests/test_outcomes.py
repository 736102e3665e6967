"""Outcomes: rationing, unmet need, costs recomputed by hand, suppression that cannot be undone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workload import outcomes
from workload.params import load_parameters


def test_rationing_scales_an_over_capacity_practitioner_proportionally() -> None:
    demand = pd.Series([100.0, 50.0, 30.0, 20.0], index=["a", "b", "c", "d"])
    holder = pd.Series(["P1", "P1", "P2", None], index=demand.index)
    capacity = pd.Series({"P1": 120.0, "P2": 100.0})
    got = outcomes.ration_hours(demand, holder, capacity)
    assert got.to_dict() == pytest.approx({"a": 80.0, "b": 40.0, "c": 30.0, "d": 0.0})


@given(
    demand=st.lists(st.floats(0, 500), min_size=1, max_size=40),
    caps=st.lists(st.floats(0, 2000), min_size=3, max_size=3),
    seed=st.integers(0, 1000),
)
@settings(max_examples=60, deadline=None)
def test_rationing_never_exceeds_capacity_nor_demand(demand, caps, seed) -> None:
    rng = np.random.default_rng(seed)
    index = [f"c{i}" for i in range(len(demand))]
    d = pd.Series(demand, index=index)
    holder = pd.Series(rng.choice(["P0", "P1", "P2", None], size=len(d)), index=index)
    capacity = pd.Series(caps, index=["P0", "P1", "P2"])
    got = outcomes.ration_hours(d, holder, capacity)
    assert (got <= d + 1e-9).all()
    load = got.groupby(holder).sum()
    for p, hours in load.items():
        assert hours <= capacity[p] + 1e-6


def test_spare_hours_go_to_need_beyond_demand_in_proportion_and_never_beyond_it() -> None:
    # P1 has 100 h and its cases ask 30 + 20: 50 h spare, the gaps are 40 (a) and 60 (b) -> half of each
    # P2 has 100 h, asked 10, gap 5 -> c gets its whole need and 85 h stay idle; P3 is over capacity
    demand = pd.Series([30.0, 20.0, 10.0, 80.0, 40.0], index=list("abcde"))
    need = pd.Series([70.0, 80.0, 15.0, 200.0, 10.0], index=demand.index)
    holder = pd.Series(["P1", "P1", "P2", "P3", "P3"], index=demand.index)
    capacity = pd.Series({"P1": 100.0, "P2": 100.0, "P3": 60.0})
    got = outcomes.ration_hours(demand, holder, capacity, need)
    assert got.to_dict() == pytest.approx({"a": 50.0, "b": 50.0, "c": 15.0, "d": 40.0, "e": 20.0})
    idle = outcomes.ration_hours(demand, holder, capacity)
    assert idle.to_dict() == pytest.approx({"a": 30.0, "b": 20.0, "c": 10.0, "d": 40.0, "e": 20.0})
    params = load_parameters()
    assert params["outcomes.today.spare_hours"] == "demand"
    spare_need = params.with_overrides({"outcomes.today.spare_hours": "need"})
    assert outcomes.today_hours(demand, holder, capacity, need, spare_need).equals(got)
    spare_idle = params.with_overrides({"outcomes.today.spare_hours": "idle"})
    assert outcomes.today_hours(demand, holder, capacity, need, spare_idle).equals(idle)
    # spread by demand: P1 could double everyone (100 / 50) but a stops at its need of 70 -> 60, b 40;
    # c could get 10 x 10 = 100 but its need is 15; P3 is over capacity and rations as before
    spread = outcomes.today_hours(demand, holder, capacity, need, params)
    assert spread.to_dict() == pytest.approx({"a": 60.0, "b": 40.0, "c": 15.0, "d": 40.0, "e": 20.0})


@given(
    demand=st.lists(st.tuples(st.floats(0, 500), st.floats(0, 500)), min_size=1, max_size=40),
    caps=st.lists(st.floats(0, 2000), min_size=3, max_size=3),
    seed=st.integers(0, 1000),
    spread=st.booleans(),
)
@settings(max_examples=80, deadline=None)
def test_spending_spare_hours_never_exceeds_capacity_nor_the_larger_of_demand_and_need(
    demand, caps, seed, spread
) -> None:
    rng = np.random.default_rng(seed)
    index = [f"c{i}" for i in range(len(demand))]
    d = pd.Series([x for x, _ in demand], index=index)
    need = pd.Series([y for _, y in demand], index=index)
    holder = pd.Series(rng.choice(["P0", "P1", "P2", None], size=len(d)), index=index)
    capacity = pd.Series(caps, index=["P0", "P1", "P2"])
    got = outcomes.ration_hours(d, holder, capacity, need, spread=spread)
    assert (got <= np.maximum(d, need) + 1e-9).all()
    assert (got >= outcomes.ration_hours(d, holder, capacity) - 1e-9).all()
    for p, hours in got.groupby(holder).sum().items():
        assert hours <= capacity[p] + 1e-6


def test_case_outcomes_measure_unmet_against_assessed_need() -> None:
    need = pd.Series([100.0, 40.0, 0.0], index=list("abc"))
    cell = outcomes.CellResult(
        afforded=pd.Series([60.0, 50.0, 5.0], index=need.index),
        partner=pd.Series([10.0, 0.0, 0.0], index=need.index),
        holder=pd.Series(["P"] * 3, index=need.index),
        moved=pd.Series([False] * 3, index=need.index),
    )
    got = outcomes.case_outcomes(need, cell)
    assert got["unmet_hours"].tolist() == [30.0, 0.0, 0.0]
    assert got["excess_hours"].tolist() == [0.0, 10.0, 5.0]
    assert got["coverage"].tolist() == pytest.approx([0.7, 1.0, 1.0])


def test_staff_cost_by_the_holders_grade() -> None:
    """Staff cost by hand; the whole-life costs are worked out by hand in tests/test_costs.py."""
    params = load_parameters()
    index = ["a", "b", "c"]
    staff = outcomes.staff_cost(
        pd.Series([10.0, 20.0, 0.0], index=index),
        pd.Series(["P1", "P2", None], index=index),
        pd.Series({"P1": "PO", "P2": "PSO"}),
        params,
    )
    po, pso = params["costs.staff_cost_per_hour.PO"], params["costs.staff_cost_per_hour.PSO"]
    assert staff.tolist() == pytest.approx([10 * po, 20 * pso, 0.0])


def test_low_risk_complex_group() -> None:
    params = load_parameters({"outcomes.groups.low_risk_complex_min_needs": 4})
    from workload.scenario import OASYS_NEEDS, RESEARCH_FLAGS

    base = {n: 0 for n in (*OASYS_NEEDS, *RESEARCH_FLAGS)}
    rows = [
        {**base, "tier": "D1", "drugs": 2, "domestic_abuse_victim": 1, "dependent_children": 1, "self_harm_history": 1},
        {**base, "tier": "D1", "drugs": 2, "domestic_abuse_victim": 1, "dependent_children": 1},
        {**base, "tier": "B2", "drugs": 2, "domestic_abuse_victim": 1, "dependent_children": 1, "self_harm_history": 1},
    ]
    got = outcomes.low_risk_complex(pd.DataFrame(rows), params)
    assert got.tolist() == [True, False, False]


def _table(counts: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"g": [f"g{i}" for i, n in enumerate(counts) for _ in range(n)]})
    frame["required_hours"] = 10.0
    frame["afforded_hours"] = 5.0
    frame["partner_hours"] = 1.0
    frame["unmet_hours"] = 4.0
    return outcomes.group_table(frame, "g")


@given(st.lists(st.integers(1, 30), min_size=1, max_size=8), st.integers(1, 10))
@settings(max_examples=200, deadline=None)
def test_suppression_never_publishes_a_small_group_and_rows_still_add_up(counts, threshold) -> None:
    table = _table(counts)
    shown = outcomes.suppress(table, threshold)
    rows = shown.drop(index="Total")
    small = {f"g{i}" for i, n in enumerate(counts) if n < threshold}
    # no small group appears on its own row
    assert not (small & set(rows.index))
    # every published row counts at least `threshold` cases (unless the whole table is that small)
    if sum(counts) >= threshold:
        assert (rows["cases"] >= threshold).all()
    if sum(counts) < threshold:
        assert rows.empty, "a table smaller than the threshold shows its Total only"
        return
    # the rows partition the total, so subtracting shown rows from the Total reveals only pooled rows
    assert rows["cases"].sum() == shown.loc["Total", "cases"] == sum(counts)
    assert rows["required_hours"].sum() == pytest.approx(shown.loc["Total", "required_hours"])
    # large groups keep their exact figures
    for i, n in enumerate(counts):
        if n >= threshold and f"g{i}" in rows.index:
            assert rows.loc[f"g{i}", "cases"] == n


def test_single_small_group_is_merged_into_the_largest_not_hiding_others() -> None:
    shown = outcomes.suppress(_table([300, 900, 3]), 5)
    assert list(shown.index) == ["g0", "g1 + small groups", "Total"]
    assert shown.loc["g0", "cases"] == 300 and shown.loc["g1 + small groups", "cases"] == 903


def test_several_small_groups_pool_together() -> None:
    shown = outcomes.suppress(_table([300, 3, 4]), 5)
    assert list(shown.index) == ["g0", "(small groups)", "Total"]
    assert shown.loc["(small groups)", "pooled_groups"] == 2


def test_suppression_off_at_zero() -> None:
    shown = outcomes.suppress(_table([1, 2, 30]), 0)
    assert list(shown.index) == ["g0", "g1", "g2", "Total"]


def test_group_table_totals_and_coverage() -> None:
    table = _table([3, 7])
    assert table.loc["Total", "cases"] == 10
    assert table.loc["Total", "required_hours"] == 100.0
    assert table.loc["g0", "coverage"] == pytest.approx(0.6)
