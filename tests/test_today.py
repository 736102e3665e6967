"""Today, three ways: the WMT screen's figures, the figures after the baseline's placements, and the headline
under each baseline rule, as practitioners.csv, summary.json and the report give them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workload import today
from workload.allocate.baseline import RULES, allocate_baseline
from workload.cli import main
from workload.params import load_parameters
from workload.report import workload_chart_data
from workload.scoring.wmt import case_points, practitioner_workload
from workload.synth import synth_scenario, write_scenario
from workload.testing import cases_frame, practitioners_frame

PARAMS = load_parameters()


def test_today_is_the_screen_figure_and_the_baseline_adds_the_new_cases() -> None:
    # a 37-hour PO (2,176 available points) holding 3 community A3 (3 x 206) and 2 licence B3 (2 x 161) cases,
    # with 1 standard (138) and 2 fast (2 x 65) reports: 940 + 268 = 1,208 points, 55.5% on the screen
    staff = practitioners_frame(
        [
            {"practitioner_id": "PO1", "standard_reports_30d": 1, "fast_reports_30d": 2},
            {"practitioner_id": "PS1", "grade": "PSO", "standard_reports_30d": 0},
        ]
    )
    held = [{"case_id": f"h{i}", "tier": "A3", "current_practitioner_id": "PO1"} for i in range(3)]
    held += [
        {"case_id": f"l{i}", "case_type": "licence", "tier": "B3", "current_practitioner_id": "PO1"} for i in range(2)
    ]
    new = [{"case_id": f"n{i}", "tier": "B2"} for i in range(7)]  # only the PO may hold B cases
    cases = cases_frame(held + new)
    holder = allocate_baseline(cases, staff, PARAMS)
    out = today.practitioner_columns(
        staff, case_points(cases, PARAMS), cases["current_practitioner_id"], holder, PARAMS
    )
    assert out.loc["PO1", "wmt_points"] == 1208 and out.loc["PO1", "available_points"] == 2176
    assert out.loc["PO1", "workload_pct"] == 55.5 and out.loc["PO1", "wmt_flag"] == "ok"
    # after the baseline: the 7 new B2 cases (7 x 115 = 805) go to the PO: 2,013 points, 92.5%
    assert out.loc["PO1", "wmt_points_baseline"] == 2013
    assert out.loc["PO1", "workload_pct_baseline"] == 92.5 != out.loc["PO1", "workload_pct"]
    assert out.loc["PS1", "workload_pct"] == out.loc["PS1", "workload_pct_baseline"] == 0.0
    assert list(out.columns) == [
        "wmt_points",
        "available_points",
        "workload_pct",
        "wmt_flag",
        "wmt_points_baseline",
        "workload_pct_baseline",
        "wmt_flag_baseline",
    ]


def test_grade_utilisation_hides_the_hours_of_a_grade_holding_few_cases() -> None:
    staff = practitioners_frame([{"practitioner_id": "PO1"}, {"practitioner_id": "PS1", "grade": "PSO"}])
    holder = pd.Series(["PO1"] * 12 + ["PS1"] * 2, index=[f"c{i}" for i in range(14)])
    hours = pd.Series(10.0, index=holder.index)
    capacity = pd.Series({"PO1": 1000.0, "PS1": 500.0})
    table = today.grade_utilisation(staff, capacity, {"baseline": holder}, {"baseline": hours}, threshold=10)
    assert table.loc["PO", "utilisation_baseline"] == pytest.approx(0.12)
    assert table.loc["PO", "cases_baseline"] == 12 and pd.isna(table.loc["PSO", "hours_given_baseline"])
    assert table.loc["PSO", "capacity_hours"] == 500.0


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("today")
    synth = synth_scenario(n_cases=600, n_practitioners=20, n_pdus=2, seed=16)
    folder = write_scenario(root / "scenario", synth, name="today test")
    out = root / "run"
    assert main(["run", str(folder), "--out", str(out), "--workers", "1"]) == 0
    return out


def test_practitioners_csv_today_and_baseline_columns_and_red_counts(run: Path) -> None:
    from workload.load import load_scenario

    scenario = load_scenario(run.parent / "scenario")
    staff = pd.read_csv(run / "practitioners.csv", index_col="practitioner_id")
    cases = pd.read_csv(run / "cases.csv", index_col="case_id", keep_default_na=False, na_values=[""])
    points = case_points(scenario.cases, scenario.params)
    screen = practitioner_workload(
        scenario.practitioners, points, scenario.cases["current_practitioner_id"], scenario.params
    )
    after = practitioner_workload(scenario.practitioners, points, cases["baseline_practitioner_id"], scenario.params)
    assert staff["workload_pct"].to_dict() == screen["workload_pct"].to_dict()
    assert staff["wmt_points"].to_dict() == screen["wmt_points"].to_dict()
    assert staff["workload_pct_baseline"].to_dict() == after["workload_pct"].to_dict()
    assert (staff["wmt_points_baseline"] >= staff["wmt_points"]).all()
    assert (staff["wmt_points_baseline"] > staff["wmt_points"]).any()  # the new cases land somewhere
    summary = json.loads((run / "summary.json").read_text())
    assert summary["practitioners_red_current"] == int((staff["wmt_flag"] == "red").sum())
    assert summary["practitioners_red_baseline"] == int((staff["wmt_flag_baseline"] == "red").sum())
    assert summary["practitioners_red_reform"] == int((staff["wmt_flag_reform"] == "red").sum())
    # the chart shows the same counts, and values above 100% as they are
    chart = workload_chart_data(staff)
    assert chart["workload_pct"]["red"] == summary["practitioners_red_current"]
    assert chart["workload_pct_baseline"]["red"] == summary["practitioners_red_baseline"]
    assert chart["workload_pct_reform"]["red"] == summary["practitioners_red_reform"]
    shown = staff.loc[staff["available_points"] > 0, "workload_pct_baseline"]
    assert chart["workload_pct_baseline"]["values"].max() == shown.max()
    report = (run / "report.html").read_text()
    assert f"<strong>{summary['practitioners_red_current']}</strong> today on the WMT screen" in report
    assert f"{summary['practitioners_red_baseline']} red" in report


def test_chart_data_is_not_capped() -> None:
    frame = pd.DataFrame(
        {
            "available_points": [2176, 2176, 0],
            "workload_pct": [55.7, 150.0, 0.0],
            "wmt_flag": ["ok", "red", "ok"],
            "workload_pct_baseline": [81.7, 240.5, 0.0],
            "wmt_flag_baseline": ["ok", "red", "ok"],
            "workload_pct_reform": [90.0, 112.0, 0.0],
            "wmt_flag_reform": ["ok", "red", "ok"],
        }
    )
    chart = workload_chart_data(frame)
    assert chart["workload_pct_baseline"]["values"].tolist() == [81.7, 240.5]
    assert [chart[c]["red"] for c in ("workload_pct", "workload_pct_baseline", "workload_pct_reform")] == [1, 1, 1]


def test_one_row_per_rule_and_the_default_row_is_the_headline(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    rows = summary["baseline_rule_sensitivity"]
    assert [r["rule"] for r in rows] == list(RULES)
    default = [r for r in rows if r["default"]]
    assert len(default) == 1 and default[0]["rule"] == summary["baseline_rule"] == "grade_for_a_b"
    row = default[0]
    assert row["coverage_baseline"] == pytest.approx(summary["cells"]["wmt_today"]["coverage"], abs=1e-6)
    assert row["coverage_reform"] == pytest.approx(summary["cells"]["needs_lp"]["coverage"], abs=1e-6)
    assert row["net_whole_life_cost_reform_vs_baseline"] == pytest.approx(
        summary["net_whole_life_cost_reform_vs_baseline"], rel=1e-6
    )
    assert row["practitioners_red_baseline"] == summary["practitioners_red_baseline"]
    assert row["coverage_baseline_spare_idle"] <= row["coverage_baseline"] + 1e-12
    grades = {g["grade"]: g for g in summary["grade_utilisation"]}
    assert row["utilisation_PSO"] == pytest.approx(grades["PSO"]["utilisation_baseline"])
    table = pd.read_csv(run / "baseline_rules.csv", index_col="rule")
    assert list(table.index) == list(RULES)
    assert (
        "baseline_rules" in (run / "report.html").read_text()
        or "Which practitioner today" in (run / "report.html").read_text()
    )
