"""workload plan: the investment LP and its command."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from workload.allocate.arrays import pdu_arrays, pdu_inputs
from workload.allocate.model import build_model
from workload.allocate.solvers import solve_highs
from workload.cli import main
from workload.load import load_scenario
from workload.pipeline import lp_cases, score_cases
from workload.plan import Planner

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "women-pdu"
BUDGETS = [0.0, 100_000.0, 300_000.0, 600_000.0, 1_000_000.0]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


def test_zero_budget_is_todays_allocation_lp(scenario) -> None:
    """With nothing to spend, the plan's LP (need objective) is the run's reform LP, PDU by PDU."""
    planner = Planner(scenario, "need")
    point = planner.solve(0.0)
    assert point.spend == 0.0 and point.fte.sum() == 0.0
    frame = lp_cases(scenario, score_cases(scenario), "needs")
    policy = scenario.spec.policy
    inputs = pdu_inputs(frame, scenario.practitioners, scenario.partners, scenario.params, policy)
    today = sum(
        solve_highs(build_model(pdu_arrays(inp, scenario.params, policy)), 60.0).objective or 0.0
        for inp in inputs.values()
    )
    assert point.objective == pytest.approx(today, rel=1e-7)


@pytest.mark.parametrize("objective", ["need", "whole_life_cost"])
def test_more_budget_never_raises_the_objective_and_spend_keeps_within_it(scenario, objective: str) -> None:
    planner = Planner(scenario, objective)
    points = [planner.solve(b) for b in BUDGETS]
    values = [p.objective for p in points]
    assert all(b <= a + 1e-6 * max(1.0, abs(a)) for a, b in itertools.pairwise(values)), values
    for point in points:
        assert point.spend <= point.budget + 1e-3
        assert (point.fte >= -1e-9).all() and (point.partner_hours >= -1e-9).all()
    assert points[-1].fte.sum() > 0, "a loaded PDU buys posts when it can"


def test_whole_life_cost_objective_lowers_the_evaluated_whole_life_cost(scenario) -> None:
    """The pounds the LP minimises are outcomes' pounds: its best budget costs less in all than spending nothing."""
    planner = Planner(scenario, "whole_life_cost")
    zero, rich = planner.solve(0.0), planner.solve(2_000_000.0)
    cost = [planner.whole_life_cost(p)["whole_life_cost"].sum() + p.spend for p in (zero, rich)]
    assert cost[1] < cost[0]
    assert rich.spend < 2_000_000.0, "it stops buying when a post saves less than it costs"


def test_plan_command_writes_the_curve(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert main(["plan", str(SCENARIO), "--budgets", "200000,400000", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"spend_curve.csv", "plan.xlsx", "plan.html", "summary.json", "manifest.json"} <= names
    import pandas as pd

    curve = pd.read_csv(out / "spend_curve.csv")
    assert curve["budget"].tolist() == [0.0, 200000.0, 400000.0]
    assert int(curve["lowest_cost"].sum()) == 1
    assert (curve["spend"] <= curve["budget"] + 1e-3).all()
    assert np.all(np.diff(curve["whole_life_cost"]) <= 1e-6)
    page = (out / "plan.html").read_text(encoding="utf-8")
    table = page[page.index("<h2>The spend curve</h2>") :]
    lowest = curve[curve["lowest_cost"] == 1].iloc[0]
    assert f'<tr class="lowest"><td>£{lowest["budget"]:,.0f}</td><td>£{lowest["spend"]:,.0f}</td>' in table
    assert f"{100 * curve['coverage'].iloc[0]:.1f}%" in table
    assert "e+" not in table and "nan" not in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budgets", "100,abc"], "is not a number"),
        (["--budget", "-5"], "0 or more"),
        ([], "at least one budget"),
    ],
)
def test_plan_command_refuses_bad_budgets(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    out = tmp_path / "plan"
    assert main(["plan", str(SCENARIO), *args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_plan_command_refuses_a_bad_price(tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan"
    code = main(
        ["plan", str(SCENARIO), "--budget", "1000", "--set", "plan.recruitment_cost_per_fte.PO=-1", "--out", str(out)]
    )
    assert code == 2
    assert "recruitment_cost_per_fte" in capsys.readouterr().err
    assert not out.exists()


def test_the_first_pounds_buy_the_grade_whose_next_hour_is_worth_most_per_pound(scenario) -> None:
    """Shadow prices and the plan agree: the objective's fall per pound at a budget of 0 is the best grade's
    next hour (the run's hour_value, the best of its practitioners) x a post's hours / a post's price."""
    from workload.pipeline import run_scenario

    staff = run_scenario(scenario, workers=1).practitioners
    planner = Planner(scenario, "need")
    step = 2_000.0
    per_pound = (planner.solve(0.0).objective - planner.solve(step).objective) / step
    best = staff.groupby("grade")["hour_value"].max()
    by_grade = {g: best[g] * planner.fte_hours[g] / planner.prices.per_fte(g) for g in ("PO", "PSO", "PQiP")}
    assert per_pound == pytest.approx(max(by_grade.values()), rel=1e-4)


def test_a_prices_file_changes_the_prices_and_set_wins_over_it(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '[parameters]\n"plan.recruitment_cost_per_fte.PO" = 4000\n[parameters.costs.staff_cost_per_hour]\nPSO = 25\n',
        encoding="utf-8",
    )
    from workload.plan import prices, prices_reform

    scenario = load_scenario(SCENARIO, reform=prices_reform(path))
    assert prices(scenario).recruitment["PO"] == 4000
    assert prices(scenario).post["PSO"] == pytest.approx(25 * 1590)
    from workload.reform import Reform

    both = prices_reform(path) + Reform.from_options(["costs.staff_cost_per_hour.PSO=26"])
    assert prices(load_scenario(SCENARIO, reform=both)).post["PSO"] == pytest.approx(26 * 1590)
    out = tmp_path / "plan"
    args = ["plan", str(SCENARIO), "--budget", "1000", "--prices", str(path), "--out", str(out)]
    assert main([*args, "--set", "costs.staff_cost_per_hour.PSO=26"]) == 0
    assert (out / "spend_curve.csv").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"plan.recruitment_cost_per_fte.PO" = -4\n', "must be 0 or more"),
        ('"plan.nope" = 3\n', "is not a parameter"),
        ("x = [\n", "is not valid TOML"),
    ],
)
def test_a_bad_prices_file_is_named_and_nothing_is_written(tmp_path: Path, capsys, text: str, message: str) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(text, encoding="utf-8")
    out = tmp_path / "plan"
    assert main(["plan", str(SCENARIO), "--budget", "1000", "--prices", str(prices), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(prices) in err
    assert not out.exists()


def test_a_plan_of_a_scenario_smaller_than_the_threshold_says_so(tmp_path: Path, capsys) -> None:
    tiny = Path(__file__).resolve().parent / "fixtures" / "tiny"
    out = tmp_path / "plan"
    assert main(["plan", str(tiny), "--budget", "10000", "--out", str(out)]) == 0
    assert "fewer than 5 cases" in capsys.readouterr().err
    assert "fewer than 5 cases" in (out / "plan.html").read_text(encoding="utf-8")
