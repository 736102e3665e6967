"""The trade-off: the reform's LP re-solved at protection weights, its points in summary.json and the report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FIXTURES
from workload import outcomes, tradeoff
from workload.allocate import lp
from workload.load import load_scenario
from workload.params import load_parameters
from workload.pipeline import RunResult, run_scenario, write_run
from workload.sweep.task import pdu_scenario, pdu_shares
from workload.synth import synth_scenario, write_scenario


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[RunResult, Path]:
    """A small synthetic run (500 cases, 2 PDUs) with the trade-off on, and its run folder."""
    root = tmp_path_factory.mktemp("tradeoff")
    folder = write_scenario(
        root / "scenario", synth_scenario(n_cases=500, n_practitioners=18, n_pdus=2, seed=11), name="trade-off test"
    )
    result = run_scenario(load_scenario(folder), workers=1)
    return result, write_run(result, root / "run")


def _tiny(tmp_path: Path, tradeoff_on: bool) -> Path:
    """The 3-case fixture, with ``[output] tradeoff`` set."""
    target = tmp_path / "tiny"
    target.mkdir(parents=True)
    for path in (FIXTURES / "tiny").iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    with open(target / "scenario.toml", "a", encoding="utf-8") as f:
        f.write(f"\n[output]\ntradeoff = {'true' if tradeoff_on else 'false'}\n")
    return target


def test_summary_json_holds_a_point_per_weight_and_today(run: tuple[RunResult, Path]) -> None:
    summary = json.loads((run[1] / "summary.json").read_text(encoding="utf-8"))["tradeoff"]
    assert summary["protection_weights"] == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert [p["protection_weight"] for p in summary["points"]] == summary["protection_weights"]
    assert [p["chosen"] for p in summary["points"]] == [False, False, True, False, False]
    assert summary["chosen"] == 1.0
    for point in [*summary["points"], summary["today"], summary["needs_today"]]:
        assert set(tradeoff.FIGURES) <= set(point)
        for figure in tradeoff.FIGURES:
            assert point[figure] is None or 0.0 <= point[figure] <= 1.0, figure
    assert summary["today"]["cell"] == "wmt_today" and summary["needs_today"]["cell"] == "needs_today"


def test_weight_one_is_the_runs_own_allocation_exactly(run: tuple[RunResult, Path]) -> None:
    result = run[0]
    chosen = next(p for p in result.summary["tradeoff"]["points"] if p["chosen"])
    assert chosen["coverage_all"] == result.tables["totals"].loc[outcomes.REFORM, "coverage"]
    assert chosen["coverage_women"] == result.summary["coverage_women"][outcomes.REFORM]
    assert chosen["coverage_low_risk_complex"] == result.summary["coverage_low_risk_complex"][outcomes.REFORM]
    today = result.summary["tradeoff"]["today"]
    assert today["coverage_all"] == result.tables["totals"].loc[outcomes.BASELINE, "coverage"]
    assert today["coverage_women"] == result.summary["coverage_women"][outcomes.BASELINE]

    # A and B pooled from the published case table: practitioner and partner hours over assessed need
    cases = result.cases.join(result.tables["allocations"][["afforded_hours", "partner_hours"]])
    ab = cases[cases["tier"].str[0].isin(["A", "B"])]
    given, need = (ab["afforded_hours"] + ab["partner_hours"]).sum(), ab["assessed_need_hours"].sum()
    assert chosen["coverage_ab"] == pytest.approx(min(given, need) / need, rel=1e-12)
    coverage = np.sort(cases.loc[cases["assessed_need_hours"] > 0, "coverage_needs_lp"].to_numpy())
    assert chosen["coverage_worst_tenth"] == pytest.approx(coverage[: int(np.ceil(len(coverage) / 10))].mean())
    if result.summary["statutory_shortfall_hours"] == 0:
        assert chosen["protection_minimum_met"] == 1.0


def test_weight_zero_moves_hours_when_there_are_a_and_b_cases(run: tuple[RunResult, Path]) -> None:
    result = run[0]
    points = {p["protection_weight"]: p for p in result.summary["tradeoff"]["points"]}
    has_ab = result.cases["tier"].str[0].isin(["A", "B"]).any()
    differs = any(points[0.0][f] != points[1.0][f] for f in tradeoff.FIGURES)
    assert differs == has_ab


def test_weighted_parameters_scale_the_uplift_as_overrides() -> None:
    params = load_parameters()
    uplift = params.table(tradeoff.UPLIFT)
    doubled = tradeoff.weighted_params(params, 2.0)
    assert doubled.table(tradeoff.UPLIFT) == {k: 2.0 * v for k, v in uplift.items()}
    assert set(doubled.overridden) == {f"{tradeoff.UPLIFT}.{k}" for k in uplift}
    assert all(v == 0 for v in tradeoff.weighted_params(params, 0.0).table(tradeoff.UPLIFT).values())
    assert params.table(tradeoff.UPLIFT) == uplift, "the run's parameters are untouched"


def test_weights_are_sorted_once_each_and_always_hold_one() -> None:
    params = load_parameters({"outcomes.tradeoff.protection_weights": {"w3": 3, "w5": 0.5}})
    assert tradeoff.protection_weights(params) == [0.0, 0.5, 1.0, 2.0, 3.0]


def test_the_switch_off_means_no_key_and_no_second_solve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = lp.allocate_lp_many

    def counted(jobs, workers=None, **options):
        calls.append(len(jobs))
        return real(jobs, workers=workers, **options)

    monkeypatch.setattr(lp, "allocate_lp_many", counted)
    on = run_scenario(load_scenario(_tiny(tmp_path / "on", True)), workers=1)
    assert calls == [2, 4], "the run's two cells, then the four weights other than 1 in one call"
    assert "tradeoff" in on.summary and "trade-off" in on.timings
    calls.clear()
    off = run_scenario(load_scenario(_tiny(tmp_path / "off", False)), workers=1)
    assert calls == [2]
    assert "tradeoff" not in off.summary and "trade-off" not in off.timings
    html = (write_run(off, tmp_path / "run-off") / "report.html").read_text(encoding="utf-8")
    assert 'id="tradeoff"' in html and "The trade-off was not computed for this run" in html


def test_sweep_tasks_never_compute_it(tmp_path: Path) -> None:
    scenario = load_scenario(_tiny(tmp_path, True))
    assert scenario.spec.output.tradeoff
    task = pdu_scenario(scenario, "PDU1", pdu_shares(scenario))
    assert task.spec.output.tradeoff is False


def test_small_groups_are_suppressed(tmp_path: Path) -> None:
    result = run_scenario(load_scenario(_tiny(tmp_path, True)), workers=1)
    for point in [*result.summary["tradeoff"]["points"], result.summary["tradeoff"]["today"]]:
        for figure in ("coverage_ab", "coverage_low_risk_complex", "coverage_women", "coverage_worst_tenth"):
            assert point[figure] is None, figure  # 3 cases, threshold 5
        assert point["coverage_all"] is not None, "the whole scenario's figure is the one always shown"
    html = (write_run(result, tmp_path / "run") / "report.html").read_text(encoding="utf-8")
    assert 'id="tradeoff"' in html and 'href="#tradeoff"' in html
    assert "Not shown (A and B cases: coverage, Low risk, complex needs, Women, Worst-served tenth)" in html


def test_group_figures_follow_the_disclosure_rule() -> None:
    n = 40
    need = pd.Series(10.0, index=range(n))
    frame = pd.DataFrame({"afforded_hours": np.linspace(0, 10, n), "partner_hours": 0.0, "required_hours": need})
    frame["coverage"] = frame["afforded_hours"] / 10
    few = pd.Series([True] * 3 + [False] * (n - 3))
    assert tradeoff.group_coverage(frame, few, 5) is None, "3 cases in the group"
    assert tradeoff.group_coverage(frame, ~few, 5) is None, "3 cases outside it"
    assert tradeoff.group_coverage(frame, few, 3) == pytest.approx(frame["afforded_hours"][:3].sum() / 30)
    assert tradeoff.group_coverage(frame, pd.Series(False, index=range(n)), 0) is None, "no such cases"
    assert tradeoff.worst_tenth(frame, 5) is None, "a tenth of 40 is 4 cases"
    assert tradeoff.worst_tenth(frame, 4) == pytest.approx(frame["coverage"][:4].mean())
    floor = pd.Series(1.0, index=range(n))
    two_short = pd.Series([0.5, 0.5] + [0.0] * (n - 2))
    assert tradeoff.minimum_met(floor, two_short, 5) is None
    assert tradeoff.minimum_met(floor, two_short, 2) == pytest.approx(1 - 1 / n)
    assert tradeoff.minimum_met(floor * 0, two_short * 0, 5) is None, "no minimum hours"


def test_report_section_has_the_chart_and_table(run: tuple[RunResult, Path]) -> None:
    html = (run[1] / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="tradeoff">') : html.index("</section>", html.index('id="tradeoff"'))]
    assert '<li><a href="#tradeoff">' in html
    assert "<svg" in section and "chosen" in section and "today (WMT)" in section
    for header in ("Protection weight", "A and B cases: coverage", "Protection minimum met", "Worst-served tenth"):
        assert header in section
    assert "×1 (chosen)" in section


def test_auto_computes_the_trade_off_only_up_to_the_size_limit(tmp_path: Path, monkeypatch) -> None:
    """``tradeoff = "auto"`` (the default) solves the extra weights for a scenario of at most
    outcomes.tradeoff.auto_max_cases cases; above it the run skips them and the report says why and how."""
    folder = FIXTURES / "tiny"
    scenario = load_scenario(folder)
    assert scenario.spec.output.tradeoff == "auto"
    assert tradeoff.wanted(scenario)
    small = scenario.params.with_overrides({"outcomes.tradeoff.auto_max_cases": len(scenario.cases) - 1})
    over = dataclasses.replace(scenario, params=small)
    assert not tradeoff.wanted(over)
    calls: list[int] = []
    real = lp.allocate_lp_many

    def counting(jobs, workers=None, **options):
        calls.append(len(jobs))
        return real(jobs, workers=workers, **options)

    monkeypatch.setattr(lp, "allocate_lp_many", counting)
    result = run_scenario(over, workers=1)
    assert calls == [2], "only the run's own two LPs"
    assert "tradeoff" not in result.summary
    assert "auto_max_cases" in result.summary["tradeoff_skipped"]
    html = (write_run(result, tmp_path / "run") / "report.html").read_text(encoding="utf-8")
    assert "The trade-off was not computed: this scenario has 3 cases" in html
    forced = _tiny(tmp_path, True)
    assert tradeoff.wanted(load_scenario(forced))
